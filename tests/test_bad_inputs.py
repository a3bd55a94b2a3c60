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

from harness.errors import ConfigError, DataError, ModelLoadError, RunDirError
from harness.run import run

from .test_run import config, tiny

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
     r"decoding 'greedy': max_new_tokens must be an integer, got 'many'"),
    ("temperature wrong type", lambda t, m: list(tiny(m, "decoding=sampling", "decoding.temperature=hot")),
     ConfigError, r"temperature must be a number, got 'hot'"),
    ("lead-k with k=0", lambda t, m: ["system=lead3", "system.k=0"], ConfigError, r"k must be"),
    ("prompt without {article}", lambda t, m: list(tiny(m, "prompt.template=Summarize.")), ConfigError,
     r"\{article\}"),
    ("threshold wrong type", lambda t, m: ["system=lead3", "metrics=[coverage_lexical]",
                                          "metrics.coverage_lexical.threshold=high"], ConfigError,
     r"config 'coverage_lexical'"),
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


def test_non_english_article_runs_and_rouge_says_zero(tmp_path, cache_dir):
    # rouge-score's tokenizer keeps ASCII letters only: documented in the ROUGE metric card.
    row = {**GOOD, "body": "Полиция открыла огонь по протестующим. Погибли восемь офицеров.",
           "bullets": ["Погибли восемь."]}
    results = run(config("system=lead3", "metrics=[rouge,coverage_semantic]", f"data.path={jsonl(tmp_path, [row])}"),
                  tmp_path / "run")
    assert results["metrics"]["rouge/rougeLsum_f"] == 0.0
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
    with pytest.raises(OSError, match="No space left on device"):
        run(config("system=lead3", "metrics=[rouge]"), out)
    monkeypatch.setattr(harness.io.os, "fsync", real_fsync)
    assert list(out.glob("*")) == [] or all(not p.name.endswith(".tmp") for p in out.iterdir())
    assert not (out / "results.json").exists()
    assert_untouched(finished)
    results = run(config("system=lead3", "metrics=[rouge]"), out)  # space back: the same command completes
    assert results["status"] == "completed"
