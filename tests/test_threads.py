"""harness/threads.py: OpenMP waits passively and the thread count fits a cgroup quota, set before
torch loads, in `harness run` and in each job (a launcher's worker); a user's own setting is kept;
HARNESS_THREADS=torch leaves PyTorch's defaults (the old behaviour, for benchmarks/fair_share.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.errors import ConfigError
from harness.threads import affinity_cpus, chosen_count, prepare, quota_cpus, requested

from .helpers.cli import ROOT, one_line
from .helpers.timing import scaled_timeout


@pytest.fixture
def no_quota(tmp_path):
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("max 100000\n")
    return cpu_max


def test_quota_cpus_reads_cgroup_v2_cpu_max_rounding_up(tmp_path):
    cpu_max = tmp_path / "cpu.max"
    for text, cpus in (("max 100000\n", None), ("200000 100000\n", 2), ("150000 100000\n", 2),
                       ("50000 100000\n", 1), ("garbage\n", None)):
        cpu_max.write_text(text)
        assert quota_cpus(cpu_max) == cpus, text
    assert quota_cpus(tmp_path / "absent") is None


def test_passive_waiting_and_no_count_by_default(no_quota):
    environ = {}
    assert prepare(environ, no_quota) == {"OMP_WAIT_POLICY": "PASSIVE"}
    assert environ == {"OMP_WAIT_POLICY": "PASSIVE"}  # the count: OpenMP's own (the affinity mask)


def test_a_quota_below_the_cpus_caps_the_count(tmp_path, monkeypatch):
    monkeypatch.setattr("harness.threads.affinity_cpus", lambda: 8)
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("250000 100000\n")  # 2.5 CPUs of 8
    environ = {}
    prepare(environ, cpu_max)
    assert environ == {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "3"}
    cpu_max.write_text("1600000 100000\n")  # 16 CPUs' quota on 8 CPUs: the 8 are the bound
    assert chosen_count({}, cpu_max) is None


def test_the_users_settings_are_kept(tmp_path, no_quota, monkeypatch):
    monkeypatch.setattr("harness.threads.affinity_cpus", lambda: 8)
    cpu_max = tmp_path / "quota"
    cpu_max.write_text("100000 100000\n")
    for own in ({"OMP_WAIT_POLICY": "ACTIVE"}, {"GOMP_SPINCOUNT": "10000"}):
        environ = dict(own)
        assert prepare(environ, no_quota) == {} and environ == own
    for own in ({"OMP_NUM_THREADS": "4"}, {"MKL_NUM_THREADS": "4"}):
        environ = dict(own)
        prepare(environ, cpu_max)  # a quota of 1 CPU, but the user asked for 4
        assert environ == {**own, "OMP_WAIT_POLICY": "PASSIVE"}
    environ = {"HARNESS_THREADS": "torch", "OMP_NUM_THREADS": "4"}
    assert prepare(environ, cpu_max) == {} and environ == {"HARNESS_THREADS": "torch", "OMP_NUM_THREADS": "4"}
    environ = {"HARNESS_THREADS": "3"}
    prepare(environ, no_quota)
    assert environ == {"HARNESS_THREADS": "3", "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "3"}


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_harness_threads_is_a_config_error(value):
    with pytest.raises(ConfigError, match=f"HARNESS_THREADS='{value}': expected a thread count >= 1"):
        requested({"HARNESS_THREADS": value})
    assert requested({"HARNESS_THREADS": " auto "}) is None and requested({}) is None


def test_affinity_cpus_is_the_affinity_mask():
    assert affinity_cpus() == len(os.sched_getaffinity(0))


# What torch runs with in a job, read by a Hydra callback at the job's end (after app.main, which is
# where a launcher's worker process first runs our code) from torch's settings and the environment.
PROBE = ("import json, os, sys\n"
         "from hydra.experimental.callback import Callback\n"
         "class Probe(Callback):\n"
         "    def on_job_end(self, config, **kwargs):\n"
         "        import torch\n"
         "        out = {'threads': torch.get_num_threads(), 'wait': os.environ.get('OMP_WAIT_POLICY'),\n"
         "               'omp': os.environ.get('OMP_NUM_THREADS')}\n"
         "        open(os.environ['PROBE_OUT'], 'w').write(json.dumps(out))\n")


# A worker's view: the Hydra app run directly (as a launcher's worker runs the job function), without
# `harness.cli.main` before it.
APP_ONLY = "import sys\nfrom harness.app import main\nsys.argv = ['harness run', *sys.argv[1:]]\nmain()\n"


def probe_run(tmp_path, env, *, entry=("-m", "harness", "run")):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "probe_callback.py").write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k not in (
        "HARNESS_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "MKL_NUM_THREADS")} | env
    env |= {"PROBE_OUT": str(tmp_path / "probe.json"), "HARNESS_CACHE_DIR": str(tmp_path / "cache"),
            "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, *entry, "system=lead3", "metrics=[rouge]", "n_resamples=100",
                           "progress=false", f"hydra.run.dir={tmp_path / 'run'}",
                           "+hydra.callbacks.probe._target_=probe_callback.Probe"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=scaled_timeout(300))
    return done, (json.loads((tmp_path / "probe.json").read_text()) if (tmp_path / "probe.json").exists() else None)


def test_harness_run_loads_torch_with_passive_waiting(tmp_path):
    done, seen = probe_run(tmp_path, {})
    assert done.returncode == 0, done.stderr[-2000:]
    assert seen == {"threads": affinity_cpus(), "wait": "PASSIVE", "omp": None}


def test_a_job_run_without_the_cli_as_a_launchers_worker_runs_it_sets_them_too(tmp_path):
    done, seen = probe_run(tmp_path, {"HARNESS_THREADS": "1"}, entry=("-c", APP_ONLY))
    assert done.returncode == 0, done.stderr[-2000:]
    assert seen == {"threads": 1, "wait": "PASSIVE", "omp": "1"}


def test_harness_threads_sets_the_count_and_torch_keeps_the_old_defaults(tmp_path):
    done, seen = probe_run(tmp_path / "one", {"HARNESS_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert seen == {"threads": 1, "wait": "PASSIVE", "omp": "1"}
    done, seen = probe_run(tmp_path / "old", {"HARNESS_THREADS": "torch"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert seen == {"threads": affinity_cpus(), "wait": None, "omp": None}


def test_a_bad_harness_threads_is_one_line_and_exit_2(tmp_path):
    env = {**os.environ, "HARNESS_THREADS": "lots", "HARNESS_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "harness", "run", "system=lead3",
                           f"hydra.run.dir={tmp_path / 'run'}"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=scaled_timeout(300))
    one_line(done.returncode, done.stderr, "HARNESS_THREADS='lots'")
    assert not (tmp_path / "run").exists()


def test_the_fair_share_benchmarks_settings_and_articles(tmp_path, monkeypatch):
    import importlib.util

    from harness.data.load import load_articles

    spec = importlib.util.spec_from_file_location("fair_share", ROOT / "benchmarks" / "fair_share.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # the shell's own: never in what either setting measures
    old, new = bench.environment("old", None, tmp_path), bench.environment("new", None, tmp_path)
    assert old["HARNESS_THREADS"] == "torch" and "HARNESS_THREADS" not in new
    assert "OMP_NUM_THREADS" not in old and "OMP_NUM_THREADS" not in new
    assert bench.environment("new", 1, tmp_path)["HARNESS_THREADS"] == "1"
    spin = bench.environment("env:GOMP_SPINCOUNT=10000", None, tmp_path)
    assert spin["GOMP_SPINCOUNT"] == "10000" and "HARNESS_THREADS" not in spin
    articles = load_articles(str(bench.rotations(tmp_path, 3)))
    assert len({a.id for a in articles}) == 3 and len({a.body for a in articles}) == 3
    assert bench.slug("env:GOMP_SPINCOUNT=10000-quiet0") == "env-GOMP_SPINCOUNT-10000-quiet0"
