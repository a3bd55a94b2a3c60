"""The benchmarks' CNN/DM evaluation set: the first N distinct articles of SummEval, read at run
time from ../shared/data (never committed), with their first reference as the bullets."""

from __future__ import annotations

import json
from pathlib import Path

SUMMEVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "summeval" / "summeval.jsonl"


def load_set(path: Path, n: int) -> tuple[list[dict], list]:
    """(CNN/DM-style records ``{id, article, highlights}``, the same as harness Articles)."""
    from harness.data.formats import row_to_article

    rows, articles, seen = [], [], set()
    with open(path, encoding="utf-8") as f:
        for index, line in enumerate(f):
            row = json.loads(line)
            if row["doc_id"] in seen:
                continue
            seen.add(row["doc_id"])
            record = {"id": row["doc_id"], "article": row["article"], "highlights": row["references"][0]}
            rows.append(record)
            articles.append(row_to_article(record, "cnn_dailymail", file=str(path), index=index))
            if len(articles) == n:
                break
    return rows, articles
