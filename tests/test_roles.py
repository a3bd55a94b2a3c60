"""Flags that read roles (issue #34, item 5), on hand-made minimal pairs: who did what to whom
(`harness.text.roles`), a statement put in the mouth of someone the article never quotes, a name
the article lacks (always a flag), and numbers written the newsroom's way ("£200m")."""

from __future__ import annotations

import pytest

from harness.data.article import Article
from harness.metrics.consistency.base import problems
from harness.text.numbers import parse_number
from harness.text.parse import parse_article, parse_sentence
from harness.text.roles import article_roles, role_conflicts, roles

ARTICLE = Article(
    id="hotel", title="Guest sues hotel",
    paragraphs=("Jones accused Smith of lying to the council about the hotel's accounts.",
                "Christopher Lawler complained that staff tried to force him into an orgy at the hotel.",
                "Police said the hotel was sold last year for £200m.",
                "The owners did not respond to a request for comment.",
                "A spokesman for the council said it would review the accounts."),
    bullets=("Lawler complained about staff.",))

# (the article's own statement or a light paraphrase, the same words with the roles wrong)
PAIRS = [
    ("Jones accused Smith of lying.", "Smith accused Jones of lying."),
    ("Christopher Lawler complained that staff tried to force him into an orgy.",
     "Christopher Lawler has admitted to attempting to force himself into an orgy."),
    ("Lawler said staff tried to force him into an orgy at the hotel.",
     "Lawler admitted he tried to force himself into an orgy."),
    ("Police said the hotel was sold last year.", "The owners revealed that the hotel was sold last year."),
    ("The council said it would review the accounts.", "The owners said they would review the accounts."),
]


@pytest.fixture(scope="module")
def claims():
    from harness.config import load_metric

    return load_metric("consistency_claims")


@pytest.fixture(scope="module")
def entity():
    from harness.config import load_metric

    return load_metric("consistency_entity")


def _judged(metric, text):
    return metric.score(text, ARTICLE)[f"sentences@{metric.key}"][0]


@pytest.mark.parametrize("right, wrong", PAIRS)
def test_a_wrong_role_is_flagged_and_the_articles_own_statement_is_not(claims, right, wrong):
    good, bad = _judged(claims, right), _judged(claims, wrong)
    assert not good["flagged"], good
    assert good["roles"] == []
    assert bad["flagged"] and bad["score"] == 0.0, bad
    assert bad["roles"], bad
    assert any(line in problems(bad) for line in bad["roles"])  # the page lists the reason as text


def test_reversal_names_what_the_article_says(claims):
    bad = _judged(claims, "Smith accused Jones of lying.")
    assert "roles reversed: the article has “Jones accused Smith”" in bad["roles"]
    assert bad["level"] == "contradicted"


def test_a_statement_by_someone_who_said_nothing_is_unsaid_not_reversed(claims):
    bad = _judged(claims, "The owners revealed that the hotel was sold last year.")
    assert bad["roles"] == ["“owners revealed”: the article reports no statement by owners"]
    assert bad["level"] == "not in the article"


def test_roles_worked_out_by_hand():
    def triples(sentence):
        return [(r.verb, r.agent, r.patient) for r in roles(parse_sentence(sentence))]
    assert ("accuse", "jones", "smith") in triples("Smith was accused by Jones of lying.")  # passive
    assert ("force", "staff", "lawler") in triples("Lawler complained that staff tried to force him.")
    assert ("force", "lawler", "lawler") in triples("Lawler admitted he tried to force himself.")
    assert ("leave", "smith", None) in triples("Police told Smith to leave.")  # object control


def test_speakers_exclude_the_silent_and_include_who_a_spokesman_speaks_for():
    article = article_roles(parse_article(
        "Smith declined to comment. The owners did not respond. A spokesman for Acme said it was sold. "
        "According to Brown, the deal is done. \"It is over,\" Green said. \"We are sad,\" he added."))
    assert {"acme", "brown", "green", "spokesman"} <= article.speakers
    assert not {"smith", "owner"} & article.speakers
    said = roles(parse_sentence("Smith said the deal is done."))
    assert [c["kind"] for c in role_conflicts(said, article, lambda k: True)] == ["unsaid"]


def test_a_name_the_article_lacks_always_flags_its_sentence(entity):
    # the NER finds Smith, Davies and Paris; Davies is not in the article: 2 of 3 matched, which as a
    # ratio (0.667) would pass the shipped 0.583 threshold unflagged
    text = "Jones, Smith and Davies met in Paris."
    article = Article(id="p", title="", paragraphs=(ARTICLE.body + " Smith flew to Paris.",), bullets=())
    judged = entity.score(text, article)["sentences@entity"][0]
    assert [(e["text"], e["status"]) for e in judged["entities"]] == [
        ("Smith", "matched"), ("Davies", "unmatched"), ("Paris", "matched")]
    assert judged["flagged"] and judged["score"] == 0.0
    # the summary score stays precision-source: 2 of 3 mentions
    assert entity.score(text, article)["score@entity"] == pytest.approx(2 / 3, abs=1e-9)
    assert not _judged(entity, "Jones and Smith met at the hotel.")["flagged"]


@pytest.mark.parametrize("a, b", [("£200million", "£200m"), ("2.5 million", "2,500,000"), ("$3bn", "$3 billion"),
                                  ("€5.5mn", "5,500,000")])
def test_numbers_written_two_ways_have_one_value(a, b):
    assert parse_number(a) == parse_number(b)


@pytest.mark.parametrize("text, value", [("200m", 200.0), ("10k", 10.0), ("£10k", 10_000.0)])
def test_bare_m_and_k_scale_only_money(text, value):
    assert parse_number(text) == value  # "ran 200m" is metres


def test_200million_is_not_a_contradiction_of_200m(entity):
    from harness.metrics.consistency.bullet_contradiction import value_conflict

    assert value_conflict("The hotel was sold for £200million.", "The hotel was sold for £200m.") is None
    assert value_conflict("The hotel was sold for £300million.", "The hotel was sold for £200m.")
    assert not _judged(entity, "The hotel was sold for £200million.")["flagged"]


@pytest.mark.parametrize("text, status", [("the 16-year-old was beaten.", "matched"),  # the article: "Khdeir, 16,"
                                          ("Boy, 2, slipped.", "matched"),  # "two-year-old"
                                          ("It took six days.", "matched"),
                                          ("the 17-year-old was beaten.", "unmatched"),
                                          ("It took six weeks.", "unmatched")])
def test_an_age_or_span_matches_its_number_and_unit(text, status):
    from harness.metrics.consistency.entity_precision import check
    from harness.text.entities import article_index, mentions

    index = article_index("Abu Khdeir , 16 , was beaten. A two-year-old boy fell. It took six days.")
    assert [check(m, index)["status"] for m in mentions(text)] == [status]


def test_thousands_split_by_a_tokeniser_are_one_number():
    from harness.text.entities import article_index

    numbers = article_index("They studied more than 13, 000 twins in 2011, 2012 and 3, 500 cats.")["numbers"]
    assert {13000.0, 3500.0, 2011.0, 2012.0} <= set(numbers) and 13.0 not in numbers
