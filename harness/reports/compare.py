"""Comparing runs: a leaderboard with 95% bootstrap CIs per metric and, for every run, the paired
bootstrap CI of its difference to a reference run over the articles both scored.

Runs are read by harness.results (one row per system output, shards merged, labels from
values); runs from different dates compare as long as their results schema version matches
this harness's. Ranking, verdicts and "better"/"worse" follow each metric's declared direction.
Each run's interval is the one its results.json stores (computed once, with the run's seed and
resample count), so a run shows one interval everywhere; the paired differences are computed by
harness.results.paired_difference, seeded, so the same inputs always print the same table. A difference is
marked significant (*) when its interval excludes 0 and rests on at least two shared articles.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.reports.markdown import escape_md, table
from harness.reports.text import aligned
from harness.results import details
from harness.results.intervals import is_number, paired_difference
from harness.results.marks import ARTICLE_CHANGED, CHANGED, SUMMARY_CHANGED, SummaryRef, place_marks
from harness.results.marks import read_marks as read_marks_file
from harness.results.metric_info import arrow, direction, display_name, headline_metrics, merged_metric_info, rank_value
from harness.results.runs import Run, find_run
from harness.results.schema import SCHEMA_VERSION
from harness.results.sweep import load_runs
from harness.stats.agreement import bootstrap_clusters, cohen_kappa, krippendorff_alpha_nominal, spearman
from harness.stats.bootstrap import CONFIDENCE, N_RESAMPLES
from harness.text.visible import visible

__all__ = ["CompareError", "load_runs", "compare", "check_n_resamples", "read_marks", "agreement_with_marks",
           "marks_review", "flag_rates", "render_markdown", "render_terminal",
           "render_csv", "write_comparison"]


class CompareError(HarnessError):
    """The runs cannot be compared as asked (unknown metric or reference, no resamples)."""


MAX_RESAMPLES = 1_000_000  # resamples x articles indices are held at once (8 bytes each)


def check_n_resamples(n_resamples) -> None:
    """``--n-resamples`` is an integer from 1 to MAX_RESAMPLES (the bootstrap holds all resamples at once)."""
    if not isinstance(n_resamples, int) or isinstance(n_resamples, bool):
        raise CompareError(f"--n-resamples must be an integer, got {n_resamples!r}")
    if n_resamples < 1:
        raise CompareError(f"--n-resamples must be at least 1 (got {n_resamples}); 10000 is the default")
    if n_resamples > MAX_RESAMPLES:
        raise CompareError(f"--n-resamples must be at most {MAX_RESAMPLES:,} (got {n_resamples:,}): the bootstrap "
                           "holds every resample in memory; 10000 is the default")


def read_marks(path) -> list[dict]:
    """The editors' marks of ``--marks PATH`` (`harness.results.marks.read_marks_file`: any version,
    or report.html's export); a problem is one error naming the option and the file."""
    return read_marks_file(path, where=f"--marks {path}")


