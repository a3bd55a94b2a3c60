"""Leave-one-dataset-out meta-evaluation: thresholds, flags and the composite chosen on some
labelled data sets and reported on the one left out, for each (``harness meta-eval --split lodo``).

A threshold or fitted weight chosen on one data set is a guess about every other; this module
measures the guess. With data sets D1..Dk (each file one domain/set), for each fold i:
- **summary threshold** of a scorer: the median, over the training sets (all but Di), of each
  set's own best-balanced-accuracy threshold on the summary score (`best_threshold`); ROC AUC and
  balanced accuracy at that threshold are reported on Di;
- **flag threshold** (the sentence-level ``threshold`` of a scorer's config: below it a sentence is
  flagged and counted unsupported): on each training set, the highest cut that flags at most
  ``flag_rate`` of its consistent summaries (a summary is flagged when any sentence is); the
  median of those cuts is the fold's (the lowest would be held hostage by one set's outliers: on
  CogenSumm some summaries judged consistent have a sentence sharing no claim with the article,
  so its cut is 0 and a flag would never fire); on Di: the share of consistent summaries flagged
  (false flags) and of inconsistent ones flagged (recall), per scorer and for the union of all;
- **composite**: a logistic regression on the scorers' summary scores, fitted on the training sets
  pooled with every set weighing the same and, within a set, both classes the same; weights are
  L2-regularised and constrained non-negative (every input says "higher is more consistent"; a
  negative weight is an artefact of one set); its threshold is the median of the training sets'
  best thresholds on its score. AUC and balanced accuracy on Di.
The shipped values are the same procedure over every set (`fit_all`), never tuned on one set.
Intervals: 95% bootstrap over articles of the held-out set (every summary of an article together).
Scores of each (scorer, data file) are computed once and kept under ``cache_dir`` (keyed by the
scorer's fingerprint and the file's SHA-256), so a rerun only recomputes what changed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from harness.errors import DataError
from harness.meta_eval.consistency import scorer_outputs
from harness.meta_eval.consistency_data import ConsistencyExample, read_consistency
from harness.stats.agreement import balanced_accuracy, best_threshold, bootstrap_clusters, roc_auc

FLAG_RATE = 0.02  # at most this share of a training set's consistent summaries flagged by one scorer
FLAG_RULE = ("per training set, the highest cut flagging at most the flag rate of its consistent summaries; "
             "the median of those cuts")
SUMMARY_RULE = "per training set, the best-balanced-accuracy threshold on the summary score; the median of those"


@dataclass(frozen=True)
class Dataset:
    name: str
    path: str
    fmt: str
    sha256: str
    examples: tuple[ConsistencyExample, ...]

    @property
    def labels(self) -> np.ndarray:
        return np.array([e.label for e in self.examples], dtype=int)


def dataset_name(path: str | Path) -> str:
    """A data set's name from its file: ``summac/xsumfaith_test.jsonl`` -> ``xsumfaith``."""
    stem = Path(path).stem
    return stem[:-5] if stem.endswith("_test") else stem


def read_datasets(paths: list[str]) -> list[Dataset]:
    from harness.models.model_source import file_sha256

    if len(paths) < 3:
        raise DataError(f"--split lodo needs three or more --data files (one per data set), got {len(paths)}: "
                        "each is left out in turn while the others choose the thresholds")
    out, names = [], set()
    for path in paths:
        fmt, examples = read_consistency(path)
        if any(e.label is None for e in examples):
            raise DataError("--split lodo needs a binary label on every example", file=str(path))
        name = dataset_name(path)
        if name in names:
            raise DataError(f"two --data files are both named {name!r}: rename one", file=str(path))
        names.add(name)
        out.append(Dataset(name, str(path), fmt, file_sha256(str(path)), tuple(examples)))
    return out


# --- Scores, once per (scorer, file)

