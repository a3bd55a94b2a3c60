"""The claim-level scorers (consistency_claims: predicate-argument arcs; consistency_lemmas:
content words by lemma): hand-made minimal pairs, the article's event against an invented arrest,
charge, death or resignation of the same named person, and arcs worked out by hand."""

from __future__ import annotations

import pytest

from harness.data.article import Article
from harness.metrics.consistency.lemma_support import LemmaSupport
from harness.text.claims import arc_text, arcs
from harness.text.parse import parse_sentence, word_key

ARTICLE = Article(
    id="footman", title="Palace footman questioned over abuse claims",
    paragraphs=("Police are investigating claims that a footman at Buckingham Palace abused a boy in 2009.",
                "The footman, 45, was questioned by detectives on Tuesday. He denies any wrongdoing.",
                "A palace spokesman said the household was cooperating fully with the inquiry."),
    bullets=("Footman questioned by police.",))

# (what the article reports, an invented event about the same person)
PAIRS = [
    ("The footman was questioned by detectives.", "The footman was later arrested and charged with child molestation."),
    ("Police are investigating claims against the footman.", "The footman was charged with abusing a boy."),
    ("The footman was questioned on Tuesday.", "The footman died in hospital on Tuesday."),
    ("A palace spokesman said the household was cooperating.", "The footman resigned from the palace."),
]


@pytest.fixture(scope="module")
def claims():
    """The shipped scorer, at its shipped threshold (conf/metrics/consistency_claims.yaml)."""
    from harness.config import load_metric

    return load_metric("consistency_claims")


def _sentence(metric, text):
    return metric.score(text, ARTICLE)[f"sentences@{metric.key}"][0]


@pytest.mark.parametrize(("reported", "invented"), PAIRS)
def test_claims_flag_the_invented_event_not_the_reported_one(claims, reported, invented):
    good, bad = _sentence(claims, reported), _sentence(claims, invented)
    assert good["score"] >= 0.75 and not good["flagged"]
    assert bad["score"] < 0.5 and bad["flagged"] and bad["level"] == "not in the article"
    assert bad["missing"]  # the arcs an editor must check


def test_the_invented_arrest_names_its_arcs(claims):
    bad = _sentence(claims, PAIRS[0][1])
    assert {"arrested → footman", "charged → footman", "charged → molestation"} <= set(bad["missing"])
    row = claims.score(PAIRS[0][1], ARTICLE)
    assert row["missing@claims"] == len(bad["missing"]) and row["unsupported@claims"] == 1
    from harness.metrics.consistency.base import problems

    # what report.md and the page show: one line for the sentence, however many pairs it misses
    (line,) = [p for p in problems(bad) if "claims not found" in p]
    assert line.startswith(f"{len(bad['missing'])} of its {bad['claims']} claims not found in the article: ")
    assert "arrested → footman" in line


def test_arcs_of_a_parsed_sentence_by_hand():
    words = parse_sentence("The footman was arrested and charged with child molestation.")
    found = {arc_text(words, a) for a in arcs(words)}
    # charged inherits arrested's subject; the preposition and the auxiliary are skipped
    assert found == {"arrested → footman", "arrested → charged", "charged → molestation", "molestation → child",
                     "charged → footman"}


def test_word_keys_are_lemmas_and_values():
    assert word_key("arrested", "arrest", "VERB") == "arrest"
    assert word_key("eight", "eight", "NUM") == word_key("8", "8", "NUM") == "8"
    assert word_key("Putin's", "Putin's", "PROPN") == "putin"


def test_a_sentence_without_content_words_is_supported(claims):
    lemmas = LemmaSupport(threshold=0.5)
    for metric in (claims, lemmas):
        assert _sentence(metric, "He did it.")["score"] == 1.0


def test_lemmas_count_the_content_words_the_article_lacks():
    lemmas = LemmaSupport(threshold=0.5)
    # footman, later, arrested, charged, child, molestation: content words; footman is in the article
    judged = _sentence(lemmas, "The footman was later arrested and charged with child molestation.")
    assert judged["missing"] == ["arrested", "charged", "child", "molestation"]
    assert judged["score"] == pytest.approx(1 - 4 / 5)  # "later" is a stop word in spaCy's list
    assert _sentence(lemmas, "Detectives questioned the footman.")["score"] == 1.0  # by lemma: questioned


def test_the_new_scorers_declare_what_they_write(claims):
    lemmas = LemmaSupport(threshold=0.5)
    for metric in (claims, lemmas):
        row = metric.score(PAIRS[0][1], ARTICLE)
        scalars = {k for k, v in row.items() if isinstance(v, (int, float))}
        assert scalars == set(metric.columns())
