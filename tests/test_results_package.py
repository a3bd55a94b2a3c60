"""harness/results/: every file a run, a baseline and a marks file write is written and read back
there, typed. Each file round-trips (written, read back, equal); a malformed one is refused in one
line naming the file; results.json is written from its model with the keys in the order the dict
literal used to write them, and files written before the structured fields still read."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from harness.data.article import Article
from harness.results.baseline import read_baseline, write_baseline, write_rescored
from harness.results.marks import MARKS, MarksError, marks_path, read_marks_file, write_marks
from harness.results.results_file import read_completed, read_results, results_data, write_results
from harness.results.run_config import read_resolved_config, read_run_config, write_run_config
from harness.results.runs import Run
from harness.results.schema import (
    SCHEMA_VERSION,
    CompletedResults,
    FailedProvenance,
    FailedRecord,
    FailedResults,
    ResultsError,
)
from harness.results.scores import read_scores, write_scores
from harness.results.summaries import (
    read_references,
    read_summaries,
    read_summary_rows,
    write_references,
    write_summaries,
)
from harness.results.sweep import load_runs

BASELINE = Path(__file__).resolve().parents[1] / "runs" / "baselines" / "default.json"
ARTICLES = [Article(id="a1", title="Fuel", paragraphs=("Prices rose.", "Drivers queued."), bullets=("Prices rose.",)),
            Article(id="a2", title="Rain", paragraphs=("It rained.",), bullets=("Rain fell.",))]
SCORES = [{"article_id": "a1", "article_sha256": ARTICLES[0].content_hash, "system": "lead-1",
           "scores": {"rouge/r": 0.5, "consistency/sentences@embedding": [{"sentence": "Prices rose.", "score": 0.9}]}},
          {"article_id": "a2", "article_sha256": ARTICLES[1].content_hash, "system": "lead-1",
           "scores": {"rouge/r": 0.25, "consistency/sentences@embedding": []}}]


def old_literal() -> dict:
    """results.json as run.py's dict literal wrote it (key order included), before the model."""
    return {
        "schema_version": SCHEMA_VERSION, "status": "completed",
        "run": {"name": "lead-1 | default | greedy", "system": "lead-1", "prompt": "default", "decoding": "greedy",
                "data": "x.jsonl", "n_articles": 2, "seed": 0, "identity_sha256": "i" * 64,
                "setup_sha256": "s" * 64, "data_sha256": "d" * 64, "shard": [0, 1], "data_source_sha256": "src"},
        "metrics": {"rouge/r": 0.375},
        "metric_info": {"rouge/r": {"display": "R", "higher_is_better": True, "headline": True, "range": [0.0, 1.0],
                                    "metric": "rouge"}},
        "metric_stats": {"rouge/r": {"mean": 0.375, "std": 0.1767766952966369, "n": 2, "ci95": [0.25, 0.5]}},
        "intervals": {"method": "percentile bootstrap over articles", "confidence": 0.95, "n_resamples": 10000,
                      "seed": 0},
        "generation": {"generated": 2, "cached": 0, "truncated": 0, "article_tokens_cut": 0, "empty": 0,
                       "output_tokens": 7, "seconds": 0.5, "batch_size": 2, "tokens_per_s": 14.0},
        "scoring": {"rouge": {"computed": 2, "cached": 0, "fingerprint": "f" * 64},
                    "consistency_embedding": {"computed": 2, "cached": 0, "fingerprint": "e" * 64}},
        "provenance": {"system_identity": {"kind": "lm", "decoding": {"max_new_tokens": 60, "do_sample": False}},
                       "config_sha256": "c", "metrics": {
                           "rouge": {"class": "Rouge"},
                           "consistency_embedding": {"class": "EmbeddingSupport", "scorer": "embedding",
                                                     "threshold": 0.471},
                           "consistency_composite": {"class": "Composite", "scorer": "composite", "threshold": 0.5,
                                                     "inputs": ["a", "b"]}},
                       "choices": {"system": "lead"}, "overrides": ["system=lead"], "seed": 0,
                       "versions": {"python": "3"}, "git": {"commit": "abc", "dirty": False},
                       "machine": {"cpu": "Test CPU"}, "started_at": "2025-01-01T00:00:00+00:00",
                       "timings_s": {"setup": 0.1, "generation": 0.2, "scoring": 0.3, "total": 0.7},
                       "finished_at": "2025-01-01T00:00:01+00:00"},
        "calibration": {"name": "shipped", "shipped": True},
    }


