"""Semantic matcher: cosine similarity of sentence embeddings of a bullet and a summary sentence.

Embeddings from a sentence-transformers model (the embedded all-MiniLM-L6-v2 by default), cached
per text. Range -1 to 1 (in practice 0 to 1 for English prose); higher means closer meaning.
Fails on negation and swapped roles or numbers (they barely move the embedding), and rewards
topical sentences that share the subject but not the fact.
"""

from __future__ import annotations

from harness.metrics.coverage.matcher import BulletMatcher, Match
from harness.models.sentence_encoder import EMBEDDED_ENCODER, SentenceEncoder


class SemanticMatcher(BulletMatcher):
    name = "semantic"
    score_range = (-1.0, 1.0)  # cosine

    def __init__(self, model: str = EMBEDDED_ENCODER, batch_size: int = 64, device: str = "auto"):
        self.encoder = SentenceEncoder(model, batch_size=batch_size, setting="metrics.coverage_semantic.matcher.model",
                                       device=device)

    def describe(self) -> dict:
        return {"matcher": self.name, **self.encoder.describe()}

    def match(self, bullets, sentences, summary) -> Match:
        b = self.encoder.encode(bullets)
        s = self.encoder.encode(sentences)
        whole = self.encoder.encode([summary])[0]
        return Match((b @ s.T).astype(float), (b @ whole).astype(float))

    def match_many(self, items):
        # One encoder call for every new text, so the model runs in full batches.
        self.encoder.encode([t for bullets, sentences, summary in items for t in (*bullets, *sentences, summary)])
        return [self.match(*item) for item in items]
