"""Meta-eval inputs checked and outputs auditable (issue 15, items 4 and 5): every label and vote
validated with file, line, field and allowed values; per-example scores, split, thresholds and data
hashes saved; published figures chosen by dataset name and printed beside ours only under the same
protocol; the composite saved and used as a metric, computing the meta-eval's number."""

import hashlib
import json

import numpy as np
import pytest

from harness.cli import main
from harness.data.article import Article
from harness.errors import ConfigError, DataError
from harness.meta_eval.consistency import (
    audit_rows,
    data_record,
    dataset_name,
    evaluate,
    fitted_composite,
    make_split,
    published_lines,
    render,
    run,
)
from harness.meta_eval.consistency_data import read_consistency
from harness.metrics.consistency.base import SentenceConsistency
from harness.metrics.consistency.composite import CompositeConsistency

from .helpers.cli import harness, one_line


def meta_eval(args: list[str]) -> int:
    """`harness meta-eval ARGS` as users run it: through the command's one error path."""
    return main(["meta-eval", *args])


def _write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def _error(path, fmt=None) -> str:
    with pytest.raises(DataError) as caught:
        read_consistency(path, fmt)
    return str(caught.value)


# --- Inputs checked: every label and vote, with file, line, field and the allowed values.

SUMMAC_ALLOWED = "allowed values are the numbers 0 and 1"


@pytest.mark.parametrize("label", ["maybe", None, -1, 2, 0.7, True, False, "1"])
def test_every_bad_summac_label_names_file_line_field_and_allowed_values(tmp_path, label):
    path = _write(tmp_path / "s.jsonl", [{"document": "D", "claim": "C", "label": 1},
                                         {"document": "D", "claim": "C", "label": label}])
    assert _error(path) == (f"label {label!r} is not 0 (inconsistent) or 1 (consistent): {SUMMAC_ALLOWED} "
                            f"(file '{path}', record 2, field 'label')")


def test_good_summac_labels_are_read_as_ints(tmp_path):
    path = _write(tmp_path / "s.jsonl", [{"document": "D", "claim": "C", "label": v} for v in (0, 1, 0.0, 1.0)])
    assert [e.label for e in read_consistency(path)[1]] == [0, 1, 0, 1]


def _qags(responses):
    return {"article": "A.", "summary_sentences": [{"sentence": "S.", "responses": [{"response": r}
                                                                                  for r in responses]}]}


def test_qags_votes_are_case_and_whitespace_insensitive(tmp_path):
    path = _write(tmp_path / "q.jsonl", [_qags(["Yes", "YES", " no "]), _qags(["No", "NO", "yes"])])
    assert [e.label for e in read_consistency(path)[1]] == [1, 0]


@pytest.mark.parametrize("vote", ["maybe", None, 1, "y"])
def test_a_bad_qags_vote_names_file_line_field_and_allowed_values(tmp_path, vote):
    path = _write(tmp_path / "q.jsonl", [_qags(["yes"]), _qags(["yes", vote])])
    assert _error(path) == (f"response {vote!r} is not a vote: allowed values are \"yes\" and \"no\" (any case) "
                            f"(file '{path}', record 2, field 'summary_sentences[0].responses[1].response')")


@pytest.mark.parametrize("score", ["5", None, 0.5, 6, True])
def test_a_bad_summeval_score_is_refused(tmp_path, score):
    path = _write(tmp_path / "e.jsonl", [{"doc_id": "x", "article": "A", "summary": "S",
                                          "scores": {"consistency": score}}])
    assert _error(path, "summeval") == (f"consistency score {score!r} is not a number from 1 to 5 (the experts' "
                                        f"mean) (file '{path}', record 1, field 'scores.consistency')")


def test_a_broken_line_is_reported_by_its_own_line_number(tmp_path):
    good = json.dumps({"document": "D", "claim": "C", "label": 1})
    path = _write(tmp_path / "s.jsonl", [good, good, "", good, '{"document": "D", "claim": "C", "label": 1'])
    assert _error(path) == (f"line 5 is not valid JSON: Expecting ',' delimiter at column 43 "
                            f"(file '{path}', record 5)")
    # A bad label after a blank line names its line, not its position among the records.
    path = _write(tmp_path / "b.jsonl", [good, "", json.dumps({"document": "D", "claim": "C", "label": 2})])
    assert "(file " in _error(path) and "record 3, field 'label'" in _error(path)


