"""Agreement statistics on hand-worked values and against scipy/numpy."""

import numpy as np
import pytest

from harness.stats.agreement import (
    balanced_accuracy,
    best_threshold,
    bootstrap_clusters,
    dev_test_split,
    kendall,
    pearson,
    roc_auc,
    spearman,
)


def test_roc_auc_by_hand():
    # Positives 0.35, 0.8; negatives 0.1, 0.4: pairs won 1 + 0 + 1 + 1 = 3 of 4.
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert roc_auc([0.5, 0.5], [0, 1]) == 0.5  # a tie counts half
    assert np.isnan(roc_auc([0.1, 0.2], [1, 1]))


def test_balanced_accuracy_and_best_threshold_by_hand():
    scores, labels = [0.1, 0.2, 0.6, 0.7, 0.3], [0, 0, 1, 1, 1]
    # At 0.5: positives 2/3 right, negatives 2/2 right -> (2/3 + 1) / 2.
    assert balanced_accuracy(scores, labels, 0.5) == pytest.approx((2 / 3 + 1) / 2)
    threshold = best_threshold(scores, labels)
    assert 0.2 < threshold <= 0.3 and balanced_accuracy(scores, labels, threshold) == 1.0


def test_correlations_match_numpy_ranks():
    x, y = [1, 2, 3, 4, 5], [2, 1, 4, 3, 5]
    assert pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert spearman(x, y) == pytest.approx(0.8)  # ranks equal values: 1 - 6*4/(5*24)
    assert kendall(x, y) == pytest.approx((8 - 2) / 10)  # 8 concordant, 2 discordant pairs
    assert np.isnan(pearson([1, 1, 1], [1, 2, 3]))


def test_bootstrap_over_clusters_is_deterministic_and_brackets_the_point():
    clusters = [[1.0, 2.0], [3.0], [2.0, 2.0, 5.0], [0.0]]

    def mean(cs):
        return float(np.mean([v for c in cs for v in c]))

    first = bootstrap_clusters(clusters, mean, n_resamples=500, seed=3)
    assert first == bootstrap_clusters(clusters, mean, n_resamples=500, seed=3)
    point, low, high = first
    assert point == pytest.approx(15 / 7) and low <= point <= high


def test_dev_test_split_is_fixed_disjoint_and_halves():
    keys = [f"doc{i}" for i in range(11)] * 3
    dev, test = dev_test_split(keys, seed=0)
    assert dev_test_split(keys, seed=0) == (dev, test)
    assert not dev & test and len(dev) == 5 and len(test) == 6 and dev | test == set(keys)
