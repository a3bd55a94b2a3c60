"""What a flag on the editor's page means, in numbers: for each consistency scorer of the runs
shown, its flag threshold and, where it is the one of the run's calibration (results.json
``calibration``; the shipped one, ``harness/calibration/shipped.json``, where a run names none), the
rates that calibration measured: the share of consistent summaries flagged (false flags) and of
inconsistent ones (recall), per data set left out (shipped) or cross-validated on its own marks
(``harness calibrate``). A threshold other than the calibrated one says so. Where the run's data does
not score like its calibration's (`harness.calibration.drift`), the legend says that too.

The runs are `harness.results.runs.Run`s: their thresholds (``Run.thresholds``, per sentence or not) and
calibration record (``Run.calibration``) are read through its accessors, the one reader of results.json."""

from __future__ import annotations

from pathlib import Path

from harness.calibration.file import SHIPPED

CALIBRATION = SHIPPED


# How many marks a calibration needs: the learning curve (docs/meta-eval-consistency.md, "Calibrating on
# the data at hand") gains most of its points by 25 labels with at least 5 of each kind.
CALIBRATE_HINT = ("To fit these flags to your data: give sentence verdicts on this page to about 25 sentences, "
                  "5 or more of each kind (supported, unsupported), then run harness calibrate DIR --out "
                  "mine.json and rerun with calibration=mine.json.")


def read_calibration(path: Path = CALIBRATION) -> dict:
    """The calibration file's scorers (config name -> entry); {} where it is missing or unreadable."""
    from harness.calibration.file import read_calibration as read
    from harness.errors import HarnessError

    try:
        return dict(read(path).content.get("scorers") or {})
    except HarnessError:
        return {}


def _pct(x) -> str:
    return f"{100 * x:.0f}%" if isinstance(x, (int, float)) and x == x else "–"


def run_calibration_path(run, default: Path = CALIBRATION) -> Path:
    """The calibration file a run ran under (its results.json record), else ``default``."""
    record = run.calibration
    if not isinstance(record, dict) or record.get("shipped", True) or not isinstance(record.get("path"), str):
        return Path(default)
    from harness.provenance import PROJECT_ROOT

    path = Path(record["path"])
    return path if path.is_absolute() else PROJECT_ROOT / path


def _rates(entry: dict) -> str:
    held = entry.get("held_out")
    if isinstance(held, dict) and held:
        return "Measured with each data set left out (summaries flagged): " + "; ".join(
            f"{d}: {_pct(r.get('consistent_flagged'))} of consistent, {_pct(r.get('inconsistent_flagged'))} of "
            "inconsistent" for d, r in held.items() if isinstance(r, dict)) + "."
    cv = entry.get("cross_validated")
    if isinstance(cv, dict):
        return (f"Cross-validated on the calibration's {cv.get('k', '?')} marks: {_pct(cv.get('consistent_flagged'))} "
                f"of consistent flagged, {_pct(cv.get('inconsistent_flagged'))} of inconsistent.")
    return "No measured rates in the calibration."


def legend(runs, path: Path | None = None) -> list[str]:
    """One plain-text line per consistency scorer the runs used (by config name, in order), then
    one per scorer whose thresholds do not fit the run's data."""
    seen, warnings = _scorers(runs, path)
    lines = []
    for name, (threshold, calibration_path, _) in seen.items():
        entry = read_calibration(calibration_path).get(name)
        calibrated = entry.get("flag_threshold") if isinstance(entry, dict) else None
        if not isinstance(calibrated, (int, float)):
            lines.append(f"{name}: flags a sentence scoring below {threshold:.3f} (no measured rates for it).")
            continue
        if abs(calibrated - threshold) > 1e-9:
            lines.append(f"{name}: flags below {threshold:.3f}, not the calibrated {calibrated:.3f}: "
                         "the rates below do not apply.")
            continue
        lines.append(f"{name}: flags a sentence scoring below {threshold:.3f}. {_rates(entry)}")
    if lines:
        lines.append(CALIBRATE_HINT)
    return lines + [f"Warning: {w}" for w in warnings]


TABLE_NOTE = ("Flags are per sentence: a sentence is flagged when a scorer scores it below its threshold. The "
              "rates are per summary: the share of consistent / inconsistent summaries with a flagged sentence, "
              "measured on each labelled data set left out of the calibration.")


def legend_table(runs, path: Path | None = None) -> dict:
    """The legend as a compact table for the page: ``columns`` (the data sets the calibration measured),
    ``rows`` (per scorer: ``scorer`` (its config name), ``key`` (the scorer's own key, as its sentence
    verdicts name it), ``threshold``, ``rates``: data set -> [consistent flagged,
    inconsistent flagged] as fractions, or ``note`` where the rates do not apply), ``note`` (what a
    flag and a rate count) and ``notes`` (warnings, and how to calibrate)."""
    seen, warnings = _scorers(runs, path)
    rows, columns = [], {}
    for name, (threshold, calibration_path, key) in seen.items():
        entry = read_calibration(calibration_path).get(name)
        calibrated = entry.get("flag_threshold") if isinstance(entry, dict) else None
        row = {"scorer": name, "key": key, "threshold": threshold, "rates": {}}
        if not isinstance(calibrated, (int, float)):
            row["note"] = "no measured rates"
        elif abs(calibrated - threshold) > 1e-9:
            row["note"] = f"not the calibrated {calibrated:.3f}: the rates do not apply"
        else:
            held = entry.get("held_out") if isinstance(entry.get("held_out"), dict) else {}
            for d, r in held.items():
                if isinstance(r, dict):
                    columns[d] = None
                    row["rates"][d] = [r.get("consistent_flagged"), r.get("inconsistent_flagged")]
            cv = entry.get("cross_validated")
            if not held and isinstance(cv, dict):
                columns["your marks"] = None
                row["rates"]["your marks"] = [cv.get("consistent_flagged"), cv.get("inconsistent_flagged")]
        rows.append(row)
    return {"columns": list(columns), "rows": rows, "note": TABLE_NOTE,
            "notes": ([CALIBRATE_HINT] if rows else []) + [f"Warning: {w}" for w in warnings]}


def _scorers(runs, path: Path | None) -> tuple[dict[str, tuple[float, Path, str]], list[str]]:
    """(config name -> (its flag threshold, the calibration file it ran under, the scorer's key), drift
    warnings). A composite (summary-level: not ``per_sentence``) flags no sentence and is left out."""
    seen: dict[str, tuple[float, Path, str]] = {}
    warnings: list[str] = []
    for run in runs:
        calibration_path = Path(path) if path is not None else run_calibration_path(run)
        for name, entry in run.thresholds.items():
            if entry.get("per_sentence", True) and name not in seen:
                seen[name] = (float(entry["threshold"]), calibration_path, entry["scorer"])
        for result in ((run.calibration or {}).get("drift") or {}).values():
            message = result.get("message") if isinstance(result, dict) else None
            if isinstance(message, str) and message not in warnings:
                warnings.append(f"{run.label}: {message}" if getattr(run, "label", None) else message)
    return seen, warnings
