"""What a run records of its calibration (results.json ``calibration``): which file (name, path,
SHA-256, K, the data's hash) and, per calibrated scorer, the no-label check that the run's data
scores like the calibration's (`harness.calibration.drift`)."""

from __future__ import annotations

from harness.calibration.drift import run_drift
from harness.calibration.file import read_calibration


def run_calibration(setting, metrics: dict, rows: list[dict], system: str | None) -> dict:
    """The record of the calibration ``setting`` names (None: the shipped one) for a run scored by
    ``metrics`` (config name -> metric) with scores.jsonl ``rows``, of ``system``'s summaries."""
    calibration = read_calibration(setting)
    return {**calibration.record(),
            "drift": run_drift(rows, metrics, calibration.content, calibration.name, system)}


def drift_lines(results: dict) -> list[str]:
    """The warnings of a run's results.json: one line per scorer whose thresholds do not fit."""
    drift = (results.get("calibration") or {}).get("drift") or {}
    return [r["message"] for r in drift.values() if isinstance(r, dict) and isinstance(r.get("message"), str)]
