"""Each run's per-metric intervals and every paired difference between two runs.

A run's intervals are computed once, when it finishes (`metric_stats`, with the run's ``seed`` and
``n_resamples``), stored in results.json (``metric_stats``, ``intervals``) and read back by
`harness.results.runs.Run.interval`; merged shards get the same computation over all their
articles. `paired_difference` is the one place a difference between two runs is computed
(``harness compare``, the gate).
"""

from __future__ import annotations

import math

from harness.stats.bootstrap import CONFIDENCE, N_RESAMPLES, Interval, bootstrap_mean
from harness.stats.bootstrap import paired_difference as paired_interval


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def interval_settings(results: dict) -> dict:
    """How a run's intervals are computed: its ``intervals`` record (results.json), else (runs from
    before it was recorded) the defaults they were computed with, seeded by the run's seed."""
    recorded = results.get("intervals") or {}
    seed = recorded.get("seed", (results.get("run") or {}).get("seed", 0))
    return {"method": "percentile bootstrap over articles", "confidence": recorded.get("confidence", CONFIDENCE),
            "n_resamples": recorded.get("n_resamples", N_RESAMPLES), "seed": seed or 0}


def stats_settings(results: dict) -> dict:
    """`metric_stats`'s keyword arguments for a run: its seed, resample count and confidence."""
    settings = interval_settings(results)
    return {"seed": settings["seed"], "n_resamples": settings["n_resamples"], "confidence": settings["confidence"]}


def metric_stats(rows: list[dict], metric_info: dict, *, seed: int, n_resamples: int = N_RESAMPLES,
                 confidence: float = CONFIDENCE) -> dict:
    """Mean, standard deviation, n and the bootstrap interval (``ci95``) over articles of every
    declared scalar score (``rows``: ``{"article_id", "scores"}`` per article, resampled in article-id
    order, so the same scores give the same interval whatever order they come in), in the declared
    order. The one place a run's intervals are computed; results.json stores them for every reader."""
    values: dict[str, list[float]] = {name: [] for name in metric_info}
    for row in sorted(rows, key=lambda r: str(r["article_id"])):
        for name, value in row["scores"].items():
            if name in values and is_number(value) and math.isfinite(value):
                values[name].append(float(value))
    stats = {}
    for name, xs in values.items():
        if not xs:
            continue
        mean = sum(xs) / len(xs)
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
        interval = bootstrap_mean(xs, seed=seed, n_resamples=n_resamples, confidence=confidence)
        stats[name] = {"mean": mean, "std": std, "n": len(xs), "ci95": [interval.low, interval.high]}
    return stats


def paired_difference(run, reference, metric: str, *, seed: int = 0, n_resamples: int = N_RESAMPLES,
                      confidence: float = CONFIDENCE) -> Interval | None:
    """Mean of (``run`` − ``reference``) for ``metric`` over the articles both scored with a finite
    value (in article-id order), with its paired bootstrap interval; None when they share none. The
    one place paired differences between runs are computed (``harness compare``, the gate)."""
    ours, theirs = run.values(metric), reference.values(metric)
    common = sorted(a for a in set(ours) & set(theirs) if math.isfinite(ours[a]) and math.isfinite(theirs[a]))
    if not common:
        return None
    return paired_interval([ours[a] for a in common], [theirs[a] for a in common], seed=seed,
                           n_resamples=n_resamples, confidence=confidence)
