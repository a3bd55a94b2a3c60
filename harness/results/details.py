"""The per-summary details the metrics keep in ``scores.jsonl`` beside their scalars, read for
reports: per coverage matcher its bullets, per consistency scorer its sentences, and the bullet
contradictions. The metrics name the keys (their ``name`` and key suffixes); this module only
reads them, for report.md and report.html alike."""

from __future__ import annotations

COVERAGE = "coverage/bullets@"  # BulletCoverage: per bullet score, covered, covering sentence
SENTENCES = "consistency/sentences@"  # SentenceConsistency: per summary sentence score, supported, evidence
CONTRADICTIONS = "consistency/contradictions@bullets"  # BulletContradiction


def coverage(scores: dict) -> dict[str, list[dict]]:
    """Matcher key -> its per-bullet verdicts."""
    return {k[len(COVERAGE):]: v for k, v in scores.items() if k.startswith(COVERAGE)}


def sentences(scores: dict) -> dict[str, list[dict]]:
    """Consistency scorer key -> its per-sentence verdicts."""
    return {k[len(SENTENCES):]: v for k, v in scores.items() if k.startswith(SENTENCES)}


def contradictions(scores: dict) -> list[dict]:
    return scores.get(CONTRADICTIONS, [])
