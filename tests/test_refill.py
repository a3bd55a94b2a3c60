"""Rows that leave when they finish: a refilled group gives each article what it gets alone (float32,
tiny random model), the schedule never runs more than ``rows`` at once, groups are planned from the
whole set and keyed apart from fixed batches, and a resumed run gives an uninterrupted run's
summaries."""

import json
import logging
import random

import pytest

from harness.data.article import Article
from harness.generation import REFILL_BATCHES, batch_order, generate, plan_batches
from harness.models import store
from harness.systems.base import token_progress
from harness.systems.decoding import Decoding
from harness.systems.generation_cache import GenerationCache, cache_key
from harness.systems.language_model import CausalLM
from harness.systems.prompt import PromptTemplate
from harness.systems.refill import SCHEDULE, RefillUnsupported, check_supported, eos_ids, prepared_config, refill_decode

from .conftest import WORDS, _tiny_tokenizer

PROMPT = PromptTemplate(name="p", template="summarize {title} : {article}")
GREEDY = Decoding(name="greedy", max_new_tokens=16, repetition_penalty=1.1)


def articles(n: int) -> list[Article]:
    """``n`` articles of 3 to 27 random words of the tiny vocabulary (seeded)."""
    rng = random.Random(0)
    return [Article(id=f"a{i:02d}", title="summary", bullets=("b",),
                    paragraphs=(" ".join(rng.choice(WORDS) for _ in range(3 + 3 * i % 25)),)) for i in range(n)]


