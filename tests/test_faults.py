"""Faults and long-text limits (issue 12, docs/robustness.md "Faults and limits"): a kill while
scoring, corrupt and wrong-typed cache entries, a corrupt dequantized copy, read-only and full
disks, Ctrl-C, and the bounded-memory LCS and NER. Error texts are quoted exactly."""

from __future__ import annotations

import errno
import json
import logging
import os
import random
import subprocess
import sys
import types

import numpy as np
import pytest
from rouge_score import rouge_scorer

from harness.data import Article
from harness.errors import CACHE_FIX, RUN_DIR_FIX, StorageError
from harness.io import read_jsonl, write_text_atomic
from harness.metrics.lcs import lcs_indices, lcs_length
from harness.metrics.rouge import ROUGE_TYPES, Rouge
from harness.metrics.score_cache import ScoreCache
from harness.systems.generation_cache import GenerationCache

from .conftest import ROOT, scaled_timeout

# `harness run` with a hook: HOOK_KILL_AFTER_PUTS=N kills the process (SIGKILL) right after the
# N-th score cache entry is written, i.e. in the middle of scoring.
# HOOK_INTERRUPT_AFTER_GENERATIONS=N raises KeyboardInterrupt (Ctrl-C) right after the N-th generation
# cache entry is written, HOOK_INTERRUPT_AFTER_PUTS=N after the N-th score cache entry.
# HOOK_OSERROR=ERRNO:SUBSTRING makes every atomic write whose target path contains SUBSTRING fail
# with that errno when it syncs its temporary file (a full disk fails there; a read-only or
# forbidden directory fails earlier, the same way for the harness).
HOOKED = ("import errno, os, signal, sys\n"
          "from harness.metrics import score_cache\n"
          "from harness.systems import generation_cache\n"
          "env = os.environ.get\n"
          "def after(cls, name, count, action):\n"
          "    original, done = getattr(cls, name), [0]\n"
          "    def hooked(self, *args, **kwargs):\n"
          "        original(self, *args, **kwargs)\n"
          "        done[0] += 1\n"
          "        if done[0] == count:\n"
          "            action()\n"
          "    setattr(cls, name, hooked)\n"
          "def kill():\n"
          "    os.kill(os.getpid(), signal.SIGKILL)\n"
          "def interrupt():\n"
          "    raise KeyboardInterrupt\n"
          "after(score_cache.ScoreCache, 'put', int(env('HOOK_KILL_AFTER_PUTS') or 0), kill)\n"
          "after(score_cache.ScoreCache, 'put', int(env('HOOK_INTERRUPT_AFTER_PUTS') or 0), interrupt)\n"
          "after(generation_cache.GenerationCache, 'put', int(env('HOOK_INTERRUPT_AFTER_GENERATIONS') or 0), "
          "interrupt)\n"
          "if env('HOOK_OSERROR'):\n"
          "    code, part = env('HOOK_OSERROR').split(':', 1)\n"
          "    fsync = os.fsync\n"
          "    def failing(fd):\n"
          "        if part in os.readlink(f'/proc/self/fd/{fd}'):\n"
          "            raise OSError(int(code), os.strerror(int(code)))\n"
          "        return fsync(fd)\n"
          "    os.fsync = failing\n"
          "from harness.cli import main\n"
          "sys.exit(main(sys.argv[1:]))\n")


def scoring_counts(results: dict, metric: str) -> dict:
    """A metric's computed/cached counts in results.json (its fingerprint is beside them)."""
    return {k: results["scoring"][metric][k] for k in ("computed", "cached")}


def _articles(path, seed_article, n=6):
    """``n`` articles of the seed's paragraphs, every sentence marked with its article's number (no
    two articles share a sentence, so fewer articles embed in other batches than all of them)."""
    path.write_text("".join(json.dumps({
        "id": f"a{i}", "title": f"T{i}",
        "paragraphs": [f"Report {i}: " + p.replace(". ", f". Report {i} adds that ") for p in seed_article.paragraphs],
        "bullets": list(seed_article.bullets)}) + "\n" for i in range(n)))
    return path


