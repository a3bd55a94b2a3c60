"""Baseline files (``harness gate --update-baseline``; ``runs/baselines/default.json``): their
reader and their writers together.

A baseline file keeps per run its ``results`` (run identity, ``metric_info``, ``metric_stats``,
``intervals``, part of the provenance, the calibration and thresholds where recorded), ``articles``
(id -> content SHA-256, not the articles), ``summaries`` (id -> text: the gate scores them again
when the scorers change), ``scores`` (id -> scalar scores) and ``fingerprints`` (metric config key
-> fingerprint). It is written as strict JSON (a NaN or infinity is refused, naming where it is)
and atomically; `write_rescored` writes re-scored scores back into an existing file in place,
changing nothing else in it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from harness.io import write_json_atomic
from harness.results.intervals import interval_settings
from harness.results.results_file import check_schema, read_json
from harness.results.runs import Run, group_key, run_summaries
from harness.results.schema import BASELINE_KIND, SCHEMA_VERSION, ResultsError, check_baseline, first_non_finite
from harness.results.scores import scalar_scores

KEPT_PROVENANCE = ("git", "system_identity", "overrides")


def read_baseline(path: Path) -> list[Run]:
    """The runs of a baseline file, checked (kind, schema version, every run's shape)."""
    data = read_json(path)
    if data.get("kind") != BASELINE_KIND:
        raise ResultsError(f"{path} is not a baseline file (kind {data.get('kind')!r}); give a run directory, "
                           "a sweep directory or a file written by harness gate --update-baseline")
    check_schema(data, path)
    check_baseline(data, path)
    runs = []
    for entry in data.get("runs") or []:
        results = entry["results"]
        summaries = entry.get("summaries")
        runs.append(Run(name=entry["name"], key=group_key(results["run"]), setup=results["run"]["setup_sha256"],
                        results=results, dirs=[str(path)], scores=entry["scores"], articles=entry["articles"],
                        shards=entry.get("shards", []), summaries=summaries if isinstance(summaries, dict) else None,
                        fingerprints=dict(entry.get("fingerprints") or {})))
    if not runs:
        raise ResultsError(f"{path}: the baseline holds no run")
    return runs


def baseline_data(runs: list[Run], source: str, created_at: str) -> dict:
    """A baseline file's content: per run its identity, metric metadata, each metric's fingerprint,
    its intervals, and per article its summary and scalar scores (the summaries let the gate score
    the baseline again when the scorers change; the articles themselves are not kept, only their
    content hashes: the candidate's copy is checked against them)."""
    return {"schema_version": SCHEMA_VERSION, "kind": BASELINE_KIND, "created_at": created_at, "source": source,
            "runs": [{"name": r.name, "label": r.label, "results": {
                "schema_version": SCHEMA_VERSION, "status": "completed", "run": r.results["run"],
                "metric_info": r.metric_info, "intervals": interval_settings(r.results),
                "metric_stats": r.stats(),
                "provenance": {k: r.provenance.get(k) for k in KEPT_PROVENANCE},
                **({"calibration": r.results["calibration"]} if r.results.get("calibration") else {}),
                **({"thresholds": r.results["thresholds"]} if r.results.get("thresholds") else {})},
                "shards": r.shards, "articles": r.articles, "fingerprints": r.fingerprints,
                "summaries": run_summaries(r),
                "scores": scalar_scores(r.scores)}
                for r in runs]}


def write_baseline_file(path: Path, data: dict) -> None:
    """Write a baseline file as strict JSON: a NaN or infinite value (which json.dumps would write as
    the non-JSON token ``NaN`` or ``Infinity``) is refused, naming where it is; nothing is written."""
    found = first_non_finite(data)
    if found:
        raise ResultsError(f"refusing to write the baseline {path}: {found[0]} is {found[1]}, not a finite number "
                           "(a baseline holds finite scores only): rerun the run whose scores hold it")
    write_json_atomic(Path(path), data)


def write_baseline(path: Path, runs: list[Run], source: str) -> dict:
    """Write ``runs`` as the baseline file ``path`` (its content returned)."""
    data = baseline_data(runs, source, datetime.now(timezone.utc).isoformat())
    write_baseline_file(Path(path), data)
    return data


def write_rescored(path: Path, runs: list[Run], rescored: set[int], scorers_of: str) -> None:
    """Write the scores (with their fingerprints and stats) of the runs of ``path`` whose ``id`` is in
    ``rescored`` back into the file (``runs``: `read_baseline(path)`, in its order, some scored
    again); every other byte of each entry, and the other runs, stay as they are."""
    data = read_json(path)
    check_schema(data, path)
    entries = data.get("runs") or []
    if len(entries) != len(runs):
        raise ResultsError(f"{path}: it changed while it was re-scored ({len(entries)} runs, {len(runs)} read); "
                           "run the refresh again")
    for entry, run in zip(entries, runs, strict=True):
        if id(run) in rescored:
            entry["scores"] = scalar_scores(run.scores)
            entry["fingerprints"] = run.fingerprints
            entry["results"]["metric_stats"] = run.results["metric_stats"]
    data["scores_refreshed"] = {"at": datetime.now(timezone.utc).isoformat(), "scorers_of": scorers_of}
    write_baseline_file(path, data)
