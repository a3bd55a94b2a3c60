"""``@run_if(...)``: run a test only where what it needs is here, else skip it naming what is missing
and how to install it (the RunIf of Lightning's tests). In CI (``CI`` set), a missing extra,
Chromium or Node fails instead: .ci/run installs every one of them.

    from .helpers.run_if import run_if

    @run_if(extra="ray")                  # the [ray] extra's packages
    @run_if(module="grpc", extra="ray")   # one module, installed by that extra
    @run_if(chromium=True)                # headless Chromium for report.html
    @run_if(shared_data=True)             # /work/shared (human-labelled data, seeds) beside the checkout
    @run_if(executable="node")            # a program on PATH
    @run_if(cuda=True)                    # a CUDA GPU torch can see

The marker is checked before the test's fixtures are set up (conftest.py's ``pytest_runtest_setup``
calls `check`); `require` checks the same inside a test or fixture.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

from .cli import ROOT

run_if = pytest.mark.run_if

# extra -> the module whose presence means it is installed (pyproject.toml's optional dependencies).
EXTRA_MODULES = {"mlflow": "mlflow", "wandb": "wandb", "ray": "ray", "llamacpp": "llama_cpp",
                 "joblib": "hydra_plugins.hydra_joblib_launcher", "slurm": "hydra_plugins.hydra_submitit_launcher",
                 "browser": "playwright"}
SHARED_DIR = ROOT.parent / "shared"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is absent
        return False


def missing(*, extra: str | None = None, module: str | None = None, chromium: bool = False,
            shared_data: bool = False, executable: str | None = None, cuda: bool = False) -> list[tuple[str, bool]]:
    """What is missing for these needs: (reason, CI installs it) for each; [] when all are here.

    Args:
        extra: an extra of pyproject.toml (`EXTRA_MODULES`), installed by ``pip install -e '.[EXTRA]'``.
        module: a module to import (installed by ``extra`` when given, else named alone).
        chromium: headless Chromium (tests/browser.py's, or HARNESS_CHROMIUM).
        shared_data: the shared data directory beside the checkout (``../shared``).
        executable: a program on PATH.
        cuda: a CUDA GPU visible to torch.
    Returns:
        One (reason, installed in CI) per missing need.
    """
    found = []
    install = f"pip install -e '.[{extra}]'" if extra else "pip install it"
    if extra is not None and module is None:
        if extra not in EXTRA_MODULES:
            raise ValueError(f"run_if: unknown extra {extra!r}; known: {', '.join(EXTRA_MODULES)}")
        if not _installed(EXTRA_MODULES[extra]):
            found.append((f"needs the {extra} extra ({EXTRA_MODULES[extra]} is not installed): {install}", True))
    if module is not None and not _installed(module):
        found.append((f"needs {module}, which is not installed: {install}", extra is not None))
    if chromium:
        from ..browser import CHROMIUM

        if not CHROMIUM:
            found.append(("needs Chromium (apt-get install chromium, or set HARNESS_CHROMIUM)", True))
    if shared_data and not SHARED_DIR.is_dir():
        found.append((f"needs the shared data beside this checkout ({SHARED_DIR})", False))
    if executable is not None and shutil.which(executable) is None:
        found.append((f"needs {executable} on PATH", False))
    if cuda:
        import torch

        if not torch.cuda.is_available():
            found.append(("needs a CUDA GPU (none visible to torch here)", False))
    return found


def require(**needs) -> None:
    """Skip the running test (fail it in CI, for what CI installs) unless `missing` finds nothing."""
    absent = missing(**needs)
    if not absent:
        return
    reason = "; ".join(r for r, _ in absent)
    if os.environ.get("CI") and any(ci for _, ci in absent):
        pytest.fail(f"{reason} (CI: .ci/run installs it)", pytrace=False)
    pytest.skip(reason)


def check(item) -> None:
    """Each ``run_if`` marker of a collected test, as `require` (conftest.py's pytest_runtest_setup)."""
    for mark in item.iter_markers(name="run_if"):
        if mark.args:
            raise TypeError(f"{item.nodeid}: run_if takes keywords (extra=, chromium=...), got {mark.args}")
        require(**mark.kwargs)
