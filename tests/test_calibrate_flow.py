"""From editors' marks to a run that flags by them: marks.json with sentence verdicts -> ``harness
calibrate DIR`` -> a run with ``calibration=PATH`` flags differently and records which calibration it
ran under; the gate refuses to compare it with a run under the shipped calibration unless it
re-scores, and says so when it does. The runs: the seed article's reference bullets (system=bullets,
abstractive enough for the lemma scorer's scores to spread: 0.857, 0.667, 1.0, 0.5, 0.857)."""

import hashlib
import json

import pytest

from harness.cli import main as harness_main
from harness.gate import GateInputError, load_gate_config, run_gate
from harness.run import run

from .helpers.configs import config

METRICS = "metrics=[consistency_entity,consistency_lemmas]"
# The editors' verdicts on the five bullets (by index): the 0.667 one is fine, the 0.857 last one is not.
VERDICTS = ["supported", "supported", "supported", "unsupported", "unsupported"]


def _rows(directory, name):
    return [json.loads(line) for line in (directory / name).read_text().splitlines() if line.strip()]


def _flags(directory) -> list[bool]:
    (row,) = _rows(directory, "scores.jsonl")
    return [s["flagged"] for s in row["scores"]["consistency/sentences@lemmas"]]


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    root = tmp_path_factory.mktemp("calibrate")
    cache = f"cache_dir={root / 'cache'}"
    shipped = root / "review" / "shipped"
    run(config("system=bullets", METRICS, cache), shipped)
    results = json.loads((shipped / "results.json").read_text())
    (summary,) = _rows(shipped, "summaries.jsonl")
    (scored,) = _rows(shipped, "scores.jsonl")
    marks = [{"editor": editor, "run": results["run"]["name"], "run_key": results["run"]["identity_sha256"],
              "article_id": summary["article_id"], "article_sha256": scored["article_sha256"],
              "summary_sha256": hashlib.sha256(summary["text"].encode()).hexdigest(), "mark": None, "note": "",
              "sentences": [{"index": i, "text": "", "verdict": v} for i, v in enumerate(VERDICTS)]}
             for editor in ("alice",)]
    (root / "review" / "marks.json").write_text(json.dumps({"version": 3, "marks": marks}))
    return root, shipped, cache


def test_calibrate_reads_the_directory_marks_and_writes_a_named_calibration(flow, capsys):
    root, shipped, _ = flow
    out = root / "mine.json"
    # --prior 0: the marks alone choose (the default shrinks five verdicts most of the way back to the shipped values)
    code = harness_main(["calibrate", str(root / "review"), "--runs", str(shipped), "--out", str(out),
                         "--prior", "0", "--cache-dir", str(root / "me-cache")])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    calibration = json.loads(out.read_text())
    assert calibration["name"] == "mine" and calibration["k"] == 5 and calibration["n_consistent"] == 3
    # The flag cut: the weakest sentence the editors called supported (0.667 of the lemma scorer).
    assert calibration["scorers"]["consistency_lemmas"]["flag_threshold"] == pytest.approx(2 / 3, abs=1e-3)
    assert calibration["scorers"]["consistency_lemmas"]["base"]["flag_threshold"] == 0.775
    assert len(calibration["data"][0]["sha256"]) == 64 and calibration["base"]["shipped"] is True
    assert "consistency_lemmas: flag threshold 0.775 -> 0.667" in printed.out
    # never over its own input
    again = harness_main(["calibrate", "--marks", str(root / "review" / "marks.json"), "--runs", str(shipped),
                          "--out", str(root / "review" / "marks.json")])
    assert again == 2 and "own input" in capsys.readouterr().err


def test_a_run_under_the_calibration_flags_by_it_and_records_it(flow):
    root, shipped, cache = flow
    mine = root / "mine.json"
    calibrated = root / "calibrated"
    results = run(config("system=bullets", METRICS, cache, f"calibration={mine}"), calibrated)
    assert _flags(shipped) == [False, True, False, True, False]  # 0.667 and 0.5 below the shipped 0.775
    assert _flags(calibrated) == [False, False, False, True, False]  # only 0.5 below 0.667
    record = results["calibration"]
    assert record["name"] == "mine" and record["shipped"] is False
    assert record["sha256"] == hashlib.sha256(mine.read_bytes()).hexdigest()
    checked = record["drift"]["consistency_lemmas"]  # the no-label check, per scorer: one summary is too few
    assert checked["n"] == 1 and checked["fits"] is None and checked["message"] is None
    assert results["provenance"]["metrics"]["consistency_lemmas"]["threshold"] == pytest.approx(2 / 3, abs=1e-3)
    # the threshold keys the score cache: the calibrated run's lemma scores were computed, not read back
    assert results["scoring"]["consistency_lemmas"]["computed"] == 1
    shipped_results = json.loads((shipped / "results.json").read_text())
    assert shipped_results["calibration"]["shipped"] is True
    assert (results["scoring"]["consistency_lemmas"]["fingerprint"]
            != shipped_results["scoring"]["consistency_lemmas"]["fingerprint"])


def test_the_gate_refuses_two_calibrations_unless_it_rescores(flow, capsys):
    root, shipped, _ = flow
    calibrated = root / "calibrated"
    tolerances = {"consistency/unsupported@lemmas": 1.0}
    with pytest.raises(GateInputError) as refused:
        run_gate(shipped, calibrated, tolerances, load_gate_config(), rescore=False)
    assert "calibration shipped" in str(refused.value) and "'mine'" in str(refused.value)
    report = run_gate(shipped, calibrated, tolerances, load_gate_config())
    assert any("re-scored the baseline's 1 summaries" in n for n in report["notes"])
    assert any("under calibration shipped, the candidate under 'mine'" in n for n in report["notes"])
    (comparison,) = report["comparisons"]
    (verdict,) = comparison["metrics"]
    # re-scored under the candidate's calibration, both runs count one unsupported sentence
    assert verdict["baseline"] == verdict["candidate"] == 1.0
