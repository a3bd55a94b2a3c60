"""A sweep on a real two-node Ray cluster whose `ray start` ran in other directories (issue 35, item 1).

The user's cluster: `ray start --head` in one directory, `ray start --address` (a second raylet)
in another, the driver (`harness run -m +launcher=ray hydra.launcher.ray.init.address=...`) in a
third, with the default relative sweep directory and cache (runs/multirun/..., runs/.cache) and no
HARNESS_CACHE_DIR. Before the fix the jobs wrote under the nodes' directories and the driver exited
0 with no leaderboard. Now the sweep's files are where the driver ran, nothing is under the nodes'
directories; and a sweep whose job results the driver cannot read exits non-zero naming the fix,
never 0 with nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers.cli import ROOT
from .helpers.clusters import nodes_that_ran_jobs, two_node_cluster
from .helpers.timing import scaled_timeout

pytestmark = pytest.mark.slow

SWEEP = ("system=lead3,bullets", "decoding=greedy", "metrics=[rouge]", "n_resamples=100", "progress=false")
# A Hydra callback standing for a node that writes where the driver cannot read (another file system):
# job 1's results.json vanishes on the worker after the job wrote it.
LOSE_JOB_ONE = ("from pathlib import Path\n"
                "class LoseJobOne:\n"
                "    def on_job_end(self, config, **kwargs):\n"
                "        if str(config.hydra.job.num) == '1':\n"
                "            Path(config.hydra.runtime.output_dir, 'results.json').unlink()\n")


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory):
    """The cluster, its nodes started in their own directories; a module the nodes and the driver
    import (the test callback) on their PYTHONPATH."""
    root = tmp_path_factory.mktemp("ray-homes")
    homes = (root / "head-home", root / "worker-home")
    for home in homes:
        home.mkdir()
    modules = root / "modules"
    modules.mkdir()
    (modules / "lose_job.py").write_text(LOSE_JOB_ONE)
    env = {"PYTHONPATH": os.pathsep.join([str(modules), os.environ.get("PYTHONPATH", "")])}
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("HARNESS_CACHE_DIR", raising=False)  # the default, relative runs/.cache
        with two_node_cluster(homes=homes, env=env) as cluster:
            yield {**cluster, "homes": homes, "modules": modules}


def drive(cluster, directory: Path, *args) -> subprocess.CompletedProcess:
    """`harness run -m +launcher=ray` against the cluster's address, started in ``directory``."""
    directory.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_CACHE_DIR", "RAY_ADDRESS")}
    env |= {"HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join([str(cluster["modules"]), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "harness", "run", "-m", "+launcher=ray",
                           f"hydra.launcher.ray.init.address={cluster['address']}", *SWEEP, *args],
                          cwd=directory, env=env, capture_output=True, text=True, timeout=scaled_timeout(300))


def test_the_sweep_lands_where_the_driver_ran_not_where_ray_started(elsewhere, tmp_path):
    driver = tmp_path / "driver"
    done = drive(elsewhere, driver)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Connected to Ray cluster" in done.stderr
    [sweep] = (driver / "runs" / "multirun").glob("*/*")
    board = json.loads((sweep / "leaderboard.json").read_text())
    assert sorted(row["name"] for row in board["rows"]) == ["lead-3", "reference-bullets"]
    assert board["failed"] == []
    for job in ("0", "1"):
        results = json.loads((sweep / job / "results.json").read_text())
        assert results["status"] == "completed" and results["generation"]["generated"] == 1
    assert (driver / "runs" / ".cache").is_dir()  # the cache resolved on the driver too
    for home in elsewhere["homes"]:  # nothing where the nodes' `ray start` ran
        assert list(home.iterdir()) == [], list(home.rglob("*"))[:10]
    assert len(nodes_that_ran_jobs(elsewhere["temp"])) == 2  # one job on each raylet


def test_a_job_whose_result_the_driver_cannot_read_fails_the_sweep_naming_the_fix(elsewhere, tmp_path):
    driver = tmp_path / "driver"
    done = drive(elsewhere, driver, "+hydra.callbacks.lose._target_=lose_job.LoseJobOne")
    assert done.returncode != 0
    assert "1 job(s) of the sweep left no result in " in done.stderr
    assert "give hydra.sweep.dir and cache_dir as absolute paths on a file system every node shares" in done.stderr
    [sweep] = (driver / "runs" / "multirun").glob("*/*")
    [line] = [line for line in done.stderr.splitlines() if line.startswith("job ")]
    assert line.startswith("job 1 (system=bullets") and line.endswith(f"): no results.json in {sweep / '1'}"), line
    assert not (sweep / "leaderboard.json").exists()  # no leaderboard that would hide the lost job
