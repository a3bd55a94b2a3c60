"""ROUGE against hand-worked values and against rouge-score called directly."""

import pytest
from rouge_score import rouge_scorer

from harness.data import Article
from harness.metrics.rouge import Rouge


def article(*bullets):
    return Article(id="t", title="", paragraphs=("Body.",), bullets=bullets)


def test_hand_worked_unigrams_and_bigrams():
    # reference "the cat sat" vs summary "the cat": R1 P=2/2, R=2/3, F=0.8; R2 P=1/1, R=1/2, F=2/3.
    s = Rouge().score("the cat", article("the cat sat"))
    assert (s["rouge1_p"], s["rouge1_r"]) == (1.0, pytest.approx(2 / 3))
    assert s["rouge1_f"] == pytest.approx(0.8)
    assert (s["rouge2_p"], s["rouge2_r"], s["rouge2_f"]) == (1.0, 0.5, pytest.approx(2 / 3))


def test_stemming_is_on():
    # "killed" and "kill" share the Porter stem.
    assert Rouge().score("officers killed", article("officer kills"))["rouge1_f"] == 1.0


def test_lsum_matches_rouge_score_with_bullets_and_sentences_on_lines():
    bullets = ("Russia sent a peacekeeping force to Kazakhstan", "Eight police officers were killed")
    summary = "Eight officers were killed in the unrest. Russia sent troops to Kazakhstan last night."
    ours = Rouge().score(summary, article(*bullets))
    direct = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True).score(
        "\n".join(bullets),
        "Eight officers were killed in the unrest.\nRussia sent troops to Kazakhstan last night.")
    for kind, value in direct.items():
        assert ours[f"{kind}_f"] == pytest.approx(value.fmeasure)
        assert ours[f"{kind}_p"] == pytest.approx(value.precision)
        assert ours[f"{kind}_r"] == pytest.approx(value.recall)
    # The summary's sentences are in the reverse order of the bullets: summary-level LCS is
    # higher than plain LCS over the flattened text.
    assert ours["rougeLsum_f"] > ours["rougeL_f"]


def test_empty_summary_scores_zero():
    assert all(v == 0.0 for v in Rouge().score("   ", article("something")).values())


def test_bullets_as_summary_score_one(seed_article):
    scores = Rouge().score("\n".join(seed_article.bullets), seed_article)
    assert scores["rougeLsum_f"] == pytest.approx(1.0)
