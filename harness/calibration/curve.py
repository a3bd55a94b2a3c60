"""The learning curve of ``harness calibrate``: how many labels a calibration needs, per data set.

For each labelled set: its articles split in halves (seeded); the base calibration is the one the
leave-one-dataset-out procedure chooses *without that set* (what a user of the shipped calibration
gets on data it never saw); K examples are drawn from the first half (at least ``MIN_EACH`` of each
label, as an editor asked to mark both kinds would), a calibration is chosen on them
(`harness.calibration.fit.choose`, threshold only or refit), and its composite's balanced accuracy
is measured on the other half. K = 0 is the base itself. Mean and 10-90% range over the draws.
Also here: the no-label check's statistic on each set against the other sets (`drift_table`).
"""

from __future__ import annotations

import numpy as np

from harness.calibration import drift, fit
from harness.reports.markdown import escape_md
from harness.stats.agreement import balanced_accuracy, dev_test_split

KS = (0, 10, 25, 50, 100, 200)
MIN_EACH = 5
DRAWS = 20


def weakest(sentences: list, summary: np.ndarray) -> np.ndarray:
    return np.array([min(s) if s else float(summary[i]) for i, s in enumerate(sentences)], dtype=float)


def labelled_set(table: dict, dataset, names: list[str]) -> fit.Labelled:
    """One data set's `fit.Labelled` from the lodo score table."""
    return fit.Labelled(dataset.labels, np.array([e.doc_id for e in dataset.examples]),
                        {n: np.asarray(table[n][dataset.name]["summary"], dtype=float) for n in names},
                        {n: weakest(table[n][dataset.name]["sentences"], table[n][dataset.name]["summary"])
                         for n in names})


def base_without(table: dict, datasets: list, held_out: str, names: list[str], flag_rate: float,
                 inputs: list[dict]) -> dict:
    """The calibration content the lodo procedure chooses on every set but ``held_out``."""
    from harness.meta_eval.transfer import choose

    chosen = choose(table, datasets, [d.name for d in datasets if d.name != held_out], names, flag_rate)
    model = chosen["composite"]
    from harness.calibration.drift import quantiles

    reference = {"sets": {d.name: {"scorers": {n: quantiles(table[n][d.name]["summary"]) for n in names}}
                          for d in datasets if d.name != held_out}}
    return {"flag_rate": flag_rate, "reference": reference,
            "scorers": {n: {"summary_threshold": v["threshold"], "flag_threshold": v["flag_threshold"]}
                        for n, v in chosen["scorers"].items()},
            "composite": {"inputs": inputs, "model": {k: model[k] for k in ("mean", "std", "weights", "bias")},
                          "threshold": model["threshold"]}}


def draw(labels: np.ndarray, pool: np.ndarray, k: int, rng: np.random.Generator, min_each: int = MIN_EACH):
    """``k`` indices from ``pool``: ``min_each`` of each label first, the rest at random."""
    ones, zeros = pool[labels[pool] == 1], pool[labels[pool] == 0]
    first = np.concatenate([rng.choice(ones, min(min_each, ones.size), replace=False),
                            rng.choice(zeros, min(min_each, zeros.size), replace=False)])
    rest = np.setdiff1d(pool, first)
    more = rng.choice(rest, max(0, min(k - first.size, rest.size)), replace=False)
    return np.concatenate([first, more]).astype(int)


def composite_ba(data: fit.Labelled, calibration: dict) -> float:
    scores, threshold = fit.predictions(data, calibration)["composite"]
    return balanced_accuracy(scores, data.labels, threshold)


def curve(data: fit.Labelled, base: dict, *, ks=KS, draws: int = DRAWS, seed: int = 0,
          prior: float | None = None, shipped: dict | None = None) -> dict:
    """{mode: {k: [composite BA on the test half per draw]}} for modes ``threshold`` and ``refit``;
    with ``shipped`` (a calibration's content) also {"shipped": its composite BA on the test half}."""
    calibrate_half, _ = dev_test_split(data.groups.tolist(), seed)
    in_first = np.array([g in calibrate_half for g in data.groups.tolist()])
    pool, test = np.flatnonzero(in_first), np.flatnonzero(~in_first)
    held = data.take(test)
    out: dict = {"threshold": {}, "refit": {}}
    base_ba = composite_ba(held, base)
    shipped_ba = composite_ba(held, shipped) if shipped else None
    for mode in out:
        for k in ks:
            if k == 0:
                out[mode][k] = [base_ba]
                continue
            if k > pool.size:
                continue
            values = []
            for d in range(draws):
                rng = np.random.Generator(np.random.PCG64([seed, k, d]))
                chosen = fit.choose(data.take(draw(data.labels, pool, k, rng)), base,
                                    refit_composite=mode == "refit", prior=prior)
                values.append(composite_ba(held, chosen))
            out[mode][k] = values
    if shipped_ba is not None:
        out["shipped"] = shipped_ba
    return out


def summarise(values: list[float]) -> tuple[float, float, float]:
    """(mean, 10th, 90th percentile), in points."""
    v = 100 * np.asarray(values, dtype=float)
    return float(v.mean()), float(np.percentile(v, 10)), float(np.percentile(v, 90))


def render_curve(curves: dict, ks=KS) -> str:
    """The Markdown table: per set and mode, the composite's balanced accuracy at each K (and the
    shipped calibration's, where the curves have it)."""
    shipped = any("shipped" in modes for modes in curves.values())
    lines = ["| set | mode | " + ("shipped | " if shipped else "") + " | ".join(f"K={k}" for k in ks) + " |",
             "|---|---|" + "---|" * (len(ks) + shipped)]
    for name, modes in curves.items():
        for mode, by_k in modes.items():
            if mode == "shipped":
                continue
            cells = []
            for k in ks:
                if k not in by_k:
                    cells.append("–")
                    continue
                mean, low, high = summarise(by_k[k])
                cells.append(f"{mean:.1f}" if k == 0 else f"{mean:.1f} [{low:.1f}, {high:.1f}]")
            first = f"{100 * modes['shipped']:.1f} | " if shipped else ""
            lines.append(f"| {name} | {mode} | {first}" + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def drift_table(table: dict, datasets: list, names: list[str]) -> dict:
    """{set: {scorer: check result}}: each set's summary scores against the other sets' quantiles."""
    out = {}
    for d in datasets:
        out[d.name] = {}
        for n in names:
            reference = {o.name: drift.quantiles(table[n][o.name]["summary"]) for o in datasets if o.name != d.name}
            out[d.name][n] = drift.check(table[n][d.name]["summary"], reference)
    return out


def render_drift(rows: dict, names: list[str]) -> str:
    """The Markdown table of `drift_table` (and any extra rows of the same shape)."""
    lines = ["| data | n | " + " | ".join(names) + " | rule fires |", "|---|---|" + "---|" * (len(names) + 1)]
    for name, by_scorer in rows.items():
        n = next(iter(by_scorer.values()))["n"]
        cells = []
        for s in names:
            r = by_scorer.get(s)
            cells.append("–" if r is None or r["position"] is None else f"{100 * r['position']:.1f}%")
        fired = [s for s in names if (by_scorer.get(s) or {}).get("fits") is False]
        quiet = all((by_scorer.get(s) or {}).get("fits") is None for s in names)
        verdict = ", ".join(fired) if fired else ("no (too few summaries)" if quiet else "no")
        lines.append(f"| {escape_md(name)} | {n} | " + " | ".join(cells) + f" | {verdict} |")
    return "\n".join(lines) + "\n"
