"""`harness run` checks each job's configuration before Hydra starts: a bad value is one line and
exit 2, and nothing is written (no run or sweep directory, no app.log, no lock, no results.json)."""

import pytest

from harness.config_check import check_run_overrides, sweep_jobs
from harness.errors import ConfigError

from .helpers.cli import harness, one_line, tree

BAD = [
    (("system=lead3", "seed=abc"), "seed must be an integer, 0 or more"),
    (("system=lead3", "n_resamples=0"), "n_resamples must be an integer from 1 to 1,000,000"),
    (("system=lead3", "data.limit=1.5"), "data.limit must be an integer (or null), got 1.5"),
    (("system=smollm2", "system.batch_size=0"), "system.batch_size must be 1 or more, got 0"),
    (("system=smollm2", "system.compile=yes"), "system.compile must be auto, true or false, got 'yes'"),
    (("system=lead3", "no_such_key=1"), "Could not override 'no_such_key'. To append to your config use +no_such_key"),
    (("system=nope",), "Could not find 'system/nope'"),
    (("system=causal_lm",), "system.model is not set: give it on the command line"),
]


@pytest.mark.parametrize("overrides,message", BAD, ids=[" ".join(o) for o, _ in BAD])
def test_a_bad_value_is_one_line_exit_2_and_nothing_is_written(tmp_path, overrides, message):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    done = harness("run", *overrides, "metrics=[rouge]", "progress=false", cache_dir=tmp_path / "cache", cwd=cwd,
                   timeout=120)
    one_line(done.returncode, done.stderr, message)
    assert done.stdout == ""
    assert tree(cwd) == set()  # no runs/, no app.log, no lock, no results.json
    assert not (tmp_path / "cache").exists()


def test_a_sweep_with_one_bad_job_is_refused_before_any_job_runs(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    done = harness("run", "-m", "system=lead3", "seed=0,abc", "metrics=[rouge]", "progress=false",
                   cache_dir=tmp_path / "cache", cwd=cwd, timeout=120)
    line = one_line(done.returncode, done.stderr, "job 1 (system=lead3 decoding=greedy seed=abc", "got 'abc'")
    assert "job 0" not in line
    assert tree(cwd) == set()  # no sweep directory, no multirun.yaml


def test_the_default_sweep_expands_as_hydra_s_basic_sweeper_does():
    jobs = sweep_jobs([])
    assert jobs == [[f"system={s}", f"decoding={d}"] for s in ("lead3", "bullets", "smollm2")
                    for d in ("greedy", "beam")]
    # The command line's value of a key replaces the config's; other keys are added to each job.
    assert sweep_jobs(["system=lead3,bullets", "seed=1"]) == [
        [f"system={s}", f"decoding={d}", "seed=1"] for s in ("lead3", "bullets") for d in ("greedy", "beam")]
    configs = check_run_overrides(["-m", "system=lead3,bullets", "decoding=greedy"])
    assert [c.system.name for c in configs] == ["lead-3", "reference-bullets"]


def test_a_single_run_is_one_composed_config_and_hydra_flags_are_left_to_hydra():
    (cfg,) = check_run_overrides(["system=lead3", "system.k=2"])
    assert cfg.system.k == 2 and cfg.seed == 0
    assert check_run_overrides(["--cfg", "job", "seed=abc"]) == []  # Hydra prints the config; no run starts


def test_a_sweep_value_without_m_is_refused_in_one_line():
    with pytest.raises(ConfigError, match=r"^Ambiguous value for argument 'system=lead3,bullets' 1\. .*--multirun"):
        check_run_overrides(["system=lead3,bullets"])


def test_a_finished_run_s_directory_is_refused_before_hydra_touches_its_app_log(tmp_path):
    from harness.run import run

    from .helpers.configs import config

    finished = tmp_path / "finished"
    run(config("system=lead3", "metrics=[rouge]", f"cache_dir={tmp_path / 'cache'}"), finished)
    before = {p.name: p.stat().st_mtime_ns for p in finished.iterdir()}
    done = harness("run", "system=lead3", "metrics=[rouge]", f"hydra.run.dir={finished}", cache_dir=tmp_path / "cache",
                   timeout=120)
    one_line(done.returncode, done.stderr, f"{finished} already holds a finished run (lead-3)")
    assert {p.name: p.stat().st_mtime_ns for p in finished.iterdir()} == before  # no app.log, nothing rewritten