def test_the_command_reports_a_bad_label_without_a_traceback(tmp_path, capsys):
    path = _write(tmp_path / "s.jsonl", [{"document": "D", "claim": "C", "label": "maybe"}])
    assert meta_eval(["--data", str(path), "--metrics", "consistency_entity"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: label 'maybe' is not 0") and "record 1, field 'label'" in err
    assert "Traceback" not in err


# --- Published figures: by dataset name (data or --dataset), beside ours only under the same protocol.

def _labelled(tmp_path, n=12, dataset=None, cut=True):
    rows = [{"document": f"Document {i}.", "claim": f"Claim {i}.", "label": i % 2,
             **({"cut": "val" if i < n // 2 else "test"} if cut else {}),
             **({"dataset": dataset} if dataset else {})} for i in range(n)]
    return read_consistency(_write(tmp_path / "factcc_test.jsonl", rows))[1]


def test_published_figures_are_chosen_by_dataset_name_not_by_the_path(tmp_path):
    examples = _labelled(tmp_path)  # the path says factcc; the data does not
    assert dataset_name(examples) is None
    scores = np.linspace(0, 1, len(examples))
    split = make_split(examples, "given")
    result = evaluate("x", scores, [[] for _ in examples], examples, split=split, n_resamples=20)
    assert "Published" not in render([result], "factcc_test.jsonl", "summac", split)
    assert dataset_name(_labelled(tmp_path, dataset="factcc")) == "factcc"
    assert dataset_name(examples, "polytope") == "polytope"
    with pytest.raises(DataError, match="unknown dataset 'xsum'"):
        dataset_name(examples, "xsum")
    text = render([result], "any.jsonl", "summac", split, "factcc")
    assert ("Published on factcc (protocol: the SummaC benchmark's: threshold tuned on the val cut, figures on "
            "the test cut; ours: --split given (val cut), the same): SummaC-ZS BA 83.8") in text


def test_published_figures_under_another_protocol_are_marked_not_comparable():
    (line,) = published_lines("factcc", "half")
    assert line.startswith("Published on factcc: not comparable: published under the SummaC benchmark's: "
                           "threshold tuned on the val cut, figures on the test cut (our --split given), ours "
                           "under --split half (dev half); for reference only: SummaC-ZS BA 83.8")
    assert published_lines("summeval", "none")[0].startswith("Published on summeval (protocol: summary-level")
    assert "not comparable" in published_lines("summeval", "half")[0]
    assert published_lines(None, "half") == [] and published_lines("xsum", "given") == []


# --- Auditable outputs and the composite as a metric.

class _Overlap(SentenceConsistency):
    """Share of a sentence's words in the article (cheap, deterministic)."""
    key, display = "overlap", "Overlap"

    def __init__(self, threshold=0.5):
        super().__init__(threshold)

    def judge(self, items):
        return [[{"score": len(set(s.lower().split()) & set(text.lower().split())) / len(s.split())}
                 for s in sentences] for sentences, text in items]


class _Length(SentenceConsistency):
    key, display = "length", "Length"

    def __init__(self, threshold=0.5):
        super().__init__(threshold)

    def describe(self):
        return {**super().describe(), "unit": "words"}

    def judge(self, items):
        return [[{"score": min(len(s.split()) / 12, 1.0)} for s in sentences] for sentences, text in items]


FAKES = {"fake_overlap": _Overlap, "fake_length": _Length}


def _overlap_rows(n=16):
    rows = []
    for i in range(n):
        article = f"Report {i}. Officials in Almaty said eight police officers were hurt on Monday."
        claim = (f"Officials said eight police officers were hurt{' on Monday' * (i % 3)}." if i % 2 else
                 f"Officials in Paris said nine soldiers died{' last week' * (i % 3)}.")
        rows.append({"document": article, "claim": claim, "label": i % 2})
    return rows


def _fake_meta_eval(tmp_path):
    """The two fake scorers meta-evaluated on the overlap rows: (path, examples, split, results, outputs)."""
    path = _write(tmp_path / "data.jsonl", _overlap_rows())
    _, examples = read_consistency(path)
    split = make_split(examples, "half")
    outputs: dict = {}
    results = run({name: cls() for name, cls in FAKES.items()}, examples, split=split, n_resamples=20,
                  outputs=outputs)
    return path, examples, split, results, outputs


def test_audit_rows_and_the_composite_round_trip_to_1e9(tmp_path, monkeypatch):
    path, examples, split, results, outputs = _fake_meta_eval(tmp_path)
    data = data_record([path])
    assert data == [{"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}]
    rows = audit_rows(examples, split, outputs)
    assert [r["index"] for r in rows] == list(range(16)) and [r["line"] for r in rows] == list(range(1, 17))
    assert {r["part"] for r in rows} == {"dev", "test"}
    assert sorted(i for i, r in enumerate(rows) if r["part"] == "dev") == list(split.dev)
    assert rows[0]["label"] == 0 and set(rows[0]["scores"]) == {"fake_overlap", "fake_length", "composite"}
    assert rows[0]["scores"]["fake_overlap"] == pytest.approx(np.mean(rows[0]["sentence_scores"]["fake_overlap"]))
    saved = fitted_composite(results, data)
    assert saved["inputs"][1] == {"metric": "fake_length", "key": "length", "describe": {"scorer": "length",
                                                                                          "unit": "words"}}
    assert saved["fitted_on"] == f"dev half ({len(split.dev)} examples)" and saved["split"] == "half"
    assert saved["threshold"] == results[-1]["tuned_threshold"] and saved["data"] == data
    weights = tmp_path / "composite.json"
    weights.write_text(json.dumps(saved))

    monkeypatch.setattr("harness.config.load_metric", lambda name: FAKES[name]())
    metric = CompositeConsistency(str(weights))
    pairs = [(e.summary, Article(str(i), "", (e.article,), ())) for i, e in enumerate(examples)]
    scored = metric.score_many(pairs)
    assert np.allclose([r["score@composite"] for r in scored], outputs["composite"], rtol=0, atol=1e-9)
    assert [r["score@composite"] for r in scored] == pytest.approx([r["scores"]["composite"] for r in rows],
                                                                   abs=1e-9)
    assert [r["consistent@composite"] for r in scored] == [int(r["score@composite"] >= saved["threshold"])
                                                           for r in scored]
    assert set(metric.columns()) == {"score@composite", "consistent@composite"}
    assert metric.columns()["score@composite"].higher_is_better is True
    assert metric.score(*pairs[0])["score@composite"] == pytest.approx(scored[0]["score@composite"], abs=1e-12)
    assert metric.describe()["inputs"] == ["fake_overlap", "fake_length"]

    # Inputs that no longer score as they did when fitted are refused, naming the input and the fix.
    saved["inputs"][1]["describe"]["unit"] = "characters"
    weights.write_text(json.dumps(saved))
    with pytest.raises(ConfigError, match=r"input 'fake_length' of .*composite.json no longer matches "
                                          r"conf/metrics/fake_length.yaml \(changed: unit\).*--save-composite"):
        CompositeConsistency(str(weights))


def test_a_missing_or_foreign_weights_file_names_the_fix(tmp_path):
    with pytest.raises(ConfigError, match=r"no fitted composite at .*nothere.json; fit and save one: harness "
                                          r"meta-eval --data FILE --metrics A,B --save-composite"):
        CompositeConsistency(str(tmp_path / "nothere.json"))
    (tmp_path / "other.json").write_text('{"weights": [1]}')
    with pytest.raises(ConfigError, match="is not a saved composite"):
        CompositeConsistency(str(tmp_path / "other.json"))


def test_save_composite_needs_something_to_fit(tmp_path, capsys):
    path = _write(tmp_path / "s.jsonl", [{"document": "D", "claim": "C", "label": 1}])
    for extra in (["--metrics", "consistency_entity"], ["--split", "none"]):
        assert meta_eval(["--data", str(path), "--save-composite", str(tmp_path / "c.json"), *extra]) == 2
        one_line(2, capsys.readouterr().err, "harness meta-eval: --save-composite needs")


def test_meta_eval_out_is_auditable_and_its_composite_is_what_a_run_computes(tmp_path):
    from .helpers.labelled import entity_rows as _entity_rows

    data = _write(tmp_path / "data.jsonl", [{**r, "dataset": "factcc"} for r in _entity_rows()])
    out, saved = tmp_path / "out", tmp_path / "saved.json"
    done = harness("meta-eval", "--data", str(data), "--metrics", "consistency_entity,consistency_embedding",
                   "--split", "given", "--n-resamples", "20", "--out", str(out), "--save-composite", str(saved),
                   cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Published on factcc (protocol: the SummaC benchmark's" in done.stdout
    assert "Composite: logistic regression on consistency_entity, consistency_embedding (standardised), fitted " \
           "on the val cut (4 examples); weights consistency_entity " in done.stdout
    audit = json.loads((out / "audit.json").read_text())
    assert audit["data"] == [{"path": str(data), "sha256": hashlib.sha256(data.read_bytes()).hexdigest()}]
    assert audit["dataset"] == "factcc" and audit["format"] == "summac" and audit["n_examples"] == 10
    summary = json.loads((out / "meta_eval.json").read_text())
    assert summary["dataset"] == "factcc" and summary["data_files"] == audit["data"]
    assert audit["split"]["mode"] == "given" and audit["split"]["dev"] == [0, 1, 6, 7]
    assert audit["thresholds"]["consistency_entity"]["threshold"] == pytest.approx(0.75)
    # The rows' "dataset" (one for all) groups them before their "origin" does.
    assert audit["thresholds"]["consistency_entity"]["groups"] == {"factcc": pytest.approx(0.75)}
    rows = [json.loads(line) for line in (out / "examples.jsonl").read_text().splitlines()]
    assert [r["part"] for r in rows] == ["dev" if r["cut"] == "val" else "test" for r in rows]
    assert rows[1]["scores"]["consistency_entity"] == 0.5 and rows[1]["label"] == 0
    composite = json.loads((out / "composite.json").read_text())
    assert composite == json.loads(saved.read_text())
    assert [i["metric"] for i in composite["inputs"]] == ["consistency_entity", "consistency_embedding"]
    assert composite["fitted_on"] == "val cut (4 examples)" and composite["split"] == "given"
    # Given the saved weights, the metric (real inputs, loaded by conf name) gives the meta-eval's scores.
    _, examples = read_consistency(data)
    metric = CompositeConsistency(str(saved))
    scored = metric.score_many([(e.summary, Article(str(i), "", (e.article,), ())) for i, e in enumerate(examples)])
    assert np.allclose([r["score@composite"] for r in scored], [r["scores"]["composite"] for r in rows],
                       rtol=0, atol=1e-9)


def test_the_shipped_composite_loads_with_its_conf():
    from harness.calibration.file import SHIPPED

    calibration = json.loads(SHIPPED.read_text())
    saved = calibration["composite"]
    assert calibration["protocol"] == "leave-one-dataset-out" and saved["split"] == "lodo"
    assert [i["metric"] for i in saved["inputs"]] == ["consistency_embedding", "consistency_entity",
                                                      "consistency_lemmas", "consistency_claims"]
    assert {d["path"].rsplit("/", 1)[-1] for d in saved["data"]} >= {"mturk_cnndm.jsonl", "xsumfaith_test.jsonl"}
    assert all(w >= 0 for w in saved["model"]["weights"])  # non-negative by construction
    assert len(saved["held_out"]) == len(saved["data"])  # a figure on every set left out
    CompositeConsistency(str(SHIPPED))  # its inputs still match


def test_save_composite_refuses_when_nothing_was_fitted(tmp_path, capsys):
    """One article: its seeded dev half is empty, so no composite is fitted, and no null file is written.
    (Two summaries of both labels: fewer, or one label, is refused before any scoring.)"""
    path = _write(tmp_path / "s.jsonl", [{"document": "Eight officers were hurt.", "claim": "Eight were hurt.",
                                          "label": 1},
                                         {"document": "Eight officers were hurt.", "claim": "Nine were hurt.",
                                          "label": 0}])
    saved = tmp_path / "c.json"
    code = meta_eval(["--data", str(path), "--metrics", "consistency_entity,consistency_embedding",
                      "--n-resamples", "10", "--save-composite", str(saved)])
    assert code == 2 and "--save-composite: no composite was fitted" in capsys.readouterr().err
    assert not saved.exists()


def test_a_composite_in_metrics_is_scored_from_its_inputs(tmp_path, monkeypatch):
    """Listed with (or without) its inputs, a saved composite is scored from them, not crashed on."""
    path, examples, split, results, outputs = _fake_meta_eval(tmp_path)
    weights = tmp_path / "composite.json"
    weights.write_text(json.dumps(fitted_composite(results, data_record([path]))))
    monkeypatch.setattr("harness.config.load_metric", lambda name: FAKES[name]())
    composite = CompositeConsistency(str(weights))
    for metrics in ({"fake_overlap": FAKES["fake_overlap"](), "consistency_composite": composite},
                    {"consistency_composite": composite}):
        again: dict = {}
        scored = run(metrics, examples, split=split, n_resamples=20, outputs=again)
        assert scored[-1]["scorer"] == "consistency_composite"  # no composite is fitted on a composite
        assert np.allclose(again["scorers"]["consistency_composite"][0], outputs["composite"], rtol=0, atol=1e-12)
