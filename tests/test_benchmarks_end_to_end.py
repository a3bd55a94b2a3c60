"""benchmarks/end_to_end.py's data: articles with a reference, one summary per system per article."""

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _benchmark():
    spec = importlib.util.spec_from_file_location("end_to_end", ROOT / "benchmarks" / "end_to_end.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _xsumfaith(path: Path) -> Path:
    rows = []
    for key in ("101", "102", "103", "104"):
        document = (f"Article {key} opens here. It goes on in a second sentence. A third one follows. "
                    "The fourth ends it.")
        rows.append({"bbcid": key, "document": document, "claim": f"System summary of {key}.", "model_name": "BERTS2S",
                     "label": 1, "origin": "xsum"})
        if key != "102":  # 102 has no reference: it must be skipped
            rows.append({"bbcid": key, "document": document, "claim": f"Reference of {key}.", "model_name": "Gold",
                         "label": 0, "origin": "xsum"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_articles_with_a_reference_get_one_summary_per_system(tmp_path):
    bench = _benchmark()
    articles = bench.reference_articles(_xsumfaith(tmp_path / "x.jsonl"), 3)
    assert [a.id for a in articles] == ["101", "103", "104"]
    assert [a.bullets for a in articles] == [("Reference of 101.",), ("Reference of 103.",), ("Reference of 104.",)]
    rows = bench.write_summaries(["lead3", "bullets"], articles, tmp_path / "cache", "cpu")
    assert Counter(r["article_id"] for r in rows) == {"101": 2, "103": 2, "104": 2}
    assert {r["system"] for r in rows} == {"lead-3", "reference-bullets"}
    by = {(r["article_id"], r["system"]): r["text"] for r in rows}
    assert by["103", "reference-bullets"] == "Reference of 103."
    assert by["103", "lead-3"].splitlines() == ["Article 103 opens here.", "It goes on in a second sentence.",
                                                 "A third one follows."]


def test_too_few_referenced_articles_name_how_many_there_are(tmp_path):
    with pytest.raises(SystemExit, match="only 3 articles"):
        _benchmark().reference_articles(_xsumfaith(tmp_path / "x.jsonl"), 4)