def scores(metrics: dict, datasets: list[Dataset], cache_dir: str | Path | None) -> dict:
    """{scorer: {dataset: {"summary": array, "sentences": [[...]], "seconds": s}}}, from the cache
    where present (the scorer's fingerprint and the file's hash name the entry)."""
    from harness.io import write_json_atomic
    from harness.metrics.score_cache import metric_fingerprint

    out: dict = {name: {} for name in metrics}
    fingerprints = {name: metric_fingerprint(name, metric) for name, metric in metrics.items()}
    for d in datasets:  # every scorer on one set, then the next: an article is parsed once for all
        for name, metric in metrics.items():
            fingerprint = fingerprints[name]
            path = Path(cache_dir) / name / f"{fingerprint[:24]}-{d.sha256[:24]}.json" if cache_dir else None
            entry = _read_entry(path, len(d.examples))
            if entry is None:
                t0 = time.perf_counter()
                summary, sentences = scorer_outputs(metric, list(d.examples))
                entry = {"summary": [float(x) for x in summary],
                         "sentences": [[float(x) for x in s] for s in sentences],
                         "seconds": round(time.perf_counter() - t0, 1), "n": len(d.examples)}
                if path is not None:
                    write_json_atomic(path, entry)
            out[name][d.name] = {"summary": np.array(entry["summary"], dtype=float), "sentences": entry["sentences"],
                                 "seconds": entry["seconds"]}
    return out


def _read_entry(path: Path | None, n: int) -> dict | None:
    if path is None or not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = (isinstance(entry, dict) and entry.get("n") == n and len(entry.get("summary", ())) == n
          and len(entry.get("sentences", ())) == n)
    return entry if ok else None


# --- Thresholds chosen on training sets

def flag_cut(min_scores: np.ndarray, labels: np.ndarray, rate: float) -> float:
    """The highest cut at which at most ``rate`` of the consistent summaries (label 1) have a
    sentence below it (``min_scores``: each summary's weakest sentence)."""
    consistent = np.sort(min_scores[labels == 1])
    if consistent.size == 0:
        return float("-inf")
    k = int(np.floor(rate * consistent.size))
    return float(consistent[k]) if k < consistent.size else float(consistent[-1] + 1e-9)


def _min_scores(sentences: list[list[float]], summary: np.ndarray) -> np.ndarray:
    return np.array([min(s) if s else float(summary[i]) for i, s in enumerate(sentences)], dtype=float)


def fit_composite(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, l2: float = 0.1) -> dict:
    """Non-negative, L2-regularised logistic regression on standardised ``features``; every group
    (data set) weighs the same and, within it, both classes do (a set of 1,600 summaries does not
    outvote one of 235, nor the majority class the minority)."""
    weight = np.zeros(len(labels))
    names = sorted(set(groups))
    for g in names:
        for c in (0, 1):
            members = (groups == g) & (labels == c)
            if members.any():
                weight[members] = 1.0 / members.sum()
    weight /= weight.sum()
    mean = np.average(features, axis=0, weights=weight)
    std = np.sqrt(np.average((features - mean) ** 2, axis=0, weights=weight)) + 1e-9
    x = np.hstack([(features - mean) / std, np.ones((len(features), 1))])
    y = labels.astype(float)

    def loss(w):
        z = x @ w
        return float(np.sum(weight * (np.logaddexp(0, z) - y * z)) + l2 * np.sum(w[:-1] ** 2))

    def grad(w):
        p = 1 / (1 + np.exp(-(x @ w)))
        g = x.T @ (weight * (p - y))
        g[:-1] += 2 * l2 * w[:-1]
        return g

    bounds = [(0.0, None)] * features.shape[1] + [(None, None)]
    w = minimize(loss, np.zeros(x.shape[1]), jac=grad, method="L-BFGS-B", bounds=bounds).x
    return {"mean": mean.tolist(), "std": std.tolist(), "weights": w[:-1].tolist(), "bias": float(w[-1]),
            "l2": l2, "weighting": "each data set equal, each class equal within a set", "constraint": "weights >= 0"}


