"""Sentence-level consistency scorers share one shape: score each summary sentence against the
article (with evidence), then aggregate to the summary.

Per summary, with ``K`` the scorer's key (``consistency/<name>@K`` in results):
``score`` (the summary score: the mean over sentences unless the scorer states another rule),
``min`` (the least supported sentence), ``unsupported`` (sentences scoring below ``threshold``)
and ``sentences`` (per sentence: text, score, supported, level, flagged, and the scorer's evidence).
An empty summary has no sentences and scores 0.

What the article is: its title and its body (`article_text`): a name the title gives is in the article.

Flags, for editors (report.html, report.md): a sentence is ``supported`` at ``threshold`` or above;
below it, a sentence is *flagged* only where the scorer is confident, below ``flag_below``
(default: ``threshold``); between the two it is ``weak support``, shown but not flagged. A flagged
sentence's level names why (`flag_level`: ``unsupported`` here, ``contradicted`` or ``not in the
article`` where a scorer knows more). ``flag_below`` is calibrated so that human-written reference
summaries are rarely flagged (`harness.meta_eval.flags`, docs/meta-eval-consistency.md, "Flags").
"""

from __future__ import annotations

from abc import abstractmethod

from harness.data.article import Article
from harness.errors import ConfigError
from harness.metrics.base import Column, Metric, count
from harness.text.sentences import split_sentences


def article_text(article: Article) -> str:
    """What a consistency scorer checks a summary against: the title (its own line), then the body."""
    return f"{article.title}\n{article.body}" if article.title and article.title.strip() else article.body


class SentenceConsistency(Metric):
    name = "consistency"
    key: str
    display: str  # the summary score's name in reports ("Embedding support")
    score_range: tuple[float, float] = (0.0, 1.0)

    def __init__(self, threshold: float, flag_below: float | None = None):
        self.threshold = float(threshold)
        self.flag_below = self.threshold if flag_below is None else float(flag_below)
        if self.flag_below > self.threshold:
            name = getattr(self, "key", type(self).__name__)
            raise ConfigError(f"consistency scorer {name!r}: flag_below ({self.flag_below}) must not be above "
                              f"threshold ({self.threshold}): a supported sentence cannot be flagged")

    def describe(self) -> dict:
        return {"scorer": self.key, "threshold": self.threshold, "flag_below": self.flag_below}

    def flag_level(self, judged: dict) -> str:
        """Why a sentence scoring below ``flag_below`` is flagged, from its verdict."""
        return "unsupported"

    def level(self, judged: dict) -> str:
        """``supported``, ``weak support`` (below threshold, not flagged) or the flag's level."""
        if judged["score"] >= self.threshold:
            return "supported"
        if judged["score"] >= self.flag_below:
            return "weak support"
        return self.flag_level(judged)

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
        items = [(split_sentences(summary), article_text(article)) for summary, article in pairs]
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
                                                  for n, v in j.items()}, "supported": j["score"] >= self.threshold,
                                "level": self.level(j), "flagged": j["score"] < self.flag_below}
                               for s, j in zip(sentences, judged, strict=True)],
        }
