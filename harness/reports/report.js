"use strict";
// Renders report-data with textContent only: no text from a model, a reference or an imported
// marks file is ever parsed as HTML. Articles render lazily (when unfolded and near the viewport).
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  // Only `harness review` adds these metas (and allows connect-src 'self'): marks then go to its server.
  const meta = (name) => { const m = document.querySelector(`meta[name="${name}"]`); return m ? m.getAttribute("content") : null; };
  const reviewUrl = meta("harness-review");
  const FOLD_OVER = 20; // more articles than this: all start folded
  const state = { sortBy: data.sort_by, hidden: new Set(), pair: ["", ""], current: 0, summary: null,
                  filter: "all", search: "", order: "page", judgeAll: new Set() };
  const el = (tag, attrs, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const $ = (id) => document.getElementById(id);
  // Counts print as counts (2, not 2.000); other figures with three decimals.
  const fmt = (v) => (typeof v !== "number" || !isFinite(v) ? "–" : Number.isInteger(v) ? String(v) : v.toFixed(3));
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many || one + "s"}`;
  // Cut at n characters as a reader counts them (grapheme clusters: an emoji, a flag, a letter with
  // its accents stay whole), never inside a UTF-16 surrogate pair as String.slice would.
  const graphemes = (text) => (typeof Intl !== "undefined" && Intl.Segmenter
    ? Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text), (g) => g.segment)
    : Array.from(text));
  const clip = (text, n) => { const g = graphemes(text); return g.length > n ? g.slice(0, n - 1).join("") + "…" : text; };
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
    box.addEventListener("change", () => { box.checked ? state.hidden.delete(run) : state.hidden.add(run); applyQueue(); refresh(); });
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

  // ---- Summaries: each one's key is its run's identity, its article and its text's hash (a mark
  // belongs to that text: a rerun that changes the summary or the article never inherits it).
  const summaryKey = (s, article) => JSON.stringify([s.run_key, article.id, s.sha256]);
  const slotKey = (runKey, articleId) => JSON.stringify([runKey, articleId]);
  const bySummary = new Map(); // summary key -> {article, summary}
  const bySlot = new Map(); // (run key, article id) -> {article, summary}
  const runKeyOf = {}; // label -> run key
  for (const [labelText, key] of Object.entries(data.run_keys || {})) runKeyOf[labelText] = key;
  for (const a of data.articles) {
    for (const s of a.summaries) {
      s.key = summaryKey(s, a);
      s.flaggedCount = s.sentences.filter((x) => x.verdicts.some((v) => v.flagged)).length;
      if (!s.reference) { bySummary.set(s.key, { article: a, summary: s }); bySlot.set(slotKey(s.run_key, a.id), { article: a, summary: s }); }
    }
  }
  const ranked = (a) => a.summaries.filter((s) => !s.reference && !state.hidden.has(s.run));

  // ---- Who marks: a name asked once and kept in this browser (`?editor=NAME` in the address sets it).
  const EDITOR_RE = /^[A-Za-z0-9_.@+-]{1,64}$/;
  let storage = null;
  try { storage = window.localStorage; storage.getItem("harness.editor.name"); } catch (e) { storage = null; }
  const editorBox = $("editor");
  let editor = "";
  {
    let given = null;
    try { given = new URLSearchParams(window.location.search).get("editor"); } catch (e) { given = null; }
    let kept = null;
    try { kept = storage && storage.getItem("harness.editor.name"); } catch (e) { kept = null; }
    editor = given && EDITOR_RE.test(given) ? given : kept && EDITOR_RE.test(kept) ? kept : "";
    editorBox.value = editor;
  }
  // Once set, the name is read-only: only "change editor" (asked, then confirmed) changes it, so
  // no undo (Ctrl+Z) or stray key can rename the marks.
  const changeEditor = $("change-editor");
  const lockEditor = () => {
    editorBox.readOnly = !!editor;
    editorBox.classList.toggle("set", !!editor);
    changeEditor.hidden = !editor;
  };
  lockEditor();
  changeEditor.addEventListener("click", () => {
    const name = (window.prompt(`Editor: ${editor}. New editor's name (marks from now on are saved under it):`, "") || "").trim();
    if (!name || name === editor) { say(`Still marking as ${editor}.`); return; }
    if (!EDITOR_RE.test(name)) { say("A name is 1 to 64 letters, digits or _ . @ + -"); return; }
    if (!window.confirm(`Change the editor from ${editor} to ${name}? Your marks stay under ${editor}.`)) { say(`Still marking as ${editor}.`); return; }
    useEditor(name);
  });
  editorBox.addEventListener("change", () => {
    if (editor) { editorBox.value = editor; return; } // read-only once set; "change editor" changes it
    const name = editorBox.value.trim();
    if (!EDITOR_RE.test(name)) { say("A name is 1 to 64 letters, digits or _ . @ + -"); editorBox.value = editor; return; }
    useEditor(name);
  });
  function useEditor(name) {
    editor = name;
    editorBox.value = name;
    lockEditor();
    editorBox.blur();
    try { if (storage) storage.setItem("harness.editor.name", name); } catch (e) { /* kept for this visit only */ }
    loadMine();
    applyQueue();
    refresh();
    if (reviewUrl) fetchServer();
    say(`Marking as ${editor}.`);
  }
  const needName = () => {
    if (editor) return false;
    editorBox.focus();
    editorBox.classList.add("wanted");
    say("Type your name in “Editor” first: every mark records who made it (asked once, kept in this browser).");
    return true;
  };

  // ---- Marks: mine (state.marks: summary key -> mark), other editors' (state.others), and marks made
  // on another text of a summary slot (state.stale: shown as a warning, never applied).
  const STORE = "harness.mark3";
  const scope = meta("harness-review-dir") || "file:" + window.location.pathname;
  const marks = new Map();
  const others = new Map();
  const stale = new Map();
  const dirty = new Set();
  const storeKey = (key) => JSON.stringify([STORE, scope, editor, key]);
  const blank = (s, a) => ({ run: s.run, run_key: s.run_key, article_id: a.id, article_sha256: a.sha256 || null,
                             summary_sha256: s.sha256, mark: null, note: "", sentences: {} });
  const empty = (m) => !m.mark && !(m.note && m.note.trim()) && !Object.keys(m.sentences).length;
  const VERDICTS = ["unsupported", "supported"];
  // A mark from storage, a file or the server: the fields we use, checked; where it lands on this page.
  function readMark(raw) {
    if (!raw || typeof raw !== "object" || typeof raw.article_id !== "string") return null;
    if (!(raw.mark === "accept" || raw.mark === "reject" || raw.mark === null || raw.mark === undefined)) return null;
    if (!(typeof raw.note === "string" || raw.note === null || raw.note === undefined)) return null;
    const legacy = typeof raw.summary_sha256 !== "string";
    const runKey = typeof raw.run_key === "string" ? raw.run_key : typeof raw.run === "string" ? runKeyOf[raw.run] : undefined;
    if (!runKey) return { place: "elsewhere" };
    const slot = bySlot.get(slotKey(runKey, raw.article_id));
    if (!slot) return { place: "elsewhere" };
    const sentences = {};
    for (const v of Array.isArray(raw.sentences) ? raw.sentences : []) {
      if (v && Number.isInteger(v.index) && v.index >= 0 && v.index < slot.summary.sentences.length && VERDICTS.includes(v.verdict)) sentences[v.index] = v.verdict;
    }
    const mark = { ...blank(slot.summary, slot.article), mark: raw.mark || null, note: (raw.note || "").slice(0, 5000),
                   sentences: sentences, at: typeof raw.at === "string" ? raw.at : "",
                   summary_sha256: legacy ? slot.summary.sha256 : raw.summary_sha256,
                   editor: typeof raw.editor === "string" ? raw.editor : "" };
    const changed = !legacy && raw.summary_sha256 !== slot.summary.sha256 ? "summary"
      : typeof raw.article_sha256 === "string" && slot.article.sha256 && raw.article_sha256 !== slot.article.sha256 ? "article" : null;
    return { place: changed ? "stale" : "here", changed, mark, slot, legacy };
  }
  const wire = (m) => {
    const slot = bySlot.get(slotKey(m.run_key, m.article_id));
    const sentences = slot ? slot.summary.sentences : [];
    return { run: m.run, run_key: m.run_key, article_id: m.article_id, article_sha256: m.article_sha256,
             summary_sha256: m.summary_sha256, mark: m.mark, note: m.note,
             sentences: Object.entries(m.sentences).map(([i, verdict]) => ({
               index: Number(i), text: (sentences[Number(i)] || {}).text || "", verdict: verdict })) };
  };
  const markList = () => [...marks.values()].filter((m) => !empty(m));
  function keepStale(entry, who, local) {
    const key = slotKey(entry.mark.run_key, entry.mark.article_id);
    const list = stale.get(key) || [];
    // The same earlier mark from this browser and from the server: shown once.
    if (list.some((m) => m.editor === who && m.summary_sha256 === entry.mark.summary_sha256 && m.mark === entry.mark.mark)) return;
    list.push({ ...entry.mark, editor: who, changed: entry.changed, local: !!local });
    stale.set(key, list);
  }
  function loadMine() {
    // This editor's marks kept in this browser (scoped to this page's place: another folder's
    // page on the same server port never reads them).
    marks.clear();
    others.clear();
    for (const list of stale.values()) for (let i = list.length - 1; i >= 0; i--) if (list[i].editor === editor && list[i].local) list.splice(i, 1);
    if (!storage || !editor) return;
    for (let i = 0; i < storage.length; i++) {
      let key;
      try { key = JSON.parse(storage.key(i)); } catch (e) { continue; }
      if (!Array.isArray(key) || key[0] !== STORE || key[1] !== scope) continue;
      let entry;
      try { entry = readMark(JSON.parse(storage.getItem(storage.key(i)))); } catch (e) { entry = null; }
      if (!entry) continue;
      if (key[2] !== editor) { // another editor's marks, imported into this browser
        if (entry.place !== "here" || typeof key[2] !== "string" || !key[2]) continue;
        const list = (others.get(entry.slot.summary.key) || []).filter((m) => m.editor !== key[2]);
        list.push({ ...entry.mark, editor: key[2] });
        others.set(entry.slot.summary.key, list);
        continue;
      }
      if (entry.place === "here") marks.set(entry.slot.summary.key, entry.mark);
      else if (entry.place === "stale") keepStale(entry, editor, true);
    }
  }
  const undo = []; // [{s, a, before}] : `u` (or Ctrl+Z outside a text field) puts the last one back
  function setMark(s, a, patch, noUndo) {
    if (needName()) return null;
    const mark = marks.get(s.key) || blank(s, a);
    if (!noUndo) undo.push({ s, a, before: { mark: mark.mark, note: mark.note, sentences: { ...mark.sentences } } });
    if (undo.length > 200) undo.shift();
    Object.assign(mark, patch);
    mark.at = new Date().toISOString();
    marks.set(s.key, mark);
    dirty.add(s.key);
    if (storage) {
      try {
        if (empty(mark)) storage.removeItem(storeKey(s.key));
        else storage.setItem(storeKey(s.key), JSON.stringify({ ...wire(mark), at: mark.at, editor: editor }));
      } catch (e) { say("Could not keep the mark in this browser: " + e.message); }
    }
    if (reviewUrl) { clearTimeout(saveTimer); saveTimer = setTimeout(postMarks, 250); }
    paintProgress();
    return mark;
  }
  let saveTimer = null;
  function postMarks() {
    // The marks changed since the last save (a cleared one too: it removes this editor's mark there).
    const keys = [...dirty];
    if (!keys.length || !editor) return;
    const body = { editor: editor, marks: keys.map((k) => marks.get(k)).filter(Boolean).map(wire) };
    fetch(reviewUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then((r) => r.ok ? r.json() : r.text().then((t) => { throw new Error(t || r.statusText); }))
      .then((r) => { keys.forEach((k) => dirty.delete(k)); paintRates(r.page_rates); say(`Saved ${plural(r.marks, "mark")} of ${editor} to ${r.path}`); })
      .catch((e) => say("Could not save the marks to the review server: " + e.message));
  }

  // ---- Articles: a header each (always), a body rendered when unfolded and near the viewport.
  const main = $("articles");
  const total = data.articles.length;
  const items = data.articles.map((article, index) => ({ article, index, folded: total > FOLD_OVER,
                                                        rendered: false, visible: false, shown: true }));
  for (const item of items) {
    const section = el("article", { class: "item", "data-article": item.article.id, tabindex: "-1" });
    const head = el("div", { class: "item-head" });
    const fold = el("button", { type: "button", class: "fold", "aria-expanded": "false", title: "fold / unfold (o)" });
    fold.addEventListener("click", () => { setCurrent(item.index); toggle(item); });
    head.appendChild(fold);
    head.appendChild(el("h2", {}, item.article.title));
    head.appendChild(el("span", { class: "article-id" }, item.article.id));
    const flags = item.article.summaries.reduce((n, s) => n + (s.reference ? 0 : s.flaggedCount), 0);
    item.flags = flags;
    if (flags) head.appendChild(el("span", { class: "flag-count", title: "flagged sentences in the summaries" }, plural(flags, "flag")));
    item.position = el("span", { class: "position" });
    head.appendChild(item.position);
    const prev = el("button", { type: "button", class: "prev", title: "previous article (k)" }, "↑ previous");
    const next = el("button", { type: "button", class: "next", title: "next article (j)" }, "↓ next");
    prev.addEventListener("click", (e) => { e.stopPropagation(); go(item.index, -1); });
    next.addEventListener("click", (e) => { e.stopPropagation(); go(item.index, +1); });
    head.appendChild(prev);
    head.appendChild(next);
    section.appendChild(head);
    if (item.article.texts_differ) {
      section.appendChild(el("p", { class: "warning texts-differ" }, "These runs saw different texts of this article: " +
        item.article.texts_differ.map((g) => g.join(", ")).join(" / ") + ". The text shown is the first group's."));
    }
    const body = el("div", { class: "item-body" });
    section.appendChild(body);
    section.addEventListener("click", () => {
      if (state.summary && state.summary.item === item.index) { setCurrent(item.index); return; }
      const first = item.rendered && !item.folded ? item.body.querySelector("div.summary[data-key], div.pair-cell.head[data-key]") : null;
      setSummary(item, first ? first.dataset.key : null);
    });
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
    for (const item of items) if (item.rendered) renderBody(item);
  }

  // ---- The review queue: which summaries are shown (filter, search), articles in page order or by
  // their number of flags, and how many summaries this editor has marked.
  const byOthers = (s) => (others.get(s.key) || []).length > 0;
  const mine = (s) => { const m = marks.get(s.key); return !!(m && !empty(m)); };
  const editorsDisagree = (s) => {
    const choices = new Set((others.get(s.key) || []).map((m) => m.mark).filter(Boolean));
    const m = marks.get(s.key);
    if (m && m.mark) choices.add(m.mark);
    return choices.size > 1;
  };
  const FILTERS = {
    all: () => true,
    unmarked: (s) => !(marks.get(s.key) && marks.get(s.key).mark),
    flagged: (s) => s.flaggedCount > 0,
    mine: mine,
    others: byOthers,
    systems: (s, a) => { const shown = ranked(a); return shown.some((x) => x.flaggedCount) && shown.some((x) => !x.flaggedCount); },
    editors: editorsDisagree,
    changed: (s, a) => (stale.get(slotKey(s.run_key, a.id)) || []).length > 0,
  };
  const searchText = (a) => a.searchText || (a.searchText = (a.title + "\n" + a.paragraphs.join("\n")).toLowerCase());
  function passes(s, a) {
    if (!FILTERS[state.filter](s, a)) return false;
    if (!state.search) return true;
    return searchText(a).includes(state.search) || s.text.toLowerCase().includes(state.search);
  }
  const shownSummaries = (a) => ranked(a).filter((s) => passes(s, a));
  function applyQueue() {
    let order = items.slice();
    if (state.order === "flags") order.sort((x, y) => y.flags - x.flags || x.index - y.index);
    let n = 0;
    for (const item of order) {
      item.shown = state.filter === "all" && !state.search ? true : shownSummaries(item.article).length > 0;
      item.section.hidden = !item.shown;
      if (item.shown) n++;
    }
    if (order.some((item, i) => main.children[i] !== item.section)) order.forEach((item) => main.appendChild(item.section));
    state.order_list = order.filter((item) => item.shown);
    state.order_list.forEach((item, i) => { item.position.textContent = `${i + 1} / ${state.order_list.length}`; });
    $("queue-count").textContent = state.filter === "all" && !state.search ? "" : `${plural(n, "article")} shown`;
    paintProgress();
  }
  function paintProgress() {
    let all = 0, done = 0;
    for (const a of data.articles) for (const s of ranked(a)) { all++; if (marks.get(s.key) && marks.get(s.key).mark) done++; }
    $("progress").textContent = `${done} of ${plural(all, "summary", "summaries")} marked` + (editor ? ` by ${editor}` : "");
  }
  $("queue-filter").addEventListener("change", (e) => { state.filter = e.target.value; applyQueue(); refresh(); });
  $("queue-order").addEventListener("change", (e) => { state.order = e.target.value; applyQueue(); });
  let searchTimer = null;
  $("search").addEventListener("input", (e) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.search = e.target.value.trim().toLowerCase(); applyQueue(); refresh(); }, 150);
  });

  const headerHeight = () => { const h = document.querySelector("body > header"); return getComputedStyle(h).position === "sticky" ? h.offsetHeight : 0; };
  // The article column sticks below the page header, whatever its height.
  const placeHeader = () => document.documentElement.style.setProperty("--head", headerHeight() + "px");
  placeHeader();
  window.addEventListener("resize", placeHeader);
  function setCurrent(index) {
    if (items[state.current]) items[state.current].section.classList.remove("current");
    state.current = index;
    items[index].section.classList.add("current");
  }
  function scrollToNode(node) {
    window.scrollTo({ top: node.getBoundingClientRect().top + window.scrollY - headerHeight() - 6 });
  }
  // The article `step` places from items[index] in the queue's order (step 0: that article).
  function go(index, step) {
    const list = state.order_list;
    if (!list.length) return;
    let at = list.indexOf(items[index]);
    if (at < 0) at = 0;
    const item = list[Math.max(0, Math.min(list.length - 1, at + (step || 0)))];
    setCurrent(item.index);
    // The current summary follows the article: its first summary (none while it is folded).
    const first = item.folded ? null : cards(item)[0];
    setSummary(item, first ? first.dataset.key : null);
    scrollToNode(item.section);
    item.section.focus({ preventScroll: true });
  }
  // ---- The current summary (J / K between summaries; a / r / n act on it, then move on).
  function cards(item) {
    if (item.folded) toggle(item, false);
    if (!item.rendered) renderBody(item);
    return [...item.body.querySelectorAll("div.summary[data-key], div.pair-cell.head[data-key]")];
  }
  function setSummary(item, key) {
    for (const old of document.querySelectorAll(".current-summary")) old.classList.remove("current-summary");
    state.summary = key ? { item: item.index, key: key } : null;
    setCurrent(item.index);
    if (!key) return null;
    const card = item.body.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (card) card.classList.add("current-summary");
    return card;
  }
  function moveSummary(step) {
    const list = state.order_list;
    if (!list.length) return;
    let pos = Math.max(0, list.indexOf(items[state.summary ? state.summary.item : state.current]));
    let here = cards(list[pos]).map((c) => c.dataset.key);
    let at = state.summary && state.summary.item === list[pos].index ? here.indexOf(state.summary.key) : (step > 0 ? -1 : here.length);
    at += step;
    while (at < 0 || at >= here.length) {
      pos += step;
      if (pos < 0 || pos >= list.length) { say(step > 0 ? "The end of the queue." : "The start of the queue."); return; }
      here = cards(list[pos]).map((c) => c.dataset.key);
      at = step > 0 ? 0 : here.length - 1;
    }
    const card = setSummary(list[pos], here[at]);
    if (card) { scrollToNode(card); card.focus({ preventScroll: true }); }
  }
  // What a / r / n act on: the current summary when its card is on screen, else the first summary
  // card on screen (of the current article first); never a summary off screen.
  const onScreen = (node) => {
    const r = node.getBoundingClientRect();
    return r.height > 0 && r.bottom > headerHeight() + 4 && r.top < window.innerHeight - 4;
  };
  function visibleCards() {
    return [...document.querySelectorAll("div.summary[data-key], div.pair-cell.head[data-key]")]
      .filter((c) => !c.closest("[hidden]") && onScreen(c));
  }
  function currentSummary() {
    const item = items[state.current];
    let card = state.summary ? document.querySelector(`[data-key="${CSS.escape(state.summary.key)}"]`) : null;
    if (!card || !onScreen(card)) {
      const seen = visibleCards();
      card = seen.find((c) => item && item.section.contains(c)) || seen[0] || null;
      if (!card) return null;
      const at = items.find((x) => x.section.contains(card));
      setSummary(at, card.dataset.key);
    }
    return bySummary.get(card.dataset.key) || null;
  }
  // Scrolling moves the current article and summary to what is on screen.
  let scrollTimer = null;
  window.addEventListener("scroll", () => {
    clearTimeout(scrollTimer);
    scrollTimer = setTimeout(() => {
      const item = items[state.current];
      if (item && !item.section.hidden && onScreen(item.section)) {
        const card = state.summary && document.querySelector(`[data-key="${CSS.escape(state.summary.key)}"]`);
        if (card && onScreen(card)) return;
      }
      const top = headerHeight() + 8;
      const under = items.find((x) => !x.section.hidden && x.section.getBoundingClientRect().bottom > top);
      if (!under) return;
      const card = [...under.section.querySelectorAll("div.summary[data-key], div.pair-cell.head[data-key]")].find(onScreen);
      if (card) setSummary(under, card.dataset.key); else { setSummary(under, null); }
    }, 80);
  }, { passive: true });
  function undoLast() {
    const last = undo.pop();
    if (!last) { say("Nothing to undo."); return; }
    setMark(last.s, last.a, last.before, true);
    repaintMarks(last.s.key);
    applyQueue();
    say(`Undone: ${last.s.run} on “${clip(last.a.title, 50)}” is back to ${last.before.mark || "no mark"}.`);
  }
  $("fold-all").addEventListener("click", () => { items.forEach((item) => toggle(item, true)); say("All articles folded: o or “Unfold all” opens them."); });
  $("unfold-all").addEventListener("click", () => { items.forEach((item) => toggle(item, false)); say("All articles unfolded: each one draws as you reach it."); });
  // Only text fields pause the keys: after ticking a run box or choosing in a select they still work.
  const typing = (t) => !!t && (t.isContentEditable || t.tagName === "TEXTAREA" ||
    (t.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset|file|range|color)$/i.test(t.type) && !t.readOnly));
  document.addEventListener("keydown", (e) => {
    const target = e.target;
    if (!items.length || typing(target)) return;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "z" || e.key === "Z")) { e.preventDefault(); undoLast(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (!"jkJKoarnu".includes(e.key) || e.key.length !== 1) return;
    if (target && target !== document.body && /^(SELECT|INPUT|BUTTON)$/.test(target.tagName)) target.blur();
    const current = /^[arn]$/.test(e.key) ? currentSummary() : null;
    if (/^[arn]$/.test(e.key) && !current) { say("No summary on screen: scroll to one, or J / K."); e.preventDefault(); return; }
    if (e.key === "u") undoLast();
    else if (e.key === "j") go(state.current, +1);
    else if (e.key === "k") go(state.current, -1);
    else if (e.key === "J") moveSummary(+1);
    else if (e.key === "K") moveSummary(-1);
    else if (e.key === "o") { toggle(items[state.current]); go(state.current, 0); }
    else if ((e.key === "a" || e.key === "r") && current) {
      if (setMark(current.summary, current.article, { mark: e.key === "a" ? "accept" : "reject" })) {
        repaintMarks(current.summary.key);
        moveSummary(+1);
      }
    } else if (e.key === "n" && current) {
      const note = document.querySelector(`div.marks[data-key="${CSS.escape(current.summary.key)}"] input.note`);
      if (note) note.focus();
    } else return;
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
      ? `Article text (${plural(article.paragraphs.length, "paragraph")}, ${plural(words, "word")})` : "Article text"));
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
      const shown = shownSummaries(article);
      const order = (s) => rankValue(state.sortBy, s.scores[state.sortBy]);
      shown.sort((a, b) => (order(a) === order(b) ? 0 : order(a) < order(b) ? -1 : 1));
      shown.forEach((s, i) => summaries.appendChild(summaryCard(item, s, i + 1)));
      if (!shown.length) summaries.appendChild(el("p", { class: "note" }, "No summary of this article passes the filter."));
    }
    // The reference bullets scored as a summary: a ceiling, shown apart and never ranked.
    for (const s of article.summaries.filter((x) => x.reference && !state.hidden.has(x.run))) {
      const ref = summaryCard(item, s, null);
      ref.classList.add("reference");
      summaries.appendChild(ref);
    }
    const columns = el("div", { class: "columns" });
    columns.appendChild(source);
    columns.appendChild(summaries);
    body.replaceChildren(columns);
    if (state.summary && state.summary.item === item.index) setSummary(item, state.summary.key);
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

  // Evidence the size of a sentence: a long evidence block (captions and lines the splitter kept
  // together) is cut to its piece sharing the most words with the summary sentence.
  const EVIDENCE_CHARS = 320;
  const wordsOf = (t) => new Set((t.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) || []));
  function trimEvidence(evidence, sentence) {
    if (evidence.length <= EVIDENCE_CHARS) return evidence;
    const pieces = evidence.split(/\n+|(?<=[.!?])\s+/).map((p) => p.trim()).filter(Boolean);
    const want = wordsOf(sentence);
    let best = pieces[0] || evidence, bestScore = -1;
    for (const p of pieces) {
      let n = 0;
      for (const w of wordsOf(p)) if (want.has(w)) n++;
      if (n > bestScore) { best = p; bestScore = n; }
    }
    return best.length > EVIDENCE_CHARS ? best.slice(0, EVIDENCE_CHARS - 1) + "…" : best;
  }
  const cutOff = (summary, i) => summary.cut_at && i === summary.sentences.length - 1 && !/[.!?…"”’)\]]\s*$/.test(summary.sentences[i].text);

  function sentenceSpan(item, summary, s, i) {
    const flagged = s.verdicts.filter((v) => v.flagged);
    const span = el("span", { class: "sent" + (flagged.length ? " flagged" : ""), tabindex: "0", role: "button", "data-index": String(i) });
    appendMarked(span, s.text, s.missing || [], "missing", "not in the article");
    const levels = [...new Set(flagged.map((v) => v.level || "unsupported"))];
    if (cutOff(summary, i)) levels.push(`cut off at ${summary.cut_at} tokens`);
    if (levels.length) span.appendChild(el("span", { class: "level" }, levels.join(", ")));
    span.title = s.verdicts.map(reason).concat(s.problems).join("\n");
    const choose = () => selectSentence(item, s, span);
    span.addEventListener("click", (e) => { e.stopPropagation(); setSummary(item, summary.key); choose(); });
    span.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(); } });
    return span;
  }
  // A scorer's verdict on a sentence as text: its score against its threshold.
  function reason(v) {
    const against = typeof v.threshold === "number" ? ` ${v.flagged ? "<" : "≥"} ${fmt(v.threshold)}` : "";
    return `${v.scorer} ${fmt(v.score)}${against}` + (v.flagged ? ` — ${v.level || "unsupported"}` : "");
  }

  // Highlight the article sentence(s) holding the chosen summary sentence's evidence.
  function selectSentence(item, s, span) {
    const body = item.body;
    for (const old of body.querySelectorAll(".sent.selected")) old.classList.remove("selected");
    span.classList.add("selected");
    const evidence = s.verdicts.filter((v) => v.evidence).map((v) => trimEvidence(v.evidence, s.text));
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
      if (first && source && getComputedStyle(source).position === "sticky") {
        source.scrollTop += first.getBoundingClientRect().top - source.getBoundingClientRect().top - 40;
      } else if (first) {
        // One column (a phone): the article is above, off screen. Go to the evidence, with a way back.
        window.scrollTo({ top: first.getBoundingClientRect().top + window.scrollY - headerHeight() - 60 });
        showBack(span);
      }
    }
  }
  const back = el("button", { type: "button", id: "back-to-sentence", hidden: "" }, "↓ back to the sentence");
  document.body.appendChild(back);
  let backTo = null;
  function showBack(span) { backTo = span; back.hidden = false; }
  back.addEventListener("click", () => {
    back.hidden = true;
    if (backTo) { window.scrollTo({ top: backTo.getBoundingClientRect().top + window.scrollY - window.innerHeight / 3 }); backTo.focus({ preventScroll: true }); }
  });

  function sentencesOf(item, summary) {
    const text = el("p", { class: "text" });
    if (summary.sentences.length) {
      summary.sentences.forEach((s, i) => {
        text.appendChild(sentenceSpan(item, summary, s, i));
        text.appendChild(document.createTextNode(" "));
      });
    } else {
      text.textContent = summary.text.trim() ? summary.text : "(empty summary)";
    }
    return text;
  }
  // What the card must say about how the summary was made.
  function badgesOf(summary) {
    const badges = el("div", { class: "badges" });
    if (summary.cut_at) badges.appendChild(el("span", { class: "badge cut" }, `cut at ${summary.cut_at} tokens`));
    if (summary.article_cut) badges.appendChild(el("span", { class: "badge" }, `article cut by ${plural(summary.article_cut, "token")} to fit`));
    if (summary.repetition) badges.appendChild(el("span", { class: "badge repetition" }, "loop: " + summary.repetition));
    return badges;
  }
  // What is wrong beyond the flags: problems of sentences no scorer flagged, and contradicted bullets
  // (a flagged sentence's problems are under its flag). A long line folds.
  const flaggedSentence = (s) => s.verdicts.some((v) => v.flagged);
  function problemLine(text) {
    const li = el("li");
    if (text.length <= 110) { li.textContent = text; return li; }
    const fold = el("details", { class: "problem" });
    fold.appendChild(el("summary", {}, clip(text, 100)));
    fold.appendChild(el("span", {}, text));
    li.appendChild(fold);
    return li;
  }
  function problemsOf(summary) {
    const problems = summary.sentences.flatMap((s, i) => (flaggedSentence(s) ? [] : s.problems.map((p) => `Sentence ${i + 1}: ${p}`)))
      .concat(summary.contradictions.map((c) => `contradicts the bullet “${c.bullet}” (${c.reason})`));
    const list = el("ul", { class: "problems" });
    for (const p of problems) list.appendChild(problemLine(p));
    return list;
  }
  // Other editors' verdicts on one sentence: "bob dismissed the flag".
  function othersVerdicts(summary, i, flagged) {
    const said = (others.get(summary.key) || []).filter((m) => m.sentences && m.sentences[i]);
    if (!said.length) return null;
    const word = (v) => (flagged ? (v === "unsupported" ? "confirmed the flag" : "dismissed the flag") : v);
    return el("span", { class: "others-verdicts" }, said.map((m) => `${m.editor || "(unnamed)"} ${word(m.sentences[i])}`).join(" · "));
  }
  // Each flagged sentence's reasons as text (scorer, score, threshold, evidence), with the editor's
  // verdict on the flag; every sentence when the editor asks ("Judge every sentence").
  function flagsOf(item, summary) {
    const box = el("div", { class: "flags" });
    if (summary.reference) return box;
    const all = state.judgeAll.has(summary.key);
    const mark = marks.get(summary.key);
    summary.sentences.forEach((s, i) => {
      const flagged = s.verdicts.some((v) => v.flagged);
      if (!flagged && !all) return;
      const row = el("div", { class: "flag" + (flagged ? " flagged" : ""), "data-index": String(i) });
      // One line: which sentence, and the scores that flag it; the buttons right under it; the rest folded.
      const why = s.verdicts.filter((v) => v.flagged).map(reason).join(" · ") || s.verdicts.map(reason).join(" · ");
      row.appendChild(el("div", { class: "flag-line" }, `Sentence ${i + 1}: ${why}`));
      const more = el("details", { class: "flag-more" });
      more.appendChild(el("summary", {}, s.problems.length ? clip(s.problems[0], 90) + (s.problems.length > 1 ? ` (+${s.problems.length - 1})` : "")
        : "scores and evidence"));
      const reasons = el("ul", { class: "reasons" });
      for (const p of s.problems) reasons.appendChild(el("li", { class: "problem" }, p));
      for (const v of s.verdicts) {
        const li = el("li", { class: v.flagged ? "flagged" : "" }, reason(v));
        if (v.evidence) li.appendChild(el("span", { class: "evidence-text" }, ` · evidence: “${clip(trimEvidence(v.evidence, s.text), 160)}”`));
        reasons.appendChild(li);
      }
      more.appendChild(reasons);
      const verdict = mark && mark.sentences[i];
      const choices = flagged ? [["unsupported", "confirm flag"], ["supported", "dismiss flag"]]
        : [["unsupported", "unsupported"], ["supported", "supported"]];
      const buttons = el("span", { class: "verdicts" });
      for (const [value, text] of choices) {
        const b = el("button", { type: "button", class: "verdict-" + value, "aria-pressed": String(verdict === value) }, text);
        b.addEventListener("click", (e) => {
          e.stopPropagation();
          setSummary(item, summary.key);
          const m = marks.get(summary.key) || blank(summary, item.article);
          const next = { ...m.sentences };
          if (next[i] === value) delete next[i]; else next[i] = value;
          if (setMark(summary, item.article, { sentences: next })) repaintMarks(summary.key);
        });
        buttons.appendChild(b);
      }
      const theirs = othersVerdicts(summary, i, flagged);
      if (theirs) buttons.appendChild(theirs);
      row.appendChild(buttons);
      row.appendChild(more);
      box.appendChild(row);
    });
    if (summary.sentences.length) {
      const more = el("button", { type: "button", class: "judge-all" }, all ? "Only flagged sentences" : "Judge every sentence");
      more.addEventListener("click", (e) => {
        e.stopPropagation();
        all ? state.judgeAll.delete(summary.key) : state.judgeAll.add(summary.key);
        repaintMarks(summary.key);
      });
      box.appendChild(more);
    }
    return box;
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
  const when = (at) => (at ? at.slice(0, 16).replace("T", " ") : "");
  function marksOf(item, summary) {
    const box = el("div", { class: "marks", "data-key": summary.key });
    const current = marks.get(summary.key) || {};
    for (const choice of ["accept", "reject"]) {
      const button = el("button", { type: "button", class: "mark-" + choice, "aria-pressed": String(current.mark === choice),
                                    title: choice + " (" + choice[0] + ")" }, choice);
      button.addEventListener("click", (e) => {
        e.stopPropagation();
        setSummary(item, summary.key);
        const now = (marks.get(summary.key) || {}).mark;
        if (setMark(summary, item.article, { mark: now === choice ? null : choice })) repaintMarks(summary.key);
      });
      box.appendChild(button);
    }
    const note = el("input", { type: "text", class: "note", placeholder: "note (n)", maxlength: "5000" });
    note.value = current.note || "";
    note.addEventListener("input", () => { if (!setMark(summary, item.article, { note: note.value })) note.value = ""; });
    box.appendChild(note);
    const notes = el("div", { class: "mark-notes" });
    const theirs = others.get(summary.key) || [];
    if (theirs.length) {
      const judged = (m) => { const n = Object.keys(m.sentences || {}).length; return n ? `, ${plural(n, "sentence")} judged` : ""; };
      notes.appendChild(el("p", { class: "others" }, "Other editors: " + theirs.map((m) =>
        `${m.editor || "(unnamed)"} ${m.mark || "note"}${judged(m)}${m.note ? " “" + clip(m.note, 60) + "”" : ""}`).join(" · ")));
    }
    for (const old of stale.get(slotKey(summary.run_key, item.article.id)) || []) {
      const who = old.editor === editor ? "You" : old.editor || "An editor";
      notes.appendChild(el("p", { class: "warning stale" }, `${who} marked ${old.changed === "article" ? "this summary of an earlier text of the article" : "an earlier text of this summary"}` +
        ` (${old.mark || "note"}${old.at ? ", " + when(old.at) : ""}); the ${old.changed} changed since, so the mark is not applied here.`));
    }
    if (current.legacy) notes.appendChild(el("p", { class: "note" }, "This mark was made before marks named the summary's text."));
    const wrap = el("div", { class: "marks-wrap" });
    wrap.appendChild(box);
    if (notes.children.length) wrap.appendChild(notes);
    return wrap;
  }
  function repaintMarks(key) {
    // One summary's marks and flag verdicts changed: redraw its card's parts (everywhere it is drawn).
    const found = bySummary.get(key);
    if (!found) return;
    const item = items.find((x) => x.article === found.article);
    if (!item || !item.rendered) return;
    for (const node of item.body.querySelectorAll(`div.marks-wrap`)) {
      if (node.firstChild.dataset.key === key) node.replaceWith(marksOf(item, found.summary));
    }
    for (const node of item.body.querySelectorAll(`div.flags[data-key="${CSS.escape(key)}"]`)) {
      const fresh = flagsOf(item, found.summary);
      fresh.dataset.key = key;
      node.replaceWith(fresh);
    }
  }
  function heading(summary, prefix) {
    const head = el("h3", {}, prefix + (summary.reference ? "Reference bullets as a summary (not ranked): " : "") + summary.run);
    head.appendChild(el("span", { class: "metric" }, `${label(state.sortBy)} = ${fmt(summary.scores[state.sortBy])}`));
    return head;
  }

  function summaryCard(item, summary, rank) {
    const card = el("div", { class: "summary", "data-run": summary.run, "data-article": item.article.id, tabindex: "-1" });
    if (!summary.reference) card.dataset.key = summary.key;
    card.appendChild(heading(summary, rank ? `${rank}. ` : ""));
    const badges = badgesOf(summary);
    if (badges.children.length) card.appendChild(badges);
    card.appendChild(sentencesOf(item, summary));
    const flags = flagsOf(item, summary);
    flags.dataset.key = summary.key;
    if (!summary.reference) card.appendChild(flags);
    const problems = problemsOf(summary);
    if (problems.children.length) card.appendChild(problems);
    for (const [matcher, bullets] of Object.entries(summary.coverage)) {
      const covered = bullets.filter((b) => b.covered).length;
      card.appendChild(el("div", { class: "coverage-head" }, `Bullets covered (${matcher}): ${covered}/${bullets.length}`));
      const list = el("ul", { class: "coverage" });
      bullets.forEach((b) => list.appendChild(bulletItem(item.article, summary, b)));
      card.appendChild(list);
    }
    if (!summary.reference) card.appendChild(marksOf(item, summary));
    card.addEventListener("click", () => setSummary(item, summary.reference ? null : summary.key));
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
    const both = (make, cls) => pair.map((s, i) => cell(i, s ? make(s, i) : null, cls));
    pair.forEach((s, i) => {
      const head = cell(i, s ? heading(s, "") : el("h3", {}, state.pair[i] + ": no summary of this article"), "head");
      if (s && !s.reference) { head.dataset.key = s.key; head.addEventListener("click", () => setSummary(item, s.key)); }
    });
    both((s) => badgesOf(s), "badges-row");
    both((s) => sentencesOf(item, s), "text");
    both((s) => problemsOf(s), "flags");
    both((s) => { const f = flagsOf(item, s); f.dataset.key = s.key; return f; }, "verdicts-row");
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
    both((s) => (s.reference ? el("span") : marksOf(item, s)), "marks-row");
    return grid;
  }

  // ---- Export and import of marks.
  // Export: every editor's marks this page holds (mine, and others' from the server or an import), each under its editor.
  $("export").addEventListener("click", () => {
    const all = markList().map((m) => ({ editor: editor, ...wire(m), at: m.at || "" }));
    for (const list of others.values()) for (const m of list) all.push({ editor: m.editor || "", ...wire(m), at: m.at || "" });
    const text = JSON.stringify({ version: 3, exported_at: new Date().toISOString(), marks: all }, null, 2);
    $("marks-json").value = text;
    $("export-panel").hidden = false;
    const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })),
                           download: "marks.json" });
    link.click();
  });
  function importMarks(parsed, source) {
    const list = Array.isArray(parsed) ? parsed : parsed && Array.isArray(parsed.marks) ? parsed.marks : null;
    if (!list) { say(`${source}: not a marks file (expected {"marks": [...]} as exported here)`); return; }
    if (needName()) return;
    // Each mark keeps its editor: a colleague's marks are theirs (shown as other editors', saved under
    // their name); marks that name no editor become yours only if you say so.
    const fileEditor = parsed && !Array.isArray(parsed) && typeof parsed.editor === "string" ? parsed.editor : "";
    const authorOf = (raw) => (typeof raw.editor === "string" && raw.editor ? raw.editor : fileEditor);
    const unnamed = list.filter((raw) => { const e = raw && typeof raw === "object" && readMark(raw); return e && e.place !== "elsewhere" && !authorOf(raw); }).length;
    const adoptUnnamed = unnamed > 0 && window.confirm(`${source}: ${plural(unnamed, "mark")} name no editor. Import them as yours (${editor})? Cancel skips them.`);
    let taken = 0, changed = 0, theirs = 0, refused = 0;
    const byEditor = new Map();
    for (const raw of list) {
      const entry = readMark(raw);
      if (!entry || entry.place === "elsewhere") continue;
      let who = authorOf(raw);
      if (!who) { if (!adoptUnnamed) { refused++; continue; } who = editor; }
      if (!EDITOR_RE.test(who)) continue;
      if (entry.place === "stale") { keepStale(entry, who, true); changed++; continue; }
      const s = entry.slot.summary;
      if (who === editor) {
        setMark(s, entry.slot.article, { mark: entry.mark.mark, note: entry.mark.note, sentences: entry.mark.sentences });
        taken++;
        continue;
      }
      const mark = { ...entry.mark, editor: who };
      const list2 = (others.get(s.key) || []).filter((m) => m.editor !== who);
      list2.push(mark);
      others.set(s.key, list2);
      try { if (storage) storage.setItem(JSON.stringify([STORE, scope, who, s.key]), JSON.stringify({ ...wire(mark), at: mark.at, editor: who })); } catch (e) { /* this visit only */ }
      if (!byEditor.has(who)) byEditor.set(who, []);
      byEditor.get(who).push(wire(mark));
      theirs++;
    }
    if (reviewUrl) {
      for (const [who, wired] of byEditor) {
        fetch(reviewUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ editor: who, marks: wired }) })
          .then((r) => (r.ok ? r.json() : null)).then((r) => { if (r) paintRates(r.page_rates); })
          .catch((e) => say(`Could not save ${who}'s imported marks to the review server: ${e.message}`));
      }
    }
    applyQueue();
    refresh();
    const skipped = list.length - taken - changed - theirs - refused;
    say(`${source}: ${plural(taken, "mark")} imported as yours (${editor})` +
        (theirs ? `, ${plural(theirs, "mark")} of ${[...byEditor.keys()].join(", ")} kept under their names` : "") +
        (refused ? `, ${refused} naming no editor not imported` : "") +
        (changed ? `, ${changed} made on another text of the summary or article (shown as warnings, not applied)` : "") +
        (skipped ? `, ${skipped} skipped (not summaries on this page, or malformed)` : ""));
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
  // ---- The page measures itself: each scorer's precision and recall against the editors' sentence
  // verdicts on this page. `harness review` computes them (harness/review.py page_rates: the function
  // `harness compare --marks` uses, on the page's own flags); a page opened as a file says where to get them.
  const share = (v, n) => (typeof v === "number" && isFinite(v) ? `${v.toFixed(3)} (n=${n})` : "–");
  function paintRates(rates) {
    const box = $("page-rates");
    if (!box) return;
    box.textContent = "";
    box.appendChild(el("h3", {}, "This page: the editors' sentence verdicts"));
    if (!reviewUrl) {
      box.appendChild(el("p", {}, "Opened as a file, the page cannot count every editor's verdicts: serve it with " +
        "harness review DIR to see each scorer's precision and recall on this page here, or run harness compare " +
        "RUN_DIRS --marks marks.json."));
      return;
    }
    const flags = rates && rates.flags && typeof rates.flags === "object" ? Object.entries(rates.flags) : [];
    if (!flags.length) {
      box.appendChild(el("p", {}, "No sentence judged yet: confirm or dismiss flags (or “Judge every sentence”), " +
        "and each scorer's precision and recall on this page appear here."));
      return;
    }
    const names = new Map(((data.flag_legend || {}).rows || []).map((r) => [r.key, r.scorer]));
    box.appendChild(el("p", {}, `${plural(rates.judged, "sentence")} judged by ${plural(rates.editors, "editor")}. ` +
      "Precision: of the flagged sentences judged, the share judged unsupported; recall: of the sentences judged " +
      "unsupported, the share flagged (as harness compare --marks counts them)."));
    const table = el("table", { class: "legend page-rates" });
    const head = el("tr");
    for (const h of ["scorer", "precision", "recall", "judged"]) head.appendChild(el("th", {}, h));
    table.appendChild(el("thead")).appendChild(head);
    const body = el("tbody");
    for (const [key, f] of flags) {
      const row = el("tr", { "data-scorer": key });
      row.appendChild(el("th", { scope: "row" }, names.get(key) || key));
      row.appendChild(el("td", { class: "precision" }, share(f.precision, f.n_flagged)));
      row.appendChild(el("td", { class: "recall" }, share(f.recall, f.n_unsupported)));
      row.appendChild(el("td", {}, String(f.n_judged)));
      body.appendChild(row);
    }
    table.appendChild(body);
    box.appendChild(table);
  }

  function fetchServer() {
    // The review server's marks.json: this editor's marks (taken where this browser has none of its
    // own), other editors' (shown on the cards), marks of changed summaries (warnings), and how many
    // it holds that this page cannot place.
    fetch(reviewUrl).then((r) => (r.ok ? r.json() : null)).then((saved) => {
      const all = saved && Array.isArray(saved.marks) ? saved.marks : [];
      others.clear();
      for (const key of [...stale.keys()]) stale.set(key, stale.get(key).filter((m) => m.local));
      let taken = 0;
      const onServer = new Set();
      for (const raw of all) {
        const entry = readMark(raw);
        if (!entry || entry.place === "elsewhere") continue;
        const who = entry.mark.editor;
        if (entry.place === "stale") { keepStale(entry, who); continue; }
        const key = entry.slot.summary.key;
        if (who === editor && editor) {
          onServer.add(key);
          if (!marks.has(key)) { marks.set(key, { ...entry.mark, legacy: entry.legacy }); taken++; }
        } else {
          const list = (others.get(key) || []).filter((m) => m.editor !== who);
          list.push(entry.mark);
          others.set(key, list);
        }
      }
      applyQueue();
      refresh();
      paintRates(saved && saved.page_rates);
      const unplaced = saved && typeof saved.unplaced === "number" ? saved.unplaced : 0;
      const reasons = saved && saved.unplaced_reasons && typeof saved.unplaced_reasons === "object"
        ? Object.entries(saved.unplaced_reasons).filter(([, n]) => n).map(([why, n]) => `${why}: ${n}`).join(", ") : "";
      say(`Review server: marks are saved to its marks.json (${taken} of ${editor || "yours"} read from it)` +
          (unplaced ? `; it keeps ${plural(unplaced, "mark")} this page cannot place (${reasons})` : "") +
          (editor ? "" : "; type your name in “Editor” to mark"));
      // Marks this browser kept that the server lacks (made while it was not running): send them.
      for (const [key, m] of marks) if (!onServer.has(key) && !empty(m)) dirty.add(key);
      if (dirty.size && editor) postMarks();
    }).catch((e) => say("Review server unreachable: " + e.message));
  }

  loadMine();
  applyQueue();
  const differing = data.articles.filter((a) => a.texts_differ).length;
  const kept = marks.size;
  say(`${plural(total, "article")} × ${plural(data.runs.length, "system")}` + (kept ? `; ${plural(kept, "mark")} kept from earlier visits` : "") +
      (differing ? `; warning: the runs saw different texts of ${plural(differing, "article")}` : "") +
      (total > FOLD_OVER ? "; all folded: o or “Unfold all” opens them" : ""));
  paintRates(null);
  if (reviewUrl) fetchServer();
  if (items.length) setCurrent(0);
  if (window.performance && performance.mark) performance.mark("report-ready");
  document.documentElement.dataset.ready = "true";
})();
