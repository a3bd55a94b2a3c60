"""The regression gate on real runs: same config passes, a degraded system fails, bad inputs exit 2,
directions are followed, shards are merged, every baseline run needs a candidate."""

import json
import shutil

import pytest

from harness.gate import articles_needed, compare, machine_warnings, sampling_warnings
from harness.provenance import cpu_model
from harness.results.runs import Run
from harness.run import run

from .helpers.cli import gate
from .helpers.configs import config, tiny

SEED_ID = "000_b456ec66e27cc290"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, four_articles):
    root = tmp_path_factory.mktemp("gate-runs")
    other_data = root / "other.jsonl"
    other_data.write_text(json.dumps({"id": "other", "body": "A different story. It has two sentences.",
                                      "bullets": ["A different story"]}) + "\n")
    cheap = "metrics=[rouge,coverage_lexical,consistency_embedding,consistency_bullets,extractiveness]"
    made = {
        "lead3": ("system=lead3",), "lead3_again": ("system=lead3",), "lead1": ("system=lead3", "system.k=1"),
        "lead3_other_data": ("system=lead3", f"data.path={other_data}"), "bullets": ("system=bullets",),
        "four": ("system=lead3", f"data.path={four_articles}"),
        "shards/0": ("system=lead3", f"data.path={four_articles}", "data.num_shards=2", "data.shard=0"),
        "shards/1": ("system=lead3", f"data.path={four_articles}", "data.num_shards=2", "data.shard=1"),
    }
    for name, overrides in made.items():
        run(config(*overrides, f"cache_dir={root / 'cache'}", cheap), root / name)
    for sweep, members in {"base_sweep": ("lead3", "bullets"), "cand_sweep": ("bullets", "lead3_again"),
                           "partial_sweep": ("lead3_again",)}.items():
        for i, member in enumerate(members):
            shutil.copytree(root / member, root / sweep / str(i))
    return root


def copy_run(runs, name, to):
    shutil.copytree(runs / name, to)
    return to


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


def test_one_article_warns_with_the_number_of_articles_needed(runs, capsys):
    code, out, _ = gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead3_again",
                        "--metric", "rouge/rougeLsum_f:0.02", "--out", runs / "gate-one")
    # (1.959964 x 0.5 / 0.02)^2 = 2400.9: sigma is the widest a 0-1 metric allows, with no spread to see.
    assert code == 0
    assert ("warning: rouge/rougeLsum_f: 1 article(s) in 1 of 1 runs; resolving a change of 0.02 at 95% takes about "
            "2401 (σ = 0.500, the widest spread a 0 to 1 metric allows); with one article the interval is the point "
            "difference") in out


def test_articles_needed_from_the_spread_of_differences():
    # differences 0.1, -0.1: stdev 0.1414; (1.959964 x 0.14142 / 0.05)^2 = 30.7 -> 31
    assert articles_needed([0.1, -0.1], [0.5, 0.5], {"range": [0, 1]}, 0.05, 0.95)[0] == 31
    # no spread in the differences: the baseline's spread (stdev of 0.2, 0.6 = 0.2828) -> 122.9 -> 123
    assert articles_needed([0.0, 0.0], [0.2, 0.6], {"range": [0, 1]}, 0.05, 0.95)[0] == 123


def test_shards_of_a_sweep_are_merged_not_dropped(runs, capsys):
    code, out, _ = gate(capsys, "--baseline", runs / "four", "--candidate", runs / "shards",
                        "--metric", "rouge/rougeLsum_f:0.02", "--out", runs / "gate-shards")
    assert code == 0, out
    (comparison,) = json.loads((runs / "gate-shards" / "gate.json").read_text())["comparisons"]
    assert comparison["n_articles"] == 4 and comparison["metrics"][0]["difference"]["n"] == 4


def test_runs_pair_by_setup_not_by_order(runs, capsys):
    code, out, _ = gate(capsys, "--baseline", runs / "base_sweep", "--candidate", runs / "cand_sweep",
                        "--out", runs / "gate-sweeps")
    assert code == 0, out
    report = json.loads((runs / "gate-sweeps" / "gate.json").read_text())
    assert sorted((c["baseline_run"], c["candidate_run"]) for c in report["comparisons"]) == [
        ("lead-3", "lead-3"), ("reference-bullets", "reference-bullets")]