def compare(runs: list[Run], metrics: list[str] | None = None, sort_by: str | None = None,
            reference: str | None = None, *, seed: int = 0, n_resamples: int = N_RESAMPLES) -> dict:
    """The comparison table: rows ranked by ``sort_by`` in its own direction; per metric the mean,
    CI (each run's own, as its results.json stores it: ``Run.interval``), n and the paired
    difference to the reference run (default: the top row; ``harness.results.paired_difference``,
    seeded by ``seed``, ``n_resamples`` resamples); one verdict line per metric; warnings when the
    runs cover different articles."""
    check_n_resamples(n_resamples)
    info = merged_metric_info(runs)
    available = [m for m in info if any(r.values(m) for r in runs)]
    if not available:
        raise CompareError("no run has a score to compare (no completed run scored an article)")
    sort_by = sort_by or next((m for m in headline_metrics(info) if m in available), available[0])
    if sort_by not in available:
        raise CompareError(f"cannot sort by {sort_by!r}: no run has it; metrics here: {', '.join(available)}")
    unknown = [m for m in metrics or [] if m not in available]
    if unknown:
        raise CompareError(f"no run has {', '.join(map(repr, unknown))}; metrics here: {', '.join(available)}")
    metrics = list(metrics or [m for m in headline_metrics(info) if m in available])
    if sort_by not in metrics:
        metrics.insert(0, sort_by)
    rows = []
    for run in runs:
        row = {"name": run.label, "dirs": run.dirs, "n_articles": run.n_articles, "metrics": {}}
        for metric in metrics:
            interval = run.interval(metric)  # the run's own, from its results.json
            if interval is not None:
                row["metrics"][metric] = {"mean": interval.mean, "ci95": [interval.low, interval.high],
                                          "n": interval.n}
        rows.append(row)
    rows.sort(key=lambda r: rank_value(info, sort_by, (r["metrics"].get(sort_by) or {}).get("mean")))
    by_label = {r.label: r for r in runs}
    reference_run = find_run(runs, reference) if reference else by_label[rows[0]["name"]]
    for row in rows:
        if row["name"] == reference_run.label:
            continue
        for metric, stats in row["metrics"].items():
            diff = paired_difference(by_label[row["name"]], reference_run, metric, seed=seed, n_resamples=n_resamples)
            if diff is None:
                continue
            # One shared article is a point, not a sample: no claim of significance from it.
            significant = diff.n >= 2 and (diff.low > 0 or diff.high < 0)
            higher = direction(info, metric)
            stats["difference"] = {"mean": diff.mean, "ci95": [diff.low, diff.high], "n": diff.n,
                                   "significant": significant,
                                   "better": None if not significant or higher is None else (diff.mean > 0) == higher}
    board = {"schema_version": SCHEMA_VERSION, "sort_by": sort_by, "reference": reference_run.label,
             "metrics": metrics, "metric_info": {m: info[m] for m in metrics}, "confidence": CONFIDENCE,
             # n_resamples and seed: of the paired differences (each run's CI is its own, from results.json)
             "n_resamples": n_resamples, "seed": seed, "rows": rows, "warnings": coverage_warnings(runs)}
    board["verdicts"] = verdicts(board)
    return board


def coverage_warnings(runs: list[Run]) -> list[str]:
    """Say so when the runs did not score the same articles: their means are over different sets."""
    sets = {r.label: frozenset(r.scores) for r in runs}
    if len(set(sets.values())) <= 1:
        return []
    common = frozenset.intersection(*sets.values())
    listed = ", ".join(f"{label}: {len(ids)}" for label, ids in sets.items())
    return [f"the runs cover different articles ({listed}; {len(common)} in common): their means are over "
            "different sets; differences to the reference use only the articles both scored"]


def verdicts(board: dict) -> list[str]:
    """One line per metric: its direction, the best run, and how the others differ from the reference."""
    info, lines = board["metric_info"], []
    for metric in board["metrics"]:
        higher = direction(info, metric)
        scored = [r for r in board["rows"] if metric in r["metrics"]]
        name = f"{display_name(info, metric)} [{metric}]"
        if higher is None:
            means = [r["metrics"][metric]["mean"] for r in scored]
            lines.append(f"{name}: no better direction; means from {min(means):.4f} to {max(means):.4f}")
            continue
        best = min(scored, key=lambda r: rank_value(info, metric, r["metrics"][metric]["mean"]))
        diffs = [r["metrics"][metric].get("difference") for r in scored if r["name"] != board["reference"]]
        diffs = [d for d in diffs if d]
        better = sum(d["better"] is True for d in diffs)
        worse = sum(d["better"] is False for d in diffs)
        few = [d for d in diffs if d["n"] < 2]
        lines.append(f"{name} ({'higher' if higher else 'lower'} is better): best {best['name']} "
                     f"{best['metrics'][metric]['mean']:.4f}; against {board['reference']}: {better} significantly "
                     f"better, {worse} significantly worse, {len(diffs) - better - worse} not distinguishable"
                     + (f" ({len(few)} on a single shared article, which cannot show a difference)" if few else ""))
    return lines


