"""How PyTorch's threads wait and how many there are, set before torch loads (issue 35, item 7).

PyTorch's CPU wheels run their intra-op threads (and MKL's and oneDNN's) on GNU OpenMP, whose
threads spin at the end of each parallel region before they sleep. Batch-1 decoding is thousands of
short regions per token: on a machine where other processes compete for the cores, a thread spins
on a core while the thread it waits for sits in the run queue, and every token pays whole
scheduler time slices. Passive waiting restores the fair share (measured by
``benchmarks/fair_share.py``; figures in docs/performance.md, "A fair share on a busy machine").

``prepare()`` (called by ``harness.cli.main`` before any command loads torch, by each job in
``harness.app.main``, which is where a launcher's worker process first runs our code, and by
``harness.evaluate``):

- ``OMP_WAIT_POLICY=PASSIVE``: an idle OpenMP thread sleeps at once. libgomp reads it once, when
  torch loads it, so it must be in the environment before ``import torch``; child processes (joblib
  and submitit workers, a local Ray instance) inherit it. It costs some quiet speed (a sleeping
  thread wakes later than a spinning one); a short spin (``GOMP_SPINCOUNT``) keeps the quiet speed
  but loses more under heavy load (docs/performance.md).
- The thread count: OpenMP's default (the CPUs this process may run on, ``os.sched_getaffinity``),
  capped by a cgroup CPU quota (``cpu.max``: a container limited to 2 CPUs on a 64-core host would
  otherwise run 64 threads in 2 CPUs' time). It is *not* lowered for the load average: under
  per-thread fair scheduling fewer threads get a smaller share (measured: docs/performance.md), and
  the count would change with whatever else ran at the moment.

A user's own setting is kept: ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` set leaves the waiting
alone; ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` set leaves the count alone. ``HARNESS_THREADS=N``
sets the count (N >= 1); ``HARNESS_THREADS=torch`` changes nothing (PyTorch's and OpenMP's own
defaults: the behaviour before this module, kept for comparison).
"""

from __future__ import annotations

import logging
import math
import os
import sys
from pathlib import Path

from harness.errors import ConfigError

log = logging.getLogger(__name__)

SETTING = "HARNESS_THREADS"
UNCHANGED = "torch"  # HARNESS_THREADS=torch: PyTorch's and OpenMP's defaults, untouched
WAIT_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
COUNT_SETTINGS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def requested(environ=os.environ) -> int | str | None:
    """HARNESS_THREADS: None (unset or ``auto``), ``torch``, or a thread count."""
    value = environ.get(SETTING, "").strip()
    if value in ("", "auto"):
        return None
    if value == UNCHANGED:
        return UNCHANGED
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise ConfigError(f"{SETTING}={value!r}: expected a thread count >= 1, 'auto' or '{UNCHANGED}'")


def quota_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int | None:
    """The CPUs a cgroup v2 quota allows (``cpu.max`` "QUOTA PERIOD", rounded up), None: no quota."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return max(1, math.ceil(int(quota) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None


def affinity_cpus() -> int:
    """The CPUs this process may run on (its affinity mask: OpenMP's default thread count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def chosen_count(environ=os.environ, cpu_max: Path = CGROUP_CPU_MAX) -> int | None:
    """The thread count to set, or None: leave it to the user's setting or to OpenMP's default."""
    wanted = requested(environ)
    if wanted == UNCHANGED or any(name in environ for name in COUNT_SETTINGS):
        return None
    if isinstance(wanted, int):
        return wanted
    quota = quota_cpus(cpu_max)
    return quota if quota and quota < affinity_cpus() else None  # None: OpenMP's default, the affinity mask


def prepare(environ=os.environ, cpu_max: Path = CGROUP_CPU_MAX) -> dict[str, str]:
    """Set the waiting policy and thread count in ``environ`` (before torch loads) and, when torch
    is already loaded, its thread count. Returns what was set ({} when nothing was)."""
    wanted = requested(environ)
    if wanted == UNCHANGED:
        return {}
    changed = {}
    if not any(name in environ for name in WAIT_SETTINGS):
        environ["OMP_WAIT_POLICY"] = changed["OMP_WAIT_POLICY"] = "PASSIVE"
    count = chosen_count(environ, cpu_max)
    if count is not None:
        environ["OMP_NUM_THREADS"] = changed["OMP_NUM_THREADS"] = str(count)
    torch = sys.modules.get("torch")
    if torch is not None and count is not None and torch.get_num_threads() != count:
        torch.set_num_threads(count)  # a worker that ran an earlier job: torch read the environment then
    if changed:
        log.debug("threads: %s", " ".join(f"{k}={v}" for k, v in changed.items()))
    return changed
