"""Batched generation on a GPU: the harness's own `CausalLM` path at batch sizes 1 to 256, with a
model of the embedded SmolLM2-135M's shape.

Usage: python benchmarks/gpu_batching.py --shape-of DIR [--sizes 1,8,32,64,128,256] [--articles 256]
    [--batch1-articles 16] [--dtype auto] [--out FILE.json]

``DIR`` holds the embedded model's ``config.json`` and tokenizer files (the dequantized copy under
``runs/.cache/dequantized/<hash>/`` has them; the weights are not needed). The model is built from
that config with random weights, saved with ``save_pretrained`` and loaded back through
``CausalLM`` (``from_pretrained``, device ``auto``, dtype ``auto``), so the figures are the
harness's generation path on the real architecture (30 layers, 576 wide, GQA 9/3 heads, vocab
49,152). Random weights rarely emit the end-of-turn token, so nearly every row decodes all
``max_new_tokens``: figures are per generated token and per summary of that length, the heaviest
case. (The real weights, 269 MB in bfloat16, are larger than what travels to a lent GPU machine.)

Articles: the seed article (``references/seed.jsonl``) cut to N lengths spread evenly from 150 words
to the whole article (725 words), so prompts span about 250 to 1,100 tokens, like CNN/DM ones.
Prompt: ``conf/prompt/bullets.yaml``; decoding: greedy, 128 new tokens, repetition penalty 1.1
(``conf/decoding/greedy.yaml``). Batches are cut as a run cuts them (`harness.generation.batch_order`).
Batch 1 runs on the first ``--batch1-articles`` of that order only (it is slow); summaries/s is
comparable across sizes. One untimed pass at the largest size first (see the warm-up below).
Prints per size: summaries/s, prefill and decode time, decode tokens/s,
peak GPU memory, and decode against the memory-bandwidth bound (weights + KV cache read per step,
bandwidth measured by a device-to-device copy).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def articles_of_seed(n: int):
    from harness.data.article import Article

    seed = json.loads((ROOT / "references/seed.jsonl").read_text().splitlines()[0])
    words = " ".join(seed["paragraphs"]).split()
    out = []
    for i in range(n):
        length = 150 + (len(words) - 150) * i // max(n - 1, 1)
        out.append(Article(id=f"seed-{i:03d}", title=seed["title"], paragraphs=(" ".join(words[:length]),),
                           bullets=tuple(seed["bullets"])))
    return out


def random_model_like(shape_dir: Path, out_dir: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(shape_dir)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(shape_dir).save_pretrained(out_dir)


def device_bandwidth_gb_s() -> float:
    import torch

    src = torch.ones(2**28, device="cuda")  # 1 GiB
    dst = torch.empty_like(src)
    best = float("inf")
    for _ in range(10):
        torch.cuda.synchronize()
        start = time.perf_counter()
        dst.copy_(src)
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * src.numel() * src.element_size() / best / 1e9


def run_size(system, articles, order, size, prompt, decoding):
    """`batching.run_batches` (the CPU benchmark's loop: prefill until the first token, decode the
    rest), with the GPU's peak memory."""
    import torch
    from batching import run_batches  # benchmarks/, beside this script

    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    _, stats = run_batches(system, articles, order, size, prompt, decoding)
    return {**stats, "articles": len(order), "summaries_per_s": stats["summaries_per_min"] / 60,
            "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20}


@contextmanager
def no_sync_progress():
    """Replace `language_model._progress` (which counts each step's live rows on the host, a GPU sync
    per step) with a criterion that touches nothing on the host."""
    import torch
    from transformers import StoppingCriteria

    from harness.systems import language_model

    class Silent(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

        def flush(self):
            pass

    original = language_model._progress
    language_model._progress = lambda pad, beams: Silent()
    try:
        yield
    finally:
        language_model._progress = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape-of", type=Path, required=True)
    parser.add_argument("--sizes", default="1,8,32,64,128,256")
    parser.add_argument("--articles", type=int, default=256)
    parser.add_argument("--batch1-articles", type=int, default=16)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--no-sync-sizes", default="",
                        help="sizes to run again with the progress hook replaced by one that never reads the GPU "
                             "(what the harness's per-step progress report costs)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import torch
    from omegaconf import OmegaConf

    from harness.generation import batch_order
    from harness.systems.decoding import Decoding
    from harness.systems.language_model import CausalLM
    from harness.systems.prompt import PromptTemplate

    if not torch.cuda.is_available():
        sys.exit("no CUDA GPU visible to torch: this benchmark is for a GPU machine "
                 "(benchmarks/batching.py measures the CPU)")
    prompt = PromptTemplate(**{k: v for k, v in OmegaConf.load(ROOT / "conf/prompt/bullets.yaml").items()
                               if k != "_target_"})
    greedy = {k: v for k, v in OmegaConf.to_container(OmegaConf.load(ROOT / "conf/decoding/greedy.yaml")).items()
              if k not in ("_target_", "seed")}
    decoding = Decoding(**greedy, seed=0)
    articles = articles_of_seed(args.articles)
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        random_model_like(args.shape_of, Path(tmp))
        built = time.perf_counter() - began
        system = CausalLM(model=tmp, name="smollm2-shape-random", dtype=args.dtype, device="auto")
        began = time.perf_counter()
        model, tokenizer = system.load()
        loaded = time.perf_counter() - began
        order = batch_order(articles, prompt)
        lengths = [len(system._encode(tokenizer, prompt.render(title=a.title, article=a.body))) for a in articles]
        props = torch.cuda.get_device_properties(0)
        print(f"{props.name}, {props.total_memory / 2**30:.0f} GiB; torch {torch.__version__}; device "
              f"{system.device}, dtype {system.dtype}; model built in {built:.1f} s, loaded in {loaded:.1f} s; "
              f"{len(articles)} articles, prompt tokens mean {sum(lengths) / len(lengths):.0f} "
              f"(min {min(lengths)}, max {max(lengths)}); {decoding.max_new_tokens} new tokens at most", flush=True)
        # Warm-up at the largest batch: the first generate() at a new size grows the CUDA caching
        # allocator (cudaMalloc as the KV cache grows), which made a first pass of batch 256 take 10.8 s
        # and the next 6.1 s on an H100. After this, every size below reuses the allocator's blocks.
        sizes = [int(s) for s in args.sizes.split(",")]
        warm = max(sizes)
        system.summarize_batch([articles[i] for i in order[:warm]], prompt, decoding)

        bandwidth = device_bandwidth_gb_s()
        config = model.config
        weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
        element = next(model.parameters()).element_size()
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        kv_per_token = 2 * config.num_hidden_layers * config.num_key_value_heads * head_dim * element
        print(f"device copy bandwidth {bandwidth:.0f} GB/s; weights {weight_bytes / 1e6:.0f} MB; "
              f"KV cache {kv_per_token / 1e3:.1f} kB per token", flush=True)
        context = sum(lengths) / len(lengths) + decoding.max_new_tokens / 2
        results = {"device": props.name, "torch": torch.__version__, "dtype": system.dtype,
                   "bandwidth_gb_s": bandwidth, "weight_bytes": weight_bytes, "kv_bytes_per_token": kv_per_token,
                   "prompt_tokens_mean": sum(lengths) / len(lengths), "sizes": {}}
        for size in sizes:
            subset = order[:args.batch1_articles] if size == 1 else order
            try:
                stats = run_size(system, articles, subset, size, prompt, decoding)
            except torch.cuda.OutOfMemoryError:
                print(f"batch {size:>3}: out of GPU memory", flush=True)
                torch.cuda.empty_cache()
                continue
            bound = size / (weight_bytes + size * kv_per_token * context) * bandwidth * 1e9
            stats["decode_bound_tok_s"] = bound
            results["sizes"][size] = stats
            print(f"batch {size:>3}: {stats['summaries_per_s']:6.2f} summaries/s over {stats['articles']} "
                  f"({stats['seconds']:.1f} s: prefill {stats['prefill_s']:.1f} s, decode {stats['decode_s']:.1f} s); "
                  f"{stats['output_tokens'] / stats['articles']:.0f} new tokens/summary; decode "
                  f"{stats['decode_tok_s']:.0f} tok/s, bound {bound:.0f}, ratio {stats['decode_tok_s'] / bound:.3f}; "
                  f"peak {stats['peak_gpu_mib']:.0f} MiB", flush=True)
        for size in [int(s) for s in args.no_sync_sizes.split(",") if s]:
            subset = order[:args.batch1_articles] if size == 1 else order
            with no_sync_progress():
                stats = run_size(system, articles, subset, size, prompt, decoding)
            results.setdefault("no_sync", {})[size] = stats
            print(f"batch {size:>3} without the progress hook: {stats['summaries_per_s']:6.2f} summaries/s "
                  f"({stats['seconds']:.1f} s; no prefill/decode split without the hook)", flush=True)
        base = results["sizes"].get(1)
        if base:
            for size, stats in results["sizes"].items():
                print(f"batch {size} / batch 1: {stats['summaries_per_s'] / base['summaries_per_s']:.1f}x")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