def _flagged(verdict: dict) -> bool:
    """A scorer flags a sentence when it says so (``flagged``); older runs have only ``supported``
    (the page's rule, harness/reports/html.py)."""
    flagged = verdict.get("flagged")
    return bool(flagged) if flagged is not None else not verdict.get("supported", True)


def agreement_with_marks(runs: list[Run], marks: list, metrics: list[str], *, seed: int = 0,
                         n_resamples: int = 1000) -> dict:
    """Spearman correlation, per metric, between its per-summary score and the editors' marks
    (accept = 1, reject = 0) over the marked summaries of these runs, with a 95% bootstrap interval
    (``ci95``) that resamples articles (all marked summaries of one article together; seeded).
    Each summary counts once (``n`` is the number of marked summaries): one mark per editor (their
    last one), and a summary several editors marked takes the share of them that accepted it. A
    mark of a summary or article that changed since it was made is left out (`place_marks`)."""
    by_label = {r.label: r for r in runs}
    votes: dict[tuple, list[float]] = {}
    refs: dict[tuple, SummaryRef] = {}
    for ref, mark in place_marks(runs, marks)[0]:
        if mark["mark"] in ("accept", "reject"):
            votes.setdefault(ref.key, []).append(1.0 if mark["mark"] == "accept" else 0.0)
            refs[ref.key] = ref
    labelled = [(refs[key], sum(v) / len(v)) for key, v in votes.items()]
    out = {}
    for metric in metrics:
        scored = [(ref.article_id, by_label[ref.run].scores[ref.article_id].get(metric), y) for ref, y in labelled]
        scored = [(a, float(x), y) for a, x, y in scored if is_number(x)]
        pairs = [(x, y) for _, x, y in scored]
        rho = spearman([x for x, _ in pairs], [y for _, y in pairs]) if len(pairs) > 2 else float("nan")
        out[metric] = {"spearman": None if np.isnan(rho) else rho, "n": len(pairs), "ci95": None}
        by_article: dict[str, list] = {}
        for a, x, y in scored:
            by_article.setdefault(a, []).append((x, y))
        if not np.isnan(rho) and len(by_article) > 1:
            def statistic(clusters):
                flat = [pair for cluster in clusters for pair in cluster]
                return spearman([x for x, _ in flat], [y for _, y in flat])

            _, low, high = bootstrap_clusters(list(by_article.values()), statistic, n_resamples=n_resamples, seed=seed)
            out[metric]["ci95"] = None if np.isnan(low) else [low, high]
    return out


def flag_precision(runs: list[Run], placed: list[tuple[SummaryRef, dict]]) -> dict[str, dict]:
    """`flag_rates` of the flags in the runs' scores (``flagged``), never in the mark."""
    by_label = {r.label: r for r in runs}

    def flags(ref: SummaryRef) -> dict[str, list]:
        return {scorer: [_flagged(v) if isinstance(v, dict) else None for v in sentences]
                for scorer, sentences in details.sentences(by_label[ref.run].scores.get(ref.article_id, {})).items()}

    return flag_rates(placed, flags)


