"""Sentence-level consistency scorers share one shape: score each summary sentence against the
article (with evidence), then aggregate to the summary.

Per summary, with ``K`` the scorer's key (``consistency/<name>@K`` in results):
``score`` (the summary score: the mean over sentences unless the scorer states another rule),
``min`` (the least supported sentence), ``unsupported`` (sentences scoring below ``threshold``)
and ``sentences`` (per sentence: text, score, supported, level, flagged, and the scorer's evidence).
An empty summary has no sentences and scores 0.

What the article is: its title and its body (`article_text`): a name the title gives is in the article.

Flags, for editors (report.html, report.md): one threshold, one meaning. A sentence scoring below
``threshold`` is *flagged*: it counts in ``unsupported@K``, it is marked on the page and it sorts the
page; its level names why (`flag_level`: ``unsupported`` here, ``contradicted`` or ``not in the
article`` where a scorer knows more). At or above it, a sentence is ``supported``. There is no
third tag. The shipped thresholds are chosen across data sets and measured on the one left out
(`harness.meta_eval.transfer`; docs/meta-eval-consistency.md, "Transfer"): each config's comment
and each scorer's ``calibration`` give the measured false-flag rate on consistent summaries and
the share of inconsistent summaries flagged, per domain.
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


def problems(judged: dict) -> list[str]:
    """What an editor must check in one judged sentence (as saved in scores.jsonl), as plain text:
    its names and numbers the article lacks (`consistency_entity`), the roles it gets wrong (a
    reversed role, a statement by someone the article never quotes: `consistency_claims`), and, where the sentence is
    flagged, the words or claims the scorer did not find (``missing``: `consistency_lemmas`,
    `consistency_claims`), as one line per sentence ("3 of its 8 claims not found in the article: …")."""
    out = []
    for entity in judged.get("entities", []):
        if entity["status"] == "unmatched":
            out.append(f"“{entity['text']}” is not in the article")
        elif entity["status"] == "qualifier_mismatch":
            out.append(f"“{entity['text']}”: {entity['detail']}")
    out += [r for r in judged.get("roles", ()) if isinstance(r, str)]  # `consistency_claims`: who did what
    missing = [m for m in judged.get("missing", ()) if isinstance(m, str)]
    if judged.get("flagged") and missing:  # one line per sentence, however many pairs or words
        n = judged.get("claims")
        out.append(f"{len(missing)} of its {n} claims not found in the article: " + "; ".join(missing)
                   if isinstance(n, int) and n >= len(missing) else
                   f"{len(missing)} not in the article: " + ", ".join(f"“{m}”" for m in missing))
    return out


class SentenceConsistency(Metric):
    name = "consistency"
    key: str
    display: str  # the summary score's name in reports ("Embedding support")
    score_range: tuple[float, float] = (0.0, 1.0)

    def __init__(self, threshold: float):
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold != threshold:
            name = getattr(self, "key", type(self).__name__)
            raise ConfigError(f"consistency scorer {name!r}: threshold must be a number, got {threshold!r}")
        self.threshold = float(threshold)

    @classmethod
    def config_ranges(cls, params: dict) -> dict:
        """For `harness.config_check`, before anything is built: a threshold within the scores (one
        outside flags every sentence, or none)."""
        return {"threshold": cls.score_range}

    def describe(self) -> dict:
        return {"scorer": self.key, "threshold": self.threshold}

    def flag_level(self, judged: dict) -> str:
        """Why a sentence scoring below ``flag_below`` is flagged, from its verdict."""
        return "unsupported"

    def level(self, judged: dict) -> str:
        """``supported`` (at or above threshold), else the flag's level."""
        return "supported" if judged["score"] >= self.threshold else self.flag_level(judged)

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
                                "level": self.level(j), "flagged": j["score"] < self.threshold}
                               for s, j in zip(sentences, judged, strict=True)],
        }
