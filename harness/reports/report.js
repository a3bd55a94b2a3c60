"use strict";
// Renders report-data with textContent only: no text from a model or a reference is parsed as HTML.
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const state = { sortBy: data.sort_by, hidden: new Set(), marks: {} };
  const el = (tag, attrs, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const fmt = (v) => (typeof v === "number" ? v.toFixed(3) : "–");
  const markKey = (run, article) => JSON.stringify([run, article]);

  // Metric metadata comes from the metrics themselves (results.json metric_info): display name,
  // direction (higher_is_better: true, false, or null for descriptive figures) and headline.
  const info = data.metric_info;
  const arrow = (m) => ({ true: " ↑", false: " ↓" })[String(info[m].higher_is_better)] || "";
  const label = (m) => info[m].display + arrow(m);
  // Best first in the metric's own direction; missing scores last.
  const rankValue = (m, v) => (typeof v !== "number" || !isFinite(v)) ? Infinity
    : (info[m].higher_is_better === false ? v : -v);
  const sortSelect = document.getElementById("sort-by");
  const groups = [["headline", (m) => info[m].headline], ["more", (m) => !info[m].headline]];
  for (const [name, keep] of groups) {
    const group = el("optgroup", { label: name });
    for (const m of Object.keys(info).filter(keep)) {
      const option = el("option", { value: m }, label(m));
      option.title = m;
      if (m === state.sortBy) option.selected = true;
      group.appendChild(option);
    }
    if (group.children.length) sortSelect.appendChild(group);
  }
  sortSelect.addEventListener("change", () => { state.sortBy = sortSelect.value; render(); });

  const filters = document.getElementById("run-filters");
  for (const run of data.runs) {
    const label = el("label");
    const box = el("input", { type: "checkbox", "data-run": run });
    box.checked = true;
    box.addEventListener("change", () => { box.checked ? state.hidden.delete(run) : state.hidden.add(run); render(); });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + run));
    filters.appendChild(label);
  }

  function summaryCard(article, summary, rank) {
    const card = el("div", { class: "summary", "data-run": summary.run, "data-article": article.id });
    const head = el("h3", {}, `${rank}. ${summary.run}`);
    head.appendChild(el("span", { class: "metric" }, `${label(state.sortBy)} = ${fmt(summary.scores[state.sortBy])}`));
    card.appendChild(head);
    const text = el("p", { class: "text" });
    if (summary.sentences.length) {
      for (const s of summary.sentences) {
        const bad = s.verdicts.filter((v) => !v.supported);
        const span = el("span", bad.length ? { class: "unsupported" } : {}, s.text);
        span.title = s.verdicts.map((v) => `${v.scorer}: ${fmt(v.score)}${v.supported ? "" : " (unsupported)"}`)
          .concat(s.problems).join("\n");
        text.appendChild(span);
        text.appendChild(document.createTextNode(" "));
      }
    } else {
      text.textContent = summary.text.trim() ? summary.text : "(empty summary)";
    }
    card.appendChild(text);
    const problems = summary.sentences.flatMap((s) => s.problems)
      .concat(summary.contradictions.map((c) => `contradicts the bullet “${c.bullet}” (${c.reason})`));
    if (problems.length) {
      const list = el("ul", { class: "problems" });
      for (const p of problems) list.appendChild(el("li", {}, p));
      card.appendChild(list);
    }
    for (const [matcher, bullets] of Object.entries(summary.coverage)) {
      const covered = bullets.filter((b) => b.covered).length;
      card.appendChild(el("div", { class: "coverage-head" }, `Bullets covered (${matcher}): ${covered}/${bullets.length}`));
      const list = el("ul", { class: "coverage" });
      for (const b of bullets) {
        const item = el("li", { class: b.covered ? "covered" : "missed" }, b.bullet);
        item.title = `${fmt(b.score)}${b.sentence ? " — " + b.sentence : ""}`;
        list.appendChild(item);
      }
      card.appendChild(list);
    }
    const marks = el("div", { class: "marks" });
    const key = markKey(summary.run, article.id);
    const current = state.marks[key] || {};
    for (const choice of ["accept", "reject"]) {
      const button = el("button", { type: "button", class: "mark-" + choice,
                                    "aria-pressed": String(current.mark === choice) }, choice);
      button.addEventListener("click", () => {
        const mark = state.marks[key] || (state.marks[key] = { run: summary.run, article_id: article.id, note: "" });
        mark.mark = mark.mark === choice ? null : choice;
        render();
      });
      marks.appendChild(button);
    }
    const note = el("input", { type: "text", class: "note", placeholder: "note" });
    note.value = current.note || "";
    note.addEventListener("input", () => {
      const mark = state.marks[key] || (state.marks[key] = { run: summary.run, article_id: article.id, mark: null });
      mark.note = note.value;
    });
    marks.appendChild(note);
    card.appendChild(marks);
    return card;
  }

  function render() {
    const main = document.getElementById("articles");
    main.replaceChildren();
    for (const article of data.articles) {
      const section = el("article", { class: "item", "data-article": article.id });
      section.appendChild(el("h2", {}, article.title));
      const bullets = el("ol", { class: "bullets" });
      for (const b of article.bullets) bullets.appendChild(el("li", {}, b));
      section.appendChild(bullets);
      const shown = article.summaries.filter((s) => !state.hidden.has(s.run));
      const order = (s) => rankValue(state.sortBy, s.scores[state.sortBy]);
      shown.sort((a, b) => (order(a) === order(b) ? 0 : order(a) < order(b) ? -1 : 1));
      shown.forEach((s, i) => section.appendChild(summaryCard(article, s, i + 1)));
      main.appendChild(section);
    }
  }

  document.getElementById("export").addEventListener("click", () => {
    const marks = Object.values(state.marks).filter((m) => m.mark || (m.note && m.note.trim()));
    const text = JSON.stringify({ exported_at: new Date().toISOString(), marks: marks }, null, 2);
    document.getElementById("marks-json").value = text;
    document.getElementById("export-panel").hidden = false;
    const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })),
                           download: "marks.json" });
    link.click();
  });
  render();
})();
