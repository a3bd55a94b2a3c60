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
it rewards copying, so abstractive human text (reference bullets, BBC-style one-sentence summaries)
scores low and is flagged more often than machine summaries that copy (figures below).

Speed: a batch's distinct texts (every summary sentence and the sentences of every distinct
article) are embedded in one encoder call; an article is split into sentences once per process
(`article_sentences`) and its sentence embeddings are cached by the encoder, so an article shared
by 16 summaries is split and embedded once. ``quantize: int8`` (opt-in, CPU only) embeds with an
int8 MiniLM: 1.9x faster on 2 cores, but scores move by up to 0.1 and the threshold was chosen in
float32; XSumFaith's balanced accuracy moved from 0.565 to 0.598, outside its float32 interval
(docs/performance.md, "The faster encoder bound").
Measured flags (at the flag threshold of the shipped calibration, harness/calibration/shipped.json;
`harness meta-eval --split lodo`, each labelled set left
out in turn with its flag threshold chosen on the others; docs/meta-eval-consistency.md, "Transfer"
and "Flags"): summaries flagged, consistent / inconsistent, on the set left out: QAGS-C 0.9% /
6.6%, SummEval 8.8% / 29.9%, CogenSumm 4.5% / 4.5%, FactCC 0.5% / 1.6%, Polytope 0.0% / 2.5%,
XSumFaith (BBC) 19.2% / 40.1%. Human reference sentences (SummEval's 11 references of 100 CNN/DM
articles) flagged: 12.7% of 2870; QAGS-C sentences people judged unsupported flagged: 4.9% of 183
(`python -m harness.meta_eval.flags`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from harness.metrics.consistency.base import SentenceConsistency
from harness.models.sentence_encoder import EMBEDDED_ENCODER, SentenceEncoder
from harness.text.sentences import split_sentences


@lru_cache(maxsize=4096)
def article_sentences(text: str) -> tuple[str, ...]:
    """The sentences of an article text, split once per process however many summaries cite it."""
    return tuple(split_sentences(text))


class EmbeddingSupport(SentenceConsistency):
    key = "embedding"
    display = "Embedding support"
    score_range = (-1.0, 1.0)

    def __init__(self, model: str = EMBEDDED_ENCODER, threshold: float = 0.5, device: str = "auto",
                 quantize: str = "none"):
        super().__init__(threshold)
        self.encoder = SentenceEncoder(model, setting="metrics.consistency_embedding.model", device=device,
                                       quantize=quantize)

    def describe(self) -> dict:
        return {**super().describe(), **self.encoder.describe()}

    def judge(self, items):
        evidence = {text: article_sentences(text) for text in dict.fromkeys(text for _, text in items)}
        # One encoder call for every distinct sentence of the batch (cached ones are not re-embedded).
        texts = list(dict.fromkeys([s for sentences, _ in items for s in sentences]
                                   + [s for ss in evidence.values() for s in ss]))
        vectors, row = self.encoder.encode(texts), {t: i for i, t in enumerate(texts)}
        article_vectors = {text: vectors[[row[s] for s in ss]] for text, ss in evidence.items() if ss}
        out = []
        for sentences, text in items:
            if not evidence[text]:
                out.append([{"score": 0.0, "evidence": None} for _ in sentences])
                continue
            similarity = vectors[[row[s] for s in sentences]] @ article_vectors[text].T
            best = np.argmax(similarity, axis=1)
            out.append([{"score": float(similarity[i, j]), "evidence": evidence[text][j]}
                        for i, j in enumerate(best.tolist())])
        return out
