"""Transformers language models as systems: decoder-only (chat) models and encoder-decoder models.

Weights load through ``from_pretrained`` from a local directory, an installed package (GGUF)
or a hub id (see `model_source`), once per process (see `harness.models.store`), on ``device``
in ``dtype`` (see `harness.models.device`; ``auto`` for both by default). Inputs longer than the
context are cut by the rule in `truncation`.

`summarize_batch` runs one ``generate()`` for the whole batch: causal models get their prompts
padded on the left (the new tokens then line up at the end), encoder-decoder models on the right,
with an attention mask that hides the padding. One article alone is never padded, so a batch of
one gives exactly what `summarize` gives.

`summarize_group` (causal models, greedy): a group of articles with at most ``rows`` decoding at
once, a row leaving the batch when its summary ends and the next article taking its place
(`harness.systems.refill`); where the model or decoding is outside what that loop reproduces,
the group is generated in fixed batches of ``rows``.

Compiled decoding (causal models, ``compile``): ``generate`` with a static key/value cache
(``cache_implementation="static"``, sized in steps of `STATIC_CACHE_STEP` so a sweep meets few
shapes) and the decoding step compiled by ``torch.compile(mode="reduce-overhead")`` (a CUDA graph
replayed per step on CUDA). transformers keeps the compiled step on the model, and the model is
loaded once per process, so every job of a sweep reuses it; the first batch of each shape (batch
size, cache length) compiles it (the warm-up, logged once per shape). Compiled batches are fixed
(rows ride along until their batch ends).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from harness.data.article import Article
from harness.errors import ConfigError
from harness.models.device import device_kind, identity_fields, input_device, resolve_device, resolve_dtype
from harness.models.model_source import resolve_model
from harness.models.store import load_model
from harness.provenance import versions_of
from harness.systems.base import Generation, System, report_tokens
from harness.systems.decoding import Decoding
from harness.systems.prompt import PromptTemplate
from harness.systems.truncation import fit_article

log = logging.getLogger(__name__)

# batch_size=auto starts here and halves on out-of-memory. A CPU never reports running out of
# memory (the OS kills the process instead), so there it is the size measured fastest
# (docs/performance.md, "Batched generation"). On an H100, SmolLM2-135M gave 3x the summaries/s at
# 256 as at 64 (docs/performance.md, "On a GPU"); a larger model runs out of memory and halves.
AUTO_BATCH_START = {"cpu": 16, "accelerator": 256}
# compile: auto compiles the decoding step on these device kinds only. On CUDA the step is bound by
# Python and kernel launches (docs/performance.md, "On a GPU"), which a CUDA graph removes; on a
# CPU there is no graph to replay and the compile costs tens of seconds per shape
# (docs/performance.md, "Compiled decoding": benchmarks/compiled_decoding.py measures it).
COMPILE_AUTO = {"cuda"}
# What a compiled run's identity records: its summaries can differ from eager ones in the last bits.
COMPILED_DECODING = "static-cache+torch.compile(reduce-overhead)"
STATIC_CACHE_STEP = 256  # static caches are sized in multiples of this many tokens


def check_batch_size(value, setting: str = "system.batch_size") -> int | str:
    """A positive integer or ``"auto"``; ConfigError otherwise."""
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ConfigError(f"{setting} must be a positive integer or auto, got {value!r}")


def resolve_compile(value, device: str, setting: str = "system.compile") -> bool:
    """Whether to compile the decoding step: ``auto`` (on the device kinds of `COMPILE_AUTO`), true
    or false; ConfigError for another value, or for true where one compiled step cannot run."""
    if isinstance(value, str) and value.strip().lower() in ("auto", "true", "false"):
        value = {"auto": "auto", "true": True, "false": False}[value.strip().lower()]
    if value == "auto":
        return device != "auto_map" and device_kind(device) in COMPILE_AUTO
    if not isinstance(value, bool):
        raise ConfigError(f"{setting} must be auto, true or false, got {value!r}")
    if value and device == "auto_map":
        raise ConfigError(f"{setting}=true: compiled decoding runs on one device, not with system.device=auto_map "
                          f"(layers over several GPUs); set system.device=cuda or {setting}=false")
    return value


class _TransformersLM(System):
    uses_prompt = True
    batch_changes_output = True  # padding changes the float results of the other rows
    compile = False
    kind: str
    auto_class_name: str
    padding_side: str

    def __init__(self, model: str, name: str | None = None, gguf_file: str | None = None,
                 revision: str | None = None, max_input_tokens: int | None = None, dtype: str = "auto",
                 trust_remote_code: bool = False, dequantized_cache: str | None = None, device: str = "auto",
                 batch_size: int | str = 1):
        self.source = resolve_model(model, gguf_file, revision)
        gguf = self.source.gguf_file  # a .gguf path given as the model names it too: the name drops .gguf
        self.name = name or (Path(gguf).stem if gguf else model.rstrip("/").split("/")[-1])
        self.max_input_tokens = max_input_tokens
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)  # the dtype actually used, never "auto"
        self.trust_remote_code = trust_remote_code
        self.dequantized_cache = dequantized_cache  # where GGUF weights are kept dequantized (load speed only)
        self.batch_size = check_batch_size(batch_size)

    def identity(self, prompt: PromptTemplate, decoding: Decoding) -> dict:
        return {"kind": self.kind, **self.source.content_fingerprint(), "dtype": self.dtype,
                **identity_fields(self.device),
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
        return self._summarize(articles, prompt, decoding, rows=None)

    def summarize_group(self, articles: list[Article], prompt: PromptTemplate, decoding: Decoding,
                        rows: int) -> list[Generation]:
        """The summaries of a group of articles, at most ``rows`` decoding at once, a finished row
        replaced by the next article (`refills`)."""
        return self._summarize(articles, prompt, decoding, rows=rows)

    def _summarize(self, articles, prompt, decoding, rows: int | None) -> list[Generation]:
        model, tokenizer = self.load()
        start = time.perf_counter()
        limit = self._input_limit(model, tokenizer, decoding)
        fitted = []
        for article in articles:
            def render(body: str, title: str = article.title) -> list[int]:
                return self._encode(tokenizer, prompt.render(title=title, article=body))

            fitted.append(fit_article(tokenizer, render, article.body, limit))
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        prompts = [ids for ids, _, _ in fitted]
        if rows is None:
            made = self._generate(model, prompts, pad, decoding)
        else:
            made = self._refill(model, prompts, pad, decoding, rows)
        seconds = (time.perf_counter() - start) / len(articles)  # each article's share of the batch
        out = []
        for new_tokens, (ids, article_tokens, cut) in zip(made, fitted, strict=True):
            while new_tokens and new_tokens[-1] == pad:
                new_tokens.pop()
            text = tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
            out.append(Generation(text=text, input_tokens=len(ids), output_tokens=len(new_tokens),
                                  article_tokens=article_tokens, article_tokens_cut=cut, seconds=seconds))
        return out

    def _generate(self, model, prompts: list[list[int]], pad: int, decoding: Decoding) -> list[list[int]]:
        """One ``generate()`` over the padded batch: each row's new tokens."""
        import torch
        from transformers import StoppingCriteriaList

        width = max(len(ids) for ids in prompts)
        rows, masks = [], []
        for ids in prompts:
            fill = width - len(ids)
            left = self.padding_side == "left"
            rows.append([pad] * fill + ids if left else ids + [pad] * fill)
            masks.append([0] * fill + [1] * len(ids) if left else [1] * len(ids) + [0] * fill)
        device = input_device(model)
        input_ids = torch.tensor(rows, device=device)
        kwargs = decoding.generate_kwargs()
        if self.compile:
            kwargs.update(self._compiled_kwargs(model, len(prompts), width, decoding))
        if decoding.seed is not None:
            torch.manual_seed(decoding.seed)
        with torch.inference_mode(), _compile_errors(self.compile):
            output = model.generate(input_ids=input_ids, attention_mask=torch.tensor(masks, device=device),
                                    pad_token_id=pad,
                                    stopping_criteria=StoppingCriteriaList([_progress(pad, decoding.num_beams)]),
                                    **kwargs)
        return [self._new_tokens(sequence, width).tolist() for sequence in output]

    def _refill(self, model, prompts, pad: int, decoding: Decoding, rows: int) -> list[list[int]]:
        from harness.systems.refill import RefillUnsupported, check_supported, eos_ids, prepared_config, refill_decode

        config = prepared_config(model, decoding.generate_kwargs(), pad)
        try:
            penalty = check_supported(model, config, input_device(model))
        except RefillUnsupported as e:
            if not getattr(model, "_harness_refill_warned", False):
                model._harness_refill_warned = True
                log.warning("%s: rows cannot leave a batch early here (%s); generating in fixed batches of %d",
                            self.name, e, rows)
            return [tokens for start in range(0, len(prompts), rows)
                    for tokens in self._generate(model, prompts[start:start + rows], pad, decoding)]
        return refill_decode(model, prompts, rows=rows, max_new_tokens=decoding.max_new_tokens, eos=eos_ids(config),
                             pad=pad, penalty=penalty, device=input_device(model),
                             prefill_together=self.device != "cpu", on_step=report_tokens)

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


