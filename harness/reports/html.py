"""``report.html``: the page editors read. One self-contained file (no CDN, works offline).

Per article (headed by its title, else its first words): its bullets and its text (folded), beside
the summaries of every run ranked by a chosen metric, or two runs side by side; per summary, which
bullets it covers (✓/✗ by each coverage matcher) and which sentences a scorer flags (with the
level as text, the names and numbers the article lacks marked); choosing a sentence highlights
its evidence in the article. Filters by run, ranking by any metric in its direction, fold /
unfold and j / k / o keys, and marks (accept / reject / note) kept in the browser's localStorage
per run, article and system, exported and imported as JSON for ``harness compare --marks``, or
saved by ``harness review`` (harness/review.py). Articles render lazily (when unfolded and near
the viewport), so 1,000 articles stay responsive. Bar charts of the metrics with their 95%
CIs (matplotlib), a panel per metric and one for every consistency scorer, their text as SVG text.

Safety: every text from a model or a reference reaches the page as JSON data inside a
``<script type="application/json">`` element (``<``, ``>``, ``&`` escaped) and is put on the page
with ``textContent`` only, never parsed as HTML; a Content-Security-Policy allows no script but
the page's own (by hash) and no network access at all.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from pathlib import Path

from harness.io import write_text_atomic
from harness.metrics.consistency.base import problems as sentence_problems
from harness.reports.flag_legend import legend_table
from harness.results import details
from harness.results.marks import text_sha256
from harness.results.metric_info import arrow, display_name, merged_metric_info
from harness.results.runs import Run, group_key
from harness.results.summaries import read_references, read_summary_rows
from harness.text.repetition import repetition_warning
from harness.text.visible import visible_strings

MAX_PANELS = 6  # bar-chart panels besides the consistency scorers' (each has its own): the sort metric and headlines
CHART_FONT = 10  # points (4/3 px each): a panel drawn at 83% of its size still shows 11 px labels
PANEL_WIDTH = 4.0  # inches (72 pt): one panel per metric, side by side where the screen is wide enough
LABEL_WIDTH = 24  # characters of a run's name per line on a panel's axis


def _scalar(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _flagged(verdict: dict) -> bool:
    """A scorer flags a sentence when it says so (``flagged``); older runs have only ``supported``."""
    flagged = verdict.get("flagged")
    return bool(flagged) if flagged is not None else not verdict.get("supported", True)


def _thresholds(run: Run) -> dict[str, float]:
    """Scorer key -> the threshold below which it flags a sentence, as the run recorded it."""
    out: dict[str, float] = {}
    for entry in run.thresholds.values():
        out.setdefault(entry["scorer"], float(entry["threshold"]))
    return out


def _generation_notes(run: Run, row: dict) -> dict:
    """What the card must say about how the summary was made: cut at the token limit (its
    ``output_tokens`` reached the run's ``max_new_tokens``), the article cut to fit the context, a
    loop."""
    limit, made = run.max_new_tokens, row.get("output_tokens")
    notes = {}
    if _scalar(limit) and _scalar(made) and made >= limit:
        notes["cut_at"] = int(limit)
    if _scalar(row.get("article_tokens_cut")) and row["article_tokens_cut"] > 0:
        notes["article_cut"] = int(row["article_tokens_cut"])
    warning = repetition_warning(row.get("text") or "")
    if warning:
        notes["repetition"] = warning
    return notes


def _summary_view(text: str, scores: dict, thresholds: dict[str, float] | None = None) -> dict:
    thresholds = thresholds or {}
    judged = details.sentences(scores)
    sentences = []
    if judged:
        for i, first in enumerate(next(iter(judged.values()))):
            verdicts = []
            for scorer, v in judged.items():
                verdict = {"scorer": scorer, "score": v[i]["score"], "supported": v[i]["supported"],
                           "flagged": _flagged(v[i]), "level": v[i].get("level"),
                           "threshold": thresholds.get(scorer)}
                if isinstance(v[i].get("evidence"), str) and v[i]["evidence"].strip():
                    verdict["evidence"] = v[i]["evidence"]
                verdicts.append(verdict)
            problems = [p for v in judged.values() for p in sentence_problems(v[i])]
            # The names and numbers the article lacks, to mark inside the sentence.
            missing = sorted({e["text"] for v in judged.values() for e in v[i].get("entities", [])
                              if e.get("status") in ("unmatched", "qualifier_mismatch") and e.get("text")}
                             | {m for v in judged.values() if _flagged(v[i]) for m in v[i].get("missing", ())
                                if isinstance(m, str) and m in first["sentence"]})
            sentences.append({"text": first["sentence"], "verdicts": verdicts, "problems": problems,
                              "missing": missing})
    return {"text": text, "scores": {k: v for k, v in scores.items() if _scalar(v)}, "sentences": sentences,
            "coverage": details.coverage(scores), "contradictions": details.contradictions(scores)}


def _compact(summary: dict, bullets: list[str]) -> dict:
    """Per-bullet coverage with the bullet as its index in the article's bullets and the covering
    sentence as its index in the summary's sentences, where they are those texts (a quarter of a
    large page's size otherwise; report.js reads either form)."""
    sentences = {s["text"]: i for i, s in reversed(list(enumerate(summary["sentences"])))}

    def compact(i: int, b: dict) -> dict:
        b = dict(b)  # a copy: the run's scores stay as they are
        if i < len(bullets) and b.get("bullet") == bullets[i]:
            b["bullet"] = i
        if isinstance(b.get("sentence"), str) and b["sentence"] in sentences:
            b["sentence"] = sentences[b["sentence"]]
        return b

    summary["coverage"] = {k: [compact(i, b) for i, b in enumerate(v)] for k, v in summary["coverage"].items()}
    return summary


TITLE_WORDS = 12  # an article without a title is headed by its first words


def article_title(title: str | None, article_id: str, paragraphs: list[str]) -> str:
    """The data's title; else the article's first words; else its id. A title equal to the id (some
    CNN/DailyMail loaders) counts as none."""
    if title and title.strip() and title.strip() != article_id:
        return title.strip()
    words = " ".join(paragraphs).split()
    if words:
        return " ".join(words[:TITLE_WORDS]) + (" …" if len(words) > TITLE_WORDS else "")
    return article_id


def report_data(runs: list[Run], board: dict) -> dict:
    """Everything the page shows, as plain JSON-able data. Each summary names its run's identity
    (``run_key``) and its text's SHA-256, each article its content SHA-256: the keys of a mark
    (harness/review.py), so a mark stays on the summary it was made on."""
    articles: dict[str, dict] = {}
    texts: dict[str, dict[str, list[str]]] = {}  # article id -> content hash -> runs that saw it
    shown = set()
    for run in runs:
        # Every directory of the run: shards of one evaluation set each hold some of its articles.
        rows = []
        for directory in map(Path, run.dirs):
            for ref in read_references(directory, missing_ok=True):
                paragraphs = [p for p in ref.paragraphs if isinstance(p, str)]
                articles.setdefault(ref.id, {"id": ref.id, "title": article_title(ref.title, ref.id, paragraphs),
                                             "sha256": run.articles.get(ref.id, ""),
                                             "paragraphs": paragraphs, "bullets": list(ref.bullets),
                                             "summaries": []})
            rows += read_summary_rows(directory)
        thresholds = _thresholds(run)
        reference = run.system_identity.get("kind") == "reference_bullets"
        for row in rows:
            if (run.label, row["article_id"]) in shown:
                continue  # the same run again (e.g. lead-3 under two decoding presets)
            shown.add((run.label, row["article_id"]))
            scores = run.scores.get(row["article_id"], {})
            article = articles.setdefault(row["article_id"], {
                "id": row["article_id"], "title": row["article_id"], "paragraphs": [],
                "sha256": run.articles.get(row["article_id"], ""),
                "bullets": [b["bullet"] for b in next(iter(details.coverage(scores).values()), [])],
                "summaries": []})
            texts.setdefault(row["article_id"], {}).setdefault(run.articles.get(row["article_id"], ""),
                                                               []).append(run.label)
            summary = {"run": run.label, "run_key": str(run.key[0]), "sha256": text_sha256(row["text"]),
                       "reference": reference, **_generation_notes(run, row),
                       **_summary_view(row["text"], scores, thresholds)}
            article["summaries"].append(_compact(summary, article["bullets"]))
    for article_id, seen in texts.items():
        if len(seen) > 1:  # the runs were given different texts under one id
            articles[article_id]["texts_differ"] = [labels for labels in seen.values()]
    scored = {m for a in articles.values() for s in a["summaries"] for m in s["scores"]}
    info = {m: meta for m, meta in merged_metric_info(runs).items() if m in scored}
    run_keys = {run.label: str(run.key[0]) for run in runs}
    page_id = text_sha256(json.dumps(sorted((s["run_key"], a["id"], s["sha256"]) for a in articles.values()
                                        for s in a["summaries"])))
    return {"sort_by": board["sort_by"], "metric_info": info, "runs": [r["name"] for r in board["rows"]],
            "run_keys": run_keys, "page_id": page_id, "board": board, "articles": list(articles.values()),
            "flag_legend": legend_table(runs)}


FAITHFULNESS = "consistency/"  # the consistency metrics' own column namespace (harness/metrics/consistency/)


def chart_panels(board: dict) -> list[str]:
    """The chart's metrics: the first column of each metric config (ROUGE, each coverage matcher,
    ...; the comparison's sort metric first), at most ``MAX_PANELS`` of those (at least one), plus
    one panel for every consistency scorer (claims, entity, embedding, ...), in the comparison's order."""
    info = board.get("metric_info", {})
    present = [m for m in board["metrics"] if any(m in r["metrics"] for r in board["rows"])]
    shown, families = [], set()
    for metric in present:
        family = (info.get(metric) or {}).get("metric", metric)
        if not shown or family not in families:
            shown.append(metric)
            families.add(family)
    faithful = [m for m in shown if m.startswith(FAITHFULNESS)]
    others = [m for m in shown if not m.startswith(FAITHFULNESS)][:max(1, MAX_PANELS - len(faithful))]
    return [m for m in shown if m in faithful or m in others]


def bar_chart_svg(board: dict) -> str | None:
    """The chart: one SVG per panel (`chart_panels`), each drawn at its own size with its text as text
    (``CHART_FONT`` points: an SVG ``<text>`` a browser can measure and select, not paths), as one
    HTML fragment of ``<svg>`` elements the page lays out side by side and wraps on a narrow screen.
    Horizontal bars with 95% CI whiskers, runs in the comparison's rank order, each title with its
    direction. Run names and metric names are drawn as the text they are (escaped by matplotlib's SVG
    writer): ``$…$`` is never read as mathtext (nor any text by LaTeX)."""
    import matplotlib

    matplotlib.use("Agg")
    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False, "svg.fonttype": "none"}):
        panels = []
        for i, metric in enumerate(chart_panels(board)):
            with matplotlib.rc_context({"svg.hashsalt": f"panel-{i}"}):  # ids unique across the page's panels
                panels.append(_panel_svg(board, metric))
        return "\n".join(panels) or None


