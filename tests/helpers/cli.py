"""The ``harness`` command in a subprocess, as users run it, and the checks of its one error line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .timing import scaled_timeout

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "references" / "seed.jsonl"


def harness(*args, cache_dir, timeout=300, cwd=ROOT, env=None):
    """``python -m harness ARGS`` in ``cwd`` (default: the checkout), the caches in ``cache_dir``,
    offline; the subprocess's CompletedProcess (text)."""
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache_dir), "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "harness", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=scaled_timeout(timeout))


def one_line(code, err, *parts):
    """Assert ``err`` is one ``error: ...`` line holding every one of ``parts``, and ``code`` 2."""
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err)
    for part in parts:
        assert part in lines[0], (part, lines[0])
    assert "Traceback" not in err
    return lines[0]


def tree(directory: Path) -> set[str]:
    """Every path under ``directory``, relative to it (to show that a command wrote nothing)."""
    return {p.relative_to(directory).as_posix() for p in Path(directory).rglob("*")}


def call(capsys, *args):
    """``harness ARGS`` in this process (`harness.cli.main`): (exit code, stdout, stderr)."""
    from harness.cli import main

    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def gate(capsys, *args):
    """``harness gate ARGS`` in this process: (exit code, stdout, stderr)."""
    return call(capsys, "gate", *args)
