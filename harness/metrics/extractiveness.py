"""Extractiveness and length of a summary against its article (not the bullets).

Metric card
-----------
Measures (``extractive/...``): Grusky et al.'s fragment ``coverage`` (0 to 1: share of summary
words copied from the article), ``density`` (0 and up: mean squared copied-span length per word;
1-2 is abstractive, 10+ is near-verbatim copying) and ``compression`` (article words per summary
word); ``novel_{n}gram`` (share of the summary's distinct n-grams, n = 1..3, absent from the
article: 0 to 1) and ``repeated_{n}gram`` (share of distinct summary n-grams that occur more
than once in it: 0 to 1, high means the model loops); ``words`` and ``sentences``.
Tokens: spaCy's tokenizer, as SummEval's DataStatsMetric: fragments match lower-cased tokens,
n-gram shares are case-sensitive (as in that code). Our figures equal its on the same inputs
(tests/test_extractiveness.py); one difference: whitespace tokens (line breaks) are dropped
here.
Direction: none of these is "better" by itself; they describe a system's style (a system that
copies scores high coverage and density and is safer from hallucination); repetition is bad.
Known failure modes: punctuation counts as words; a copied sentence with one changed number
stays highly "extractive"; the greedy matching misses some longer fragments (see text/fragments).
"""

from __future__ import annotations

from collections import Counter

from harness.data.article import Article
from harness.metrics.base import Column, Metric, count
from harness.text import fragments as frag
from harness.text.sentences import split_sentences
from harness.text.tokens import word_tokens


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


class Extractiveness(Metric):
    name = "extractive"

    def __init__(self, max_n: int = 3):
        self.max_n = max_n

    def columns(self) -> dict[str, Column]:
        columns = {"coverage": Column("Extractive coverage", None), "density": Column("Extractive density", None,
                                                                                        high=None),
                   "compression": Column("Compression ratio", None, high=None),
                   "words": count("Summary words", higher_is_better=None),
                   "sentences": count("Summary sentences", higher_is_better=None)}
        for n in range(1, self.max_n + 1):
            columns[f"novel_{n}gram"] = Column(f"Novel {n}-grams", None)
            columns[f"repeated_{n}gram"] = Column(f"Repeated {n}-grams", higher_is_better=False)
        return columns

    def describe(self) -> dict:
        return {"tokenizer": "spacy en_core_web_sm", "max_n": self.max_n}

    def score(self, summary: str, article: Article) -> dict:
        s, a = word_tokens(summary), word_tokens(article.body)
        lengths = frag.fragments(s, a)
        out = {"coverage": frag.coverage(lengths, len(s)), "density": frag.density(lengths, len(s)),
               "compression": frag.compression(len(a), len(s)), "words": len(s),
               "sentences": len(split_sentences(summary))}
        for n in range(1, self.max_n + 1):
            summary_ngrams = ngrams(s, n)
            distinct = set(summary_ngrams)
            counts = Counter(summary_ngrams)
            out[f"novel_{n}gram"] = len(distinct - set(ngrams(a, n))) / len(distinct) if distinct else 0.0
            out[f"repeated_{n}gram"] = sum(1 for c in counts.values() if c > 1) / len(distinct) if distinct else 0.0
        return out