def write_run(directory: Path, results: dict | None = None) -> CompletedResults:
    """A complete run directory written through harness/results/ (what run.py does)."""
    model = CompletedResults.model_validate(results or old_literal())
    write_run_config(directory, {"seed": 0, "metrics": {"rouge": {"_target_": "x"}}}, {"system": "lead"},
                     ["system=lead"])
    write_references(directory, ARTICLES)
    write_summaries(directory, [{"article_id": "a1", "system": "lead-1", "text": "Prices rose.", "output_tokens": 3},
                                {"article_id": "a2", "system": "lead-1", "text": "It rained.", "output_tokens": 4}])
    write_scores(directory, SCORES)
    write_results(directory, model)
    return model


def test_results_json_is_written_from_its_model_byte_for_byte_as_the_dict_literal_was(tmp_path):
    literal = old_literal()
    model = CompletedResults.model_validate(literal)
    assert json.dumps(results_data(model)) == json.dumps(literal)  # same keys, same order, same values
    write_results(tmp_path, model)
    assert (tmp_path / "results.json").read_text(encoding="utf-8") == json.dumps(literal, indent=2,
                                                                                ensure_ascii=False) + "\n"


def test_each_run_file_round_trips(tmp_path):
    model = write_run(tmp_path)
    assert read_results(tmp_path) == results_data(model)
    assert read_completed(tmp_path) == model
    scores, hashes = read_scores(tmp_path, model.metric_info)
    assert scores == {row["article_id"]: row["scores"] for row in SCORES}
    assert hashes == {a.id: a.content_hash for a in ARTICLES}
    assert read_references(tmp_path) == ARTICLES
    assert read_summaries(tmp_path) == {"a1": "Prices rose.", "a2": "It rained."}
    assert [r["output_tokens"] for r in read_summary_rows(tmp_path)] == [3, 4]
    assert read_run_config(tmp_path) == {"seed": 0, "metrics": {"rouge": {"_target_": "x"}}}
    assert read_resolved_config(tmp_path)["choices"] == {"system": "lead"}
    assert read_resolved_config(tmp_path / "none", missing_ok=True) == {}
    assert read_references(tmp_path / "none", missing_ok=True) == []


def test_a_failed_run_is_written_from_its_model_and_listed_as_failed(tmp_path):
    write_run(tmp_path / "0")
    write_results(tmp_path / "1", FailedResults(error="ValueError: boom", run=FailedRecord(name="lead-2"),
                                                provenance=FailedProvenance(failed_at="now")))
    written = json.loads((tmp_path / "1" / "results.json").read_text(encoding="utf-8"))
    assert list(written) == ["schema_version", "status", "error", "run", "provenance"]
    assert written["status"] == "failed" and written["schema_version"] == SCHEMA_VERSION
    runset = load_runs([tmp_path])
    assert [r.name for r in runset.runs] == ["lead-1 | default | greedy"]
    assert runset.failed == [{"dir": str(tmp_path / "1"), "name": "lead-2", "error": "ValueError: boom"}]
    with pytest.raises(ResultsError, match=r"1/results.json: the run did not complete \(ValueError: boom\)"):
        read_completed(tmp_path / "1")
    with pytest.raises(TypeError):
        write_results(tmp_path / "2", written)  # a dict is not written: results.json comes from its model


def test_the_structured_fields_and_their_fallback_for_older_files(tmp_path):
    literal = old_literal()  # an older file: no thresholds, no run.max_new_tokens
    write_run(tmp_path / "old", literal)
    newer = {**literal, "run": {**literal["run"], "max_new_tokens": 24},
             "thresholds": {"consistency_embedding": {"scorer": "embedding", "threshold": 0.5, "per_sentence": True}}}
    write_run(tmp_path / "new", newer)
    old, = load_runs([tmp_path / "old"]).runs
    new, = load_runs([tmp_path / "new"]).runs
    assert old.max_new_tokens == 60 and new.max_new_tokens == 24  # recorded wins over the identity's
    assert old.thresholds == {
        "consistency_embedding": {"scorer": "embedding", "threshold": 0.471, "per_sentence": True},
        "consistency_composite": {"scorer": "composite", "threshold": 0.5, "per_sentence": False}}
    assert new.thresholds == newer["thresholds"]
    assert old.cpu == "Test CPU" and old.decoding == {"max_new_tokens": 60, "do_sample": False}
    assert old.calibration == {"name": "shipped", "shipped": True}