def flag_rates(placed: list[tuple[SummaryRef, dict]], flags) -> dict[str, dict]:
    """Per consistency scorer, its flags against the editors' sentence verdicts: ``precision``,
    the share of the flagged sentences editors judged that they judged unsupported (``n_flagged``
    of them), and, where editors judged sentences it did not flag, ``recall``, the share of the
    sentences judged unsupported that it flagged (``n_unsupported`` of them; None where no
    unflagged sentence was judged). Each sentence counts once, as the share of its editors who
    judged it unsupported. ``flags(ref)``: scorer -> per sentence of that summary, whether it
    flagged it (None: no verdict) — from the runs' scores (`flag_precision`, ``compare --marks``)
    or from the page's data (``harness review``: the page measures itself)."""
    judged: dict[tuple, dict[str, str]] = {}  # (summary, sentence index) -> editor -> verdict
    refs: dict[tuple, SummaryRef] = {}
    for ref, mark in placed:
        for s in mark["sentences"]:
            judged.setdefault((ref.key, s["index"]), {})[mark["editor"]] = s["verdict"]
            refs[(ref.key, s["index"])] = ref
    totals: dict[str, dict] = {}
    for (key, index), verdicts in judged.items():
        ref = refs[(key, index)]
        unsupported = sum(v == "unsupported" for v in verdicts.values()) / len(verdicts)
        for scorer, flagged in flags(ref).items():
            if index >= len(flagged) or flagged[index] is None:
                continue
            t = totals.setdefault(scorer, {"flagged": [], "unflagged": []})
            t["flagged" if flagged[index] else "unflagged"].append(unsupported)
    out = {}
    for scorer, t in sorted(totals.items()):
        flagged, unflagged = t["flagged"], t["unflagged"]
        caught, missed = sum(flagged), sum(unflagged)
        recall = caught / (caught + missed) if unflagged and caught + missed > 0 else None
        out[scorer] = {"n_flagged": len(flagged), "precision": sum(flagged) / len(flagged) if flagged else None,
                       "n_judged": len(flagged) + len(unflagged),
                       "n_unsupported": sum(u > 0 for u in flagged + unflagged), "recall": recall}
    return out


def editor_agreement(placed: list[tuple[SummaryRef, dict]]) -> dict | None:
    """With two or more editors' accept/reject marks: Cohen's kappa per pair of editors over the
    summaries both marked (``n``), and Krippendorff's alpha (nominal) over every editor and
    summary; None with fewer than two editors."""
    marks: dict[str, dict[tuple, str]] = {}
    for ref, mark in placed:
        if mark["mark"] in ("accept", "reject"):
            marks.setdefault(mark["editor"], {})[ref.key] = mark["mark"]
    if len(marks) < 2:
        return None
    editors = sorted(marks)
    pairs = []
    for i, a in enumerate(editors):
        for b in editors[i + 1:]:
            common = sorted(set(marks[a]) & set(marks[b]))
            kappa = cohen_kappa([marks[a][k] for k in common], [marks[b][k] for k in common]) if common else None
            pairs.append({"editors": [a, b], "n": len(common),
                          "kappa": None if kappa is None or np.isnan(kappa) else kappa})
    units: dict[tuple, list[str]] = {}
    for editor in editors:
        for key, choice in marks[editor].items():
            units.setdefault(key, []).append(choice)
    alpha = krippendorff_alpha_nominal(list(units.values()))
    return {"editors": editors, "marked": {e: len(marks[e]) for e in editors}, "pairs": pairs,
            "alpha": None if np.isnan(alpha) else alpha, "n_summaries": sum(len(u) >= 2 for u in units.values())}


def marks_review(runs: list[Run], marks: list) -> dict:
    """What the editors' marks say beyond the agreement with metrics: how many were placed, how
    many were left out because their summary or article changed since the mark (with the
    warning to print), each scorer's flag precision (`flag_precision`) and the editors' agreement
    with each other (`editor_agreement`)."""
    placed, reasons = place_marks(runs, marks)
    changed = {r: reasons.get(r, 0) for r in CHANGED}
    warnings = []
    if sum(changed.values()):
        n = sum(changed.values())
        warnings.append(f"{n} of the editors' marks name{'s' if n == 1 else ''} summaries or articles that changed "
                        f"since {'it was' if n == 1 else 'they were'} made ({changed[SUMMARY_CHANGED]} summary "
                        f"changed, {changed[ARTICLE_CHANGED]} article changed): left out of the agreement and flag "
                        "figures")
    return {"placed": len(placed), "left_out": changed,
            "elsewhere": sum(n for r, n in reasons.items() if r not in CHANGED),
            "flags": flag_precision(runs, placed), "editors": editor_agreement(placed), "warnings": warnings}