def test_every_baseline_run_needs_a_candidate_unless_allowed(runs, capsys):
    code, _, err = gate(capsys, "--baseline", runs / "base_sweep", "--candidate", runs / "partial_sweep")
    assert code == 2
    assert "the candidate has no run for 1 of the baseline's 2 runs: reference-bullets" in err
    assert "--allow-missing" in err
    code, out, _ = gate(capsys, "--baseline", runs / "base_sweep", "--candidate", runs / "partial_sweep",
                        "--allow-missing", "--out", runs / "gate-partial")
    assert code == 0
    assert "warning: not gated (no candidate run): reference-bullets" in out
    assert json.loads((runs / "gate-partial" / "gate.json").read_text())["skipped"] == ["reference-bullets"]


def test_nan_scores_exit_2_naming_metric_and_article(runs, capsys, tmp_path):
    broken = copy_run(runs, "lead3_again", tmp_path / "nan")
    row = json.loads((broken / "scores.jsonl").read_text())
    row["scores"]["rouge/rougeLsum_f"] = float("nan")
    (broken / "scores.jsonl").write_text(json.dumps(row) + "\n")
    code, out, err = gate(capsys, "--baseline", runs / "lead3", "--candidate", broken)
    assert code == 2 and "PASSED" not in out  # refused where read (harness.schema), naming file, line and field
    assert (f"{broken / 'scores.jsonl'}, line 1: field 'scores.rouge/rougeLsum_f' should be a finite number "
            "(NaN and infinities are not scores), got float nan") in err


def test_lower_is_better_metrics_fail_when_they_rise():
    def fake(values, label):
        return Run(name=label, label=label, key=("id", "data"), setup="s", results={},
                   scores={f"a{i}": {"m": v} for i, v in enumerate(values)})

    info_lower = {"m": {"higher_is_better": False, "range": [0, 1]}}
    info_higher = {"m": {"higher_is_better": True, "range": [0, 1]}}
    base, rising = fake([0.1, 0.1, 0.2, 0.1], "base"), fake([0.5, 0.6, 0.5, 0.5], "cand")
    (verdict,) = compare(base, rising, {"m": 0.1}, info_lower, n_resamples=500)
    assert verdict["verdict"] == "fail" and verdict["higher_is_better"] is False
    (verdict,) = compare(base, rising, {"m": 0.1}, info_higher, n_resamples=500)
    assert verdict["verdict"] == "pass"
    (verdict,) = compare(rising, base, {"m": 0.1}, info_lower, n_resamples=500)
    assert verdict["verdict"] == "pass"


def test_a_descriptive_metric_cannot_be_gated(runs, capsys):
    code, _, err = gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead3_again",
                        "--metric", "extractive/words:5")
    assert code == 2 and "metric 'extractive/words' has no better direction" in err


def test_different_article_sets_exit_2_and_say_which(runs, capsys):
    code, _, err = gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead3_other_data")
    assert code == 2
    assert f"only in baseline ['{SEED_ID}'], only in candidate ['other']" in err


@pytest.mark.parametrize("content, message", [
    ("{not json", "results.json: not valid JSON"),
    ("[1, 2]", "results.json: expected a JSON object, found list"),
    ('{"schema_version": "2.0", "status": "completed"}', "results.json: missing 'run'"),
])
def test_malformed_results_exit_2_naming_the_file(runs, capsys, tmp_path, content, message):
    broken = copy_run(runs, "lead3_again", tmp_path / "broken")
    (broken / "results.json").write_text(content)
    code, _, err = gate(capsys, "--baseline", runs / "lead3", "--candidate", broken)
    assert code == 2 and str(broken) in err and message in err and "Traceback" not in err


def test_malformed_scores_exit_2_naming_file_and_line(runs, capsys, tmp_path):
    broken = copy_run(runs, "lead3_again", tmp_path / "broken")
    (broken / "scores.jsonl").write_text('{"article_id": "x"}\n')
    code, _, err = gate(capsys, "--baseline", runs / "lead3", "--candidate", broken)
    assert code == 2 and f"{broken / 'scores.jsonl'}, line 1: not a scores row" in err


@pytest.mark.parametrize("args, message", [
    (("--candidate", "missing-run"), "no such run directory"),
    (("--candidate", "SELF", "--metric", "rouge/rougeLsum_f"), "expected NAME:TOLERANCE"),
    (("--candidate", "SELF", "--metric", "rouge/nope_f:0.1"), "metric 'rouge/nope_f' is missing"),
    (("--candidate", "SELF", "--config", "nope"), "no gate config 'nope'"),
])
def test_unusable_inputs_exit_2(runs, capsys, args, message):
    args = [str(runs / "lead3_again") if a == "SELF" else str(runs / a) if a == "missing-run" else a for a in args]
    code, _, err = gate(capsys, "--baseline", runs / "lead3", *args)
    assert code == 2 and message in err