@pytest.fixture(scope="module")
def varied_dir(tmp_path_factory):
    """A 2-layer random Llama (float32) whose summaries end at different lengths: "yes" is an
    end-of-sequence token besides </s>, so rows of a batch finish at different steps."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    directory = tmp_path_factory.mktemp("tiny-varied")
    tokenizer, vocab_size = _tiny_tokenizer(chat_template=True)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=96,
                         bos_token_id=1, eos_token_id=2, pad_token_id=0, initializer_range=0.3)
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    generation = json.loads((directory / "generation_config.json").read_text())
    generation["eos_token_id"] = [2, tokenizer.convert_tokens_to_ids("yes")]
    (directory / "generation_config.json").write_text(json.dumps(generation))
    return directory


def lm(directory, batch_size=1, **kwargs) -> CausalLM:
    return CausalLM(model=str(directory), dtype="float32", batch_size=batch_size, compile=False, **kwargs)


@pytest.mark.parametrize("penalty", [1.1, 1.0], ids=["repetition penalty", "plain greedy"])
def test_a_refilled_group_gives_each_article_what_it_gets_alone(varied_dir, penalty):
    system = lm(varied_dir)
    decoding = Decoding(name="greedy", max_new_tokens=16, repetition_penalty=penalty)
    group = articles(12)
    alone = [system.summarize(a, PROMPT, decoding) for a in group]
    steps = []
    reset = token_progress(steps.append)
    try:
        refilled = system.summarize_group(group, PROMPT, decoding, rows=3)
    finally:
        reset.var.reset(reset)
    assert [(g.text, g.output_tokens, g.input_tokens) for g in refilled] == [
        (g.text, g.output_tokens, g.input_tokens) for g in alone]
    lengths = [g.output_tokens for g in alone]
    assert min(lengths) < 16 == max(lengths)  # rows really did finish at different steps
    assert max(steps) == 3 and 1 in steps  # never more than 3 rows; single rows joined as others left
    assert sum(steps) == sum(lengths)  # each pass made one token per running row: no finished row rode along


@pytest.mark.parametrize("together", [True, False], ids=["joiners prefilled together", "one by one (CPU)"])
def test_both_ways_of_joining_give_each_prompt_its_tokens_alone(varied_dir, together):
    system = lm(varied_dir)
    model, tokenizer = system.load()
    group = articles(10)
    alone = [system.summarize(a, PROMPT, GREEDY) for a in group]
    prompts = [system._encode(tokenizer, PROMPT.render(title=a.title, article=a.body)) for a in group]
    config = prepared_config(model, GREEDY.generate_kwargs(), 0)
    penalty = check_supported(model, config)
    steps = []
    made = refill_decode(model, prompts, rows=4, max_new_tokens=16, eos=eos_ids(config), pad=0, penalty=penalty,
                         prefill_together=together, on_step=steps.append)
    assert [tokenizer.decode(t, skip_special_tokens=True).strip() for t in made] == [g.text for g in alone]
    assert [len(t) for t in made] == [g.output_tokens for g in alone]
    assert steps[0] == (4 if together else 1) and max(steps) == 4
    assert eos_ids(config) == {2, tokenizer.convert_tokens_to_ids("yes")}


def test_refilling_needs_plain_greedy_and_falls_back_to_fixed_batches(varied_dir, caplog):
    system = lm(varied_dir)
    model, tokenizer = system.load()
    assert check_supported(model, prepared_config(model, GREEDY.generate_kwargs(), 0)) == pytest.approx(1.1)
    config = prepared_config(model, {**GREEDY.generate_kwargs(), "min_new_tokens": 4}, 0)  # a processor it lacks
    with pytest.raises(RefillUnsupported, match="MinNewTokensLengthLogitsProcessor"):
        check_supported(model, config)
    assert not lm(varied_dir).refills(Decoding(name="s", do_sample=True))
    assert not lm(varied_dir).refills(Decoding(name="b", num_beams=2))
    assert lm(varied_dir).refills(GREEDY)

    group = articles(5)
    fixed = system.summarize_batch(group[:2], PROMPT, GREEDY) + system.summarize_batch(group[2:4], PROMPT, GREEDY) \
        + system.summarize_batch(group[4:], PROMPT, GREEDY)
    model.generation_config.min_new_tokens = 4
    try:
        with caplog.at_level(logging.WARNING, logger="harness.systems.language_model"):
            made = system.summarize_group(group, PROMPT, GREEDY, rows=2)
            fixed_min = [g for start in (0, 2, 4) for g in system.summarize_batch(group[start:start + 2], PROMPT,
                                                                                  GREEDY)]
    finally:
        model.generation_config.min_new_tokens = None
        model.__dict__.pop("_harness_refill_warned", None)
    assert [g.text for g in made] == [g.text for g in fixed_min]
    assert all(g.output_tokens >= 4 for g in made) and [g.text for g in fixed] != [g.text for g in made]
    assert sum("fixed batches of 2" in r.message for r in caplog.records) == 1


def test_groups_are_near_equal_cuts_of_the_whole_order():
    order = list(range(130))
    assert plan_batches(order, 8, None) == [order[i:i + 8] for i in range(0, 130, 8)]  # fixed batches as before
    groups = plan_batches(order, 8, 8)
    assert [len(g) for g in groups] == [44, 43, 43] and sum(groups, []) == order  # at most 8 x 8, near equal
    assert plan_batches(list(range(40)), 8, 8) == [list(range(40))]
    assert plan_batches(list(range(8)), 8, 8) == [list(range(8))]
    assert plan_batches([], 8, 8) == []
    assert REFILL_BATCHES == 8


def test_generate_refills_groups_keyed_apart_from_fixed_batches(varied_dir, tmp_path):
    group = articles(12)
    identity = lm(varied_dir).identity(PROMPT, GREEDY)
    rows, counts = generate(lm(varied_dir, batch_size=3), identity, group, PROMPT, GREEDY,
                            GenerationCache(tmp_path / "refilled"), progress=False)
    alone, _ = generate(lm(varied_dir), identity, group, PROMPT, GREEDY, GenerationCache(tmp_path / "alone"),
                        progress=False)
    assert [r["text"] for r in rows] == [r["text"] for r in alone]  # float32: what each gets alone
    assert (counts["generated"], counts["batch_size"]) == (12, 3)
    hashes = [group[i].content_hash for i in batch_order(group, PROMPT)]
    keyed = {**identity, "batch": hashes, "rows": 3, "schedule": SCHEDULE}
    assert [r["cache_key"] for r in rows] == [cache_key(keyed, a) for a in group]
    assert [r["cache_key"] for r in alone] == [cache_key(identity, a) for a in group]  # batch 1: the plain key

    beam = Decoding(name="beam", max_new_tokens=4, num_beams=2)  # not refilled: fixed batches, keys as before
    beam_identity = lm(varied_dir).identity(PROMPT, beam)
    rows, _ = generate(lm(varied_dir, batch_size=8), beam_identity, group, PROMPT, beam,
                       GenerationCache(tmp_path / "beam"), progress=False)
    first = batch_order(group, PROMPT)[:8]
    fixed = {**beam_identity, "batch": [group[i].content_hash for i in first]}
    assert rows[first[0]]["cache_key"] == cache_key(fixed, group[first[0]])


def test_a_resumed_run_gives_the_uninterrupted_runs_summaries(varied_dir, tmp_path, monkeypatch):
    import harness.generation

    monkeypatch.setattr(harness.generation, "REFILL_BATCHES", 1)  # groups of 3 rows: four groups of 3
    group = articles(12)
    identity = lm(varied_dir).identity(PROMPT, GREEDY)
    whole, _ = generate(lm(varied_dir, batch_size=3), identity, group, PROMPT, GREEDY,
                        GenerationCache(tmp_path / "whole"), progress=False)

    class Interrupted(CausalLM):
        calls = 0

        def summarize_group(self, *args, **kwargs):
            type(self).calls += 1
            if type(self).calls == 3:
                raise KeyboardInterrupt
            return super().summarize_group(*args, **kwargs)

    cache = GenerationCache(tmp_path / "resumed")
    with pytest.raises(KeyboardInterrupt):
        generate(Interrupted(model=str(varied_dir), dtype="float32", batch_size=3, compile=False), identity, group,
                 PROMPT, GREEDY, cache, progress=False)
    resumed, counts = generate(lm(varied_dir, batch_size=3), identity, group, PROMPT, GREEDY, cache, progress=False)
    assert (counts["generated"], counts["cached"]) == (6, 6)  # the two groups left, each whole
    assert [(r["text"], r["cache_key"]) for r in resumed] == [(r["text"], r["cache_key"]) for r in whole]


@pytest.fixture(autouse=True)
def _fresh_models():
    """Each test loads its models again (one test changes a loaded model's generation config)."""
    yield
    store._LOADED.clear()


def test_auto_batch_size_probes_the_first_group_and_keeps_it(tmp_path):
    import torch

    from harness.systems.base import Generation, System

    class Refilling(System):
        """Summaries naming their group and rows; out of memory above ``fits`` rows."""

        batch_changes_output = True
        name, batch_size = "fake", "auto"

        def __init__(self):
            self.calls = []

        def identity(self, prompt, decoding):
            return {"kind": "fake"}

        def auto_batch_start(self):
            return 8

        def refills(self, decoding):
            return True

        def summarize(self, article, prompt, decoding):
            raise AssertionError("a group goes through summarize_group")

        def summarize_group(self, articles, prompt, decoding, rows):
            self.calls.append((len(articles), rows))
            if rows > 2:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory")
            return [Generation(text=f"{a.id} of {len(articles)} by {rows}", output_tokens=1) for a in articles]

    group = articles(40)
    system = Refilling()
    rows, counts = generate(system, system.identity(PROMPT, GREEDY), group, PROMPT, GREEDY,
                            GenerationCache(tmp_path), progress=False)
    # 8 rows: one group of 40 (at most 64); 4: one of 32 at most -> 20 + 20; 2: groups of 14, 13, 13
    assert system.calls == [(40, 8), (20, 4), (14, 2), (13, 2), (13, 2)]
    assert counts["batch_size"] == 2 and counts["generated"] == 40
    assert sorted({r["text"].split(" of ")[1] for r in rows}) == ["13 by 2", "14 by 2"]


def test_roomy_layer_holds_what_concatenation_makes_and_writes_into_its_room():
    """Keys and values after each update equal DynamicLayer's concatenation exactly; within the room
    no buffer is made anew (the keys stay a view of the same storage); past it the buffers grow."""
    import torch
    from transformers.cache_utils import DynamicLayer

    from harness.systems.refill import roomy_layer_class

    gen = torch.Generator().manual_seed(0)
    keys, values = torch.randn(3, 2, 5, 4, generator=gen), torch.randn(3, 2, 5, 4, generator=gen)
    roomy, plain = roomy_layer_class()(keys, values, room=2), DynamicLayer()
    plain.update(keys, values)
    storage = []
    for step in range(5):
        new_keys, new_values = torch.randn(3, 2, 1, 4, generator=gen), torch.randn(3, 2, 1, 4, generator=gen)
        got, want = roomy.update(new_keys, new_values), plain.update(new_keys, new_values)
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1]), step
        assert roomy.get_seq_length() == 6 + step
        storage.append(got[0].untyped_storage().data_ptr())
    assert storage[0] == storage[1]  # steps 1 and 2: written into the room of 2
    assert storage[2] != storage[1] and storage[2] == storage[3]  # the room ran out: new buffers, room 2 again
