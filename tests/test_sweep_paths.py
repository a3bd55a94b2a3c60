"""A sweep's paths are the driver's, and a sweep that lost a job never exits 0.

A Ray worker started in another directory resolved the relative ``runs/multirun/...`` and
``runs/.cache`` in its own working directory: the jobs ran, the driver found nothing and exited 0.
The sweep directory and the cache are now ``${abs_path:...}``, resolved (and cached) on the driver
before any job leaves; and the end-of-sweep callback checks every job of the sweep for its
results.json, exiting non-zero with one line per missing job."""

from __future__ import annotations

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
