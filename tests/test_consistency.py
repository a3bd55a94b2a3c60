"""Factual-consistency scorers against the article."""

import pytest

from harness.metrics.consistency.embedding_support import EmbeddingSupport
from harness.text.sentences import split_sentences


@pytest.fixture(scope="module")
def support():
    return EmbeddingSupport(threshold=0.5)


def test_copied_sentence_is_fully_supported_with_the_article_sentence_as_evidence(support, seed_article):
    first = split_sentences(seed_article.body)[0]
    row = support.score(f"{first}\nThe weather in Paris is sunny today.", seed_article)
    copied, unrelated = row["sentences@embedding"]
    assert copied["score"] == pytest.approx(1.0, abs=1e-4) and copied["evidence"] == first and copied["supported"]
    assert unrelated["score"] < 0.5 and not unrelated["supported"]
    assert row["unsupported@embedding"] == 1
    assert row["support_min@embedding"] == pytest.approx(unrelated["score"], abs=1e-4)
    assert row["support_mean@embedding"] == pytest.approx((copied["score"] + unrelated["score"]) / 2, abs=1e-4)


def test_empty_summary_has_no_sentences_and_scores_zero(support, seed_article):
    row = support.score("  ", seed_article)
    assert row["sentences@embedding"] == [] and row["support_mean@embedding"] == 0.0


def test_a_changed_number_barely_moves_embedding_support(support, seed_article):
    # The known failure mode in the metric card, kept visible: "nine" where the article says eight.
    right = support.score("Kazakh officials said eight police officers were killed.", seed_article)
    wrong = support.score("Kazakh officials said nine police officers were killed.", seed_article)
    assert abs(right["support_mean@embedding"] - wrong["support_mean@embedding"]) < 0.05
