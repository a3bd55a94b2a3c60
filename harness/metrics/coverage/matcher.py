"""The matcher interface: how strongly each summary sentence (and the whole summary) expresses each bullet."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass
class Match:
    """``matrix[i, j]``: bullet i against summary sentence j; ``whole[i]``: bullet i against the whole summary."""

    matrix: np.ndarray
    whole: np.ndarray


class BulletMatcher(ABC):
    name: str
    score_range: tuple[float, float] = (0.0, 1.0)  # what its scores can be: a coverage threshold lies within

    @abstractmethod
    def match(self, bullets: list[str], sentences: list[str], summary: str) -> Match:
        """Scores of every bullet against every sentence and against the whole summary."""

    def match_many(self, items: list[tuple[list[str], list[str], str]]) -> list[Match]:
        """Many (bullets, sentences, summary) items; matchers with batched models override this."""
        return [self.match(*item) for item in items]

    def describe(self) -> dict:
        return {"matcher": self.name}