def choose(table: dict, datasets: list[Dataset], train: list[str], names: list[str], flag_rate: float) -> dict:
    """What the procedure ships when trained on the sets ``train``: per scorer its summary
    threshold and flag threshold (medians of the per-set optima), and the composite of ``names``."""
    from harness.metrics.consistency.composite import apply_composite

    by_name = {d.name: d for d in datasets}
    chosen: dict = {"train": list(train), "scorers": {}}
    for scorer in names:
        optima, cuts = {}, {}
        for t in train:
            part, labels = table[scorer][t], by_name[t].labels
            optima[t] = best_threshold(part["summary"], labels)
            cuts[t] = flag_cut(_min_scores(part["sentences"], part["summary"]), labels, flag_rate)
        chosen["scorers"][scorer] = {"threshold": float(np.median(list(optima.values()))), "optima": optima,
                                     "flag_threshold": float(np.median(list(cuts.values()))), "flag_cuts": cuts}
    features = np.vstack([np.column_stack([table[s][t]["summary"] for s in names]) for t in train])
    labels = np.concatenate([by_name[t].labels for t in train])
    groups = np.concatenate([[t] * len(by_name[t].examples) for t in train])
    model = fit_composite(features, labels, groups)
    optima = {}
    for t in train:
        composite = apply_composite(model, np.column_stack([table[s][t]["summary"] for s in names]))
        optima[t] = best_threshold(composite, by_name[t].labels)
    model["threshold"] = float(np.median(list(optima.values())))
    model["optima"] = optima
    model["parts"] = list(names)
    chosen["composite"] = model
    return chosen


# --- Reporting on the held-out set

def _clusters(d: Dataset, columns: dict[str, np.ndarray]) -> list[dict]:
    by_doc: dict[str, list[int]] = {}
    for i, e in enumerate(d.examples):
        by_doc.setdefault(e.doc_id, []).append(i)
    labels = d.labels
    return [{"labels": labels[ix], **{k: v[ix] for k, v in columns.items()}}
            for ix in (np.array(v) for v in by_doc.values())]


def _cat(key):
    return lambda cs: np.concatenate([c[key] for c in cs])


def held_out(d: Dataset, table: dict, chosen: dict, names: list[str], *, seed: int = 0,
             n_resamples: int = 1000) -> dict:
    """Every figure on the held-out set ``d`` at the thresholds ``chosen`` without it."""
    from harness.metrics.consistency.composite import apply_composite

    model = chosen["composite"]
    composite = apply_composite(model, np.column_stack([table[s][d.name]["summary"] for s in names]))
    columns = {"composite": composite}
    flagged = {}
    for s in names:
        part = table[s][d.name]
        columns[s] = part["summary"]
        flagged[s] = (_min_scores(part["sentences"], part["summary"])
                      < chosen["scorers"][s]["flag_threshold"]).astype(float)
        columns[f"flag:{s}"] = flagged[s]
    columns["flag:any"] = np.max(np.column_stack(list(flagged.values())), axis=1)
    clusters = _clusters(d, columns)
    labels = _cat("labels")
    boot = {"n_resamples": n_resamples, "seed": seed}
    rows = {}
    for s, threshold in [*((s, chosen["scorers"][s]["threshold"]) for s in names), ("composite", model["threshold"])]:
        rows[s] = {"threshold": threshold,
                   "roc_auc": bootstrap_clusters(clusters, lambda cs, k=s: roc_auc(_cat(k)(cs), labels(cs)), **boot),
                   "balanced_accuracy": bootstrap_clusters(
                       clusters, lambda cs, k=s, t=threshold: balanced_accuracy(_cat(k)(cs), labels(cs), t), **boot)}
    flags = {}
    for s in [*names, "any"]:
        key = f"flag:{s}"
        flags[s] = {"threshold": chosen["scorers"][s]["flag_threshold"] if s != "any" else None,
                    "consistent_flagged": bootstrap_clusters(
                        clusters, lambda cs, k=key: _share(_cat(k)(cs), labels(cs), 1), **boot),
                    "inconsistent_flagged": bootstrap_clusters(
                        clusters, lambda cs, k=key: _share(_cat(k)(cs), labels(cs), 0), **boot)}
    labels_all = d.labels
    return {"dataset": d.name, "n": len(d.examples), "n_consistent": int(labels_all.sum()),
            "n_articles": len(clusters), "scorers": rows, "flags": flags,
            "weights": dict(zip(names, model["weights"], strict=True))}


def _share(flags: np.ndarray, labels: np.ndarray, label: int) -> float:
    members = labels == label
    return float(flags[members].mean()) if members.any() else float("nan")


