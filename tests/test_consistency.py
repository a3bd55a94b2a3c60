"""Factual-consistency scorers against the article."""

import numpy as np
import pytest

from harness.data.article import Article
from harness.metrics.consistency.embedding_support import EmbeddingSupport
from harness.metrics.consistency.entity_precision import EntityPrecision
from harness.text.numbers import dates_agree, parse_dates, parse_number, split_qualifier
from harness.text.sentences import split_sentences


@pytest.fixture(scope="module")
def support():
    return EmbeddingSupport(threshold=0.5)


def test_copied_sentence_is_fully_supported_with_the_article_sentence_as_evidence(support, seed_article):
    first = split_sentences(seed_article.body)[0]
    row = support.score(f"{first}\nThe weather in Paris is sunny today.", seed_article)
    copied, unrelated = row["sentences@embedding"]
    assert copied["sentence"] == first
    assert copied["score"] == pytest.approx(1.0, abs=1e-4) and copied["evidence"] == first and copied["supported"]
    assert unrelated["score"] < 0.5 and not unrelated["supported"]
    assert row["unsupported@embedding"] == 1
    assert row["min@embedding"] == pytest.approx(unrelated["score"], abs=1e-4)
    assert row["score@embedding"] == pytest.approx((copied["score"] + unrelated["score"]) / 2, abs=1e-4)


def test_empty_summary_has_no_sentences_and_scores_zero(support, seed_article):
    row = support.score("  ", seed_article)
    assert row["sentences@embedding"] == [] and row["score@embedding"] == 0.0


def test_a_changed_number_barely_moves_embedding_support(support, seed_article):
    # The known failure mode in the metric card, kept visible: "nine" where the article says eight.
    right = support.score("Kazakh officials said eight police officers were killed.", seed_article)
    wrong = support.score("Kazakh officials said nine police officers were killed.", seed_article)
    assert abs(right["score@embedding"] - wrong["score@embedding"]) < 0.05


def _three_items(seed_article):
    body = seed_article.body
    other = " ".join(split_sentences(body)[3:9])  # a second article: six of the seed's sentences
    summaries = [split_sentences(body)[:2], ["Kazakh officials said nine police officers were killed.",
                                             "The weather in Paris is sunny today."],
                 [split_sentences(body)[4]]]
    return [(summaries[0], body), (summaries[1], other), (summaries[2], body), (summaries[1], body)]


def test_batched_judge_equals_the_per_summary_path(support, seed_article):
    from harness.metrics.consistency import embedding_support

    items = _three_items(seed_article)
    batched = support.judge(items)
    for (sentences, text), got in zip(items, batched, strict=True):
        # The old path, exactly: this summary's and this article's sentences embedded, cosine, max.
        evidence = split_sentences(text)
        similarity = support.encoder.encode(sentences) @ support.encoder.encode(evidence).T
        # The same (cached) vectors, but the batched path multiplies other matrix shapes: BLAS kernels
        # (OpenBLAS picks them per CPU: Haswell on an AMD EPYC) round float32 sums differently in the
        # last bits (1.5e-8 seen). 1e-6 is far below any difference a threshold could see.
        assert [j["score"] for j in got] == pytest.approx([float(r.max()) for r in similarity], abs=1e-6)
        assert [j["evidence"] for j in got] == [evidence[int(r.argmax())] for r in similarity]
        # One summary per call from empty caches (other padding in the encoder's batches): within 1e-6.
        support.encoder._cache.clear()
        embedding_support.article_sentences.cache_clear()
        (alone,) = support.judge([(sentences, text)])
        assert [j["evidence"] for j in alone] == [j["evidence"] for j in got]
        assert [j["score"] for j in alone] == pytest.approx([j["score"] for j in got], abs=1e-6)


def test_an_article_shared_by_sixteen_summaries_is_split_and_embedded_once(support, seed_article, monkeypatch):
    from harness.metrics.consistency import embedding_support

    splits, calls = [], []
    real_split, real_encode = embedding_support.split_sentences, support.encoder._model.encode
    monkeypatch.setattr(embedding_support, "split_sentences", lambda text: splits.append(text) or real_split(text))
    monkeypatch.setattr(support.encoder._model, "encode", lambda texts, **kw: calls.append(list(texts))
                        or real_encode(texts, **kw))
    support.encoder._cache.clear()
    embedding_support.article_sentences.cache_clear()
    body = seed_article.body
    items = [([f"Summary {i} says eight police officers were killed."], body) for i in range(16)]
    support.judge(items)
    assert splits == [body] and len(calls) == 1
    assert sorted(calls[0]) == sorted({*(s for ss, _ in items for s in ss), *split_sentences(body)})
    support.judge([(["Another summary of it."], body)])  # the article again: neither split nor embedded
    assert splits == [body] and calls[1] == ["Another summary of it."]


