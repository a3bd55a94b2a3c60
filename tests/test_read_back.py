"""What is read back cannot contradict itself (issue 32): the same run scored by two scorers
(different fingerprints) is refused naming both directories whatever the order of the arguments,
and a results.json whose stored mean or n is not what its scores.jsonl gives is refused."""

import json
import shutil

import pytest

from harness.results.schema import ResultsError
from harness.results.sweep import load_runs

from .helpers.cli import harness
from .helpers.configs import config


@pytest.fixture(scope="module")
def scored(tmp_path_factory, four_articles):
    """A: a lead-3 run; E: the same run with its ROUGE fingerprint changed (scored by another
    ROUGE version) and its scores changed to match, its stats recomputed (consistent in itself)."""
    from harness.results.intervals import metric_stats
    from harness.run import run

    root = tmp_path_factory.mktemp("read-back")
    run(config("system=lead3", f"data.path={four_articles}", f"cache_dir={root / 'cache'}", "metrics=[rouge]"),
        root / "A")
    shutil.copytree(root / "A", root / "E")
    rows = [json.loads(line) for line in (root / "E" / "scores.jsonl").read_text().splitlines() if line.strip()]
    for row in rows:
        row["scores"] = {k: (0.9 if isinstance(v, float) else v) for k, v in row["scores"].items()}
    (root / "E" / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    results = json.loads((root / "E" / "results.json").read_text())
    results["scoring"]["rouge"]["fingerprint"] = "f" * 64
    results["metric_stats"] = metric_stats(rows, results["metric_info"], seed=0)
    (root / "E" / "results.json").write_text(json.dumps(results))
    return root


@pytest.mark.parametrize("order", ["AE", "EA"])
def test_one_run_scored_by_two_scorers_is_refused_naming_both_directories_in_either_order(scored, order):
    paths = [scored / name for name in order]
    with pytest.raises(ResultsError, match="hold the same run scored by different scorers") as refused:
        load_runs(paths)
    assert str(scored / "A") in str(refused.value) and str(scored / "E") in str(refused.value)
    for command in ("leaderboard", "compare"):
        done = harness(command, *map(str, paths), cache_dir=scored / "cache")
        assert done.returncode == 2 and "different scorers (rouge" in done.stderr
        assert str(scored / "A") in done.stderr and str(scored / "E") in done.stderr


def test_the_same_run_twice_with_one_scorer_is_still_one_row(scored):
    assert len(load_runs([scored / "A", scored / "A"]).runs) == 1
    assert len(load_runs([scored / "E"]).runs) == 1


def test_a_mean_in_results_json_that_scores_jsonl_contradicts_is_refused(scored, tmp_path):
    shutil.copytree(scored / "A", tmp_path / "T")
    results = json.loads((tmp_path / "T" / "results.json").read_text())
    metric = next(iter(results["metric_stats"]))
    results["metric_stats"][metric]["mean"] = 0.99
    (tmp_path / "T" / "results.json").write_text(json.dumps(results))
    with pytest.raises(ResultsError, match=f"results.json gives {metric} a mean of 0.99 over 4 articles, but its "
                                           "scores.jsonl"):
        load_runs([tmp_path / "T"])
    done = harness("compare", str(tmp_path / "T"), str(scored / "A"), cache_dir=tmp_path / "cache")
    assert done.returncode == 2 and "was changed after the run" in done.stderr
