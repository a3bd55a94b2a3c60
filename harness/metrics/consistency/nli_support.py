"""NLI support (SummaC-ZS): is each summary sentence entailed by some article sentence?

Metric card
-----------
Measures (Laban et al. 2022, SummaC zero-shot): every (article sentence => summary sentence)
pair is scored by an NLI model (labels read from its id2label); for each summary sentence the
support is max over article sentences of P(entailment) - P(contradiction), with that article
sentence as evidence and its entailment and contradiction probabilities. Summary score
(``consistency/score@nli``): the mean over summary sentences (SummaC-ZS's aggregation);
``min@nli`` the least supported sentence. Range -1 to 1; higher is better.
Pairs are never pruned: every article sentence meets every summary sentence, batched across
summaries (cost: article sentences x summary sentences model calls; ~40 x 3 per CNN/DM summary).
Model: a hub id or directory (see harness/models/nli.py for recommended models and their
published SummaC figures). No NLI weights install from PyPI, so this scorer is not in the
default metrics; its threshold (0.0) is untuned until it can be calibrated with
``harness meta-eval --metrics consistency_nli`` where the Hub is reachable.
Known failure modes: a fact spread over two article sentences finds no single premise (lower
score); NLI models trained on short premises are miscalibrated on news; cost grows with
article length.
"""

from __future__ import annotations

import numpy as np

from harness.metrics.consistency.base import SentenceConsistency
from harness.models.nli import CONTRADICTION, ENTAILMENT, NLIModel
from harness.text.sentences import split_sentences


class NLISupport(SentenceConsistency):
    key = "nli"
    display = "NLI support"
    score_range = (-1.0, 1.0)

    def __init__(self, model: str, threshold: float = 0.0, batch_size: int = 16, max_length: int = 512,
                 trust_remote_code: bool = False, device: str = "auto"):
        super().__init__(threshold)
        self.nli = NLIModel(model, batch_size=batch_size, max_length=max_length, trust_remote_code=trust_remote_code,
                            setting="metrics.consistency_nli.model", device=device)

    def describe(self) -> dict:
        return {**super().describe(), **self.nli.describe(), "aggregation": "SummaC-ZS: mean over summary sentences "
                "of max over article sentences of P(entail) - P(contradict)"}

    def flag_level(self, judged):
        return "contradicted" if judged["contradiction"] > judged["entailment"] else "unsupported"

    def judge(self, items):
        article_sentences = {text: split_sentences(text) for _, text in items}
        premises, hypotheses = [], []
        for sentences, text in items:
            for sentence in sentences:
                for unit in article_sentences[text]:
                    premises.append(unit)
                    hypotheses.append(sentence)
        probs = self.nli.probabilities(premises, hypotheses) if premises else np.zeros((0, 3))
        out, at = [], 0
        for sentences, text in items:
            units = article_sentences[text]
            judged = []
            for _ in sentences:
                block = probs[at:at + len(units)]
                at += len(units)
                if not units:
                    judged.append({"score": 0.0, "evidence": None, "entailment": 0.0, "contradiction": 0.0})
                    continue
                support = block[:, ENTAILMENT] - block[:, CONTRADICTION]
                best = int(support.argmax())
                judged.append({"score": float(support[best]), "evidence": units[best],
                               "entailment": float(block[best, ENTAILMENT]),
                               "contradiction": float(block[best, CONTRADICTION])})
            out.append(judged)
        return out
