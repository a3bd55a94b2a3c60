"""Bad inputs, tried systematically through `run()` (the path `harness run` takes): each gets its
exact error class and message, or, where the input is legal but odd, a run that says what it did.
Nothing else is lost: a finished run beside them stays byte-identical, and a failed run never
leaves a results.json that claims completion.
"""

import errno
import hashlib
import json
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException

from harness.data.article import Article
from harness.errors import ConfigError, DataError, HarnessError, ModelLoadError, RunDirError
from harness.run import run

from .helpers.cli import one_line
from .helpers.configs import config, tiny

LATIN1 = b"Titre\n\n* Caf\xe9\n\nCorps."
GOOD = {"id": "ok", "title": "T", "body": "Police fired at protesters. Eight officers died.",
        "bullets": ["Eight died."]}


def jsonl(tmp_path: Path, rows, name="data.jsonl") -> str:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def data(tmp_path: Path, rows) -> list[str]:
    return [f"data.path={jsonl(tmp_path, rows)}"]


def raw(tmp_path: Path, data: bytes, name: str) -> str:
    (tmp_path / name).write_bytes(data)
    return str(tmp_path / name)


def pickled_model(tmp_path: Path, tiny_causal_dir: Path) -> str:
    import shutil

    target = tmp_path / "pickled"
    shutil.copytree(tiny_causal_dir, target)
    for weights in target.glob("*.safetensors"):
        weights.rename(weights.with_suffix(".bin"))
    return str(target)


