"""Calibrations (harness/calibration/): one file holds every consistency threshold, by name; the
fitting rules on hand-worked values; the no-label check on synthetic score distributions."""

import json

import numpy as np
import pytest

from harness.calibration import drift, fit
from harness.calibration.file import SHIPPED, read_calibration
from harness.config import CONF_DIR, load_metric
from harness.errors import ConfigError, DataError

CALIBRATED = ("consistency_embedding", "consistency_entity", "consistency_lemmas", "consistency_claims")


def test_the_shipped_calibration_names_both_thresholds_of_every_scorer():
    shipped = read_calibration()
    assert shipped.path == str(SHIPPED) and shipped.shipped and shipped.name == "shipped"
    for name in CALIBRATED:
        entry = shipped.scorer(name)
        assert 0 < entry["flag_threshold"] < entry["summary_threshold"] < 1, name
    assert [i["metric"] for i in shipped.composite["inputs"]] == list(CALIBRATED)
    assert all(w >= 0 for w in shipped.composite["model"]["weights"])


@pytest.mark.parametrize("name", CALIBRATED)
def test_a_scorer_config_reads_its_flag_threshold_from_the_calibration(name):
    """One source of truth: the config holds no copy of the number, it names the calibration's."""
    text = (CONF_DIR / "metrics" / f"{name}.yaml").read_text()
    assert "threshold: ${calibrated:flag}" in text
    assert load_metric(name).threshold == read_calibration().threshold(name, "flag")


def _copy_with(tmp_path, **flags):
    content = json.loads(SHIPPED.read_text())
    content["name"] = "mine"
    for name, value in flags.items():
        content["scorers"][name]["flag_threshold"] = value
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(content))
    return path


def test_another_calibration_sets_the_thresholds_and_the_composite(tmp_path):
    path = _copy_with(tmp_path, consistency_claims=0.25)
    assert load_metric("consistency_claims", calibration=path).threshold == 0.25
    assert load_metric("consistency_claims").threshold == read_calibration().threshold("consistency_claims", "flag")
    record = read_calibration(path).record()
    assert record["name"] == "mine" and not record["shipped"] and len(record["sha256"]) == 64
    composite = load_metric("consistency_composite", calibration=path)
    assert composite.threshold == read_calibration().composite["threshold"]


def test_a_missing_or_foreign_calibration_is_one_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read it"):
        read_calibration(tmp_path / "nope.json")
    (tmp_path / "x.json").write_text(json.dumps({"format": "something"}))
    with pytest.raises(ConfigError, match="not a calibration file"):
        read_calibration(tmp_path / "x.json")
    with pytest.raises(ConfigError, match="no flag threshold for 'consistency_judge'"):
        read_calibration().threshold("consistency_judge", "flag")


# --- fitting rules, hand-worked

def test_shrink_weighs_the_base_as_prior_examples():
    assert fit.shrink(0.2, 0.5, 20, prior=20) == pytest.approx(0.35)
    assert fit.shrink(0.2, 0.5, 0, prior=20) == 0.5
    assert fit.shrink(0.2, 0.5, 60, prior=20) == pytest.approx(0.275)


def test_flag_cut_flags_at_most_the_rate_of_consistent_examples():
    weakest = np.array([0.1, 0.3, 0.5, 0.7, 0.9, 0.2])
    labels = np.array([1, 1, 1, 1, 1, 0])
    assert fit.flag_cut(weakest, labels, 0.0) == 0.1  # nothing below 0.1 among the consistent
    assert fit.flag_cut(weakest, labels, 0.2) == 0.3  # one of five (0.1) may fall below


def _separable(k_each=10):
    """Consistent summaries score 0.6..0.9, inconsistent 0.0..0.3: any cut in (0.3, 0.6) separates."""
    ones, zeros = np.linspace(0.6, 0.9, k_each), np.linspace(0.0, 0.3, k_each)
    scores = np.concatenate([ones, zeros])
    labels = np.array([1] * k_each + [0] * k_each)
    groups = np.array([f"a{i}" for i in range(2 * k_each)])
    return fit.Labelled(labels, groups, {"s": scores}, {"s": scores})


