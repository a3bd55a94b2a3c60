"""Readers of human-annotated factual-consistency files, each by a named format, into one shape.

- ``qags`` (QAGS-C): ``article``, ``summary_sentences`` [{``sentence``, ``responses`` [{``response``:
  "yes"|"no"}]}]. A sentence is consistent when most workers said yes; a summary when all its
  sentences are (the TRUE benchmark's rule); its graded score is the fraction of consistent sentences.
- ``summac`` (SummaC benchmark cuts, AggreFact, LLM-AggreFact): ``document`` (or ``doc``), ``claim``,
  ``label`` (1 = consistent, 0 = not); optional ``cut`` (``val`` or ``test``: the benchmark's own
  split, used by ``--split given``) and ``dataset`` / ``origin`` (the group figures are reported by:
  ``dataset`` where present, else ``origin``).
- ``summeval`` (SummEval): ``doc_id``, ``article``, ``summary``, ``scores.consistency`` (expert mean,
  1-5); the binary label is consistency == 5 (every expert gave full marks, as in TRUE).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import DataError
from harness.io import read_jsonl
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


def detect_format(record: dict) -> str | None:
    if "summary_sentences" in record:
        return "qags"
    if "claim" in record and ("document" in record or "doc" in record):
        return "summac"
    if "scores" in record and "summary" in record:
        return "summeval"
    return None


def _require(record: dict, fields: tuple[str, ...], fmt: str, path: str, number: int) -> None:
    for name in fields:
        if name not in record:
            raise DataError(f"missing field {name!r} (format {fmt} needs {', '.join(fields)})", file=path,
                            record=number, field=name)


def _qags(record, path, number) -> ConsistencyExample:
    _require(record, ("article", "summary_sentences"), "qags", path, number)
    sentences, labels = [], []
    for item in record["summary_sentences"]:
        votes = [r.get("response") for r in item.get("responses", [])]
        if not votes:
            raise DataError("a summary sentence has no responses", file=path, record=number, field="responses")
        sentences.append(str(item["sentence"]))
        labels.append(int(sum(v == "yes" for v in votes) * 2 > len(votes)))
    return ConsistencyExample(text_sha256(record["article"])[:16], record["article"], " ".join(sentences),
                              tuple(sentences), tuple(labels), int(all(labels)), sum(labels) / len(labels))


CUTS = ("val", "test")


def _summac(record, path, number) -> ConsistencyExample:
    document = "document" if "document" in record else "doc"
    _require(record, (document, "claim", "label"), "summac", path, number)
    label = record["label"]
    if label not in (0, 1) or isinstance(label, float) and not label.is_integer():
        raise DataError(f"label {label!r} is not 0 (inconsistent) or 1 (consistent)", file=path, record=number,
                        field="label")
    cut = record.get("cut")
    if cut is not None and cut not in CUTS:
        raise DataError(f"cut {cut!r} is not one of {', '.join(CUTS)}", file=path, record=number, field="cut")
    group = record.get("dataset") or record.get("origin")
    return ConsistencyExample(text_sha256(record[document])[:16], record[document], record["claim"],
                              label=int(label), cut=cut, group=None if group is None else str(group))


def _summeval(record, path, number) -> ConsistencyExample:
    _require(record, ("doc_id", "article", "summary", "scores"), "summeval", path, number)
    if "consistency" not in record["scores"]:
        raise DataError("no consistency score", file=path, record=number, field="scores.consistency")
    score = float(record["scores"]["consistency"])
    return ConsistencyExample(str(record["doc_id"]), record["article"], record["summary"],
                              label=int(score >= 5.0), score=score)


READERS = {"qags": _qags, "summac": _summac, "summeval": _summeval}


def read_consistency(path: str | Path, fmt: str | None = None) -> tuple[str, list[ConsistencyExample]]:
    """(format, examples) of an annotated file; the format is detected from the first record when not given."""
    records = read_jsonl(Path(path))
    if not records:
        raise DataError("no records", file=str(path))
    fmt = fmt or detect_format(records[0])
    if fmt not in READERS:
        raise DataError(f"unknown consistency format {fmt!r}: give --format, one of {', '.join(FORMATS)}",
                        file=str(path))
    return fmt, [READERS[fmt](r, str(path), n) for n, r in enumerate(records, start=1)]