def _panel_svg(board: dict, metric: str) -> str:
    import textwrap

    import matplotlib.pyplot as plt

    info = board.get("metric_info", {})
    names = [r["name"] for r in board["rows"]][::-1]
    labels = ["\n".join(textwrap.wrap(n, LABEL_WIDTH, break_on_hyphens=False)[:3]) or n for n in names]
    lines = sum(max(1, label.count("\n") + 1) for label in labels)
    fig, ax = plt.subplots(figsize=(PANEL_WIDTH, 0.3 * lines + 0.25 * len(names) + 0.9))
    stats = [next(r for r in board["rows"] if r["name"] == n)["metrics"].get(metric) for n in names]
    means = [s["mean"] if s else 0.0 for s in stats]
    low = [s["mean"] - s["ci95"][0] if s else 0.0 for s in stats]
    high = [s["ci95"][1] - s["mean"] if s else 0.0 for s in stats]
    ax.barh(range(len(names)), means, xerr=[low, high], color="#4c78a8", ecolor="#333", capsize=3)
    ax.set_title(f"{display_name(info, metric)} {arrow(info, metric)}".strip(), fontsize=CHART_FONT + 1, wrap=True)
    ax.set_xlim(min(0.0, min(means) - 0.05), max(1.0, max(m + h for m, h in zip(means, high, strict=True))))
    ax.set_yticks(range(len(names)), labels)
    ax.tick_params(labelsize=CHART_FONT)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # no XML prolog or doctype inside the HTML page


