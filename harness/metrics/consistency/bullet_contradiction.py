"""Contradictions of the reference bullets: summary sentences that state the opposite of a bullet.

Metric card
-----------
Measures: for each summary sentence, whether it contradicts one of the article's human bullets.
- With an NLI model configured (``nli_model``): P(contradiction) of (bullet => sentence) at or
  above ``threshold`` for some bullet.
- Without one (the offline default): a number or date mismatch on the same topic. The sentence
  and a bullet are on the same topic when at least ``overlap`` of the sentence's content words
  (ROUGE-1 recall of the sentence in the bullet, numbers and dates left out) occur in the bullet;
  they contradict when, on the same topic, the sentence has a number (or date) and the bullet has
  one of the same kind, and none of the sentence's values is among the bullet's ("nine police
  officers were shot" against "eight police officers were shot").
Per summary (``consistency/<key>@bullets``): ``contradicted`` (sentences contradicting a bullet),
``contradiction_rate`` (contradicted / summary sentences, 0 to 1, lower is better) and
``contradictions`` (sentence, bullet, reason, and the NLI probability where used).
Known failure modes: the offline rule sees only numbers and dates (a swapped name or a negation
passes); bullets are short, so NLI contradiction of a long sentence is noisy; a sentence about a
different event with a shared vocabulary can be flagged.
"""

from __future__ import annotations

from harness.data.article import Article
from harness.metrics.base import Column, Metric, count
from harness.metrics.coverage.lexical import LexicalMatcher
from harness.text.entities import mentions
from harness.text.numbers import dates_agree
from harness.text.sentences import split_sentences


def _without_spans(text: str, spans) -> str:
    for m in sorted(spans, key=lambda m: -m.start):
        text = text[:m.start] + " " + text[m.end:]
    return text


def value_conflict(sentence: str, bullet: str) -> str | None:
    """Why ``sentence`` and ``bullet`` disagree on a number or date, or None when they do not."""
    for kind in ("number", "date"):
        ours = [m for m in mentions(sentence) if m.kind == kind and (m.value is not None or m.dates)]
        theirs = [m for m in mentions(bullet) if m.kind == kind and (m.value is not None or m.dates)]
        if not ours or not theirs:
            continue
        if kind == "number" and not {m.value for m in ours} & {m.value for m in theirs}:
            return f"number: summary says {', '.join(m.text for m in ours)}; the bullet says " \
                   f"{', '.join(m.text for m in theirs)}"
        if kind == "date" and not dates_agree(set().union(*(m.dates for m in ours)),
                                              set().union(*(m.dates for m in theirs))):
            return f"date: summary says {', '.join(m.text for m in ours)}; the bullet says " \
                   f"{', '.join(m.text for m in theirs)}"
    return None


class BulletContradiction(Metric):
    name = "consistency"

    def __init__(self, nli_model: str | None = None, threshold: float = 0.5, overlap: float = 0.5):
        self.threshold, self.overlap = float(threshold), float(overlap)
        self.nli = None
        if nli_model:
            from harness.models.nli import NLIModel

            self.nli = NLIModel(nli_model, setting="metrics.consistency_bullets.nli_model")
        self._lexical = LexicalMatcher(n=1)

    def columns(self) -> dict[str, Column]:
        return {"contradiction_rate@bullets": Column("Bullet contradictions", False, headline=True),
                "contradicted@bullets": count("Sentences contradicting a bullet", higher_is_better=False)}

    def describe(self) -> dict:
        rule = self.nli.describe() if self.nli else {"rule": "number/date mismatch on the same topic",
                                                     "overlap": self.overlap}
        return {**rule, "threshold": self.threshold}

    def _offline(self, sentence: str, bullet: str) -> dict | None:
        content = _without_spans(sentence, [m for m in mentions(sentence) if m.kind in ("number", "date")])
        if self._lexical.recall(content, bullet) < self.overlap:
            return None
        reason = value_conflict(sentence, bullet)
        return {"sentence": sentence, "bullet": bullet, "reason": reason} if reason else None

    def score_many(self, pairs):
        items = [(split_sentences(summary), list(article.bullets)) for summary, article in pairs]
        found: list[list[dict]] = [[] for _ in items]
        if self.nli:
            from harness.models.nli import CONTRADICTION

            triples = [(i, s, b) for i, (sentences, bullets) in enumerate(items) for s in sentences for b in bullets]
            probs = self.nli.probabilities([b for _, _, b in triples], [s for _, s, _ in triples]) if triples else []
            for (i, s, b), p in zip(triples, probs, strict=True):
                if p[CONTRADICTION] >= self.threshold:
                    found[i].append({"sentence": s, "bullet": b, "reason": "nli",
                                     "probability": round(float(p[CONTRADICTION]), 4)})
        else:
            for i, (sentences, bullets) in enumerate(items):
                found[i] = [c for s in sentences for b in bullets if (c := self._offline(s, b))]
        rows = []
        for (sentences, _), contradictions in zip(items, found, strict=True):
            contradicted = len({c["sentence"] for c in contradictions})
            rows.append({"contradicted@bullets": contradicted,
                         "contradiction_rate@bullets": contradicted / len(sentences) if sentences else 0.0,
                         "contradictions@bullets": contradictions})
        return rows

    def score(self, summary: str, article: Article) -> dict:
        return self.score_many([(summary, article)])[0]
