"""Flags editors can trust: sentence levels (supported / weak support / flagged, with why), the
article's title as article text, and the calibration of flag_below (harness/meta_eval/flags.py)."""

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


def test_levels_supported_weak_and_flagged():
    scorer = Fixed(threshold=0.8, flag_below=0.4)
    row = scorer.score("It is 0.9.\nIt is 0.5.\nIt is 0.2.", ARTICLE)
    assert [(s["level"], s["supported"], s["flagged"]) for s in row["sentences@fixed"]] == [
        ("supported", True, False), ("weak support", False, False), ("unsupported", False, True)]
    assert row["unsupported@fixed"] == 2  # the metric counts below threshold; flags are the confident part


def test_flag_below_defaults_to_the_threshold_and_may_not_exceed_it():
    assert Fixed(threshold=0.7).flag_below == 0.7
    assert [s["level"] for s in Fixed(threshold=0.7).score("x 0.6.", ARTICLE)["sentences@fixed"]] == ["unsupported"]
    with pytest.raises(ConfigError, match=r"'fixed': flag_below \(0.9\) must not be above threshold \(0.5\)"):
        Fixed(threshold=0.5, flag_below=0.9)


def test_the_title_is_article_text():
    assert article_text(ARTICLE) == "Vladimir Putin warns the West\nThe Kremlin said talks would go on."
    untitled = Article(id="b", title="", paragraphs=ARTICLE.paragraphs, bullets=ARTICLE.bullets)
    assert article_text(untitled) == ARTICLE.body


def test_a_name_in_the_title_is_in_the_article():
    from harness.metrics.consistency.entity_precision import EntityPrecision

    scorer = EntityPrecision(threshold=0.583, flag_below=0.5)
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


def test_calibrate_is_the_target_quantile():
    scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert flags.calibrate(scores, 0.2) == 0.3  # 2 of 10 below 0.3
    assert sum(s < flags.calibrate(scores, 0.2) for s in scores) == 2
    assert flags.calibrate(scores, 0.0) == 0.1  # nothing below
    assert flags.calibrate([0.5] * 10, 0.3) == 0.5  # ties: nothing below 0.5
    with pytest.raises(ValueError, match="no sentence scores"):
        flags.calibrate([], 0.1)


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


def test_evaluate_calibrates_on_the_dev_half_and_reports_the_test_half():
    refs = flags.Sentences(doc_ids=tuple(f"d{i}" for i in range(8)),
                           items=tuple(((f"s 0.{i + 1}.", f"s 0.9{i}."), "article") for i in range(8)))
    labelled = flags.Sentences(doc_ids=("q",), items=((("s 0.05.", "s 0.95."), "article"),), labels=((0, 1),))
    result = flags.evaluate("fixed", Fixed(threshold=0.8), refs, labelled, target=0.25)
    dev, _ = flags.dev_test_split(list(refs.doc_ids), 0)
    dev_scores = sorted(s for i, d in enumerate(refs.doc_ids) if d in dev
                        for s in (0.1 * (i + 1), 0.9 + 0.01 * i))
    assert result["flag_below"] == pytest.approx(dev_scores[2])  # 8 dev sentences, at most 2 below
    assert result["references_before"]["n"] == result["references_after"]["n"] == 8  # the test half's sentences
    assert result["detection_after"]["recall"] == 1.0 and result["detection_after"]["precision"] == 1.0
    assert "| fixed (after) |" in flags.render([result])
