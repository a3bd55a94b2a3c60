"""SmolLM2's batch-1 generation quiet and beside a competing load, against its fair share of the CPU.

Usage (under the machine lock, with nothing else running):
    flock /tmp/heavy.lock .venv/bin/python benchmarks/fair_share.py [--articles 2] [--tokens 16]
        [--load 2] [--threads N] [--scoring]

The job is `harness run system=smollm2` (the embedded default, bfloat16, batch 1, greedy) on
ARTICLES rotations of the seed article (references/seed.jsonl: the paragraphs rotated, so each is
its own article and its own summary), each summary at most TOKENS new tokens, every run on an empty
generation cache; its speed is results.json's generation.tokens_per_s (output tokens over
generation seconds: the model load and the scoring are not in it). Each setting runs it quiet,
then beside LOAD busy processes (pure-Python `while True: pass` loops started here, in this
process's session, so that the scheduler divides the CPU per thread as the formula assumes).

Settings (--settings, comma-separated): "old" is HARNESS_THREADS=torch (PyTorch's and OpenMP's own
defaults: one thread per core, OpenMP threads spinning at each barrier: the behaviour before
harness/threads.py); "new" is the harness's default (OMP_WAIT_POLICY=PASSIVE; the thread count
OpenMP picks, capped by a cgroup quota), or HARNESS_THREADS=N with --threads N; "env:NAME=VALUE"
is the harness's default with a user's own variable set (e.g. env:GOMP_SPINCOUNT=10000, which the
harness keeps instead of passive waiting). --repeats R runs each measurement R times (the median).

Fair share: with C cores and LOAD busy processes each wanting one core, per-thread fair scheduling
gives a job that runs C threads C/(C+LOAD) of the machine, so fair = quiet tokens/s * C/(C+LOAD);
ratio = loaded tokens/s / fair (1.0: the job got its whole share; the target is >= 0.6).
--scoring also times a scoring pass (`system=lead3 metrics=[bertscore,consistency_embedding]`,
empty caches; wall seconds of the whole command, model loads included) quiet and loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
BUSY = "while True:\n    pass\n"
# Variables that would change what either setting measures: each run sets its own.
CLEARED = ("HARNESS_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def rotations(directory: Path, n: int) -> Path:
    rows = [json.loads(line) for line in (ROOT / "references" / "seed.jsonl").read_text().splitlines() if line]
    seed = rows[0]
    paragraphs = list(seed["paragraphs"])
    path = directory / f"seed-x{n}.jsonl"
    path.write_text("".join(json.dumps({**seed, "id": f"{seed['id']}-r{i}", "paragraphs":
                                        paragraphs[i % len(paragraphs):] + paragraphs[:i % len(paragraphs)]}) + "\n"
                            for i in range(n)))
    return path


def slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", label)


def environment(setting: str, threads: int | None, cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(HARNESS_CACHE_DIR=str(cache), HF_HUB_OFFLINE="1")
    if setting == "old":
        env["HARNESS_THREADS"] = "torch"
    elif threads:
        env["HARNESS_THREADS"] = str(threads)
    if setting.startswith("env:"):  # env:NAME=VALUE: the user's own setting, which the harness keeps
        name, _, value = setting[4:].partition("=")
        env[name] = value
    return env


def generation(setting: str, threads: int | None, data: Path, tokens: int, work: Path, dequantized: Path,
               label: str) -> float:
    """tokens/s of one `harness run system=smollm2` on an empty generation cache."""
    label = slug(label)
    run_dir = work / label
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", "system=smollm2", f"data.path={data}", "prompt=bullets",
         "decoding=greedy", f"decoding.max_new_tokens={tokens}", f"system.dequantized_cache={dequantized}",
         "metrics=[rouge]", "n_resamples=100", "progress=false", f"hydra.run.dir={run_dir}"],
        cwd=ROOT, env=environment(setting, threads, work / f"{label}-cache"), capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: {label}: harness run exited {done.returncode}: {done.stderr[-2000:]}")
    gen = json.loads((run_dir / "results.json").read_text())["generation"]
    return gen["output_tokens"] / gen["seconds"]


def scoring(setting: str, threads: int | None, data: Path, work: Path, label: str) -> float:
    """Wall seconds of a lead-3 run scored by two model-based metrics, empty caches."""
    label = slug(label)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", "system=lead3", f"data.path={data}",
         "metrics=[bertscore,consistency_embedding]", "n_resamples=100", "progress=false",
         f"hydra.run.dir={work / label}"],
        cwd=ROOT, env=environment(setting, threads, work / f"{label}-cache"), capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: {label}: harness run exited {done.returncode}: {done.stderr[-2000:]}")
    return time.perf_counter() - start


class Load:
    """LOAD busy processes for the duration of a with-block (ended by their own ids)."""

    def __init__(self, n: int):
        self.n, self.processes = n, []

    def __enter__(self):
        self.processes = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(self.n)]
        time.sleep(1.0)
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=16, help="max new tokens per summary")
    parser.add_argument("--load", type=int, default=2, help="busy processes beside the job")
    parser.add_argument("--threads", type=int, default=None, help="'new' with HARNESS_THREADS=N")
    parser.add_argument("--settings", default="old,new")
    parser.add_argument("--repeats", type=int, default=1, help="runs per measurement (the median)")
    parser.add_argument("--scoring", action="store_true")
    parser.add_argument("--dequantized", type=Path, default=ROOT / "runs" / ".cache" / "dequantized",
                        help="the dequantized-weights cache to share (load speed only)")
    args = parser.parse_args()
    settings = args.settings.split(",")
    cores = len(os.sched_getaffinity(0))
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    print(f"cores={cores} load={args.load} articles={args.articles} max_new_tokens={args.tokens} "
          f"repeats={args.repeats} sched_autogroup={autogroup.read_text().strip() if autogroup.exists() else 'n/a'}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="fair-share-") as tmp:
        work = Path(tmp)
        data = rotations(work, args.articles)
        generation("new", None, data, 2, work, args.dequantized, "warm-up")  # the dequantized copy, file caches
        quiet = {s: median(generation(s, args.threads, data, args.tokens, work, args.dequantized, f"{s}-quiet{r}")
                           for r in range(args.repeats)) for s in settings}
        quiet_scoring = {s: scoring(s, args.threads, data, work, f"{s}-score-quiet")
                         for s in settings} if args.scoring else {}
        with Load(args.load):
            loaded = {s: median(generation(s, args.threads, data, args.tokens, work, args.dequantized,
                                           f"{s}-loaded{r}") for r in range(args.repeats)) for s in settings}
            loaded_scoring = {s: scoring(s, args.threads, data, work, f"{s}-score-loaded")
                              for s in settings} if args.scoring else {}
            during = os.getloadavg()
    share = cores / (cores + args.load)
    print(f"load average at the end of the loaded runs: {' '.join(f'{x:.2f}' for x in during)}")
    print(f"fair share = quiet x cores/(cores+load) = quiet x {cores}/{cores + args.load} = quiet x {share:.3f}")
    print("| setting | quiet tok/s | loaded tok/s | fair share tok/s | loaded / fair share |")
    print("|---|---|---|---|---|")
    for s in settings:
        name = f"new (HARNESS_THREADS={args.threads})" if s == "new" and args.threads else s
        fair = quiet[s] * share
        print(f"| {name} | {quiet[s]:.2f} | {loaded[s]:.2f} | {fair:.2f} | {loaded[s] / fair:.2f} |")
    if args.scoring:
        print("| setting | scoring quiet s | scoring loaded s | fair share s (quiet / share) | fair share / loaded |")
        print("|---|---|---|---|---|")
        for s in settings:
            fair = quiet_scoring[s] / share
            print(f"| {s} | {quiet_scoring[s]:.1f} | {loaded_scoring[s]:.1f} | {fair:.1f} | "
                  f"{fair / loaded_scoring[s]:.2f} |")


if __name__ == "__main__":
    main()
