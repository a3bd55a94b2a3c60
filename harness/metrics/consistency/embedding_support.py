"""Embedding support: how close each summary sentence is to its nearest article sentence.

Metric card
-----------
Measures: for each summary sentence, the highest cosine similarity of its sentence embedding to
any article sentence (the embedded all-MiniLM-L6-v2 by default), and that article sentence as
evidence. Summary score (``consistency/score@embedding``): the mean over summary sentences;
``min@embedding`` the least supported one; see consistency/base.py for the other keys.
Range -1 to 1 (0 to 1 in practice); higher means every sentence has a close counterpart.
It is the cheap baseline the other consistency scorers must beat: it cannot see a changed
number, a negation or swapped roles ("eight" vs "nine" officers barely moves the embedding), and
it rewards copying. Threshold for "supported": tuned on the dev halves of the annotated sets
(docs/meta-eval-consistency.md).
"""

from __future__ import annotations

from harness.metrics.consistency.base import SentenceConsistency
from harness.models.sentence_encoder import EMBEDDED_ENCODER, SentenceEncoder
from harness.text.sentences import split_sentences


class EmbeddingSupport(SentenceConsistency):
    key = "embedding"
    display = "Embedding support"
    score_range = (-1.0, 1.0)

    def __init__(self, model: str = EMBEDDED_ENCODER, threshold: float = 0.5, device: str = "auto"):
        super().__init__(threshold)
        self.encoder = SentenceEncoder(model, setting="metrics.consistency_embedding.model", device=device)

    def describe(self) -> dict:
        return {**super().describe(), **self.encoder.describe()}

    def judge(self, items):
        # Encode every new text in one call, so the model runs in full batches.
        article_sentences = {text: split_sentences(text) for _, text in items}
        self.encoder.encode([s for sentences, _ in items for s in sentences]
                            + [s for ss in article_sentences.values() for s in ss])
        out = []
        for sentences, text in items:
            evidence = article_sentences[text]
            if not evidence:
                out.append([{"score": 0.0, "evidence": None} for _ in sentences])
                continue
            similarity = self.encoder.encode(sentences) @ self.encoder.encode(evidence).T
            out.append([{"score": float(row.max()), "evidence": evidence[int(row.argmax())]} for row in similarity])
        return out