# (case id, overrides builder (tmp_path, tiny_causal_dir) -> list, expected error class, message regex)
FAILURES = [
    ("empty body", lambda t, m: data(t, [{**GOOD, 'body': ''}]), DataError,
     r"'body' is missing or empty .*record 'ok', field 'body'"),
    ("whitespace body", lambda t, m: data(t, [{**GOOD, "body": " \n\t "}]), DataError,
     r"missing or empty"),
    ("bullets missing", lambda t, m: data(t, [{k: v for k, v in GOOD.items() if k != 'bullets'}]),
     DataError, r"unknown columns \['body', 'id', 'title'\].*records: bullets"),
    ("bullets empty", lambda t, m: data(t, [{**GOOD, 'bullets': []}]), DataError,
     r"no reference bullets"),
    ("bullets blank", lambda t, m: data(t, [{**GOOD, 'bullets': ['  ', '']}]), DataError,
     r"no reference bullets"),
    ("bullets not a list", lambda t, m: data(t, [{**GOOD, 'bullets': 'one'}]), DataError,
     r"'bullets' must be a list of strings"),
    ("duplicate ids", lambda t, m: data(t, [GOOD, GOOD]), DataError,
     r"duplicate article id .*record 'ok'"),
    ("non-UTF-8 bytes", lambda t, m: [f"data.path={raw(t, LATIN1, 'latin1.txt')}"],
     DataError, r"not UTF-8 text \(byte \d+\)"),
    ("broken JSON line", lambda t, m: data(t, [GOOD, '{not json']), DataError,
     r"invalid JSON.*line 2"),
    ("record not an object", lambda t, m: data(t, ['[1, 2]']), DataError,
     r"each record must be a JSON object"),
    ("unknown columns", lambda t, m: data(t, [{'id': 1, 'text': 'x', 'label': 0}]), DataError,
     r"unknown columns \['id', 'label', 'text'\]"),
    ("unsupported file type", lambda t, m: [f"data.path={raw(t, b'<a/>', 'data.xml')}"], DataError,
     r"unsupported file type '\.xml'"),
    ("no such data file", lambda t, m: [f"data.path={t / 'missing.jsonl'}"], DataError, r"no such file or directory"),
    ("empty data file", lambda t, m: [f"data.path={raw(t, b'', 'empty.jsonl')}"], DataError, r"no records|no articles"),
    ("limit zero", lambda t, m: ["data.limit=0"], DataError, r"data.limit must be a positive integer, got 0"),
    ("negative max tokens", lambda t, m: list(tiny(m, "decoding.max_new_tokens=-5")), ConfigError,
     r"decoding 'greedy': max_new_tokens must be > 0"),
    ("max tokens wrong type", lambda t, m: list(tiny(m, "decoding.max_new_tokens=many")), ConfigError,
     r"decoding.max_new_tokens must be an integer, got 'many'"),  # checked before anything is built
    ("temperature wrong type", lambda t, m: list(tiny(m, "decoding=sampling", "decoding.temperature=hot")),
     ConfigError, r"temperature must be a number, got 'hot'"),
    ("lead-k with k=0", lambda t, m: ["system=lead3", "system.k=0"], ConfigError, r"k must be"),
    ("prompt without {article}", lambda t, m: list(tiny(m, "prompt.template=Summarize.")), ConfigError,
     r"\{article\}"),
    ("threshold wrong type", lambda t, m: ["system=lead3", "metrics=[coverage_lexical]",
                                          "metrics.coverage_lexical.threshold=high"], ConfigError,
     r"metrics.coverage_lexical.threshold must be a number, got 'high'"),
    ("nonexistent model path", lambda t, m: ["system=causal_lm", f"system.model={t / 'nope'}"], ModelLoadError,
     r"no such directory or file"),
    ("offline hub id", lambda t, m: ["system=causal_lm", "system.model=some-org/not-cached-model"], ModelLoadError,
     r"not in the local Hugging Face cache.*hf download some-org/not-cached-model"),
    ("GGUF wrong file name", lambda t, m: ["system.gguf_file=SmolLM2-wrong.gguf"], ModelLoadError,
     r"no GGUF file 'SmolLM2-wrong.gguf'.*SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("pickled weights only", lambda t, m: ["system=causal_lm", f"system.model={pickled_model(t, m)}"],
     ModelLoadError, r"no \.safetensors weights.*pickled \.bin files can run code"),
    ("nonexistent encoder", lambda t, m: ["system=lead3", "metrics=[coverage_semantic]",
                                         f"metrics.coverage_semantic.matcher.model={t / 'no-encoder'}"],
     ModelLoadError, r"no such directory or file"),
    ("judge prompt without placeholders", lambda t, m: ["system=lead3", "metrics=[consistency_judge]",
                                                       f"metrics.consistency_judge.model={m}",
                                                       "metrics.consistency_judge.gguf_file=null",
                                                       "metrics.consistency_judge.prompt=Is it true?"],
     ConfigError, r"must contain \{article\} and \{sentence\}"),
]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished run that every bad input below must leave untouched."""
    directory = tmp_path_factory.mktemp("finished") / "run"
    run(config("system=lead3", "metrics=[rouge]"), directory)
    return directory, {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()}


def assert_untouched(finished):
    directory, digests = finished
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()} == digests


@pytest.mark.parametrize("case,overrides,error,message", FAILURES, ids=[c[0] for c in FAILURES])
def test_bad_input_fails_with_its_error(case, overrides, error, message, tmp_path, cache_dir, tiny_causal_dir,
                                        finished):
    out = tmp_path / "run"
    with pytest.raises(error, match=message):
        run(config("metrics=[rouge]", *overrides(tmp_path, tiny_causal_dir)), out)
    assert not (out / "results.json").exists()  # the app writes status: failed; never a completed marker
    assert_untouched(finished)


def test_unknown_config_key_is_refused_at_composition(finished):
    with pytest.raises(ConfigCompositionException, match="Could not override 'decoding.temprature'"):
        config("decoding.temprature=0.7")
    with pytest.raises(ConfigCompositionException, match="Could not find 'system/nonexistent'"):
        config("system=nonexistent")
    assert_untouched(finished)


def test_finished_run_directory_is_refused(finished):
    with pytest.raises(RunDirError, match=r"already holds a finished run \(lead-3\); a finished run is never "
                                          r"overwritten\. Run again in a new directory: hydra\.run\.dir=PATH"):
        run(config("system=lead3", "metrics=[rouge]"), finished[0])
    assert_untouched(finished)


def test_article_without_sentence_breaks_is_one_sentence(tmp_path, cache_dir):
    text = "police fired at protesters " * 40
    results = run(config("system=lead3", "metrics=[rouge]", f"data.path={jsonl(tmp_path, [{**GOOD, 'body': text}])}"),
                  tmp_path / "run")
    (summary,) = [json.loads(line) for line in (tmp_path / "run" / "summaries.jsonl").read_text().splitlines()]
    assert summary["text"] == text.strip() and results["status"] == "completed"


def test_non_english_article_runs_and_rouge_counts_its_words(tmp_path, cache_dir):
    # Our ROUGE tokenizer keeps Cyrillic words (rouge-score's keeps [a-z0-9] only and said 0).
    # lead-3 = both sentences, 8 words; the bullet's 2 words are both in it: P = 2/8, R = 2/2,
    # F1 = 2 * 0.25 * 1 / 1.25 = 0.4.
    row = {**GOOD, "body": "Полиция открыла огонь по протестующим. Погибли восемь офицеров.",
           "bullets": ["Погибли восемь."]}
    results = run(config("system=lead3", "metrics=[rouge,coverage_semantic]", f"data.path={jsonl(tmp_path, [row])}"),
                  tmp_path / "run")
    assert results["metrics"]["rouge/rougeLsum_f"] == pytest.approx(0.4, abs=1e-9)
    assert 0 < results["metrics"]["coverage/bullet_score@semantic"] <= 1


def test_200k_word_article_is_cut_and_the_cut_reported(tmp_path, cache_dir, tiny_causal_dir):
    body = " ".join(["police officers were killed in the city"] * 28_600)  # 200,200 words
    data = jsonl(tmp_path, [{**GOOD, "body": body}])
    results = run(config(*tiny(tiny_causal_dir), "metrics=[rouge]", f"data.path={data}"), tmp_path / "run")
    assert results["generation"]["truncated"] == 1 and results["generation"]["article_tokens_cut"] > 199_000
    assert "article tokens cut from the end" in (tmp_path / "run" / "report.md").read_text()


def test_whitespace_summary_is_kept_counted_and_scored_zero(tmp_path, cache_dir, monkeypatch):
    from harness.systems.base import Generation
    from harness.systems.extractive import ReferenceBullets

    monkeypatch.setattr(ReferenceBullets, "summarize", lambda self, a, p, d: Generation(text=" \n\t "))
    results = run(config("system=bullets", "metrics=[rouge,coverage_lexical,consistency_embedding]"), tmp_path / "r")
    assert results["generation"]["empty"] == 1
    assert results["metrics"]["coverage/bullet_recall@lexical"] == 0.0
    assert results["metrics"]["consistency/score@embedding"] == 0.0


def test_corrupt_cache_entry_is_moved_aside_and_regenerated(tmp_path, cache_dir, tiny_causal_dir, caplog):
    run(config(*tiny(tiny_causal_dir), "metrics=[rouge]"), tmp_path / "first")
    (entry,) = (cache_dir / "generations").glob("*/*.json")
    entry.write_text("{half a json", encoding="utf-8")
    results = run(config(*tiny(tiny_causal_dir), "metrics=[rouge]"), tmp_path / "second")
    assert results["generation"]["generated"] == 1 and results["generation"]["cached"] == 0
    assert entry.with_suffix(".corrupt").exists() and json.loads(entry.read_text())["generation"]["text"] is not None
    assert "corrupt generation cache entry" in caplog.text


def test_disk_full_on_write_leaves_no_partial_file(tmp_path, cache_dir, monkeypatch, finished):
    import harness.io

    real_fsync = harness.io.os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(harness.io.os, "fsync", full)
    out = tmp_path / "run"
    with pytest.raises((OSError, HarnessError), match="No space left on device"):  # io.py: StorageError
        run(config("system=lead3", "metrics=[rouge]"), out)
    monkeypatch.setattr(harness.io.os, "fsync", real_fsync)
    assert list(out.glob("*")) == [] or all(not p.name.endswith(".tmp") for p in out.iterdir())
    assert not (out / "results.json").exists()
    assert_untouched(finished)
    results = run(config("system=lead3", "metrics=[rouge]"), out)  # space back: the same command completes
    assert results["status"] == "completed"


# ---------------------------------------------------------------------------------------------
# Data: values checked, never coerced; files, encodings and directories (load_articles directly:
# the same loader `harness run` calls). Each case: files to write, then the exact error text, with
# {d} standing for the directory they are in.

def _rows(*rows) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


BAD_DATA = [
    ("id a boolean", {"a.jsonl": _rows({**GOOD, "id": True})},
     "'id' must be a string or an integer, got a boolean (true) (file '{d}/a.jsonl', record 'line 1', field 'id')"),
    ("id a float", {"a.jsonl": _rows(GOOD, {**GOOD, "id": 1.0})},
     "'id' must be a string or an integer, got a float (1.0) (file '{d}/a.jsonl', record 'line 2', field 'id')"),
    ("id NaN", {"a.jsonl": '{"id": NaN, "body": "B.", "bullets": ["b"]}\n'},
     "'id' must be a string or an integer, got a float (nan) (file '{d}/a.jsonl', record 'line 1', field 'id')"),
    ("id an object", {"a.jsonl": _rows({**GOOD, "id": {"n": 1}})},
     "'id' must be a string or an integer, got an object (file '{d}/a.jsonl', record 'line 1', field 'id')"),
    ("id a list", {"a.json": json.dumps([GOOD, {**GOOD, "id": ["x"]}])},
     "'id' must be a string or an integer, got a list (file '{d}/a.json', record 'item 2', field 'id')"),
    ("id null", {"a.jsonl": _rows({**GOOD, "id": None})},
     "'id' is null: give each record an id (file '{d}/a.jsonl', record 'line 1', field 'id')"),
    ("id missing", {"a.jsonl": _rows({k: v for k, v in GOOD.items() if k != "id"})},
     "record has no 'id' (file '{d}/a.jsonl', record 'line 1', field 'id')"),
    ("id empty", {"a.jsonl": _rows({**GOOD, "id": ""})},
     "'id' is empty (file '{d}/a.jsonl', record 'line 1', field 'id')"),
    ("id whitespace", {"a.jsonl": _rows({**GOOD, "id": " \t"})},
     "'id' is only whitespace (file '{d}/a.jsonl', record 'line 1', field 'id')"),
    ("id too long", {"a.jsonl": _rows({**GOOD, "id": "x" * 1001})},
     "'id' is 1,001 characters long (at most 1,000): is a text in the id column? (file '{d}/a.jsonl', "
     "record 'line 1', field 'id')"),
    ("id a float in CNN/DailyMail", {"a.jsonl": _rows({"id": 2.5, "article": "A.", "highlights": "h"})},
     "'id' must be a string or an integer, got a float (2.5) (file '{d}/a.jsonl', record 'line 1', field 'id')"),
    ("title a list", {"a.jsonl": _rows({**GOOD, "title": ["T"]})},
     "'title' must be a string or null, got a list (file '{d}/a.jsonl', record 'ok', field 'title')"),
    ("title a number", {"a.jsonl": _rows({"id": "x", "document": "D.", "summary": "S.", "title": 7})},
     "'title' must be a string or null, got an integer (file '{d}/a.jsonl', record 'x', field 'title')"),
    ("bullets a string", {"a.jsonl": _rows({**GOOD, "bullets": "one"})},
     "'bullets' must be a list of strings, got a string (file '{d}/a.jsonl', record 'ok', field 'bullets')"),
    ("bullets null", {"a.jsonl": _rows({**GOOD, "bullets": None})},
     "'bullets' must be a list of strings, got null (file '{d}/a.jsonl', record 'ok', field 'bullets')"),
    ("a bullet not a string", {"a.jsonl": _rows({**GOOD, "bullets": ["a", 3]})},
     "'bullets' must be a list of strings: item 2 is an integer (file '{d}/a.jsonl', record 'ok', field 'bullets')"),
    ("a paragraph not a string", {"a.jsonl": _rows({"id": "p", "paragraphs": ["P.", None], "bullets": ["b"]})},
     "'paragraphs' must be a list of strings: item 2 is null (file '{d}/a.jsonl', record 'p', field 'paragraphs')"),
    ("body a list", {"a.jsonl": _rows({**GOOD, "body": ["P."]})},
     "'body' must be a string, got a list (file '{d}/a.jsonl', record 'ok', field 'body')"),
    ("highlights a list", {"a.jsonl": _rows({"id": "c", "article": "A.", "highlights": ["h"]})},
     "'highlights' must be a string, got a list (file '{d}/a.jsonl', record 'c', field 'highlights')"),
    ("both paragraphs and body", {"a.jsonl": _rows({**GOOD, "paragraphs": ["P."]})},
     "both 'paragraphs' and 'body' are given: keep one (the other would be ignored) (file '{d}/a.jsonl', "
     "record 'ok', field 'body')"),
    ("a lone surrogate", {"a.jsonl": '{"id": "s", "body": "B.", "bullets": ["b\\ud800"]}\n'},
     "'bullets' holds a lone surrogate \\ud800, which is not a character: fix the escape in the file "
     "(file '{d}/a.jsonl', record 's', field 'bullets')"),
    ("a repeated key", {"a.jsonl": _rows(GOOD, '{"id": "a", "id": "b", "body": "B.", "bullets": ["b"]}')},
     "invalid record: the key 'id' is repeated (which value counts?) (file '{d}/a.jsonl', record 'line 2')"),
    ("deep nesting", {"a.jsonl": _rows(GOOD, "[" * 100_000 + "]" * 100_000)},
     "invalid record: JSON nested too deeply to read (file '{d}/a.jsonl', record 'line 2')"),
    ("deep nesting in a .json array", {"a.json": "[" * 100_000 + "]" * 100_000},
     "invalid record: JSON nested too deeply to read (file '{d}/a.json')"),
    ("a huge integer", {"a.jsonl": _rows(GOOD, '{"id": ' + "9" * 5000 + "}")},
     "invalid record: Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; "
     "use sys.set_int_max_str_digits() to increase the limit (file '{d}/a.jsonl', record 'line 2')"),
    ("broken JSON in a .json array", {"a.json": '[\n{"id": "a"},\n{"id" "b"}\n]'},
     "invalid JSON: Expecting ':' delimiter (column 7) (file '{d}/a.json', record 'line 3')"),
    ("a .json object, not records", {"a.json": json.dumps({"data": [GOOD]}, indent=2)},
     "the file is one JSON document holding an object: expected an array of records ([{{...}}, ...]) or one record "
     "per line (JSON Lines) (file '{d}/a.json')"),
    ("a JSON array in a .jsonl file", {"a.jsonl": json.dumps([GOOD], indent=2)},
     "the file is one JSON array spread over lines, not JSON Lines (one record per line): name it .json "
     "(file '{d}/a.jsonl')"),
    ("a record not an object", {"a.jsonl": _rows(GOOD, "5")},
     "each record must be a JSON object, got an integer (file '{d}/a.jsonl', record 'line 2')"),
    ("an array item not an object", {"a.json": json.dumps([GOOD, "x"])},
     "each record must be a JSON object, got a string (file '{d}/a.json', record 'item 2')"),
    ("UTF-16 with a byte-order mark", {"a.jsonl": _rows(GOOD).encode("utf-16")},
     "the file is UTF-16 text (it starts with a UTF-16 byte-order mark): re-encode it as UTF-8 (file '{d}/a.jsonl')"),
    ("UTF-32", {"a.txt": "Title\n* b\n\nBody.".encode("utf-32")},
     "the file is UTF-32 text (it starts with a UTF-32 byte-order mark): re-encode it as UTF-8 (file '{d}/a.txt')"),
    ("UTF-16 without a byte-order mark", {"a.jsonl": _rows(GOOD).encode("utf-16-le")},
     "NUL byte at line 1 (byte 1): not a UTF-8 text file (UTF-16 without a byte-order mark, or binary?); "
     "re-encode it as UTF-8 (file '{d}/a.jsonl')"),
    ("Latin-1 on line 2", {"a.jsonl": _rows(GOOD).encode() + b'{"id": "x", "body": "Caf\xe9"}\n'},
     "not UTF-8 text (byte 139) at line 2: re-encode the file as UTF-8 (it may be Latin-1 or Windows-1252) "
     "(file '{d}/a.jsonl')"),
    ("Latin-1 after a UTF-8 byte-order mark", {"a.txt": b"\xef\xbb\xbfT\n* Caf\xe9\n\nB."},
     "not UTF-8 text (byte 10) at line 2: re-encode the file as UTF-8 (it may be Latin-1 or Windows-1252) "
     "(file '{d}/a.txt')"),
    ("CSV row with too few fields", {"a.csv": "id,article,highlights\n1,A.,h\n2,B.\n"},
     "2 fields, but the header has 3 (file '{d}/a.csv', record 'line 3')"),
    ("CSV header repeats a column", {"a.csv": "id,article,highlights,id\n1,A.,h,2\n"},
     "the header repeats the column(s) 'id' (file '{d}/a.csv', record 'line 1', field 'columns')"),
    ("CSV empty id", {"a.csv": "id,article,highlights\n,A.,h\n"},
     "'id' is empty (file '{d}/a.csv', record 'line 2', field 'id')"),
    ("CSV duplicate after a multi-line cell", {"a.csv": 'id,article,highlights\n1,"A.\n\nMore.",h\n1,B.,h\n'},
     "duplicate article id at line 5 (first at line 2) (file '{d}/a.csv', record '1', field 'id')"),
    ("duplicate ids across files", {"a.jsonl": _rows(GOOD), "b.jsonl": _rows({**GOOD, "id": "x"}, GOOD)},
     "duplicate article id at line 2 (first at line 1 of {d}/a.jsonl) (file '{d}/b.jsonl', record 'ok', field 'id')"),
    ("the same .txt name in two cases", {"a.txt": "T\n* b\n\nB.", "a.TXT": "T\n* b\n\nB."},
     "duplicate article id (first at {d}/a.TXT) (file '{d}/a.txt', record 'a', field 'id')"),
    ("an empty directory", {},
     "directory holds no reference files (.txt, .jsonl, .json, .csv, .parquet, .arrow) (file '{d}')"),
    ("a directory of other files", {"notes.md": "x", ".hidden.jsonl": _rows(GOOD), "a.jsonl~": "x"},
     "directory holds no reference files (.txt, .jsonl, .json, .csv, .parquet, .arrow); skipped: .hidden.jsonl, "
     "a.jsonl~, notes.md (file '{d}')"),
    ("a sub-directory named like a data file", {"a.jsonl": _rows(GOOD), "more.jsonl/": None},
     "a sub-directory named like a reference file: directories are read one level deep; move its files up, or "
     "pass it as data.path (file '{d}/more.jsonl')"),
    ("a symbolic link loop", {"a.jsonl": _rows(GOOD), "l1.jsonl@": "l2.jsonl", "l2.jsonl@": "l1.jsonl"},
     "not a reference file but a symbolic link loop (file '{d}/l1.jsonl')"),
    ("a broken symbolic link", {"a.jsonl": _rows(GOOD), "b.jsonl@": "gone.jsonl"},
     "not a reference file but a broken symbolic link (file '{d}/b.jsonl')"),
    ("a FIFO named like a data file", {"a.jsonl": _rows(GOOD), "p.jsonl|": None},
     "not a reference file but a named pipe (FIFO) (file '{d}/p.jsonl')"),
]


def write_tree(directory: Path, files: dict) -> None:
    """``name``: text or bytes; ``name/``: a directory; ``name@``: a symbolic link to the value; ``name|``: a FIFO."""
    import os

    for name, content in files.items():
        if name.endswith("/"):
            (directory / name[:-1]).mkdir()
        elif name.endswith("@"):
            os.symlink(content, directory / name[:-1])
        elif name.endswith("|"):
            os.mkfifo(directory / name[:-1])
        elif isinstance(content, bytes):
            (directory / name).write_bytes(content)
        else:
            (directory / name).write_text(content, encoding="utf-8")


@pytest.mark.parametrize("case,files,message", BAD_DATA, ids=[c[0] for c in BAD_DATA])
def test_bad_data_is_named_exactly(case, files, message, tmp_path):
    from harness.data import load_articles

    write_tree(tmp_path, files)
    target = tmp_path / next(iter(files)) if len(files) == 1 else tmp_path
    with pytest.raises(DataError) as info:
        load_articles(str(target))
    assert str(info.value) == message.format(d=tmp_path)


@pytest.mark.parametrize("path, message", [
    ("loop.jsonl", "not a file or directory but a symbolic link loop (file '{d}/loop.jsonl')"),
    ("pipe.jsonl", "not a file or directory but a named pipe (FIFO) (file '{d}/pipe.jsonl')"),
    ("dangling.jsonl", "not a file or directory but a broken symbolic link (file '{d}/dangling.jsonl')"),
])
def test_data_path_that_is_no_file_is_named(tmp_path, path, message):
    from harness.data import load_articles

    write_tree(tmp_path, {"loop.jsonl@": "loop.jsonl", "pipe.jsonl|": None, "dangling.jsonl@": "nowhere"})
    with pytest.raises(DataError) as info:
        load_articles(str(tmp_path / path))
    assert str(info.value) == message.format(d=tmp_path)


def test_odd_but_legal_data_is_read_exactly(tmp_path, caplog):
    """Integer ids become their digits (0 is "0"), CSV ids stay the exact text ("1" and "01" are two
    ids), a null title is no title, a UTF-8 byte-order mark is dropped, CRLF and bare CR line ends
    are line ends, suffixes match in any case; hidden files and backups are skipped, by name."""
    from harness.data import load_articles

    write_tree(tmp_path, {
        "A.JSONL": b"\xef\xbb\xbf" + _rows({**GOOD, "id": 0, "title": None}).replace("\n", "\r\n").encode(),
        "b.Csv": "\ufeffid,article,highlights,title\r\n1,One.,h1,\r\n01,Two.,\"h2\r\nh3\",T2\r\n",
        "c.txt": "Title\r* bullet\r\rBody.\r",
        "d.csv": "article,highlights\nNo id.,h\n",
        ".a.jsonl.swp": "x", "a.jsonl~": "x", "README.md": "x", "sub/": None,
    })
    articles = load_articles(str(tmp_path))
    assert [(a.id, a.title, a.bullets) for a in articles] == [
        ("0", "", ("Eight died.",)), ("1", "", ("h1",)), ("01", "T2", ("h2", "h3")),
        ("c", "Title", ("bullet",)), ("d.csv#0", "", ("h",))]
    assert (f"data directory {tmp_path}: skipped 4 entries that are hidden or not reference files (.txt, .jsonl, "
            ".json, .csv, .parquet, .arrow): .a.jsonl.swp, README.md, a.jsonl~, sub") in caplog.text
    (single,) = load_articles(str(tmp_path / "d.csv"))
    assert single.id == "#0"


# ---------------------------------------------------------------------------------------------
# Hostile text: ids, titles, bullets and summaries reach report.md escaped, with invisible and
# layout-changing characters shown as escapes; rendered, the report has the structure we wrote.

HOSTILE_ID = '<img src=x onerror=alert(1)>|# id`x`'
HOSTILE_TITLE = "Police \u202eecnalubma\u202c arrive"  # renders as "Police ambulance arrive"


def test_hostile_ids_titles_and_text_cannot_change_report_md(tmp_path, cache_dir, seed_article):
    markdown_it = pytest.importorskip("markdown_it")
    row = {"id": HOSTILE_ID, "title": HOSTILE_TITLE, "paragraphs": list(seed_article.paragraphs),
           "bullets": ["Eight\r police\u200b officers | were killed", *seed_article.bullets[1:]]}
    data = jsonl(tmp_path, [row])
    results = run(config("system=bullets", "metrics=[rouge,coverage_lexical]", f"data.path={data}"), tmp_path / "run")
    assert results["status"] == "completed"
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert not {"\r", "\u202e", "\u202c", "\u200b"} & set(report)
    assert "### Police \\\\u202eecnalubma\\\\u202c arrive" in report
    assert "id: &lt;img src\\=x onerror\\=alert\\(1\\)&gt;\\|\\# id\\`x\\`" in report
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(report)
    assert "<img" not in rendered and "<code>" not in rendered
    assert rendered.count("<h1>") == 1 and rendered.count("<h3>") == 1
    assert "<h3>Police \\u202eecnalubma\\u202c arrive</h3>" in rendered
    assert "<p>id: &lt;img src=x onerror=alert(1)&gt;|# id`x`</p>" in rendered
    assert "<li>Eight\\r police\\u200b officers | were killed</li>" in rendered
    (coverage,) = [t for t in rendered.split("<table>") if "covered by summary sentence" in t]  # 4 cells a bullet
    assert coverage.count("<tr>") == 1 + len(row["bullets"]) and coverage.count("<td>") == 4 * len(row["bullets"])
    assert "<td>Eight\\r police\\u200b officers | were killed</td>" in coverage


@pytest.mark.parametrize("text, shown", [
    ("a\u202eb", "a\\u202eb"), ("x\ry", "x\\ry"),
    ("zero\u200bwidth\u2060joined\ufeff", "zero\\u200bwidth\\u2060joined\\ufeff"),
    ("\x1b[2Jcleared", "\\u001b[2Jcleared"), ("tag\U000e0041", "tag\\U000e0041"), ("line\u2028sep", "line\\u2028sep"),
    ("nul\x00del\x7fnel\x85", "nul\\u0000del\\u007fnel\\u0085"), ("lone\ud800", "lone\\ud800"),
    ("filler\u3164", "filler\\u3164"), ("kept: tab\tline\nend, café, 東京, 👍", "kept: tab\tline\nend, café, 東京, 👍"),
])
def test_visible_shows_every_hidden_character_as_an_escape(text, shown):
    from harness.text.visible import visible

    assert visible(text) == shown


def test_markdown_and_terminal_outputs_show_hidden_characters():
    from harness.reports.markdown import escape_md
    from harness.reports.text import aligned

    assert escape_md("it's a\rb\u202ec\nd") == "it&#x27;s a\\\\rb\\\\u202ec<br>d"
    assert aligned(["run"], [["x\x1b[31mred\u202e"]]) == "run\nx\\u001b[31mred\\u202e"


# ---------------------------------------------------------------------------------------------
# harness compare: every bad option or file an error naming it, exit 2, no traceback.

def _compare(capsys, *args) -> tuple[int, str]:
    from harness.cli import main

    code = main(["compare", *map(str, args)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("value, message", [
    ("0", "error: --n-resamples must be at least 1 (got 0); 10000 is the default\n"),
    ("-5", "error: --n-resamples must be at least 1 (got -5); 10000 is the default\n"),
    ("1000001", "error: --n-resamples must be at most 1,000,000 (got 1,000,001): the bootstrap holds every "
                "resample in memory; 10000 is the default\n"),
    (str(10 ** 30), f"error: --n-resamples must be at most 1,000,000 (got {10 ** 30:,}): the bootstrap holds every "
                    "resample in memory; 10000 is the default\n"),
])
def test_compare_n_resamples_out_of_range(finished, capsys, value, message):
    assert _compare(capsys, finished[0], "--n-resamples", value) == (2, message)


def test_compare_n_resamples_not_an_integer(finished, capsys):
    from harness.reports.compare import CompareError, check_n_resamples

    code, err = _compare(capsys, finished[0], "--n-resamples", "1e4")
    one_line(code, err, "harness compare: argument --n-resamples: invalid int value: '1e4'")
    for value in (True, 10.0, "100"):
        with pytest.raises(CompareError, match=f"--n-resamples must be an integer, got {value!r}"):
            check_n_resamples(value)


@pytest.mark.parametrize("content, message", [
    ('[{"run": "lead-3", "article_id": "x", "mark": "accept"}]', None),  # the bare list is accepted
    ('{"marks": 5}', '"marks" must be a list, got int'),
    ('{"marks": [5]}', "mark 1 must be an object with run, article_id and mark, got int"),
    ('[{"run": "lead-3", "article_id": "x", "mark": "maybe"}]',
     "mark 1 has mark 'maybe': expected 'accept' or 'reject'"),
    ('"marks"', 'expected {"marks": [...]} as report.html exports it'),
    ("[" * 100_000 + "]" * 100_000, "not a marks file exported from report.html (unreadable JSON: nested too deeply)"),
    (b"{\"marks\": [\"\xe9\"]}", "not UTF-8 text (byte 12): a marks file is JSON exported from report.html"),
])
def test_compare_malformed_marks_named(finished, capsys, tmp_path, content, message):
    marks = tmp_path / "marks.json"
    marks.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, err = _compare(capsys, finished[0], "--marks", marks)
    assert (code, err) == ((0, "") if message is None else (2, f"error: --marks {marks}: {message}\n"))


def test_compare_unreadable_marks_and_truncated_results_named(finished, capsys, tmp_path):
    import shutil

    assert _compare(capsys, finished[0], "--marks", tmp_path) == (
        2, f"error: --marks {tmp_path}: cannot read it (Is a directory)\n")
    assert _compare(capsys, finished[0], "--marks", tmp_path / "none.json") == (
        2, f"error: --marks {tmp_path / 'none.json'}: cannot read it (No such file or directory)\n")
    copy = tmp_path / "copy"
    shutil.copytree(finished[0], copy)
    results = copy / "results.json"
    results.write_bytes(results.read_bytes()[:100])
    code, err = _compare(capsys, copy)
    assert code == 2 and err.startswith(f"error: {results}: not valid JSON (Expecting ")
    assert err.endswith("; the file is damaged: rerun the run that wrote it\n")
    assert_untouched(finished)


@pytest.mark.parametrize("args, message", [
    (["--n-resamples", "0"], "error: --n-resamples must be at least 1 (got 0); 10000 is the default\n"),
    (["--limit", "0"], "error: --limit must be a positive integer, got 0\n"),
    (["--limit", "-1"], "error: --limit must be a positive integer, got -1\n"),  # [:-1] would drop the last one
])
def test_meta_eval_refuses_empty_resamples_and_limits(capsys, tmp_path, args, message):
    from harness.cli import main

    assert main(["meta-eval", "--data", str(tmp_path / "labels.jsonl"), *args]) == 2
    assert capsys.readouterr().err == message


def test_visible_strings_keeps_keys_and_identifiers():
    from harness.text.visible import visible_strings

    data = {"id": "a\u200b", "title": "T\u202e", "bullets": ["b\r", 1.5], "n\u200b": None}
    assert visible_strings(data, keep_keys={"id"}) == {"id": "a\u200b", "title": "T\\u202e",
                                                       "bullets": ["b\\r", 1.5], "n\u200b": None}


def test_parquet_ids_are_checked_by_row(tmp_path):
    import datasets

    from harness.data import load_articles

    path = tmp_path / "cnn.parquet"
    datasets.Dataset.from_dict({"id": [7, 8], "article": ["A.", "B."], "highlights": ["x", "y"],
                                "title": [None, "T"]}).to_parquet(str(path))
    assert [(a.id, a.title) for a in load_articles(str(path))] == [("7", ""), ("8", "T")]
    datasets.Dataset.from_dict({"id": [1.0, float("nan")], "article": ["A.", "B."],
                                "highlights": ["x", "y"]}).to_parquet(str(path))
    with pytest.raises(DataError) as info:
        load_articles(str(path))
    assert str(info.value) == (f"'id' must be a string or an integer, got a float (1.0) (file '{path}', "
                               "record 'row 1', field 'id')")


# --- issue 23: long one-paragraph text, $…$ in names, data options --------------------------------------


def _one_line(words: int) -> str:
    """``words`` words of numbered sentences on one line (a whole article in one paragraph)."""
    sentence = "Police said {n} officers were hurt when protesters set fire to the mayor's office."
    per = len(sentence.split())
    return " ".join(sentence.format(n=n) for n in range(words // per + 1))


@pytest.fixture
def segmenter_calls(monkeypatch):
    """The batches (lists of texts) the sentence segmenter is given, in order."""
    from harness.text import sentences

    calls: list[list[str]] = []
    nlp = sentences._pipeline()

    class Spy:
        def pipe(self, texts, batch_size=None):
            texts = list(texts)
            calls.append(texts)
            return nlp.pipe(texts, batch_size=batch_size)

    monkeypatch.setattr(sentences, "_pipeline", lambda: Spy())
    return calls


def test_a_one_paragraph_text_is_split_in_bounded_pieces_at_sentence_ends(segmenter_calls):
    from harness.text.sentences import MAX_BATCH_CHARS, SENTENCE_PIECE, split_sentences

    text = _one_line(12_000)  # about 80,000 characters on one line
    found = split_sentences(text)
    assert len(segmenter_calls) > 5
    assert all(sum(map(len, batch)) <= max(MAX_BATCH_CHARS, SENTENCE_PIECE) for batch in segmenter_calls)
    assert all(len(piece) <= SENTENCE_PIECE for batch in segmenter_calls for piece in batch)
    assert all(piece.endswith("office.") for batch in segmenter_calls for piece in batch)  # cut at sentence ends
    assert len(found) == len(text.split(". ")) and found[7] == (
        "Police said 7 officers were hurt when protesters set fire to the mayor's office.")


def test_lead_3_of_a_one_paragraph_article_splits_only_its_start(segmenter_calls):
    from harness.systems.extractive import LeadK

    body = _one_line(350_000)  # 2.4 million characters: the issue's article
    summary = LeadK(3).summarize(Article("long", "", (body,), ("b",)), None, None).text
    assert summary.splitlines() == [
        f"Police said {n} officers were hurt when protesters set fire to the mayor's office." for n in range(3)]
    assert len(segmenter_calls) == 1 and sum(map(len, segmenter_calls[0])) <= 10_000


@pytest.mark.parametrize(("line", "size", "expected"), [
    ("a" * 25, 10, ["a" * 10, "a" * 10, "a" * 5]),  # no space: cut at the size
    ("aaaa bbbb cccc dddd", 10, ["aaaa bbbb", "cccc dddd"]),  # at the last space
    ("One. Two three four five six. Seven.", 20, ["One. Two three four", "five six. Seven."]),
    ("Aa bb. Cc dd ee. Ff gg.", 12, ["Aa bb.", "Cc dd ee.", "Ff gg."]),  # at a sentence end in the second half
    ("short", 10, ["short"]),
])
def test_pieces_cut_at_a_sentence_end_else_a_space_else_the_size(line, size, expected):
    from harness.text.sentences import _pieces

    assert _pieces(line, size) == expected


def test_the_parser_is_given_bounded_batches_of_a_one_paragraph_text(monkeypatch):
    from harness.text import parse

    sizes: list[int] = []
    nlp = parse._pipeline()

    class Spy:
        def pipe(self, texts, batch_size=None):
            texts = list(texts)
            sizes.append(sum(map(len, texts)))
            return nlp.pipe(texts, batch_size=batch_size)

    monkeypatch.setattr(parse, "_pipeline", lambda: Spy())
    sentences = parse.parse(_one_line(6_000))
    assert len(sizes) > 3 and max(sizes) <= 10_000  # were 16 pieces of 100,000 characters at once (5 GB)
    assert len(sentences) == 6_000 // 14 + 1


RUN_NAMES = ["p$x^$", "cost $5 and $6", "$\\frac{a}{b}$", "$$", "a$b"]


@pytest.mark.parametrize("name", RUN_NAMES)
def test_a_dollar_in_a_run_or_metric_name_is_drawn_as_text_not_mathtext(name):
    from harness.reports.html import bar_chart_svg

    board = {"metric_info": {}, "metrics": [f"m$/{name}"], "sort_by": f"m$/{name}",
             "rows": [{"name": name, "metrics": {f"m$/{name}": {"mean": 0.5, "ci95": [0.4, 0.6]}}},
                      {"name": "other", "metrics": {f"m$/{name}": {"mean": 0.3, "ci95": [0.2, 0.4]}}}]}
    svg = bar_chart_svg(board)  # "p$x^$" raised matplotlib's ValueError: the run failed, no report.html
    assert f">{name}</text>" in svg and f">m$/{name}</text>" in svg  # each text drawn, as it is (SVG text)
    assert "Oblique" not in svg  # mathtext sets its letters in DejaVu Sans Oblique: "$5 and $" did
    import matplotlib

    assert matplotlib.rcParams["text.parse_math"] is True  # the setting is the chart's own, not the process's


def test_a_run_named_with_dollars_finishes_and_writes_its_report(tmp_path, cache_dir):
    results = run(config("system=lead3", "system.name='lead $x^$ three'", "metrics=[rouge]"), tmp_path / "run")
    assert results["status"] == "completed" and results["run"]["name"] == "lead $x^$ three"
    assert (tmp_path / "run" / "report.html").is_file()


def test_a_sample_larger_than_the_set_warns_with_the_sets_size(tmp_path, cache_dir, caplog):
    import logging

    rows = [{**GOOD, "id": f"a{i}"} for i in range(3)]
    with caplog.at_level(logging.WARNING, logger="harness.data.load"):
        results = run(config("system=lead3", "metrics=[rouge]", *data(tmp_path, rows), "data.sample=50"),
                      tmp_path / "run")
    assert results["run"]["n_articles"] == 3
    assert ["data.sample=50 is not smaller than the set, which has 3 articles: all of them are used" in r.getMessage()
            for r in caplog.records] == [True]


@pytest.mark.parametrize(("overrides", "message"), [
    (["data.fmt=nope"], r"unknown data format 'nope': set data.fmt to auto or one of .*field 'fmt'"),
    (["data.fmt=xsum", f"data.path={Path(__file__).parent / 'nothing'}.txt"], None),
])
def test_errors_about_the_format_name_data_fmt(tmp_path, overrides, message):
    if message is None:  # a .txt file read with a row format
        path = tmp_path / "a.txt"
        path.write_text("Title\n\n* Bullet.\n\nBody.\n", encoding="utf-8")
        overrides, message = ["data.fmt=xsum", f"data.path={path}"], (
            r"\.txt files are read as format 'text', not 'xsum': set data.fmt=auto \(or text\).*field 'fmt'")
    else:
        overrides = [*overrides, *data(tmp_path, [GOOD])]
    with pytest.raises(DataError, match=message):
        run(config("system=lead3", "metrics=[rouge]", *overrides), tmp_path / "run")


def test_no_error_names_a_data_format_setting():
    """The setting is data.fmt: no message may send a user to data.format (issue 23)."""
    import re

    root = Path(__file__).resolve().parent.parent / "harness"
    named = re.compile(r"\bdata\.format\b")  # not harness.data.formats, the module
    assert [p for p in root.rglob("*.py") if named.search(p.read_text(encoding="utf-8"))] == []
