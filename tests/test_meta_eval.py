"""Meta-evaluation of consistency scorers: readers of the annotated formats, the protocol, the composite."""

import json

import numpy as np
import pytest

from harness.errors import DataError
from harness.meta_eval.consistency import apply_composite, evaluate, fit_composite, make_split, run
from harness.meta_eval.consistency_data import read_consistency
from harness.metrics.consistency.entity_precision import EntityPrecision

from .helpers.cli import harness
from .helpers.labelled import entity_rows, qags_rows


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_qags_reader_applies_the_majority_and_all_sentences_rules(tmp_path):
    fmt, examples = read_consistency(_write(tmp_path / "q.jsonl", qags_rows(2)))
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
    _, examples = read_consistency(_write(tmp_path / "q.jsonl", qags_rows(8)))
    (result,) = run({"entity": EntityPrecision()}, examples, n_resamples=100)
    # "Nine" and "Paris" are not in the article: the entity scorer separates the two kinds.
    assert result["roc_auc"][0] == 1.0 and result["sentence_roc_auc"][0] == 1.0
    assert result["balanced_accuracy"][0] == 1.0 and result["n_test"] + result["n_dev"] == 8
    assert result["spearman"][0] == pytest.approx(1.0)


def test_evaluate_is_deterministic(tmp_path):
    _, examples = read_consistency(_write(tmp_path / "q.jsonl", qags_rows(8)))
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
    data = _write(tmp_path / "qags.jsonl", qags_rows(8))
    done = harness("meta-eval", "--data", str(data), "--metrics", "consistency_entity,consistency_embedding",
                   "--n-resamples", "50", "--out", str(tmp_path / "out"), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "(format qags; split half" in done.stdout and "| consistency_entity | half |" in done.stdout
    assert "| composite(consistency_entity+consistency_embedding) | half |" in done.stdout
    saved = json.loads((tmp_path / "out" / "meta_eval.json").read_text())
    assert [r["scorer"] for r in saved["results"]][:2] == ["consistency_entity", "consistency_embedding"]


# --- The published protocol: --split half|given|none, per dataset/origin groups, macro averages.

# (group, cut, score, label) for one hand-made AggreFact-style file; the figures below are worked out by hand.
_ROWS = [("A", "val", 0.2, 0), ("A", "val", 0.6, 1), ("A", "test", 0.3, 0), ("A", "test", 0.5, 1),
         ("A", "test", 0.45, 0), ("A", "test", 0.7, 1),
         ("B", "val", 0.7, 0), ("B", "val", 0.9, 1), ("B", "test", 0.75, 0), ("B", "test", 0.85, 1),
         ("B", "test", 0.78, 1), ("B", "test", 0.9, 0)]


def _aggrefact(tmp_path):
    rows = [{"doc": f"Document {i}.", "claim": f"Claim {i}.", "label": label, "cut": cut, "dataset": group,
             "origin": "cnndm"} for i, (group, cut, _, label) in enumerate(_ROWS)]
    _, examples = read_consistency(_write(tmp_path / "aggrefact.jsonl", rows))
    return examples, np.array([score for _, _, score, _ in _ROWS])


def test_aggrefact_rows_are_read_with_their_cut_and_dataset(tmp_path):
    examples, _ = _aggrefact(tmp_path)
    assert [(e.group, e.cut, e.label) for e in examples] == [(g, c, lab) for g, c, _, lab in _ROWS]
    assert examples[0].article == "Document 0." and examples[0].summary == "Claim 0."


def test_split_given_tunes_on_the_val_cut_only_per_group_and_reports_the_macro_average(tmp_path):
    examples, scores = _aggrefact(tmp_path)
    split = make_split(examples, "given")
    assert split.dev == (0, 1, 6, 7) and split.test == (2, 3, 4, 5, 8, 9, 10, 11)
    result = evaluate("x", scores, [[] for _ in examples], examples, split=split, n_resamples=50)
    a, b = result["groups"]["A"], result["groups"]["B"]
    # A: val 0.2 (0) / 0.6 (1) -> threshold 0.4 (with the test rows it would be 0.475). On test,
    # 0.3 and 0.45 are the negatives: 0.45 >= 0.4 is a false positive -> BA (1 + 1/2) / 2; AUC 1.
    assert a["threshold"] == pytest.approx(0.4) and a["n_dev"] == 2 and a["n_test"] == 4
    assert a["balanced_accuracy"][0] == pytest.approx(0.75) and a["roc_auc"][0] == 1.0
    # B: val 0.7 (0) / 0.9 (1) -> 0.8; test 0.85 (1) and 0.9 (0) above it, 0.78 (1) and 0.75 (0) below.
    assert b["threshold"] == pytest.approx(0.8)
    assert b["balanced_accuracy"][0] == pytest.approx(0.5) and b["roc_auc"][0] == pytest.approx(0.5)
    assert result["macro_balanced_accuracy"][0] == pytest.approx(0.625)
    assert result["macro_roc_auc"][0] == pytest.approx(0.75)
    # Pooled: one threshold from all val rows (0.4: BA 0.75 there, first of the best); on test every
    # positive is above it and only 0.3 of the four negatives below: (1 + 1/4) / 2.
    assert result["tuned_threshold"] == pytest.approx(0.4) and result["n_dev"] == 4 and result["n_test"] == 8
    assert result["balanced_accuracy"][0] == pytest.approx(0.625)
    assert result["split"] == "given" and result["threshold_from"] == "val cut"


def test_split_none_takes_the_config_threshold_and_everything_is_test(tmp_path):
    examples, scores = _aggrefact(tmp_path)
    split = make_split(examples, "none")
    assert split.dev == () and len(split.test) == 12
    result = evaluate("x", scores, [[] for _ in examples], examples, split=split, fixed_threshold=0.5, n_resamples=50)
    # A at 0.5: positives 0.6, 0.5, 0.7 in, negatives 0.2, 0.3, 0.45 out -> 1.0; B: everything is >= 0.5 -> 0.5.
    assert result["groups"]["A"]["balanced_accuracy"][0] == 1.0 and result["groups"]["B"]["balanced_accuracy"][0] == 0.5
    assert result["macro_balanced_accuracy"][0] == pytest.approx(0.75) and result["tuned_threshold"] == 0.5
    assert result["n_dev"] == 0 and result["n_test"] == 12


def test_split_given_without_a_cut_names_the_fix(tmp_path):
    _, examples = read_consistency(_write(tmp_path / "s.jsonl", [{"document": "D", "claim": "C", "label": 1}]))
    with pytest.raises(DataError, match="--dev FILE"):
        make_split(examples, "given")
    with pytest.raises(DataError, match="cut 'dev' is not one of val, test.*field 'cut'"):
        read_consistency(_write(tmp_path / "c.jsonl", [{"document": "D", "claim": "C", "label": 1, "cut": "dev"}]))
    with pytest.raises(DataError, match="label 2 is not 0"):
        read_consistency(_write(tmp_path / "l.jsonl", [{"document": "D", "claim": "C", "label": 2}]))


def test_meta_eval_command_split_given_and_dev_file(tmp_path):
    rows = entity_rows()
    data = _write(tmp_path / "both.jsonl", rows)
    done = harness("meta-eval", "--data", str(data), "--metrics", "consistency_entity", "--split", "given",
                   "--n-resamples", "20", "--out", str(tmp_path / "out"), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp_path / "out" / "meta_eval.json").read_text())
    (result,) = saved["results"]
    # Val scores 0.5 (label 0) and 1.0 (label 1): the threshold is their midpoint; test is separated.
    assert saved["split"] == "given" and result["tuned_threshold"] == pytest.approx(0.75)
    assert result["n_dev"] == 4 and result["n_test"] == 6 and result["balanced_accuracy"][0] == 1.0
    assert set(result["groups"]) == {"X", "Y"} and result["macro_balanced_accuracy"][0] == 1.0
    assert "split given" in done.stdout and "| consistency_entity | given |" in done.stdout
    assert "| consistency_entity | **macro average** | 6 |" in done.stdout
    # The same cut as two files: --dev FILE holds the val rows, every row of --data is test.
    def cut(name):
        return [{k: v for k, v in r.items() if k != "cut"} for r in rows if r["cut"] == name]

    dev, test = _write(tmp_path / "val.jsonl", cut("val")), _write(tmp_path / "test.jsonl", cut("test"))
    done = harness("meta-eval", "--data", str(test), "--dev", str(dev), "--metrics", "consistency_entity",
                   "--n-resamples", "20", "--out", str(tmp_path / "out2"), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    again = json.loads((tmp_path / "out2" / "meta_eval.json").read_text())["results"][0]
    assert {k: again[k] for k in ("tuned_threshold", "n_dev", "n_test", "balanced_accuracy", "groups")} == \
        {k: result[k] for k in ("tuned_threshold", "n_dev", "n_test", "balanced_accuracy", "groups")}
    # --split none: the calibration's summary threshold (not the sentence flag one), no composite, all 10 rows test.
    from harness.calibration.file import read_calibration

    done = harness("meta-eval", "--data", str(data), "--metrics", "consistency_entity,consistency_embedding",
                   "--split", "none", "--n-resamples", "20", "--out", str(tmp_path / "out3"), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out3" / "meta_eval.json").read_text())["results"]
    assert [r["scorer"] for r in results] == ["consistency_entity", "consistency_embedding"]
    summary_threshold = read_calibration().summary_threshold("consistency_entity")
    assert summary_threshold != read_calibration().threshold("consistency_entity", "flag")
    assert results[0]["tuned_threshold"] == summary_threshold and results[0]["n_test"] == 10
    assert results[0]["balanced_accuracy"][0] == 1.0


# --- meta-eval --marks: the editors' sentence verdicts (harness review's marks.json) as labelled data


def test_marks_sentence_verdicts_become_labelled_examples(tmp_path):
    from harness.meta_eval.marks_data import marks_examples
    from harness.metrics.consistency.base import article_text
    from harness.results.summaries import read_references

    from .helpers.review_pages import make_runs, mark

    runs = make_runs(tmp_path)
    marks = [mark("bad", "a1", "reject", sentences=[(0, "unsupported")]),
             mark("bad", "a2", sentences=[(0, "unsupported")]),
             mark("good", "a1", sentences=[(0, "supported"), (1, "supported")]),
             {**mark("good", "a1", sentences=[(1, "unsupported")]), "editor": "bob"},  # 1 of 2: a tie, left out
             mark("good", "a2", sentences=[(0, "supported")]),
             mark("third", "a1", sentences=[(0, "supported")], summary_sha256="0" * 64)]  # changed: left out
    marks = [{"editor": "alice", **m} if "editor" not in m else m for m in marks]
    examples, read = marks_examples(runs, marks)
    assert read == {"sentences": 4, "ties": 1, "no_article": 0, "left_out": {"summary changed": 1,
                                                                            "article changed": 0},
                    "scorers": ["consistency_embedding", "consistency_entity"]}  # the page's flags
    by_sentence = {e.summary: e for e in examples}
    assert {s: e.label for s, e in by_sentence.items()} == {
        "Police said 40 officers died in Moscow.": 0, "Snow closed schools in Paris.": 0,
        "Russia sent troops on Thursday.": 1, "Snow closed schools in Boston.": 1}
    references = {a.id: article_text(a) for a in read_references(tmp_path / "runs" / "bad")}
    assert by_sentence["Snow closed schools in Paris."].article == references["a2"]
    assert by_sentence["Snow closed schools in Paris."].doc_id == "a2"  # the bootstrap resamples articles
    assert all(e.sentences == (e.summary,) for e in examples)
    (result,) = run({"entity": EntityPrecision(0.583)}, examples, split="none", n_resamples=50)
    # "40", "Moscow" and "Paris" are not in their articles; "Russia", "Thursday" and "Boston" are.
    assert result["n_test"] == 4 and result["n_test_consistent"] == 2 and result["roc_auc"][0] == 1.0
    assert result["tuned_threshold"] == 0.583 and result["balanced_accuracy"][0] == 1.0


def test_meta_eval_command_reads_a_marks_file(tmp_path, cache_dir, four_articles):
    import hashlib

    from harness.run import run as run_harness

    from .helpers.configs import config

    run_harness(config("system=lead3", f"data.path={four_articles}", "metrics=[consistency_entity]"),
                tmp_path / "review" / "0")
    results = json.loads((tmp_path / "review" / "0" / "results.json").read_text())
    scores = {r["article_id"]: r for r in map(json.loads, (tmp_path / "review" / "0" / "scores.jsonl").open())}
    summaries = [json.loads(line) for line in (tmp_path / "review" / "0" / "summaries.jsonl").open()]
    marks = [{"editor": "alice", "run": "lead-3", "run_key": results["run"]["identity_sha256"],
              "article_id": s["article_id"], "article_sha256": scores[s["article_id"]]["article_sha256"],
              "summary_sha256": hashlib.sha256(s["text"].encode()).hexdigest(), "mark": None, "note": "",
              "sentences": [{"index": 0, "text": "", "verdict": "supported" if i % 2 else "unsupported"}]}
             for i, s in enumerate(summaries)]
    path = tmp_path / "review" / "marks.json"
    path.write_text(json.dumps({"version": 3, "marks": marks}))
    # no --metrics: the scorers that flagged on the page (this run's only one), counted as sentences
    done = harness("meta-eval", "--marks", str(path), "--n-resamples", "20",
                   "--out", str(tmp_path / "out"), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "(format marks; split none" in done.stdout and "| consistency_entity | none |" in done.stdout
    assert "all test 4 sentences of 4 articles" in done.stdout and "summaries" not in done.stdout.split("\n")[0]
    assert "consistency_embedding" not in done.stdout
    assert "4 sentences the editors judged (label: consistent = supported)." in done.stdout
    (result,) = json.loads((tmp_path / "out" / "meta_eval.json").read_text())["results"]
    assert result["n_test"] == 4 and result["n_test_consistent"] == 2 and result["tuned_threshold"] == 0.583
    refused = harness("meta-eval", "--marks", str(path), "--data", str(path), cache_dir=tmp_path)
    assert refused.returncode == 2 and "without --data" in refused.stderr


def _hand_written_fit(features, labels, l2=1e-2):
    """The composite's fit before scikit-learn: L-BFGS-B on mean log loss + l2 * |w|^2 (bias free)."""
    from scipy.optimize import minimize

    mean, std = features.mean(axis=0), features.std(axis=0) + 1e-9
    x = np.hstack([(features - mean) / std, np.ones((len(features), 1))])
    y = labels.astype(float)

    def loss(w):
        z = x @ w
        return float(np.mean(np.logaddexp(0, z) - y * z) + l2 * np.sum(w[:-1] ** 2))

    def grad(w):
        p = 1 / (1 + np.exp(-(x @ w)))
        g = x.T @ (p - y) / len(y)
        g[:-1] += 2 * l2 * w[:-1]
        return g

    w = minimize(loss, np.zeros(x.shape[1]), jac=grad, method="L-BFGS-B").x
    return w, loss


def test_the_composite_fit_is_scikit_learns_and_equals_the_hand_written_one():
    """On 40 random problems (20-800 examples, 1-5 scorers): weights and bias within 2e-4 of the
    hand-written L-BFGS-B fit, composite scores within 1e-4, and a loss never above it (+1e-9):
    the differences are the old fit's stopping tolerance."""
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n, k = int(rng.integers(20, 800)), int(rng.integers(1, 6))
        labels = rng.integers(0, 2, n)
        features = np.column_stack([labels * rng.normal(0, 1) + rng.normal(0, rng.uniform(0.2, 3), n)
                                    for _ in range(k)])
        model = fit_composite(features, labels)
        old, loss = _hand_written_fit(features, labels)
        new = np.array([*model["weights"], model["bias"]])
        assert np.abs(new - old).max() <= 2e-4
        assert loss(new) <= loss(old) + 1e-9
        old_model = {**model, "weights": old[:-1].tolist(), "bias": float(old[-1])}
        assert np.abs(apply_composite(model, features) - apply_composite(old_model, features)).max() <= 1e-4
    with pytest.raises(DataError, match="both kinds"):
        fit_composite(features, np.ones(n, dtype=int))
