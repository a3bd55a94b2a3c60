"""Served models: any OpenAI-compatible server (vLLM, TGI, llama.cpp's server, Ollama, hosted
APIs) as a system, and the endpoint check and request code the served LLM judge shares.

``Endpoint`` is one server and one of its models: at start it asks ``GET {base_url}/models`` and
fails with the URL named when the server does not answer, refuses the API key, or does not
serve ``model``. The API key is read from the environment variable named by ``api_key_env``
(never from the config itself) and goes only into the request header; every ``ServerError`` is a
``ServerAnswerError`` (``harness/http_client.py``): its message is made without the key, even
when the server's answer quoted in it repeats the request's headers.

``OpenAICompatible`` sends one request per article, up to ``concurrency`` in flight (a thread
pool), results in article order. Its identity (the generation cache key) holds the model *name*
and what the server reports about it (``owned_by``, vLLM's ``root``/``max_model_len``, a
``created`` date when it is a real date and not the time of the request), ``revision``, the
endpoint, the prompt, the decoding and the exact request parameters. Not the weights: a server
redeployed with other weights under the same name needs ``system.revision`` bumped or another
``cache_dir``. Each summary records the ``model`` and ``system_fingerprint`` its response named.

Decoding: greedy is temperature 0; sampling sends temperature, top_p and the seed;
``repetition_penalty`` goes under the field the server takes, plus an offset
(``repetition_penalty_param``, ``repetition_penalty_offset``), named once per server kind by the
presets in conf/server/ (``+server=llamacpp``: ``repeat_penalty``; TGI: ``presence_penalty`` - 2).
It is always sent, since servers' defaults differ. Two cases warn, once, in one line naming the
setting and the fix: no preset (``server`` null), where vLLM's name is a guess other servers
ignore silently; and a server without one (the field null: OpenAI, Ollama), where a penalty
other than 1 is not sent. Beam search and ``no_repeat_ngram_size`` do not exist in the API and
are refused. The run's name is ``name``, else the model id's last part without ``.gguf``
(llama.cpp's servers list the GGUF path as the id).
Long articles: the server knows its context, we do not; ``max_input_chars`` cuts the article
body to that many characters (from the end, at a word boundary) before the prompt is filled in;
without it an over-long prompt comes back as the server's 400, raised as our error naming the
article and this fix.
"""

from __future__ import annotations

import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from omegaconf import DictConfig, OmegaConf

from harness.data.article import Article
from harness.errors import ConfigError
from harness.http_client import (
    AnswerTooLarge,
    HttpStatusError,
    JsonClient,
    RedirectRefused,
    ServerAnswerError,
    ServerUnreachable,
    check_base_url,
    check_key_env_name,
    check_key_value,
    quote,
    redact_keys,
)
from harness.systems.base import Generation, System, report_tokens
from harness.systems.decoding import Decoding
from harness.systems.prompt import PromptTemplate

log = logging.getLogger(__name__)

ENDPOINTS = {"chat": "chat/completions", "completions": "completions"}
DEFAULT_PENALTY_PARAM = "repetition_penalty"  # vLLM's field: the guess without a server preset
# Fields of a /models entry that describe the deployment and stay the same from call to call.
STABLE_MODEL_FIELDS = ("id", "owned_by", "root", "parent", "max_model_len")
# A `created` this close to the server's clock is the time of the request (vLLM, llama.cpp), not a date.
CREATED_IS_NOW_S = 300
# An answer's body at most, unless max_answer_bytes says: this much plus ANSWER_BYTES_PER_TOKEN per
# max_tokens asked for (room for logprobs a request may ask in extra_body; a token's text is a few bytes).
ANSWER_BYTES_BASE = 2 ** 20
ANSWER_BYTES_PER_TOKEN = 4 * 2 ** 10
# An answer's text longer than this many characters per max_tokens did not honour max_tokens: cut there, warned.
MAX_CHARS_PER_TOKEN = 32


