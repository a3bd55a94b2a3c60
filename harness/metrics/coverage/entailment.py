"""Entailment matcher: P(summary sentence entails bullet) from an NLI model (hub id or local path).

Premise: a summary sentence, or the whole summary; hypothesis: the bullet. Range 0 to 1, higher
means the summary states the bullet. The strongest of the three matchers where the NLI model is
good, and the slowest (bullets x (sentences + 1) model calls per summary, batched). Fails when a
bullet's fact is spread over several summary sentences (the whole-summary premise covers that)
and on premises longer than the model's input (cut; see harness.models.nli).
"""

from __future__ import annotations

import numpy as np

from harness.metrics.coverage.matcher import BulletMatcher, Match
from harness.models.nli import ENTAILMENT, NLIModel


class EntailmentMatcher(BulletMatcher):
    name = "entailment"

    def __init__(self, model: str, batch_size: int = 16, max_length: int = 512, trust_remote_code: bool = False,
                 device: str = "auto"):
        self.nli = NLIModel(model, batch_size=batch_size, max_length=max_length, trust_remote_code=trust_remote_code,
                            setting="metrics.coverage_entailment.matcher.model", device=device)

    def describe(self) -> dict:
        return {"matcher": self.name, **self.nli.describe()}

    def match(self, bullets, sentences, summary) -> Match:
        return self.match_many([(bullets, sentences, summary)])[0]

    def match_many(self, items):
        premises, hypotheses = [], []
        for bullets, sentences, summary in items:
            for bullet in bullets:
                for premise in (*sentences, summary):
                    premises.append(premise)
                    hypotheses.append(bullet)
        probs = self.nli.probabilities(premises, hypotheses)[:, ENTAILMENT] if premises else np.zeros(0)
        out, at = [], 0
        for bullets, sentences, _ in items:
            block = probs[at:at + len(bullets) * (len(sentences) + 1)].reshape(len(bullets), len(sentences) + 1)
            at += block.size
            out.append(Match(block[:, :-1], block[:, -1]))
        return out
