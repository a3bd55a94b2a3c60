"""Scoring throughput of every default metric (conf/config.yaml) on 100 real summaries.

Usage: .venv/bin/python benchmarks/scoring.py [REALSUMM_FILE]
The summaries are REALSumm's first 100 (4 CNN/DM articles x 25 systems; default
../shared/data/realsumm/realsumm_scu.jsonl) with their articles, and their content units as the
bullets. Each metric is loaded first (time printed apart), then scores the 100 summaries once
(cold: nothing cached but the loaded models).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    import json

    from omegaconf import OmegaConf

    from harness.config import CONF_DIR, load_metric
    from harness.data.article import Article

    default = ROOT.parent / "shared" / "data" / "realsumm" / "realsumm_scu.jsonl"
    path = Path(sys.argv[1] if len(sys.argv) > 1 else default)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:100]]
    pairs = [(r["summary"], Article(r["doc_id"], "", (r["article"],), tuple(r["scus"]))) for r in rows]
    names = next(d["metrics"] for d in OmegaConf.to_container(OmegaConf.load(CONF_DIR / "config.yaml").defaults)
                 if isinstance(d, dict) and "metrics" in d)
    print(f"cores: {os.cpu_count()}; {len(pairs)} summaries of {len({r['doc_id'] for r in rows})} articles")
    for name in names:
        start = time.perf_counter()
        metric = load_metric(name)
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        metric.score_many(pairs)
        seconds = time.perf_counter() - start
        print(f"{name:24s} load {loaded:5.1f} s   {len(pairs) / seconds:8.1f} summaries/s ({seconds:.2f} s)")


if __name__ == "__main__":
    main()
