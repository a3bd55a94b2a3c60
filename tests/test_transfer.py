"""Leave-one-dataset-out meta-evaluation (harness/meta_eval/transfer.py): thresholds chosen on the
other sets (worked out by hand), the composite's weights (non-negative, every set and class
weighed the same), the figures on the set left out, the score cache, and the command's errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.cli import main
from harness.errors import DataError
from harness.meta_eval import transfer
from harness.metrics.consistency.base import SentenceConsistency
from harness.stats.agreement import best_threshold

from .helpers.cli import one_line


def meta_eval(args: list[str]) -> int:
    """`harness meta-eval ARGS` as users run it: through the command's one error path."""
    return main(["meta-eval", *args])


class _Overlap(SentenceConsistency):
    """Share of a sentence's words in the article (cheap, deterministic)."""
    key, display = "overlap", "Overlap"

    def __init__(self, threshold=0.5):
        super().__init__(threshold)
        self.calls = 0

    def judge(self, items):
        self.calls += 1
        return [[{"score": len(set(s.lower().split()) & set(text.lower().split())) / len(s.split())}
                 for s in sentences] for sentences, text in items]


class _Noise(_Overlap):
    """A score that carries no signal (the example's length parity)."""
    key, display = "noise", "Noise"

    def judge(self, items):
        return [[{"score": float(len(s) % 2)} for s in sentences] for sentences, _ in items]


def _rows(seed: int, n: int = 12, shift: float = 0.0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        article = f"Report {seed} {i}. Officials in Almaty said eight police officers were hurt on Monday."
        words = "Officials said eight police officers were hurt on Monday".split()
        k = int(rng.integers(0, 3)) + int(shift)
        claim = " ".join(words[:len(words) - k] + ["invented"] * (k if i % 2 == 0 else 0)) + "."
        rows.append({"document": article, "claim": claim, "label": i % 2})
    return rows


def _files(tmp_path, k=3):
    paths = []
    for s in range(k):
        path = tmp_path / f"set{s}_test.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in _rows(s, shift=s % 2)))
        paths.append(str(path))
    return paths


def test_flag_cut_by_hand():
    mins = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.05])
    labels = np.array([1] * 10 + [0])
    assert transfer.flag_cut(mins, labels, 0.2) == 0.3  # 2 of the 10 consistent below 0.3
    assert sum(mins[labels == 1] < 0.3) == 2
    assert transfer.flag_cut(mins, labels, 0.0) == 0.1  # none below
    assert transfer.flag_cut(np.array([0.5] * 4), np.array([1] * 4), 0.3) == 0.5  # ties: nothing below


def test_composite_weights_are_non_negative_and_sets_weigh_the_same():
    rng = np.random.default_rng(0)
    labels = np.array([0, 1] * 100)
    good = labels + rng.normal(0, 0.5, 200)
    contrary = -labels + rng.normal(0, 0.5, 200)  # on this data, more means less consistent
    features = np.column_stack([good, contrary])
    model = transfer.fit_composite(features, labels, np.array(["a"] * 200))
    assert model["weights"][0] > 0.5 and model["weights"][1] == pytest.approx(0.0, abs=1e-9)
    # Group weighting: 190 rows of set "big" vs 10 of "small" weigh the same.
    groups = np.array(["big"] * 190 + ["small"] * 10)
    weighted = transfer.fit_composite(features, labels, groups)
    assert weighted["weighting"].startswith("each data set equal")
    assert np.isfinite(weighted["bias"]) and len(weighted["weights"]) == 2


