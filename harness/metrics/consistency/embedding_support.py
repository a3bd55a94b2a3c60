"""Embedding support: how close each summary sentence is to its nearest article sentence.

Metric card
-----------
Measures: for each summary sentence, the highest cosine similarity of its sentence embedding to
any article sentence (the embedded all-MiniLM-L6-v2 by default), and that article sentence as
evidence. Per summary (``consistency/<key>@embedding``): ``support_mean`` (mean over summary
sentences) and ``support_min`` (the least supported sentence), ``unsupported`` (sentences below
``threshold``), and ``sentences`` (per sentence: score, supported, evidence). Range -1 to 1 (0
to 1 in practice); higher means every sentence has a close counterpart in the article.
It is the cheap baseline the other consistency scorers must beat: it cannot see a changed
number, a negation or swapped roles ("eight" vs "nine" officers barely moves the embedding), and
it rewards copying. An empty summary scores 0 with no sentences.
Threshold: 0.5 until calibrated on annotated data (``harness meta-eval``, consistency issue).
"""

from __future__ import annotations

import numpy as np

from harness.data.article import Article
from harness.metrics.base import Metric
from harness.models.sentence_encoder import EMBEDDED_ENCODER, SentenceEncoder
from harness.text.sentences import split_sentences


class EmbeddingSupport(Metric):
    name = "consistency"

    def __init__(self, model: str = EMBEDDED_ENCODER, threshold: float = 0.5):
        self.encoder = SentenceEncoder(model, setting="metrics.consistency_embedding.model")
        self.threshold = float(threshold)

    def describe(self) -> dict:
        return {**self.encoder.describe(), "threshold": self.threshold}

    def sentence_support(self, sentences: list[str], article_sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per summary sentence: the best cosine to an article sentence, and that sentence's index."""
        if not sentences or not article_sentences:
            return np.zeros(len(sentences)), np.zeros(len(sentences), dtype=int)
        similarity = self.encoder.encode(sentences) @ self.encoder.encode(article_sentences).T
        return similarity.max(axis=1), similarity.argmax(axis=1)

    def score(self, summary: str, article: Article) -> dict:
        sentences = split_sentences(summary)
        article_sentences = split_sentences(article.body)
        best, where = self.sentence_support(sentences, article_sentences)
        return {
            "support_mean@embedding": float(best.mean()) if sentences else 0.0,
            "support_min@embedding": float(best.min()) if sentences else 0.0,
            "unsupported@embedding": int((best < self.threshold).sum()),
            "sentences@embedding": [
                {"sentence": s, "score": round(float(b), 4), "supported": bool(b >= self.threshold),
                 "evidence": article_sentences[int(j)] if article_sentences else None}
                for s, b, j in zip(sentences, best, where, strict=True)],
        }
