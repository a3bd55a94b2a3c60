"""What a flag on the editor's page means, in numbers: for each consistency scorer of the runs
shown, its threshold and, where it is the shipped one, the rates measured with each data set left
out (`conf/metrics/calibration.json`, written by ``harness meta-eval --split lodo
--save-calibration``): the share of consistent summaries it flagged (false flags) and of
inconsistent ones (recall), per held-out set. A threshold other than the measured one says so."""

from __future__ import annotations

import json
from pathlib import Path

from harness.provenance import PROJECT_ROOT

CALIBRATION = PROJECT_ROOT / "conf" / "metrics" / "calibration.json"


def read_calibration(path: Path = CALIBRATION) -> dict:
    """The calibration file's scorers (config name -> entry); {} where it is missing or unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    scorers = data.get("scorers") if isinstance(data, dict) else None
    return scorers if isinstance(scorers, dict) else {}


def _pct(x) -> str:
    return f"{100 * x:.0f}%" if isinstance(x, (int, float)) and x == x else "–"


def legend(runs, path: Path = CALIBRATION) -> list[str]:
    """One plain-text line per consistency scorer the runs used (by config name, in order)."""
    calibration = read_calibration(path)
    seen: dict[str, float] = {}
    for run in runs:
        for name, described in ((run.results.get("provenance") or {}).get("metrics") or {}).items():
            # A sentence scorer describes its "scorer"; a composite (summary-level, its "inputs") flags nothing.
            if (isinstance(described, dict) and described.get("scorer") and "inputs" not in described
                    and isinstance(described.get("threshold"), (int, float)) and name not in seen):
                seen[name] = float(described["threshold"])
    lines = []
    for name, threshold in seen.items():
        entry = calibration.get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("threshold"), (int, float)):
            lines.append(f"{name}: flags a sentence scoring below {threshold:.3f} (no measured rates for it).")
            continue
        if abs(entry["threshold"] - threshold) > 1e-9:
            lines.append(f"{name}: flags below {threshold:.3f}, not the measured {entry['threshold']:.3f}: "
                         "the rates below do not apply.")
            continue
        rates = "; ".join(f"{d}: {_pct(r.get('consistent_flagged'))} of consistent, "
                          f"{_pct(r.get('inconsistent_flagged'))} of inconsistent"
                          for d, r in (entry.get("held_out") or {}).items() if isinstance(r, dict))
        lines.append(f"{name}: flags a sentence scoring below {threshold:.3f}. Measured with each data set left "
                     f"out (summaries flagged): {rates}.")
    return lines
