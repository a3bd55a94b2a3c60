"""Transformers language models as systems: decoder-only (chat) models and encoder-decoder models.

Weights load through ``from_pretrained`` from a local directory, an installed package (GGUF)
or a hub id (see `model_source`), once per process (see `harness.models.store`), on ``device``
in ``dtype`` (see `harness.models.device`; ``auto`` for both by default). Inputs longer than the
context are cut by the rule in `truncation`.

`summarize_batch` runs one ``generate()`` for the whole batch: causal models get their prompts
padded on the left (the new tokens then line up at the end), encoder-decoder models on the right,
with an attention mask that hides the padding. One article alone is never padded, so a batch of
one gives exactly what `summarize` gives.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.data.article import Article
from harness.errors import ConfigError
from harness.models.device import identity_fields, input_device, resolve_device, resolve_dtype
from harness.models.model_source import resolve_model
from harness.models.store import load_model
from harness.provenance import versions_of
from harness.systems.base import Generation, System, report_tokens
from harness.systems.decoding import Decoding
from harness.systems.prompt import PromptTemplate
from harness.systems.truncation import fit_article

# batch_size=auto starts here and halves on out-of-memory. A CPU never reports running out of
# memory (the OS kills the process instead), so there it is the size measured fastest
# (docs/performance.md, "Batched generation"). On an H100, SmolLM2-135M gave 3x the summaries/s at
# 256 as at 64 (docs/performance.md, "On a GPU"); a larger model runs out of memory and halves.
AUTO_BATCH_START = {"cpu": 16, "accelerator": 256}


def check_batch_size(value, setting: str = "system.batch_size") -> int | str:
    """A positive integer or ``"auto"``; ConfigError otherwise."""
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ConfigError(f"{setting} must be a positive integer or auto, got {value!r}")


class _TransformersLM(System):
    uses_prompt = True
    batch_changes_output = True  # padding changes the float results of the other rows
    kind: str
    auto_class_name: str
    padding_side: str

    def __init__(self, model: str, name: str | None = None, gguf_file: str | None = None,
                 revision: str | None = None, max_input_tokens: int | None = None, dtype: str = "auto",
                 trust_remote_code: bool = False, dequantized_cache: str | None = None, device: str = "auto",
                 batch_size: int | str = 1):
        self.source = resolve_model(model, gguf_file, revision)
        self.name = name or (Path(gguf_file).stem if gguf_file else model.rstrip("/").split("/")[-1])
        self.max_input_tokens = max_input_tokens
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)  # the dtype actually used, never "auto"
        self.trust_remote_code = trust_remote_code
        self.dequantized_cache = dequantized_cache  # where GGUF weights are kept dequantized (load speed only)
        self.batch_size = check_batch_size(batch_size)

    def identity(self, prompt: PromptTemplate, decoding: Decoding) -> dict:
        return {"kind": self.kind, **self.source.fingerprint(), "dtype": self.dtype, **identity_fields(self.device),
                "max_input_tokens": self.max_input_tokens, "trust_remote_code": self.trust_remote_code,
                "prompt": prompt.template, "decoding": decoding.identity(),
                "versions": versions_of("torch", "transformers", *(["gguf"] if self.source.gguf_file else []))}

    def auto_batch_start(self) -> int:
        """Where ``batch_size: auto`` starts halving."""
        return AUTO_BATCH_START["cpu" if self.device == "cpu" else "accelerator"]

    def load(self):
        import transformers

        auto_class = getattr(transformers, self.auto_class_name)
        return load_model(auto_class, self.source, dtype=self.dtype, device=self.device,
                          trust_remote_code=self.trust_remote_code, dequantized_cache=self.dequantized_cache)

    def summarize(self, article: Article, prompt: PromptTemplate, decoding: Decoding) -> Generation:
        return self.summarize_batch([article], prompt, decoding)[0]

    def summarize_batch(self, articles: list[Article], prompt: PromptTemplate, decoding: Decoding) -> list[Generation]:
        import torch
        from transformers import StoppingCriteriaList

        model, tokenizer = self.load()
        start = time.perf_counter()
        limit = self._input_limit(model, tokenizer, decoding)
        fitted = []
        for article in articles:
            def render(body: str, title: str = article.title) -> list[int]:
                return self._encode(tokenizer, prompt.render(title=title, article=body))

            fitted.append(fit_article(tokenizer, render, article.body, limit))
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        width = max(len(ids) for ids, _, _ in fitted)
        rows, masks = [], []
        for ids, _, _ in fitted:
            fill = width - len(ids)
            left = self.padding_side == "left"
            rows.append([pad] * fill + ids if left else ids + [pad] * fill)
            masks.append([0] * fill + [1] * len(ids) if left else [1] * len(ids) + [0] * fill)
        device = input_device(model)
        input_ids = torch.tensor(rows, device=device)
        if decoding.seed is not None:
            torch.manual_seed(decoding.seed)
        with torch.inference_mode():
            output = model.generate(input_ids=input_ids, attention_mask=torch.tensor(masks, device=device),
                                    pad_token_id=pad,
                                    stopping_criteria=StoppingCriteriaList([_progress(pad, decoding.num_beams)]),
                                    **decoding.generate_kwargs())
        seconds = (time.perf_counter() - start) / len(articles)  # each article's share of the batch
        out = []
        for sequence, (ids, article_tokens, cut) in zip(output, fitted, strict=True):
            new_tokens = self._new_tokens(sequence, width).tolist()
            while new_tokens and new_tokens[-1] == pad:
                new_tokens.pop()
            text = tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
            out.append(Generation(text=text, input_tokens=len(ids), output_tokens=len(new_tokens),
                                  article_tokens=article_tokens, article_tokens_cut=cut, seconds=seconds))
        return out

    def _configured_limit(self, context: int | None) -> int | None:
        limits = [n for n in (context, self.max_input_tokens) if n]
        return min(limits) if limits else None


def _progress(pad: int, beams: int):
    """A stopping criterion that never stops: it reports each decoding step's new tokens (the rows
    not yet finished, per beam group) to `report_tokens`, so a long batch shows as progress."""
    import torch
    from transformers import StoppingCriteria

    class Progress(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            report_tokens(-(-int((input_ids[:, -1] != pad).sum()) // beams))
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    return Progress()


class CausalLM(_TransformersLM):
    """A decoder-only model; the prompt goes through the tokenizer's chat template when it has one.

    Input limit: the model's context (``max_position_embeddings``) minus ``max_new_tokens``,
    or ``max_input_tokens`` when smaller.
    """

    kind = "causal_lm"
    auto_class_name = "AutoModelForCausalLM"
    padding_side = "left"

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
    padding_side = "right"

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
