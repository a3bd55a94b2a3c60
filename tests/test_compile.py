"""Compiled decoding (``system.compile``): auto compiles on CUDA only, compiled summaries are keyed
apart from eager ones, unsupported setups are a ConfigError naming the fix, and (slow: torch.compile
takes about half a minute per shape on a 2-core CPU) compiled greedy summaries equal eager ones in
float32, with the compiled step reused by a second system on the same weights."""

import pytest

from harness.data.article import Article
from harness.errors import ConfigError
from harness.models import store
from harness.systems.decoding import Decoding
from harness.systems.language_model import COMPILED_DECODING, CausalLM, resolve_compile
from harness.systems.prompt import PromptTemplate

PROMPT = PromptTemplate(name="p", template="summarize {title} : {article}")
GREEDY = Decoding(name="greedy", max_new_tokens=6, repetition_penalty=1.1)
WORDS = "the police officers were killed in the city and the mayor office was on fire last night".split()


def article(i: int) -> Article:
    return Article(id=f"a{i}", title="summary", paragraphs=(" ".join((WORDS * 3)[: i + 1]),), bullets=("b",))


@pytest.fixture(autouse=True)
def _fresh_models():
    yield
    store._LOADED.clear()


@pytest.mark.parametrize(("value", "device", "expected"), [
    ("auto", "cpu", False), ("auto", "mps", False), ("auto", "cuda:0", True), ("auto", "auto_map", False),
    (True, "cpu", True), ("true", "cpu", True), (False, "cuda:0", False), ("False", "cuda:1", False)])
def test_auto_compiles_on_one_cuda_device(value, device, expected):
    assert resolve_compile(value, device) is expected


@pytest.mark.parametrize("value", ["yes", 1, None, "static"])
def test_compile_takes_auto_true_or_false(value):
    with pytest.raises(ConfigError, match="system.compile must be auto, true or false"):
        resolve_compile(value, "cpu")


def test_compile_over_several_gpus_is_refused():
    with pytest.raises(ConfigError, match="system.device=auto_map.*set system.device=cuda or system.compile=false"):
        resolve_compile(True, "auto_map")


def test_compiled_summaries_are_keyed_apart_and_eager_keys_stay(tiny_causal_dir):
    eager = CausalLM(model=str(tiny_causal_dir), compile="auto").identity(PROMPT, GREEDY)  # the CPU: eager
    assert "compile" not in eager and eager == CausalLM(model=str(tiny_causal_dir), compile=False).identity(
        PROMPT, GREEDY)
    compiled = CausalLM(model=str(tiny_causal_dir), compile=True).identity(PROMPT, GREEDY)
    assert compiled == {**eager, "compile": COMPILED_DECODING}
    assert not CausalLM(model=str(tiny_causal_dir), compile=True).refills(GREEDY)  # compiled batches keep their shape


def test_a_model_that_cannot_compile_names_the_fix(tiny_causal_dir):
    system = CausalLM(model=str(tiny_causal_dir), dtype="float32", compile=True)
    model, _ = system.load()
    model._can_compile_fullgraph = False  # as for an architecture without static-cache support
    with pytest.raises(ConfigError, match=r"LlamaForCausalLM does not support a static cache.*system.compile=false"):
        system.summarize(article(3), PROMPT, GREEDY)


def test_a_compiler_failure_names_the_fix(tiny_causal_dir, monkeypatch):
    from torch._inductor.exc import InvalidCxxCompiler

    system = CausalLM(model=str(tiny_causal_dir), dtype="float32", compile=True)
    model, _ = system.load()

    def no_compiler(**kwargs):
        assert kwargs["cache_implementation"] == "static" and kwargs["compile_config"].mode == "reduce-overhead"
        raise InvalidCxxCompiler()

    monkeypatch.setattr(model, "generate", no_compiler)
    with pytest.raises(ConfigError, match=r"torch.compile could not compile the decoding step \(InvalidCxxCompiler"
                                          r".*set system.compile=false"):
        system.summarize(article(3), PROMPT, GREEDY)
    eager = CausalLM(model=str(tiny_causal_dir), dtype="float32", compile=False)
    monkeypatch.setattr(model, "generate", lambda **kwargs: (_ for _ in ()).throw(InvalidCxxCompiler()))
    with pytest.raises(InvalidCxxCompiler):  # eager: not a compile problem, not reworded
        eager.summarize(article(3), PROMPT, GREEDY)


@pytest.mark.slow
def test_compiled_greedy_summaries_equal_eager_ones_in_float32(tiny_causal_dir):
    import torch

    articles = [article(2), article(9), article(30)]
    eager = CausalLM(model=str(tiny_causal_dir), dtype="float32", compile=False)
    expected_batch = eager.summarize_batch(articles, PROMPT, GREEDY)
    expected_alone = eager.summarize(articles[1], PROMPT, GREEDY)

    compiled = CausalLM(model=str(tiny_causal_dir), dtype="float32", compile=True)
    made = compiled.summarize_batch(articles, PROMPT, GREEDY)
    model, _ = compiled.load()
    assert model is eager.load()[0] and hasattr(model, "_compiled_call")  # one model, its step compiled
    assert [(g.text, g.output_tokens) for g in made] == [(g.text, g.output_tokens) for g in expected_batch]
    assert len({g.input_tokens for g in made}) == 3  # a padded batch
    assert compiled.summarize(articles[1], PROMPT, GREEDY).text == expected_alone.text

    step = model._compiled_call
    frames = torch._dynamo.utils.counters["frames"]["ok"]
    again = CausalLM(model=str(tiny_causal_dir), dtype="float32", compile=True)  # the next job of a sweep
    assert [g.text for g in again.summarize_batch(articles[::-1], PROMPT, GREEDY)] == [
        g.text for g in expected_batch[::-1]]
    assert model._compiled_call is step and torch._dynamo.utils.counters["frames"]["ok"] == frames  # no recompile
    assert {(3, 64), (1, 64)} <= model._harness_compiled_shapes  # shapes: batch x the context-capped cache