class _compile_errors:
    """Errors of ``torch.compile`` (no C++ compiler, an operation it cannot compile) as a
    ConfigError naming ``system.compile=false``."""

    def __init__(self, active: bool):
        self.active = active

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if not self.active or error is None:
            return False
        from torch._dynamo.exc import TorchDynamoException

        try:
            from torch._inductor.exc import InvalidCxxCompiler
        except ImportError:  # pragma: no cover - older torch
            InvalidCxxCompiler = TorchDynamoException  # noqa: N806
        if isinstance(error, (TorchDynamoException, InvalidCxxCompiler)):
            raise ConfigError(f"system.compile: torch.compile could not compile the decoding step "
                              f"({type(error).__name__}: {str(error).strip().splitlines()[0][:300]}); "
                              "set system.compile=false") from error
        return False


def check_compile(value, setting: str = "system.compile") -> None:
    """``system.compile``'s value alone (auto, true or false), for the config check before a run
    starts; ConfigError otherwise. Whether true can run on the device is `resolve_compile`'s."""
    resolve_compile(value, "cpu", setting)


class CausalLM(_TransformersLM):
    """A decoder-only model; the prompt goes through the tokenizer's chat template when it has one.

    Input limit: the model's context (``max_position_embeddings``) minus ``max_new_tokens``,
    or ``max_input_tokens`` when smaller.
    """

    kind = "causal_lm"
    auto_class_name = "AutoModelForCausalLM"
    # Checked with the config, before a run writes anything (harness.config_check).
    param_checks = {"batch_size": check_batch_size, "compile": check_compile}
    padding_side = "left"

    def __init__(self, model: str, *args, compile: bool | str = "auto", **kwargs):  # noqa: A002 (the setting's name)
        super().__init__(model, *args, **kwargs)
        self.compile = resolve_compile(compile, self.device)

    def identity(self, prompt: PromptTemplate, decoding: Decoding) -> dict:
        ident = super().identity(prompt, decoding)
        return {**ident, "compile": COMPILED_DECODING} if self.compile else ident

    def refills(self, decoding: Decoding) -> bool:
        """Whether a group of articles decodes with rows leaving as they finish: eager greedy
        decoding (compiled batches keep their shape)."""
        return (not self.compile and not decoding.do_sample and decoding.num_beams == 1
                and not decoding.no_repeat_ngram_size)

    def _compiled_kwargs(self, model, rows: int, width: int, decoding: Decoding) -> dict:
        """``generate`` arguments of compiled decoding; ConfigError where the model cannot take them."""
        import torch
        from transformers import CompileConfig

        problem = None
        if not getattr(model, "_can_compile_fullgraph", False):
            problem = f"{type(model).__name__} does not support a static cache with a compiled step"
        elif getattr(model, "hf_quantizer", None) is not None and not model.hf_quantizer.is_compileable:
            problem = "its quantization cannot be compiled"
        elif len(set(getattr(model, "hf_device_map", {"": 0}).values())) > 1:
            problem = "it is spread over several devices"
        elif not torch._dynamo.is_dynamo_supported():
            problem = "torch.compile is not supported with this Python and torch"
        if problem:
            raise ConfigError(f"{self.name}: system.compile=true, but {problem}; set system.compile=false")
        config = CompileConfig(mode="reduce-overhead", fullgraph=False, dynamic=False)
        config._compile_all_devices = True  # transformers compiles on CUDA only unless told: compile means compile
        needed = width + decoding.max_new_tokens
        length = -(-needed // STATIC_CACHE_STEP) * STATIC_CACHE_STEP
        context = getattr(model.config, "max_position_embeddings", None)
        if context:
            length = min(length, max(context, needed))  # never a cache longer than the model's context needs
        length = max(length, getattr(model, "_previous_max_cache_length", 0))  # transformers keeps the largest
        shapes = model.__dict__.setdefault("_harness_compiled_shapes", set())
        if (rows * decoding.num_beams, length) not in shapes:
            shapes.add((rows * decoding.num_beams, length))
            log.info("%s: compiling the decoding step for batch %d x cache %d tokens (once per shape)", self.name,
                     rows * decoding.num_beams, length)
        return {"cache_implementation": "static", "compile_config": config, "max_cache_len": length}

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