def _rho(a: dict) -> str:
    """Spearman with its interval, as the tables print it."""
    if a["spearman"] is None:
        return "–"
    ci = a.get("ci95")
    return f"{a['spearman']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def _cell(stats: dict | None, reference: bool) -> tuple[str, str]:
    if not stats:
        return "–", "–"
    value = f"{stats['mean']:.4f} [{stats['ci95'][0]:.4f}, {stats['ci95'][1]:.4f}]"
    if reference:
        return value, "(reference)"
    d = stats.get("difference")
    if not d:
        return value, "–"
    mark = {True: " * better", False: " * worse", None: " *"}[d["better"]] if d["significant"] else ""
    return value, f"{d['mean']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]{mark}"


def _grid(board: dict) -> tuple[list[str], list[list[str]]]:
    info = board["metric_info"]
    header = ["rank", "run"]
    for metric in board["metrics"]:
        name = f"{display_name(info, metric)} {arrow(info, metric)}".strip()
        header += [name, f"Δ {name}"]
    header.append("articles")
    body = []
    for i, row in enumerate(board["rows"], 1):
        cells = [str(i), row["name"]]
        for metric in board["metrics"]:
            cells += _cell(row["metrics"].get(metric), row["name"] == board["reference"])
        body.append([*cells, str(row["n_articles"])])
    return header, body


def _title(board: dict) -> str:
    info = board["metric_info"]
    return (f"Comparison, ranked by {display_name(info, board['sort_by'])} [{board['sort_by']}]; Δ: paired "
            f"difference to {board['reference']}, 95% bootstrap CI; * the interval excludes 0 (better or worse "
            "by the metric's direction: ↑ higher is better, ↓ lower is better)")


def _share(value, n) -> str:
    return "–" if value is None else f"{value:.3f} (n={n})"


def _flag_rows(review: dict) -> list[list[str]]:
    return [[scorer, _share(f["precision"], f["n_flagged"]), _share(f["recall"], f["n_unsupported"]),
             str(f["n_judged"])] for scorer, f in review["flags"].items()]


FLAG_HEADER = ["scorer", "precision: flagged sentences judged unsupported", "recall: judged-unsupported sentences "
               "flagged", "sentences judged"]


MAX_PAIR_LINES = 20  # pairs of editors shown one per line; 61 editors make 1,830 pairs


def _editor_lines(editors: dict, name=visible) -> list[str]:
    """The editors' agreement: one line per pair that marked a summary in common (at most
    ``MAX_PAIR_LINES``, then how many more), one counting the pairs with none, one for all;
    ``name`` shows an editor's name."""
    shared = [p for p in editors["pairs"] if p["n"]]
    lines = [f"Cohen's kappa, {name(a or '(unnamed)')} and {name(b or '(unnamed)')}: "
             + ("–" if p["kappa"] is None else f"{p['kappa']:.3f}") + f" over {p['n']} summaries both marked"
             for p in shared[:MAX_PAIR_LINES] for a, b in [p["editors"]]]
    if len(shared) > MAX_PAIR_LINES:
        lines.append(f"… and {len(shared) - MAX_PAIR_LINES} more pairs of editors (not shown)")
    if len(shared) < len(editors["pairs"]):
        lines.append(f"{len(editors['pairs']) - len(shared)} of {len(editors['pairs'])} pairs of editors marked no "
                     "summary in common: no kappa for them")
    alpha = "–" if editors["alpha"] is None else f"{editors['alpha']:.3f}"
    lines.append(f"Krippendorff's alpha (nominal), {len(editors['editors'])} editors: {alpha} over "
                 f"{editors['n_summaries']} summaries marked by two or more")
    return lines


