"""Comparing runs: a leaderboard with 95% bootstrap CIs per metric and, for every run, the paired
bootstrap CI of its difference to a reference run over the articles both scored.

Runs come from run directories or sweep directories (every job's results.json); runs with the
same identity on the same articles are one row. Runs from different dates compare as long as
their results schema version matches this harness's; a mismatch is an error that says so.
Every interval is seeded, so the same inputs always print the same table. A difference is
marked significant (*) when its interval excludes 0 and rests on at least two shared articles.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.io import read_jsonl
from harness.reports.leaderboard import group_key
from harness.reports.markdown import escape_md, table
from harness.run import SCHEMA_VERSION
from harness.stats.agreement import spearman
from harness.stats.bootstrap import bootstrap_mean, paired_difference

HEADLINE = ("rouge/rougeLsum_f", "bertscore/f", "coverage/bullet_recall@lexical", "coverage/bullet_recall@semantic",
            "consistency/score@embedding", "consistency/score@entity")


class CompareError(HarnessError):
    """The runs cannot be compared (missing, incomplete, other schema version)."""


def run_dirs(path: Path) -> list[Path]:
    path = Path(path)
    if (path / "results.json").is_file():
        return [path]
    found = sorted((p.parent for p in path.glob("*/results.json")),
                   key=lambda p: (0, int(p.name), "") if p.name.isdigit() else (1, 0, p.name))
    if not found:
        raise CompareError(f"{path}: no run here (no results.json in it or in its subdirectories)")
    return found


def load_runs(paths: list[str | Path]) -> list[dict]:
    """Completed runs under ``paths``, one per distinct (identity, articles); failed ones are skipped
    with their error kept in ``failed``."""
    runs, seen = [], {}
    for path in paths:
        for directory in run_dirs(Path(path)):
            results = json.loads((directory / "results.json").read_text(encoding="utf-8"))
            version = results.get("schema_version")
            if version != SCHEMA_VERSION:
                raise CompareError(f"{directory}: results schema version {version!r} differs from this harness's "
                                   f"{SCHEMA_VERSION!r}; runs compare only within one schema version (rerun it)")
            if results.get("status") != "completed":
                continue
            key = group_key(results["run"])
            scores = {row["article_id"]: row["scores"] for row in read_jsonl(directory / "scores.jsonl")}
            if key in seen:  # the same run again, or another shard of its evaluation set
                seen[key]["dirs"].append(str(directory))
                seen[key]["scores"].update(scores)
                continue
            entry = {"name": results["run"]["name"], "dirs": [str(directory)], "results": results, "scores": scores}
            seen[key] = entry
            runs.append(entry)
    if not runs:
        raise CompareError(f"no completed run under {', '.join(map(str, paths))}")
    names = [r["name"] for r in runs]
    for i, run in enumerate(runs):  # the same name on other articles or weights: tell them apart
        if names.count(run["name"]) > 1:
            run["name"] = f"{run['name']} [{Path(run['dirs'][0]).name}]"
            names[i] = run["name"]
    return runs


def _values(run: dict, metric: str) -> dict[str, float]:
    return {a: float(s[metric]) for a, s in run["scores"].items()
            if isinstance(s.get(metric), (int, float)) and not isinstance(s.get(metric), bool)}


def compare(runs: list[dict], metrics: list[str] | None = None, sort_by: str = "rouge/rougeLsum_f",
            reference: str | None = None, *, seed: int = 0, n_resamples: int = 10_000) -> dict:
    """The comparison table: rows sorted by ``sort_by``; per metric mean, CI, n and the paired
    difference to the reference run (default: the top row)."""
    available = {m for r in runs for s in r["scores"].values() for m, v in s.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)}
    metrics = [m for m in (metrics or HEADLINE) if m in available]
    if sort_by not in available:
        raise CompareError(f"cannot sort by {sort_by!r}: no run has it; metrics here: {', '.join(sorted(available))}")
    if sort_by not in metrics:
        metrics.insert(0, sort_by)
    rows = []
    for run in runs:
        row = {"name": run["name"], "dirs": run["dirs"], "n_articles": len(run["scores"]), "metrics": {}}
        for metric in metrics:
            values = _values(run, metric)
            if values:
                interval = bootstrap_mean(list(values.values()), seed=seed, n_resamples=n_resamples)
                row["metrics"][metric] = {"mean": interval.mean, "ci95": [interval.low, interval.high],
                                          "n": interval.n}
        rows.append(row)
    rows.sort(key=lambda r: -r["metrics"].get(sort_by, {"mean": float("-inf")})["mean"])
    reference = reference or rows[0]["name"]
    by_name = {r["name"]: r for r in runs}
    if reference not in by_name:
        raise CompareError(f"reference run {reference!r} is not among the runs: {', '.join(by_name)}")
    for row in rows:
        for metric, stats in row["metrics"].items():
            ours, theirs = _values(by_name[row["name"]], metric), _values(by_name[reference], metric)
            common = sorted(set(ours) & set(theirs))
            if row["name"] == reference or not common:
                continue
            diff = paired_difference([ours[a] for a in common], [theirs[a] for a in common], seed=seed,
                                     n_resamples=n_resamples)
            # One shared article is a point, not a sample: no claim of significance from it.
            stats["difference"] = {"mean": diff.mean, "ci95": [diff.low, diff.high], "n": diff.n,
                                   "significant": diff.n >= 2 and (diff.low > 0 or diff.high < 0)}
    return {"schema_version": SCHEMA_VERSION, "sort_by": sort_by, "reference": reference, "metrics": metrics,
            "confidence": 0.95, "n_resamples": n_resamples, "seed": seed, "rows": rows}


def agreement_with_marks(runs: list[dict], marks: list[dict], metrics: list[str]) -> dict:
    """Spearman correlation, per metric, between its per-summary score and the editors' marks
    (accept = 1, reject = 0) over the marked summaries of these runs."""
    by_name = {r["name"]: r for r in runs}
    labelled = [(m["run"], m["article_id"], 1.0 if m["mark"] == "accept" else 0.0) for m in marks
                if m.get("mark") in ("accept", "reject") and m.get("run") in by_name
                and m.get("article_id") in by_name[m["run"]]["scores"]]
    out = {}
    for metric in metrics:
        pairs = [(by_name[r]["scores"][a].get(metric), y) for r, a, y in labelled]
        pairs = [(float(x), y) for x, y in pairs if isinstance(x, (int, float))]
        rho = spearman([x for x, _ in pairs], [y for _, y in pairs]) if len(pairs) > 2 else float("nan")
        out[metric] = {"spearman": None if np.isnan(rho) else rho, "n": len(pairs)}
    return out


def _cell(stats: dict | None, reference: bool) -> tuple[str, str]:
    if not stats:
        return "–", "–"
    value = f"{stats['mean']:.4f} [{stats['ci95'][0]:.4f}, {stats['ci95'][1]:.4f}]"
    if reference:
        return value, "(reference)"
    d = stats.get("difference")
    if not d:
        return value, "–"
    return value, f"{d['mean']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]{' *' if d['significant'] else ''}"


def _grid(board: dict) -> tuple[list[str], list[list[str]]]:
    header = ["rank", "run"]
    for metric in board["metrics"]:
        header += [metric, f"Δ {metric}"]
    header.append("articles")
    body = []
    for i, row in enumerate(board["rows"], 1):
        cells = [str(i), row["name"]]
        for metric in board["metrics"]:
            cells += _cell(row["metrics"].get(metric), row["name"] == board["reference"])
        body.append([*cells, str(row["n_articles"])])
    return header, body


def render_markdown(board: dict, agreement: dict | None = None) -> str:
    header, body = _grid(board)
    lines = [f"# Comparison (sorted by {escape_md(board['sort_by'])}; Δ: paired difference to "
             f"{escape_md(board['reference'])}, 95% bootstrap CI, * significant)", "",
             table([escape_md(h) for h in header], [[escape_md(c) for c in row] for row in body])]
    if agreement:
        lines += ["", "## Agreement with the editors' marks", "",
                  table(["metric", "Spearman", "n"], [[escape_md(m), "–" if a["spearman"] is None else
                                                       f"{a['spearman']:.3f}", str(a["n"])]
                                                      for m, a in agreement.items()])]
    return "\n".join(lines) + "\n"


def render_terminal(board: dict, agreement: dict | None = None) -> str:
    header, body = _grid(board)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = [f"sorted by {board['sort_by']}; Δ = paired difference to {board['reference']} (95% CI, * significant)",
             "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    if agreement:
        lines += ["", "agreement with the editors' marks (Spearman, n):"]
        for metric, a in agreement.items():
            rho = "–" if a["spearman"] is None else f"{a['spearman']:.3f}"
            lines.append(f"  {metric}: {rho} (n={a['n']})")
    return "\n".join(lines) + "\n"


def render_csv(board: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rank", "run", "metric", "mean", "ci95_low", "ci95_high", "n", "diff_mean", "diff_low",
                     "diff_high", "significant", "reference"])
    for i, row in enumerate(board["rows"], 1):
        for metric, s in row["metrics"].items():
            d = s.get("difference") or {}
            writer.writerow([i, row["name"], metric, s["mean"], *s["ci95"], s["n"], d.get("mean"),
                             *(d.get("ci95") or [None, None]), d.get("significant"), board["reference"]])
    return out.getvalue()


def write_comparison(directory: Path, sort_by: str = "rouge/rougeLsum_f", *, paths=None, metrics=None,
                     reference: str | None = None, agreement: dict | None = None, runs=None, board=None) -> dict:
    """compare.md, compare.csv, compare.json and report.html in ``directory`` for the runs under
    ``paths`` (default: ``directory`` itself, a sweep)."""
    from harness.io import write_json_atomic, write_text_atomic
    from harness.reports.html import write_html_report

    directory = Path(directory)
    runs = runs or load_runs(paths or [directory])
    board = board or compare(runs, metrics, sort_by, reference)
    write_text_atomic(directory / "compare.md", render_markdown(board, agreement))
    write_text_atomic(directory / "compare.csv", render_csv(board))
    write_json_atomic(directory / "compare.json", board)
    write_html_report(runs, board, directory / "report.html")
    return board
