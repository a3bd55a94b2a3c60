"""The metric interface: named scores for each (summary, article) pair, batched."""

from __future__ import annotations

from abc import ABC, abstractmethod

from harness.data.article import Article


class Metric(ABC):
    """A metric returns flat scores per summary; the run prefixes them with ``name + "/"``.

    Scalar scores are averaged over articles in ``results.json``; other values (lists, dicts)
    stay per-row details in ``scores.jsonl``.
    """

    name: str

    @abstractmethod
    def score(self, summary: str, article: Article) -> dict:
        """Scores of one summary of ``article``."""

    def describe(self) -> dict:
        """What the scores depend on beyond the code (model, layer, threshold); recorded in results.json."""
        return {}

    def score_many(self, pairs: list[tuple[str, Article]]) -> list[dict]:
        """Scores of many summaries; metrics with batched models override this."""
        return [self.score(summary, article) for summary, article in pairs]