def test_lodo_thresholds_are_medians_of_the_other_sets_optima(tmp_path):
    datasets = transfer.read_datasets(_files(tmp_path))
    metrics = {"overlap": _Overlap(), "noise": _Noise()}
    report = transfer.lodo(metrics, datasets, cache_dir=tmp_path / "cache", flag_rate=0.2, n_resamples=20)
    table = transfer.scores(metrics, datasets, tmp_path / "cache")
    assert [f["held_out"] for f in report["folds"]] == ["set0", "set1", "set2"]
    for fold in report["folds"]:
        train = [d for d in datasets if d.name != fold["held_out"]]
        assert fold["chosen"]["train"] == [d.name for d in train]
        optima = [best_threshold(table["overlap"][d.name]["summary"], d.labels) for d in train]
        assert fold["chosen"]["scorers"]["overlap"]["threshold"] == pytest.approx(float(np.median(optima)))
        held = next(d for d in datasets if d.name == fold["held_out"])
        mins = np.array([min(s) for s in table["overlap"][held.name]["sentences"]])
        cut = fold["chosen"]["scorers"]["overlap"]["flag_threshold"]
        flagged = mins < cut
        assert fold["result"]["flags"]["overlap"]["consistent_flagged"][0] == pytest.approx(
            flagged[held.labels == 1].mean())
        assert all(w >= 0 for w in fold["result"]["weights"].values())
    assert report["shipped"]["train"] == ["set0", "set1", "set2"]
    text = transfer.render(report)
    assert "| set1 | 12 (6) | overlap |" in text and "Shipped (the same procedure on every set)" in text


def test_scores_are_computed_once_per_scorer_and_file(tmp_path):
    datasets = transfer.read_datasets(_files(tmp_path))
    metric = _Overlap()
    transfer.scores({"overlap": metric}, datasets, tmp_path / "cache")
    assert metric.calls == 3
    again = _Overlap()
    transfer.scores({"overlap": again}, datasets, tmp_path / "cache")
    assert again.calls == 0  # read back from the cache


def test_lodo_needs_three_sets_and_labels(tmp_path):
    paths = _files(tmp_path, 2)
    with pytest.raises(DataError, match="three or more --data files"):
        transfer.read_datasets(paths)


def test_the_command_refuses_a_metric_that_is_not_a_consistency_scorer(tmp_path, capsys):
    code = meta_eval(["--split", "lodo", "--data", *_files(tmp_path), "--metrics", "rouge",
                      "--cache-dir", str(tmp_path / "c")])
    assert code == 2 and "--metrics rouge: not a consistency scorer" in capsys.readouterr().err


def test_several_files_without_lodo_are_refused(tmp_path, capsys):
    assert meta_eval(["--data", *_files(tmp_path)]) == 2
    one_line(2, capsys.readouterr().err, "harness meta-eval: --data takes one file under --split half")


def _run_with(metrics: dict):
    """A run whose metrics described these thresholds (read through `Run.thresholds`, as the page does)."""
    from harness.results.runs import Run

    return Run(name="r", key=("r",), setup="", results={"provenance": {"metrics": metrics}})


def test_the_page_legend_quotes_the_measured_rates_only_at_the_measured_threshold(tmp_path):
    from harness.reports.flag_legend import CALIBRATE_HINT, legend

    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"format": "harness.calibration/1", "scorers": {"consistency_claims": {
        "flag_threshold": 0.4, "summary_threshold": 0.9, "held_out": {
            "xsumfaith": {"consistent_flagged": 0.05, "inconsistent_flagged": 0.41}}}}}))
    shipped = legend([_run_with({"consistency_claims": {"scorer": "claims", "threshold": 0.4}, "rouge": {}})], path)
    assert shipped == ["consistency_claims: flags a sentence scoring below 0.400. Measured with each data set left "
                       "out (summaries flagged): xsumfaith: 5% of consistent, 41% of inconsistent.", CALIBRATE_HINT]
    moved = legend([_run_with({"consistency_claims": {"scorer": "claims", "threshold": 0.7}})], path)
    assert moved == ["consistency_claims: flags below 0.700, not the calibrated 0.400: the rates below do not apply.",
                     CALIBRATE_HINT]
    assert "no measured rates" in legend([_run_with({"consistency_entity": {"scorer": "entity", "threshold": 0.5}})],
                                         path)[0]
    composite = {"scorer": "composite", "inputs": ["consistency_claims"], "threshold": 0.53}
    assert legend([_run_with({"consistency_composite": composite})], path) == []  # it flags no sentence


def test_every_shipped_flag_threshold_is_the_calibrated_one():
    """One source of truth: each consistency config's threshold resolves to the calibration file's."""
    from harness.config import load_metric
    from harness.reports.flag_legend import CALIBRATION, read_calibration

    scorers = read_calibration(CALIBRATION)
    assert scorers, f"{CALIBRATION} is missing: harness meta-eval --split lodo ... --save-calibration {CALIBRATION}"
    for name, entry in scorers.items():
        assert load_metric(name).threshold == entry["flag_threshold"], name
