"""A run killed with SIGKILL mid-generation resumes by running the same command: the summaries
finished before the kill come from the cache, and the final scores equal an uninterrupted run's;
batched (fixed batches, or groups whose rows leave as they finish), the resumed summaries are
byte-identical to an uninterrupted batched run's."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.io import read_jsonl

from .conftest import ROOT, scaled_timeout
from .helpers.interrupt import SLOW


def _command(model_dir, data, run_dir):
    return ["run", "system=causal_lm", f"system.model={model_dir}", "system.name=tiny", "decoding.max_new_tokens=6",
            f"data.path={data}", "metrics=[rouge,coverage_lexical]", f"hydra.run.dir={run_dir}", "progress=false"]


def _six_articles(path, seed_article, *, lengths=False, n=6):
    """Six (``n``) articles of the seed's paragraphs, rotated; with ``lengths``, short heads of the
    body of different lengths (so a batch pads)."""
    paragraphs, words = list(seed_article.paragraphs), seed_article.body.split()
    path.write_text("".join(json.dumps({
        "id": f"a{i}", "title": f"T{i}",
        "paragraphs": [" ".join(words[:2 + 3 * (i % 8)])] if lengths else paragraphs[i:] + paragraphs[:i],
        "bullets": list(seed_article.bullets)}) + "\n" for i in range(n)))
    return path


def _kill_after_two_summaries(args, env, cache: Path, linger: float = 0.0) -> Path:
    """Start a slowed run and SIGKILL it once two summaries are cached (``linger`` seconds later);
    the cache's generations directory."""
    process = subprocess.Popen([sys.executable, "-c", SLOW, *args], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    generations = cache / "generations"
    deadline = time.monotonic() + 240
    while len(list(generations.glob("*/*.json"))) < 2 and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    time.sleep(linger)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return generations


def test_sigkill_mid_generation_then_rerun_reuses_finished_summaries(tmp_path, tiny_causal_dir, seed_article):
    data = _six_articles(tmp_path / "six.jsonl", seed_article)
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    run_dir = tmp_path / "run"
    args = _command(tiny_causal_dir, data, run_dir)
    generations = _kill_after_two_summaries(args, env, tmp_path / "cache")
    finished = len(list(generations.glob("*/*.json")))
    assert 2 <= finished < 6
    assert not (run_dir / "results.json").exists()  # killed: no finished-run marker
    for entry in generations.glob("*/*.json"):  # nothing half-written
        json.loads(entry.read_text())

    rerun = subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=scaled_timeout(600))
    assert rerun.returncode == 0, rerun.stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["generation"]["cached"] == finished and results["generation"]["generated"] == 6 - finished

    clean_env = {**env, "HARNESS_CACHE_DIR": str(tmp_path / "clean-cache")}
    clean = subprocess.run([sys.executable, "-m", "harness", *_command(tiny_causal_dir, data, tmp_path / "clean")],
                           cwd=ROOT, env=clean_env, capture_output=True, text=True, timeout=scaled_timeout(600))
    assert clean.returncode == 0, clean.stderr
    assert read_jsonl(run_dir / "scores.jsonl") == read_jsonl(tmp_path / "clean" / "scores.jsonl")
    assert results["metrics"] == json.loads((tmp_path / "clean" / "results.json").read_text())["metrics"]

    again = subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=scaled_timeout(600))
    assert again.returncode != 0 and "never overwritten" in again.stderr  # a finished run stays as it is


# Fixed batches of 2 (beam search never refills), and greedy groups: 18 articles at batch size 2 are
# two groups of 9 (harness.generation.REFILL_BATCHES = 8 batches at most), each written when it ends.
BATCHED = {"fixed batches": (6, ["decoding=beam", "decoding.num_beams=2"]),
           "refilled groups": (18, [])}


@pytest.mark.parametrize("batching", list(BATCHED))
def test_sigkill_mid_batch_then_resume_gives_the_uninterrupted_batched_summaries(tmp_path, tiny_causal_dir,
                                                                                   seed_article, batching):
    n, extra = BATCHED[batching]
    data = _six_articles(tmp_path / "six.jsonl", seed_article, lengths=True, n=n)
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    run_dir = tmp_path / "run"
    args = [*_command(tiny_causal_dir, data, run_dir), "system.batch_size=2", "system.dtype=bfloat16", *extra]
    generations = _kill_after_two_summaries(args, env, tmp_path / "cache", linger=0.2)  # into the next batch
    entries = sorted(generations.glob("*/*.json"))
    assert 2 <= len(entries) < n and not (run_dir / "results.json").exists()
    entries[0].unlink()  # as if killed between a batch's two writes: that batch is missing one summary
    finished = len(entries) - 1

    rerun = subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=scaled_timeout(600))
    assert rerun.returncode == 0, rerun.stderr
    assert "not deterministic" not in rerun.stderr  # the batch's cached member came out identical
    results = json.loads((run_dir / "results.json").read_text())
    assert results["generation"]["batch_size"] == 2
    assert (results["generation"]["cached"], results["generation"]["generated"]) == (finished, n - finished)

    clean_env = {**env, "HARNESS_CACHE_DIR": str(tmp_path / "clean-cache")}
    clean_args = [*_command(tiny_causal_dir, data, tmp_path / "clean"), "system.batch_size=2", "system.dtype=bfloat16",
                  *extra]
    clean = subprocess.run([sys.executable, "-m", "harness", *clean_args], cwd=ROOT, env=clean_env,
                           capture_output=True, text=True, timeout=scaled_timeout(600))
    assert clean.returncode == 0, clean.stderr

    def made(directory):
        return [{k: row[k] for k in ("article_id", "text", "input_tokens", "output_tokens", "cache_key")}
                for row in read_jsonl(directory / "summaries.jsonl")]

    assert made(run_dir) == made(tmp_path / "clean")
    assert len({row["input_tokens"] for row in made(run_dir)}) > 1  # batches were padded
    assert read_jsonl(run_dir / "scores.jsonl") == read_jsonl(tmp_path / "clean" / "scores.jsonl")
