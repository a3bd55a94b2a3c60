"""Choosing a calibration from K labelled examples of the data at hand (``harness calibrate``).

From each example's scores (per scorer: its summary score and its weakest sentence's score) and its
label (1 consistent, 0 not), every threshold of a base calibration (the shipped one, or the run's) is
chosen again, and the composite refitted:
- **summary threshold** of a scorer: the best-balanced-accuracy threshold on the K examples;
- **flag threshold**: the flag rule of the base calibration (the highest cut flagging at most
  ``flag_rate`` of the consistent examples), on the K examples;
- **composite**: its threshold, the best on the K examples' composite scores; with ``refit``, first
  its non-negative weights and bias, a class-balanced logistic regression on the base's
  standardisation, penalised toward the base weights.
Every estimate is shrunk toward the base calibration's value by a prior worth ``prior`` examples:
``(K * estimate + prior * base) / (K + prior)`` for thresholds (the composite's on the logit
scale), a penalty ``prior / K * |w - w_base|^2`` for weights. With a few labels the base calibration
stays nearly as it is (on data where it already fits, a threshold chosen on 10 labels is mostly
noise); with many the data decides. The prior is measured, not guessed: the learning curve in
docs/meta-eval-consistency.md ("Calibrating on the data at hand", benchmarks/calibration_curve.py).

The figures a calibration reports are cross-validated on its own K (`cross_validate`: folds by
article, each fold scored by a calibration chosen on the others), never on the examples that chose it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from harness.errors import DataError
from harness.stats.agreement import balanced_accuracy, best_threshold, roc_auc

# How many labelled examples the base calibration counts as, by whether the examples score like the
# data it was chosen on (`harness.calibration.drift`): measured on the learning curve
# (docs/meta-eval-consistency.md, "Calibrating on the data at hand"). Where they do, the base's
# thresholds were already right on every CNN/DM set, and thresholds chosen on up to 200 labels
# lost up to 3 points of balanced accuracy at a weaker prior (20); where they do not (XSumFaith),
# the base is wrong and a few labels should decide.
PRIOR_FIT = 2000.0
PRIOR_DRIFT = 5.0
MIN_PER_LABEL = 2  # fewer consistent or inconsistent examples than this: nothing to choose a threshold on


@dataclass(frozen=True)
class Labelled:
    """K labelled examples: ``labels`` (1 consistent), ``groups`` (article ids: folds keep an article
    together), per scorer config name its ``summary`` scores and ``weakest`` sentence scores."""

    labels: np.ndarray
    groups: np.ndarray
    summary: dict
    weakest: dict

    def take(self, index) -> Labelled:
        index = np.asarray(index, dtype=int)
        return Labelled(self.labels[index], self.groups[index], {k: v[index] for k, v in self.summary.items()},
                        {k: v[index] for k, v in self.weakest.items()})

    @property
    def k(self) -> int:
        return int(len(self.labels))


def shrink(estimate: float, base: float, k: int, prior: float = PRIOR_FIT) -> float:
    """``(k * estimate + prior * base) / (k + prior)``: ``base`` where there are no labels."""
    return float((k * estimate + prior * base) / (k + prior)) if k + prior > 0 else float(base)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def _sigmoid(z: float) -> float:
    return float(1 / (1 + np.exp(-z)))


def flag_cut(weakest: np.ndarray, labels: np.ndarray, rate: float) -> float:
    """The highest cut at which at most ``rate`` of the consistent examples have a sentence below it."""
    consistent = np.sort(weakest[labels == 1])
    if consistent.size == 0:
        return float("nan")
    k = int(np.floor(rate * consistent.size))
    return float(consistent[k]) if k < consistent.size else float(consistent[-1] + 1e-9)


def apply(model: dict, features: np.ndarray) -> np.ndarray:
    """P(consistent) of each row of ``features`` under a composite ``model`` (mean, std, weights, bias)."""
    z = (features - np.array(model["mean"])) / np.array(model["std"]) @ np.array(model["weights"]) + model["bias"]
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))


def refit(features: np.ndarray, labels: np.ndarray, base: dict, prior: float = PRIOR_FIT) -> dict:
    """The composite's weights and bias refitted on ``features`` (one column per input, the base's
    order): class-balanced log loss + ``prior / K * |(w, b) - (w_base, b_base)|^2``, weights >= 0, on
    the base's standardisation (so the penalty compares like with like)."""
    k = len(labels)
    omega = np.zeros(k)
    for c in (0, 1):
        members = labels == c
        if members.any():
            omega[members] = 0.5 / members.sum()
    x = np.hstack([(features - np.array(base["mean"])) / np.array(base["std"]), np.ones((k, 1))])
    y = labels.astype(float)
    w0 = np.array(base["weights"], dtype=float)
    strength = prior / max(k, 1)

    start = np.concatenate([w0, [float(base["bias"])]])  # the bias is shrunk too: the base threshold is on its scale

    def loss(w):
        z = x @ w
        return float(np.sum(omega * (np.logaddexp(0, z) - y * z)) + strength * np.sum((w - start) ** 2))

    def grad(w):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -500, 500)))
        return x.T @ (omega * (p - y)) + 2 * strength * (w - start)

    bounds = [(0.0, None)] * len(w0) + [(None, None)]
    w = minimize(loss, start, jac=grad, method="L-BFGS-B", bounds=bounds).x
    return {"mean": list(base["mean"]), "std": list(base["std"]), "weights": w[:-1].tolist(), "bias": float(w[-1])}


