"""``results.json``: written from its typed model (`CompletedResults`, `FailedResults`), read back
checked (schema version, then its shape), and the structured fields derived when it is written.

A run writes it last (`write_results`, under the run directory's lock: `run_dir.publish_results`);
its ``status: completed`` marks the run finished. `read_results` is the one reader of the file; it
returns the checked JSON object (every reader of a completed run can trust the fields the schema
names), `read_completed` the typed model.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.results.run_dir import RESULTS, publish_results
from harness.results.schema import (
    SCHEMA_VERSION,
    CompletedResults,
    FailedResults,
    ResultsError,
    check_results,
)


def read_json(path: Path) -> dict:
    """A JSON object from ``path`` (results.json, a baseline file); ResultsError naming the file when
    it cannot be read, is not JSON or is not an object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ResultsError(f"{path}: cannot read it ({e.strerror or e})") from None
    except (ValueError, RecursionError) as e:  # RecursionError: nesting deeper than Python parses
        raise ResultsError(f"{path}: not valid JSON ({e}); the file is damaged: rerun the run that wrote it") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def check_schema(data: dict, where) -> None:
    """ResultsError unless ``data`` (results.json, a baseline file) is of this harness's schema version."""
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ResultsError(f"{where}: results schema version {version!r} differs from this harness's "
                           f"{SCHEMA_VERSION!r}; runs compare only within one schema version (rerun it, or "
                           "refresh the baseline with harness gate --update-baseline)")


def read_results(directory: Path) -> dict:
    """A run directory's results.json, checked: schema version, and its shape (harness.results.schema:
    for a completed run every field its readers use, typed, numbers finite)."""
    path = Path(directory) / RESULTS
    results = read_json(path)
    check_schema(results, path)
    check_results(results, path)
    return results


def read_completed(directory: Path) -> CompletedResults:
    """A completed run's results.json as its typed model; ResultsError when the run did not complete."""
    results = read_results(directory)
    if results.get("status") != "completed":
        raise ResultsError(f"{Path(directory) / RESULTS}: the run did not complete "
                           f"({results.get('error') or 'status ' + repr(results.get('status'))})")
    return CompletedResults.model_validate(results)


def results_data(results: CompletedResults | FailedResults) -> dict:
    """The JSON object a results model is written as: the fields it was given, in the model's order
    (a field it was not given is left out, not written as null)."""
    return results.model_dump(mode="python", exclude_unset=True)


def write_results(directory: Path, results: CompletedResults | FailedResults) -> None:
    """Write ``results`` as the run directory's results.json, last, under its lock, never over a
    finished run (`run_dir.publish_results`)."""
    if not isinstance(results, (CompletedResults, FailedResults)):
        raise TypeError(f"results.json is written from CompletedResults or FailedResults, not {type(results).__name__}")
    publish_results(Path(directory), results_data(results))


# --- structured fields, derived once where results.json is written --------------------------------

def thresholds_of(described: dict) -> dict[str, dict]:
    """Metric config key -> ``{scorer, threshold, per_sentence}`` of every scorer that flags below a
    threshold, from what each metric ``describe()``s (results.json ``provenance.metrics``)."""
    out = {}
    for name, entry in (described or {}).items():
        if (isinstance(entry, dict) and isinstance(entry.get("scorer"), str)
                and isinstance(entry.get("threshold"), (int, float)) and not isinstance(entry["threshold"], bool)):
            out[name] = {"scorer": entry["scorer"], "threshold": entry["threshold"],
                         "per_sentence": "inputs" not in entry}
    return out


def max_new_tokens_of(system_identity: dict) -> int | None:
    """The token limit of a system's decoding, from its identity (None: it ignores decoding)."""
    decoding = (system_identity or {}).get("decoding") if isinstance(system_identity, dict) else None
    limit = decoding.get("max_new_tokens") if isinstance(decoding, dict) else None
    return limit if isinstance(limit, int) and not isinstance(limit, bool) else None
