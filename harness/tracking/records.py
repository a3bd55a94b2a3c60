"""A run directory as what an experiment tracker stores: params, metrics, tags, artifacts.

Owns the one flattening every tracker backend (MLflow, Weights & Biases) logs, so both show the
same numbers under the same names:

- params: the resolved config (``resolved_config.yaml``), flattened to dotted keys
  (``system.k``, ``metrics.coverage_lexical.threshold``), and Hydra's group choices
  (``choice/system``, ``choice/decoding``);
- metrics: every scalar of ``results.json`` ``metrics``; each metric's 95% bootstrap bounds as
  ``NAME.ci95_low`` / ``NAME.ci95_high``; ``generation/*`` counts and rates;
  ``scoring/KEY/computed|cached``; ``timing/*_s`` (setup, generation, scoring, total);
- tags: identity and setup hashes, git commit, schema version, the run's label, status;
- artifacts: results.json, report.md, report.html, summaries.jsonl, scores.jsonl (those present).

Metric names are mapped to what trackers accept (MLflow: letters, digits, ``_ - . /`` and
space; ``:`` too, except on Windows: we never produce it): ``@`` becomes ``_at_`` (``coverage/bullet_recall@lexical`` →
``coverage/bullet_recall_at_lexical``), any other character outside that set becomes ``_``. The
mapping is deterministic; two names that would map to one are refused.

Runs are read through harness.results (``read_results``, ``load_runs``, ``read_resolved_config``),
never parsed here.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.results.intervals import is_number
from harness.results.results_file import read_results
from harness.results.run_config import read_resolved_config
from harness.results.run_dir import REPORT_HTML, REPORT_MD, RESULTS, SCORES, SUMMARIES
from harness.results.schema import SCHEMA_VERSION
from harness.results.sweep import load_runs, run_dirs

ARTIFACTS = (RESULTS, REPORT_MD, REPORT_HTML, SUMMARIES, SCORES)
SWEEP_ARTIFACTS = ("leaderboard.md", "compare.md", "report.html")
MAX_PARAM_LENGTH = 6000  # MLflow's limit on a parameter value
_INVALID = re.compile(r"[^\w\-./ ]")


class TrackingError(HarnessError):
    """A run that cannot be turned into tracker records; names the run directory and the fix."""


@dataclass
class Record:
    """One job's run directory as a tracker run."""

    run_dir: Path
    name: str
    status: str  # completed or failed
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: list[Path] = field(default_factory=list)


def metric_name(name: str) -> str:
    """``name`` as a valid tracker metric or param key (see the module docstring)."""
    return _INVALID.sub("_", name.replace("@", "_at_"))


def flatten(node, prefix: str = "") -> dict[str, object]:
    """Nested dicts to dotted keys; lists and scalars are leaves."""
    if not isinstance(node, dict):
        return {prefix: node}
    out: dict[str, object] = {}
    for key, value in node.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def param_value(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_PARAM_LENGTH else text[:MAX_PARAM_LENGTH - 1] + "…"


def params(run_dir: Path) -> dict[str, str]:
    """The flattened resolved config and the group choices of a run directory."""
    resolved = read_resolved_config(run_dir, missing_ok=True)
    if not resolved:
        return {}
    out = {key: param_value(v) for key, v in flatten(resolved.get("config") or {}).items()}
    out.update({f"choice/{group}": param_value(v) for group, v in (resolved.get("choices") or {}).items()
                if not str(group).startswith("hydra/")})
    return _mapped(out, run_dir)


def metrics(results: dict) -> dict[str, float]:
    """Every scalar a completed run's results.json holds, under tracker-valid names."""
    out: dict[str, float] = {}
    for name, value in (results.get("metrics") or {}).items():
        if is_number(value):
            out[name] = float(value)
    for name, stats in (results.get("metric_stats") or {}).items():
        low, high = (stats.get("ci95") or [None, None])[:2]
        for suffix, value in (("ci95_low", low), ("ci95_high", high), ("std", stats.get("std")), ("n", stats.get("n"))):
            if is_number(value):
                out[f"{name}.{suffix}"] = float(value)
    for key, value in (results.get("generation") or {}).items():
        if is_number(value):
            out[f"generation/{key}"] = float(value)
    for key, counts in (results.get("scoring") or {}).items():
        for count, value in (counts or {}).items():
            if is_number(value):
                out[f"scoring/{key}/{count}"] = float(value)
    for stage, seconds in ((results.get("provenance") or {}).get("timings_s") or {}).items():
        if is_number(seconds):
            out[f"timing/{stage}_s"] = float(seconds)
    return _mapped(out, results.get("run", {}).get("name"))


def _mapped(values: dict, where) -> dict:
    out: dict = {}
    origin: dict[str, str] = {}
    for name, value in values.items():
        mapped = metric_name(name)
        if mapped in out:
            raise TrackingError(f"{where}: {origin[mapped]!r} and {name!r} both map to the tracker name {mapped!r}; "
                                "rename one of the metrics (its key=) so they differ")
        out[mapped], origin[mapped] = value, name
    return out


def record(run_dir: Path, label: str | None = None) -> Record:
    """The tracker record of one job directory (completed or failed)."""
    run_dir = Path(run_dir).resolve()
    results = read_results(run_dir)
    run = results.get("run") or {}
    status = results.get("status") or "unknown"
    provenance = results.get("provenance") or {}
    tags = {"harness.schema_version": str(results.get("schema_version", SCHEMA_VERSION)),
            "harness.status": status, "harness.run_dir": str(run_dir),
            "harness.label": label or run.get("name") or run_dir.name}
    for key in ("identity_sha256", "setup_sha256", "data_sha256"):
        if run.get(key):
            tags[f"harness.{key}"] = str(run[key])
    git = provenance.get("git") or {}
    if git.get("commit"):
        tags["git.commit"] = str(git["commit"])
        tags["git.dirty"] = str(bool(git.get("dirty"))).lower()
    if provenance.get("overrides") is not None:
        tags["harness.overrides"] = param_value(list(provenance["overrides"]))
    if status != "completed":
        tags["harness.error"] = param_value(str(results.get("error", "")))
    return Record(run_dir=run_dir, name=tags["harness.label"], status=status, params=params(run_dir),
                  metrics=metrics(results) if status == "completed" else {}, tags=tags,
                  artifacts=[run_dir / a for a in ARTIFACTS if (run_dir / a).is_file()])


def labels(path: Path) -> dict[str, str]:
    """Resolved job directory -> its label among the completed runs under ``path`` (harness.results)."""
    runset = load_runs([path])
    return {str(Path(d).resolve()): run.label for run in runset.runs for d in run.dirs}


def records(path: Path) -> list[Record]:
    """A record per job directory under ``path`` (a run or a sweep directory), in job order."""
    named = labels(path)
    return [record(d, named.get(str(Path(d).resolve()))) for d in run_dirs(Path(path))]


def finite(metrics: dict[str, float]) -> dict[str, float]:
    """Metrics without NaN or infinities (for trackers that refuse them)."""
    return {k: v for k, v in metrics.items() if math.isfinite(v)}
