"""How much slower than the 2-core laptop the timeouts were set on this machine is, now: every
subprocess timeout and timing bound in the tests is scaled by it (`scaled_timeout`)."""

from __future__ import annotations

import os

REFERENCE_CALIBRATION_S = 0.06  # calibration() on the 2-core CPU the timeouts were set on (measured 2026-12-03)

_SCALE: list[float] = []


def calibration() -> float:
    """Seconds this machine takes, now, for a fixed pure-Python task (the best of three)."""
    import time

    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        sum(i * i % 7 for i in range(1_000_000))
        best = min(best, time.perf_counter() - t0)
    return best


def timeout_scale() -> float:
    """How much longer than on an idle 2-core laptop things take here: HARNESS_TEST_TIMEOUT_SCALE if
    set, else the larger of (this machine's calibration / the laptop's) and (load average / cores),
    at least 1 and at most 20 (a hang still ends). Measured once per session."""
    if not _SCALE:
        given = os.environ.get("HARNESS_TEST_TIMEOUT_SCALE")
        if given:
            _SCALE.append(float(given))
        else:
            load = os.getloadavg()[0] / (os.cpu_count() or 1) if hasattr(os, "getloadavg") else 1.0
            _SCALE.append(min(20.0, max(1.0, calibration() / REFERENCE_CALIBRATION_S, load)))
    return _SCALE[0]


def scaled_timeout(seconds: float) -> float:
    """A subprocess timeout or timing bound: ``seconds`` (enough on an idle 2-core laptop, with
    margin) scaled by ``timeout_scale()``, so a slower or loaded machine waits longer instead of failing."""
    return seconds * timeout_scale()