BASE = {"flag_rate": 0.0, "scorers": {"s": {"summary_threshold": 0.8, "flag_threshold": 0.7}}}


def test_thresholds_move_toward_the_data_by_how_many_labels_there_are():
    data = _separable()
    chosen = fit.choose(data, BASE, prior=20)["scorers"]["s"]
    # best threshold on the 20 examples: the midpoint of 0.3 and 0.6 = 0.45; (20 * 0.45 + 20 * 0.8) / 40
    assert chosen["summary_threshold"] == pytest.approx(0.625)
    # flag cut at rate 0: the weakest consistent example, 0.6; 10 consistent: (10 * 0.6 + 20 * 0.7) / 30
    assert chosen["flag_threshold"] == pytest.approx(20 / 30)
    assert fit.choose(data, BASE, prior=0)["scorers"]["s"]["summary_threshold"] == pytest.approx(0.45)


def test_too_few_of_one_label_is_refused():
    data = _separable().take([0, 1, 2, 10])
    with pytest.raises(DataError, match="at least 2 consistent and 2 inconsistent"):
        fit.choose(data, BASE)


def test_the_refit_composite_stays_non_negative_and_near_the_base_with_few_labels():
    rng = np.random.default_rng(0)
    labels = np.array([1] * 30 + [0] * 30)
    good = np.where(labels == 1, 0.8, 0.4) + rng.normal(0, 0.1, 60)
    bad = np.where(labels == 1, 0.3, 0.7) + rng.normal(0, 0.1, 60)  # says the opposite of the label
    features = np.column_stack([good, bad])
    base = {"mean": [0.6, 0.5], "std": [0.2, 0.2], "weights": [0.5, 0.5], "bias": 0.0}
    free = fit.refit(features, labels, base, prior=0.0)
    assert free["weights"][1] == 0.0 and free["weights"][0] > 1.0  # the negative weight is clipped at 0
    held = fit.refit(features, labels, base, prior=1e6)
    assert held["weights"] == pytest.approx([0.5, 0.5], abs=1e-3)


def test_cross_validated_figures_judge_each_fold_by_a_calibration_that_did_not_see_it():
    data = _separable(k_each=15)
    cv = fit.cross_validate(data, BASE, n_folds=5, prior=0)
    assert cv["n_folds"] == 5 and cv["k"] == 30
    assert cv["scorers"]["s"]["balanced_accuracy"] == 1.0
    # the base's summary threshold 0.8 calls 10 of the 15 consistent ones (0.600 to 0.793, steps of 0.3/14)
    # inconsistent: true-positive rate 5/15, true-negative rate 1
    assert cv["base"]["s"]["balanced_accuracy"] == pytest.approx((5 / 15 + 1) / 2)


# --- the no-label check

CNNDM_LIKE = {"a": np.linspace(0.8, 1.0, 21).tolist(), "b": np.linspace(0.7, 1.0, 21).tolist()}


def test_position_is_the_share_of_the_reference_below_a_score():
    reference = np.linspace(0.8, 1.0, 21).tolist()  # 0.80, 0.81, ... 1.00 at 0%, 5%, ... 100%
    assert drift.position(0.9, reference) == pytest.approx(0.5)
    assert drift.position(0.815, reference) == pytest.approx(0.075)
    assert drift.position(0.5, reference) == 0.0 and drift.position(1.0, reference) == 1.0
    tied = [0.5] * 10 + [1.0] * 11  # half the set at 1.0
    assert drift.position(1.0, tied) == 1.0 and drift.position(0.99, tied) == pytest.approx(0.45 + 0.05 * 0.98)