def lodo(metrics: dict, datasets: list[Dataset], *, cache_dir=None, flag_rate: float = FLAG_RATE, seed: int = 0,
         n_resamples: int = 1000) -> dict:
    """The whole procedure: scores, one fold per held-out set, and the shipped choice (all sets)."""
    from harness.meta_eval.consistency import check_scorers

    check_scorers(metrics)
    names = list(metrics)
    if len(names) < 1:
        raise DataError("--split lodo needs at least one scorer in --metrics")
    table = scores(metrics, datasets, cache_dir)
    all_names = [d.name for d in datasets]
    folds = []
    for d in datasets:
        chosen = choose(table, datasets, [n for n in all_names if n != d.name], names, flag_rate)
        folds.append({"held_out": d.name, "chosen": chosen,
                      "result": held_out(d, table, chosen, names, seed=seed, n_resamples=n_resamples)})
    shipped = choose(table, datasets, all_names, names, flag_rate)
    seconds = {s: {d.name: table[s][d.name]["seconds"] for d in datasets} for s in names}
    from harness.calibration.drift import quantiles

    reference = {d.name: {"n": len(d.examples), "scorers": {s: quantiles(table[s][d.name]["summary"]) for s in names}}
                 for d in datasets}
    return {"protocol": "leave-one-dataset-out", "flag_rate": flag_rate, "seed": seed, "n_resamples": n_resamples,
            "reference": reference,
            "datasets": [{"name": d.name, "path": d.path, "sha256": d.sha256, "format": d.fmt, "n": len(d.examples),
                          "n_consistent": int(d.labels.sum())} for d in datasets],
            "scorers": names, "folds": folds, "shipped": shipped, "seconds": seconds}


# --- Tables

def _cell(triple, pct: bool = False) -> str:
    point, low, high = triple
    if not np.isfinite(point):
        return "–"
    if pct:
        return f"{100 * point:.1f}% [{100 * low:.1f}, {100 * high:.1f}]"
    return f"{point:.3f} [{low:.3f}, {high:.3f}]"


def render(report: dict) -> str:
    names = report["scorers"]
    lines = ["Leave-one-dataset-out: each set held out in turn; every threshold and the composite chosen on the "
             "others (summary thresholds: the median of their per-set optima; composite fitted on them pooled, sets "
             "and classes weighed equally, weights >= 0; flag thresholds: the median of the per-set cuts flagging at "
             f"most {100 * report['flag_rate']:g}% of a set's consistent summaries). Figures on the held-out set, 95% "
             "bootstrap CIs over its articles.", "",
             "| held out | n (consistent) | scorer | ROC AUC | balanced accuracy | summary threshold |",
             "|---|---|---|---|---|---|"]
    for fold in report["folds"]:
        r = fold["result"]
        for s in [*names, "composite"]:
            row = r["scorers"][s]
            lines.append(f"| {r['dataset']} | {r['n']} ({r['n_consistent']}) | {s} | {_cell(row['roc_auc'])} | "
                         f"{_cell(row['balanced_accuracy'])} | {row['threshold']:.3f} |")
    lines += ["", "Flags (a summary is flagged when a sentence scores below the scorer's flag threshold), on the "
              "held-out set:", "",
              "| held out | scorer | flag threshold | consistent flagged (false flags) | inconsistent flagged |",
              "|---|---|---|---|---|"]
    for fold in report["folds"]:
        r = fold["result"]
        for s in [*names, "any"]:
            f = r["flags"][s]
            threshold = f"{f['threshold']:.3f}" if f["threshold"] is not None else "any of them"
            lines.append(f"| {r['dataset']} | {s} | {threshold} | {_cell(f['consistent_flagged'], True)} | "
                         f"{_cell(f['inconsistent_flagged'], True)} |")
    lines += ["", "Composite weights per fold (standardised inputs): "]
    for fold in report["folds"]:
        w = fold["result"]["weights"]
        lines.append(f"- without {fold['held_out']}: " + ", ".join(f"{k} {v:+.3f}" for k, v in w.items())
                     + f"; threshold {fold['chosen']['composite']['threshold']:.3f}")
    shipped = report["shipped"]
    lines += ["", "Shipped (the same procedure on every set): "
              + "; ".join(f"{s}: flag threshold {v['flag_threshold']:.3f}, summary threshold {v['threshold']:.3f}"
                          for s, v in shipped["scorers"].items())
              + "; composite weights " + ", ".join(f"{k} {v:+.3f}" for k, v in
                                                   zip(names, shipped["composite"]["weights"], strict=True))
              + f", bias {shipped['composite']['bias']:+.3f}, threshold {shipped['composite']['threshold']:.3f}."]
    seconds = report["seconds"]
    lines += ["", "Scoring seconds (this machine; cached entries show the time they took when computed): "
              + "; ".join(f"{s}: " + ", ".join(f"{d} {t}" for d, t in v.items()) for s, v in seconds.items())]
    return "\n".join(lines) + "\n"