def render_markdown(board: dict, agreement: dict | None = None, review: dict | None = None) -> str:
    header, body = _grid(board)
    lines = [f"# {escape_md(_title(board))}", "",
             table([escape_md(h) for h in header], [[escape_md(c) for c in row] for row in body]), "",
             "## Verdicts", "", *[f"- {escape_md(v)}" for v in board["verdicts"]]]
    if board["warnings"]:
        lines += ["", *[f"**Warning:** {escape_md(w)}" for w in board["warnings"]]]
    if agreement:
        lines += ["", "## Agreement with the editors' marks", "",
                  table(["metric", "Spearman [95% CI]", "n"], [[escape_md(m), _rho(a), str(a["n"])]
                                                                for m, a in agreement.items()])]
    if review and review["flags"]:
        lines += ["", "## Flags against the editors' sentence verdicts", "",
                  table([escape_md(h) for h in FLAG_HEADER],
                        [[escape_md(row[0]), *row[1:]] for row in _flag_rows(review)])]
    if review and review["editors"]:
        lines += ["", "## Agreement between editors", "",
                  *[f"- {x}" for x in _editor_lines(review["editors"], escape_md)]]
    return "\n".join(lines) + "\n"


def render_terminal(board: dict, agreement: dict | None = None, review: dict | None = None) -> str:
    header, body = _grid(board)
    lines = [visible(_title(board)), aligned(header, body), "", *map(visible, board["verdicts"])]
    lines += [f"warning: {visible(w)}" for w in board["warnings"]]
    if agreement:
        lines += ["", "agreement with the editors' marks (Spearman [95% CI, articles resampled], n):"]
        for metric, a in agreement.items():
            rho = _rho(a)
            lines.append(f"  {visible(metric)}: {rho} (n={a['n']})")
    if review and review["flags"]:
        lines += ["", "flags against the editors' sentence verdicts:",
                  aligned(FLAG_HEADER, [[visible(c) for c in row] for row in _flag_rows(review)])]
    if review and review["editors"]:
        lines += ["", "agreement between editors:", *[f"  {x}" for x in _editor_lines(review["editors"])]]
    return "\n".join(lines) + "\n"


def render_csv(board: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rank", "run", "metric", "higher_is_better", "mean", "ci95_low", "ci95_high", "n", "diff_mean",
                     "diff_low", "diff_high", "significant", "better", "reference"])
    for i, row in enumerate(board["rows"], 1):
        for metric, s in row["metrics"].items():
            d = s.get("difference") or {}
            writer.writerow([i, row["name"], metric, direction(board["metric_info"], metric), s["mean"], *s["ci95"],
                             s["n"], d.get("mean"), *(d.get("ci95") or [None, None]), d.get("significant"),
                             d.get("better"), board["reference"]])
    return out.getvalue()


def write_comparison(directory: Path, sort_by: str | None = None, *, paths=None, metrics=None,
                     reference: str | None = None, agreement: dict | None = None, runs=None, board=None,
                     review: dict | None = None) -> dict:
    """compare.md, compare.csv, compare.json and report.html in ``directory`` for the runs under
    ``paths`` (default: ``directory`` itself, a sweep)."""
    from harness.io import write_json_atomic, write_text_atomic
    from harness.reports.html import write_html_report

    directory = Path(directory)
    runs = runs or load_runs(paths or [directory]).runs
    board = board or compare(runs, metrics, sort_by, reference)
    write_text_atomic(directory / "compare.md", render_markdown(board, agreement, review))
    write_text_atomic(directory / "compare.csv", render_csv(board))
    write_json_atomic(directory / "compare.json", board)
    write_html_report(runs, board, directory / "report.html")
    return board