def test_the_check_fires_on_xsum_like_scores_and_not_on_cnndm_like_ones():
    xsum_like = np.linspace(0.2, 0.8, 40)  # median 0.5: below every CNN/DM-like summary
    cnndm_like = np.linspace(0.75, 1.0, 40)  # median 0.875: 37.5% into a, 58% into b
    fired = drift.check(xsum_like, CNNDM_LIKE)
    assert fired["fits"] is False and fired["position"] == 0.0 and fired["median"] == pytest.approx(0.5)
    quiet = drift.check(cnndm_like, CNNDM_LIKE)
    assert quiet["fits"] is True
    assert quiet["by_set"] == pytest.approx({"a": 0.375, "b": 0.175 / 0.3})
    assert quiet["position"] == pytest.approx((0.375 + 0.175 / 0.3) / 2)
    few = drift.check(xsum_like[:5], CNNDM_LIKE)
    assert few["fits"] is None and few["position"] == 0.0  # five summaries are too few to tell


def test_a_run_records_the_check_per_scorer_with_the_line_editors_read():
    from types import SimpleNamespace

    calibration = {"reference": {"sets": {"a": {"scorers": {"consistency_claims": CNNDM_LIKE["a"]}}}}}
    metrics = {"consistency_claims": SimpleNamespace(name="consistency", key="claims"), "rouge": SimpleNamespace()}
    rows = [{"scores": {"consistency/score@claims": float(s)}} for s in np.linspace(0.2, 0.6, 12)]
    out = drift.run_drift(rows, metrics, calibration, "shipped", system="bullets")
    assert list(out) == ["consistency_claims"] and out["consistency_claims"]["fits"] is False
    assert out["consistency_claims"]["read"] == "human references"
    assert "do not fit this data" in out["consistency_claims"]["message"]
    assert "calibrate with ~25 marks" in out["consistency_claims"]["message"]


# --- meta-eval --split none judges a summary at the summary threshold


def test_split_none_judges_multi_sentence_summaries_at_the_summary_threshold(tmp_path, capsys):
    """CNN/DM-like: three-sentence summaries, the inconsistent ones with one wrong number. Their summary
    score (the entity scorer's precision: 3 of their 4 names and numbers are in the article, 0.75) is
    above the entity scorer's flag threshold, so judging the summary at the flag threshold calls every
    summary consistent (balanced accuracy 0.5 by construction); at the summary threshold it separates
    them."""
    from harness.cli import main

    rows = _cnndm_like_rows()
    data = tmp_path / "cnndm_like.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code = main(["meta-eval", "--data", str(data), "--metrics", "consistency_entity", "--split", "none",
                 "--n-resamples", "20", "--out", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    (result,) = json.loads((tmp_path / "out" / "meta_eval.json").read_text())["results"]
    shipped = read_calibration()
    flag, summary = shipped.threshold("consistency_entity", "flag"), shipped.summary_threshold("consistency_entity")
    assert flag < 3 / 4 < summary  # the case the two thresholds disagree on
    assert result["tuned_threshold"] == summary and result["balanced_accuracy"][0] == 1.0
    # --calibration PATH: its summary threshold judges (0.6: every summary consistent again)
    content = json.loads(SHIPPED.read_text())
    content["scorers"]["consistency_entity"]["summary_threshold"] = 0.6
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(content))
    code = main(["meta-eval", "--data", str(data), "--metrics", "consistency_entity", "--split", "none",
                 "--calibration", str(mine), "--n-resamples", "20", "--out", str(tmp_path / "out2")])
    assert code == 0, capsys.readouterr().err
    (result,) = json.loads((tmp_path / "out2" / "meta_eval.json").read_text())["results"]
    assert result["tuned_threshold"] == 0.6 and result["balanced_accuracy"][0] == 0.5