def composite_record(report: dict, metrics: dict) -> dict:
    """The shipped composite as the file `harness.metrics.consistency.composite` loads."""
    from harness.metrics.consistency.composite import COMPOSITE_FORMAT, input_fingerprint

    model = report["shipped"]["composite"]
    return {"format": COMPOSITE_FORMAT,
            "inputs": [{"metric": name, "key": getattr(m, "key", None), "describe": input_fingerprint(m)}
                       for name, m in metrics.items()],
            "model": {k: model[k] for k in ("mean", "std", "weights", "bias")}, "threshold": model["threshold"],
            "fitted_on": "leave-one-dataset-out procedure over " + ", ".join(d["name"] for d in report["datasets"])
                         + " (weights on all sets pooled; threshold: median of the per-set optima)",
            "split": "lodo", "seed": report["seed"], "n_dev": sum(d["n"] for d in report["datasets"]),
            "data": [{"path": d["path"], "sha256": d["sha256"]} for d in report["datasets"]],
            "held_out": [{"dataset": f["held_out"], "roc_auc": f["result"]["scorers"]["composite"]["roc_auc"][0],
                          "balanced_accuracy": f["result"]["scorers"]["composite"]["balanced_accuracy"][0]}
                         for f in report["folds"]]}


def calibration_record(report: dict, metrics: dict) -> dict:
    """The procedure's choice on every set as a calibration (`harness.calibration.file`): per scorer
    its summary threshold (median of the per-set optima) and flag threshold (rounded to 3 places),
    with the figures each reached on every set left out; the composite; the sets' score
    distributions (``reference``, for the no-label check). The shipped one is
    ``harness/calibration/shipped.json``; report.html's legend quotes its measured rates."""
    from harness.calibration.file import CALIBRATION_FORMAT, data_sha256

    datasets = {d["name"]: d for d in report["datasets"]}
    scorers = {}
    for name, metric in metrics.items():
        held_out, summary_held_out = {}, {}
        for fold in report["folds"]:
            f, d = fold["result"]["flags"][name], datasets[fold["held_out"]]
            held_out[fold["held_out"]] = {
                "flag_threshold": f["threshold"], "consistent_flagged": f["consistent_flagged"][0],
                "inconsistent_flagged": f["inconsistent_flagged"][0], "n_consistent": d["n_consistent"],
                "n_inconsistent": d["n"] - d["n_consistent"]}
            row = fold["result"]["scorers"][name]
            summary_held_out[fold["held_out"]] = {"summary_threshold": row["threshold"], "roc_auc": row["roc_auc"][0],
                                                  "balanced_accuracy": row["balanced_accuracy"][0]}
        chosen = report["shipped"]["scorers"][name]
        # The flag threshold rounded to 3 places, as configs used to write it (the rates are each fold's own).
        scorers[name] = {"key": getattr(metric, "key", None), "summary_threshold": chosen["threshold"],
                         "flag_threshold": round(chosen["flag_threshold"], 3), "held_out": held_out,
                         "summary_held_out": summary_held_out}
    composite = {k: v for k, v in composite_record(report, metrics).items() if k != "format"}
    return {"format": CALIBRATION_FORMAT, "name": "shipped", "protocol": report["protocol"],
            "k": sum(d["n"] for d in report["datasets"]),
            "data": [{"name": d["name"], "path": d["path"], "sha256": d["sha256"], "n": d["n"],
                      "n_consistent": d["n_consistent"]} for d in report["datasets"]],
            "data_sha256": data_sha256([d["sha256"] for d in report["datasets"]]),
            "flag_rate": report["flag_rate"], "flag_rule": FLAG_RULE, "summary_rule": SUMMARY_RULE,
            "scorers": scorers, "composite": composite,
            "figures": {"protocol": "each set left out in turn, every threshold and the composite chosen on the others",
                        "composite": {h["dataset"]: {"roc_auc": h["roc_auc"],
                                                     "balanced_accuracy": h["balanced_accuracy"]}
                                      for h in composite["held_out"]}},
            "reference": {"what": "per labelled set, the 0, 5, ..., 100% quantiles of each scorer's summary scores",
                          "sets": report["reference"]}}