def priors(data: Labelled, base: dict, prior: float | None = None) -> dict:
    """Per scorer (and ``composite``): {"prior", "position"}: the base's weight, ``prior`` where
    given, else PRIOR_DRIFT where the examples' summary scores do not score like the base's
    reference (the no-label check fires) and PRIOR_FIT where they do or cannot tell. The
    composite's: PRIOR_DRIFT where the check fires on at least half of its inputs."""
    from harness.calibration import drift

    references = drift.scorer_references(base)
    out = {}
    for name in [*(base.get("scorers") or {}), *((base.get("composite") or {}) and ["composite"])]:
        if name == "composite" or name not in data.summary:
            continue
        result = drift.check(data.summary[name], references[name]) if name in references else {"fits": None,
                                                                                               "position": None}
        chosen = prior if prior is not None else PRIOR_DRIFT if result["fits"] is False else PRIOR_FIT
        out[name] = {"prior": float(chosen), "position": result["position"], "fits": result["fits"]}
    if base.get("composite"):
        inputs = [out.get(n) for n in composite_inputs(base["composite"])]
        drifted = sum(1 for i in inputs if i and i["fits"] is False)
        chosen = prior if prior is not None else PRIOR_DRIFT if inputs and 2 * drifted >= len(inputs) else PRIOR_FIT
        out["composite"] = {"prior": float(chosen), "position": None, "fits": not (2 * drifted >= len(inputs))}
    return out


def check_labels(data: Labelled) -> None:
    """DataError unless there are at least MIN_PER_LABEL examples of each label."""
    n1 = int(data.labels.sum())
    n0 = data.k - n1
    if min(n0, n1) < MIN_PER_LABEL:
        raise DataError(f"calibration needs at least {MIN_PER_LABEL} consistent and {MIN_PER_LABEL} inconsistent "
                        f"labelled examples, got {n1} consistent and {n0} inconsistent: mark both kinds "
                        "(about 25 in all, 5 or more of each, makes a difference)")


def choose(data: Labelled, base: dict, *, refit_composite: bool = True, prior: float | None = None,
           flag_rate: float | None = None) -> dict:
    """A calibration's thresholds and composite chosen on ``data``, each shrunk toward ``base`` (a
    calibration's content) with the weight `priors` gives it (``prior``: one fixed weight for all).
    Returns {"scorers": {name: {summary_threshold, flag_threshold}}, "composite": {model...,
    threshold}, "priors": ...}; scorers ``data`` has no scores of keep the base's values."""
    check_labels(data)
    k, labels = data.k, data.labels
    rate = float(base.get("flag_rate", 0.02) if flag_rate is None else flag_rate)
    weights = priors(data, base, prior)
    scorers = {}
    for name, entry in (base.get("scorers") or {}).items():
        out = {key: entry.get(key) for key in ("summary_threshold", "flag_threshold")}
        weight = weights.get(name, {"prior": PRIOR_FIT})["prior"]
        if name in data.summary and out["summary_threshold"] is not None:
            out["summary_threshold"] = shrink(best_threshold(data.summary[name], labels),
                                              float(out["summary_threshold"]), k, weight)
        if name in data.weakest and out["flag_threshold"] is not None:
            n1 = int(labels.sum())
            cut = flag_cut(data.weakest[name], labels, rate)
            if cut == cut:
                out["flag_threshold"] = shrink(cut, float(out["flag_threshold"]), n1, weight)
        scorers[name] = out
    composite = None
    if base.get("composite"):
        composite = choose_composite(data, base["composite"], refit_composite=refit_composite,
                                     prior=weights.get("composite", {"prior": PRIOR_FIT})["prior"])
    return {"scorers": scorers, "composite": composite, "flag_rate": rate, "priors": weights}


def composite_inputs(composite: dict) -> list[str]:
    """The config names of a composite's inputs, in its order."""
    return [item["metric"] for item in composite["inputs"]]


