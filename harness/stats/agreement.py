"""How well a scorer agrees with human labels: ROC AUC, balanced accuracy, correlations, and
bootstrap intervals of any of them with resampling over documents (clusters of rows); and how well
raters agree with each other: Cohen's kappa (two raters) and Krippendorff's alpha (nominal, any number).

ROC AUC is the Mann-Whitney probability that a random positive outscores a random negative
(ties count half). Intervals are percentile intervals with a fixed seed: deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats


def roc_auc(scores, labels) -> float:
    """P(score of a positive > score of a negative), ties half; NaN without both classes."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def balanced_accuracy(scores, labels, threshold: float) -> float:
    """Mean of true-positive and true-negative rates when score >= threshold predicts positive."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    predicted = s >= threshold
    rates = [float((predicted[y]).mean()) if y.any() else float("nan"),
             float((~predicted[~y]).mean()) if (~y).any() else float("nan")]
    return float(np.mean(rates))


def best_threshold(scores, labels) -> float:
    """The threshold with the highest balanced accuracy on (scores, labels): a midpoint between two
    adjacent distinct scores, so that it generalises rather than sitting on a training value."""
    s = np.unique(np.asarray(scores, dtype=float))
    candidates = np.concatenate([[s[0] - 1e-9], (s[:-1] + s[1:]) / 2, [s[-1] + 1e-9]]) if s.size else np.array([0.5])
    if candidates.size > 2000:
        candidates = np.unique(np.quantile(candidates, np.linspace(0, 1, 2001)))
    accuracies = [balanced_accuracy(scores, labels, t) for t in candidates]
    return float(candidates[int(np.nanargmax(accuracies))])


def pearson(x, y) -> float:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(stats.pearsonr(x, y).statistic) if x.std() > 0 and y.std() > 0 else float("nan")


def spearman(x, y) -> float:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(stats.spearmanr(x, y).statistic) if x.std() > 0 and y.std() > 0 else float("nan")


def kendall(x, y) -> float:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(stats.kendalltau(x, y).statistic) if x.std() > 0 and y.std() > 0 else float("nan")


def bootstrap_clusters(clusters: Sequence, statistic: Callable[[list], float], *, n_resamples: int = 1000,
                       confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(point, low, high): ``statistic`` of all clusters, and its percentile interval when whole
    clusters (e.g. every summary of one article) are resampled with replacement."""
    return bootstrap_macro([(clusters, statistic)], n_resamples=n_resamples, confidence=confidence, seed=seed)


def bootstrap_macro(strata: list[tuple[Sequence, Callable[[list], float]]], *, n_resamples: int = 1000,
                    confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(point, low, high) of the mean over strata of each stratum's statistic; each resample draws
    every stratum's clusters with replacement within that stratum (so every group stays in)."""
    point = float(np.mean([statistic(list(clusters)) for clusters, statistic in strata]))
    rng = np.random.Generator(np.random.PCG64(seed))
    values = []
    for _ in range(n_resamples):
        value = np.mean([statistic([clusters[i] for i in rng.integers(0, len(clusters), size=len(clusters))])
                         for clusters, statistic in strata])
        if np.isfinite(value):
            values.append(value)
    if not values:
        return point, float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return point, float(low), float(high)


def dev_test_split(keys: Sequence[str], seed: int = 0) -> tuple[set, set]:
    """A fixed split of distinct ``keys`` (article ids) into a dev half and a test half."""
    distinct = sorted(set(keys))
    order = np.random.Generator(np.random.PCG64(seed)).permutation(len(distinct))
    half = len(distinct) // 2
    return {distinct[i] for i in order[:half]}, {distinct[i] for i in order[half:]}


def cohen_kappa(a: Sequence, b: Sequence) -> float:
    """Cohen's kappa of two raters' labels of the same items (``a[i]``, ``b[i]``): (p_o - p_e) / (1 - p_e),
    p_o the share of items they agree on, p_e the agreement their label frequencies give by chance.
    NaN without items, or when chance agreement is certain (both gave one and the same label to all)."""
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa: {len(a)} and {len(b)} labels: one label per item from each rater")
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    chance = sum((list(a).count(c) / n) * (list(b).count(c) / n) for c in set(a) | set(b))
    return float("nan") if chance == 1 else float((observed - chance) / (1 - chance))


def krippendorff_alpha_nominal(units: Sequence[Sequence]) -> float:
    """Krippendorff's alpha for nominal labels: ``units`` holds, per item, the labels the raters
    who rated it gave (any number; missing ratings simply absent). 1 - D_o / D_e from the
    coincidence matrix; items with one label are not pairable and are left out. NaN with fewer
    than two pairable labels, or when every label is the same (no expected disagreement)."""
    pairable = [list(u) for u in units if len(u) >= 2]
    values = [v for u in pairable for v in u]
    n = len(values)
    if n < 2:
        return float("nan")
    observed = 0.0  # sum over units of the disagreeing ordered pairs, each weighted 1 / (m_u - 1)
    for unit in pairable:
        counts = {c: unit.count(c) for c in set(unit)}
        observed += (len(unit) ** 2 - sum(k * k for k in counts.values())) / (len(unit) - 1)
    totals = {c: values.count(c) for c in set(values)}
    expected = n * n - sum(k * k for k in totals.values())  # disagreeing ordered pairs over all labels
    return float("nan") if expected == 0 else float(1 - (n - 1) * observed / expected)