def test_schema_mismatch_exits_2(runs, capsys, tmp_path):
    copy = copy_run(runs, "lead3", tmp_path / "old")
    results = json.loads((copy / "results.json").read_text())
    results["schema_version"] = "0.9"
    (copy / "results.json").write_text(json.dumps(results))
    code, _, err = gate(capsys, "--baseline", copy, "--candidate", runs / "lead3")
    assert code == 2 and "schema version '0.9'" in err


def test_update_baseline_then_gate_against_the_file(runs, capsys, tmp_path):
    baseline = tmp_path / "baseline.json"
    code, out, _ = gate(capsys, "--update-baseline", "--baseline", baseline, "--candidate", runs / "lead3")
    assert code == 0 and "1 runs" in out and "lead-3 (1 articles)" in out
    stored = json.loads(baseline.read_text())
    (entry,) = stored["runs"]
    assert entry["label"] == "lead-3" and entry["scores"][SEED_ID]["rouge/rougeLsum_f"] > 0
    assert entry["results"]["metric_info"]["rouge/rougeLsum_f"]["higher_is_better"] is True
    assert gate(capsys, "--baseline", baseline, "--candidate", runs / "lead3_again", "--out", tmp_path)[0] == 0
    assert gate(capsys, "--baseline", baseline, "--candidate", runs / "lead1", "--out", tmp_path)[0] == 1


def test_no_baseline_from_a_failed_or_empty_run(runs, capsys, tmp_path):
    baseline = tmp_path / "baseline.json"
    failed = copy_run(runs, "lead3_again", tmp_path / "failed")
    (failed / "results.json").write_text(json.dumps({"schema_version": "2.0", "status": "failed",
                                                     "error": "RuntimeError: boom", "run": {"name": "x"}}))
    code, _, err = gate(capsys, "--update-baseline", "--baseline", baseline, "--candidate", failed)
    assert code == 2 and "did not complete" in err and "boom" in err and not baseline.exists()
    empty = copy_run(runs, "lead3_again", tmp_path / "empty")
    (empty / "scores.jsonl").write_text("")
    code, _, err = gate(capsys, "--update-baseline", "--baseline", baseline, "--candidate", empty)
    assert code == 2 and "runs over 0 articles: lead-3" in err and not baseline.exists()


def test_greedy_runs_are_byte_identical(tmp_path, tiny_causal_dir):
    for name in ("a", "b"):  # separate caches: both really generate
        result = run(config(*tiny(tiny_causal_dir), f"cache_dir={tmp_path / name / 'cache'}"), tmp_path / name / "run")
        assert result["generation"]["generated"] == 1
    assert (tmp_path / "a/run/scores.jsonl").read_bytes() == (tmp_path / "b/run/scores.jsonl").read_bytes()
    assert (tmp_path / "a/run/summaries.jsonl").read_text().count('"text"') == 1


def test_sampling_without_seed_warns():
    candidate = Run(name="m", label="m", key=(), setup="s", results={
        "provenance": {"system_identity": {"decoding": {"do_sample": True, "seed": None}}}})
    assert sampling_warnings(candidate) == ["m: sampled without a fixed seed; its scores are not reproducible"]
    candidate.results["provenance"]["system_identity"]["decoding"]["seed"] = 3
    assert sampling_warnings(candidate) == []


def test_a_model_generated_on_another_cpu_is_said():
    def side(cpu, decoding=None):
        return Run(name="m", label="m", key=(), setup="s", results={"provenance": {
            "machine": {"cpu": cpu}, "system_identity": {"decoding": decoding} if decoding else {"kind": "lead"}}})

    greedy = {"do_sample": False}
    [warning] = machine_warnings(side("AMD EPYC", greedy), side("Intel(R) Xeon(R) Platinum 8581C CPU", greedy))
    assert warning.startswith("m: the baseline's summaries were generated on 'AMD EPYC', the candidate's on 'Intel")
    assert machine_warnings(side("AMD EPYC", greedy), side("AMD EPYC", greedy)) == []
    assert machine_warnings(side("AMD EPYC"), side("Intel Xeon")) == []  # lead-3: no model, no CPU dependence
    assert machine_warnings(side(None, greedy), side("Intel Xeon", greedy)) == []  # a baseline without its CPU


def test_cpu_model_reads_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n")
    assert cpu_model(str(info)) == "AMD EPYC 7B13"
    assert cpu_model(str(tmp_path / "missing")) is None
