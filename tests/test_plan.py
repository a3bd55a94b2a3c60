"""``harness plan``: what a run or sweep would cost, before it runs (harness/plan.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.plan import JobPlan, Rates, _estimate, past_rates, render

from .conftest import scaled_timeout
from .helpers.hostile_servers import RecordingServer

SWEEP = ("-m", "system=lead3,bullets", "metrics=[rouge]", "progress=false", "n_resamples=100")


def harness_in(directory: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_CACHE_DIR"}
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=directory,
                          env={**env, "HF_HUB_OFFLINE": "1"}, timeout=scaled_timeout(300))


def job_lines(stdout: str) -> list[list[str]]:
    return [line for line in stdout.splitlines() if line[:1].isdigit() and "job(s)" not in line]


def test_plan_counts_what_a_sweep_would_compute_then_what_the_caches_hold(tmp_path):
    cold = harness_in(tmp_path, "plan", *SWEEP)
    assert cold.returncode == 0, cold.stderr
    # lead-3 and the bullets under the default sweep's two decodings: the second decoding of each is the
    # same summary (extractive systems ignore decoding), counted as cached by the earlier job
    assert "4 job(s): 2 summaries to generate (2 cached), 2 scores to compute (2 cached)" in cold.stdout
    assert "unknown: no earlier run of this system" in cold.stdout
    assert not (tmp_path / "runs").exists()  # nothing written
    done = harness_in(tmp_path, "run", *SWEEP)
    assert done.returncode == 0, done.stderr[-2000:]
    warm = harness_in(tmp_path, "plan", *SWEEP)
    assert warm.returncode == 0, warm.stderr
    assert "4 job(s): 0 summaries to generate (4 cached), 0 scores to compute (4 cached); estimate 0 s" in warm.stdout
    # a new metric on cached summaries: the scores to compute, estimated from no earlier run with it
    more = harness_in(tmp_path, "plan", "system=lead3", "metrics=[rouge,coverage_lexical]")
    assert "1 job(s): 0 summaries to generate (1 cached), 1 scores to compute (1 cached)" in more.stdout


def test_a_bad_override_is_one_line_and_exit_2(tmp_path):
    done = harness_in(tmp_path, "plan", "seed=abc", "system=lead3")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and done.stderr.startswith("error:")


def test_a_served_sweep_counts_requests_and_tokens_without_sending_a_completion(tmp_path):
    with RecordingServer() as server:
        done = harness_in(tmp_path, "plan", "-m", "system=openai_compatible", f"system.base_url={server.url}",
                          "system.model=smollm2", "decoding=greedy,sampling", "prompt=bullets,paragraph",
                          "metrics=[rouge]")
    assert done.returncode == 0, done.stderr
    rows = job_lines(done.stdout)
    assert len(rows) == 4
    assert "4 job(s): 4 summaries to generate (0 cached)" in done.stdout
    assert all(" 1 / 128 (~" in line for line in rows), rows  # one request each, max_new_tokens 128
    assert [method for method, _, _ in server.requests] and all(m == "GET" for m, _, _ in server.requests)


def write_run(directory: Path, identity: str, generated: int, seconds: float, scoring_s: float,
              computed: dict[str, int], finished: str) -> None:
    directory.mkdir(parents=True)
    (directory / "results.json").write_text(json.dumps({
        "status": "completed", "run": {"identity_sha256": identity},
        "generation": {"generated": generated, "seconds": seconds},
        "scoring": {name: {"computed": n, "cached": 0, "fingerprint": f"fp-{name}"} for name, n in computed.items()},
        "provenance": {"timings_s": {"scoring": scoring_s}, "finished_at": finished}}))


def test_rates_come_from_the_latest_completed_run_and_estimates_are_worked_out(tmp_path):
    write_run(tmp_path / "a", "sys", generated=4, seconds=10.0, scoring_s=6.0, computed={"rouge": 12},
              finished="2026-12-01")
    write_run(tmp_path / "b", "sys", generated=2, seconds=8.0, scoring_s=1.0, computed={"rouge": 4},
              finished="2026-12-02")  # the later run wins: 4 s/summary, 0.25 s/score
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "results.json").write_text("{not json")
    rates = past_rates(tmp_path)
    assert rates.generation == {"sys": pytest.approx(4.0)}
    assert rates.scoring == {frozenset({"fp-rouge"}): pytest.approx(0.25)}
    # 3 summaries x 4 s + 8 scores x 0.25 s = 14 s
    assert _estimate(3, 8, "sys", frozenset({"fp-rouge"}), rates) == (14.0, "4.00 s/summary, 0.250 s/score")
    assert _estimate(3, 0, "other", frozenset(), rates) == (None, "no earlier run of this system")
    assert _estimate(0, 0, "other", frozenset(), Rates({}, {})) == (0.0, "nothing to compute")


def test_render_totals_known_estimates_and_counts_unknown_ones():
    plans = [JobPlan(0, "lead-3", 10, 10, 0, 2, 20, 0, None, None, None, 12.0, "1.00 s/summary"),
             JobPlan(1, "served", 10, 4, 6, 2, 8, 12, 4, 512, 4000, None, "no earlier run of this system")]
    text = render(plans)
    assert "4 / 512 (~1000 prompt tokens)" in text
    assert text.endswith("2 job(s): 14 summaries to generate (6 cached), 28 scores to compute (12 cached); "
                         "estimate 12 s for 1 job(s), 1 unknown (run a few articles first, e.g. data.limit=2)")
