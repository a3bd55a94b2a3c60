"""Reader of the REALSumm content-unit format: one JSON line per (article, system summary) with
``doc_id``, ``system``, ``summary``, ``scus`` (the reference's content units) and ``scu_present``
(the human 0/1 label of each unit in the summary)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import DataError
from harness.meta_eval.consistency_data import read_records


@dataclass(frozen=True)
class UnitLabels:
    doc_id: str
    system: str
    summary: str
    units: tuple[str, ...]
    present: tuple[int, ...]

    @property
    def pyramid(self) -> float:
        """The human pyramid score: the fraction of units present."""
        return sum(self.present) / len(self.present)


def read_realsumm(path: str | Path) -> list[UnitLabels]:
    rows = []
    for number, record in read_records(path):  # each a JSON object, in UTF-8: else an error naming the line
        for field in ("doc_id", "system", "summary", "scus", "scu_present"):
            if field not in record:
                raise DataError(f"missing field {field!r} (format realsumm needs doc_id, system, summary, "
                                "scus, scu_present)", file=str(path), record=number, field=field)
        units, present = record["scus"], record["scu_present"]
        if not units or len(units) != len(present):
            raise DataError(f"{len(units)} units but {len(present)} labels", file=str(path), record=number,
                            field="scu_present")
        rows.append(UnitLabels(str(record["doc_id"]), str(record["system"]), str(record["summary"]),
                               tuple(map(str, units)), tuple(int(bool(p)) for p in present)))
    if not rows:
        raise DataError("no records", file=str(path))
    return rows
