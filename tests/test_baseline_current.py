"""The committed baseline matches the code: each metric it keeps was scored by the scorers this
checkout builds (same config, code and model hashes, ``metric_fingerprint``). When a change moves a
fingerprint, the gate would re-score the baseline on every CI run and print a note; this test fails
first, with the commands that write the baseline again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.config import load_metric
from harness.metrics.score_cache import metric_fingerprint

BASELINE = Path(__file__).resolve().parents[1] / "runs" / "baselines" / "default.json"
REFRESH = (".venv/bin/harness run -m hydra.sweep.dir=runs/candidate && .venv/bin/harness gate --refresh-baseline "
           "--baseline runs/baselines/default.json --candidate runs/candidate")


def baseline_fingerprints() -> dict[str, str]:
    """Each metric's fingerprint in the baseline; one per metric, whichever run holds it."""
    runs = json.loads(BASELINE.read_text(encoding="utf-8"))["runs"]
    found: dict[str, set[str]] = {}
    for run in runs:
        for name, fingerprint in run["fingerprints"].items():
            found.setdefault(name, set()).add(fingerprint)
    assert all(len(values) == 1 for values in found.values()), f"one metric, several fingerprints: {found}"
    return {name: values.pop() for name, values in found.items()}


@pytest.mark.parametrize("name", sorted(baseline_fingerprints()))
def test_the_committed_baseline_was_scored_by_this_code(name):
    assert metric_fingerprint(name, load_metric(name)) == baseline_fingerprints()[name], (
        f"runs/baselines/default.json's {name} was scored by other scorers than this checkout's; "
        f"write its scores again: {REFRESH}")
