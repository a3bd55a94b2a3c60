"""Reading the runs under paths: a run directory, a sweep directory (its job directories, in job
order) or a baseline file; and the completed runs under a directory tree (``harness plan``'s past
rates). `load_runs` is what the leaderboard, ``harness compare``, the gate, report.html, the
trackers and ``harness meta-eval --marks`` read runs with."""

from __future__ import annotations

import json
from pathlib import Path

from harness.results.baseline import read_baseline
from harness.results.results_file import read_results
from harness.results.run_dir import RESULTS
from harness.results.runs import RunSet, add_directory, assign_labels, check_same_scorers
from harness.results.schema import ResultsError
from harness.results.scores import check_stats_match_scores, read_scores


def run_dirs(path: Path) -> list[Path]:
    """``path`` itself when it is a run directory, else its job directories in job order."""
    path = Path(path)
    if (path / RESULTS).is_file():
        return [path]
    if not path.is_dir():
        raise ResultsError(f"{path}: no such run directory, sweep directory or baseline file")
    found = sorted((p.parent for p in path.glob(f"*/{RESULTS}")), key=lambda p: _job_order(p.name))
    if not found:
        raise ResultsError(f"{path}: no run here (no results.json in it or in its subdirectories)")
    return found


def _job_order(name: str):
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def is_sweep(path: Path) -> bool:
    """A directory of job directories (no results.json of its own)."""
    return not (Path(path) / RESULTS).is_file()


def load_runs(paths, *, require_completed: bool = False) -> RunSet:
    """Every run under ``paths`` (run directories, sweep directories, baseline files), grouped
    and labelled. Failed runs are listed in ``failed`` (or an error with ``require_completed``)."""
    runs: dict = {}
    failed: list[dict] = []
    for path in map(Path, paths):
        if path.is_file():
            for run in read_baseline(path):
                kept = runs.setdefault(run.key, run)
                if kept is not run:
                    check_same_scorers(kept, run.fingerprints, str(path))
                kept.source = kept.source or str(path)
            continue
        for directory in run_dirs(path):
            results = read_results(directory)
            if results.get("status") != "completed":
                entry = {"dir": str(directory), "name": (results.get("run") or {}).get("name"),
                         "error": results.get("error") or f"status {results.get('status')!r}"}
                if require_completed:
                    raise ResultsError(f"{directory}: the run did not complete ({entry['error']})")
                failed.append(entry)
                continue
            scores, hashes = read_scores(directory, results["metric_info"])
            check_stats_match_scores(results, scores, directory)
            add_directory(runs, results, directory, scores, hashes, source=str(path))
    out = list(runs.values())
    assign_labels(out)
    return RunSet(out, failed)


def completed_results_under(root: Path) -> list[dict]:
    """The results.json of every completed run anywhere under ``root``, oldest finished first;
    files that cannot be read, or of runs that did not complete, are passed over (an estimate, not
    a comparison: nothing here is refused)."""
    runs = []
    for path in Path(root).glob(f"**/{RESULTS}"):
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(results, dict) and results.get("status") == "completed":
            runs.append(results)
    return sorted(runs, key=lambda r: str((r.get("provenance") or {}).get("finished_at", "")))
