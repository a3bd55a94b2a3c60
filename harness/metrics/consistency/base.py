"""Sentence-level consistency scorers share one shape: score each summary sentence against the
article (with evidence), then aggregate to the summary.

Per summary, with ``K`` the scorer's key (``consistency/<name>@K`` in results):
``score`` (the summary score: the mean over sentences unless the scorer states another rule),
``min`` (the least supported sentence), ``unsupported`` (sentences scoring below ``threshold``)
and ``sentences`` (per sentence: text, score, supported, and the scorer's evidence).
An empty summary has no sentences and scores 0.
"""

from __future__ import annotations

from abc import abstractmethod

from harness.data.article import Article
from harness.metrics.base import Column, Metric, count
from harness.text.sentences import split_sentences


class SentenceConsistency(Metric):
    name = "consistency"
    key: str
    display: str  # the summary score's name in reports ("Embedding support")
    score_range: tuple[float, float] = (0.0, 1.0)

    def __init__(self, threshold: float):
        self.threshold = float(threshold)

    def describe(self) -> dict:
        return {"scorer": self.key, "threshold": self.threshold}

    def columns(self) -> dict[str, Column]:
        k, low, high = self.key, *self.score_range
        return {f"score@{k}": Column(self.display, headline=True, low=low, high=high),
                f"min@{k}": Column(f"{self.display}, weakest sentence", low=low, high=high),
                f"unsupported@{k}": count(f"Unsupported sentences ({k})", higher_is_better=False)}

    @abstractmethod
    def judge(self, items: list[tuple[list[str], str]]) -> list[list[dict]]:
        """For each (summary sentences, article text): one dict per sentence with ``score`` and evidence."""

    def summary_score(self, judged: list[dict]) -> float:
        return sum(j["score"] for j in judged) / len(judged)

    def score(self, summary: str, article: Article) -> dict:
        return self.score_many([(summary, article)])[0]

    def score_many(self, pairs):
        items = [(split_sentences(summary), article.body) for summary, article in pairs]
        live = [i for i, (sentences, _) in enumerate(items) if sentences]
        judged = dict(zip(live, self.judge([items[i] for i in live]), strict=True))
        return [self._row(items[i][0], judged.get(i, [])) for i in range(len(items))]

    def _row(self, sentences: list[str], judged: list[dict]) -> dict:
        k = self.key
        scores = [j["score"] for j in judged]
        return {
            f"score@{k}": self.summary_score(judged) if judged else 0.0,
            f"min@{k}": min(scores) if scores else 0.0,
            f"unsupported@{k}": sum(s < self.threshold for s in scores),
            f"sentences@{k}": [{"sentence": s, **{n: (round(v, 4) if isinstance(v, float) else v)
                                                  for n, v in j.items()}, "supported": j["score"] >= self.threshold}
                               for s, j in zip(sentences, judged, strict=True)],
        }
