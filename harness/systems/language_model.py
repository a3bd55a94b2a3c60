"""Transformers language models as systems: decoder-only (chat) models and encoder-decoder models.

Weights load through ``from_pretrained`` from a local directory, an installed package (GGUF)
or a hub id (see `model_source`), once per process (see `model_store`). Inputs longer than the
context are cut by the rule in `truncation`.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.data.article import Article
from harness.provenance import versions_of
from harness.systems.base import Generation, System
from harness.systems.decoding import Decoding
from harness.systems.model_source import resolve_model
from harness.systems.model_store import load_model
from harness.systems.prompt import PromptTemplate
from harness.systems.truncation import fit_article


class _TransformersLM(System):
    uses_prompt = True
    kind: str
    auto_class_name: str

    def __init__(self, model: str, name: str | None = None, gguf_file: str | None = None,
                 revision: str | None = None, max_input_tokens: int | None = None, dtype: str = "float32",
                 trust_remote_code: bool = False, dequantized_cache: str | None = None):
        self.source = resolve_model(model, gguf_file, revision)
        self.name = name or (Path(gguf_file).stem if gguf_file else model.rstrip("/").split("/")[-1])
        self.max_input_tokens = max_input_tokens
        self.dtype = dtype
        self.trust_remote_code = trust_remote_code
        self.dequantized_cache = dequantized_cache  # where GGUF weights are kept dequantized (load speed only)

    def identity(self, prompt: PromptTemplate, decoding: Decoding) -> dict:
        return {"kind": self.kind, **self.source.fingerprint(), "dtype": self.dtype,
                "max_input_tokens": self.max_input_tokens, "trust_remote_code": self.trust_remote_code,
                "prompt": prompt.template, "decoding": decoding.identity(),
                "versions": versions_of("torch", "transformers", *(["gguf"] if self.source.gguf_file else []))}

    def load(self):
        import transformers

        auto_class = getattr(transformers, self.auto_class_name)
        return load_model(auto_class, self.source, dtype=self.dtype, trust_remote_code=self.trust_remote_code,
                          dequantized_cache=self.dequantized_cache)

    def summarize(self, article: Article, prompt: PromptTemplate, decoding: Decoding) -> Generation:
        import torch

        model, tokenizer = self.load()
        start = time.perf_counter()

        def render(body: str) -> list[int]:
            return self._encode(tokenizer, prompt.render(title=article.title, article=body))

        limit = self._input_limit(model, tokenizer, decoding)
        ids, article_tokens, cut = fit_article(tokenizer, render, article.body, limit)
        input_ids = torch.tensor([ids])
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if decoding.seed is not None:
            torch.manual_seed(decoding.seed)
        with torch.inference_mode():
            output = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                    pad_token_id=pad, **decoding.generate_kwargs())
        new_tokens = self._new_tokens(output[0], len(ids)).tolist()
        while new_tokens and new_tokens[-1] == pad:
            new_tokens.pop()
        text = tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
        return Generation(text=text, input_tokens=len(ids), output_tokens=len(new_tokens),
                          article_tokens=article_tokens, article_tokens_cut=cut,
                          seconds=time.perf_counter() - start)

    def _configured_limit(self, context: int | None) -> int | None:
        limits = [n for n in (context, self.max_input_tokens) if n]
        return min(limits) if limits else None


class CausalLM(_TransformersLM):
    """A decoder-only model; the prompt goes through the tokenizer's chat template when it has one.

    Input limit: the model's context (``max_position_embeddings``) minus ``max_new_tokens``,
    or ``max_input_tokens`` when smaller.
    """

    kind = "causal_lm"
    auto_class_name = "AutoModelForCausalLM"

    @staticmethod
    def _encode(tokenizer, text: str) -> list[int]:
        if tokenizer.chat_template:
            ids = tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=True,
                                                add_generation_prompt=True, return_dict=False)
            return list(ids)
        return tokenizer(text)["input_ids"]

    def _input_limit(self, model, tokenizer, decoding: Decoding) -> int | None:
        context = getattr(model.config, "max_position_embeddings", None)
        return self._configured_limit(context - decoding.max_new_tokens if context else None)

    @staticmethod
    def _new_tokens(sequence, prompt_length: int):
        return sequence[prompt_length:]


class Seq2SeqLM(_TransformersLM):
    """An encoder-decoder model (BART, T5, PEGASUS); the rendered prompt is the encoder input.

    Input limit: the encoder's ``max_position_embeddings`` (or the tokenizer's
    ``model_max_length`` for relative-position models such as T5), or ``max_input_tokens``.
    """

    kind = "seq2seq"
    auto_class_name = "AutoModelForSeq2SeqLM"

    @staticmethod
    def _encode(tokenizer, text: str) -> list[int]:
        return tokenizer(text)["input_ids"]

    def _input_limit(self, model, tokenizer, decoding: Decoding) -> int | None:
        context = getattr(model.config, "max_position_embeddings", None)
        if not context and tokenizer.model_max_length < 1_000_000:
            context = tokenizer.model_max_length
        return self._configured_limit(context)

    @staticmethod
    def _new_tokens(sequence, prompt_length: int):
        return sequence[1:]  # drop the decoder start token
