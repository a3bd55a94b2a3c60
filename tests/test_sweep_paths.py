"""A sweep's paths are the driver's, and a sweep that lost a job never exits 0.

A Ray worker started in another directory resolved the relative ``runs/multirun/...`` and
``runs/.cache`` in its own working directory: the jobs ran, the driver found nothing and exited 0.
The sweep directory and the cache are now ``${abs_path:...}``, resolved (and cached) on the driver
before any job leaves; and the end-of-sweep callback checks every job of the sweep for its
results.json, exiting non-zero with one line per missing job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import scaled_timeout

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ("system=lead3,bullets", "metrics=[rouge]", "progress=false", "n_resamples=100")


def run_in(directory: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "HARNESS_CACHE_DIR"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])  # the test callback below
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True,
                          cwd=directory, env={**env, "HF_HUB_OFFLINE": "1"}, timeout=scaled_timeout(300))


class LoseJobOne:
    """A Hydra callback standing for a worker that wrote elsewhere: job 1's results.json vanishes."""

    def on_job_end(self, config, **kwargs):
        if str(config.hydra.job.num) == "1":
            Path(config.hydra.runtime.output_dir, "results.json").unlink()


def test_a_sweep_started_elsewhere_records_absolute_driver_paths(tmp_path):
    done = run_in(tmp_path, "run", "-m", *SWEEP)
    assert done.returncode == 0, done.stderr[-3000:]
    [sweep] = (tmp_path / "runs" / "multirun").glob("*/*")
    for job in ("0", "1", "2", "3"):  # lead3 and bullets x the default sweep's two decodings
        config = yaml.safe_load((sweep / job / "resolved_config.yaml").read_text())
        cache = config.get("config", config).get("cache_dir")
        assert cache == str(tmp_path / "runs" / ".cache"), cache
    assert (sweep / "leaderboard.md").is_file()


def test_a_sweep_that_lost_a_job_exits_non_zero_naming_it(tmp_path):
    sweep = tmp_path / "sweep"
    done = run_in(tmp_path, "run", "-m", *SWEEP, f"hydra.sweep.dir={sweep}",
                  "+hydra.callbacks.lose._target_=tests.test_sweep_paths.LoseJobOne")
    assert done.returncode != 0
    assert "1 job(s) of the sweep left no result" in done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("job ")]
    assert line.startswith("job 1 (system=lead3 decoding=beam metrics=[rouge]") and line.endswith(
        f"): no results.json in {sweep / '1'}"), line
    assert "job 0 " not in done.stderr


def test_a_mixed_sweep_takes_a_setting_only_some_systems_have(tmp_path, tiny_causal_dir):
    """``system=causal_lm,lead3 system.batch_size=2``: lead-3 has no batch size; it ignores it (and the
    model's other settings) with one note instead of refusing the whole sweep."""
    sweep = tmp_path / "sweep"
    done = run_in(tmp_path, "run", "-m", "system=causal_lm,lead3", f"system.model={tiny_causal_dir}",
                  "system.batch_size=2", "system.max_input_tokens=56", "prompt=article_only", "decoding=greedy",
                  "decoding.max_new_tokens=4",
                  "metrics=[rouge]", "progress=false", "n_resamples=100", f"hydra.sweep.dir={sweep}")
    assert done.returncode == 0, done.stderr[-3000:]
    results = {job: json.loads((sweep / job / "results.json").read_text()) for job in ("0", "1")}
    config = yaml.safe_load((sweep / "0" / "resolved_config.yaml").read_text())["config"]
    assert config["system"]["batch_size"] == 2  # the language model took it (one article: one batch of 1)
    assert results["1"]["run"]["system"] == "lead-3"
    [note] = [line for line in (sweep / "1" / "app.log").read_text().splitlines() if "lead-3 takes no" in line]
    assert "system.batch_size=2" in note and "ignored for it" in note


def test_a_setting_no_swept_system_has_is_still_refused(tmp_path):
    done = run_in(tmp_path, "validate", "-m", "system=lead3,bullets", "system.batchsize=8")
    assert done.returncode == 2 and "system.batchsize" in done.stderr
