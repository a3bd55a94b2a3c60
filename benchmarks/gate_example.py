"""The README's two gate examples, printed by the commands they show (never edited by hand).

Usage: .venv/bin/python benchmarks/gate_example.py [--readme README.md] [--only default|degraded]
       (make gate-example: both, README.md rewritten)

1. The default sweep (`harness run -m`, the real embedded model: minutes on a 2-core CPU cold, seconds
   from the generation and score caches) gated against the committed baseline
   (runs/baselines/default.json);
2. a degraded candidate: a lead-1 run gated against a lead-3 run on the embedded article.

Prints each command and its output. With --readme, replaces the output blocks between the
``<!-- gate-example:NAME -->`` and ``<!-- /gate-example:NAME -->`` markers in that file. The
temporary directories in the outputs' last line (``written: ...``) are left out.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "runs/baselines/default.json"


def harness(*args: str, ok=(0,)) -> str:
    done = subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode not in ok:
        sys.exit(f"harness {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return "\n".join(line for line in done.stdout.splitlines() if not line.startswith("written: ")).rstrip() + "\n"


def examples(tmp: Path, only: str | None = None) -> dict[str, str]:
    out = {}
    if only in (None, "default"):
        harness("run", "-m", f"hydra.sweep.dir={tmp / 'candidate'}", "progress=false")
        out["default"] = harness("gate", "--baseline", BASELINE, "--candidate", str(tmp / "candidate"),
                                 "--out", str(tmp / "g1"), ok=(0, 1))
    if only == "default":
        return out
    harness("run", "system=lead3", f"hydra.run.dir={tmp / 'lead3'}", "progress=false")
    harness("run", "system=lead3", "system.k=1", f"hydra.run.dir={tmp / 'lead1'}", "progress=false")
    out["degraded"] = harness("gate", "--baseline", str(tmp / "lead3"), "--candidate", str(tmp / "lead1"),
                              "--out", str(tmp / "g2"), ok=(1,))
    return out


def rewrite(readme: Path, blocks: dict[str, str]) -> None:
    text = readme.read_text(encoding="utf-8")
    for name, block in blocks.items():
        pattern = re.compile(rf"(<!-- gate-example:{name} -->\n```\n).*?(```\n<!-- /gate-example:{name} -->)", re.S)
        if not pattern.search(text):
            sys.exit(f"{readme}: no <!-- gate-example:{name} --> ... <!-- /gate-example:{name} --> block")
        text = pattern.sub(lambda m, b=block: m[1] + b + m[2], text)
    tmp = readme.with_name(f".{readme.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(readme)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, help="rewrite the gate-example blocks of this file")
    parser.add_argument("--only", choices=["default", "degraded"], help="only this example (degraded: seconds, "
                                                                        "no model)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        blocks = examples(Path(tmp), options.only)
    if "default" in blocks:
        print(f"$ harness run -m hydra.sweep.dir=runs/candidate\n$ harness gate --baseline {BASELINE} "
              f"--candidate runs/candidate\n{blocks['default']}")
    if "degraded" in blocks:
        print(f"$ harness gate --baseline LEAD3_RUN --candidate LEAD1_RUN\n{blocks['degraded']}")
    if options.readme:
        rewrite(options.readme, blocks)
        print(f"rewritten: {options.readme}")


if __name__ == "__main__":
    main()
