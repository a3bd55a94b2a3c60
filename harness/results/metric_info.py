"""The metric metadata every report reads from the runs (``metric_info`` of results.json, as each
metric declared its columns): direction, display name, headline, and the ranking they imply."""

from __future__ import annotations

import math

from harness.results.schema import ResultsError


def merged_metric_info(runs) -> dict[str, dict]:
    """Metric metadata over runs, in the order the runs declare them (the first run's first)."""
    info: dict[str, dict] = {}
    for run in runs:
        for name, meta in run.metric_info.items():
            info.setdefault(name, meta)
    return info


def direction(info: dict, metric: str) -> bool | None:
    """True: higher is better; False: lower is better; None: no better direction."""
    return (info.get(metric) or {}).get("higher_is_better")


def display_name(info: dict, metric: str) -> str:
    return (info.get(metric) or {}).get("display") or metric


def headline_metrics(info: dict) -> list[str]:
    return [m for m, meta in info.items() if meta.get("headline")]


def default_sort(info: dict) -> str:
    """The metric rows are ranked by when none is given: the first headline metric."""
    heads = headline_metrics(info)
    if heads:
        return heads[0]
    if info:
        return next(iter(info))
    raise ResultsError("the runs declare no metrics")


def rank_value(info: dict, metric: str, value: float | None) -> float:
    """A number that sorts ascending from best to worst (missing values last)."""
    if value is None or not math.isfinite(value):
        return math.inf
    return value if direction(info, metric) is False else -value


def arrow(info: dict, metric: str) -> str:
    return {True: "↑", False: "↓"}.get(direction(info, metric), "")