@pytest.mark.parametrize("text,value", [("eight", 8), ("8", 8), ("1,200 people", 1200), ("3.5 million", 3_500_000),
                                        ("twenty-five", 25), ("a dozen", 12), ("one hundred and five", 105),
                                        ("two thousand three hundred", 2300), ("$4.2 billion", 4_200_000_000)])
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_qualifiers_and_dates():
    assert split_qualifier("More than 1,200") == (">", "1,200")
    assert split_qualifier("nearly 300") == ("~", "300") and split_qualifier("300") == (None, "300")
    # 05/01/2022 reads as 5 January (day first) or 1 May (month first); both are kept.
    assert parse_dates("05/01/2022") == {(2022, 1, 5), (2022, 5, 1)}
    assert parse_dates("January 5, 2022") == parse_dates("5 January 2022") == {(2022, 1, 5)}
    assert dates_agree(parse_dates("05/01/2022"), parse_dates("on January 5, 2022"))
    assert not dates_agree(parse_dates("07/01/2022"), parse_dates("January 5, 2022"))
    assert dates_agree(parse_dates("Jan. 5"), parse_dates("5 January 2022"))  # no year: any year


@pytest.fixture(scope="module")
def entity():
    return EntityPrecision()


def test_wrong_number_scores_lower_and_the_span_is_named(entity, seed_article):
    right = entity.score("Kazakh officials said eight police officers were killed.", seed_article)
    wrong = entity.score("Kazakh officials said nine police officers were killed.", seed_article)
    assert right["score@entity"] == 1.0 and right["unmatched@entity"] == 0
    assert wrong["score@entity"] == 0.5  # Kazakh matched, nine not: precision-source 1/2
    found = [(e["text"], e["status"]) for e in wrong["entities@entity"]]
    assert found == [("Kazakh", "matched"), ("nine", "unmatched")]
    assert wrong["sentences@entity"][0]["supported"] is False


def test_normalisation_of_case_possessives_numbers_and_dates(entity):
    article = Article("a", "t", ("Vladimir Putin's troops arrived on January 5, 2022. Eight officers and over 300 "
                                 "others were hurt.",), ("b",))
    row = entity.score("PUTIN sent troops on 05/01/2022. 8 officers were hurt.", article)
    assert [(e["text"], e["status"]) for e in row["entities@entity"]] == [
        ("PUTIN", "matched"), ("05/01/2022", "matched"), ("8", "matched")]
    assert row["score@entity"] == 1.0


def test_a_changed_qualifier_is_reported_as_such(entity):
    article = Article("a", "t", ("Over 300 people were hurt in the unrest.",), ("b",))
    row = entity.score("300 people were hurt.", article)
    (mention,) = row["entities@entity"]
    assert mention["status"] == "qualifier_mismatch"
    assert mention["detail"] == "summary says exactly 300; the article says more than 300"
    assert row["score@entity"] == 0.0


def test_summary_without_entities_has_nothing_to_contradict(entity, seed_article):
    row = entity.score("Protesters were angry.", seed_article)
    assert row["score@entity"] == 1.0 and row["entities@entity"] == []


def test_nli_support_aggregates_summac_zero_shot(tiny_nli_dir, monkeypatch):
    from harness.metrics.consistency.nli_support import NLISupport
    from harness.models.nli import CONTRADICTION, ENTAILMENT

    scorer = NLISupport(str(tiny_nli_dir))
    # A deterministic fake NLI: entailment 0.9 when the premise contains the hypothesis' first
    # word, contradiction 0.8 when it contains "not"; otherwise neutral.
    def fake(premises, hypotheses):
        out = np.zeros((len(premises), 3))
        for k, (p, h) in enumerate(zip(premises, hypotheses, strict=True)):
            out[k, ENTAILMENT] = 0.9 if h.split()[0].lower() in p.lower() else 0.05
            out[k, CONTRADICTION] = 0.8 if "not" in p.split() else 0.05
        return out

    monkeypatch.setattr(scorer.nli, "probabilities", fake)
    article = Article("a", "t", ("Police fired shots. Troops did not arrive. Fuel prices rose.",), ("b",))
    row = scorer.score("Troops arrived. Fuel was cheap. Zebras ran.", article)
    troops, fuel, zebras = row["sentences@nli"]
    # Troops: entailed by "Troops did not arrive." (0.9 - 0.8 = 0.1), nothing better -> 0.1.
    assert troops["score"] == pytest.approx(0.1) and troops["evidence"] == "Troops did not arrive."
    assert troops["entailment"] == pytest.approx(0.9) and troops["contradiction"] == pytest.approx(0.8)
    assert fuel["score"] == pytest.approx(0.85) and fuel["evidence"] == "Fuel prices rose."
    assert zebras["score"] == pytest.approx(0.0)  # 0.05 - 0.05 at best
    assert row["score@nli"] == pytest.approx((0.1 + 0.85 + 0.0) / 3)
    assert row["min@nli"] == pytest.approx(0.0)


