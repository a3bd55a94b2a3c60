"""The consistency composite of the meta-evaluation, as a metric for runs.

Metric card
-----------
Measures: the probability that a summary is factually consistent with its article, from a logistic
regression on the summary scores of other consistency scorers (its *inputs*). The shipped one (the
``composite`` of the shipped calibration, ``harness/calibration/shipped.json``) was chosen by
``harness meta-eval --split lodo`` over every labelled set in ``../shared/data`` (five CNN/DM sets
and XSumFaith): weights fitted on all sets pooled, each set and each class weighing the same,
L2-regularised and non-negative; its threshold the median of the per-set best thresholds; its
figures on each set when that set was left out are in the file (``held_out``) and in
docs/meta-eval-consistency.md, "Transfer". Any other fit (``harness meta-eval --save-composite PATH``, on a dev
half, a val cut or with lodo) can be pointed at with ``weights=``; a run's ``calibration=PATH``
(``harness calibrate``) brings its own. Summary score ``consistency/score@composite``: range 0 to 1,
higher is more likely consistent. ``consistent@composite`` (where the saved file has a threshold): 1
when the score reaches it, so its mean over articles is the share judged consistent.
``inputs@composite`` (per row, in scores.jsonl) gives each input's score.

The number is the meta-eval's: each input is loaded from its conf file (``conf/metrics/NAME.yaml``)
and scores the summary as it does in a run and in meta-eval (the same sentence split and
``summary_score``), then the saved standardisation and weights are applied with `apply_composite`
(this module), which the meta-eval uses too.

Failure modes: it inherits its inputs' blind spots (see their cards) and is only as good as the
domains it was fitted on (news: CNN/DM-style and BBC/XSum-style); a weight of (near) zero means
the input added nothing the others did not carry on the pooled sets, not that it is useless (the
docs list each fold's weights). Inputs are loaded from their conf files, not from the run's
``metrics.*`` overrides; a conf change that changes an input's scores (another model) is refused,
naming the input, because the weights were fitted on the old scores. It re-runs its inputs:
listing an input in the same run scores it twice (the score cache makes the second cheap only
across runs, not within one).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from harness.data.article import Article
from harness.errors import ConfigError
from harness.metrics.base import Column, Metric

COMPOSITE_FORMAT = "harness.consistency_composite/1"


def apply_composite(model: dict, features: np.ndarray) -> np.ndarray:
    """P(consistent) of each row of ``features`` (one column per input, in the model's order)
    under a saved logistic model: standardised by its ``mean``/``std``, then ``weights``, ``bias``."""
    z = (features - np.array(model["mean"])) / np.array(model["std"]) @ np.array(model["weights"]) + model["bias"]
    return 1 / (1 + np.exp(-z))


def input_fingerprint(metric) -> dict:
    """What an input's summary scores depend on (its describe(), without the threshold, which
    changes flags but not scores): a saved composite checks it against the scorer it loads."""
    return {k: v for k, v in metric.describe().items() if k not in ("threshold", "flag_below", "calibration")}


FIX = ("fit and save one: harness meta-eval --data FILE --metrics A,B --save-composite {path} "
       "(docs/meta-eval-consistency.md, \"Auditing a meta-eval and using the composite in runs\")")


class CompositeConsistency(Metric):
    name = "consistency"
    key = "composite"

    def __init__(self, weights: str, threshold: float | None = None):
        from harness.config import load_metric

        self.path = Path(weights)
        fix = FIX.format(path=self.path)
        if not self.path.is_file():
            raise ConfigError(f"consistency_composite: no fitted composite at {self.path}; {fix}, or point "
                              "metrics.consistency_composite.weights= at a saved one")
        try:
            raw = self.path.read_bytes()
            saved = json.loads(raw)
        except (OSError, ValueError) as e:
            raise ConfigError(f"consistency_composite: cannot read {self.path} ({e}); {fix}") from e
        from harness.calibration.file import CALIBRATION_FORMAT, composite_sha256

        if isinstance(saved, dict) and saved.get("format") == CALIBRATION_FORMAT:  # a calibration's composite
            if not isinstance(saved.get("composite"), dict):
                raise ConfigError(f"consistency_composite: the calibration {self.path} has no composite; {fix}")
            saved = saved["composite"]
            self.sha256 = composite_sha256(saved)
        elif not isinstance(saved, dict) or saved.get("format") != COMPOSITE_FORMAT or not saved.get("inputs"):
            raise ConfigError(f"consistency_composite: {self.path} is not a saved composite (format "
                              f"{COMPOSITE_FORMAT}) nor a calibration; {fix}")
        else:
            self.sha256 = hashlib.sha256(raw).hexdigest()
        self.saved = saved
        self.model = saved["model"]
        self.inputs = {}
        for item in saved["inputs"]:
            metric = load_metric(item["metric"])
            now = input_fingerprint(metric)
            if now != item["describe"] or getattr(metric, "key", None) != item.get("key"):
                changed = sorted(k for k in {*now, *item["describe"]} if now.get(k) != item["describe"].get(k))
                raise ConfigError(f"consistency_composite: input {item['metric']!r} of {self.path} no longer "
                                  f"matches conf/metrics/{item['metric']}.yaml (changed: "
                                  f"{', '.join(changed) or 'key'}): the weights were fitted on other scores; {fix}")
            self.inputs[item["metric"]] = metric
        if len(self.model["weights"]) != len(self.inputs):
            raise ConfigError(f"consistency_composite: {self.path} has {len(self.model['weights'])} weights for "
                              f"{len(self.inputs)} inputs; {fix}")
        self.threshold = saved.get("threshold") if threshold is None else float(threshold)

    def describe(self) -> dict:
        return {"scorer": self.key, "weights": str(self.path), "weights_sha256": self.sha256,
                "inputs": list(self.inputs), "fitted_on": self.saved.get("fitted_on"), "threshold": self.threshold,
                "data": self.saved.get("data")}

    def columns(self) -> dict[str, Column]:
        out = {"score@composite": Column("Composite consistency (P(consistent))", higher_is_better=True,
                                         headline=True, low=0.0, high=1.0)}
        if self.threshold is not None:
            out["consistent@composite"] = Column("Consistent at the composite's threshold", higher_is_better=True,
                                                 low=0.0, high=1.0)
        return out

    def score(self, summary: str, article: Article) -> dict:
        return self.score_many([(summary, article)])[0]

    def input_scores(self, pairs: list[tuple[str, Article]]) -> np.ndarray:
        """Each input's summary score (``score@KEY``, as in a run) of every pair: one column per input."""
        columns = []
        for metric in self.inputs.values():
            rows = metric.score_many(pairs)
            columns.append([float(row[f"score@{metric.key}"]) for row in rows])
        return np.array(columns, dtype=float).T.reshape(len(pairs), len(self.inputs))

    def score_many(self, pairs):
        if not pairs:
            return []
        features = self.input_scores(list(pairs))
        probabilities = apply_composite(self.model, features)
        out = []
        for p, row in zip(probabilities, features, strict=True):
            scores = {"score@composite": float(p),
                      "inputs@composite": {name: float(x) for name, x in zip(self.inputs, row, strict=True)}}
            if self.threshold is not None:
                scores["consistent@composite"] = int(p >= self.threshold)
            out.append(scores)
        return out
