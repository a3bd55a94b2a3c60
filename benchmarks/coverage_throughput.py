"""Per-bullet coverage throughput (summaries/s) for 100 summaries, by matcher.

Usage: .venv/bin/python benchmarks/coverage_throughput.py [REALSUMM_FILE]
The 100 summaries are the first 4 articles x 25 systems of REALSumm (default
../shared/data/realsumm/realsumm_scu.jsonl), each scored against its article's content units as
bullets (about 10 per article). "cold" is the first pass with an empty embedding cache (the
encoder's load is timed apart); "warm" is a second pass over the same summaries, every embedding
already cached per text (what scoring another system's summaries of the same articles costs).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.data.article import Article  # noqa: E402
from harness.meta_eval.realsumm import read_realsumm  # noqa: E402
from harness.metrics.bertscore import BertScore  # noqa: E402
from harness.metrics.coverage.bullet_coverage import BulletCoverage  # noqa: E402
from harness.metrics.coverage.lexical import LexicalMatcher  # noqa: E402
from harness.metrics.coverage.semantic import SemanticMatcher  # noqa: E402
from harness.text.sentences import split_sentences  # noqa: E402


def main() -> None:
    default = ROOT.parent / "shared" / "data" / "realsumm" / "realsumm_scu.jsonl"
    path = sys.argv[1] if len(sys.argv) > 1 else str(default)
    rows = read_realsumm(path)[:100]
    pairs = [(r.summary, Article(r.doc_id, "", ("(not used)",), r.units)) for r in rows]
    split_sentences("Warm up the sentence splitter.")
    print(f"cores: {os.cpu_count()}; summaries: {len(pairs)}; articles: {len({r.doc_id for r in rows})}; "
          f"bullets per summary: {sum(len(r.units) for r in rows) / len(rows):.1f}")
    t = time.perf_counter()
    semantic = SemanticMatcher()
    print(f"encoder load: {time.perf_counter() - t:.2f} s")
    for name, metric in [("lexical", BulletCoverage(LexicalMatcher(), 0.65)),
                         ("semantic", BulletCoverage(semantic, 0.54)), ("bertscore", BertScore())]:
        for phase in ("cold", "warm"):
            t = time.perf_counter()
            metric.score_many(pairs)
            seconds = time.perf_counter() - t
            print(f"{name:9s} {phase}: {len(pairs) / seconds:8.1f} summaries/s ({seconds:.2f} s)")


if __name__ == "__main__":
    main()
