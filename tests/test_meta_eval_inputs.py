"""meta-eval's inputs: a scorer of the wrong kind for the task is refused before anything is scored,
and a data file that is not UTF-8 (Latin-1, UTF-16) is named with its file and line, one line and
exit 2 (the data loader's reading rules)."""

import json
from pathlib import Path

import pytest

from .helpers.cli import call, one_line


def _lines(path: Path, records, encoding="utf-8") -> Path:
    path.write_bytes("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode(encoding))
    return path


SUMMAC = [{"document": "Police arrived at the café. They left.", "claim": "Police arrived.", "label": 1},
          {"document": "Police arrived at the café. They left.", "claim": "Nobody came.", "label": 0}]
REALSUMM = [{"doc_id": "d", "system": "s", "summary": "Police arrived at the café.", "scus": ["police arrived"],
             "scu_present": [1]}]


@pytest.mark.parametrize("task, metrics, message", [
    ("consistency", "rouge", "--metrics rouge: not a consistency scorer (Rouge)"),
    ("consistency", "consistency_entity,coverage_lexical", "--metrics coverage_lexical: not a consistency scorer"),
    ("coverage", "rouge", "--metrics rouge: not a coverage matcher (Rouge)"),
    ("coverage", "coverage_lexical,consistency_entity", "--metrics consistency_entity: not a coverage matcher"),
    ("coverage", "nope", "no metric config 'nope'"),
])
def test_meta_eval_refuses_a_scorer_of_the_wrong_kind_before_scoring(tmp_path, capsys, task, metrics, message):
    data = _lines(tmp_path / "d.jsonl", SUMMAC if task == "consistency" else REALSUMM)
    code, out, err = call(capsys, "meta-eval", "--task", task, "--data", data, "--metrics", metrics,
                          "--split", "none")
    one_line(code, err, message)
    assert out == ""


@pytest.mark.parametrize("task", ["consistency", "coverage"])
@pytest.mark.parametrize("encoding, message", [
    ("latin-1", "not UTF-8 text (byte {byte}) at line 2: re-encode the file as UTF-8 (it may be Latin-1"),
    ("utf-16", "the file is UTF-16 text (it starts with a UTF-16 byte-order mark)"),
])
def test_meta_eval_names_a_file_that_is_not_utf8_with_its_line(tmp_path, capsys, task, encoding, message):
    records = SUMMAC if task == "consistency" else REALSUMM * 2
    good = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[:1]).encode("utf-8")
    rest = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[1:]).encode(encoding)
    path = tmp_path / "d.jsonl"
    path.write_bytes(rest if encoding == "utf-16" else good + rest)
    code, _, err = call(capsys, "meta-eval", "--task", task, "--data", path, "--split", "none",
                        "--metrics", "consistency_entity" if task == "consistency" else "coverage_lexical")
    byte = len(good) + rest.index("é".encode(encoding)) if encoding == "latin-1" else None
    one_line(code, err, message.format(byte=byte), f"(file '{path}')")


def test_dev_file_in_latin1_is_named_too(tmp_path, capsys):
    data = _lines(tmp_path / "test.jsonl", SUMMAC)
    dev = _lines(tmp_path / "dev.jsonl", SUMMAC, encoding="latin-1")
    code, _, err = call(capsys, "meta-eval", "--data", data, "--dev", dev, "--metrics", "consistency_entity")
    one_line(code, err, "not UTF-8 text", "at line 1", f"(file '{dev}')")


@pytest.mark.parametrize("split", ["half", "none"])
@pytest.mark.parametrize("records, message", [
    (SUMMAC[:1], "1 example(s): agreement with people needs at least 2, of both labels"),
    ([SUMMAC[0], {**SUMMAC[0], "claim": "They arrived."}], "every labelled example is consistent (label 1)"),
    ([SUMMAC[1], {**SUMMAC[1], "claim": "None came."}], "every labelled example is inconsistent (label 0)"),
])
def test_meta_eval_refuses_data_no_agreement_can_be_measured_on(tmp_path, capsys, split, records, message):
    """A one-row or one-class file said "All-NaN slice encountered"; now one line naming the file."""
    data = _lines(tmp_path / "d.jsonl", records)
    code, out, err = call(capsys, "meta-eval", "--data", data, "--metrics", "consistency_entity", "--split", split)
    one_line(code, err, message, str(data))
