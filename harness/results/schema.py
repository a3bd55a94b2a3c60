"""The shapes of the files a run writes and the harness reads back: ``results.json``
(`CompletedResults`, `FailedResults`), the rows of ``scores.jsonl`` and baseline files, and the
schema version they carry. One pydantic model each: ``results.json`` is written from its model
(``harness.results.results_file``) and every file is checked once, where ``harness.results`` reads
it; every reader after that can trust the types.

Versioning: ``SCHEMA_VERSION`` is written into every results.json and baseline file; a file of
another version is refused where it is read, with a message naming both versions (runs compare
only within one version). Fields added within a version are optional (a reader falls back to
what older files hold: `harness.results.runs.Run.thresholds`, ``max_new_tokens``), so every file of
the version stays readable.

Rules: types are checked strictly (no coercion: ``"0.5"`` is not a number, ``true`` is not an
integer, ``7`` is not a run name); every number a reader computes with is finite and at most
``MAX_SCORE`` in size (``NaN``, ``Infinity`` and ``1e308``, which overflows in a sum or a
variance, are refused, not dropped, so the ``articles`` a table counts are the articles its
means are over); a score may be null (the metric did not apply). Fields no reader uses are not
checked. A problem is a ``ResultsError`` naming the file, the line or run, and the field:
``…/results.json: field 'run.shard' should be a valid list, got int 3; …``.

``first_non_finite`` finds the value a JSON writer must not write (``Infinity`` is not JSON).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from harness.errors import HarnessError

SCHEMA_VERSION = "2.0"
BASELINE_KIND = "harness-baseline"
# No metric writes a score this large (word counts and rates are far below it); a million such
# values still sum and square in a float without overflow.
MAX_SCORE = 1e15
DAMAGED = "the file is damaged or was not written by this harness: rerun the run that wrote it"


class ResultsError(HarnessError):
    """Results that cannot be read or compared; names the file and what is wrong."""


Number = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-MAX_SCORE, le=MAX_SCORE)]
Count = Annotated[int, Field(strict=True, ge=0)]


def _shard(value: list[int]) -> list[int]:
    if len(value) != 2 or value[1] < 1 or not 0 <= value[0] < value[1]:
        raise ValueError(f"should be [shard, num_shards] with 0 <= shard < num_shards, got {value!r}")
    return value


Shard = Annotated[list[Annotated[int, Field(strict=True)]], AfterValidator(_shard)]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _ResultsFile(_Model):
    """A results.json: its ``schema_version`` and ``status`` are always written (defaults included)."""

    @model_validator(mode="after")
    def _version_and_status_are_written(self):
        self.__pydantic_fields_set__.update(("schema_version", "status"))
        return self


class RunRecord(_Model):
    """``run`` of results.json: what ran on what (fields in the order they are written)."""

    name: str
    system: str | None = None
    prompt: str | None = None  # null for systems that ignore the prompt and decoding
    decoding: str | None = None
    data: str | None = None
    n_articles: Count | None = None
    seed: int | None = None
    identity_sha256: str
    setup_sha256: str
    data_sha256: str
    shard: Shard | None = None
    data_source_sha256: str | None = None
    # The decoding's token limit (null: the system ignores decoding); absent in runs written before it
    # was recorded (then read from the system identity: `harness.results.runs.Run.max_new_tokens`).
    max_new_tokens: Count | None = None

    @model_validator(mode="after")
    def _sharded_runs_name_their_set(self):
        if self.shard and self.shard[1] > 1 and not self.data_source_sha256:
            raise ValueError("a shard of several needs 'data_source_sha256' (the set its shards are merged by)")
        return self


class MetricInfo(_Model):
    display: str | None = None
    higher_is_better: bool | None = None
    headline: bool | None = None
    range: Annotated[list[Number | None], Field(min_length=2, max_length=2)] | None = None
    metric: str | None = None


class MetricStats(_Model):
    mean: Number
    std: Number | None = None
    n: Count
    ci95: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = None


class Intervals(_Model):
    method: str | None = None
    confidence: Annotated[float, Field(strict=True, gt=0, lt=1)] | None = None
    n_resamples: Annotated[int, Field(strict=True, ge=1)] | None = None
    seed: int | None = None


class Generation(_Model):
    generated: Count = 0
    cached: Count = 0
    truncated: Count = 0
    article_tokens_cut: Any = None
    empty: Count = 0
    output_tokens: Any = None
    seconds: Any = None
    batch_size: Any = None
    tokens_per_s: Any = None


class Scoring(_Model):
    computed: Any = None
    cached: Any = None
    fingerprint: str | None = None


class Threshold(_Model):
    """A consistency scorer's flag threshold, as the run used it (``thresholds`` of results.json)."""

    scorer: str  # the scorer's key (``embedding``): its per-sentence verdicts are ``consistency/sentences@KEY``
    threshold: Number
    per_sentence: bool  # it flags sentences (a composite scores whole summaries: it flags none)


class Provenance(_Model):
    system_identity: dict[str, Any] | None = None
    config_sha256: Any = None
    metrics: dict[str, dict[str, Any]] | None = None
    choices: Any = None
    overrides: list[str] | None = None
    seed: Any = None
    versions: Any = None
    git: dict[str, Any] | None = None
    machine: dict[str, Any] | None = None
    started_at: Any = None
    timings_s: dict[str, Any] | None = None
    finished_at: str | None = None


