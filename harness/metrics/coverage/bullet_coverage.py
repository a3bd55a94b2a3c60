"""Bullet coverage: which reference bullets a summary covers, one bullet at a time.

Metric card
-----------
Measures: for each reference bullet, the summary sentence that best expresses it and a coverage
score from a matcher (lexical ROUGE-N recall, semantic cosine, or NLI entailment); the bullet's
score is the larger of its best sentence's and the whole summary's (a fact spread over two
sentences still counts). A bullet is covered when its score >= ``threshold``.
Per summary (``coverage/<key>@<matcher>``): ``bullet_recall`` (covered / total, 0 to 1),
``bullets_covered``, ``bullets_total``, ``bullet_score`` (mean bullet score, a continuous
version of recall), ``bullets`` (per bullet: score, covered, best sentence) and ``matrix``
(bullets x summary sentences). Direction: higher is better. An empty summary covers nothing.
Thresholds are calibrated, not guessed: each config's threshold maximises balanced accuracy of
"covered" against human content-unit presence labels on the fixed dev half (seed 0) of REALSumm
(``harness meta-eval --task coverage``; figures in docs/meta-eval-coverage.md); the NLI matcher's
0.5 is the model's own decision boundary (no NLI weights are reachable offline to calibrate).
Known failure modes: those of the matcher (see each matcher's module); a bullet that packs two
facts is covered by a summary stating one of them; recall ignores what the summary adds.
"""

from __future__ import annotations

import numpy as np

from harness.data.article import Article
from harness.errors import ConfigError
from harness.metrics.base import Column, Metric, count
from harness.metrics.coverage.matcher import BulletMatcher, Match
from harness.text.sentences import split_sentences


def bullet_scores(match: Match) -> tuple[np.ndarray, list[int | None]]:
    """Each bullet's coverage score (max of best sentence and whole summary) and best sentence index."""
    n_bullets, n_sentences = match.matrix.shape
    if n_sentences == 0:
        return np.zeros(n_bullets), [None] * n_bullets
    best = match.matrix.argmax(axis=1)
    return np.maximum(match.matrix.max(axis=1), match.whole), [int(j) for j in best]


class BulletCoverage(Metric):
    name = "coverage"

    def __init__(self, matcher: BulletMatcher, threshold: float, key: str | None = None):
        """``key`` names the columns (``bullet_recall@KEY``); default: the matcher's name. Two
        configs with the same matcher need different keys."""
        low, high = matcher.score_range
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not low <= threshold <= high:
            raise ConfigError(f"coverage ({matcher.name}): threshold must be from {low:g} to {high:g} (the scores "
                              f"its matcher gives; outside them no bullet, or every bullet, counts as covered), "
                              f"got {threshold!r}")
        self.matcher, self.threshold = matcher, float(threshold)
        self.key = key or matcher.name

    @classmethod
    def config_ranges(cls, params: dict) -> dict:
        """The threshold's range for `harness.config_check` (checked before anything is built): the
        scores of the configured matcher."""
        from hydra.utils import get_object

        matcher = params.get("matcher")
        target = matcher.get("_target_") if isinstance(matcher, dict) else None
        score_range = getattr(get_object(target), "score_range", None) if isinstance(target, str) else None
        return {"threshold": tuple(score_range)} if score_range else {}

    def describe(self) -> dict:
        return {**self.matcher.describe(), "threshold": self.threshold}

    def columns(self) -> dict[str, Column]:
        m = self.key
        return {f"bullet_recall@{m}": Column(f"Bullet recall ({m})", headline=True),
                f"bullet_score@{m}": Column(f"Mean bullet score ({m})"),
                f"bullets_covered@{m}": count(f"Bullets covered ({m})", higher_is_better=True),
                f"bullets_total@{m}": count("Bullets", higher_is_better=None)}

    def score(self, summary: str, article: Article) -> dict:
        return self.score_many([(summary, article)])[0]

    def score_many(self, pairs):
        items = [(list(article.bullets), split_sentences(summary), summary) for summary, article in pairs]
        live = [i for i, (_, sentences, _) in enumerate(items) if sentences]
        matches = dict(zip(live, self.matcher.match_many([items[i] for i in live]), strict=True))
        out = []
        for i, (bullets, sentences, _) in enumerate(items):
            match = matches.get(i) or Match(np.zeros((len(bullets), 0)), np.zeros(len(bullets)))
            out.append(self._row(bullets, sentences, match))
        return out

    def _row(self, bullets: list[str], sentences: list[str], match: Match) -> dict:
        scores, best = bullet_scores(match)
        covered = scores >= self.threshold
        m = self.key
        return {
            f"bullet_recall@{m}": float(covered.mean()) if len(bullets) else 0.0,
            f"bullets_covered@{m}": int(covered.sum()),
            f"bullets_total@{m}": len(bullets),
            f"bullet_score@{m}": float(scores.mean()) if len(bullets) else 0.0,
            f"bullets@{m}": [{"bullet": bullet, "score": round(float(s), 4), "covered": bool(c),
                              "sentence": None if j is None else sentences[j]}
                             for bullet, s, c, j in zip(bullets, scores, covered, best, strict=True)],
            f"matrix@{m}": np.round(match.matrix, 4).tolist(),
        }
