"""Throughput of the trained checker (``consistency_checker``: checker:minilm_factcheck) when each
article has one summary, on XSumFaith's BBC articles, as benchmarks/claim_scorers.py times the
other scorers (same data, same first-summary rule, model loaded and sentence splits emptied
before timing, one ``score_many`` call).

Usage: .venv/bin/python benchmarks/trained_checker.py [XSUMFAITH_FILE] [--n N] [--threads T]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    from claim_scorers import first_summaries, one_summary_options

    options = one_summary_options(parser)
    import torch

    if options.threads:
        torch.set_num_threads(options.threads)
    from harness.config import load_metric
    from harness.metrics.consistency.checker_support import document_sentences
    from harness.text.sentences import split_sentences

    pairs = [pair for pair, _ in first_summaries(options.data, options.n)]
    sentences = sum(len(split_sentences(s)) for s, _ in pairs)
    metric = load_metric("consistency_checker")
    metric.score_many(pairs[:2])  # warm up
    document_sentences.cache_clear()
    metric._chunks.clear()
    t0 = time.perf_counter()
    metric.score_many(pairs)
    seconds = time.perf_counter() - t0
    print(f"cores: {os.cpu_count()}, torch threads: {torch.get_num_threads()}; {len(pairs)} articles, one summary "
          f"each ({sentences} summary sentences)")
    print(f"consistency_checker: {seconds:.1f} s, {len(pairs) / seconds:.1f} summaries/s")


if __name__ == "__main__":
    main()
