"""The leaderboard over a sweep's runs, whatever the launcher: one row per system output (runs
grouped and shards merged by harness.results), the metrics' headline columns, ranked by one
metric in its own direction. Failed runs are listed with their error."""

from __future__ import annotations

from pathlib import Path

from harness.calibration.record import drift_lines
from harness.io import write_json_atomic, write_text_atomic
from harness.reports.markdown import escape_md, table
from harness.reports.text import aligned
from harness.results.metric_info import arrow, default_sort, display_name, headline_metrics, rank_value
from harness.results.runs import RunSet
from harness.results.sweep import load_runs


def build_leaderboard(runset: RunSet, sort_by: str | None = None) -> dict:
    info = runset.metric_info()
    if sort_by and sort_by not in info:
        from harness.results.schema import ResultsError

        raise ResultsError(f"--sort-by {sort_by!r}: no run here has it; metrics here: "
                           f"{', '.join(info) or 'none (no completed run)'}")
    sort_by = sort_by or (default_sort(info) if info else None)
    rows = [{"name": r.label, "dirs": r.dirs, "metrics": {m: r.mean(m) for m in info if r.mean(m) is not None},
             "n_articles": r.n_articles, "generation": r.generation, "shards": r.shards,
             "calibration": (r.results.get("calibration") or {}).get("name"),
             "calibration_warnings": drift_lines(r.results)} for r in runset.runs]
    if sort_by:
        rows.sort(key=lambda row: rank_value(info, sort_by, row["metrics"].get(sort_by)))
    columns = headline_metrics(info)
    if sort_by and sort_by not in columns:
        columns.insert(0, sort_by)
    return {"sort_by": sort_by, "columns": columns, "metric_info": {m: info[m] for m in columns if m in info},
            "rows": rows, "failed": runset.failed}


def _cells(board: dict) -> tuple[list[str], list[list[str]]]:
    info = board["metric_info"]
    header = ["rank", "run", *(f"{display_name(info, c)} {arrow(info, c)}".strip() for c in board["columns"]),
              "articles", "jobs"]
    body = [[str(i), r["name"], *(f"{r['metrics'][c]:.4f}" if c in r["metrics"] else "–" for c in board["columns"]),
             str(r["n_articles"]), ", ".join(Path(d).name for d in r["dirs"])]
            for i, r in enumerate(board["rows"], 1)]
    return header, body


def _title(board: dict) -> str:
    sort_by = board["sort_by"]
    if not sort_by:
        return "Leaderboard (no completed run)"
    info = board["metric_info"]
    way = {True: "higher is better", False: "lower is better"}.get(info.get(sort_by, {}).get("higher_is_better"),
                                                                     "no better direction")
    return f"Leaderboard (ranked by {display_name(info, sort_by)} [{sort_by}], {way})"


def render_markdown(board: dict) -> str:
    header, body = _cells(board)
    text = [f"# {escape_md(_title(board))}", "", table([escape_md(h) for h in header],
                                                       [[escape_md(c) for c in row] for row in body])]
    if board["failed"]:
        text += ["", "## Failed jobs", ""]
        text += [f"- {escape_md(Path(f['dir']).name)} {escape_md(str(f['name']))}: "
                 f"{escape_md(str(f['error']))}" for f in board["failed"]]
    warnings = _calibration_warnings(board)
    if warnings:
        text += ["", "## Calibration warnings", ""] + [f"- {escape_md(w)}" for w in warnings]
    return "\n".join(text) + "\n"


def _calibration_warnings(board: dict) -> list[str]:
    """Per run, the scorers whose calibrated thresholds do not fit its data (harness.calibration.drift)."""
    return [f"{row['name']}: {w}" for row in board["rows"] for w in row.get("calibration_warnings") or []]


def render_terminal(board: dict) -> str:
    header, body = _cells(board)
    text = [_title(board), aligned(header, body)]
    warnings = _calibration_warnings(board)
    if warnings:
        text += ["", "calibration warnings:"] + [f"  {w}" for w in warnings]
    if board["failed"]:
        text += ["", "failed jobs:"] + [f"  {Path(f['dir']).name} {f['name']}: {f['error']}" for f in board["failed"]]
    return "\n".join(text) + "\n"


def write_leaderboard(paths, sort_by: str | None = None, *, out: Path | None = None) -> tuple[dict, str]:
    """The leaderboard of the runs under ``paths`` (a sweep directory, or a list of sweep and run
    directories): leaderboard.md and leaderboard.json in ``out`` (default: the directory, when one
    is given alone; with ``out=None`` and a list, nothing is written). Returns the board and its
    terminal text."""
    if isinstance(paths, (str, Path)):
        paths, out = [Path(paths)], Path(out or paths)
    board = build_leaderboard(load_runs(list(paths)), sort_by)
    if out is not None:
        write_text_atomic(Path(out) / "leaderboard.md", render_markdown(board))
        write_json_atomic(Path(out) / "leaderboard.json", board)
    return board, render_terminal(board)