class ServerError(ServerAnswerError):
    """The served model cannot be used: server down, model not served, key refused, request refused
    (``status``: the HTTP status when the server answered one). Its message holds no API key."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class ServedGeneration(Generation):
    """A generation plus what the server said about the answer."""

    request_seconds: float = 0.0  # this request's own latency (``seconds`` is its share of the batch's wall time)
    finish_reason: str | None = None
    response_model: str | None = None
    system_fingerprint: str | None = None
    article_chars_cut: int = 0
    answer_chars_cut: int = 0  # characters cut from an answer far longer than max_tokens allows
    key_redacted: tuple[str, ...] = ()  # the answer's fields that held the API key (stored as [redacted])


def api_key_from_env(name: str | None, setting: str) -> str | None:
    """The key in environment variable ``name`` (None when no variable is named)."""
    if not name:
        return None
    check_key_env_name(name, f"{setting}.api_key_env")
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"{setting}.api_key_env: the environment variable {name} is not set; "
                          f"export {name}=YOUR_KEY before the run (or api_key_env=null for a server without a key)")
    check_key_value(value, f"the environment variable {name} ({setting}.api_key_env)")
    return value


def answer_byte_cap(max_tokens, max_answer_bytes: int | None) -> int:
    """The most bytes read of one answer: ``max_answer_bytes`` when set, else ``ANSWER_BYTES_BASE``
    plus ``ANSWER_BYTES_PER_TOKEN`` per token asked for (``max_tokens``; 4096 when the request says none).

    Args:
        max_tokens: the request's ``max_tokens``.
        max_answer_bytes: the setting (None: derived).

    Returns:
        A byte count.
    """
    if max_answer_bytes is not None:
        return max_answer_bytes
    tokens = max_tokens if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0 else 4096
    return ANSWER_BYTES_BASE + ANSWER_BYTES_PER_TOKEN * tokens


def cut_answer(text: str, max_tokens) -> tuple[str, int]:
    """An answer's text cut to ``MAX_CHARS_PER_TOKEN`` characters per token of ``max_tokens`` (at a
    word boundary), and how many characters were cut: 0 when it is within, or no ``max_tokens`` was asked.

    Args:
        text: the answer's text.
        max_tokens: the request's ``max_tokens``.

    Returns:
        (text, characters cut).
    """
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return text, 0
    return cut_chars(text, MAX_CHARS_PER_TOKEN * max_tokens)


def cut_chars(text: str, limit: int | None) -> tuple[str, int]:
    """``text`` cut to at most ``limit`` characters at a word boundary, and how many were cut."""
    if not limit or len(text) <= limit:
        return text, 0
    kept = text[:limit]
    space = kept.rfind(" ")
    if space > limit // 2:
        kept = kept[:space]
    return kept, len(text) - len(kept)


class Endpoint:
    """One OpenAI-compatible server (``base_url``, usually ending in ``/v1``) and one model it serves."""

    def __init__(self, base_url: str, model: str, *, api_key_env: str | None = None, timeout_s: float = 600.0,
                 retries: int = 3, backoff_s: float = 1.0, check_model: bool = True, setting: str = "system",
                 max_answer_bytes: int | None = None):
        check_base_url(base_url, f"{setting}.base_url")
        if not isinstance(base_url, str) or not re.match(r"https?://[^/]", base_url):
            shown = "a value holding '@' (not shown)" if "@" in str(base_url) else repr(base_url)
            raise ConfigError(f"{setting}.base_url must be an http(s) URL such as http://localhost:8000/v1, "
                              f"got {shown}")
        if max_answer_bytes is not None and (not isinstance(max_answer_bytes, int) or isinstance(max_answer_bytes, bool)
                                             or max_answer_bytes < 1024):
            raise ConfigError(f"{setting}.max_answer_bytes must be an integer >= 1024 or null (derived from "
                              f"max_tokens), got {max_answer_bytes!r}")
        self.max_answer_bytes = max_answer_bytes
        if not model or not isinstance(model, str):
            raise ConfigError(f"{setting}.model must name the served model (as GET {base_url}/models lists it)"
                              + (": set server.model or system.model" if setting == "system" else ""))
        if retries < 0 or backoff_s < 0 or timeout_s <= 0:
            raise ConfigError(f"{setting}: retries and backoff_s must be >= 0 and timeout_s > 0")
        self.base_url, self.model, self.setting = base_url.rstrip("/"), model, setting
        self.api_key_env = api_key_env
        self.client = JsonClient(self.base_url, api_key=api_key_from_env(api_key_env, setting), timeout_s=timeout_s,
                                 retries=retries, backoff_s=backoff_s,
                                 key_source=f"the environment variable {api_key_env}")
        self.served = self._model_entry() if check_model else {"id": model}

    def _model_entry(self) -> dict:
        url = self.client.url("models")
        try:
            listing, headers = self.client.get("models", timeout_s=min(self.client.timeout_s, 30.0), retries=1)
        except ServerUnreachable as e:
            raise ServerError(f"the server at {self.base_url} does not answer ({e}). Start it, or fix "
                              f"{self.setting}.base_url") from None
        except HttpStatusError as e:
            raise self.status_error(e, "listing its models") from None
        except RedirectRefused as e:
            raise ServerError(f"{e} ({self.setting}.base_url)", e.status) from None
        except AnswerTooLarge as e:
            raise ServerError(f"{e}; is {self.setting}.base_url the API root?") from None
        entries = listing.get("data") if isinstance(listing, dict) else None
        if not isinstance(entries, list):
            raise ServerError(f"GET {url} did not answer an OpenAI model list ({quote(listing)}); is "
                              f"{self.setting}.base_url the API root (usually ending in /v1)?")
        ids = [e.get("id") for e in entries if isinstance(e, dict)]
        if self.model not in ids:
            raise ServerError(f"model {self.model!r} is not served at {self.base_url}; it serves: "
                              f"{', '.join(map(str, ids)) or 'nothing'}. Fix {self.setting}.model")
        return stable_model_fields(entries[ids.index(self.model)], _server_now(headers))

    def status_error(self, error: HttpStatusError, doing: str) -> ServerError:
        if error.status in (401, 403):
            key = (f"the key in ${self.api_key_env}" if self.api_key_env
                   else f"no key ({self.setting}.api_key_env is not set)")
            return ServerError(f"the server at {self.base_url} refused the request ({doing}: HTTP {error.status}, "
                               f"{error.detail}); it was sent {key}. Set {self.setting}.api_key_env to the "
                               "environment variable that holds a valid key", error.status)
        if error.status == 404 and doing == "listing its models":
            return ServerError(f"the server at {self.base_url} has no {error.url} (HTTP 404): is "
                               f"{self.setting}.base_url the API root (usually ending in /v1)?", 404)
        return ServerError(f"the server at {self.base_url} refused the request ({doing}): HTTP {error.status}: "
                           f"{error.detail}", error.status)

    def post(self, path: str, body: dict, doing: str) -> dict:
        cap = answer_byte_cap(body.get("max_tokens", body.get("max_completion_tokens")), self.max_answer_bytes)
        try:
            return self.client.post(path, {"model": self.model, **body}, max_bytes=cap)
        except RedirectRefused as e:
            raise ServerError(f"{e} ({self.setting}.base_url; {doing})", e.status) from None
        except AnswerTooLarge as e:
            derived = ("set" if self.max_answer_bytes is not None
                       else f"derived from max_tokens={body.get('max_tokens', body.get('max_completion_tokens'))}")
            raise ServerError(f"{e} ({doing}; {self.setting}.max_answer_bytes={cap}, {derived}). If answers this "
                              f"long are meant, raise {self.setting}.max_answer_bytes") from None
        except ServerUnreachable as e:
            raise ServerError(f"the server at {self.base_url} stopped answering ({doing}): {e}. Start it and run "
                              "the same command again: what was finished comes from the cache") from None
        except HttpStatusError as e:
            raise self.status_error(e, doing) from None

    def fingerprint(self) -> dict:
        """What the server says about the model (the stable fields; see the module docstring)."""
        return {"api": "openai_compatible", "model": self.model, "served_model": dict(self.served)}


def stable_model_fields(entry: dict, server_now: float) -> dict:
    """The fields of a /models entry that describe the deployment: ``created`` only when it is a
    date (Ollama: when the model was pulled; hosted APIs: its release), not the time of the request."""
    served = {k: redact_keys(entry[k]) if isinstance(entry[k], str) else entry[k]
              for k in STABLE_MODEL_FIELDS if entry.get(k) is not None}
    created = entry.get("created")
    if isinstance(created, (int, float)) and abs(created - server_now) > CREATED_IS_NOW_S:
        served["created"] = created
    return served


def _server_now(headers: dict) -> float:
    from email.utils import parsedate_to_datetime

    date = {k.lower(): v for k, v in headers.items()}.get("date")
    try:
        return parsedate_to_datetime(date).timestamp() if date else time.time()
    except (TypeError, ValueError):
        return time.time()


def map_in_flight(function, items: list, concurrency: int, on_done=None) -> list:
    """``[function(x) for x in items]`` with up to ``concurrency`` calls running at once (threads),
    in the order of ``items``; ``on_done(result)`` runs in the calling thread as each call finishes.
    On the first failure the calls not yet started are cancelled, the running ones finish, and the
    error is raised."""
    if concurrency == 1 or len(items) <= 1:
        results = []
        for item in items:
            results.append(function(item))
            if on_done:
                on_done(results[-1])
        return results
    results = [None] * len(items)
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items)), thread_name_prefix="served") as pool:
        futures = {pool.submit(function, item): n for n, item in enumerate(items)}
        try:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if on_done:
                    on_done(results[futures[future]])
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return results


def short_model_name(model: str) -> str:
    """A served model's default display name: the id's last path part, without ``.gguf``
    (``/models/SmolLM2-135M-Instruct.Q4_1.gguf`` -> ``SmolLM2-135M-Instruct.Q4_1``), as the
    in-process systems name a local model."""
    last = re.split(r"[/\\]", model.rstrip("/\\"))[-1] or model
    return last[:-len(".gguf")] if last.lower().endswith(".gguf") and len(last) > len(".gguf") else last


def server_presets() -> list[str]:
    from harness.config import CONF_DIR

    return sorted(p.stem for p in (CONF_DIR / "server").glob("*.yaml"))


def unsent_warnings(decoding: Decoding, server: str | None, repetition_penalty_param: str | None) -> list[str]:
    """One line per decoding setting that may not reach the server as meant, naming the setting and the fix."""
    penalty = decoding.repetition_penalty
    if repetition_penalty_param is None:
        if penalty == 1.0:
            return []
        where = f"the {server} server" if server else "this server (system.repetition_penalty_param=null)"
        return [f"decoding.repetition_penalty={penalty} is not sent: {where} takes no repetition penalty "
                "(frequency_penalty and presence_penalty penalise differently), so these summaries are decoded "
                "without one; set decoding.repetition_penalty=1.0 to record that"]
    if server is None and repetition_penalty_param == DEFAULT_PENALTY_PARAM:
        return [f"system.server is not set, so decoding.repetition_penalty={penalty} goes out as "
                f"{DEFAULT_PENALTY_PARAM!r} (vLLM's name), which other servers ignore silently and decode with "
                "their own penalty (llama.cpp's server reads repeat_penalty): name the server with "
                f"+server={'|'.join(server_presets())}"]
    return []


def request_params(decoding: Decoding, repetition_penalty_param: str | None, repetition_penalty_offset: float = 0.0,
                   *, server: str | None = None, endpoint: str = "chat") -> dict:
    """The sampling fields of a completions request for ``decoding``; refuses what the API lacks.
    The repetition penalty goes as ``repetition_penalty_param`` = penalty + offset, and not at all
    when that is None (``unsent_warnings`` says so). Each server's API as its documentation names it:

    - ``openai`` chat: ``max_completion_tokens`` (OpenAI's API reference, Chat Completions, 2024-09 on:
      ``max_tokens`` is deprecated and refused by its reasoning models); its legacy ``/completions``
      keeps ``max_tokens``;
    - ``tgi``: no ``top_p`` of 1.0 (TGI's router validates 0 < top_p < 1, ``router/src/validation.rs``;
      1.0 is no nucleus filter, so it is left out); greedy is ``temperature: 0``, which TGI's chat
      route takes as greedy since v2.0.2 (huggingface/text-generation-inference#1749);
    - the others (vLLM, llama.cpp's server, Ollama): OpenAI's original fields.
    """
    if decoding.num_beams > 1 or decoding.no_repeat_ngram_size:
        raise ConfigError(f"decoding {decoding.name!r}: served models take no beam search and no "
                          "no_repeat_ngram_size (the OpenAI API has neither); use decoding=greedy or decoding=sampling")
    limit = "max_completion_tokens" if server == "openai" and endpoint == "chat" else "max_tokens"
    params: dict = {limit: decoding.max_new_tokens}
    if decoding.do_sample:
        params.update(temperature=decoding.temperature, top_p=decoding.top_p)
        if decoding.seed is not None:
            params["seed"] = decoding.seed
    else:
        params.update(temperature=0.0, top_p=1.0)
    if server == "tgi" and params["top_p"] >= 1.0:
        del params["top_p"]
    if repetition_penalty_param:  # sent even at 1.0: llama.cpp's server defaults to 1.1
        params[repetition_penalty_param] = round(decoding.repetition_penalty + repetition_penalty_offset, 9)
    return params


# Request fields the harness sets itself: system.extra_body may not replace them (the run would record
# values the server never got).
OWN_FIELDS = frozenset({"model", "messages", "prompt", "stream", "n", "max_tokens", "max_completion_tokens",
                        "temperature", "top_p", "seed"})


class OpenAICompatible(System):
    """A model behind an OpenAI-compatible ``/v1/chat/completions`` (``endpoint: chat``, the server
    applies the model's chat template) or ``/v1/completions`` (``endpoint: completions``: the
    rendered prompt as is, for base models)."""

    uses_prompt = True

    def __init__(self, base_url: str, model: str, name: str | None = None, endpoint: str = "chat",
                 api_key_env: str | None = None, concurrency: int = 4, batch_size: int | None = None,
                 timeout_s: float = 600.0, retries: int = 3, backoff_s: float = 1.0, revision: str | None = None,
                 max_input_chars: int | None = None, repetition_penalty_param: str | None = DEFAULT_PENALTY_PARAM,
                 extra_body: dict | None = None, check_model: bool = True, server: str | None = None,
                 repetition_penalty_offset: float = 0.0, max_answer_bytes: int | None = None):
        if endpoint not in ENDPOINTS:
            raise ConfigError(f"system.endpoint must be one of {sorted(ENDPOINTS)}, got {endpoint!r}")
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigError(f"system.concurrency must be an integer >= 1, got {concurrency!r}")
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ConfigError(f"system.batch_size must be an integer >= 1 or null, got {batch_size!r}")
        if max_input_chars is not None and max_input_chars < 1:
            raise ConfigError(f"system.max_input_chars must be >= 1 or null, got {max_input_chars!r}")
        self.endpoint = Endpoint(base_url, model, api_key_env=api_key_env, timeout_s=timeout_s, retries=retries,
                                 backoff_s=backoff_s, check_model=check_model, setting="system",
                                 max_answer_bytes=max_answer_bytes)
        self.name = name or short_model_name(model)
        self.kind, self.concurrency, self.server = endpoint, concurrency, server
        # The batched generation loop hands over this many articles at a time: several per request
        # slot, so slots freed by short answers get the next article instead of waiting for the batch.
        self.batch_size = batch_size or 4 * concurrency
        self.revision, self.max_input_chars = revision, max_input_chars
        self.repetition_penalty_param = repetition_penalty_param
        if not isinstance(repetition_penalty_offset, (int, float)) or isinstance(repetition_penalty_offset, bool):
            raise ConfigError(f"system.repetition_penalty_offset must be a number, got {repetition_penalty_offset!r}")
        self.repetition_penalty_offset = float(repetition_penalty_offset)
        self._warned: set[str] = set()
        if isinstance(extra_body, DictConfig):  # from Hydra: plain JSON-able values
            extra_body = OmegaConf.to_container(extra_body, resolve=True)
        if not isinstance(extra_body or {}, dict):
            raise ConfigError(f"system.extra_body must be a mapping of request fields, got {extra_body!r}")
        self.extra_body = dict(extra_body or {})
        clashes = sorted(set(self.extra_body) & (OWN_FIELDS | {repetition_penalty_param} - {None}))
        if clashes:
            raise ConfigError(f"system.extra_body sets {', '.join(clashes)}, which the harness sets itself (the run "
                              "would record values the server never got): use the decoding preset (decoding.*) or "
                              "system.* instead")

    def identity(self, prompt: PromptTemplate, decoding: Decoding) -> dict:
        # Which server answers is part of what picks the weights: two kinds serving one model name (an
        # Ollama and a hosted API) are two systems, never one cache entry.
        return {"kind": "served", **self.endpoint.fingerprint(), "server": self.server,
                "base_url": self.endpoint.base_url, "revision": self.revision, "endpoint": self.kind,
                "max_input_chars": self.max_input_chars, "prompt": prompt.template, "decoding": decoding.identity(),
                "request": self._params(decoding)}

    def _params(self, decoding: Decoding) -> dict:
        """The request's sampling fields; each warning about a setting that may not arrive, once."""
        for warning in unsent_warnings(decoding, self.server, self.repetition_penalty_param):
            if warning not in self._warned:
                self._warned.add(warning)
                log.warning("%s", warning)
        return {**request_params(decoding, self.repetition_penalty_param, self.repetition_penalty_offset,
                                 server=self.server, endpoint=self.kind), **self.extra_body}

    def summarize(self, article: Article, prompt: PromptTemplate, decoding: Decoding) -> Generation:
        return self.summarize_batch([article], prompt, decoding)[0]

    def summarize_batch(self, articles: list[Article], prompt: PromptTemplate, decoding: Decoding) -> list[Generation]:
        """One request per article, ``concurrency`` in flight; results in article order."""
        params = self._params(decoding)
        start = time.perf_counter()
        made = map_in_flight(lambda article: self._one(article, prompt, params), articles, self.concurrency,
                             on_done=lambda g: report_tokens(g.output_tokens or 0))
        share = (time.perf_counter() - start) / max(1, len(articles))
        for generation in made:  # as the batched local models do: seconds sum to the wall time
            generation.seconds = share
        return made

    def _one(self, article: Article, prompt: PromptTemplate, params: dict) -> ServedGeneration:
        body, cut = cut_chars(article.body, self.max_input_chars)
        if cut:
            log.warning("article %s: %d of %d characters cut from the end (system.max_input_chars=%d)",
                        article.id, cut, len(article.body), self.max_input_chars)
        text = prompt.render(title=article.title, article=body)
        request = ({"messages": [{"role": "user", "content": text}]} if self.kind == "chat" else {"prompt": text})
        start = time.perf_counter()
        try:
            answer = self.endpoint.post(ENDPOINTS[self.kind], {**request, **params}, f"article {article.id!r}")
        except ServerError as e:
            if e.status == 400 and not self.max_input_chars:
                raise ServerError(f"{str(e).rstrip('.')}. If the article is longer than the served model's "
                                  "context, set system.max_input_chars (characters of article kept)", 400) from None
            raise
        seconds = time.perf_counter() - start
        from harness.systems.served_answer import completion  # (it imports this module)

        got = completion(answer, self.kind == "chat", self.endpoint.client.url(ENDPOINTS[self.kind]),
                         f"article {article.id!r}")  # every field checked, the key redacted (served_answer.py)
        if got.key_redacted:
            log.warning("article %s: the server's answer held the API key ($%s) in %s: stored with it replaced by "
                        "[redacted]; a server that repeats the key is not to be trusted with it", article.id,
                        self.endpoint.api_key_env, ", ".join(got.key_redacted))
        text, answer_cut = cut_answer(got.text, params.get("max_tokens", params.get("max_completion_tokens")))
        if answer_cut:
            log.warning("article %s: the server answered %d characters for max_tokens=%s (at most %d per token "
                        "expected): cut to %d; it does not honour max_tokens", article.id, len(got.text),
                        params.get("max_tokens"), MAX_CHARS_PER_TOKEN, len(text))
        return ServedGeneration(text=text, input_tokens=got.input_tokens, output_tokens=got.output_tokens,
                                seconds=seconds, request_seconds=seconds, finish_reason=got.finish_reason,
                                response_model=got.model, system_fingerprint=got.system_fingerprint,
                                article_chars_cut=cut, answer_chars_cut=answer_cut, key_redacted=got.key_redacted)
