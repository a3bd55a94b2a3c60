"""Leave-one-dataset-out figures of the trained checker: for each set S with a fold model (trained
without S's labels and without S's articles; `harness.training.train`, ``hold_out: S``), the fold
model scores S and the other sets; the thresholds and the composite (the current scorers plus the
checker) are chosen on the other sets by `harness.meta_eval.transfer.choose`, the procedure of
``harness meta-eval --split lodo``, and reported on S by `transfer.held_out`.

One difference, for time on a 2-core CPU: on the training sets the fold model scores a seeded
sample of at most ``train_sample`` summaries per set (every set, the held-out one included, is
scored in full by the current scorers, whose scores come from the meta-eval cache). The held-out
set is always scored in full. Nothing of S chooses anything reported on S.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from harness.meta_eval import transfer

CHECKER = "consistency_checker"


def sample_indices(n: int, size: int, seed: int) -> np.ndarray:
    """A sorted seeded sample of ``min(size, n)`` indices of ``range(n)``."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=min(size, n), replace=False))


def subset(d: transfer.Dataset, idx: np.ndarray) -> transfer.Dataset:
    """The examples ``idx`` of ``d`` as a data set of its own (its hash names the sample)."""
    if len(idx) == len(d.examples):
        return d
    digest = hashlib.sha256((d.sha256 + json.dumps(idx.tolist())).encode()).hexdigest()
    return replace(d, sha256=digest, examples=tuple(d.examples[i] for i in idx))


def _take(entry: dict, idx: np.ndarray) -> dict:
    return {"summary": entry["summary"][idx], "sentences": [entry["sentences"][i] for i in idx],
            "seconds": entry["seconds"]}


def fold(held: str, checker, current: dict, datasets: list[transfer.Dataset], *, cache_dir, train_sample: int,
         seed: int = 0, flag_rate: float = transfer.FLAG_RATE) -> dict:
    """One fold's chosen thresholds and held-out figures, the checker and the composite with it.

    Args:
        held: the held-out set's name.
        checker: the fold model's metric (a TrainedCheckerSupport).
        current: ``transfer.scores`` of the current scorers on every set, in full.
        datasets: every set, in full.
        cache_dir: where the checker's scores are kept.
        train_sample: summaries per training set the fold model scores.
        seed: the samples' and the bootstrap's seed.
        flag_rate: as ``transfer.lodo``.
    Returns:
        {"held_out", "chosen", "result", "samples"}."""
    samples = {d.name: (np.arange(len(d.examples)) if d.name == held
                        else sample_indices(len(d.examples), train_sample, seed)) for d in datasets}
    parts = [subset(d, samples[d.name]) for d in datasets]
    table = {name: {d.name: _take(v[d.name], samples[d.name]) for d in datasets} for name, v in current.items()}
    table[CHECKER] = transfer.scores({CHECKER: checker}, parts, cache_dir)[CHECKER]
    names = [*current, CHECKER]
    train = [d.name for d in datasets if d.name != held]
    chosen = transfer.choose(table, parts, train, names, flag_rate)
    held_set = next(p for p in parts if p.name == held)
    result = transfer.held_out(held_set, table, chosen, names, seed=seed)
    return {"held_out": held, "chosen": chosen, "result": result,
            "samples": {k: int(len(v)) for k, v in samples.items()}}


def render(folds: list[dict], names: list[str]) -> str:
    """The held-out table: per fold, each scorer's and the composite's ROC AUC and balanced accuracy."""
    lines = ["| held out | n (consistent) | scorer | ROC AUC | balanced accuracy | summary threshold |",
             "|---|---|---|---|---|---|"]
    for f in folds:
        r = f["result"]
        for s in [*names, "composite"]:
            row = r["scorers"][s]
            label = "composite (with the checker)" if s == "composite" else s
            lines.append(f"| {r['dataset']} | {r['n']} ({r['n_consistent']}) | {label} | "
                         f"{transfer._cell(row['roc_auc'])} | {transfer._cell(row['balanced_accuracy'])} | "
                         f"{row['threshold']:.3f} |")
    lines += ["", "Composite weights per fold (standardised inputs):"]
    for f in folds:
        lines.append(f"- without {f['held_out']}: " + ", ".join(f"{k} {v:+.3f}" for k, v in
                                                                f["result"]["weights"].items()))
    lines += ["", "Checker flags on the held-out set (flag threshold chosen on the others):"]
    for f in folds:
        flags = f["result"]["flags"][CHECKER]
        lines.append(f"- {f['held_out']}: flag threshold {flags['threshold']:.3f}; consistent flagged "
                     f"{transfer._cell(flags['consistent_flagged'], True)}; inconsistent flagged "
                     f"{transfer._cell(flags['inconsistent_flagged'], True)}")
    return "\n".join(lines) + "\n"


def run(paths: list[str], folds_dir: str | Path, current_names: list[str], *, cache_dir: str, train_sample: int,
        only: list[str] | None = None, seed: int = 0, device: str = "cpu", log=print) -> dict:
    """Every fold whose model is finished under ``folds_dir/fold-<set>`` (or those in ``only``)."""
    from harness.config import load_metric
    from harness.metrics.consistency.trained_checker import TrainedCheckerSupport

    datasets = transfer.read_datasets(paths)
    current = transfer.scores({n: load_metric(n) for n in current_names}, datasets, cache_dir)
    out = []
    for d in datasets:
        directory = Path(folds_dir) / f"fold-{d.name}"
        card = directory / "card.json"
        if (only and d.name not in only) or not card.is_file() or not json.loads(card.read_text())["finished"]:
            log(f"{d.name}: no finished fold model in {directory}; skipped")
            continue
        log(f"{d.name}: scoring with {directory}")
        checker = TrainedCheckerSupport(model=f"checker:{directory}", device=device)
        result = fold(d.name, checker, current, datasets, cache_dir=cache_dir, train_sample=train_sample, seed=seed)
        result["model"] = {"dir": str(directory), **{k: json.loads(card.read_text())[k]
                                                     for k in ("adapter_sha256", "pairs", "steps", "seconds")}}
        out.append(result)
    return {"scorers": [*current_names, CHECKER], "train_sample": train_sample, "seed": seed, "folds": out}