def test_a_baseline_round_trips_and_a_rescore_changes_only_the_scores(tmp_path):
    write_run(tmp_path / "run")
    runs = load_runs([tmp_path / "run"]).runs
    path = tmp_path / "baseline.json"
    written = write_baseline(path, runs, str(tmp_path / "run"))
    back, = read_baseline(path)
    assert back.scores == {"a1": {"rouge/r": 0.5}, "a2": {"rouge/r": 0.25}}  # scalars only
    assert back.articles == runs[0].articles and back.summaries == {"a1": "Prices rose.", "a2": "It rained."}
    assert back.fingerprints == runs[0].fingerprints and back.key == runs[0].key
    assert back.interval("rouge/r") == runs[0].interval("rouge/r")
    back.set_scores({"a1": {"rouge/r": 1.0}, "a2": {"rouge/r": 0.0}}, {"rouge": "g" * 64})
    write_rescored(path, [back], {id(back)}, "cand")
    after = json.loads(path.read_text(encoding="utf-8"))
    assert after["runs"][0]["scores"] == {"a1": {"rouge/r": 1.0}, "a2": {"rouge/r": 0.0}}
    assert after["runs"][0]["fingerprints"]["rouge"] == "g" * 64
    assert after["runs"][0]["summaries"] == written["runs"][0]["summaries"]
    assert after["scores_refreshed"]["scorers_of"] == "cand"


def test_the_committed_baseline_is_read():
    runs = read_baseline(BASELINE)
    assert runs and all(r.scores and r.articles and r.fingerprints for r in runs)
    assert all(r.max_new_tokens is None or r.max_new_tokens >= 1 for r in runs)


def test_a_marks_file_round_trips_and_is_found_from_its_directory(tmp_path):
    mark = {"editor": "ann", "run": "lead-1", "run_key": "k", "article_id": "a1", "article_sha256": "h",
            "summary_sha256": "s", "mark": "reject", "note": "wrong", "at": "t",
            "sentences": [{"index": 0, "text": "Prices rose.", "verdict": "unsupported"}]}
    write_marks(tmp_path / MARKS, [mark], "2025-01-01")
    assert marks_path(tmp_path) == tmp_path / MARKS and marks_path(tmp_path / MARKS) == tmp_path / MARKS
    read = read_marks_file(marks_path(tmp_path))
    assert read.marks == [mark] and read.saved_at == "2025-01-01"
    assert read_marks_file(tmp_path / "none.json", missing_ok=True).marks == []


@pytest.mark.parametrize("name, content, message", [
    ("results.json", '{"schema_version": "2.0", "status": "completed", "run": 7}',
     "results.json: field 'run' should be an object, got int 7"),
    ("results.json", '{"schema_version": "1.0", "status": "completed"}',
     "results.json: results schema version '1.0' differs from this harness's '2.0'"),
    ("results.json", "{cut", "results.json: not valid JSON"),
    ("scores.jsonl", '{"article_id": "a1", "article_sha256": "h", "scores": {"rouge/r": "0.5"}}\n',
     "scores.jsonl, line 1: field 'scores.rouge/r' should be a number"),
    ("summaries.jsonl", '{"article_id": "a1"}\n', "summaries.jsonl, line 1: not a summaries row (no text)"),
    ("marks.json", '{"marks": [{"article_id": "a1", "mark": "maybe"}]}',
     "marks.json: mark 1 has mark 'maybe': expected 'accept' or 'reject'"),
    ("marks.json", '{"version": 4, "marks": []}', "marks.json: it is marks version 4, newer than this harness's 3"),
])
def test_a_malformed_file_is_refused_in_one_line_naming_it(tmp_path, name, content, message):
    (tmp_path / name).write_text(content, encoding="utf-8")
    readers = {"results.json": read_results, "scores.jsonl": lambda d: read_scores(d, ["rouge/r"]),
               "summaries.jsonl": read_summaries, "marks.json": lambda d: read_marks_file(d / MARKS)}
    with pytest.raises((ResultsError, MarksError)) as refused:
        readers[name](tmp_path)
    text = str(refused.value)
    assert "\n" not in text and str(tmp_path / name) in text and message in text, text


def test_a_non_finite_score_is_refused_before_a_baseline_is_written(tmp_path):
    run = Run(name="r", key=("i", "d"), setup="s", results=old_literal(), dirs=[str(tmp_path)],
              scores={"a1": {"rouge/r": math.inf}}, articles={"a1": "h"}, summaries={"a1": "x"})
    with pytest.raises(ResultsError, match=r"runs\.0\.scores\.a1\.rouge/r is inf"):
        write_baseline(tmp_path / "b.json", [run], "here")
    assert not (tmp_path / "b.json").exists()