def test_nli_support_runs_a_real_model_end_to_end(tiny_nli_dir, seed_article):
    from harness.metrics.consistency.nli_support import NLISupport

    row = NLISupport(str(tiny_nli_dir), batch_size=8).score("Police officers were killed. Fuel prices rose.",
                                                            seed_article)
    assert len(row["sentences@nli"]) == 2 and all(-1 <= s["score"] <= 1 for s in row["sentences@nli"])
    assert all(s["evidence"] in split_sentences(seed_article.body) for s in row["sentences@nli"])


def test_bullet_contradiction_flags_a_changed_number_on_the_same_topic(seed_article):
    from harness.metrics.consistency.bullet_contradiction import BulletContradiction

    metric = BulletContradiction()
    wrong = metric.score("Kazakh officials claim nine police officers were shot to death.", seed_article)
    assert wrong["contradicted@bullets"] == 1 and wrong["contradiction_rate@bullets"] == 1.0
    (found,) = wrong["contradictions@bullets"]
    assert found["bullet"].startswith("Kazakh officials claim eight")
    assert found["reason"] == "number: summary says nine; the bullet says eight"
    assert metric.score("Kazakh officials claim 8 police officers died.", seed_article)["contradicted@bullets"] == 0
    assert metric.score("Nine people attended a concert in Paris.", seed_article)["contradicted@bullets"] == 0


def test_bullet_contradiction_with_nli_uses_the_contradiction_column(tiny_nli_dir, seed_article, monkeypatch):
    from harness.metrics.consistency.bullet_contradiction import BulletContradiction
    from harness.models.nli import CONTRADICTION

    metric = BulletContradiction(nli_model=str(tiny_nli_dir), threshold=0.5)

    def fake(premises, hypotheses):
        out = np.zeros((len(premises), 3))
        pairs = zip(premises, hypotheses, strict=True)
        out[:, CONTRADICTION] = [0.7 if "Mayor" in p and "car" in h else 0.1 for p, h in pairs]
        return out

    monkeypatch.setattr(metric.nli, "probabilities", fake)
    row = metric.score("The car was fine. Russia sent troops.", seed_article)
    assert row["contradicted@bullets"] == 1 and row["contradictions@bullets"][0]["probability"] == 0.7


@pytest.fixture(scope="module")
def judge(tiny_causal_dir):
    from harness.metrics.consistency.llm_judge import LLMJudge

    return LLMJudge(str(tiny_causal_dir), max_article_tokens=20)


def test_judge_score_is_the_yes_probability_from_the_next_token(judge):
    import torch

    article = "police officers were killed in the city"
    row = judge.score("eight police officers were killed", Article("a", "t", (article,), ("b",)))
    (sentence,) = row["sentences@judge"]
    ids = judge._prompt_ids(article, "eight police officers were killed")
    with torch.no_grad():
        probs = torch.softmax(judge._model(torch.tensor([ids])).logits[0, -1], dim=-1)
    p_yes, p_no = float(probs[judge.yes_ids].sum()), float(probs[judge.no_ids].sum())
    assert sentence["p_yes"] == pytest.approx(p_yes, abs=1e-4)
    assert sentence["score"] == pytest.approx(p_yes / (p_yes + p_no), abs=1e-4)


def test_judge_reuses_the_article_prefix_without_changing_scores(judge):
    article = Article("a", "t", ("the mayor office was on fire and police officers were killed",), ("b",))
    together = judge.score("police officers were killed. the mayor office was on fire.", article)["sentences@judge"]
    alone = [judge.score(s, article)["sentences@judge"][0] for s in ("police officers were killed.",
                                                                      "the mayor office was on fire.")]
    assert [t["score"] for t in together] == pytest.approx([a["score"] for a in alone], abs=1e-4)


def test_judge_cuts_long_articles_and_says_how_much(judge):
    long_article = Article("a", "t", (" ".join(["police"] * 50),), ("b",))
    (sentence,) = judge.score("police", long_article)["sentences@judge"]
    assert sentence["article_tokens_cut"] == 31  # title "t" + 50 tokens, max_article_tokens 20


def test_judge_prompt_needs_both_placeholders(tiny_causal_dir):
    from harness.errors import ConfigError
    from harness.metrics.consistency.llm_judge import LLMJudge

    with pytest.raises(ConfigError, match=r"\{article\} and \{sentence\}"):
        LLMJudge(str(tiny_causal_dir), prompt="Is it true? {sentence}")
