"""Each server preset's request bodies, as that server's API documentation names its fields.

Documents the fields were checked against (2026-12):
- OpenAI API reference, Chat Completions (``max_completion_tokens``; ``max_tokens`` deprecated since
  2024-09 and refused by the o-series reasoning models).
- TGI (text-generation-inference) router ``validation.rs``: ``top_p`` must be > 0.0 and < 1.0;
  chat ``temperature: 0`` is greedy since v2.0.2 (huggingface/text-generation-inference#1749).
- vLLM's OpenAI-compatible server (``repetition_penalty`` as an extra sampling parameter), llama.cpp's
  server (``repeat_penalty``), Ollama's OpenAI compatibility (``frequency_penalty``/``presence_penalty``
  only): OpenAI's original ``max_tokens``, ``temperature``, ``top_p``.
"""

from __future__ import annotations

import pytest

from harness.config import build, compose
from harness.data.article import Article
from harness.errors import ConfigError
from harness.systems.served import OpenAICompatible

from .helpers.served_stub import RecordingServer

ARTICLE = Article(id="a1", title="Storm", paragraphs=("A storm hit the coast on Monday.",), bullets=("A storm hit.",))


def request_body(preset: str, decoding: str, url: str, server: RecordingServer, monkeypatch, **settings) -> dict:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    cfg = compose(["system=openai_compatible", f"+server={preset}", f"server.base_url={url}", "server.model=m",
                   f"decoding={decoding}", *[f"system.{k}={v}" for k, v in settings.items()]])
    system, prompt, decoding_ = build(cfg, "system"), build(cfg, "prompt"), build(cfg, "decoding")
    system.summarize(ARTICLE, prompt, decoding_)
    return server.bodies[-1]


@pytest.mark.parametrize(("preset", "greedy", "sampling"), [
    ("openai", {"max_completion_tokens": 128, "temperature": 0.0, "top_p": 1.0},
     {"max_completion_tokens": 128, "temperature": 0.7, "top_p": 0.9}),
    ("tgi", {"max_tokens": 128, "temperature": 0.0},
     {"max_tokens": 128, "temperature": 0.7, "top_p": 0.9}),
    ("vllm", {"max_tokens": 128, "temperature": 0.0, "top_p": 1.0},
     {"max_tokens": 128, "temperature": 0.7, "top_p": 0.9}),
    ("llamacpp", {"max_tokens": 128, "temperature": 0.0, "top_p": 1.0},
     {"max_tokens": 128, "temperature": 0.7, "top_p": 0.9}),
    ("ollama", {"max_tokens": 128, "temperature": 0.0, "top_p": 1.0},
     {"max_tokens": 128, "temperature": 0.7, "top_p": 0.9}),
])
def test_each_preset_sends_its_servers_field_names(preset, greedy, sampling, monkeypatch):
    with RecordingServer(ids=("m",)) as server:
        for decoding, expected in (("greedy", greedy), ("sampling", sampling)):
            body = request_body(preset, decoding, server.url, server, monkeypatch)
            sent = {k: body[k] for k in ("max_tokens", "max_completion_tokens", "temperature", "top_p") if k in body}
            assert sent == pytest.approx(expected), (preset, decoding, body)
            assert body["model"] == "m" and body["messages"][0]["role"] == "user"


def test_extra_body_may_not_replace_a_field_the_harness_sets():
    for field in ("model", "max_tokens", "temperature"):
        with pytest.raises(ConfigError, match=f"system.extra_body sets {field}, which the harness sets itself"):
            OpenAICompatible("http://127.0.0.1:9/v1", "m", extra_body={field: 1}, check_model=False)
    with pytest.raises(ConfigError, match="extra_body sets repeat_penalty"):
        OpenAICompatible("http://127.0.0.1:9/v1", "m", extra_body={"repeat_penalty": 1.3}, check_model=False,
                         repetition_penalty_param="repeat_penalty")
    kept = OpenAICompatible("http://127.0.0.1:9/v1", "m", extra_body={"top_k": 5}, check_model=False)
    assert kept.extra_body == {"top_k": 5}


def test_two_server_kinds_serving_one_model_name_are_two_systems():
    from harness.systems.decoding import Decoding
    from harness.systems.prompt import PromptTemplate

    prompt, greedy = PromptTemplate("p", "{article}"), Decoding(name="greedy")
    ollama = OpenAICompatible("http://127.0.0.1:11434/v1", "m", server="ollama", check_model=False)
    hosted = OpenAICompatible("http://127.0.0.1:8000/v1", "m", server="openai", check_model=False)
    same = OpenAICompatible("http://127.0.0.1:11434/v1", "m", server="ollama", check_model=False)
    assert ollama.identity(prompt, greedy) != hosted.identity(prompt, greedy)
    assert ollama.identity(prompt, greedy) == same.identity(prompt, greedy)
    assert ollama.identity(prompt, greedy)["base_url"] == "http://127.0.0.1:11434/v1"
