"""ROUGE-1/2/L/Lsum of a summary against the reference bullets, with Google's `rouge-score`.

Metric card
-----------
Measures: n-gram (ROUGE-1, -2) and longest-common-subsequence (ROUGE-L, and ROUGE-Lsum, the
union LCS over sentences) overlap between the summary and the reference bullets, after
Porter stemming. Precision, recall and F1 are reported for each (``rouge/rouge1_f`` etc.).
Inputs: the bullets one per line form the reference; the summary is split into sentences,
one per line (ROUGE-Lsum reads lines as sentences; the others ignore line breaks).
Range: 0 to 1. Direction: higher is better.
Known failure modes: rewards word overlap, not meaning (a paraphrase scores low, a fluent
contradiction sharing the words scores high); favours long summaries on recall and extractive
ones overall; English-only tokenisation (non-ASCII letters are dropped by the tokenizer);
not comparable across reference sets of different length.
"""

from __future__ import annotations

from rouge_score import rouge_scorer

from harness.data.article import Article
from harness.metrics.base import Column, Metric
from harness.text.sentences import split_sentences

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_DISPLAY = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"}
_PARTS = {"p": "precision", "r": "recall", "f": "F1"}
HEADLINE = ("rougeLsum_f", "rouge1_f", "rouge2_f")  # in this order on the leaderboard


class Rouge(Metric):
    name = "rouge"

    def __init__(self, use_stemmer: bool = True):
        self.use_stemmer = use_stemmer
        self._scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)

    def columns(self) -> dict[str, Column]:
        keys = [*HEADLINE, *(f"{k}_{p}" for k in ROUGE_TYPES for p in _PARTS if f"{k}_{p}" not in HEADLINE)]
        return {key: Column(f"{_DISPLAY[key[:-2]]} {_PARTS[key[-1]]}", headline=key in HEADLINE) for key in keys}

    def score(self, summary: str, article: Article) -> dict:
        reference = "\n".join(article.bullets)
        prediction = "\n".join(split_sentences(summary))
        scores = self._scorer.score(reference, prediction)
        out = {}
        for kind in ROUGE_TYPES:
            s = scores[kind]
            out.update({f"{kind}_p": s.precision, f"{kind}_r": s.recall, f"{kind}_f": s.fmeasure})
        return out
