"""A run killed with SIGKILL mid-generation resumes by running the same command: the summaries
finished before the kill come from the cache, and the final scores equal an uninterrupted run's."""

import json
import os
import signal
import subprocess
import sys
import time

from harness.io import read_jsonl

from .conftest import ROOT

# The same `harness run`, with each generation slowed down so the kill lands mid-generation.
SLOW = ("import sys, time\n"
        "import harness.systems.language_model as lm\n"
        "original = lm.CausalLM.summarize\n"
        "def slow(self, *args, **kwargs):\n"
        "    time.sleep(0.7)\n"
        "    return original(self, *args, **kwargs)\n"
        "lm.CausalLM.summarize = slow\n"
        "from harness.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n")


def _command(model_dir, data, run_dir):
    return ["run", "system=causal_lm", f"system.model={model_dir}", "system.name=tiny", "decoding.max_new_tokens=6",
            f"data.path={data}", "metrics=[rouge,coverage_lexical]", f"hydra.run.dir={run_dir}", "progress=false"]


def test_sigkill_mid_generation_then_rerun_reuses_finished_summaries(tmp_path, tiny_causal_dir, seed_article):
    data = tmp_path / "six.jsonl"
    paragraphs = list(seed_article.paragraphs)
    data.write_text("".join(json.dumps({"id": f"a{i}", "title": f"T{i}", "paragraphs": paragraphs[i:] + paragraphs[:i],
                                        "bullets": list(seed_article.bullets)}) + "\n" for i in range(6)))
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    run_dir = tmp_path / "run"
    args = _command(tiny_causal_dir, data, run_dir)
    process = subprocess.Popen([sys.executable, "-c", SLOW, *args], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    generations = tmp_path / "cache" / "generations"
    deadline = time.monotonic() + 240
    while len(list(generations.glob("*/*.json"))) < 2 and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = len(list(generations.glob("*/*.json")))
    assert 2 <= finished < 6
    assert not (run_dir / "results.json").exists()  # killed: no finished-run marker
    for entry in generations.glob("*/*.json"):  # nothing half-written
        json.loads(entry.read_text())

    rerun = subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["generation"]["cached"] == finished and results["generation"]["generated"] == 6 - finished

    clean_env = {**env, "HARNESS_CACHE_DIR": str(tmp_path / "clean-cache")}
    clean = subprocess.run([sys.executable, "-m", "harness", *_command(tiny_causal_dir, data, tmp_path / "clean")],
                           cwd=ROOT, env=clean_env, capture_output=True, text=True, timeout=600)
    assert clean.returncode == 0, clean.stderr
    assert read_jsonl(run_dir / "scores.jsonl") == read_jsonl(tmp_path / "clean" / "scores.jsonl")
    assert results["metrics"] == json.loads((tmp_path / "clean" / "results.json").read_text())["metrics"]

    again = subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode != 0 and "never overwritten" in again.stderr  # a finished run stays as it is
