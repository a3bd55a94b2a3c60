"""The results contract: metric metadata declared by the metrics and recorded per run, columns
unique by construction, labels from values, one reader for runs, sweeps and shards."""

import json

import pytest

from harness.config import build, load_metric
from harness.errors import ConfigError
from harness.metrics.base import declared_columns
from harness.reports.leaderboard import build_leaderboard, render_terminal
from harness.results.metric_info import default_sort
from harness.results.runs import assign_labels
from harness.results.sweep import load_runs
from harness.run import run

from .helpers.configs import config

SECOND_LEXICAL = ("+metrics.coverage_lexical2={_target_:harness.metrics.coverage.bullet_coverage.BulletCoverage,"
                  "threshold:0.65,matcher:{_target_:harness.metrics.coverage.lexical.LexicalMatcher,n:2}}")
OFFLINE_METRICS = ("rouge", "coverage_lexical", "coverage_semantic", "bertscore", "extractiveness",
                   "consistency_embedding", "consistency_entity", "consistency_bullets", "consistency_composite")


@pytest.mark.parametrize("name", OFFLINE_METRICS)
def test_every_scalar_a_metric_writes_is_declared_with_a_direction(name, seed_article):
    metric = load_metric(name)
    columns = metric.columns()
    summary = " ".join(seed_article.bullets[:2])
    (scores,) = metric.score_many([(summary, seed_article)])
    scalars = {k for k, v in scores.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    assert scalars == set(columns), (name, scalars ^ set(columns))
    for key, column in columns.items():
        assert column.higher_is_better in (True, False, None) and column.display, key
        low, high = column.low, column.high
        if low is not None:
            assert scores[key] >= low, key
        if high is not None:
            assert scores[key] <= high, key


def test_directions_of_the_known_error_metrics():
    columns = declared_columns({n: load_metric(n) for n in ("rouge", "consistency_embedding", "consistency_bullets",
                                                            "extractiveness")})
    assert columns["rouge/rougeLsum_f"]["higher_is_better"] is True
    assert columns["consistency/unsupported@embedding"]["higher_is_better"] is False
    assert columns["consistency/contradiction_rate@bullets"]["higher_is_better"] is False
    assert columns["extractive/repeated_2gram"]["higher_is_better"] is False
    assert columns["extractive/words"]["higher_is_better"] is None
    assert default_sort(columns) == "rouge/rougeLsum_f"


def test_two_configs_writing_one_column_fail_before_generating(tmp_path, cache_dir):
    cfg = config("system=lead3", "metrics=[coverage_lexical]", SECOND_LEXICAL)
    with pytest.raises(ConfigError, match="metrics 'coverage_lexical' and 'coverage_lexical2' both write the column "
                                          "'coverage/bullet_recall@lexical'"):
        run(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "summaries.jsonl").exists()
    cfg = config("system=lead3", "metrics=[coverage_lexical]", SECOND_LEXICAL,
                 "+metrics.coverage_lexical2.key=lexical_r2")
    results = run(cfg, tmp_path / "run2")
    # ROUGE-1 and ROUGE-2 recall give different values: neither overwrote the other.
    assert results["metrics"]["coverage/bullet_score@lexical"] != results["metrics"]["coverage/bullet_score@lexical_r2"]


def test_results_record_metric_info_in_declared_order(tmp_path, cache_dir):
    results = run(config("system=lead3", "metrics=[rouge,consistency_bullets]"), tmp_path / "run")
    on_disk = json.loads((tmp_path / "run" / "results.json").read_text())
    assert on_disk["schema_version"] == "2.0"
    info = on_disk["metric_info"]
    assert list(info)[:3] == ["rouge/rougeLsum_f", "rouge/rouge1_f", "rouge/rouge2_f"]
    assert info["consistency/contradiction_rate@bullets"] == {
        "display": "Bullet contradictions", "higher_is_better": False, "headline": True,
        "range": [0.0, 1.0], "metric": "consistency_bullets"}
    assert list(results["metric_stats"]) == [m for m in info if m in results["metric_stats"]]


def test_beam_label_follows_num_beams():
    assert build(config("decoding=beam", "decoding.num_beams=8"), "decoding").name == "beam8"
    assert build(config("decoding=beam"), "decoding").name == "beam4"


def test_labels_name_the_overrides_that_differ(tmp_path, cache_dir):
    for i, k in enumerate((1, 2)):
        run(config("system=lead3", f"system.k={k}", "system.name=lead", "metrics=[rouge]"), tmp_path / "sweep" / str(i),
            overrides=["system=lead3", f"system.k={k}", "system.name=lead"])
    runset = load_runs([tmp_path / "sweep"])
    assert sorted(r.label for r in runset.runs) == ["lead (system.k=1)", "lead (system.k=2)"]
    text = render_terminal(build_leaderboard(runset))
    assert "lead (system.k=1)" in text and "\\-" not in text


def test_labels_fall_back_to_the_directory_when_overrides_are_equal():
    from harness.results.runs import Run

    runs = [Run(name="m", key=(i,), setup="s", results={"provenance": {"overrides": ["a=1"]}}, dirs=[f"/s/{i}"])
            for i in range(2)]
    assign_labels(runs)
    assert [r.label for r in runs] == ["m [0]", "m [1]"]


def test_overrides_print_as_the_config_writes_them():
    from harness.results.runs import written_override

    # Hydra's sweeper prints a job's booleans and nulls with Python's str(): written back as YAML spells them.
    assert written_override("progress=False") == "progress=false"
    assert written_override("a=[True,None]") == "a=[true,null]" and written_override("d={k:True}") == "d={k:true}"
    assert written_override("data.path=/x/True/y.jsonl") == "data.path=/x/True/y.jsonl"  # text, not a value
    assert written_override("t='True'") == "t='True'" and written_override("~k") == "~k"
    assert written_override("n=Nonesuch") == "n=Nonesuch"


def _lead(i, *overrides, source="/a"):
    from harness.results.runs import Run

    return Run(name="lead", key=(f"{source}{i}",), setup="s", results={"provenance": {"overrides": list(overrides)}},
               dirs=[f"{source}/{i}"], source=source)


def test_a_run_keeps_its_label_when_another_paths_runs_join():
    def sweep_a():
        return [_lead(0, "system.k=1", "progress=False"), _lead(1, "system.k=2", "progress=False")]

    alone = sweep_a()
    assign_labels(alone)
    assert [r.label for r in alone] == ["lead (system.k=1)", "lead (system.k=2)"]
    # Another sweep's lead runs: A's labels stay as they were (they depended on A's runs only).
    together = sweep_a() + [_lead(0, "progress=True", source="/b"), _lead(1, "system.k=1", source="/b"),
                            _lead(2, "system.k=9", source="/b")]
    assign_labels(together)
    assert [r.label for r in together[:2]] == [r.label for r in alone]
    # B's own labels come from B's runs; the one that equals an A label (a real collision) names its sweep.
    assert [r.label for r in together[2:]] == ["lead (progress=true)", "lead (system.k=1) [b]", "lead (system.k=9)"]
    assert len({r.label for r in together}) == 5
    one = [_lead(0, "x=1"), _lead(0, "x=1", source="/b")]  # one run in each: both named lead; B's names its sweep
    assign_labels(one)
    assert [r.label for r in one] == ["lead", "lead [b]"]


def test_labels_of_a_sweep_alone_are_its_labels_beside_another(tmp_path, cache_dir, four_articles):
    for i, k in enumerate((1, 2)):
        run(config("system=lead3", f"system.k={k}", "system.name=lead", "metrics=[rouge]"), tmp_path / "a" / str(i),
            overrides=["system=lead3", f"system.k={k}", "system.name=lead", "progress=False"])
    run(config("system=lead3", "system.k=3", "system.name=lead", f"data.path={four_articles}", "metrics=[rouge]"),
        tmp_path / "b" / "0", overrides=["system=lead3", "system.k=3", f"data.path={four_articles}"])
    alone = {r.key: r.label for r in load_runs([tmp_path / "a"]).runs}
    together = {r.key: r.label for r in load_runs([tmp_path / "a", tmp_path / "b"]).runs}
    assert sorted(alone.values()) == ["lead (system.k=1)", "lead (system.k=2)"]
    assert {key: together[key] for key in alone} == alone
    assert len(set(together.values())) == 3


def test_shards_merge_into_one_row_over_all_articles(tmp_path, cache_dir, four_articles):
    data = four_articles
    for shard in (0, 1):
        run(config("system=lead3", f"data.path={data}", "data.num_shards=2", f"data.shard={shard}", "metrics=[rouge]"),
            tmp_path / "sweep" / str(shard))
    run(config("system=lead3", f"data.path={data}", "metrics=[rouge]"), tmp_path / "whole")
    (merged,) = load_runs([tmp_path / "sweep"]).runs
    (whole,) = load_runs([tmp_path / "whole"]).runs
    assert merged.n_articles == 4 and len(merged.dirs) == 2
    assert merged.mean("rouge/rougeLsum_f") == pytest.approx(whole.mean("rouge/rougeLsum_f"))
    (row,) = build_leaderboard(load_runs([tmp_path / "sweep"]))["rows"]
    assert row["n_articles"] == 4


def test_readers_do_not_import_the_run():
    """The reports read results through harness.results: none of them needs harness.run (no cycle)."""
    import subprocess
    import sys

    code = ("import sys, harness.reports.compare, harness.reports.leaderboard, harness.reports.html, harness.gate; "
            "print('harness.run' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_pathological_json_in_a_run_dir_is_named(tmp_path):
    """Nesting deeper than Python's parser goes is a damaged file named, not a RecursionError."""
    from harness.results.results_file import read_json
    from harness.results.schema import ResultsError
    from harness.results.scores import read_scores

    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "results.json").write_text(deep)
    with pytest.raises(ResultsError, match=r"results.json: not valid JSON \(maximum recursion depth"):
        read_json(tmp_path / "results.json")
    (tmp_path / "scores.jsonl").write_text('{"article_id": "a", "scores": {}, "article_sha256": "x"}\n' + deep + "\n")
    with pytest.raises(ResultsError, match=r"scores.jsonl, line 2: not a scores row \(RecursionError"):
        read_scores(tmp_path)
