"""Wall time of the default sweep (`harness run -m`), cold (empty generation cache) and cached.

Usage: .venv/bin/python benchmarks/default_sweep.py
Prints the machine's core count, both wall times, the ratio and the generation counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sweep(directory: Path, cache: Path) -> tuple[float, dict]:
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness", "run", "-m", f"hydra.sweep.dir={directory}", "progress=false"],
                   check=True, capture_output=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - start
    board = json.loads((directory / "leaderboard.json").read_text())
    counts = {"generated": sum(r["generation"]["generated"] for r in board["rows"]),
              "cached": sum(r["generation"]["cached"] for r in board["rows"])}
    return seconds, counts


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cold, cold_counts = sweep(tmp / "cold", tmp / "cache")
        warm, warm_counts = sweep(tmp / "warm", tmp / "cache")
    print(f"cores: {os.cpu_count()}")
    print(f"default sweep, cold:   {cold:6.1f} s  {cold_counts}")
    print(f"default sweep, cached: {warm:6.1f} s  {warm_counts}")
    print(f"cached / cold: {warm / cold:.3f}")


if __name__ == "__main__":
    main()