def _harness(args, cache, *, kill_after=0, timeout=600, **hooks):
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1",
           "HOOK_KILL_AFTER_PUTS": str(kill_after), **{f"HOOK_{k.upper()}": str(v) for k, v in hooks.items()}}
    return subprocess.run([sys.executable, "-c", HOOKED, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=scaled_timeout(timeout))


def test_sigkill_mid_scoring_then_rerun_gives_bit_identical_scores(tmp_path, seed_article):
    data = _articles(tmp_path / "six.jsonl", seed_article)

    def args(run_dir):
        return ["run", "system=bullets", f"data.path={data}", "metrics=[consistency_embedding]",
                f"hydra.run.dir={run_dir}", "progress=false"]

    killed = _harness(args(tmp_path / "run"), tmp_path / "cache", kill_after=1)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not (tmp_path / "run" / "results.json").exists()
    assert len(list((tmp_path / "cache" / "scores").rglob("*.json"))) == 1
    rerun = _harness(args(tmp_path / "run"), tmp_path / "cache")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert scoring_counts(results, "consistency_embedding") == {"computed": 5, "cached": 1}
    clean = _harness(args(tmp_path / "clean"), tmp_path / "clean-cache")
    assert clean.returncode == 0, clean.stderr[-2000:]
    resumed, uninterrupted = (read_jsonl(d / "scores.jsonl") for d in (tmp_path / "run", tmp_path / "clean"))
    assert [r["scores"] for r in resumed] == [r["scores"] for r in uninterrupted]  # exact floats, every detail


def test_embeddings_are_the_stored_ones_whatever_their_batch_mates(tmp_path, seed_article):
    """The cause of the 1.0 vs 0.99999998 above: the encoder's vector of a text depends on the texts
    batched with it. Once stored, a text gets its first vector back in any batch."""
    import harness.models.sentence_encoder as se
    from harness.text.sentences import split_sentences

    encoder = se.SentenceEncoder()
    texts, part = split_sentences(seed_article.body), slice(5, 9)
    raw = encoder._model.encode(texts, normalize_embeddings=True)
    raw_part = encoder._model.encode(texts[part], normalize_embeddings=True)
    assert not np.array_equal(raw[part], raw_part)  # batch mates change the last bits here
    try:
        encoder._cache.clear()
        with se.vector_store(tmp_path / "embeddings"):
            first = encoder.encode(texts)
        se._STORES.clear()  # a new process: only the files on disk
        encoder._cache.clear()
        with se.vector_store(tmp_path / "embeddings"):
            again = encoder.encode(texts[part])
        assert se._STORE[0] is None  # nothing kept on disk outside the block
    finally:
        encoder._cache.clear()
    assert np.array_equal(first[part], again)
    assert len(list((tmp_path / "embeddings").rglob("*.npz"))) == 1  # one file per encoder call, written whole


# --- Cache entries: wrong types, directories, unwritable caches -------------------------------------------------

ENTRY_KEY = "ab" + "0" * 62


def _write_entry(root, kind, payload):
    path = root / kind / ENTRY_KEY[:2] / f"{ENTRY_KEY}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


@pytest.mark.parametrize(("generation", "problem"), [
    ({"text": 42}, "field 'text' is int 42, expected str"),
    ({"text": "ok", "output_tokens": "12"}, "field 'output_tokens' is str '12', expected int or NoneType"),
    ({"text": "ok", "seconds": [1]}, "field 'seconds' is list [1], expected int or float"),
    ({"text": "ok", "article_tokens_cut": True}, "field 'article_tokens_cut' is bool True, expected int"),
    ("just a string", "'generation' is str, not an object"),
])
def test_generation_entry_with_a_wrong_type_is_corrupt(tmp_path, caplog, generation, problem):
    path = _write_entry(tmp_path, "generations", {"key": ENTRY_KEY, "generation": generation})
    with caplog.at_level(logging.WARNING):
        assert GenerationCache(tmp_path).get(ENTRY_KEY) is None
    assert caplog.messages == [f"corrupt generation cache entry {path} ({problem}): moved to "
                               f"{path.with_suffix('.corrupt')}, regenerating"]
    assert not path.exists() and path.with_suffix(".corrupt").exists()


def test_generation_entry_that_is_a_directory_is_moved_aside_and_rewritten(tmp_path, caplog):
    path = tmp_path / "generations" / ENTRY_KEY[:2] / f"{ENTRY_KEY}.json"
    (path / "junk").mkdir(parents=True)
    cache = GenerationCache(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert cache.get(ENTRY_KEY) is None
    assert caplog.messages == [f"corrupt generation cache entry {path} ([Errno 21] Is a directory: '{path}'): "
                               f"moved to {path.with_suffix('.corrupt')}, regenerating"]
    cache.put(ENTRY_KEY, {"text": "again"}, {}, "a")
    assert cache.get(ENTRY_KEY)["text"] == "again"


@pytest.mark.parametrize(("entry", "problem"), [
    ({"key": ENTRY_KEY, "scores": [0.5]}, "'scores' is list, not an object"),
    ({"key": ENTRY_KEY, "scores": {"rouge1_f": "0.5"}}, "score 'rouge1_f' is str '0.5', expected a number"),
    ({"key": ENTRY_KEY, "scores": {"rouge1_f": {"x": 1}}}, "score 'rouge1_f' is dict {'x': 1}, expected a number"),
    (["not", "an", "object"], "entry does not match its key"),
])
def test_score_entry_with_a_wrong_type_is_corrupt_and_scored_again(tmp_path, caplog, entry, problem):
    path = _write_entry(tmp_path, "scores", entry)
    with caplog.at_level(logging.WARNING):
        assert ScoreCache(tmp_path).get(ENTRY_KEY, Rouge().columns()) is None
    assert caplog.messages == [f"corrupt score cache entry {path} ({problem}): moved to "
                               f"{path.with_suffix('.corrupt')}, scoring again"]


def test_score_entry_that_is_a_directory_is_moved_aside_and_rewritten(tmp_path, caplog):
    path = tmp_path / "scores" / ENTRY_KEY[:2] / f"{ENTRY_KEY}.json"
    path.mkdir(parents=True)
    cache = ScoreCache(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert cache.get(ENTRY_KEY) is None
    assert "moved to" in caplog.text
    cache.put(ENTRY_KEY, {"rouge1_f": 0.5})
    assert cache.get(ENTRY_KEY, Rouge().columns()) == {"rouge1_f": 0.5}


def test_a_valid_score_entry_is_read_back(tmp_path):
    _write_entry(tmp_path, "scores", {"key": ENTRY_KEY, "scores": {"rouge1_f": 0.5, "rouge1_p": None, "x": "detail"}})
    assert ScoreCache(tmp_path).get(ENTRY_KEY, Rouge().columns()) == {"rouge1_f": 0.5, "rouge1_p": None,
                                                                        "x": "detail"}


def test_unwritable_generation_cache_names_the_path_and_cache_dir(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    path = tmp_path / "generations" / ENTRY_KEY[:2] / f"{ENTRY_KEY}.json"
    with pytest.raises(StorageError) as e:
        GenerationCache(tmp_path).put(ENTRY_KEY, {"text": "x"}, {}, "a")
    assert str(e.value) == (f"cannot write {path}: Permission denied (errno EACCES). {CACHE_FIX}; then rerun the "
                            "same command: finished summaries and scores are cached")


# --- Atomic writes: a full disk, a read-only directory ----------------------------------------------------------

def test_full_disk_leaves_the_old_file_whole_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    target.write_text("old", encoding="utf-8")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageError) as e:
        write_text_atomic(target, "new")
    assert str(e.value) == (f"cannot write {target}: No space left on device (errno ENOSPC). Free space there, or "
                            f"give the run a writable directory: hydra.run.dir=DIR (a sweep: hydra.sweep.dir=DIR); "
                            "then rerun the same command: finished summaries and scores are cached")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_read_only_directory_is_one_error_naming_the_run_directory(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("tempfile.mkstemp", read_only)
    with pytest.raises(StorageError) as e:
        write_text_atomic(tmp_path / "report.md", "x")
    assert str(e.value) == (f"cannot write {tmp_path / 'report.md'}: Read-only file system (errno EROFS). "
                            f"{RUN_DIR_FIX}; then rerun the same command: finished summaries and scores are cached")


# --- The command: one line, a non-zero exit, nothing half-written, resumable ------------------------------------

def _lead3_args(data, run_dir, metrics="[rouge]"):
    return ["run", "system=lead3", f"data.path={data}", f"metrics={metrics}", f"hydra.run.dir={run_dir}",
            "progress=false"]


def _temporaries(*roots):
    return [p for root in roots if root.exists() for p in root.rglob("*.tmp")]


def test_full_disk_writing_results_json_is_one_line_and_resumes(tmp_path, seed_article):
    data, run_dir = _articles(tmp_path / "six.jsonl", seed_article), tmp_path / "run"
    full = _harness(_lead3_args(data, run_dir), tmp_path / "cache", oserror=f"{errno.ENOSPC}:results.json")
    assert full.returncode == 1
    assert full.stderr.strip().splitlines()[-1] == (
        f"error: cannot write {run_dir / 'results.json'}: No space left on device (errno ENOSPC). Free space there, "
        "or give the run a writable directory: hydra.run.dir=DIR (a sweep: hydra.sweep.dir=DIR); then rerun the "
        "same command: finished summaries and scores are cached")
    assert "Traceback" not in full.stderr
    assert not (run_dir / "results.json").exists() and not _temporaries(run_dir, tmp_path / "cache")
    again = _harness(_lead3_args(data, run_dir), tmp_path / "cache")
    assert again.returncode == 0, again.stderr[-2000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["generation"]["cached"] == 6 and scoring_counts(results, "rouge") == {"computed": 0, "cached": 6}


def test_unwritable_cache_is_one_line_naming_cache_dir(tmp_path, seed_article):
    data, run_dir, cache = _articles(tmp_path / "six.jsonl", seed_article), tmp_path / "run", tmp_path / "cache"
    refused = _harness(_lead3_args(data, run_dir), cache, oserror=f"{errno.EACCES}:/generations/")
    assert refused.returncode == 1
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot write {cache / 'generations'}/")
    assert last.endswith(f".json: Permission denied (errno EACCES). {CACHE_FIX}; then rerun the same command: "
                         "finished summaries and scores are cached")
    assert "Traceback" not in refused.stderr and not _temporaries(run_dir, cache)
    assert json.loads((run_dir / "results.json").read_text())["status"] == "failed"  # the run dir was writable


@pytest.mark.parametrize(("hook", "generated", "computed"), [
    ({"interrupt_after_generations": 2}, 4, 6),  # Ctrl-C while generating: 2 summaries kept
    ({"interrupt_after_puts": 2}, 0, 4),  # Ctrl-C while scoring: every summary and 2 scores kept
])
def test_ctrl_c_is_one_line_exit_130_and_the_rerun_resumes(tmp_path, seed_article, hook, generated, computed):
    data, run_dir, cache = _articles(tmp_path / "six.jsonl", seed_article), tmp_path / "run", tmp_path / "cache"
    stopped = _harness(_lead3_args(data, run_dir), cache, **hook)
    assert stopped.returncode == 130
    assert stopped.stderr.strip().splitlines()[-1] == (
        f"interrupted (Ctrl-C) in {run_dir}: stopped; every file written so far is whole. Run the same command "
        "again to resume: finished summaries and scores are cached")
    assert "Traceback" not in stopped.stderr
    assert not (run_dir / "results.json").exists() and not _temporaries(run_dir, cache)
    again = _harness(_lead3_args(data, run_dir), cache)
    assert again.returncode == 0, again.stderr[-2000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["generation"]["generated"] == generated
    assert scoring_counts(results, "rouge") == {"computed": computed, "cached": 6 - computed}


# --- Long texts: ROUGE's LCS and NER in bounded memory, with unchanged results ----------------------------------

def test_lcs_indices_are_rouge_scores_own_with_ties_and_small_blocks():
    rnd = random.Random(0)
    for _ in range(1500):
        vocabulary = rnd.randint(1, 5)  # few distinct tokens: many ties for the backtrack to break
        ref = [rnd.randint(0, vocabulary) for _ in range(rnd.randint(0, 25))]
        can = [rnd.randint(0, vocabulary) for _ in range(rnd.randint(0, 25))]
        block = rnd.choice([1, 7, 60, 10_000])  # 1: a checkpoint every row; 10,000: one block
        assert lcs_indices(ref, can, block_cells=block) == (rouge_scorer.lcs_ind(ref, can) if ref and can else [])
        assert lcs_length(ref, can) == (rouge_scorer._lcs_table(ref, can)[-1][-1] if ref and can else 0)


def test_rouge_equals_rouge_score_exactly_on_random_texts():
    rnd = random.Random(1)
    words = "the cat sat on a mat dog ran killed kills officers eight police Russia sent troops . ,".split()
    direct = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    ours = Rouge()
    from harness.text.sentences import split_sentences

    for _ in range(150):
        bullets = tuple(" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 15)))
                        for _ in range(rnd.randint(1, 4)))
        summary = " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 40)))
        got = ours.score(summary, Article("t", "", ("b",), bullets))
        for kind, s in direct.score("\n".join(bullets), "\n".join(split_sentences(summary))).items():
            assert (got[f"{kind}_p"], got[f"{kind}_r"], got[f"{kind}_f"]) == (s.precision, s.recall, s.fmeasure)


def test_lcs_of_long_sequences_stays_small_in_memory():
    import tracemalloc

    rnd = random.Random(2)
    a = [rnd.randint(0, 50) for _ in range(6000)]
    b = [rnd.randint(0, 50) for _ in range(6000)]
    tracemalloc.start()
    found = lcs_indices(a, b)
    length = lcs_length(a, b)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(found) == length > 0
    assert peak < 60e6  # rouge-score's table: 36M Python ints in lists, over 300 MB


def test_ner_pieces_cut_at_line_breaks_and_offsets_stay_in_the_whole_text(seed_article):
    from harness.text import entities

    text = "\n".join([seed_article.body] * 3)
    pieces = entities._pieces(text, size=3000)
    assert "".join(p for p, _ in pieces) == text and all(len(p) <= 3000 for p, _ in pieces)
    assert all(text[offset] == "\n" for _, offset in pieces[1:])  # cut at a line break, never in a word
    found = entities._entities(text, size=3000)
    assert found and all(text[e.start_char:e.end_char] == e.text for e in found)
    assert len(entities._pieces(seed_article.body)) == 1  # a normal article is one piece: results as before


def test_inside_is_the_linear_lookup():
    from harness.text.entities import _inside

    spans = [(0, 3), (5, 9), (20, 21)]
    for position in range(25):
        assert _inside(spans, position) == any(s <= position < e for s, e in spans)


# --- The dequantized copy of a GGUF model: checked on every load, rebuilt when it does not match ----------------

class _FakeModel:
    """Stands in for a dequantized transformers model: saves a config and 4,096 bytes of weights."""

    def __init__(self, origin):
        self.origin, self.config, self.hf_quantizer = origin, types.SimpleNamespace(), None

    def save_pretrained(self, directory, safe_serialization=True):
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "config.json"), "w") as f:
            f.write("{}")
        with open(os.path.join(directory, "model.safetensors"), "wb") as f:
            f.write(bytes(range(256)) * 16)


class _FakeTokenizer:
    def save_pretrained(self, directory):
        with open(os.path.join(directory, "tokenizer.json"), "w") as f:
            f.write("{}")


@pytest.fixture
def copy_store(tmp_path, monkeypatch):
    """`_load_with_copy` with the loading faked: returns (load, copy directory, loads made: 'gguf' or 'copy')."""
    from harness.models import store

    copy, loads = tmp_path / "dequantized" / "sha-bfloat16-transformersX", []

    def fake_load(auto_class, source, dtype, device, trust_remote_code, setting):
        loads.append("copy" if source.location == str(copy) else "gguf")
        return _FakeModel(loads[-1]), _FakeTokenizer()

    monkeypatch.setattr(store, "_load", fake_load)
    monkeypatch.setattr(store, "_dequantized_path", lambda source, dtype, root: copy)
    source = types.SimpleNamespace(spec="model.gguf", location=str(tmp_path / "gguf"))
    return (lambda: store._load_with_copy(object, source, "bfloat16", "cpu", False, "system.model", "unused"),
            copy, loads)


def test_dequantized_copy_is_saved_with_checksums_and_loaded_when_they_match(copy_store):
    load, copy, loads = copy_store
    load()
    assert json.loads((copy / "harness-sha256.json").read_text()).keys() == {"config.json", "model.safetensors",
                                                                             "tokenizer.json"}
    assert load()[0].origin == "copy" and loads == ["gguf", "copy"]


@pytest.mark.parametrize(("damage", "problem"), [
    ("zeroed", "model.safetensors do not match the checksums saved with it"),
    ("truncated", "model.safetensors do not match the checksums saved with it"),
    ("no checksums", "it has no harness-sha256.json (made before copies were checked)"),
    ("file missing", "tokenizer.json do not match the checksums saved with it"),
])
def test_damaged_dequantized_copy_is_rebuilt_from_the_gguf(copy_store, caplog, damage, problem):
    load, copy, loads = copy_store
    load()
    weights = copy / "model.safetensors"
    if damage == "zeroed":  # bytes zeroed in the middle, same size and time stamp
        stat = weights.stat()
        with open(weights, "r+b") as f:
            f.seek(2000)
            f.write(bytes(100))
        os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    elif damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif damage == "no checksums":
        (copy / "harness-sha256.json").unlink()
    else:
        (copy / "tokenizer.json").unlink()
    with caplog.at_level(logging.WARNING):
        model, _ = load()
    assert model.origin == "gguf" and loads == ["gguf", "gguf"]
    assert caplog.messages == [f"dequantized copy {copy} of model.gguf: {problem}; removing it and rebuilding it "
                               "from the GGUF file"]
    assert weights.read_bytes() == bytes(range(256)) * 16  # rebuilt whole
    assert load()[0].origin == "copy"  # and trusted again


@pytest.mark.parametrize(("path", "fix"), [("run/.harness.lock", RUN_DIR_FIX),
                                           ("cache/generations/locks/k.lock", CACHE_FIX)])
def test_write_errors_outside_atomic_writes_name_their_setting(tmp_path, path, fix):
    from harness.errors import storage_error

    error = storage_error(PermissionError(errno.EACCES, "Permission denied", str(tmp_path / path)), tmp_path / "cache")
    assert str(error) == (f"cannot write {tmp_path / path}: Permission denied (errno EACCES). {fix}; then rerun the "
                          "same command: finished summaries and scores are cached")
    assert storage_error(FileNotFoundError(errno.ENOENT, "No such file"), tmp_path) is None  # not a write fault


def test_a_metric_that_stops_midway_keeps_the_chunks_it_finished(tmp_path, monkeypatch):
    """Scores are cached chunk by chunk: a metric failing on its third chunk (a served judge's server
    gone) leaves the first two chunks' scores in the cache, and the rerun computes only the rest."""
    from harness.data.article import Article
    from harness.metrics import scoring as run_module
    from harness.metrics.base import Column, Metric
    from harness.metrics.score_cache import ScoreCache

    class Flaky(Metric):
        name = "flaky"

        def __init__(self, fail_on_call=None):
            self.calls, self.fail_on_call = [], fail_on_call

        def columns(self):
            return {"length": Column("Length", higher_is_better=None)}

        def describe(self):
            return {}

        def score(self, summary, article):
            return {"length": float(len(summary))}

        def score_many(self, pairs):
            self.calls.append(len(pairs))
            if len(self.calls) == self.fail_on_call:
                raise ConnectionError("the server went away")
            return [self.score(s, a) for s, a in pairs]

    monkeypatch.setattr(run_module, "SCORE_CHUNK", 2)
    articles = [Article(f"a{i}", "", (f"Body {i}.",), ("b",)) for i in range(5)]
    summaries = [{"article_id": a.id, "system": "s", "text": "x" * (i + 1)} for i, a in enumerate(articles)]
    cache = ScoreCache(tmp_path)
    flaky = Flaky(fail_on_call=3)
    with pytest.raises(ConnectionError):
        run_module.score({"flaky": flaky}, summaries, articles, cache, progress=False)
    assert flaky.calls == [2, 2, 1] and len(list((tmp_path / "scores").rglob("*.json"))) == 4
    again = Flaky()
    rows, counts = run_module.score({"flaky": again}, summaries, articles, cache, progress=False)
    assert again.calls == [1]
    assert {k: counts["flaky"][k] for k in ("computed", "cached")} == {"computed": 1, "cached": 4}
    assert [r["scores"]["flaky/length"] for r in rows] == [1.0, 2.0, 3.0, 4.0, 5.0]
