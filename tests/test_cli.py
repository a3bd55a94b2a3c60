"""The `harness` command end to end, in subprocesses, as users run it."""

import json

import pytest

from .helpers.cli import harness


def test_usage_without_arguments(tmp_path):
    done = harness(cache_dir=tmp_path)
    assert done.returncode == 0 and "harness run" in done.stdout


def test_sweep_writes_a_leaderboard_with_one_row_per_distinct_run(tmp_path):
    sweep = tmp_path / "sweep"
    done = harness("run", "-m", "system=lead3,bullets", f"hydra.sweep.dir={sweep}", "progress=false",
                   cache_dir=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    # The primary config also sweeps decoding=greedy,beam: 4 jobs, 2 distinct runs.
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1", "2", "3"]
    board = json.loads((sweep / "leaderboard.json").read_text())
    assert [row["name"] for row in board["rows"]] == ["reference-bullets", "lead-3"]
    assert board["rows"][0]["metrics"]["rouge/rougeLsum_f"] == pytest.approx(1.0)
    assert "| 1 | reference\\-bullets |" in (sweep / "leaderboard.md").read_text()
    for job in "0123":
        config = (sweep / job / "resolved_config.yaml").read_text()
        assert "choices:" in config and "overrides:" in config


def test_failed_job_is_recorded_and_the_sweep_goes_on(tmp_path):
    sweep = tmp_path / "sweep"
    done = harness("run", "-m", "system=lead3", "system.k=0,1", "decoding=greedy", f"hydra.sweep.dir={sweep}",
                   "progress=false", cache_dir=tmp_path / "cache")
    assert done.returncode == 1
    failed = json.loads((sweep / "0" / "results.json").read_text())
    assert failed["status"] == "failed" and "k must be a positive integer" in failed["error"]
    board = json.loads((sweep / "leaderboard.json").read_text())
    assert [row["name"] for row in board["rows"]] == ["lead-1"]
    assert board["failed"][0]["dir"].endswith("0")
    rebuilt = harness("leaderboard", str(sweep), cache_dir=tmp_path / "cache")
    assert rebuilt.returncode == 1
    assert "failed jobs:\n  0 lead-0 | bullets | greedy: ConfigError: lead-k: k must be a positive integer, got 0" \
        in rebuilt.stdout  # plain text on the terminal, Markdown in the file
    assert "## Failed jobs" in (sweep / "leaderboard.md").read_text()


def test_single_run_error_exits_non_zero_with_the_message(tmp_path):
    done = harness("run", "system=lead3", "system.k=0", f"hydra.run.dir={tmp_path / 'run'}", "progress=false",
                   cache_dir=tmp_path / "cache")
    assert done.returncode == 1
    assert "error: lead-k: k must be a positive integer, got 0" in done.stderr


def test_unknown_config_key_is_refused(tmp_path):
    done = harness("run", "no_such_key=1", cache_dir=tmp_path)
    assert done.returncode == 2 and "Could not override 'no_such_key'" in done.stderr


def test_data_path_evaluates_any_supported_file(tmp_path):
    data = tmp_path / "mine.jsonl"
    data.write_text(json.dumps({"id": "x1", "article": "The mayor spoke. Fuel prices rose sharply.",
                                "highlights": "Fuel prices rose"}) + "\n")
    done = harness("run", "system=lead3", "system.k=1", f"data.path={data}", f"hydra.run.dir={tmp_path / 'run'}",
                   "progress=false", cache_dir=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    (summary,) = [json.loads(line) for line in (tmp_path / "run" / "summaries.jsonl").read_text().splitlines()]
    assert summary == {**summary, "article_id": "x1", "text": "The mayor spoke."}


def _realsumm_file(path, docs=6, systems=4):
    """A small REALSumm-format file: system s mentions units whose index < s (so presence is known)."""
    units = ["police officers were shot", "the mayor office burned", "fuel prices rose sharply"]
    rows = []
    for d in range(docs):
        for s in range(systems):
            said = [u for i, u in enumerate(units) if i < s]
            rows.append({"doc_id": f"d{d}", "system": f"sys{s}", "summary": ". ".join(said + ["Nothing else"]) + ".",
                         "scus": units, "scu_present": [int(i < s) for i in range(len(units))]})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_meta_eval_coverage_on_a_small_realsumm_file(tmp_path):
    data = _realsumm_file(tmp_path / "units.jsonl")
    done = harness("meta-eval", "--task", "coverage", "--data", str(data), "--metrics", "coverage_lexical",
                   "--n-resamples", "50", "--out", str(tmp_path / "out"), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "out" / "meta_eval.json").read_text())["results"][0]
    assert result["test_articles"] == 3 and result["dev_articles"] == 3
    assert result["unit_auc"][0] == 1.0  # a stated unit is recalled fully, an unstated one barely
    assert result["summary_pearson"][0] == pytest.approx(1.0)
    assert "| coverage_lexical |" in done.stdout


def test_meta_eval_names_the_missing_field(tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps({"doc_id": "d", "system": "s", "summary": "x", "scus": ["a"]}) + "\n")
    done = harness("meta-eval", "--task", "coverage", "--data", str(data), cache_dir=tmp_path)
    assert done.returncode == 2 and "scu_present" in done.stderr and "record 1" in done.stderr