def choose_composite(data: Labelled, base: dict, *, refit_composite: bool = True, prior: float = PRIOR_FIT) -> dict:
    """The composite's model and threshold on ``data`` (see `choose`); the base's where ``data``
    lacks one of its inputs."""
    names = composite_inputs(base)
    if not all(n in data.summary for n in names):
        return {k: base[k] for k in ("inputs", "model", "threshold")}
    features = np.column_stack([data.summary[n] for n in names])
    model = dict(base["model"])
    if refit_composite:
        model = refit(features, data.labels, base["model"], prior)
    probabilities = apply(model, features)
    base_threshold = float(base["threshold"])
    threshold = _sigmoid(shrink(_logit(best_threshold(probabilities, data.labels)), _logit(base_threshold),
                                data.k, prior))
    return {"inputs": base["inputs"], "model": model, "threshold": threshold}


def folds_of(groups: np.ndarray, n_folds: int, seed: int) -> list[np.ndarray]:
    """Example indices of ``n_folds`` folds, whole articles (``groups``) to a fold, seeded."""
    distinct = sorted(set(groups.tolist()))
    order = np.random.Generator(np.random.PCG64(seed)).permutation(len(distinct))
    fold_of = {distinct[i]: j % n_folds for j, i in enumerate(order)}
    assigned = np.array([fold_of[g] for g in groups.tolist()])
    return [np.flatnonzero(assigned == f) for f in range(n_folds)]


def predictions(data: Labelled, chosen: dict) -> dict:
    """Per scorer (and ``composite``): the examples' scores and the threshold ``chosen`` sets."""
    out = {}
    for name, entry in chosen["scorers"].items():
        if name in data.summary and entry.get("summary_threshold") is not None:
            out[name] = (data.summary[name], float(entry["summary_threshold"]))
    composite = chosen.get("composite")
    if composite and all(n in data.summary for n in composite_inputs(composite)):
        features = np.column_stack([data.summary[n] for n in composite_inputs(composite)])
        out["composite"] = (apply(composite["model"], features), float(composite["threshold"]))
    return out


def figures(data: Labelled, chosen: dict) -> dict:
    """Balanced accuracy (and ROC AUC) of each summary verdict of ``chosen`` on ``data``, and each
    scorer's flags: the share of consistent and of inconsistent examples flagged."""
    out = {}
    for name, (scores, threshold) in predictions(data, chosen).items():
        out[name] = {"balanced_accuracy": balanced_accuracy(scores, data.labels, threshold),
                     "roc_auc": roc_auc(scores, data.labels)}
    for name, entry in chosen["scorers"].items():
        if name in data.weakest and entry.get("flag_threshold") is not None:
            flagged = data.weakest[name] < float(entry["flag_threshold"])
            row = out.setdefault(name, {})
            row["consistent_flagged"] = float(flagged[data.labels == 1].mean()) if data.labels.any() else None
            row["inconsistent_flagged"] = (float(flagged[data.labels == 0].mean()) if (data.labels == 0).any()
                                           else None)
    return out


def cross_validate(data: Labelled, base: dict, *, n_folds: int = 5, seed: int = 0, **options) -> dict:
    """``figures`` of calibrations chosen on all folds but one, each fold scored by the calibration
    that did not see it, pooled; and the same figures of ``base`` itself on all of ``data``."""
    n_groups = len(set(data.groups.tolist()))
    n_folds = max(2, min(n_folds, n_groups))
    pooled: dict[str, list] = {}
    flags: dict[str, list] = {}
    used = 0
    for test in folds_of(data.groups, n_folds, seed):
        train = np.setdiff1d(np.arange(data.k), test)
        part = data.take(train)
        if test.size == 0 or min(int(part.labels.sum()), part.k - int(part.labels.sum())) < MIN_PER_LABEL:
            continue
        used += 1
        chosen = choose(part, base, **options)
        held = data.take(test)
        for name, (scores, threshold) in predictions(held, chosen).items():
            pooled.setdefault(name, []).append((scores >= threshold, scores, held.labels))
        for name, entry in chosen["scorers"].items():
            if name in held.weakest and entry.get("flag_threshold") is not None:
                flags.setdefault(name, []).append((held.weakest[name] < float(entry["flag_threshold"]), held.labels))
    out: dict = {"n_folds": used, "k": data.k, "n_consistent": int(data.labels.sum()), "scorers": {}}
    for name, parts in pooled.items():
        predicted = np.concatenate([p for p, _, _ in parts])
        labels = np.concatenate([y for _, _, y in parts])
        out["scorers"][name] = {"balanced_accuracy": balanced_accuracy(predicted.astype(float), labels, 0.5)}
    for name, parts in flags.items():
        flagged = np.concatenate([f for f, _ in parts])
        labels = np.concatenate([y for _, y in parts])
        row = out["scorers"].setdefault(name, {})
        row["consistent_flagged"] = float(flagged[labels == 1].mean()) if (labels == 1).any() else None
        row["inconsistent_flagged"] = float(flagged[labels == 0].mean()) if (labels == 0).any() else None
    out["base"] = figures(data, {"scorers": base.get("scorers") or {}, "composite": base.get("composite")})
    return out
