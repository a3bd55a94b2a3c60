"""The leaderboard over a sweep's runs: read every job's ``results.json``, whatever the launcher.

Runs with the same identity (same system output on the same articles, e.g. lead-3 under two
decoding presets, which it ignores) are one row, listing their job directories. Shards of one
evaluation set (``data.shard`` of ``data.num_shards``) run by the same system are merged into one
row: its means weigh each shard by its number of articles, so they equal the means over all
articles. Failed runs are listed with their error.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.io import write_json_atomic, write_text_atomic
from harness.reports.markdown import escape_md, table

DEFAULT_COLUMNS = ("rouge/rouge1_f", "rouge/rouge2_f", "rouge/rougeLsum_f", "bertscore/f",
                   "coverage/bullet_recall@lexical", "coverage/bullet_recall@semantic",
                   "coverage/bullet_recall@entailment", "consistency/score@embedding", "consistency/score@entity")


def collect_runs(sweep_dir: Path) -> list[dict]:
    """Every run's results.json under ``sweep_dir`` (the sweep's job subdirectories)."""
    runs = []
    for path in sorted(Path(sweep_dir).glob("*/results.json"), key=lambda p: _job_order(p.parent.name)):
        results = json.loads(path.read_text(encoding="utf-8"))
        results["_dir"] = str(path.parent)
        runs.append(results)
    return runs


def _job_order(name: str):
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def build_leaderboard(runs: list[dict], sort_by: str) -> dict:
    rows, failed, seen = [], [], {}
    for results in runs:
        if results.get("status") != "completed":
            failed.append({"dir": results["_dir"], "name": results.get("run", {}).get("name"),
                           "error": results.get("error")})
            continue
        key = group_key(results["run"])
        if key in seen:
            row = seen[key]
            if results["run"].get("shard") not in row["shards"]:
                _merge_shard(row, results)
            row["dirs"].append(results["_dir"])
            continue
        row = {"name": results["run"]["name"], "dirs": [results["_dir"]], "metrics": dict(results["metrics"]),
               "n_articles": results["run"]["n_articles"], "generation": dict(results["generation"]),
               "shards": [results["run"].get("shard")],
               "_n": {m: s["n"] for m, s in results.get("metric_stats", {}).items()}}
        seen[key] = row
        rows.append(row)
    for row in rows:
        row.pop("_n")
    rows.sort(key=lambda r: -r["metrics"].get(sort_by, float("-inf")))
    return {"sort_by": sort_by, "rows": rows, "failed": failed}


def group_key(run: dict) -> tuple:
    """Runs with equal keys are one row: the same system output on the same articles, or on
    shards of the same evaluation set."""
    shard = run.get("shard") or [0, 1]
    if shard[1] > 1:
        return run["identity_sha256"], "shards", run["data_source_sha256"]
    return run["identity_sha256"], run["data_sha256"]


def _merge_shard(row: dict, results: dict) -> None:
    """Fold another shard's results into ``row``: means weighted by each metric's n."""
    for metric, stats in results.get("metric_stats", {}).items():
        n_old, n_new = row["_n"].get(metric, 0), stats["n"]
        old = row["metrics"].get(metric, 0.0)
        row["metrics"][metric] = (old * n_old + stats["mean"] * n_new) / (n_old + n_new)
        row["_n"][metric] = n_old + n_new
    row["n_articles"] += results["run"]["n_articles"]
    for key in ("generated", "cached", "truncated", "empty"):
        row["generation"][key] = row["generation"].get(key, 0) + results["generation"].get(key, 0)
    row["shards"].append(results["run"].get("shard"))


def render_leaderboard(board: dict, columns=DEFAULT_COLUMNS) -> str:
    columns = [c for c in columns if any(c in r["metrics"] for r in board["rows"])]
    header = ["rank", "run", *columns, "articles", "jobs"]
    body = [[str(i), escape_md(r["name"]),
             *(f"{r['metrics'][c]:.4f}" if c in r["metrics"] else "–" for c in columns),
             str(r["n_articles"]), ", ".join(Path(d).name for d in r["dirs"])]
            for i, r in enumerate(board["rows"], 1)]
    text = [f"# Leaderboard (sorted by {escape_md(board['sort_by'])})", "", table(header, body)]
    if board["failed"]:
        text += ["", "## Failed jobs", ""]
        text += [f"- {escape_md(Path(f['dir']).name)} {escape_md(str(f['name']))}: "
                 f"{escape_md(str(f['error']))}" for f in board["failed"]]
    return "\n".join(text) + "\n"


def write_leaderboard(sweep_dir: Path, sort_by: str = "rouge/rougeLsum_f") -> tuple[dict, str]:
    board = build_leaderboard(collect_runs(sweep_dir), sort_by)
    text = render_leaderboard(board)
    write_text_atomic(Path(sweep_dir) / "leaderboard.md", text)
    write_json_atomic(Path(sweep_dir) / "leaderboard.json", board)
    return board, text
