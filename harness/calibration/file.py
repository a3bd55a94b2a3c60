"""The calibration file: the one place every consistency threshold lives.

Per scorer (by config name) two named thresholds, never one number with two meanings:
- ``summary_threshold``: a summary whose summary score (mean over its sentences) is below it is
  judged inconsistent (``harness meta-eval --split none``, balanced accuracy);
- ``flag_threshold``: a sentence scoring below it is flagged for editors (report.html, report.md,
  ``unsupported@K``); a scorer's config reads it as ``threshold: ${calibrated:flag}``;
and the composite (its inputs, standardisation, non-negative weights, bias and threshold: the
``consistency_composite`` metric reads it as ``weights: ${calibration_file:}``). With them: how
they were chosen (``protocol``, ``k`` labelled examples, the data's hashes and ``data_sha256``),
the figures they reach (``figures``; held-out or cross-validated, never on the data that chose
them) and the score distributions of that data (``reference``, for `harness.calibration.drift`).

The shipped calibration is ``harness/calibration/shipped.json`` (``harness meta-eval --split lodo``
over the six labelled sets); ``harness calibrate`` writes others, and a run takes one with
``calibration=PATH`` (recorded in results.json by `Calibration.record`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.errors import ConfigError

CALIBRATION_FORMAT = "harness.calibration/1"
SHIPPED = Path(__file__).resolve().with_name("shipped.json")
SHIPPED_NAME = "shipped"
FIX = "write one with harness calibrate --data FILE --out PATH (or --marks DIR), or leave calibration unset"


@dataclass(frozen=True)
class Calibration:
    """A read calibration file: where it is, its SHA-256 and its content."""

    path: str
    sha256: str
    content: dict

    @property
    def name(self) -> str:
        return str(self.content.get("name") or Path(self.path).stem)

    @property
    def shipped(self) -> bool:
        return Path(self.path).resolve() == SHIPPED

    def scorer(self, name: str) -> dict | None:
        entry = (self.content.get("scorers") or {}).get(name)
        return entry if isinstance(entry, dict) else None

    def threshold(self, name: str, kind: str) -> float:
        """The ``kind`` (``flag`` or ``summary``) threshold of scorer ``name``; ConfigError where
        the calibration has none."""
        if kind not in ("flag", "summary"):
            raise ConfigError(f"calibration threshold kind {kind!r}: use flag or summary")
        value = (self.scorer(name) or {}).get(f"{kind}_threshold")
        if not _number(value):
            raise ConfigError(f"calibration {self.path} has no {kind} threshold for {name!r} (it calibrates "
                              f"{', '.join(self.content.get('scorers') or {}) or 'no scorer'}); give "
                              f"metrics.{name}.threshold=NUMBER, or {FIX}")
        return float(value)

    def summary_threshold(self, name: str) -> float | None:
        """The summary threshold of ``name``, or None where the calibration has none."""
        value = (self.scorer(name) or {}).get("summary_threshold")
        return float(value) if _number(value) else None

    @property
    def composite(self) -> dict | None:
        entry = self.content.get("composite")
        return entry if isinstance(entry, dict) else None

    def record(self) -> dict:
        """What a run records (results.json ``calibration``): enough to tell two calibrations apart
        and to find the file again."""
        from harness.provenance import PROJECT_ROOT

        path = Path(self.path).resolve()
        try:
            shown = path.relative_to(PROJECT_ROOT).as_posix()
        except ValueError:
            shown = str(path)
        return {"name": self.name, "path": shown, "sha256": self.sha256, "shipped": self.shipped,
                "k": self.content.get("k"), "data_sha256": self.content.get("data_sha256"),
                "protocol": self.content.get("protocol")}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def active_path(value) -> Path:
    """The calibration file a setting names: the shipped one for None, "" or ``shipped``."""
    if value is None or str(value).strip() in ("", SHIPPED_NAME):
        return SHIPPED
    return Path(str(value)).expanduser()


def read_calibration(value=None) -> Calibration:
    """The calibration ``value`` names (see `active_path`), checked; ConfigError naming the file
    and the fix when it is missing or not a calibration."""
    path = active_path(value)
    try:
        stat = path.stat()
    except OSError as e:
        raise ConfigError(f"calibration {path}: cannot read it ({e.strerror or e}); {FIX}") from None
    return _read(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=32)
def _read(path: str, size: int, mtime_ns: int) -> Calibration:
    try:
        raw = Path(path).read_bytes()
        content = json.loads(raw)
    except (OSError, ValueError) as e:
        raise ConfigError(f"calibration {path}: cannot read it as JSON ({e}); {FIX}") from None
    check(content, path)
    return Calibration(path, hashlib.sha256(raw).hexdigest(), content)


def check(content, where: str) -> None:
    """ConfigError for the first problem of a calibration's content."""
    if not isinstance(content, dict) or content.get("format") != CALIBRATION_FORMAT:
        raise ConfigError(f"calibration {where}: not a calibration file (format {CALIBRATION_FORMAT}); {FIX}")
    scorers = content.get("scorers")
    if not isinstance(scorers, dict):
        raise ConfigError(f"calibration {where}: 'scorers' should be an object of scorer config names; {FIX}")
    for name, entry in scorers.items():
        for kind in ("flag_threshold", "summary_threshold"):
            value = entry.get(kind) if isinstance(entry, dict) else None
            if value is not None and not _number(value):
                raise ConfigError(f"calibration {where}: scorers.{name}.{kind} should be a number, got {value!r}")
    composite = content.get("composite")
    if composite is not None and not (isinstance(composite, dict) and isinstance(composite.get("inputs"), list)
                                      and isinstance(composite.get("model"), dict)):
        raise ConfigError(f"calibration {where}: 'composite' should hold inputs and model; {FIX}")


def data_sha256(hashes) -> str:
    """One hash of the labelled data a calibration was chosen on (the files' SHA-256s, in order)."""
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def composite_sha256(composite: dict) -> str:
    """SHA-256 of a composite's content (inputs, model, threshold), as canonical JSON: what a run's
    composite scores depend on, whatever else its calibration file holds."""
    keep = {k: composite.get(k) for k in ("inputs", "model", "threshold")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()


def root_calibration(root) -> str | None:
    """The ``calibration`` setting at the top of a config (None where there is none)."""
    try:
        value = root.get("calibration") if hasattr(root, "get") else None
    except Exception:  # noqa: BLE001 - an interpolation error is the config's own, reported where it is built
        return None
    return None if value is None else str(value)