def _json_for_script(data) -> str:
    """JSON that cannot end its <script> element or open a comment: <, >, & and line separators escaped."""
    text = json.dumps(data, ensure_ascii=False)
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                          ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


CONNECT_OFFLINE = "connect-src 'none'"  # the page as written: no network at all
CONNECT_REVIEW = "connect-src 'self'"  # as `harness review` serves it: its own origin only
REVIEW_META = '<meta name="harness-review" content="/marks.json">'
HELP = ("Keys (they act on the summary on screen; only text fields pause them): j / k next / previous article · "
        "J / K next / previous summary · a accept · r reject (then the next summary) · n note · u undo the last "
        "mark · o fold / unfold · click a summary sentence to highlight its evidence")
QUEUE_FILTERS = (("all", "all summaries"), ("unmarked", "not marked by me"), ("flagged", "flagged"),
                 ("mine", "marked by me"), ("others", "marked by others"),
                 ("systems", "systems disagree (flagged in one, not another)"),
                 ("editors", "editors disagree"), ("changed", "marked on an earlier text"))


def _flags_on(data: dict) -> bool:
    """Whether any summary on the page has sentences a consistency scorer judged."""
    return any(isinstance(x, dict) and x.get("verdicts") for a in data.get("articles") or []
               for s in a.get("summaries") or [] for x in s.get("sentences") or [])


