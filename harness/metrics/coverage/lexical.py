"""Lexical matcher: ROUGE-N recall of a bullet's n-grams in a summary sentence (and the whole summary).

Tokens are rouge-score's own (lower-cased, non-alphanumerics dropped, Porter-stemmed), so a
score equals ``rouge_scorer.RougeScorer([f"rouge{n}"]).score(bullet, text).recall``; each text
is tokenised once however many pairs it is in. Range 0 to 1, higher means more of the bullet's
words appear. Fails on paraphrase ("police" vs "officers") and counts stopwords.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import numpy as np
from rouge_score.tokenizers import DefaultTokenizer

from harness.metrics.coverage.matcher import BulletMatcher, Match


class LexicalMatcher(BulletMatcher):
    name = "lexical"

    def __init__(self, n: int = 1, use_stemmer: bool = True):
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        self.n, self.use_stemmer = n, use_stemmer
        self._tokenize = lru_cache(maxsize=100_000)(DefaultTokenizer(use_stemmer=use_stemmer).tokenize)

    def describe(self) -> dict:
        return {"matcher": self.name, "rouge": f"rouge{self.n}", "stemmer": self.use_stemmer}

    def _ngrams(self, text: str) -> Counter:
        tokens = self._tokenize(text)
        return Counter(tuple(tokens[i:i + self.n]) for i in range(len(tokens) - self.n + 1))

    def recall(self, bullet: str, text: str) -> float:
        """ROUGE-N recall of ``bullet`` (the target) in ``text`` (the prediction)."""
        target, found = self._ngrams(bullet), self._ngrams(text)
        total = sum(target.values())
        return sum(min(count, found[gram]) for gram, count in target.items()) / total if total else 0.0

    def match(self, bullets, sentences, summary) -> Match:
        matrix = np.array([[self.recall(b, s) for s in sentences] for b in bullets]).reshape(len(bullets),
                                                                                              len(sentences))
        return Match(matrix, np.array([self.recall(b, summary) for b in bullets]))
