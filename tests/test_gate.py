"""The regression gate on real runs: same config passes, a degraded system fails, bad inputs exit 2."""

import json

import pytest

from harness.cli import main as harness_main
from harness.gate import warnings_for
from harness.run import run

from .test_run import config, tiny


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("gate-runs")
    other_data = root / "other.jsonl"
    other_data.write_text(json.dumps({"id": "other", "body": "A different story. It has two sentences.",
                                      "bullets": ["A different story"]}) + "\n")
    made = {
        "lead3": ("system=lead3",), "lead3_again": ("system=lead3",), "lead1": ("system=lead3", "system.k=1"),
        "lead3_other_data": ("system=lead3", f"data.path={other_data}"),
    }
    for name, overrides in made.items():
        run(config(*overrides, f"cache_dir={root / 'cache'}"), root / name)
    return root


def gate(capsys, *args):
    code = harness_main(["gate", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_same_config_passes(runs, capsys):
    code, out, _ = gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead3_again",
                        "--out", runs / "gate-same")
    assert code == 0 and "gate PASSED" in out
    report = json.loads((runs / "gate-same" / "gate.json").read_text())
    (comparison,) = report["comparisons"]
    assert {m["metric"] for m in comparison["metrics"]} == {"rouge/rougeLsum_f", "rouge/rouge1_f",
                                                          "coverage/bullet_recall@lexical",
                                                          "consistency/score@embedding"}
    assert all(m["difference"]["mean"] == 0 for m in comparison["metrics"])
    assert "## Quality gate: PASSED" in (runs / "gate-same" / "gate.md").read_text()


def test_lead1_against_lead3_fails_and_names_the_metric(runs, capsys):
    code, out, _ = gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead1",
                        "--out", runs / "gate-degraded")
    assert code == 1
    assert "gate FAILED: lead-1: rouge/rougeLsum_f, lead-1: rouge/rouge1_f" in out
    report = json.loads((runs / "gate-degraded" / "gate.json").read_text())
    lsum = next(m for m in report["comparisons"][0]["metrics"] if m["metric"] == "rouge/rougeLsum_f")
    assert lsum["difference"]["mean"] == pytest.approx(lsum["candidate"] - lsum["baseline"])
    assert lsum["difference"]["high"] < -0.02


def test_tolerance_larger_than_the_drop_passes(runs, capsys):
    code, _, _ = gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead1",
                      "--metric", "rouge/rougeLsum_f:0.5", "--out", runs / "gate-loose")
    assert code == 0


def test_different_article_sets_exit_2_and_say_which(runs, capsys):
    code, _, err = gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead3_other_data")
    assert code == 2
    assert "only in baseline ['000_b456ec66e27cc290'], only in candidate ['other']" in err


@pytest.mark.parametrize("args, message", [
    (("--candidate", "missing-run"), "no run here"),
    (("--candidate", "SELF", "--metric", "rouge/rougeLsum_f"), "expected NAME:TOLERANCE"),
    (("--candidate", "SELF", "--metric", "rouge/nope_f:0.1"), "metric 'rouge/nope_f' is missing"),
    (("--candidate", "SELF", "--config", "nope"), "no gate config 'nope'"),
])
def test_unusable_inputs_exit_2(runs, capsys, args, message):
    args = [str(runs / "lead3_again") if a == "SELF" else str(runs / a) if a == "missing-run" else a for a in args]
    code, _, err = gate(capsys, "--baseline", runs / "lead3", *args)
    assert code == 2 and message in err


def test_schema_mismatch_exits_2(runs, capsys, tmp_path):
    import shutil

    copy = tmp_path / "old"
    shutil.copytree(runs / "lead3", copy)
    results = json.loads((copy / "results.json").read_text())
    results["schema_version"] = "0.9"
    (copy / "results.json").write_text(json.dumps(results))
    code, _, err = gate(capsys, "--baseline", copy, "--candidate", runs / "lead3")
    assert code == 2 and "schema version '0.9'" in err


def test_update_baseline_then_gate_against_the_file(runs, capsys, tmp_path):
    baseline = tmp_path / "baseline.json"
    code, out, _ = gate(capsys, "--update-baseline", "--baseline", baseline, "--candidate", runs / "lead3")
    assert code == 0 and "1 runs" in out
    stored = json.loads(baseline.read_text())
    assert stored["runs"]["lead-3"]["scores"]["000_b456ec66e27cc290"]["rouge/rougeLsum_f"] > 0
    assert gate(capsys, "--baseline", baseline, "--candidate", runs / "lead3_again", "--out", tmp_path)[0] == 0
    assert gate(capsys, "--baseline", baseline, "--candidate", runs / "lead1", "--out", tmp_path)[0] == 1


def test_greedy_runs_are_byte_identical(tmp_path, tiny_causal_dir):
    for name in ("a", "b"):  # separate caches: both really generate
        result = run(config(*tiny(tiny_causal_dir), f"cache_dir={tmp_path / name / 'cache'}"), tmp_path / name / "run")
        assert result["generation"]["generated"] == 1
    assert (tmp_path / "a/run/scores.jsonl").read_bytes() == (tmp_path / "b/run/scores.jsonl").read_bytes()
    assert (tmp_path / "a/run/summaries.jsonl").read_text().count('"text"') == 1


def test_sampling_without_seed_warns():
    candidate = {"run": {"name": "m"}, "provenance": {"system_identity": {"decoding": {"do_sample": True,
                                                                                      "seed": None}}}}
    assert warnings_for(candidate) == ["m: sampled without a fixed seed; its scores are not reproducible"]
    candidate["provenance"]["system_identity"]["decoding"]["seed"] = 3
    assert warnings_for(candidate) == []
