"""GGUF models through llama.cpp (the optional ``llama-cpp-python`` extra): the same system
interface as the transformers backend, with ``backend: llama_cpp`` in its identity, so its
summaries are cached apart from the transformers ones.

The prompt is rendered with the chat template stored in the GGUF file (the same template the
transformers backend reads from it) and tokenised by llama.cpp; inputs longer than the context
are cut from the end of the article by the rule in `truncation`. Greedy decoding is llama.cpp's
temperature-0 sampling; beam search and ``no_repeat_ngram_size`` do not exist there and are
refused. The model is loaded once per process.
"""

from __future__ import annotations

import time

from harness.data.article import Article
from harness.errors import ConfigError, ModelLoadError
from harness.models.model_source import resolve_model
from harness.models.store import get_or_load
from harness.provenance import versions_of
from harness.systems.base import Generation, System
from harness.systems.decoding import Decoding
from harness.systems.prompt import PromptTemplate
from harness.systems.truncation import fit_article


class _Tokens:
    """The two tokenizer calls `fit_article` makes, answered by llama.cpp's tokenizer."""

    def __init__(self, llama):
        self.llama = llama

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": self.llama.tokenize(text.encode("utf-8"), add_bos=add_special_tokens, special=False)}

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return self.llama.detokenize(ids).decode("utf-8", errors="ignore")


class LlamaCppLM(System):
    uses_prompt = True

    def __init__(self, model: str, gguf_file: str | None = None, name: str | None = None, n_ctx: int = 8192,
                 n_threads: int | None = None, max_input_tokens: int | None = None):
        self.source = resolve_model(model, gguf_file)
        if not self.source.gguf_file or not self.source.is_local:
            raise ModelLoadError(f"system.model {model!r}: the llama.cpp backend reads a local GGUF file; "
                                 "give a .gguf path, or a directory or pkg: module with system.gguf_file")
        self.name = name or self.source.gguf_file.rsplit(".", 1)[0]
        self.n_ctx, self.n_threads, self.max_input_tokens = n_ctx, n_threads, max_input_tokens

    def identity(self, prompt: PromptTemplate, decoding: Decoding) -> dict:
        return {"kind": "causal_lm", "backend": "llama_cpp", **self.source.content_fingerprint(), "n_ctx": self.n_ctx,
                "max_input_tokens": self.max_input_tokens, "prompt": prompt.template,
                "decoding": decoding.identity(), "versions": versions_of("llama-cpp-python")}

    def load(self):
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise ModelLoadError("the llama.cpp backend needs the optional extra: CMAKE_ARGS=-DGGML_NATIVE=OFF "
                                 "pip install --no-cache-dir -e '.[llamacpp]' (compiles llama.cpp: 12.5 CPU-minutes; "
                                 "GGML_NATIVE=OFF: no AMX kernels, which crashed on an Intel CPU with AMX)") from e
        path = f"{self.source.location}/{self.source.gguf_file}"
        key = ("llama_cpp", self.source.location, self.source.gguf_file, self.n_ctx, self.n_threads)
        return get_or_load(key, lambda: Llama(model_path=path, n_ctx=self.n_ctx, n_threads=self.n_threads,
                                              verbose=False))

    def _render(self, llama, text: str) -> list[int]:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            return llama.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        eos = llama.detokenize([llama.token_eos()]).decode("utf-8", errors="ignore")
        bos = llama.detokenize([llama.token_bos()]).decode("utf-8", errors="ignore")
        rendered = ImmutableSandboxedEnvironment().from_string(template).render(
            messages=[{"role": "user", "content": text}], add_generation_prompt=True, eos_token=eos, bos_token=bos)
        return llama.tokenize(rendered.encode("utf-8"), add_bos=False, special=True)

    def summarize(self, article: Article, prompt: PromptTemplate, decoding: Decoding) -> Generation:
        if decoding.num_beams > 1 or decoding.no_repeat_ngram_size:
            raise ConfigError(f"decoding {decoding.name!r}: the llama.cpp backend has no beam search and no "
                              "no_repeat_ngram_size; use decoding=greedy or decoding=sampling")
        llama = self.load()
        start = time.perf_counter()
        limits = [n for n in (self.n_ctx - decoding.max_new_tokens, self.max_input_tokens) if n]
        ids, article_tokens, cut = fit_article(
            _Tokens(llama), lambda body: self._render(llama, prompt.render(title=article.title, article=body)),
            article.body, min(limits) if limits else None)
        llama.reset()
        out = llama.create_completion(
            prompt=ids, max_tokens=decoding.max_new_tokens, repeat_penalty=decoding.repetition_penalty,
            temperature=decoding.temperature if decoding.do_sample else 0.0,
            top_p=decoding.top_p if decoding.do_sample else 1.0, top_k=0 if decoding.do_sample else 1,
            seed=decoding.seed if decoding.seed is not None else -1)
        return Generation(text=out["choices"][0]["text"].strip(), input_tokens=len(ids),
                          output_tokens=out["usage"]["completion_tokens"], article_tokens=article_tokens,
                          article_tokens_cut=cut, seconds=time.perf_counter() - start)
