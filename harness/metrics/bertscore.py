"""BERTScore-style precision, recall and F1 of the summary against the reference bullets.

Metric card
-----------
Measures: semantic token overlap (Zhang et al. 2020). Each word-piece of the summary and of the
reference (the bullets, one text) gets a contextual embedding from a hidden layer of an encoder;
precision is the mean over summary tokens of the best cosine to a reference token, recall the
mean over reference tokens of the best cosine to a summary token, F1 their harmonic mean. No
idf weighting and no baseline rescaling (BERTScore's defaults), so values sit high: about 0.2-0.5
for unrelated English text with MiniLM, 1.0 for identical text. Direction: higher is better.
Encoder: the embedded all-MiniLM-L6-v2 (its last layer, 6) by default; ``model`` and ``layer``
are configurable and recorded in results.json. Texts beyond the encoder's input (256 word-pieces
for MiniLM) are cut.
Known failure modes: high for fluent text on the same topic; blind to negation and swapped
numbers; not comparable across encoders or layers; a summary longer than the encoder's input is
scored on its start only.
"""

from __future__ import annotations

import numpy as np

from harness.data.article import Article
from harness.metrics.base import Column, Metric
from harness.models.sentence_encoder import EMBEDDED_ENCODER, SentenceEncoder


def greedy_match(similarity: np.ndarray) -> tuple[float, float, float]:
    """(P, R, F1) from a (candidate tokens x reference tokens) cosine matrix; zeros when either is empty."""
    if similarity.size == 0:
        return 0.0, 0.0, 0.0
    p, r = float(similarity.max(axis=1).mean()), float(similarity.max(axis=0).mean())
    return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)


class BertScore(Metric):
    name = "bertscore"

    def __init__(self, model: str = EMBEDDED_ENCODER, layer: int | None = None, device: str = "auto"):
        self.encoder = SentenceEncoder(model, setting="metrics.bertscore.model", device=device)
        self.layer = layer

    def columns(self) -> dict[str, Column]:
        return {"f": Column("BERTScore F1", headline=True), "p": Column("BERTScore precision"),
                "r": Column("BERTScore recall")}

    def describe(self) -> dict:
        layers = self.encoder._model[0].auto_model.config.num_hidden_layers
        return {**self.encoder.describe(), "layer": self.layer or layers, "idf": False, "rescaled": False}

    def score(self, summary: str, article: Article) -> dict:
        if not summary.strip():
            return {"p": 0.0, "r": 0.0, "f": 0.0}
        _, candidate = self.encoder.token_embeddings(summary, self.layer)
        _, reference = self.encoder.token_embeddings("\n".join(article.bullets), self.layer)
        p, r, f = greedy_match(candidate @ reference.T)
        return {"p": p, "r": r, "f": f}
