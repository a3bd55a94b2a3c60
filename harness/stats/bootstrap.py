"""Percentile bootstrap confidence intervals of a mean, and of a paired difference of means.

Resampling is over articles, with a fixed seed, so the same inputs always give the same interval.
With one article the interval is the point itself: a bootstrap cannot show noise it never sees.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

N_RESAMPLES = 10_000  # the default resample count of every interval (a run's, compare's, the gate's)
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int
    confidence: float

    def to_dict(self) -> dict:
        return asdict(self)


def bootstrap_mean(values, *, n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE,
                   seed: int = 0) -> Interval:
    """The mean of ``values`` and its percentile bootstrap interval."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("bootstrap of no values")
    rng = np.random.Generator(np.random.PCG64(seed))
    means = x[rng.integers(0, x.size, size=(n_resamples, x.size))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(x.mean()), float(low), float(high), int(x.size), confidence)


def paired_difference(candidate, baseline, **kwargs) -> Interval:
    """Mean of (candidate − baseline) over the same articles, in the same order, with its interval."""
    c, b = np.asarray(candidate, dtype=float), np.asarray(baseline, dtype=float)
    if c.shape != b.shape:
        raise ValueError(f"paired scores differ in length: {c.size} vs {b.size}")
    return bootstrap_mean(c - b, **kwargs)
