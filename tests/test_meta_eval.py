"""Meta-evaluation of consistency scorers: readers of the annotated formats, the protocol, the composite."""

import json

import numpy as np
import pytest

from harness.errors import DataError
from harness.meta_eval.consistency import apply_composite, evaluate, fit_composite, run
from harness.meta_eval.consistency_data import read_consistency
from harness.metrics.consistency.entity_precision import EntityPrecision

from .test_cli import harness


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _qags_rows(n=8):
    rows = []
    for d in range(n):
        article = f"Report {d}. Eight police officers were hurt in Almaty on Monday. Prices rose by 10 percent."
        good = {"sentence": "Eight police officers were hurt in Almaty.",
                "responses": [{"worker_id": w, "response": r} for w, r in enumerate(("yes", "yes", "no"))]}
        bad = {"sentence": "Nine police officers were hurt in Paris.",
               "responses": [{"worker_id": w, "response": r} for w, r in enumerate(("no", "no", "yes"))]}
        rows.append({"article": article, "summary_sentences": [good, bad] if d % 2 else [good]})
    return rows


def test_qags_reader_applies_the_majority_and_all_sentences_rules(tmp_path):
    fmt, examples = read_consistency(_write(tmp_path / "q.jsonl", _qags_rows(2)))
    assert fmt == "qags"
    assert examples[0].sentence_labels == (1,) and examples[0].label == 1 and examples[0].score == 1.0
    assert examples[1].sentence_labels == (1, 0) and examples[1].label == 0 and examples[1].score == 0.5
    assert examples[1].summary == "Eight police officers were hurt in Almaty. Nine police officers were hurt in Paris."


def test_summac_and_summeval_readers(tmp_path):
    _, summac = read_consistency(_write(tmp_path / "s.jsonl", [{"document": "D", "claim": "C", "label": 0}]))
    assert summac[0].label == 0 and summac[0].score is None and summac[0].summary == "C"
    rows = [{"doc_id": "x", "article": "A", "summary": "S", "scores": {"consistency": c}} for c in (5.0, 4.67)]
    fmt, summeval = read_consistency(_write(tmp_path / "e.jsonl", rows), "summeval")
    assert fmt == "summeval" and [e.label for e in summeval] == [1, 0] and summeval[1].score == 4.67


def test_reader_errors_name_the_record_and_field(tmp_path):
    with pytest.raises(DataError, match="'claim'.*record 1"):
        read_consistency(_write(tmp_path / "s.jsonl", [{"document": "D", "label": 1}]), "summac")
    with pytest.raises(DataError, match="unknown consistency format"):
        read_consistency(_write(tmp_path / "x.jsonl", [{"text": "?"}]))


def test_protocol_on_a_scorer_that_separates_the_classes(tmp_path):
    _, examples = read_consistency(_write(tmp_path / "q.jsonl", _qags_rows(8)))
    (result,) = run({"entity": EntityPrecision()}, examples, n_resamples=100)
    # "Nine" and "Paris" are not in the article: the entity scorer separates the two kinds.
    assert result["roc_auc"][0] == 1.0 and result["sentence_roc_auc"][0] == 1.0
    assert result["balanced_accuracy"][0] == 1.0 and result["n_test"] + result["n_dev"] == 8
    assert result["spearman"][0] == pytest.approx(1.0)


def test_evaluate_is_deterministic(tmp_path):
    _, examples = read_consistency(_write(tmp_path / "q.jsonl", _qags_rows(8)))
    scores = np.linspace(0, 1, len(examples))
    first = evaluate("x", scores, [[] for _ in examples], examples, n_resamples=200)
    assert first == evaluate("x", scores, [[] for _ in examples], examples, n_resamples=200)


def test_composite_learns_the_informative_feature():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    features = np.column_stack([labels + rng.normal(0, 0.3, 400), rng.normal(0, 1, 400)])
    model = fit_composite(features, labels)
    assert model["weights"][0] > 1 and abs(model["weights"][1]) < 0.3
    predicted = apply_composite(model, features) >= 0.5
    assert (predicted == labels.astype(bool)).mean() > 0.9


def test_meta_eval_command_on_a_qags_file(tmp_path):
    data = _write(tmp_path / "qags.jsonl", _qags_rows(8))
    done = harness("meta-eval", "--data", str(data), "--metrics", "consistency_entity,consistency_embedding",
                   "--n-resamples", "50", "--out", str(tmp_path / "out"), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "(format qags)" in done.stdout and "| consistency_entity |" in done.stdout
    assert "| composite(consistency_entity+consistency_embedding) |" in done.stdout
    saved = json.loads((tmp_path / "out" / "meta_eval.json").read_text())
    assert [r["scorer"] for r in saved["results"]][:2] == ["consistency_entity", "consistency_embedding"]
