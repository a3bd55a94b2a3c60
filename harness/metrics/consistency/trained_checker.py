"""Trained-checker support: the project's own fact-checker (``checker:minilm_factcheck``, trained by
`harness.training` on synthetic and labelled pairs; harness/checkers/) asked whether the article
supports each summary sentence.

Metric card
-----------
Measures: P(supported) of each summary sentence from a MiniLM-L6 cross-encoder (premise: a window
of ``window`` consecutive article sentences; hypothesis: the sentence), as the checker was trained.
Windows: SummaC-style, the article's sentences in overlapping windows (stride 1); for each summary
sentence the ``top_k`` windows sharing most of its content words are scored
(`harness.training.windows.top_windows`) and the sentence's score is the best of them, with that
window as evidence (``chunk``: the window's index, ``chunks``: how many windows the article has).
The summary score is the mean over sentences (``min@KEY``: the weakest).
Range 0 to 1; higher means supported; ``threshold`` flags a sentence below it.
Known failure modes: a fact spread over windows that do not share the sentence's words is not
retrieved; the model is small (22.7M parameters) and trained briefly on CPU: it catches invented
events, swapped names and numbers better than it reads paraphrase; figures on data it was not
trained on (leave-one-dataset-out folds) in docs/meta-eval-consistency.md, "Trained checker".
"""

from __future__ import annotations

import numpy as np

from harness.errors import ConfigError
from harness.metrics.consistency.checker_support import CheckerSupport, document_sentences
from harness.training.windows import top_windows, windows


class TrainedCheckerSupport(CheckerSupport):
    display = "Trained checker"

    def __init__(self, model: str = "checker:minilm_factcheck", key: str = "checker", window: int = 3,
                 top_k: int = 1, threshold: float = 0.5, max_length: int = 256, batch_size: int = 32,
                 device: str = "auto", display: str | None = None, config_name: str = "consistency_checker"):
        for setting, value in (("window", window), ("top_k", top_k)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"metrics.{config_name}.{setting} must be an integer >= 1, got {value!r}")
        super().__init__(model, kind="classifier", key=key, display=display or "Trained checker",
                         threshold=threshold, chunk_size=None, max_length=max_length, batch_size=batch_size,
                         device=device, config_name=config_name)
        self.window, self.top_k = window, top_k

    def describe(self) -> dict:
        return {**super().describe(), "window": self.window, "top_k": self.top_k,
                "aggregation": "max over the top_k retrieved article windows of P(supported); mean over sentences"}

    def chunks(self, text: str) -> list[str]:
        if text not in self._chunks:
            if len(self._chunks) >= 4096:
                self._chunks.clear()
            self._chunks[text] = windows(document_sentences(text), self.window)
        return self._chunks[text]

    def judge(self, items):
        plan, pairs = [], {}
        for sentences, text in items:
            chunks, claims = self.chunks(text), self.claims(sentences)
            picks = [top_windows(claim, chunks, self.top_k) for claim in claims]
            plan.append((chunks, claims, picks))
            for claim, picked in zip(claims, picks, strict=True):
                for i in picked:
                    pairs.setdefault((chunks[i], claim), len(pairs))
        if pairs:
            probs, cut = self.checker.probabilities([d for d, _ in pairs], [c for _, c in pairs], return_cut=True)
        else:
            probs, cut = np.zeros(0), np.zeros(0, dtype=bool)
        out = []
        for chunks, claims, picks in plan:
            judged = []
            for claim, picked in zip(claims, picks, strict=True):
                if not picked:
                    judged.append({"score": 0.0, "evidence": None, "chunk": None, "chunks": 0, "cut": False})
                    continue
                rows = [pairs[(chunks[i], claim)] for i in picked]
                best = int(np.argmax([probs[r] for r in rows]))
                judged.append({"score": float(probs[rows[best]]), "evidence": chunks[picked[best]],
                               "chunk": picked[best], "chunks": len(chunks), "cut": bool(cut[rows[best]])})
            out.append(judged)
        return out
