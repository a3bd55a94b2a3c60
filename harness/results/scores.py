"""``scores.jsonl``: one row per article, ``{article_id, article_sha256, system, scores}``;
``scores`` holds the scalars (declared by the metrics' columns) and the per-row details
(`harness.results.details`). Written by a run, read back checked, row by row."""

from __future__ import annotations

import json
import math
from pathlib import Path

from harness.io import write_jsonl_atomic
from harness.results.intervals import is_number
from harness.results.run_dir import SCORES
from harness.results.schema import DAMAGED, ResultsError, check_scores_row


def write_scores(directory: Path, rows: list[dict]) -> None:
    write_jsonl_atomic(Path(directory) / SCORES, rows)


def read_scores(directory: Path, columns=()) -> tuple[dict[str, dict], dict[str, str]]:
    """(article id -> scores, article id -> content SHA-256) from a run directory's scores.jsonl,
    each row checked (harness.results.schema: the run's declared ``columns`` and every other number
    in it finite or null); an article scored twice is a damaged file."""
    path = Path(directory) / SCORES
    out, hashes, lines_of = {}, {}, {}
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as e:
        raise ResultsError(f"{path}: cannot read it ({e.strerror or e})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError) as e:
            raise ResultsError(f"{path}, line {number}: not a scores row ({type(e).__name__}: {e}); "
                               "rerun the run that wrote it") from None
        check_scores_row(row, columns, f"{path}, line {number}")
        article = row["article_id"]
        if article in lines_of:
            raise ResultsError(f"{path}, line {number}: article {article!r} is scored again (first at line "
                               f"{lines_of[article]}); {DAMAGED}")
        lines_of[article] = number
        out[article] = dict(row["scores"])
        hashes[article] = row["article_sha256"]
    return out, hashes


def check_stats_match_scores(results: dict, scores: dict[str, dict], directory) -> None:
    """ResultsError when results.json's mean or n of a metric is not what the run's scores.jsonl
    gives (one of them changed after the run): a reader would rank by one and show the other.

    Args:
        results: a completed run's results.json.
        scores: article id -> scores, from its scores.jsonl.
        directory: the run directory, for the message.
    """
    if not scores:  # no rows at all: the readers' own check names a run over 0 articles
        return
    for metric, stats in (results.get("metric_stats") or {}).items():
        if not isinstance(stats, dict) or not is_number(stats.get("mean")):
            continue
        xs = [float(v[metric]) for _, v in sorted(scores.items(), key=lambda item: str(item[0]))
              if is_number(v.get(metric)) and math.isfinite(v[metric])]
        mean = sum(xs) / len(xs) if xs else math.nan
        if stats.get("n") != len(xs) or not math.isclose(mean, stats["mean"], rel_tol=1e-9, abs_tol=1e-12):
            raise ResultsError(f"{directory}: results.json gives {metric} a mean of {stats['mean']:.6g} over "
                               f"{stats.get('n')} articles, but its scores.jsonl {mean:.6g} over {len(xs)}: one "
                               "of them was changed after the run; rerun it (or restore the file)")


def scalar_scores(scores: dict[str, dict]) -> dict[str, dict]:
    """Per article, only the scalar scores (what a baseline keeps)."""
    return {a: {m: v for m, v in s.items() if is_number(v)} for a, s in scores.items()}
