"""Natural-language inference: P(entailment), P(contradiction), P(neutral) of (premise, hypothesis)
pairs from any transformers sequence-classification NLI model, batched, loaded once per process.

The label order is read from the model's ``config.id2label`` (a label containing "entail" is
entailment, "contradict" is contradiction, anything else neutral; two-way models such as
"entailment / not_entailment" get contradiction 0). It is never assumed. A premise longer than
``max_length`` tokens together with its hypothesis is cut from its end (``truncation="only_first"``);
the count of cut pairs is kept in ``truncated_pairs``.

Recommended hub ids (SummaC benchmark, Laban et al. 2022, SummaC-ZS with that model):
``tals/albert-xlarge-vitaminc-mnli`` (the paper's default; CogenSumm/FactCC/Polytope ROC AUC
73.1/83.7/60.3), ``microsoft/deberta-large-mnli`` and ``roberta-large-mnli`` (the paper's
alternatives, a few points lower on average). A small one for CPU: ``cross-encoder/nli-deberta-v3-xsmall``.
``device``: see `harness.models.device` (default ``auto``); weights stay float32.
"""

from __future__ import annotations

import numpy as np

from harness.errors import ModelLoadError
from harness.models.device import identity_fields, input_device
from harness.models.model_source import resolve_model
from harness.models.store import load_model

ENTAILMENT, CONTRADICTION, NEUTRAL = 0, 1, 2


def label_columns(id2label: dict) -> dict[int, int]:
    """Map each model output index to our column (ENTAILMENT, CONTRADICTION, NEUTRAL) by label name."""
    columns = {}
    for index, label in id2label.items():
        name = str(label).lower().replace("-", "_").replace(" ", "_")  # "non-entailment", "not entailment"
        if "not_entail" in name or "non_entail" in name:
            columns[int(index)] = NEUTRAL
        elif "entail" in name:
            columns[int(index)] = ENTAILMENT
        elif "contradict" in name:
            columns[int(index)] = CONTRADICTION
        else:
            columns[int(index)] = NEUTRAL
    if ENTAILMENT not in columns.values():
        raise ModelLoadError(f"not an NLI model: no entailment label in its id2label {dict(id2label)}; "
                             "use a model trained on MNLI/ANLI/VitaminC whose config names its labels")
    return columns


class NLIModel:
    """Batched NLI probabilities; ``setting`` names the model's config key in error messages."""

    def __init__(self, model: str, revision: str | None = None, batch_size: int = 16, max_length: int = 512,
                 trust_remote_code: bool = False, setting: str = "nli.model", device: str = "auto"):
        from transformers import AutoModelForSequenceClassification

        self.spec, self.batch_size, self.max_length = model, batch_size, max_length
        self.source = resolve_model(model, revision=revision)
        self._model, self._tokenizer = load_model(AutoModelForSequenceClassification, self.source, device=device,
                                                  trust_remote_code=trust_remote_code, setting=setting)
        self.device = input_device(self._model)
        self.columns = label_columns(self._model.config.id2label)
        self.truncated_pairs = 0

    def describe(self) -> dict:
        return {"model": self.spec, **self.source.fingerprint(), "labels": dict(self._model.config.id2label),
                **identity_fields(self.device)}

    def probabilities(self, premises: list[str], hypotheses: list[str]) -> np.ndarray:
        """(n, 3) array: columns ENTAILMENT, CONTRADICTION, NEUTRAL; each row sums to 1."""
        import torch

        if len(premises) != len(hypotheses):
            raise ValueError(f"{len(premises)} premises but {len(hypotheses)} hypotheses")
        out = np.zeros((len(premises), 3), dtype=np.float64)
        # Longest first, so each batch pads little and the first batch shows the memory peak.
        order = sorted(range(len(premises)), key=lambda i: -len(premises[i]) - len(hypotheses[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            batch = self._tokenizer([premises[i] for i in idx], [hypotheses[i] for i in idx], padding=True,
                                    truncation="only_first", max_length=self.max_length, return_tensors="pt")
            # A pair that fills max_length exactly was (almost surely) cut.
            self.truncated_pairs += int((batch["attention_mask"].sum(dim=1) >= self.max_length).sum())
            with torch.no_grad():
                probs = torch.softmax(self._model(**batch.to(self.device)).logits.float(), dim=-1).cpu().numpy()
            for index, column in self.columns.items():
                out[idx, column] += probs[:, index]
        return out
