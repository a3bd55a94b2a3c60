"""Sweeps through Hydra launchers (basic, joblib, submitit_local, Ray): the same leaderboard
whatever runs the jobs; a failed job is listed; workers share the generation cache without
duplicating work; shards of one evaluation set merge into one row."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from .conftest import ROOT
from .test_cli import harness
from .test_resume import SLOW

LAUNCHERS = {"joblib": "hydra_plugins.hydra_joblib_launcher",
             "submitit_local": "hydra_plugins.hydra_submitit_launcher", "ray": "hydra_plugins.hydra_ray_launcher"}


def need(launcher: str) -> None:
    if launcher in LAUNCHERS and importlib.util.find_spec(LAUNCHERS[launcher]) is None:
        if os.environ.get("CI"):
            pytest.fail(f"the {launcher} launcher is missing in CI: .ci/run installs its extra")
        pytest.skip(f"the {launcher} launcher plugin is not installed (pip install -e '.[{launcher}]')")


def sweep(tmp_path, launcher: str, *overrides, name=None):
    need(launcher)
    directory = tmp_path / (name or launcher)
    extra = [] if launcher == "basic" else [f"+launcher={launcher}"]
    done = harness("run", "-m", *extra, *overrides, f"hydra.sweep.dir={directory}", "progress=false",
                   "metrics=[rouge,coverage_lexical]", cache_dir=tmp_path / "cache", timeout=600)
    board_file = directory / "leaderboard.json"
    return done, json.loads(board_file.read_text()) if board_file.exists() else None


def rows(board):
    return [(r["name"], r["n_articles"], r["metrics"]) for r in board["rows"]]


@pytest.fixture(scope="module")
def basic_board(tmp_path_factory):
    done, board = sweep(tmp_path_factory.mktemp("basic"), "basic", "system=lead3,bullets", "decoding=greedy,beam")
    assert done.returncode == 0, done.stderr
    return board


@pytest.mark.parametrize("launcher", ["joblib", "submitit_local", "ray"])
def test_four_job_sweep_gives_the_basic_launchers_leaderboard(launcher, tmp_path, basic_board):
    done, board = sweep(tmp_path, launcher, "system=lead3,bullets", "decoding=greedy,beam")
    assert done.returncode == 0, done.stderr[-3000:]
    assert rows(board) == rows(basic_board)
    assert sorted(job for r in board["rows"] for job in r["dirs"]) == sorted(
        str(tmp_path / launcher / n) for n in "0123")


def test_tiny_model_sweep_on_joblib_workers(tmp_path, tiny_causal_dir):
    args = ("system=causal_lm", f"system.model={tiny_causal_dir}", "system.name=tiny", "decoding=greedy",
            "prompt=bullets,paragraph", "decoding.max_new_tokens=4,6")
    done, board = sweep(tmp_path, "joblib", *args)
    assert done.returncode == 0, done.stderr[-3000:]
    _, basic = sweep(tmp_path, "basic", *args, name="basic-tiny")
    assert rows(board) == rows(basic) and len(board["rows"]) == 4  # each job its own run


def test_failed_job_is_listed_and_the_leaderboard_still_written(tmp_path):
    done, board = sweep(tmp_path, "joblib", "system=lead3", "decoding=greedy", "system.k=1,0,3")
    assert done.returncode != 0 and "1 job(s) failed" in done.stderr
    assert [r["name"] for r in board["rows"]] == ["lead-3", "lead-1"]
    (failed,) = board["failed"]
    assert "k must be" in failed["error"] and failed["dir"].endswith("/1")


def test_two_workers_on_one_cache_never_generate_the_same_summary_twice(tmp_path, tiny_causal_dir, seed_article):
    data = tmp_path / "four.jsonl"
    paragraphs = list(seed_article.paragraphs)
    data.write_text("".join(json.dumps({"id": f"a{i}", "title": "T", "paragraphs": paragraphs[i:] + paragraphs[:i],
                                        "bullets": list(seed_article.bullets)}) + "\n" for i in range(4)))
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "shared-cache"), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", SLOW, "run", "system=causal_lm", f"system.model={tiny_causal_dir}",
               "decoding.max_new_tokens=6", f"data.path={data}", "metrics=[rouge]", "progress=false"]
    workers = [subprocess.Popen([*command, f"hydra.run.dir={tmp_path / f'worker{i}'}"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for i in range(2)]
    for worker in workers:
        assert worker.wait(timeout=600) == 0, worker.stderr.read().decode()[-2000:]
    counts = [json.loads((tmp_path / f"worker{i}" / "results.json").read_text())["generation"] for i in range(2)]
    assert sum(c["generated"] for c in counts) == 4  # each summary made once, by one of the two
    assert all(c["generated"] + c["cached"] == 4 for c in counts)
    summaries = [(tmp_path / f"worker{i}" / "summaries.jsonl").read_text() for i in range(2)]
    assert [json.loads(x)["text"] for x in summaries[0].splitlines()] == [
        json.loads(x)["text"] for x in summaries[1].splitlines()]


def test_shards_of_one_set_merge_into_one_row(tmp_path, seed_article):
    data = tmp_path / "five.jsonl"
    paragraphs = list(seed_article.paragraphs)
    data.write_text("".join(json.dumps({"id": f"a{i}", "title": "T", "paragraphs": paragraphs[i:] + paragraphs[:i],
                                        "bullets": list(seed_article.bullets)}) + "\n" for i in range(5)))
    done, sharded = sweep(tmp_path, "basic", "system=lead3", f"data.path={data}", "data.num_shards=2",
                          "data.shard=0,1", name="sharded")
    assert done.returncode == 0, done.stderr
    done, whole = sweep(tmp_path, "basic", "system=lead3", f"data.path={data}", name="whole")
    (row,) = sharded["rows"]
    assert row["n_articles"] == 5 and sorted(row["shards"]) == [[0, 2], [1, 2]]
    for metric, value in whole["rows"][0]["metrics"].items():
        assert row["metrics"][metric] == pytest.approx(value), metric
    compared = harness("compare", str(tmp_path / "sharded"), "--format", "json", cache_dir=tmp_path)
    assert json.loads(compared.stdout)["rows"][0]["n_articles"] == 5
