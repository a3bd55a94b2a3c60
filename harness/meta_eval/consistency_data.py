"""Readers of human-annotated factual-consistency files, each by a named format, into one shape.

- ``qags`` (QAGS-C): ``article``, ``summary_sentences`` [{``sentence``, ``responses`` [{``response``:
  "yes"|"no"}]}]. A sentence is consistent when most workers said yes; a summary when all its
  sentences are (the TRUE benchmark's rule); its graded score is the fraction of consistent sentences.
  Votes are read case- and whitespace-insensitively ("Yes", " NO "); any other vote is an error.
- ``summac`` (SummaC benchmark cuts, AggreFact, LLM-AggreFact): ``document`` (or ``doc``), ``claim``,
  ``label`` (the number 1 = consistent, 0 = not; nothing else); optional ``cut`` (``val`` or
  ``test``: the benchmark's own split, used by ``--split given``) and ``dataset`` / ``origin`` (the
  group figures are reported by: ``dataset`` where present, else ``origin``).
- ``summeval`` (SummEval): ``doc_id``, ``article``, ``summary``, ``scores.consistency`` (expert mean,
  a number from 1 to 5); the binary label is consistency == 5 (every expert gave full marks, as in TRUE).

Every label, vote and score is checked: an unusable one is a `DataError` naming the file, the line,
the field and the allowed values; a line that is not JSON names its own line number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.data.load import _read_text as read_text
from harness.errors import DataError
from harness.provenance import text_sha256

FORMATS = ("qags", "summac", "summeval")


@dataclass(frozen=True)
class ConsistencyExample:
    doc_id: str
    article: str
    summary: str
    sentences: tuple[str, ...] | None = None  # the annotated sentences, where the data has them
    sentence_labels: tuple[int, ...] | None = None
    label: int | None = None  # 1 = consistent
    score: float | None = None  # graded human score, where the data has one
    cut: str | None = None  # "val" or "test": the benchmark's own split, where the data has one
    group: str | None = None  # the dataset (or origin) the example comes from, where the data says
    dataset: str | None = None  # the record's own ``dataset`` field (published figures are chosen by it)
    line: int | None = None  # the line of the file the example was read from


def detect_format(record: dict) -> str | None:
    if "summary_sentences" in record:
        return "qags"
    if "claim" in record and ("document" in record or "doc" in record):
        return "summac"
    if "scores" in record and "summary" in record:
        return "summeval"
    return None


def read_records(path: str | Path) -> list[tuple[int, dict]]:
    """(line number, record) of every non-blank line of a JSON Lines file. A line that is not a
    JSON object is a DataError naming its own line (not the JSON parser's "line 1"); so is a line
    that is not UTF-8."""
    out = []
    # The data loader's reading rules: UTF-8 (a byte-order mark dropped); Latin-1, UTF-16 or a NUL byte
    # is a DataError naming the file and the line, not a bare UnicodeDecodeError.
    for number, line in enumerate(read_text(Path(path)).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"line {number} is not valid JSON: {e.msg} at column {e.colno}", file=str(path),
                            record=number) from None
        if not isinstance(record, dict):
            raise DataError(f"line {number} is not a JSON object but {type(record).__name__}", file=str(path),
                            record=number)
        out.append((number, record))
    return out


def _require(record: dict, fields: tuple[str, ...], fmt: str, path: str, number: int) -> None:
    for name in fields:
        if name not in record:
            raise DataError(f"missing field {name!r} (format {fmt} needs {', '.join(fields)})", file=path,
                            record=number, field=name)


def _text(record: dict, name: str, path: str, number: int) -> str:
    value = record[name]
    if not isinstance(value, str):
        raise DataError(f"{name} {value!r} is not a string", file=path, record=number, field=name)
    return value


VOTES = ("yes", "no")


def _vote(value, path: str, number: int, field: str) -> bool:
    """A QAGS worker's response: "yes" or "no", in any case, with any surrounding whitespace."""
    vote = value.strip().lower() if isinstance(value, str) else None
    if vote not in VOTES:
        raise DataError(f"response {value!r} is not a vote: allowed values are \"yes\" and \"no\" (any case)",
                        file=path, record=number, field=field)
    return vote == "yes"


def _dataset(record: dict) -> str | None:
    value = record.get("dataset")
    return None if value is None else str(value)


def _qags(record, path, number) -> ConsistencyExample:
    _require(record, ("article", "summary_sentences"), "qags", path, number)
    article = _text(record, "article", path, number)
    if not isinstance(record["summary_sentences"], list) or not record["summary_sentences"]:
        raise DataError("summary_sentences is not a non-empty list", file=path, record=number,
                        field="summary_sentences")
    sentences, labels = [], []
    for s, item in enumerate(record["summary_sentences"]):
        where = f"summary_sentences[{s}]"
        if not isinstance(item, dict) or not isinstance(item.get("sentence"), str):
            raise DataError("a summary sentence needs a 'sentence' string", file=path, record=number,
                            field=f"{where}.sentence")
        responses = item.get("responses")
        if not isinstance(responses, list) or not responses:
            raise DataError("a summary sentence has no responses", file=path, record=number,
                            field=f"{where}.responses")
        votes = [_vote(r.get("response") if isinstance(r, dict) else r, path, number,
                       f"{where}.responses[{v}].response") for v, r in enumerate(responses)]
        sentences.append(item["sentence"])
        labels.append(int(sum(votes) * 2 > len(votes)))
    return ConsistencyExample(text_sha256(article)[:16], article, " ".join(sentences),
                              tuple(sentences), tuple(labels), int(all(labels)), sum(labels) / len(labels),
                              dataset=_dataset(record), line=number)


CUTS = ("val", "test")


def _label(value, path: str, number: int) -> int:
    """A binary label: the number 0 or 1 (1.0 and 0.0 too); not a boolean, a string, null or 0.7."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value not in (0, 1):
        raise DataError(f"label {value!r} is not 0 (inconsistent) or 1 (consistent): allowed values are the "
                        "numbers 0 and 1", file=path, record=number, field="label")
    return int(value)


def _summac(record, path, number) -> ConsistencyExample:
    document = "document" if "document" in record else "doc"
    _require(record, (document, "claim", "label"), "summac", path, number)
    label = _label(record["label"], path, number)
    cut = record.get("cut")
    if cut is not None and cut not in CUTS:
        raise DataError(f"cut {cut!r} is not one of {', '.join(CUTS)}", file=path, record=number, field="cut")
    group = record.get("dataset") or record.get("origin")
    text = _text(record, document, path, number)
    return ConsistencyExample(text_sha256(text)[:16], text, _text(record, "claim", path, number),
                              label=label, cut=cut, group=None if group is None else str(group),
                              dataset=_dataset(record), line=number)


def _summeval(record, path, number) -> ConsistencyExample:
    _require(record, ("doc_id", "article", "summary", "scores"), "summeval", path, number)
    if not isinstance(record["scores"], dict) or "consistency" not in record["scores"]:
        raise DataError("no consistency score", file=path, record=number, field="scores.consistency")
    score = record["scores"]["consistency"]
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 1.0 <= score <= 5.0:
        raise DataError(f"consistency score {score!r} is not a number from 1 to 5 (the experts' mean)", file=path,
                        record=number, field="scores.consistency")
    return ConsistencyExample(str(record["doc_id"]), _text(record, "article", path, number),
                              _text(record, "summary", path, number), label=int(score >= 5.0), score=float(score),
                              dataset=_dataset(record), line=number)


READERS = {"qags": _qags, "summac": _summac, "summeval": _summeval}


def check_measurable(examples, source: str) -> None:
    """Refuse examples no agreement can be measured on, in one line naming ``source``: fewer than two,
    or labels of one kind only (ROC AUC and balanced accuracy need both; numpy said "All-NaN slice
    encountered"). Graded-only examples (no labels) pass: their correlations need only two.

    Raises:
        DataError: naming the source and what it lacks.
    """
    if len(examples) < 2:
        raise DataError(f"{len(examples)} example(s): agreement with people needs at least 2, of both labels",
                        file=source)
    labels = {e.label for e in examples if e.label is not None}
    if len(labels) == 1:
        kind = "consistent (label 1)" if labels == {1} else "inconsistent (label 0)"
        raise DataError(f"every labelled example is {kind}: ROC AUC and balanced accuracy need both labels",
                        file=source)


def read_consistency(path: str | Path, fmt: str | None = None) -> tuple[str, list[ConsistencyExample]]:
    """(format, examples) of an annotated file; the format is detected from the first record when not given."""
    records = read_records(path)
    if not records:
        raise DataError("no records", file=str(path))
    fmt = fmt or detect_format(records[0][1])
    if fmt not in READERS:
        raise DataError(f"unknown consistency format {fmt!r}: give --format, one of {', '.join(FORMATS)}",
                        file=str(path))
    return fmt, [READERS[fmt](r, str(path), n) for n, r in records]
