"""One interval per run: computed once, with the run's seed and resample count (here seed 3 and
500 resamples, not the defaults any reader could fall back on), stored in results.json and shown
as it is by compare (every format), the run's report.html and a sweep's compare.md; paired
differences are computed by one function, so the gate and compare agree on them. Also
``harness leaderboard``: several directories, one-line errors, --help."""

import json
import re
import shutil

import pytest

from harness.cli import main as harness_main
from harness.gate import load_gate_config, run_gate
from harness.reports.compare import compare, render_markdown
from harness.reports.markdown import escape_md
from harness.results.intervals import paired_difference
from harness.results.sweep import load_runs
from harness.run import run

from .helpers.configs import config

METRIC = "rouge/rougeLsum_f"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, four_articles):
    root = tmp_path_factory.mktemp("intervals")
    for name, overrides in {"lead3": ["system=lead3"], "lead1": ["system=lead3", "system.k=1"]}.items():
        run(config(*overrides, f"data.path={four_articles}", f"cache_dir={root / 'cache'}", "metrics=[rouge]",
                   "seed=3", "n_resamples=500"), root / name)
    for i, name in enumerate(("lead3", "lead1")):
        shutil.copytree(root / name, root / "sweep" / str(i))
    return root


def stored(run_dir, metric=METRIC):
    return json.loads((run_dir / "results.json").read_text())["metric_stats"][metric]


def page_data(path):
    html = path.read_text(encoding="utf-8")
    return json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)</script>', html, re.S)[1])


def test_results_record_how_the_intervals_were_computed(runs):
    results = json.loads((runs / "lead3" / "results.json").read_text())
    assert results["intervals"] == {"method": "percentile bootstrap over articles", "confidence": 0.95,
                                    "n_resamples": 500, "seed": 3}


def test_every_reader_shows_the_interval_results_json_stores(runs):
    board = compare(load_runs([runs / "sweep"]).runs, [METRIC])
    by_name = {row["name"]: row for row in board["rows"]}
    for name, directory in (("lead-3", "lead3"), ("lead-1", "lead1")):
        # copied, not recomputed: the very numbers results.json holds
        assert by_name[name]["metrics"][METRIC]["ci95"] == stored(runs / directory)["ci95"]
        own_page = page_data(runs / directory / "report.html")["board"]["rows"][0]["metrics"][METRIC]
        assert own_page["ci95"] == stored(runs / directory)["ci95"]
    low, high = stored(runs / "lead3")["ci95"]
    assert escape_md(f"[{low:.4f}, {high:.4f}]") in render_markdown(board)


def test_a_recomputed_interval_would_differ(runs):
    """The check above can fail: the defaults (seed 0, 10,000 resamples) give another interval."""
    from harness.stats.bootstrap import bootstrap_mean

    values = [json.loads(line)["scores"][METRIC] for line in (runs / "lead1" / "scores.jsonl").read_text().splitlines()]
    default = bootstrap_mean(values)
    assert [default.low, default.high] != stored(runs / "lead1")["ci95"]


def test_gate_and_compare_compute_the_same_paired_difference(runs, tmp_path):
    base, cand = load_runs([runs / "lead3"]).runs[0], load_runs([runs / "lead1"]).runs[0]
    gate_config = load_gate_config()
    report = run_gate(runs / "lead3", runs / "lead1", {METRIC: 0.02}, gate_config)
    diff = report["comparisons"][0]["metrics"][0]["difference"]
    ours = paired_difference(cand, base, METRIC, seed=gate_config["seed"], n_resamples=gate_config["n_resamples"])
    assert diff == ours.to_dict()
    board = compare([base, cand], [METRIC], reference="lead-3", seed=gate_config["seed"],
                    n_resamples=gate_config["n_resamples"])
    row = next(r for r in board["rows"] if r["name"] == "lead-1")
    assert row["metrics"][METRIC]["difference"]["ci95"] == [diff["low"], diff["high"]]


def test_leaderboard_takes_several_directories(runs, capsys, tmp_path):
    code = harness_main(["leaderboard", str(runs / "lead3"), str(runs / "lead1"), "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    board = json.loads((tmp_path / "leaderboard.json").read_text())
    assert [r["name"] for r in board["rows"]] == ["lead-3", "lead-1"]
    assert "lead-1" in out and "written:" in out
    assert not (runs / "lead3" / "leaderboard.json").exists()  # several directories: only --out is written


@pytest.mark.parametrize("args, message", [
    (["/no/such/dir"], "error: /no/such/dir: no such run directory, sweep directory or baseline file"),
])
def test_leaderboard_errors_in_one_line_with_exit_2(args, message, capsys):
    code = harness_main(["leaderboard", *args])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == message


def test_leaderboard_help(capsys):
    with pytest.raises(SystemExit) as done:
        harness_main(["leaderboard", "--help"])
    assert done.value.code == 0 and "usage: harness leaderboard" in capsys.readouterr().out
