"""Flags editors can trust: one threshold per scorer (supported, or flagged with why; no third
tag), the article's title as article text, and flags measured on human text (harness/meta_eval/flags.py)."""

from __future__ import annotations

import pytest

from harness.data.article import Article
from harness.errors import ConfigError
from harness.meta_eval import flags
from harness.metrics.consistency.base import SentenceConsistency, article_text


class Fixed(SentenceConsistency):
    """Scores each sentence by the number it ends with ("... 0.5")."""

    key = "fixed"
    display = "Fixed"

    def judge(self, items):
        return [[{"score": float(s.split()[-1].rstrip("."))} for s in sentences] for sentences, _ in items]


ARTICLE = Article(id="a", title="Vladimir Putin warns the West", paragraphs=("The Kremlin said talks would go on.",),
                  bullets=("Talks go on.",))


def test_one_threshold_flags_counts_and_levels():
    scorer = Fixed(threshold=0.5)
    row = scorer.score("It is 0.9.\nIt is 0.5.\nIt is 0.2.", ARTICLE)
    assert [(s["level"], s["supported"], s["flagged"]) for s in row["sentences@fixed"]] == [
        ("supported", True, False), ("supported", True, False), ("unsupported", False, True)]
    # the unsupported count is the number of flags: one meaning per tag
    assert row["unsupported@fixed"] == sum(s["flagged"] for s in row["sentences@fixed"]) == 1


def test_a_threshold_that_is_not_a_number_is_refused():
    with pytest.raises(ConfigError, match=r"'fixed': threshold must be a number, got 'high'"):
        Fixed(threshold="high")
    with pytest.raises(TypeError):
        Fixed(threshold=0.5, flag_below=0.4)  # the second cut is gone


def test_the_title_is_article_text():
    assert article_text(ARTICLE) == "Vladimir Putin warns the West\nThe Kremlin said talks would go on."
    untitled = Article(id="b", title="", paragraphs=ARTICLE.paragraphs, bullets=ARTICLE.bullets)
    assert article_text(untitled) == ARTICLE.body


def test_a_name_in_the_title_is_in_the_article():
    from harness.metrics.consistency.entity_precision import EntityPrecision

    scorer = EntityPrecision(threshold=0.5)
    summary = "Vladimir Putin said talks would go on."
    titled = scorer.score(summary, ARTICLE)["sentences@entity"][0]
    assert titled["level"] == "supported" and not titled["flagged"]
    untitled = Article(id="b", title="", paragraphs=ARTICLE.paragraphs, bullets=ARTICLE.bullets)
    missing = scorer.score(summary, untitled)["sentences@entity"][0]
    assert missing["flagged"] and missing["level"] == "not in the article"


def test_nli_flags_say_contradicted_when_contradiction_wins():
    from harness.metrics.consistency.nli_support import NLISupport

    level = NLISupport.flag_level
    assert level(None, {"score": -0.8, "entailment": 0.05, "contradiction": 0.85}) == "contradicted"
    assert level(None, {"score": -0.1, "entailment": 0.2, "contradiction": 0.3}) == "contradicted"
    assert level(None, {"score": 0.05, "entailment": 0.1, "contradiction": 0.05}) == "unsupported"


def test_wilson_interval_by_hand():
    low, high = flags.wilson(5, 10)  # p = 0.5, z = 1.96: 0.5 -/+ 0.2634
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert flags.wilson(0, 10)[0] == pytest.approx(0.0, abs=1e-12)


def test_detection_counts_flags_against_labels():
    # labels: 1 supported, 0 unsupported; flagged: score < 0.5
    scores, labels = [0.1, 0.2, 0.9, 0.3, 0.8, 0.7], [0, 0, 0, 1, 1, 1]
    d = flags.detection(scores, labels, 0.5)
    assert (d["unsupported"], d["flagged"]) == (3, 3)
    assert d["recall"] == pytest.approx(2 / 3) and d["precision"] == pytest.approx(2 / 3)
    assert d["balanced_accuracy"] == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_evaluate_measures_flags_at_the_threshold():
    refs = flags.Sentences(doc_ids=("d0", "d1"), items=((("s 0.1.", "s 0.9."), "article"), (("s 0.8.",), "article")))
    labelled = flags.Sentences(doc_ids=("q",), items=((("s 0.05.", "s 0.95."), "article"),), labels=((0, 1),))
    result = flags.evaluate("fixed", Fixed(threshold=0.5), refs, labelled)
    assert result["references"]["n"] == 3 and result["references"]["share"] == pytest.approx(1 / 3)
    assert result["detection"]["recall"] == 1.0 and result["detection"]["precision"] == 1.0
    assert "| fixed | 0.500 |" in flags.render([result])
