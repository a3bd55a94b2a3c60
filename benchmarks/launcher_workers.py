"""Wall time of an 8-job sweep with 1 and 2 joblib workers, and the ratio.

Usage: .venv/bin/python benchmarks/launcher_workers.py   (needs pip install -e '.[joblib]')
The 8 jobs are lead-1 ... lead-8 on the embedded reference article, scored by the default
metrics; each sweep starts with an empty generation and score cache. With the basic launcher
(one process) the metric models load once; each joblib worker loads its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sweep(directory: Path, *launcher: str) -> float:
    env = {**os.environ, "HARNESS_CACHE_DIR": str(directory / "cache")}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness", "run", "-m", *launcher, "system=lead3",
                    "system.k=1,2,3,4,5,6,7,8", "decoding=greedy", f"hydra.sweep.dir={directory / 'sweep'}",
                    "progress=false"], check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    print(f"cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        basic = sweep(Path(tmp) / "basic")
        one = sweep(Path(tmp) / "one", "+launcher=joblib", "hydra.launcher.n_jobs=1")
        two = sweep(Path(tmp) / "two", "+launcher=joblib", "hydra.launcher.n_jobs=2")
    print(f"8-job sweep, basic launcher (one process): {basic:.1f} s")
    print(f"8-job sweep, joblib 1 worker: {one:.1f} s")
    print(f"8-job sweep, joblib 2 workers: {two:.1f} s; ratio 2 workers / 1 worker: {two / one:.2f}")


if __name__ == "__main__":
    main()
