"""``summaries.jsonl`` (one row per article: ``article_id``, ``system``, ``text`` and how it was
made: ``output_tokens``, ``article_tokens_cut``...) and ``references.jsonl`` (the articles a run
scored: ``id``, ``title``, ``bullets``, ``paragraphs``): written by a run, read by the report page,
the gate's re-scoring, ``harness compare --marks`` and ``harness meta-eval --marks``."""

from __future__ import annotations

import json
from pathlib import Path

from harness.io import write_jsonl_atomic
from harness.results.run_dir import REFERENCES, SUMMARIES
from harness.results.schema import ResultsError


def write_summaries(directory: Path, rows: list[dict]) -> None:
    write_jsonl_atomic(Path(directory) / SUMMARIES, rows)


def write_references(directory: Path, articles) -> None:
    """The articles a run scored (``Article``s), as it read them."""
    write_jsonl_atomic(Path(directory) / REFERENCES, [
        {"id": a.id, "title": a.title, "bullets": list(a.bullets), "paragraphs": list(a.paragraphs)}
        for a in articles])


def read_summary_rows(directory: Path) -> list[dict]:
    """Every row of a run directory's summaries.jsonl (each with its ``article_id`` and ``text``)."""
    return _rows(Path(directory) / SUMMARIES, ("article_id", "text"), "summaries")


def read_summaries(directory: Path) -> dict[str, str]:
    """Article id -> summary text from a run directory's summaries.jsonl."""
    return {row["article_id"]: row["text"] for row in read_summary_rows(directory)}


def read_references(directory: Path, *, missing_ok: bool = False) -> list:
    """The articles a run scored (``Article``s) from its references.jsonl (``missing_ok``: none when
    the run wrote none)."""
    from harness.data.article import Article

    path = Path(directory) / REFERENCES
    if missing_ok and not path.exists():
        return []
    rows = _rows(path, ("id", "title", "paragraphs", "bullets"), "references")
    return [Article(id=row["id"], title=row["title"], paragraphs=tuple(row["paragraphs"]),
                    bullets=tuple(row["bullets"])) for row in rows]


def _rows(path: Path, keys: tuple[str, ...], what: str) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as e:
        raise ResultsError(f"{path}: cannot read it ({e.strerror or e})") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            missing = [k for k in keys if k not in row] if isinstance(row, dict) else list(keys)
        except (ValueError, RecursionError) as e:
            raise ResultsError(f"{path}, line {number}: not JSON ({e}); rerun the run that wrote it") from None
        if missing:
            raise ResultsError(f"{path}, line {number}: not a {what} row (no {', '.join(missing)}); "
                               "rerun the run that wrote it")
        rows.append(row)
    return rows
