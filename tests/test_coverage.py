"""Bullet coverage: each matcher on hand-worked values, the metric's thresholding, and the seed article."""

import numpy as np
import pytest
from rouge_score import rouge_scorer

from harness.data.article import Article
from harness.errors import ModelLoadError
from harness.metrics.coverage.bullet_coverage import BulletCoverage, bullet_scores
from harness.metrics.coverage.entailment import EntailmentMatcher
from harness.metrics.coverage.lexical import LexicalMatcher
from harness.metrics.coverage.matcher import BulletMatcher, Match
from harness.metrics.coverage.semantic import SemanticMatcher
from harness.models.nli import CONTRADICTION, ENTAILMENT, NEUTRAL, NLIModel, label_columns
from harness.text.sentences import split_sentences

PAIRS = [("Kazakh officials claim eight police officers were shot", "Eight officers were shot dead, officials said."),
         ("Protestors set on fire the Mayor's Office", "The mayor's office was set on fire by protesters."),
         ("Russia sent a peacekeeping force", "Nothing in common here."),
         ("The the the cat", "the cat")]


def test_lexical_recall_by_hand():
    # Stemmed bullet tokens: eight polic offic were shot; found: eight offic were shot -> 4/5.
    assert LexicalMatcher(n=1).recall("eight police officers were shot", "Eight officers were shot dead.") == 0.8
    # Bigrams: (eight polic) (polic offic) (offic were) (were shot); found: (offic were) (were shot) -> 2/4.
    assert LexicalMatcher(n=2).recall("eight police officers were shot", "Eight officers were shot dead.") == 0.5
    assert LexicalMatcher().recall("...", "anything") == 0.0


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("bullet,text", PAIRS)
def test_lexical_recall_equals_rouge_score(n, bullet, text):
    expected = rouge_scorer.RougeScorer([f"rouge{n}"], use_stemmer=True).score(bullet, text)[f"rouge{n}"].recall
    assert LexicalMatcher(n=n).recall(bullet, text) == pytest.approx(expected)


class FixedMatcher(BulletMatcher):
    name = "fixed"

    def __init__(self, matrix, whole):
        self.matrix, self.whole = np.array(matrix, dtype=float), np.array(whole, dtype=float)

    def match(self, bullets, sentences, summary):
        return Match(self.matrix, self.whole)


def test_bullet_score_is_max_of_best_sentence_and_whole_summary():
    scores, best = bullet_scores(Match(np.array([[0.2, 0.7], [0.1, 0.3], [0.5, 0.4]]), np.array([0.6, 0.55, 0.1])))
    assert scores.tolist() == [0.7, 0.55, 0.5] and best == [1, 1, 0]



def test_threshold_is_inclusive():
    article = Article("a", "t", ("Body.",), ("b1", "b2", "b3"))
    metric = BulletCoverage(FixedMatcher([[0.2, 0.7], [0.1, 0.3], [0.5, 0.4]], [0.6, 0.45, 0.1]), threshold=0.5)
    row = metric.score("First sentence. Second sentence.", article)
    assert [b["covered"] for b in row["bullets@fixed"]] == [True, False, True]
    assert row["bullets_covered@fixed"] == 2 and row["bullet_recall@fixed"] == pytest.approx(2 / 3)
    assert row["bullet_score@fixed"] == pytest.approx((0.7 + 0.45 + 0.5) / 3)
    assert [b["sentence"] for b in row["bullets@fixed"]] == ["Second sentence.", "Second sentence.", "First sentence."]
    assert row["matrix@fixed"] == [[0.2, 0.7], [0.1, 0.3], [0.5, 0.4]]


def test_empty_summary_covers_nothing_without_calling_the_matcher(seed_article):
    class Exploding(BulletMatcher):
        name = "boom"

        def match(self, *args):
            raise AssertionError("matcher called on an empty summary")

    row = BulletCoverage(Exploding(), 0.5).score("   \n ", seed_article)
    assert row["bullets_covered@boom"] == 0 and row["bullets_total@boom"] == 5 and row["matrix@boom"] == [[]] * 5


@pytest.fixture(scope="module")
def semantic():
    return SemanticMatcher()