def _legend_html(table: dict, flags: bool = False) -> str:
    """The flag legend (harness/reports/flag_legend.py ``legend_table``): a compact table, folded,
    outside the sticky header, and beside it the page's own precision and recall per scorer
    (``#page-rates``: report.js fills it from ``harness review``'s ``page_rates``). Shown where the
    runs recorded thresholds or the page has flags."""
    if not isinstance(table, dict) or not (table.get("rows") or flags):
        return ""
    pct = lambda x: f"{100 * x:.0f}%" if isinstance(x, (int, float)) else "–"  # noqa: E731
    columns = table.get("columns") or []
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = ""
    for row in table["rows"]:
        cells = ("".join(f"<td>{pct((row['rates'].get(c) or [None, None])[0])} / "
                         f"{pct((row['rates'].get(c) or [None, None])[1])}</td>" for c in columns)
                 if not row.get("note") else f'<td colspan="{max(1, len(columns))}">{html.escape(row["note"])}</td>')
        body += (f'<tr><th scope="row">{html.escape(row["scorer"])}</th><td>&lt; {row["threshold"]:.3f}</td>'
                 f"{cells}</tr>")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in table.get("notes") or [])
    calibrated = (f'<table class="legend"><caption>The calibration: summaries flagged</caption><thead><tr>'
                  f'<th>scorer</th><th>flags below</th>{head}</tr>'
                  f'<tr class="sub"><th></th><th></th>{"<th>consistent / inconsistent flagged</th>" * len(columns)}'
                  f'</tr></thead><tbody>{body}</tbody></table>') if table.get("rows") else ""
    return (f'<details id="flag-legend"><summary>What a flag means: per sentence, below one threshold per scorer; '
            f'rates per summary; this page\'s own precision and recall</summary>'
            f'<p>{html.escape(table.get("note") or "")}</p><div class="legend-body">{calibrated}'
            f'<div id="page-rates"></div></div><ul>{notes}</ul></details>')


def render_html(data: dict, chart_svg: str | None, title: str) -> str:
    script = (Path(__file__).parent / "report.js").read_text(encoding="utf-8")
    style = (Path(__file__).parent / "report.css").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    csp = (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src data:; "
           f"{CONNECT_OFFLINE}; form-action 'none'; base-uri 'none'")
    chart = ""
    if chart_svg:  # matplotlib's SVG, its text escaped by its writer (no script runs: the page's CSP)
        chart = (f'<details id="chart-panel"><summary>Chart: mean of each metric per run, with 95% CI (a panel '
                 f'per metric, one for every consistency scorer)</summary><figure id="chart" role="img" '
                 f'aria-label="mean of each metric per run, with 95% CI">{chart_svg}</figure></details>')
    filters = "".join(f'<option value="{v}">{html.escape(t)}</option>' for v, t in QUEUE_FILTERS)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1>{html.escape(title)}</h1>
