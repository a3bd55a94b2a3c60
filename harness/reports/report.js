"use strict";
// Renders report-data with textContent only: no text from a model, a reference or an imported
// marks file is ever parsed as HTML. Articles render lazily (when unfolded and near the viewport).
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  // Only `harness review` adds this meta (and allows connect-src 'self'): marks then go to its server.
  const reviewMeta = document.querySelector('meta[name="harness-review"]');
  const reviewUrl = reviewMeta ? reviewMeta.getAttribute("content") : null;
  const FOLD_OVER = 20; // more articles than this: all start folded
  const state = { sortBy: data.sort_by, hidden: new Set(), marks: {}, pair: ["", ""], current: 0 };
  const el = (tag, attrs, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const $ = (id) => document.getElementById(id);
  const fmt = (v) => (typeof v === "number" ? v.toFixed(3) : "–");
  const markKey = (run, article) => JSON.stringify([run, article]);
  const say = (text) => { $("status").textContent = text; };

  // Metric metadata comes from the metrics themselves (results.json metric_info): display name,
  // direction (higher_is_better: true, false, or null for descriptive figures) and headline.
  const info = data.metric_info;
  const arrow = (m) => (info[m] ? ({ true: " ↑", false: " ↓" })[String(info[m].higher_is_better)] || "" : "");
  const label = (m) => (info[m] ? info[m].display + arrow(m) : m);
  // Best first in the metric's own direction; missing scores last.
  const rankValue = (m, v) => (typeof v !== "number" || !isFinite(v)) ? Infinity
    : (info[m] && info[m].higher_is_better === false ? v : -v);
  const sortSelect = $("sort-by");
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
  sortSelect.addEventListener("change", () => { state.sortBy = sortSelect.value; refresh(); });

  const filters = $("run-filters");
  for (const run of data.runs) {
    const box = el("input", { type: "checkbox", "data-run": run });
    box.checked = true;
    box.addEventListener("change", () => { box.checked ? state.hidden.delete(run) : state.hidden.add(run); refresh(); });
    const wrap = el("label");
    wrap.appendChild(box);
    wrap.appendChild(document.createTextNode(" " + run));
    filters.appendChild(wrap);
  }
  // Side by side: two runs' summaries of each article next to each other.
  for (const [i, id] of [[0, "pair-a"], [1, "pair-b"]]) {
    const select = $(id);
    select.appendChild(el("option", { value: "" }, "—"));
    for (const run of data.runs) select.appendChild(el("option", { value: run }, run));
    select.addEventListener("change", () => { state.pair[i] = select.value; refresh(); });
  }
  const pairing = () => state.pair[0] && state.pair[1] && state.pair[0] !== state.pair[1];

  // ---- Marks: kept in this browser (localStorage) per run (its identity hash), article and system;
  // exported as JSON, imported from such a file, and saved by `harness review` when it serves the page.
  const STORE = "harness.mark";
  let storage = null;
  try { storage = window.localStorage; storage.getItem(STORE); } catch (e) { storage = null; }
  const storeKey = (run, article) => JSON.stringify([STORE, data.run_keys[run] || "", article, run]);
  // Who marks: `?editor=NAME` in the address, else an id this browser keeps. The review server merges
  // each editor's marks into marks.json (one per editor and summary), so two editors never erase each other.
  const EDITOR_RE = /^[A-Za-z0-9_.@+-]{1,64}$/;
  const editor = (() => {
    let given = null;
    try { given = new URLSearchParams(window.location.search).get("editor"); } catch (e) { given = null; }
    let kept = null;
    try { kept = storage && storage.getItem("harness.editor"); } catch (e) { kept = null; }
    const id = given && EDITOR_RE.test(given) ? given : kept && EDITOR_RE.test(kept) ? kept
      : "browser-" + Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
    try { if (storage && id !== kept) storage.setItem("harness.editor", id); } catch (e) { /* kept for this visit only */ }
    return id;
  })();
  const known = new Set();
  for (const a of data.articles) for (const s of a.summaries) known.add(markKey(s.run, a.id));
  const cleanMark = (m) => {
    // A mark from storage, a file or the server: only known summaries, only the fields we use.
    if (!m || typeof m !== "object" || typeof m.run !== "string" || typeof m.article_id !== "string") return null;
    if (!known.has(markKey(m.run, m.article_id))) return null;
    if (!(m.mark === "accept" || m.mark === "reject" || m.mark === null || m.mark === undefined)) return null;
    if (!(typeof m.note === "string" || m.note === null || m.note === undefined)) return null;
    return { run: m.run, article_id: m.article_id, mark: m.mark || null, note: (m.note || "").slice(0, 5000) };
  };
  let saveTimer = null;
  const marksList = () => Object.values(state.marks).filter((m) => m.mark || (m.note && m.note.trim()));
  function setMark(run, article, patch, persist = true) {
    const key = markKey(run, article);
    const mark = state.marks[key] || (state.marks[key] = { run: run, article_id: article, mark: null, note: "" });
    Object.assign(mark, patch);
    if (storage && persist) {
      try {
        if (mark.mark || (mark.note && mark.note.trim())) storage.setItem(storeKey(run, article), JSON.stringify(mark));
        else storage.removeItem(storeKey(run, article));
      } catch (e) { say("Could not keep the mark in this browser: " + e.message); }
    }
    if (reviewUrl && persist) {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(postMarks, 250);
    }
  }
  function postMarks() {
    // Every mark this page holds, cleared ones too (a null mark with no note removes this editor's mark there).
    const marks = Object.values(state.marks);
    fetch(reviewUrl, { method: "POST", headers: { "Content-Type": "application/json" },
                       body: JSON.stringify({ saved_at: new Date().toISOString(), editor: editor, marks: marks }) })
      .then((r) => r.ok ? r.json() : r.text().then((t) => { throw new Error(t || r.statusText); }))
      .then((r) => say(`Saved ${r.marks} marks to ${r.path}`))
      .catch((e) => say("Could not save the marks to the review server: " + e.message));
  }
  if (storage) {
    for (let i = 0; i < storage.length; i++) {
      let key;
      try { key = JSON.parse(storage.key(i)); } catch (e) { continue; }
      if (!Array.isArray(key) || key[0] !== STORE || data.run_keys[key[3]] !== key[1]) continue;
      let mark;
      try { mark = cleanMark(JSON.parse(storage.getItem(storage.key(i)))); } catch (e) { mark = null; }
      if (mark && mark.run === key[3] && mark.article_id === key[2]) state.marks[markKey(mark.run, mark.article_id)] = mark;
    }
  }

  // ---- Articles: a header each (always), a body rendered when unfolded and near the viewport.
  const main = $("articles");
  const total = data.articles.length;
  const items = data.articles.map((article, index) => ({ article, index, folded: total > FOLD_OVER,
                                                        rendered: false, visible: false, selected: null }));
  for (const item of items) {
    const section = el("article", { class: "item", "data-article": item.article.id, tabindex: "-1" });
    const head = el("div", { class: "item-head" });
    const fold = el("button", { type: "button", class: "fold", "aria-expanded": "false", title: "fold / unfold (o)" });
    fold.addEventListener("click", () => { setCurrent(item.index); toggle(item); });
    head.appendChild(fold);
    const h2 = el("h2", {}, item.article.title);
    head.appendChild(h2);
    head.appendChild(el("span", { class: "article-id" }, item.article.id));
    head.appendChild(el("span", { class: "position" }, `${item.index + 1} / ${total}`));
    const prev = el("button", { type: "button", class: "prev", title: "previous article (k)" }, "↑ previous");
    const next = el("button", { type: "button", class: "next", title: "next article (j)" }, "↓ next");
    prev.addEventListener("click", (e) => { e.stopPropagation(); go(item.index - 1); });
    next.addEventListener("click", (e) => { e.stopPropagation(); go(item.index + 1); });
    head.appendChild(prev);
    head.appendChild(next);
    section.appendChild(head);
    const body = el("div", { class: "item-body" });
    section.appendChild(body);
    section.addEventListener("click", () => setCurrent(item.index));
    Object.assign(item, { section, body, fold });
    main.appendChild(section);
    paintFold(item);
  }

  const observer = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const item = items[Number(entry.target.dataset.index)];
      item.visible = entry.isIntersecting;
      if (item.visible && !item.folded && !item.rendered) renderBody(item);
    }
  }, { rootMargin: "800px 0px" }) : null;
  items.forEach((item) => {
    item.section.dataset.index = String(item.index);
    if (observer) observer.observe(item.section); else item.visible = true;
  });

  function paintFold(item) {
    item.section.classList.toggle("folded", item.folded);
    item.fold.setAttribute("aria-expanded", String(!item.folded));
    item.fold.textContent = item.folded ? "▸" : "▾";
    item.body.hidden = item.folded;
    if (!item.folded && !item.rendered) {
      item.body.classList.add("pending");
      if (item.visible) renderBody(item);
    }
  }
  function toggle(item, folded) {
    item.folded = folded === undefined ? !item.folded : folded;
    paintFold(item);
  }
  function refresh() {
    // Sorting, filters or the pair changed: redraw what is drawn; the rest draws when seen.
    for (const item of items) {
      if (item.rendered) renderBody(item);
    }
  }
  const headerHeight = () => document.querySelector("body > header").offsetHeight;
  // The article column sticks below the page header, whatever its height.
  const placeHeader = () => document.documentElement.style.setProperty("--head", headerHeight() + "px");
  placeHeader();
  window.addEventListener("resize", placeHeader);
  function setCurrent(index) {
    if (items[state.current]) items[state.current].section.classList.remove("current");
    state.current = index;
    items[index].section.classList.add("current");
  }
  function go(index) {
    if (!items.length) return;
    index = Math.max(0, Math.min(items.length - 1, index));
    setCurrent(index);
    const section = items[index].section;
    window.scrollTo({ top: section.getBoundingClientRect().top + window.scrollY - headerHeight() - 6 });
    section.focus({ preventScroll: true });
  }
  $("fold-all").addEventListener("click", () => items.forEach((item) => toggle(item, true)));
  $("unfold-all").addEventListener("click", () => items.forEach((item) => toggle(item, false)));
  document.addEventListener("keydown", (e) => {
    const target = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey || !items.length) return;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    if (e.key === "j") go(state.current + 1);
    else if (e.key === "k") go(state.current - 1);
    else if (e.key === "o") { toggle(items[state.current]); go(state.current); }
    else return;
    e.preventDefault();
  });

  // ---- One article's body: bullets and the article text beside the summaries.
  function renderBody(item) {
    const { article, body } = item;
    item.rendered = true;
    body.classList.remove("pending");
    const source = el("div", { class: "source" });
    source.appendChild(el("h4", {}, "Reference bullets"));
    const bullets = el("ol", { class: "bullets" });
    for (const b of article.bullets) bullets.appendChild(el("li", {}, b));
    source.appendChild(bullets);
    const text = el("details", { class: "article-text" });
    const words = article.paragraphs.join(" ").split(/\s+/).filter(Boolean).length;
    text.appendChild(el("summary", {}, article.paragraphs.length
      ? `Article text (${article.paragraphs.length} paragraphs, ${words} words)` : "Article text"));
    if (article.paragraphs.length) {
      article.paragraphs.forEach((p) => text.appendChild(el("p", { class: "paragraph" }, p)));
    } else {
      text.appendChild(el("p", { class: "note" }, "This run did not store the article text (references.jsonl has no paragraphs)."));
    }
    source.appendChild(text);
    source.appendChild(el("p", { class: "evidence-note", "aria-live": "polite" },
                          "Choose a summary sentence to see its evidence here."));
    const summaries = el("div", { class: "summaries" });
    if (pairing()) summaries.appendChild(sideBySide(item));
    else {
      const shown = article.summaries.filter((s) => !state.hidden.has(s.run));
      const order = (s) => rankValue(state.sortBy, s.scores[state.sortBy]);
      shown.sort((a, b) => (order(a) === order(b) ? 0 : order(a) < order(b) ? -1 : 1));
      shown.forEach((s, i) => summaries.appendChild(summaryCard(item, s, i + 1)));
    }
    const columns = el("div", { class: "columns" });
    columns.appendChild(source);
    columns.appendChild(summaries);
    body.replaceChildren(columns);
    item.selected = null;
  }

  // `text` with every occurrence of `needles` wrapped in <mark class=cls> (as text nodes, never HTML).
  function appendMarked(parent, text, needles, cls, title) {
    const ranges = [];
    for (const needle of needles) {
      if (!needle) continue;
      for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) {
        ranges.push([at, at + needle.length]);
      }
    }
    ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let pos = 0;
    for (const [start, end] of ranges) {
      if (start < pos) continue;
      if (start > pos) parent.appendChild(document.createTextNode(text.slice(pos, start)));
      const mark = el("mark", { class: cls }, text.slice(start, end));
      if (title) mark.title = title;
      parent.appendChild(mark);
      pos = end;
    }
    if (pos < text.length) parent.appendChild(document.createTextNode(text.slice(pos)));
    return ranges.length > 0;
  }

  function sentenceSpan(item, s) {
    const flagged = s.verdicts.filter((v) => v.flagged);
    const span = el("span", { class: "sent" + (flagged.length ? " flagged" : ""), tabindex: "0", role: "button" });
    appendMarked(span, s.text, s.missing || [], "missing", "not in the article");
    if (flagged.length) {
      const levels = [...new Set(flagged.map((v) => v.level || "unsupported"))];
      span.appendChild(el("span", { class: "level" }, levels.join(", ")));
    }
    span.title = s.verdicts.map((v) => `${v.scorer}: ${fmt(v.score)}${v.level ? " — " + v.level : v.supported ? "" : " (unsupported)"}`)
      .concat(s.problems).join("\n");
    const choose = () => selectSentence(item, s, span);
    span.addEventListener("click", (e) => { e.stopPropagation(); setCurrent(item.index); choose(); });
    span.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(); } });
    return span;
  }

  // Highlight the article sentence(s) holding the chosen summary sentence's evidence.
  function selectSentence(item, s, span) {
    const body = item.body;
    for (const old of body.querySelectorAll(".sent.selected")) old.classList.remove("selected");
    span.classList.add("selected");
    item.selected = s;
    const evidence = s.verdicts.filter((v) => v.evidence).map((v) => v.evidence);
    const details = body.querySelector("details.article-text");
    const paragraphs = [...body.querySelectorAll("p.paragraph")];
    let found = 0;
    paragraphs.forEach((p, i) => {
      p.replaceChildren();
      if (appendMarked(p, item.article.paragraphs[i], evidence, "evidence", "evidence for the chosen sentence")) found++;
    });
    const note = body.querySelector(".evidence-note");
    const scorers = s.verdicts.filter((v) => v.evidence).map((v) => `${v.scorer} ${fmt(v.score)}`).join(", ");
    if (!evidence.length) note.textContent = "No scorer gave evidence for this sentence.";
    else if (!found) note.textContent = `The evidence (${scorers}) is not in the stored article text: “${evidence[0]}”`;
    else note.textContent = `Evidence highlighted in the article (${scorers}).`;
    if (found) {
      details.open = true;
      // Scroll the article column (not the page) to the first evidence sentence.
      const first = body.querySelector("mark.evidence");
      const source = body.querySelector("div.source");
      if (first && source) source.scrollTop += first.getBoundingClientRect().top - source.getBoundingClientRect().top - 40;
    }
  }

  function sentencesOf(item, summary) {
    const text = el("p", { class: "text" });
    if (summary.sentences.length) {
      for (const s of summary.sentences) {
        text.appendChild(sentenceSpan(item, s));
        text.appendChild(document.createTextNode(" "));
      }
    } else {
      text.textContent = summary.text.trim() ? summary.text : "(empty summary)";
    }
    return text;
  }
  function problemsOf(summary) {
    const problems = summary.sentences.flatMap((s) => s.problems)
      .concat(summary.contradictions.map((c) => `contradicts the bullet “${c.bullet}” (${c.reason})`));
    const list = el("ul", { class: "problems" });
    for (const p of problems) list.appendChild(el("li", {}, p));
    return list;
  }
  // A bullet's verdict names the bullet and the covering sentence by text or (html.py's compact
  // form) by their index in the article's bullets and the summary's sentences.
  function bulletItem(article, summary, b) {
    const bullet = typeof b.bullet === "number" ? article.bullets[b.bullet] : b.bullet;
    const sentence = typeof b.sentence === "number" ? (summary.sentences[b.sentence] || {}).text : b.sentence;
    const item = el("li", { class: b.covered ? "covered" : "missed" }, bullet);
    item.title = `${fmt(b.score)}${sentence ? " — " + sentence : ""}`;
    return item;
  }
  function marksOf(run, articleId) {
    const marks = el("div", { class: "marks" });
    const current = state.marks[markKey(run, articleId)] || {};
    const buttons = [];
    for (const choice of ["accept", "reject"]) {
      const button = el("button", { type: "button", class: "mark-" + choice,
                                    "aria-pressed": String(current.mark === choice) }, choice);
      button.addEventListener("click", () => {
        const now = (state.marks[markKey(run, articleId)] || {}).mark;
        setMark(run, articleId, { mark: now === choice ? null : choice });
        const mark = state.marks[markKey(run, articleId)].mark;
        buttons.forEach(([c, b]) => b.setAttribute("aria-pressed", String(mark === c)));
      });
      buttons.push([choice, button]);
      marks.appendChild(button);
    }
    const note = el("input", { type: "text", class: "note", placeholder: "note", maxlength: "5000" });
    note.value = current.note || "";
    note.addEventListener("input", () => setMark(run, articleId, { note: note.value }));
    marks.appendChild(note);
    return marks;
  }
  function heading(summary, prefix) {
    const head = el("h3", {}, prefix + summary.run);
    head.appendChild(el("span", { class: "metric" }, `${label(state.sortBy)} = ${fmt(summary.scores[state.sortBy])}`));
    return head;
  }

  function summaryCard(item, summary, rank) {
    const card = el("div", { class: "summary", "data-run": summary.run, "data-article": item.article.id });
    card.appendChild(heading(summary, `${rank}. `));
    card.appendChild(sentencesOf(item, summary));
    const problems = problemsOf(summary);
    if (problems.children.length) card.appendChild(problems);
    for (const [matcher, bullets] of Object.entries(summary.coverage)) {
      const covered = bullets.filter((b) => b.covered).length;
      card.appendChild(el("div", { class: "coverage-head" }, `Bullets covered (${matcher}): ${covered}/${bullets.length}`));
      const list = el("ul", { class: "coverage" });
      bullets.forEach((b) => list.appendChild(bulletItem(item.article, summary, b)));
      card.appendChild(list);
    }
    card.appendChild(marksOf(summary.run, item.article.id));
    return card;
  }

  // Two runs in a two-column grid, row by row, so that their coverage of each bullet and their
  // flags line up.
  function sideBySide(item) {
    const pair = state.pair.map((run) => item.article.summaries.find((s) => s.run === run));
    const grid = el("div", { class: "pair" });
    const cell = (i, node, cls) => {
      const wrap = el("div", { class: "pair-cell " + (cls || ""), "data-run": state.pair[i], "data-side": "ab"[i] });
      if (node) wrap.appendChild(node);
      grid.appendChild(wrap);
      return wrap;
    };
    const both = (make, cls) => pair.forEach((s, i) => cell(i, s ? make(s, i) : null, cls));
    pair.forEach((s, i) => cell(i, s ? heading(s, "") : el("h3", {}, state.pair[i] + ": no summary of this article"), "head"));
    both((s) => sentencesOf(item, s), "text");
    both((s) => problemsOf(s), "flags");
    const matchers = [...new Set(pair.flatMap((s) => (s ? Object.keys(s.coverage) : [])))];
    for (const matcher of matchers) {
      both((s) => {
        const bullets = s.coverage[matcher] || [];
        return el("div", { class: "coverage-head" },
                  `Bullets covered (${matcher}): ${bullets.filter((b) => b.covered).length}/${bullets.length}`);
      }, "coverage-row");
      const n = Math.max(...pair.map((s) => (s && s.coverage[matcher] ? s.coverage[matcher].length : 0)));
      for (let b = 0; b < n; b++) {
        both((s) => {
          const bullet = (s.coverage[matcher] || [])[b];
          const list = el("ul", { class: "coverage" });
          if (bullet) list.appendChild(bulletItem(item.article, s, bullet));
          return list;
        }, "bullet-row");
      }
    }
    both((s) => marksOf(s.run, item.article.id), "marks-row");
    return grid;
  }

  // ---- Export and import of marks.
  $("export").addEventListener("click", () => {
    const text = JSON.stringify({ exported_at: new Date().toISOString(), marks: marksList() }, null, 2);
    $("marks-json").value = text;
    $("export-panel").hidden = false;
    const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })),
                           download: "marks.json" });
    link.click();
  });
  function importMarks(parsed, source) {
    const list = Array.isArray(parsed) ? parsed : parsed && Array.isArray(parsed.marks) ? parsed.marks : null;
    if (!list) { say(`${source}: not a marks file (expected {"marks": [...]} as exported here)`); return; }
    let taken = 0;
    for (const raw of list) {
      const mark = cleanMark(raw);
      if (!mark) continue;
      setMark(mark.run, mark.article_id, { mark: mark.mark, note: mark.note });
      taken++;
    }
    refresh();
    say(`${source}: ${taken} marks imported` + (list.length > taken ? `, ${list.length - taken} skipped (not summaries on this page, or malformed)` : ""));
  }
  $("import").addEventListener("change", (e) => {
    const file = e.target.files && e.target.files[0];
    if (!file) return;
    file.text().then((text) => {
      let parsed;
      try { parsed = JSON.parse(text); } catch (err) { say(`${file.name}: not JSON (${err.message})`); return; }
      importMarks(parsed, file.name);
    });
    e.target.value = "";
  });
  if (reviewUrl) {
    // The review server's marks.json: this editor's marks, taken where this browser has none of its own
    // (other editors' marks stay theirs).
    fetch(reviewUrl).then((r) => (r.ok ? r.json() : null)).then((saved) => {
      const all = saved && Array.isArray(saved.marks) ? saved.marks : [];
      const list = all.filter((m) => m && typeof m === "object" && (m.editor || "") === editor);
      let taken = 0;
      for (const raw of list) {
        const mark = cleanMark(raw);
        if (!mark || state.marks[markKey(mark.run, mark.article_id)]) continue;
        setMark(mark.run, mark.article_id, { mark: mark.mark, note: mark.note }, false);
        taken++;
      }
      refresh();
      say(`Review server: marks are saved to its marks.json (${taken} read from it).`);
      // Marks this browser kept that the server lacks (made while it was not running): send them.
      const onServer = new Set(list.map(cleanMark).filter(Boolean).map((m) => markKey(m.run, m.article_id)));
      if (marksList().some((m) => !onServer.has(markKey(m.run, m.article_id)))) postMarks();
    }).catch((e) => say("Review server unreachable: " + e.message));
  }
  const kept = Object.keys(state.marks).length;
  say(`${total} article${total === 1 ? "" : "s"} × ${data.runs.length} system${data.runs.length === 1 ? "" : "s"}` + (kept ? `; ${kept} marks kept from earlier visits` : "") +
      (total > FOLD_OVER ? "; all folded: o or “Unfold all” opens them" : ""));
  if (items.length) setCurrent(0);
  if (window.performance && performance.mark) performance.mark("report-ready");
  document.documentElement.dataset.ready = "true";
})();
