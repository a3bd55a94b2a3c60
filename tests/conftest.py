"""Shared fixtures: the embedded reference article, and tiny random models saved to a temp dir
and loaded back through the same from_pretrained code users hit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.config import register_all_resolvers
from harness.data import load_articles

from .helpers.review_pages import server  # noqa: F401 - the fixture: harness review's server on a known page
from .helpers.run_if import check as check_run_if
from .helpers.timing import REFERENCE_CALIBRATION_S, calibration, scaled_timeout, timeout_scale  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "references" / "seed.jsonl"
WORDS = ("the a of to in and on was were over russia kazakhstan protests fuel prices police officers eight "
         "killed mayor office fire troops summary article sent force last night city yes no").split()

register_all_resolvers()  # ${project_root:}, ${abs_path:}, ${unique_id:}...: as harness.compose does
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a hub
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def pytest_configure(config):
    config.addinivalue_line("markers", "run_if(extra=, module=, chromium=, shared_data=, executable=, cuda=): "
                                       "run only where that is here, else skip naming it (tests/helpers/run_if.py)")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    check_run_if(item)  # before the test's fixtures: a skipped test builds no tiny model


@pytest.fixture(scope="session")
def seed_article():
    return load_articles(str(SEED_FILE))[0]


def _tiny_tokenizer(chat_template: bool):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<pad>", "<s>", "</s>", "<unk>", *WORDS])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.decoder = decoders.WordPiece(prefix="##")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>", unk_token="<unk>")
    if chat_template:
        tokenizer.chat_template = ("{% for m in messages %}<s>{{ m['content'] }}</s>{% endfor %}"
                                   "{% if add_generation_prompt %}<s>{% endif %}")
    return tokenizer, len(vocab)


@pytest.fixture(scope="session")
def tiny_causal_dir(tmp_path_factory) -> Path:
    """A 1-layer random Llama with a word-level tokenizer and a chat template; context 64 tokens."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    directory = tmp_path_factory.mktemp("tiny-causal")
    tokenizer, vocab_size = _tiny_tokenizer(chat_template=True)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
                         bos_token_id=1, eos_token_id=2, pad_token_id=0)
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_seq2seq_dir(tmp_path_factory) -> Path:
    """A 1+1-layer random BART with the same tokenizer; encoder context 48 tokens."""
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    directory = tmp_path_factory.mktemp("tiny-seq2seq")
    tokenizer, vocab_size = _tiny_tokenizer(chat_template=False)
    torch.manual_seed(0)
    config = BartConfig(vocab_size=vocab_size, d_model=16, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                        decoder_ffn_dim=32, max_position_embeddings=48, pad_token_id=0, bos_token_id=1,
                        eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=None)
    BartForConditionalGeneration(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def four_articles(tmp_path_factory, seed_article) -> Path:
    """Four articles made from the seed's paragraphs, rotated, with its bullets (a JSONL file)."""
    import json

    path = tmp_path_factory.mktemp("data") / "four.jsonl"
    paragraphs = list(seed_article.paragraphs)
    rows = [{"id": f"a{i}", "title": f"Article {i}", "paragraphs": paragraphs[i * 2:] + paragraphs[:i * 2],
             "bullets": list(seed_article.bullets)} for i in range(4)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(directory))
    return directory


@pytest.fixture(scope="session")
def tiny_nli_dir(tmp_path_factory) -> Path:
    """A 1-layer random BERT sequence classifier whose labels are in an unusual order
    (contradiction, entailment, neutral), so label handling must read id2label."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    directory = tmp_path_factory.mktemp("tiny-nli")
    tokenizer, vocab_size = _tiny_tokenizer(chat_template=False)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=vocab_size, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                        num_attention_heads=2, max_position_embeddings=64, pad_token_id=0, num_labels=3,
                        id2label={0: "CONTRADICTION", 1: "ENTAILMENT", 2: "NEUTRAL"},
                        label2id={"CONTRADICTION": 0, "ENTAILMENT": 1, "NEUTRAL": 2})
    BertForSequenceClassification(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(autouse=True)
def _forget_registered_keys():
    """Each test starts with no API key registered for redaction: a key an earlier test's client
    registered (process-wide, as a run's are) would redact its pieces from later tests' messages
    (a key holding "test-7" redacted it from a pytest path)."""
    yield
    from harness import http_client
    from harness.key_forms import KeyIndex

    with http_client._secrets_lock:
        http_client._secrets.clear()
        http_client._index = KeyIndex()