def test_the_warning_reaches_the_legend_and_the_leaderboard():
    from types import SimpleNamespace

    from harness.calibration.record import drift_lines
    from harness.reports.flag_legend import legend
    from harness.reports.leaderboard import _calibration_warnings, render_markdown
    from harness.results.runs import Run

    rows = [{"scores": {"consistency/score@claims": float(s)}} for s in np.linspace(0.2, 0.6, 12)]
    calibration = {"reference": {"sets": {"a": {"scorers": {"consistency_claims": CNNDM_LIKE["a"]}}}}}
    found = drift.run_drift(rows, {"consistency_claims": SimpleNamespace(name="consistency", key="claims")},
                            calibration, "shipped")
    results = {"calibration": {"name": "shipped", "shipped": True, "drift": found},
               "provenance": {"metrics": {"consistency_claims": {"scorer": "claims", "threshold": 0.4}}}}
    (line,) = drift_lines(results)
    assert line.startswith("consistency_claims: thresholds of the calibration 'shipped' do not fit this data: its "
                           "summaries (median score 0.400, n=12)")
    page = legend([Run(name="run-a", key=("a",), setup="", results=results, label="run-a")])
    assert page[-1] == f"Warning: run-a: {line}"
    board = {"sort_by": None, "columns": [], "metric_info": {}, "failed": [],
             "rows": [{"name": "run-a", "metrics": {}, "n_articles": 12, "dirs": ["x"],
                       "calibration_warnings": [line]}]}
    assert _calibration_warnings(board) == [f"run-a: {line}"]
    assert "## Calibration warnings" in render_markdown(board)


def _cnndm_like_rows():
    rows = []
    for i in range(6):
        article = (f"Report {i}. Kazakh officials said eight police officers were killed in Almaty. "
                   "The attack began on Monday.")
        for number, label in (("eight", 1), ("nine", 0)):
            rows.append({"document": article, "label": label,
                         "claim": f"Kazakh officials spoke. Police in Almaty said {number} officers were killed. "
                                  "It began on Monday."})
    return rows


def test_calibrate_a_labelled_file(tmp_path, capsys):
    """--data: every base scorer scores the file; with a prior of 12 (the file's K) the entity scorer's
    summary threshold moves halfway from the shipped one to the file's best (between 3/4 and 1)."""
    from harness.cli import main

    data = tmp_path / "labelled.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _cnndm_like_rows()))
    out = tmp_path / "mine.json"
    code = main(["calibrate", "--data", str(data), "--out", str(out), "--prior", "12",
                 "--cache-dir", str(tmp_path / "cache")])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    calibration = json.loads(out.read_text())
    assert calibration["k"] == 12 and calibration["n_consistent"] == 6 and calibration["prior"] == 12
    shipped = read_calibration().summary_threshold("consistency_entity")
    best = (3 / 4 + 1) / 2  # the midpoint between the two kinds' scores
    assert calibration["scorers"]["consistency_entity"]["summary_threshold"] == pytest.approx((best + shipped) / 2)
    assert calibration["figures"]["cross_validated"]["consistency_entity"]["balanced_accuracy"] == 1.0
    assert read_calibration(out).name == "mine"  # a calibration runs and meta-eval can read
    assert "consistency_entity: flag threshold" in printed.out and f"written: {out}" in printed.out


def test_calibrate_refuses_unusable_input_and_writes_nothing(tmp_path, capsys):
    from harness.cli import main

    unlabelled = tmp_path / "u.jsonl"
    unlabelled.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "label"}) + "\n"
                                  for r in _cnndm_like_rows()))
    out = tmp_path / "mine.json"
    assert main(["calibrate", "--data", str(unlabelled), "--out", str(out)]) == 2
    assert "missing field 'label'" in capsys.readouterr().err and not out.exists()
    assert main(["calibrate", "--data", str(unlabelled), "--out", str(unlabelled)]) == 2
    assert "own input" in capsys.readouterr().err
    assert main(["calibrate", str(tmp_path), "--out", str(out)]) == 2  # a directory without marks.json
    assert "no marks file" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("metrics", ["metrics=[consistency_entity]", "metrics=[rouge]"])
def test_a_run_with_an_unreadable_calibration_is_one_line_and_writes_nothing(tmp_path, capsys, metrics):
    from harness.cli import main

    code = main(["run", "system=lead3", metrics, f"calibration={tmp_path / 'nope.json'}", "progress=false",
                 f"hydra.run.dir={tmp_path / 'run'}"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "nope.json: cannot read it" in err
    assert not (tmp_path / "run").exists()