class CompletedResults(_ResultsFile):
    """results.json of a run that completed (``status: completed``); fields in the order written."""

    schema_version: str = SCHEMA_VERSION
    status: Literal["completed"] = "completed"
    run: RunRecord
    metrics: dict[str, Number | None] | None = None
    metric_info: dict[str, MetricInfo]
    metric_stats: dict[str, MetricStats]
    intervals: Intervals | None = None
    generation: Generation
    scoring: dict[str, Scoring] | None = None
    provenance: Provenance | None = None
    calibration: dict[str, Any] | None = None  # which calibration set the thresholds (`harness.calibration.record`)
    # Each consistency scorer's flag threshold (metric config key -> Threshold); absent in runs written
    # before it was recorded (then read from provenance: `harness.results.runs.Run.thresholds`).
    thresholds: dict[str, Threshold] | None = None


class FailedRecord(_Model):
    name: str | None = None


class FailedProvenance(_Model):
    versions: Any = None
    git: Any = None
    failed_at: str | None = None


class FailedResults(_ResultsFile):
    """results.json of a run that stopped with an error (``status: failed``): a sweep goes on, and
    the readers list it as failed."""

    schema_version: str = SCHEMA_VERSION
    status: Literal["failed"] = "failed"
    error: str
    run: FailedRecord
    provenance: FailedProvenance | None = None


class OtherResults(_Model):
    """results.json of a run that did not complete: what the list of failed runs shows."""

    status: str | None = None
    error: str | None = None
    run: FailedRecord | None = None


class ScoresRow(_Model):
    article_id: str
    article_sha256: str
    scores: dict[str, Any]


class BaselineResults(_Model):
    run: RunRecord
    metric_info: dict[str, MetricInfo]
    metric_stats: dict[str, MetricStats] | None = None
    intervals: Intervals | None = None
    provenance: Provenance | None = None
    thresholds: dict[str, Threshold] | None = None


class BaselineRun(_Model):
    name: str
    label: str | None = None
    results: BaselineResults
    scores: dict[str, dict[str, Number | None]]
    articles: dict[str, str]
    shards: list[Shard | None] = []
    fingerprints: dict[str, str] | None = None
    summaries: dict[str, str] | None = None

    @model_validator(mode="after")
    def _every_scored_article_has_its_hash(self):
        unhashed = sorted(set(self.scores) - set(self.articles))
        if unhashed:
            raise ValueError(f"scored articles without a content hash in 'articles': {unhashed[:5]}")
        return self


class Baseline(_Model):
    runs: list[dict[str, Any]] = []  # each checked as a BaselineRun, named by its position


_ROW_SCORES = TypeAdapter(dict[str, Number | None])


# --- checks ------------------------------------------------------------------------------------------

def check_results(data: dict, where) -> None:
    """A results.json (its schema version already checked): a completed run's, every field its
    readers use; another's, what the list of failed runs shows."""
    model = CompletedResults if data.get("status") == "completed" else OtherResults
    _validate(model, data, where)


def check_scores_row(row, columns, where) -> None:
    """One row of scores.jsonl: its article id and hash, and every score that is a number or one
    of the run's declared ``columns`` (its metric_info): a finite number, or null."""
    if not isinstance(row, dict):
        raise ResultsError(f"{where}: not a scores row (a JSON {_kind(row)}, expected an object); {DAMAGED}")
    _validate(ScoresRow, row, where, what="not a scores row: ")
    scalars = {k: v for k, v in row["scores"].items() if k in columns or _is_number(v)}
    _validate(_ROW_SCORES, scalars, where, prefix="scores")


def check_baseline(data: dict, where) -> None:
    """A baseline file (its kind and schema version already checked): every run in it."""
    _validate(Baseline, data, where)
    for i, entry in enumerate(data["runs"]):
        _validate(BaselineRun, entry, f"{where}, run {i + 1}")


def first_non_finite(obj, path: str = "") -> tuple[str, float] | None:
    """(dotted path, value) of the first NaN or infinite float in ``obj`` (JSON-like), or None."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return path or "(the value)", obj
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    for key, value in items:
        found = first_non_finite(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def _validate(model, data, where, prefix: str = "", what: str = "") -> None:
    try:
        if isinstance(model, TypeAdapter):
            model.validate_python(data)
        else:
            model.model_validate(data)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ResultsError(f"{where}: {what}{_describe(errors[0], prefix)}{more}; {DAMAGED}") from None


def _describe(error: dict, prefix: str) -> str:
    field = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "")
    if error["type"] == "missing":
        return f"missing {field!r}"
    message = error["msg"].removeprefix("Value error, ").removeprefix("Input ")
    if abs((error.get("ctx") or {}).get("le", (error.get("ctx") or {}).get("ge", 0))) == MAX_SCORE:
        message = f"should be within ±{MAX_SCORE:g} (a larger value overflows in a sum or a variance)"
    elif error["type"] == "finite_number":
        message = "should be a finite number (NaN and infinities are not scores)"
    elif error["type"] in ("too_short", "too_long"):
        ctx = error.get("ctx") or {}
        message = (f"should have at least {ctx.get('min_length')} items" if error["type"] == "too_short"
                   else f"should have at most {ctx.get('max_length')} items")
    elif error["type"] in _JSON_TYPES:
        message = f"should be {_JSON_TYPES[error['type']]}"
    message = message[0].lower() + message[1:]
    if error["type"] == "value_error":  # our own validators say what they got
        return f"field {field!r}: {message}" if field else message
    where = f"field {field!r} " if field else ""
    return f"{where}{message}, got {_kind(error['input'])} {_short(error['input'])}"


# pydantic's type errors in the words of JSON (the files are JSON): "an object", not "a valid dictionary".
_JSON_TYPES = {"dict_type": "an object", "model_type": "an object", "list_type": "a list", "string_type": "a string",
               "int_type": "an integer", "float_type": "a number", "bool_type": "true or false"}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "int", float: "float",
            type(None): "null"}.get(type(value), type(value).__name__)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
