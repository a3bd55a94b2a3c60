"""Bootstrap intervals on cases worked out by hand."""

import pytest

from harness.stats.bootstrap import bootstrap_mean, paired_difference


def test_two_values_give_the_full_range():
    # Resampled means of [0, 1] are 0, 0.5 or 1 with probability 1/4, 1/2, 1/4:
    # the 2.5th percentile is 0 and the 97.5th is 1.
    interval = bootstrap_mean([0.0, 1.0])
    assert (interval.mean, interval.low, interval.high, interval.n) == (0.5, 0.0, 1.0, 2)


def test_constant_values_have_a_zero_width_interval():
    interval = bootstrap_mean([0.3] * 7)
    assert interval.low == pytest.approx(0.3) and interval.high == pytest.approx(0.3)


def test_one_article_is_the_point():
    interval = paired_difference([0.2], [0.5])
    assert (interval.mean, interval.low, interval.high) == pytest.approx((-0.3, -0.3, -0.3))


def test_deterministic_and_seed_dependent():
    values = [0.1, 0.5, 0.2, 0.9, 0.4, 0.3, 0.8]
    assert bootstrap_mean(values) == bootstrap_mean(values)
    assert bootstrap_mean(values, seed=1, n_resamples=50) != bootstrap_mean(values, seed=2, n_resamples=50)
    interval = bootstrap_mean(values)
    assert interval.low < interval.mean < interval.high


def test_paired_lengths_must_match():
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference([1, 2], [1])
