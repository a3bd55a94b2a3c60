"""The gate compares models, not scorer versions. A baseline is scored by a copy of the harness
whose ROUGE adds 0.2 to every F1 (the scoring code changed between baseline and candidate); the
candidate is the same system on the same articles (the same summaries), scored by this checkout.
Compared as written, the candidate "fell" by 0.2 and fails; the gate sees that the fingerprints
differ, re-scores the baseline's summaries with the candidate's scorers, says so, and passes.
``--refresh-baseline`` rewrites only a baseline file's scores; a baseline without summaries is
exit 2 with the fix."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from harness.cli import main as harness_main
from harness.gate import load_gate_config, run_gate
from harness.reports.markdown import escape_md
from harness.results.summaries import read_summaries

from .conftest import ROOT, scaled_timeout
from .helpers.configs import config

GATED = ["--metric", "rouge/rougeLsum_f:0.02", "--metric", "rouge/rouge1_f:0.02"]
OLD_ROUGE = ('            out.update({f"{kind}_p": s.precision, f"{kind}_r": s.recall, '
             'f"{kind}_f": s.fmeasure})\n')


@pytest.fixture(scope="module")
def runs(tmp_path_factory, four_articles):
    root = tmp_path_factory.mktemp("rescore")
    src = root / "src"
    for part in ("harness", "conf", "references"):
        shutil.copytree(ROOT / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", src)  # a checkout: conf/ beside pyproject.toml (harness.config.project_root)
    rouge = src / "harness" / "metrics" / "rouge.py"
    source = rouge.read_text()
    assert OLD_ROUGE in source
    rouge.write_text(source.replace(OLD_ROUGE, OLD_ROUGE.replace("s.fmeasure})", "s.fmeasure + 0.2})")))
    overrides = ["system=lead3", f"data.path={four_articles}", "metrics=[rouge]", "progress=false",
                 f"cache_dir={root / 'cache'}"]
    env = {**os.environ, "PYTHONPATH": str(src), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "harness", "run", *overrides, f"hydra.run.dir={root / 'baseline'}"],
                          cwd=src, env=env, capture_output=True, text=True, timeout=scaled_timeout(300))
    assert done.returncode == 0, done.stderr[-3000:]
    from harness.run import run

    run(config(*overrides), root / "candidate")
    return root


def gate(capsys, *args):
    code = harness_main(["gate", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_baseline_was_scored_by_other_code_on_the_same_summaries(runs):
    base = json.loads((runs / "baseline" / "results.json").read_text())
    cand = json.loads((runs / "candidate" / "results.json").read_text())
    assert read_summaries(runs / "baseline") == read_summaries(runs / "candidate")
    assert base["scoring"]["rouge"]["fingerprint"] != cand["scoring"]["rouge"]["fingerprint"]
    # 0.2 on every article's F1, up to float rounding of the sum
    assert base["metrics"]["rouge/rouge1_f"] == pytest.approx(cand["metrics"]["rouge/rouge1_f"] + 0.2, abs=1e-12)


def test_without_rescoring_the_scorer_change_fails_the_gate(runs):
    tolerances = {"rouge/rougeLsum_f": 0.02, "rouge/rouge1_f": 0.02}
    report = run_gate(runs / "baseline", runs / "candidate", tolerances, load_gate_config(), rescore=False)
    assert not report["passed"] and report["notes"] == []


def test_the_gate_rescores_the_baseline_and_says_so(runs, capsys):
    code, out, _ = gate(capsys, "--baseline", runs / "baseline", "--candidate", runs / "candidate", *GATED,
                        "--out", runs / "gate-dirs")
    assert code == 0, out
    report = json.loads((runs / "gate-dirs" / "gate.json").read_text())
    (note,) = report["notes"]
    # every re-scored summary is the candidate's: all 4 scores come from the score cache
    assert "re-scored the baseline's 4 summaries with the candidate's scorers (rouge; 0 scores computed" in note
    assert f"note: {note}" in out and f"- note: {escape_md(note)}" in (runs / "gate-dirs" / "gate.md").read_text()
    for metric in report["comparisons"][0]["metrics"]:
        assert metric["difference"]["mean"] == pytest.approx(0.0, abs=1e-12)  # the same summaries, the same scorer


def test_a_baseline_file_keeps_summaries_fingerprints_and_intervals_and_is_rescored(runs, capsys, tmp_path):
    path = tmp_path / "baseline.json"
    assert gate(capsys, "--update-baseline", "--baseline", path, "--candidate", runs / "baseline")[0] == 0
    (entry,) = json.loads(path.read_text())["runs"]
    summaries = [json.loads(line) for line in (runs / "baseline" / "summaries.jsonl").read_text().splitlines()]
    assert entry["summaries"] == {s["article_id"]: s["text"] for s in summaries}
    results = json.loads((runs / "baseline" / "results.json").read_text())
    assert entry["fingerprints"] == {"rouge": results["scoring"]["rouge"]["fingerprint"]}
    assert entry["results"]["metric_stats"] == results["metric_stats"]
    code, out, _ = gate(capsys, "--baseline", path, "--candidate", runs / "candidate", *GATED, "--out", tmp_path)
    assert code == 0 and "re-scored the baseline's 4 summaries" in out


def test_refresh_baseline_rewrites_only_the_scores(runs, capsys, tmp_path):
    path = tmp_path / "baseline.json"
    gate(capsys, "--update-baseline", "--baseline", path, "--candidate", runs / "baseline")
    before = json.loads(path.read_text())
    code, out, _ = gate(capsys, "--refresh-baseline", "--baseline", path, "--candidate", runs / "candidate")
    assert code == 0 and "scores of 1 run(s) rewritten" in out
    after = json.loads(path.read_text())
    cand = json.loads((runs / "candidate" / "results.json").read_text())
    cand_scores = {json.loads(line)["article_id"]: json.loads(line)["scores"]
                   for line in (runs / "candidate" / "scores.jsonl").read_text().splitlines()}
    (old,), (new,) = before["runs"], after["runs"]
    # the scorer is deterministic on the same texts: the refreshed scores are the candidate's, exactly
    assert new["scores"] == {a: {k: v for k, v in s.items() if isinstance(v, (int, float))}
                             for a, s in cand_scores.items()}
    assert new["fingerprints"] == {"rouge": cand["scoring"]["rouge"]["fingerprint"]}
    assert new["results"]["metric_stats"] == cand["metric_stats"]  # same scores, same seed: the same intervals
    for key in ("summaries", "articles", "name", "label", "shards"):
        assert new[key] == old[key], key
    assert {k: v for k, v in new["results"].items() if k != "metric_stats"} == {
        k: v for k, v in old["results"].items() if k != "metric_stats"}
    assert after["created_at"] == before["created_at"] and after["source"] == before["source"]
    code, out, _ = gate(capsys, "--baseline", path, "--candidate", runs / "candidate", *GATED, "--out", tmp_path)
    assert code == 0 and "note:" not in out  # scored by the candidate's scorers now: nothing to re-score
    code, out, _ = gate(capsys, "--refresh-baseline", "--baseline", path, "--candidate", runs / "candidate")
    assert code == 0 and "unchanged" in out


def test_a_baseline_without_summaries_exits_2_with_the_fix(runs, capsys, tmp_path):
    path = tmp_path / "old-baseline.json"
    gate(capsys, "--update-baseline", "--baseline", path, "--candidate", runs / "baseline")
    data = json.loads(path.read_text())
    del data["runs"][0]["summaries"]  # as baselines were written before they kept summaries
    path.write_text(json.dumps(data))
    code, _, err = gate(capsys, "--baseline", path, "--candidate", runs / "candidate", *GATED, "--out", tmp_path)
    assert code == 2
    assert "keeps no summaries" in err and "harness gate --update-baseline --baseline FILE" in err
    assert len(err.strip().splitlines()) == 1


def test_the_committed_baseline_can_be_rescored():
    """runs/baselines/default.json keeps, per run, a summary for every scored article and the
    fingerprint of every metric that wrote a column: the gate can always score it again."""
    data = json.loads((ROOT / "runs" / "baselines" / "default.json").read_text())
    for entry in data["runs"]:
        assert set(entry.get("summaries") or {}) == set(entry["scores"]), (
            f"{entry['label']}: no summaries; write the baseline again: harness gate --update-baseline")
        writers = {meta["metric"] for meta in entry["results"]["metric_info"].values()}
        assert writers and writers <= set(entry.get("fingerprints") or {}), entry["label"]
