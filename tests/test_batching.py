"""Batched generation: batches formed from the whole set, cache keys per batch, a resumed batch
regenerated whole, batch_size=auto halving on out-of-memory, left padding on real (tiny) models,
and progress inside a batch."""

import logging

import pytest
import torch

from harness.data.article import Article
from harness.errors import ConfigError
from harness.generation import _Progress, batch_order, generate
from harness.systems.base import Generation, System, report_tokens
from harness.systems.decoding import Decoding
from harness.systems.generation_cache import GenerationCache, cache_key
from harness.systems.language_model import CausalLM, Seq2SeqLM, check_batch_size
from harness.systems.prompt import PromptTemplate

PROMPT = PromptTemplate(name="p", template="summarize {title} : {article}")
GREEDY = Decoding(name="greedy", max_new_tokens=6)
WORDS = "the police officers were killed in the city and the mayor office was on fire last night".split()


def article(i: int) -> Article:
    """Article ``a{i}``: i + 1 words of the tiny vocabulary, so lengths differ."""
    return Article(id=f"a{i}", title="summary", paragraphs=(" ".join((WORDS * 3)[: i + 1]),), bullets=("b",))


class Fake(System):
    """Summaries that name their batch, so a test sees how articles were grouped; out of memory
    above ``fits`` articles at once."""

    batch_changes_output = True

    def __init__(self, batch_size=1, fits: int = 100, tag: str = ""):
        self.name, self.batch_size, self.fits, self.tag = "fake", batch_size, fits, tag
        self.calls = []

    def identity(self, prompt, decoding) -> dict:
        return {"kind": "fake"}

    def auto_batch_start(self) -> int:
        return 8

    def summarize(self, article, prompt, decoding):
        raise AssertionError("generation goes through summarize_batch")

    def summarize_batch(self, articles, prompt, decoding):
        self.calls.append([a.id for a in articles])
        if len(articles) > self.fits:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        report_tokens(len(articles))
        batch = ",".join(a.id for a in articles)
        return [Generation(text=f"{a.id} in [{batch}]{self.tag}", output_tokens=3, seconds=0.5) for a in articles]


def test_batches_are_cut_from_the_whole_set_longest_first(tmp_path):
    articles = [article(i) for i in range(10)]
    assert batch_order(articles, PROMPT) == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    system = Fake(batch_size=4)
    rows, counts = generate(system, system.identity(PROMPT, GREEDY), articles, PROMPT, GREEDY,
                            GenerationCache(tmp_path), progress=False)
    assert system.calls == [["a9", "a8", "a7", "a6"], ["a5", "a4", "a3", "a2"], ["a1", "a0"]]
    assert [r["article_id"] for r in rows] == [f"a{i}" for i in range(10)]  # rows in the set's order
    assert rows[3]["text"] == "a3 in [a5,a4,a3,a2]"
    assert (counts["generated"], counts["cached"], counts["batch_size"]) == (10, 0, 4)
    assert (counts["output_tokens"], counts["seconds"], counts["tokens_per_s"]) == (30, 5.0, 6.0)


def test_keys_name_the_batch_and_a_batch_of_one_keeps_the_plain_key(tmp_path):
    articles = [article(i) for i in range(5)]
    identity = Fake().identity(PROMPT, GREEDY)
    rows, _ = generate(Fake(batch_size=4), identity, articles, PROMPT, GREEDY, GenerationCache(tmp_path),
                       progress=False)
    batch = [a.content_hash for a in articles[4:0:-1]]
    assert rows[1]["cache_key"] == cache_key({**identity, "batch": batch}, articles[1])
    assert rows[0]["cache_key"] == cache_key(identity, articles[0])  # the remainder: a batch of one
    alone = Fake(batch_size=1)
    rows_alone, counts = generate(alone, identity, articles, PROMPT, GREEDY, GenerationCache(tmp_path),
                                  progress=False)
    assert alone.calls == [["a4"], ["a3"], ["a2"], ["a1"]] and (counts["generated"], counts["cached"]) == (4, 1)
    assert rows_alone[0]["text"] == rows[0]["text"] == "a0 in [a0]"

    class Independent(Fake):
        batch_changes_output = False  # e.g. a served model: the batch is only requests in flight

    rows_served, _ = generate(Independent(batch_size=4), identity, articles, PROMPT, GREEDY,
                              GenerationCache(tmp_path / "other"), progress=False)
    assert [r["cache_key"] for r in rows_served] == [cache_key(identity, a) for a in articles]


def test_a_batch_missing_one_summary_is_regenerated_whole_keeping_its_cached_members(tmp_path, caplog):
    articles = [article(i) for i in range(10)]
    cache = GenerationCache(tmp_path)
    identity = Fake().identity(PROMPT, GREEDY)
    first, _ = generate(Fake(batch_size=4), identity, articles, PROMPT, GREEDY, cache, progress=False)
    lost = next(r for r in first if r["article_id"] == "a4")["cache_key"]
    (tmp_path / "generations" / lost[:2] / f"{lost}.json").unlink()  # as if killed between two writes

    again = Fake(batch_size=4)
    rows, counts = generate(again, identity, articles, PROMPT, GREEDY, cache, progress=False)
    assert again.calls == [["a5", "a4", "a3", "a2"]]
    assert (counts["generated"], counts["cached"]) == (1, 9)
    assert [r["text"] for r in rows] == [r["text"] for r in first]

    (tmp_path / "generations" / lost[:2] / f"{lost}.json").unlink()
    changed = Fake(batch_size=4, tag=" (changed)")  # a device that does not repeat itself
    with caplog.at_level(logging.WARNING, logger="harness.generation"):
        rows, _ = generate(changed, identity, articles, PROMPT, GREEDY, cache, progress=False)
    assert [r["text"] for r in rows if r["article_id"] in ("a5", "a3", "a2")] == [
        "a2 in [a5,a4,a3,a2]", "a3 in [a5,a4,a3,a2]", "a5 in [a5,a4,a3,a2]"]  # cached members kept
    assert rows[4]["text"] == "a4 in [a5,a4,a3,a2] (changed)"
    assert sum("not deterministic" in r.message for r in caplog.records) == 3