def test_semantic_cosine_of_a_text_with_itself_is_one(semantic):
    match = semantic.match(["Police fired at protesters."], ["Police fired at protesters.", "It rained."],
                           "Police fired at protesters. It rained.")
    assert match.matrix[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert match.matrix[0, 1] < 0.5


def _lead3(article):
    return " ".join(split_sentences(article.body)[:3])


@pytest.mark.parametrize("matcher,threshold", [(LexicalMatcher(), 0.65), ("semantic", 0.54)])
def test_seed_article_bullets_lead3_and_an_unrelated_paragraph(seed_article, semantic, matcher, threshold):
    metric = BulletCoverage(semantic if matcher == "semantic" else matcher, threshold)
    name = metric.matcher.name
    rows = metric.score_many([("\n".join(seed_article.bullets), seed_article), (_lead3(seed_article), seed_article),
                              (seed_article.paragraphs[-1], seed_article)])
    covered = [[i + 1 for i, b in enumerate(r[f"bullets@{name}"]) if b["covered"]] for r in rows]
    assert covered[0] == [1, 2, 3, 4, 5]
    # Lead-3 says Russia sent a peacekeeping force (bullet 1) and protesters set the mayor's office
    # on fire (bullet 3, in other words: only the semantic matcher sees it at its threshold).
    assert covered[1] == ([1] if name == "lexical" else [1, 3])
    assert len(covered[2]) < len(covered[1])


def test_label_columns_read_id2label():
    assert label_columns({0: "CONTRADICTION", 1: "ENTAILMENT", 2: "NEUTRAL"}) == {
        0: CONTRADICTION, 1: ENTAILMENT, 2: NEUTRAL}
    assert label_columns({"0": "entailment", "1": "not_entailment"}) == {0: ENTAILMENT, 1: NEUTRAL}
    # hyphens and spaces are the same word break: "non-entailment" is not entailment
    assert label_columns({0: "entailment", 1: "non-entailment"}) == {0: ENTAILMENT, 1: NEUTRAL}
    assert label_columns({0: "Entailment", 1: "Not Entailment"}) == {0: ENTAILMENT, 1: NEUTRAL}
    with pytest.raises(ModelLoadError, match="no entailment label"):
        label_columns({0: "NEGATIVE", 1: "POSITIVE"})


def test_nli_model_from_a_directory_gives_probabilities_in_its_label_order(tiny_nli_dir):
    import torch

    nli = NLIModel(str(tiny_nli_dir), batch_size=2)
    premises = ["police officers were killed", "the mayor office fire", "fuel prices"]
    hypotheses = ["police", "fire", "a"]
    probs = nli.probabilities(premises, hypotheses)
    assert probs.shape == (3, 3) and np.allclose(probs.sum(axis=1), 1.0)
    batch = nli._tokenizer(premises[:1], hypotheses[:1], return_tensors="pt")
    with torch.no_grad():
        direct = torch.softmax(nli._model(**batch).logits, dim=-1)[0].numpy()
    # The model's index 1 is ENTAILMENT, index 0 CONTRADICTION.
    assert probs[0, ENTAILMENT] == pytest.approx(direct[1], abs=1e-5)
    assert probs[0, CONTRADICTION] == pytest.approx(direct[0], abs=1e-5)


def test_entailment_matcher_batches_every_pair_and_reshapes(tiny_nli_dir, monkeypatch):
    matcher = EntailmentMatcher(str(tiny_nli_dir))
    seen = []

    def fake(premises, hypotheses):
        seen.append(list(zip(premises, hypotheses, strict=True)))
        out = np.zeros((len(premises), 3))
        out[:, ENTAILMENT] = [0.9 if p.startswith(h) else 0.1 for p, h in zip(premises, hypotheses, strict=True)]
        return out

    monkeypatch.setattr(matcher.nli, "probabilities", fake)
    matches = matcher.match_many([(["b1", "b2"], ["b1 yes", "other"], "b1 yes other"),
                                  (["b3"], ["b3 too"], "b3 too")])
    assert len(seen) == 1 and len(seen[0]) == 2 * 3 + 1 * 2  # one batched call for both summaries
    assert matches[0].matrix.tolist() == [[0.9, 0.1], [0.1, 0.1]] and matches[0].whole.tolist() == [0.9, 0.1]
    assert matches[1].matrix.tolist() == [[0.9]] and matches[1].whole.tolist() == [0.9]


def test_offline_hub_nli_model_names_the_fix():
    with pytest.raises(ModelLoadError, match="hf download some-org/nli-model"):
        NLIModel("some-org/nli-model")
