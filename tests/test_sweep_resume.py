"""Rerunning into a run or sweep directory (harness/run_dir.py through the `harness run` command):
a sweep finishes only its unfinished jobs and leaves the finished ones untouched; a single run
into a finished directory refuses, naming hydra.run.dir; default directories never collide."""

import json
import os
import re
import subprocess
import sys

from filelock import FileLock

from harness.results.run_dir import LOCK_NAME

from .conftest import scaled_timeout
from .helpers.cli import harness

OUTPUTS = ("resolved_config.yaml", "references.jsonl", "summaries.jsonl", "scores.jsonl", "report.md", "report.html",
           "results.json")
SWEEP = ("system=lead3", "system.k=1,2,3", "decoding=greedy", "metrics=[rouge]", "progress=false")

# Hydra's ${now:} frozen at one instant: runs "started in the same second", whatever the machine's load.
FROZEN_CLOCK = ("import sys, datetime\n"
                "import hydra.core.utils as hydra_utils\n"
                "class Frozen(datetime.datetime):\n"
                "    @classmethod\n"
                "    def now(cls, tz=None):\n"
                "        return cls(2026, 1, 2, 3, 4, 5)\n"
                "hydra_utils.datetime = Frozen\n"
                "from harness.cli import main\n"
                "sys.exit(main(sys.argv[1:]))\n")


def snapshot(job_dir):
    """Each output file's bytes and modification time."""
    return {name: ((job_dir / name).read_bytes(), (job_dir / name).stat().st_mtime_ns) for name in OUTPUTS}


def board_rows(sweep_dir):
    board = json.loads((sweep_dir / "leaderboard.json").read_text())
    return [(row["name"], row["n_articles"], row["metrics"], row["dirs"]) for row in board["rows"]], board["failed"]


def test_sweep_rerun_skips_finished_jobs_and_finishes_the_rest(tmp_path):
    sweep = tmp_path / "sweep"
    first = harness("run", "-m", *SWEEP, f"hydra.sweep.dir={sweep}", cache_dir=tmp_path / "cache")
    assert first.returncode == 0, first.stderr[-3000:]
    rows_before, _ = board_rows(sweep)
    finished = {job: snapshot(sweep / job) for job in ("0", "2")}
    (sweep / "1" / "results.json").unlink()  # job 1 did not finish

    again = harness("run", "-m", *SWEEP, f"hydra.sweep.dir={sweep}", cache_dir=tmp_path / "cache")
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"skipped {sweep / '0'}: it holds a finished run (lead-1); its results.json is kept" in again.stdout
    assert f"skipped {sweep / '2'}: it holds a finished run (lead-3); its results.json is kept" in again.stdout
    assert f"skipped {sweep / '1'}" not in again.stdout
    assert {job: snapshot(sweep / job) for job in ("0", "2")} == finished  # byte-identical, mtimes unchanged
    redone = json.loads((sweep / "1" / "results.json").read_text())
    assert (redone["status"], redone["run"]["name"]) == ("completed", "lead-2")
    assert (redone["generation"]["generated"], redone["generation"]["cached"]) == (0, 1)  # from the cache
    rows_after, failed = board_rows(sweep)
    assert rows_after == rows_before and failed == []
    assert sorted(name for name, *_ in rows_after) == ["lead-1", "lead-2", "lead-3"]


def test_single_run_into_a_finished_directory_refuses_and_names_hydra_run_dir(tmp_path):
    run_dir = tmp_path / "run"
    first = harness("run", "system=bullets", "metrics=[rouge]", "progress=false", f"hydra.run.dir={run_dir}",
                    cache_dir=tmp_path / "cache")
    assert first.returncode == 0, first.stderr[-3000:]
    before = snapshot(run_dir)
    again = harness("run", "system=lead3", "metrics=[rouge]", "progress=false", f"hydra.run.dir={run_dir}",
                    cache_dir=tmp_path / "cache")
    assert again.returncode == 2  # refused before Hydra starts (a user's error: exit 2, one line)
    assert (f"error: {run_dir} already holds a finished run (reference-bullets); a finished run is never "
            "overwritten. Run again in a new directory: hydra.run.dir=PATH, or leave hydra.run.dir out for a new "
            "one.") in again.stderr
    assert snapshot(run_dir) == before


def test_two_default_runs_started_in_the_same_second_get_their_own_directories(tmp_path):
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", FROZEN_CLOCK, "run", "system=lead3", "metrics=[rouge]", "progress=false"]
    runs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    for process in runs:
        _, stderr = process.communicate(timeout=scaled_timeout(600))
        assert process.returncode == 0, stderr[-3000:]
    day = tmp_path / "runs" / "2026-01-02"
    directories = sorted(p.name for p in day.iterdir())
    assert len(directories) == 2 and all(re.fullmatch(r"03-04-05-\d+-[0-9a-f]{4}", name) for name in directories)
    pids = {int(name.split("-")[3]) for name in directories}
    assert pids == {process.pid for process in runs}
    for name in directories:
        assert json.loads((day / name / "results.json").read_text())["status"] == "completed"


def test_default_directories_resolve_with_the_unique_suffix():
    from hydra import compose, initialize_config_dir

    import harness.app  # noqa: F401  (registers ${unique_id:} as `harness run` does)
    from harness.config import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", return_hydra_config=True)
    run_dir, sweep_dir = cfg.hydra.run.dir, cfg.hydra.sweep.dir
    assert re.fullmatch(rf"runs/\d{{4}}-\d\d-\d\d/\d\d-\d\d-\d\d-{os.getpid()}-[0-9a-f]{{4}}", run_dir)
    # the sweep's directory is absolute (${abs_path:}): a worker elsewhere writes where the driver reads
    assert re.fullmatch(rf"{re.escape(os.getcwd())}/runs/multirun/\d{{4}}-\d\d-\d\d/\d\d-\d\d-\d\d-{os.getpid()}-"
                        r"[0-9a-f]{4}", sweep_dir)
    assert cfg.hydra.run.dir == run_dir  # resolved once per config: the same directory every time it is read


def test_a_sweep_skips_a_job_another_process_is_running_and_a_rerun_finishes_it(tmp_path):
    sweep = tmp_path / "sweep"
    args = ("run", "-m", "system=lead3", "system.k=1,2", "decoding=greedy", "metrics=[rouge]", "progress=false",
            f"hydra.sweep.dir={sweep}")
    (sweep / "1").mkdir(parents=True)
    held = FileLock(sweep / "1" / LOCK_NAME)
    held.acquire()  # another process is running job 1
    try:
        busy = harness(*args, cache_dir=tmp_path / "cache")
    finally:
        held.release()
    assert busy.returncode == 0, busy.stderr[-3000:]
    assert (f"skipped {sweep / '1'}: another harness process is running this job now; rerun the sweep into this "
            "hydra.sweep.dir once it ends to list it") in busy.stdout
    assert not (sweep / "1" / "results.json").exists()
    assert [name for name, *_ in board_rows(sweep)[0]] == ["lead-1"]
    again = harness(*args, cache_dir=tmp_path / "cache")
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"skipped {sweep / '0'}: it holds a finished run (lead-1)" in again.stdout
    assert sorted(name for name, *_ in board_rows(sweep)[0]) == ["lead-1", "lead-2"]
