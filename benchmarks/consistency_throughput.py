"""Throughput of the factual-consistency scorers.

Usage: .venv/bin/python benchmarks/consistency_throughput.py [SUMMEVAL_FILE] [--n N] [--no-judge] [--no-nli]
- NLI pairs/s (batch 16, premise = a 25-word article sentence, hypothesis = a 15-word summary
  sentence) for two model shapes: DeBERTa-v3-xsmall (cross-encoder/nli-deberta-v3-xsmall) and
  RoBERTa-large (roberta-large-mnli). No NLI weights install offline, so the models are randomly
  initialised from those configs: the speed is the architecture's, the outputs mean nothing.
- entity scorer, embedding support and the embedded SmolLM2 judge on the first N SummEval
  summaries (default 32: 2 articles x 16 systems; default file ../shared/data/summeval/summeval.jsonl,
  read at run time): summaries/s from cold caches (one score_many call, as a run or a meta-eval
  scores a file), and for the judge sentences/s with the article's KV cache reused vs every
  sentence alone. The judge and NLI parts take minutes; leave them out for a scorer-speed check.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def nli_pairs_per_second(config, n_pairs: int = 64, batch_size: int = 16) -> float:
    import torch
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_config(config).eval()
    premise_ids = torch.randint(1000, 20000, (batch_size, 40))  # 25 words + 15 words, ~40 word-pieces
    with torch.no_grad():
        model(input_ids=premise_ids[:2])
        start = time.perf_counter()
        for _ in range(n_pairs // batch_size):
            model(input_ids=premise_ids)
    return n_pairs / (time.perf_counter() - start)


def clear_caches(metric) -> None:
    """Empty every per-text cache the scorer keeps, so each timing starts cold."""
    encoder = getattr(metric, "encoder", None)
    if encoder is not None:
        encoder._cache.clear()
    for module_name in ("harness.metrics.consistency.embedding_support", "harness.text.entities"):
        module = sys.modules.get(module_name)
        for name in ("article_sentences", "article_index", "mentions"):
            cached = getattr(module, name, None)
            if hasattr(cached, "cache_clear"):
                cached.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "data" / "summeval" / "summeval.jsonl"))
    parser.add_argument("--n", type=int, default=32, help="the first N summaries of the file")
    parser.add_argument("--no-judge", action="store_true")
    parser.add_argument("--no-nli", action="store_true")
    options = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    if not options.no_nli:
        from transformers import DebertaV2Config, RobertaConfig

        shapes = {"deberta-v3-xsmall shape (22M)": DebertaV2Config(hidden_size=384, num_hidden_layers=12,
                                                                   num_attention_heads=6, intermediate_size=1536,
                                                                   vocab_size=128100, num_labels=3),
                  "roberta-large shape (355M)": RobertaConfig(hidden_size=1024, num_hidden_layers=24,
                                                              num_attention_heads=16, intermediate_size=4096,
                                                              vocab_size=50265, num_labels=3)}
        for name, config in shapes.items():
            print(f"NLI {name}: {nli_pairs_per_second(config):.1f} pairs/s")

    from harness.config import load_metric
    from harness.data.article import Article
    from harness.meta_eval.consistency_data import read_consistency

    _, examples = read_consistency(options.data, "summeval")
    examples = examples[:options.n]
    pairs = [(e.summary, Article(e.doc_id, "", (e.article,), ("(unused)",))) for e in examples]
    print(f"{len(pairs)} summaries of {len({e.doc_id for e in examples})} articles")
    names = ["consistency_entity", "consistency_embedding"] + ([] if options.no_judge else ["consistency_judge"])
    for name in names:
        t = time.perf_counter()
        metric = load_metric(name)
        loaded = time.perf_counter() - t
        clear_caches(metric)
        t = time.perf_counter()
        rows = metric.score_many(pairs)
        seconds = time.perf_counter() - t
        n_sentences = sum(len(r[f"sentences@{metric.key}"]) for r in rows)
        print(f"{name}: load {loaded:.1f} s; {len(pairs) / seconds:.2f} summaries/s, "
              f"{n_sentences / seconds:.2f} sentences/s ({seconds:.1f} s for {len(pairs)} summaries)")
        if name == "consistency_judge":
            items = [([s], e.article) for r, e in zip(rows[:4], examples[:4], strict=True)
                     for s in (x["sentence"] for x in r["sentences@judge"])]
            t = time.perf_counter()
            for item in items:  # one sentence per call: no prefix shared with any other
                metric.judge([item])
            alone = time.perf_counter() - t
            print(f"consistency_judge without prefix reuse: {len(items) / alone:.2f} sentences/s "
                  f"({len(items)} sentences)")


if __name__ == "__main__":
    main()