def test_auto_batch_size_halves_on_out_of_memory_and_is_remembered(tmp_path):
    articles = [article(i) for i in range(10)]
    system = Fake(batch_size="auto", fits=3)
    identity = system.identity(PROMPT, GREEDY)
    rows, counts = generate(system, identity, articles, PROMPT, GREEDY, GenerationCache(tmp_path), progress=False)
    assert [len(c) for c in system.calls] == [8, 4, 2, 2, 2, 2, 2]  # 8 and 4 do not fit; the 2 longest are kept
    assert counts["batch_size"] == 2 and (counts["generated"], counts["cached"]) == (10, 0)
    assert len(list((tmp_path / "batch_sizes").glob("*.json"))) == 1

    rerun = Fake(batch_size="auto", fits=3)
    _, counts = generate(rerun, identity, articles, PROMPT, GREEDY, GenerationCache(tmp_path), progress=False)
    assert rerun.calls == [] and (counts["cached"], counts["batch_size"]) == (10, 2)  # no probing: remembered


def test_out_of_memory_errors_name_the_fix(tmp_path):
    articles = [article(i) for i in range(3)]
    with pytest.raises(ConfigError, match="out of memory generating one summary; use a smaller model"):
        generate(Fake(batch_size="auto", fits=0), {"kind": "fake"}, articles, PROMPT, GREEDY,
                 GenerationCache(tmp_path), progress=False)
    with pytest.raises(ConfigError, match=r"out of memory generating a batch of 3 \(batch_size 4\); set "
                                          r"system.batch_size lower, or to auto"):
        generate(Fake(batch_size=4, fits=2), {"kind": "fake"}, articles, PROMPT, GREEDY,
                 GenerationCache(tmp_path), progress=False)


@pytest.mark.parametrize("value", [0, -2, 2.5, "8", True, None])
def test_batch_size_must_be_a_positive_integer_or_auto(value):
    with pytest.raises(ConfigError, match="system.batch_size must be a positive integer or auto"):
        check_batch_size(value)


@pytest.mark.parametrize("make", [lambda d: CausalLM(model=str(d["causal"]), dtype="float32", batch_size=3),
                                  lambda d: Seq2SeqLM(model=str(d["seq2seq"]), dtype="float32", batch_size=3)],
                         ids=["causal, left padding", "seq2seq, right padding"])
def test_a_padded_batch_gives_each_article_what_it_gets_alone(make, tiny_causal_dir, tiny_seq2seq_dir):
    system = make({"causal": tiny_causal_dir, "seq2seq": tiny_seq2seq_dir})
    articles = [article(2), article(9), article(30)]
    batched = system.summarize_batch(articles, PROMPT, GREEDY)
    alone = [system.summarize(a, PROMPT, GREEDY) for a in articles]
    assert len({g.input_tokens for g in batched}) == 3  # the batch really was padded
    assert [(g.text, g.output_tokens, g.input_tokens) for g in batched] == [
        (g.text, g.output_tokens, g.input_tokens) for g in alone]
    assert all(g.output_tokens > 0 for g in batched)


def test_batched_run_reports_tokens_while_it_decodes(tiny_causal_dir):
    from harness.systems.base import token_progress

    seen = []
    reset = token_progress(seen.append)
    try:
        made = CausalLM(model=str(tiny_causal_dir), dtype="float32").summarize_batch(
            [article(2), article(9)], PROMPT, Decoding(name="g", max_new_tokens=5))
    finally:
        reset.var.reset(reset)
    assert len(seen) == 5 and seen[0] == 2  # one report per step: the rows still decoding
    assert sum(seen) >= sum(g.output_tokens for g in made)


def test_progress_moves_inside_a_batch():
    bar = _Progress("fake", total=10, max_new_tokens=10, disable=False)
    bar.begin(cached=2)
    bar.batch(4)
    bar.tokens(20)  # half of 4 rows x 10 tokens: half the batch
    assert bar.bar.n == 4.0
    bar.tokens(100)  # never the whole batch before it is done
    assert bar.bar.n == pytest.approx(2 + 4 * 0.99)
    bar.done()
    assert bar.bar.n == pytest.approx(6)
    bar.batch(4)
    bar.tokens(8)
    bar.retry()  # out of memory: the batch starts over at a smaller size
    assert bar.bar.n == pytest.approx(6)
    bar.close()


def test_a_system_whose_batch_mates_do_not_matter_generates_only_the_missing(tmp_path):
    """Served models (``batch_changes_output = False``): a batch with cached members sends only the
    missing articles, so no request is paid for twice."""

    class Independent(Fake):
        batch_changes_output = False

    articles = [article(i) for i in range(6)]
    cache = GenerationCache(tmp_path)
    identity = Independent().identity(PROMPT, GREEDY)
    first, _ = generate(Independent(batch_size=4), identity, articles[2:4], PROMPT, GREEDY, cache, progress=False)
    again = Independent(batch_size=4)
    rows, counts = generate(again, identity, articles, PROMPT, GREEDY, cache, progress=False)
    assert again.calls == [["a5", "a4"], ["a1", "a0"]]  # a3 and a2 of the first batch were cached
    assert (counts["generated"], counts["cached"]) == (4, 2)
    assert [r["text"] for r in rows[2:4]] == [r["text"] for r in first]
