"""The metric interface: named scores for each (summary, article) pair, batched, and what each
scalar score means (``Column``), declared once by the metric that writes it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from harness.data.article import Article


@dataclass(frozen=True)
class Column:
    """What one scalar score means. Recorded per column in ``results.json`` (``metric_info``);
    every ranking, sort, chart, gate verdict and difference colouring reads its direction here.

    ``higher_is_better``: True, False (lower is better: errors, contradictions, repetition) or
    None (descriptive: length, copying style; never ranked as better or worse, never gated).
    ``headline``: shown as a leaderboard column and in the report's short menu.
    ``low``/``high``: the range (None: unbounded on that side).
    """

    display: str
    higher_is_better: bool | None = True
    headline: bool = False
    low: float | None = 0.0
    high: float | None = 1.0

    def to_dict(self) -> dict:
        return {"display": self.display, "higher_is_better": self.higher_is_better, "headline": self.headline,
                "range": [self.low, self.high]}


def count(display: str, *, higher_is_better: bool | None) -> Column:
    """A non-negative count (sentences, bullets, mentions)."""
    return Column(display, higher_is_better, low=0.0, high=None)


class Metric(ABC):
    """A metric returns flat scores per summary; the run prefixes them with ``name + "/"``.

    Scalar scores are averaged over articles in ``results.json``; other values (lists, dicts)
    stay per-row details in ``scores.jsonl``. Every scalar key ``score`` returns is declared by
    ``columns()`` (tests check it), so that readers never guess a direction or a name.
    """

    name: str

    @abstractmethod
    def score(self, summary: str, article: Article) -> dict:
        """Scores of one summary of ``article``."""

    @abstractmethod
    def columns(self) -> dict[str, Column]:
        """Every scalar key ``score`` returns (without the ``name/`` prefix) and what it means."""

    def describe(self) -> dict:
        """What the scores depend on beyond the code (model, layer, threshold); recorded in results.json."""
        return {}

    def score_many(self, pairs: list[tuple[str, Article]]) -> list[dict]:
        """Scores of many summaries; metrics with batched models override this."""
        return [self.score(summary, article) for summary, article in pairs]


def declared_columns(metrics: dict[str, Metric]) -> dict[str, dict]:
    """Full column name (``name/key``) -> its metadata and the metric config that writes it, for
    the metrics of a run (config key -> metric). Two configs writing one column is an error,
    raised before anything is generated, naming both."""
    from harness.errors import ConfigError

    out: dict[str, dict] = {}
    for config_key, metric in metrics.items():
        for key, column in metric.columns().items():
            full = f"{metric.name}/{key}"
            if full in out:
                raise ConfigError(
                    f"metrics {out[full]['metric']!r} and {config_key!r} both write the column {full!r}; the second "
                    f"would overwrite the first. Give one of them its own column key (for coverage: "
                    f"metrics.{config_key}.key=NAME), or drop one")
            out[full] = {**column.to_dict(), "metric": config_key}
    return out
