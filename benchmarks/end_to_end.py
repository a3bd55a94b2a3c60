"""The real job's scoring phase: N articles, one summary per system per article, scored with the
default metrics (conf/config.yaml) through the run's own entry point (`harness.metrics.scoring.score`).

Usage: .venv/bin/python benchmarks/end_to_end.py [XSUMFAITH_FILE] [--n 200] [--device auto]
    [--systems lead3 bullets]

Data: the first N articles of ../shared/data/summac/xsumfaith_test.jsonl (read at run time, never
copied) that have an XSum reference ("Gold", 250 of its 481 BBC articles), read with the harness's
own ``xsum`` format (the article as paragraphs, the reference as its one bullet), so ROUGE, coverage
and the bullet checks have a reference. XSumFaith's four 2019 systems cannot give N=200: no two of
them share more than 133 articles (70 with a Gold). So the summaries are written by two systems of
the default sweep that need no weights, through `harness.generation.generate` as a run writes them:
``lead3`` (the first three sentences: extractive, as long as a short bullet list) and ``bullets``
(the reference itself: abstractive, human-written, one sentence). They write distinct texts, so the
second system's summaries are not cache hits of the first's (``lead3`` with k=2 would be: its
sentences are all the first three's); lead-3's sentences are the article's own, which an abstractive
system's are not, so the article-side caches (sentence splits, parses, embeddings) help a run a
little more here than with a model's summaries.

Timing: models are loaded first (each metric's load time printed apart: the first metric that uses
MiniLM pays for it), spaCy's pipelines are warmed, and every in-process cache is emptied before each
timing (`claim_scorers.clear_caches`, plus the lexical matcher's tokens); every timing gets a new,
empty score cache and embedding store, as a first run does. Each default metric alone is timed as
`score({name: metric}, ...)`; then the whole phase, all default metrics in one `score` call, as
`harness run` spends it (metrics share what they compute within a process, e.g. the summary
sentences' embeddings between coverage_semantic and consistency_embedding, so the phase can take
less than the sum). Beside each scorer, its bound where one is meaningful: the model work alone on
the texts the scorer hands it (MiniLM sentence embeddings, MiniLM token states, spaCy's parse, spaCy's
NER); "—" for the scorers that only count words.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from claim_scorers import clear_caches  # noqa: E402  (benchmarks/ is not a package)

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "summac" / "xsumfaith_test.jsonl"
REFERENCE_SYSTEM = "Gold"  # XSumFaith's name for the XSum reference summary


def reference_articles(path: str | Path, n: int):
    """The first ``n`` articles of an XSumFaith file that have a reference summary, in file order,
    as the harness's ``xsum`` format reads them: one Article per BBC id, the reference its bullet."""
    from harness.data.formats import row_to_article

    documents, gold = {}, {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        key = str(row["bbcid"])
        documents.setdefault(key, row["document"])
        if row["model_name"] == REFERENCE_SYSTEM:
            gold.setdefault(key, row["claim"])
    chosen = [key for key in documents if key in gold][:n]
    if len(chosen) < n:
        raise SystemExit(f"{path}: only {len(chosen)} articles have a {REFERENCE_SYSTEM!r} reference; use --n "
                         f"{len(chosen)} or fewer")
    return [row_to_article({"id": key, "document": documents[key], "summary": gold[key]}, "xsum", file=str(path),
                           index=i) for i, key in enumerate(chosen)]


def compose(system: str, device: str):
    """The run's composed config for ``system``, every metric model's ``device`` set to ``device``."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import DictConfig, ListConfig

    from harness.config import CONF_DIR, register_resolvers

    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=[f"system={system}", "progress=false"])

    def set_device(node):
        if isinstance(node, DictConfig):
            for key in node:
                if key == "device":
                    node[key] = device
                else:
                    set_device(node[key])
        elif isinstance(node, ListConfig):
            for item in node:
                set_device(item)

    set_device(cfg.metrics)
    return cfg


def write_summaries(systems: list[str], articles, cache_dir: Path, device: str) -> list[dict]:
    """One summary per system per article, written as a run writes them (`harness.generation.generate`)."""
    from harness.config import build
    from harness.generation import generate
    from harness.systems.generation_cache import GenerationCache

    rows = []
    for name in systems:
        cfg = compose(name, device)
        system, prompt, decoding = build(cfg, "system"), build(cfg, "prompt"), build(cfg, "decoding")
        summaries, _ = generate(system, system.identity(prompt, decoding), articles, prompt, decoding,
                                GenerationCache(cache_dir), progress=False)
        rows.extend(summaries)
    return rows


def clear_all(metrics: dict) -> None:
    """Every in-process cache the default metrics fill: parses, splits, entities, embeddings, tokens."""
    for metric in metrics.values():
        clear_caches(metric)
        matcher = getattr(metric, "matcher", None)
        clear_caches(matcher)  # coverage_semantic's encoder sits on its matcher
        tokenize = getattr(matcher, "_tokenize", None)
        if hasattr(tokenize, "cache_clear"):
            tokenize.cache_clear()


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def header(device: str) -> str:
    import spacy
    import torch
    import transformers

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown") \
        if Path("/proc/cpuinfo").is_file() else platform.processor() or "unknown"
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else "none used"
    try:  # numpy's BLAS threads share the cores with torch's (see docs/performance.md)
        import numpy  # noqa: F401  (loads the BLAS threadpoolctl reports)
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info()
                         if i.get("user_api") == "blas") or "unknown"
    except ImportError:
        blas = f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}"
    return (f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; CPU {cpu}, {os.cpu_count()} cores; GPU {gpu}; "
            f"device {device}; torch {torch.__version__} ({torch.get_num_threads()} threads), transformers "
            f"{transformers.__version__}, spaCy {spacy.__version__}; BLAS threads: {blas}; "
            f"Python {platform.python_version()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--n", type=int, default=200, help="articles (one summary per system each)")
    parser.add_argument("--systems", nargs="+", default=["lead3", "bullets"], help="conf/system names")
    parser.add_argument("--device", default="auto", help="every metric model's device: auto, cpu, cuda, cuda:N")
    options = parser.parse_args()

    from harness.config import build
    from harness.metrics.consistency.base import article_text
    from harness.metrics.score_cache import ScoreCache
    from harness.metrics.scoring import score
    from harness.models.device import resolve_device
    from harness.text.entities import _entities
    from harness.text.parse import parse
    from harness.text.sentences import split_sentences

    device = resolve_device(options.device, "--device")
    print(header(device))
    work = Path(tempfile.mkdtemp(prefix="end_to_end-"))
    articles = reference_articles(options.data, options.n)
    start = time.perf_counter()
    summaries = write_summaries(options.systems, articles, work / "generation", options.device)
    written = time.perf_counter() - start
    n = len(summaries)
    by_id = {a.id: a for a in articles}
    print(f"{len(articles)} articles x {len(options.systems)} systems ({', '.join(options.systems)}) = {n} summaries "
          f"(written in {written:.1f} s, not part of scoring)")

    cfg = compose(options.systems[0], options.device)
    metrics, loads = {}, {}
    for name in cfg.metrics:  # the default list, as the run builds it
        start = time.perf_counter()
        metrics[name] = build(cfg.metrics, name)
        loads[name] = time.perf_counter() - start
    warm = "Warm up the pipelines, Mr Smith said on Monday."
    warmup = time.perf_counter()
    split_sentences(warm), parse(warm), _entities(warm)
    for metric in metrics.values():
        encoder = getattr(metric, "encoder", None) or getattr(getattr(metric, "matcher", None), "encoder", None)
        if encoder is not None:
            encoder.encode([warm]), encoder.token_embeddings(warm)
    print(f"models loaded in {sum(loads.values()):.1f} s, spaCy and encoders warmed in "
          f"{time.perf_counter() - warmup:.1f} s (neither is timed below)")

    # The texts each model is handed (split before timing: the splits are the scorers' own work).
    article_texts = list(dict.fromkeys(article_text(a) for a in articles))
    summary_texts = [row["text"] for row in summaries]
    summary_sentences = [s for text in summary_texts for s in split_sentences(text)]
    article_sentences = [s for text in article_texts for s in split_sentences(text)]
    bullets = [b for row in summaries for b in by_id[row["article_id"]].bullets]
    semantic_texts = list(dict.fromkeys([*bullets, *summary_sentences, *summary_texts]))
    embedding_texts = list(dict.fromkeys([*article_sentences, *summary_sentences]))
    union_texts = list(dict.fromkeys([*semantic_texts, *embedding_texts]))
    token_texts = [t for row in summaries for t in (row["text"], "\n".join(by_id[row["article_id"]].bullets))]
    spacy_texts = [*article_texts, *summary_texts]
    encoder = metrics["consistency_embedding"].encoder if "consistency_embedding" in metrics else None

    bounds: dict[str, tuple[float, str]] = {}

    def bound(key: str, what: str, fn) -> float:
        clear_all(metrics)
        seconds = _timed(fn)
        bounds[key] = (seconds, f"{what}: {seconds:.1f} s ({n / seconds:.1f}/s)")
        return seconds

    parse_s = bound("parse", f"spaCy parse of the {len(article_texts)} articles and {n} summaries alone",
                    lambda: [parse(t) for t in spacy_texts])
    ner_s = bound("ner", "spaCy NER of the same texts alone", lambda: [_entities(t) for t in spacy_texts])
    total_bound = parse_s + ner_s
    if encoder is not None:
        bound("semantic", f"MiniLM on its {len(semantic_texts):,} distinct bullets, summary sentences and summaries",
              lambda: encoder.encode(semantic_texts))
        bound("embedding", f"MiniLM on its {len(embedding_texts):,} distinct article and summary sentences",
              lambda: encoder.encode(embedding_texts))
        total_bound += bound("union", f"MiniLM on the {len(union_texts):,} distinct sentences both hand it",
                             lambda: encoder.encode(union_texts))
        total_bound += bound("tokens", f"MiniLM's token states of the {n} summaries and their references",
                             lambda: [encoder.token_embeddings(t) for t in token_texts])
    print("bounds, each from cold caches:")
    for _, line in bounds.values():
        print(f"  {line}")
    beside = {"coverage_semantic": "semantic", "bertscore": "tokens", "consistency_embedding": "embedding",
              "consistency_entity": "ner", "consistency_claims": "parse"}

    def run_phase(chosen: dict) -> float:
        clear_all(metrics)
        cache = ScoreCache(Path(tempfile.mkdtemp(dir=work)) / "scores")  # empty, as a first run's
        return _timed(lambda: score(chosen, summaries, articles, cache, progress=False))

    print()
    print("| scorer | load (s) | seconds | summaries/s | its bound (the model work alone) |")
    print("|---|---|---|---|---|")
    total = 0.0
    for name, metric in metrics.items():
        seconds = run_phase({name: metric})
        total += seconds
        extra = " (+ MiniLM per word of each article's vocabulary)" if name == "consistency_claims" else ""
        shown = bounds[beside[name]][1] + extra if beside.get(name) in bounds else "—"
        print(f"| {name} | {loads[name]:.1f} | {seconds:.1f} | {n / seconds:.1f} | {shown} |", flush=True)
    print(f"| sum of the scorers alone | {sum(loads.values()):.1f} | {total:.1f} | {n / total:.1f} | "
          f"{total_bound:.1f} s ({n / total_bound:.1f}/s): parse + NER + MiniLM on the union + token states |")
    phase = run_phase(metrics)
    print(f"| **whole scoring phase** (one `score` call, as `harness run`) | — | **{phase:.1f}** | **{n / phase:.1f}** "
          f"| the same {total_bound:.1f} s |")
    print(f"\nwhole phase / sum of the scorers alone: {phase / total:.2f}; whole phase / its bound: "
          f"{phase / total_bound:.2f}")


if __name__ == "__main__":
    main()