<div id="controls">
<label>Rank by <select id="sort-by"></select></label>
<span id="run-filters"></span>
<label>Editor <input id="editor" type="text" size="10" maxlength="64" placeholder="your name"
autocomplete="off"></label><button id="change-editor" type="button" hidden>change editor</button>
<label>Show <select id="queue-filter">{filters}</select></label>
<input id="search" type="search" placeholder="search" aria-label="search titles and text">
<span id="progress"></span> <span id="queue-count"></span>
<details id="more-controls"><summary>More</summary><div class="more">
<label>Articles <select id="queue-order"><option value="page">in page order</option>
<option value="flags">most flags first</option></select></label>
<span id="pair-controls">Side by side: <select id="pair-a" aria-label="first run"></select>
<select id="pair-b" aria-label="second run"></select></span>
<button id="fold-all" type="button">Fold all</button><button id="unfold-all" type="button">Unfold all</button>
<button id="export" type="button">Export marks</button>
<label class="import">Import marks <input id="import" type="file" accept=".json,application/json"></label>
<p id="help">{html.escape(HELP)}</p></div></details>
</div>
<p id="status" aria-live="polite"></p>
</header>
{_legend_html(data.get("flag_legend") or {}, _flags_on(data))}
{chart}
<main id="articles"></main>
<section id="export-panel" hidden>
<h2>Exported marks</h2>
<p>Saved as a download; also here to copy. Read back with <code>harness compare RUN_DIRS --marks FILE</code>.</p>
<textarea id="marks-json" rows="10" readonly></textarea>
</section>
<script id="report-data" type="application/json">{_json_for_script(data)}</script>
<script>{script}</script>
</body>
</html>
"""


def review_page(page: str) -> str:
    """report.html as ``harness review`` serves it: the same page, allowed to reach its own origin
    (and told where to save marks). The file itself never gets network access."""
    head = '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; script-src'
    start = page.find(head)
    end = page.find(">", start)
    if start < 0 or CONNECT_OFFLINE not in page[start:end]:
        raise ValueError("not a report.html this harness wrote (no Content-Security-Policy it knows): "
                         "rewrite it with `harness compare DIR --out DIR`")
    meta = page[start:end + 1].replace(CONNECT_OFFLINE, CONNECT_REVIEW)
    return page[:start] + meta + "\n" + REVIEW_META + page[end + 1:]


def write_run_html(results: dict, scores: list[dict], directory: Path) -> None:
    """report.html of one run, from its results and scores in memory (written before results.json,
    so a finished run always has its page)."""
    from harness.reports.compare import compare

    run = Run(name=results["run"]["name"], label=results["run"]["name"], key=group_key(results["run"]),
              setup=results["run"]["setup_sha256"],
              results=results, dirs=[str(directory)], scores={row["article_id"]: row["scores"] for row in scores})
    if any(run.values(m) for m in run.metric_info):
        board = compare([run])  # the run's own intervals (results.json); no differences in one run
        write_html_report([run], board, Path(directory) / "report.html")


# Identifiers the page matches on (marks, run filters, sorting) stay exact; every other string is
# shown with its invisible and layout-changing characters made visible (harness/text/visible.py).
EXACT_KEYS = frozenset({"id", "run", "article_id", "runs", "board", "sort_by", "run_key", "sha256", "page_id"})


def page_context(runs: list[Run]) -> list[str]:
    """The data set(s) the runs read (file names) and the day they finished, for the page title."""
    sources = sorted({Path(str((r.results.get("run") or {}).get("data") or "")).name for r in runs} - {""})
    days = sorted({r.finished_at[:10] for r in runs} - {""})
    out = []
    if sources:
        out.append(", ".join(sources) if len(sources) <= 3 else f"{sources[0]} and {len(sources) - 1} more data sets")
    if days:
        out.append(days[-1] if len(days) == 1 else f"{days[0]} to {days[-1]}")
    return out


def write_html_report(runs: list[Run], board: dict, path: Path, title: str | None = None) -> None:
    data = visible_strings(report_data(runs, board), keep_keys=EXACT_KEYS)
    name = title or ("Run report: " + runs[0].label if len(runs) == 1 else f"Comparison of {len(runs)} runs")
    name = " · ".join([name, *page_context(runs)])
    write_text_atomic(Path(path), render_html(data, bar_chart_svg(board), name))
