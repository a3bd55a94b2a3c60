"""Does this data score like the data its calibration was chosen on? A check without labels.

Thresholds chosen on CNN/DM-style summaries do not fit BBC/XSum-style ones: there every overlap
score shifts down, consistent summaries and inconsistent ones alike (docs/meta-eval-consistency.md,
"Transfer"), and the flags stop meaning what the legend says. A run has no labels, but it has its
summaries' scores (and, in a sweep, its human references', the ``bullets`` system). The rule, per
scorer:

- a calibration keeps, for each labelled set it was chosen on, the quantiles of that set's summary
  scores (``reference``: every summary, both labels, as a run's are unlabelled);
- the statistic is the **position** of the run's median summary score in each set's distribution
  (the share of that set's summaries scoring below it), and its median over the sets (so one odd set
  among them, XSumFaith in the shipped calibration, does not carry it);
- the run's data **does not fit** the calibration when that position is below ``CUT``: the run's
  typical summary scores lower than nearly every summary of the typical calibration set. Fewer than
  ``MIN_SUMMARIES`` summaries are too few to tell (the check says so and stays quiet).

``CUT`` is measured, not guessed: docs/meta-eval-consistency.md, "Does a run's data fit its
calibration?" gives the statistic on every labelled set (each against the other sets) with the
command that prints it (``python benchmarks/calibration_curve.py --drift``). A model that garbles
CNN/DM articles also scores low: the check reads the sweep's human references where there are any
(they are consistent by construction), and says which summaries it read.
"""

from __future__ import annotations

import numpy as np

CUT = 0.10
MIN_SUMMARIES = 10
QUANTILES = tuple(np.round(np.linspace(0, 1, 21), 2).tolist())


def quantiles(scores) -> list[float]:
    """The ``QUANTILES`` of ``scores`` (what a calibration keeps of one set's distribution)."""
    values = np.asarray(scores, dtype=float)
    values = values[np.isfinite(values)]
    return [round(float(q), 6) for q in np.quantile(values, QUANTILES)] if values.size else []


def position(value: float, reference: list[float]) -> float:
    """The share of a reference distribution (its ``QUANTILES``) below ``value``, interpolated."""
    q = np.asarray(reference, dtype=float)
    levels = np.asarray(QUANTILES[:len(q)], dtype=float)
    if value < q[0]:
        return 0.0
    if value >= q[-1]:
        return 1.0
    # Ties in the quantiles (many summaries at 1.0): the share strictly below is the first level at that value.
    above = int(np.searchsorted(q, value, side="right"))
    low, high = q[above - 1], q[above]
    share = levels[above - 1] + (levels[above] - levels[above - 1]) * (value - low) / (high - low)
    first = int(np.searchsorted(q, low, side="left"))
    return float(levels[first] if value == low else share)


def statistic(scores, reference: dict) -> dict:
    """Per reference set the position of the median of ``scores``, and their median (``position``)."""
    values = np.asarray([s for s in scores if s is not None], dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0 or not reference:
        return {"n": int(values.size), "median": None, "position": None, "by_set": {}}
    median = float(np.median(values))
    by_set = {name: position(median, q) for name, q in reference.items() if q}
    return {"n": int(values.size), "median": median,
            "position": float(np.median(list(by_set.values()))) if by_set else None, "by_set": by_set}


def check(scores, reference: dict, *, cut: float = CUT, min_summaries: int = MIN_SUMMARIES) -> dict:
    """`statistic` and the verdict: ``fits`` True, False (the rule fired) or None (too few summaries)."""
    out = statistic(scores, reference)
    if out["position"] is None or out["n"] < min_summaries:
        out["fits"] = None
    else:
        out["fits"] = bool(out["position"] >= cut)
    out["cut"], out["min_summaries"] = cut, min_summaries
    return out


def scorer_references(calibration: dict) -> dict:
    """Scorer config name -> {set name: quantiles} from a calibration's content."""
    out: dict = {}
    for set_name, entry in ((calibration.get("reference") or {}).get("sets") or {}).items():
        for scorer, q in ((entry or {}).get("scorers") or {}).items():
            out.setdefault(scorer, {})[set_name] = q
    return out


def message(scorer: str, result: dict, calibration_name: str, read: str) -> str:
    """One line an editor reads when the rule fired."""
    return (f"{scorer}: thresholds of the calibration {calibration_name!r} do not fit this data: its {read} "
            f"(median score {result['median']:.3f}, n={result['n']}) score lower than "
            f"{100 * (1 - result['position']):.0f}% of the summaries the calibration was chosen on (the rule fires "
            f"below {100 * result['cut']:.0f}%; XSum-style text scores so): flags and verdicts are unreliable here; "
            "calibrate with ~25 marks (harness calibrate)")


def run_drift(rows: list[dict], metrics: dict, calibration: dict, calibration_name: str,
              system: str | None = None) -> dict:
    """The check for every calibrated scorer of a run: rows of scores.jsonl (``scores`` per summary),
    ``metrics`` (config name -> metric), the calibration's content. Returns {scorer: result+message}."""
    references = scorer_references(calibration)
    read = "human references" if system == "bullets" else "summaries"
    out = {}
    for name, metric in metrics.items():
        if name not in references or not getattr(metric, "key", None):
            continue
        column = f"{metric.name}/score@{metric.key}"
        scores = [row.get("scores", {}).get(column) for row in rows]
        result = check([s for s in scores if isinstance(s, (int, float))], references[name])
        result["read"] = read
        result["message"] = message(name, result, calibration_name, read) if result["fits"] is False else None
        out[name] = result
    return out
