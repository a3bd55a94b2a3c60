"""JSON over HTTP for served models: one GET or POST with a timeout, retried with exponential
backoff on 408/429/5xx answers and on connection errors, failing with errors that name the URL.

Standard library only (``urllib``): no dependency to declare or pin, and safe from many threads
(each request opens its own connection; on the seconds a generation takes, the handshake is noise).
The API key is sent in the ``Authorization`` header and kept nowhere else: it is never part of a
message, a log line or a ``repr``. A server's answer can repeat it (an error body echoing the
request's headers): every error that can carry the server's words is a ``ServerAnswerError``, whose
message goes through ``redact`` when it is made (the keys of every client made in this process,
``Bearer …`` tokens and ``Authorization``/``api-key`` header values), so nothing printed, logged or
written into ``results.json`` holds a key. ``check_key_env_name`` refuses a key given where the
*name* of its environment variable belongs (``system.api_key_env=sk-…``): ``harness run`` calls it
on the command line's overrides before Hydra starts, and the run on its config before any file.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime

from harness.errors import ConfigError, HarnessError

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
REDACTED = "[redacted]"
ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A key's first characters: where a message holds them, what follows of the key goes too (a quote
# cut at N characters can end in the middle of a key).
KEY_PREFIX = 8

_secrets: set[str] = set()  # every API key a client of this process sends
_secrets_lock = threading.Lock()
_TOKEN = r"(?!\[redacted\])[^\s\"'`,;)}\]\\]+"  # a credential: up to a space, quote or separator
_PATTERNS = [
    # Authorization: …, "authorization": "…", 'Authorization': 'Basic …', x-api-key=… (a header's value:
    # an optional scheme word and the credential)
    re.compile(r"(?i)\b((?:proxy-)?authorization|x-api-key|api[-_]?key|openai[-_]api[-_]key)"
               rf"(\\?[\"']?\s*[:=]\s*\\?[\"']?)((?:[A-Za-z][\w-]*[ \t]+)?)({_TOKEN})"),
    # "Bearer sk-…" anywhere else (the scheme kept, the credential not)
    re.compile(rf"(?i)\b(bearer)(\s+|\\u0020|%20)()({_TOKEN})"),
]


def register_secret(value: str | None) -> None:
    """``redact`` hides ``value`` (an API key) from every message made in this process from now on."""
    if value:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """``text`` without any API key: the values of ``Authorization``, ``api-key`` and ``x-api-key``
    headers, ``Bearer`` credentials, and the keys registered here (whole, JSON- or URL-escaped, or
    cut short: from their first characters on), each replaced by ``[redacted]``."""
    text = str(text)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        for form in {secret, json.dumps(secret)[1:-1], urllib.request.quote(secret, safe="")}:
            text = text.replace(form, REDACTED)
        text = _cut_keys(text, secret)
    return text


def _cut_keys(text: str, secret: str) -> str:
    """``text`` with every run of characters that starts like ``secret`` and goes on like it (a key
    cut short) replaced."""
    start = secret[:KEY_PREFIX]
    out, at = [], 0
    while (found := text.find(start, at)) >= 0:
        end = found + len(start)
        while end < len(text) and end - found < len(secret) and text[end] == secret[end - found]:
            end += 1
        out += [text[at:found], REDACTED]
        at = end
    return "".join(out) + text[at:]


def check_key_env_name(name, setting: str) -> None:
    """ConfigError when ``name`` (a config's ``api_key_env``) is not the name of an environment
    variable: most likely the key itself, which the message never repeats."""
    if name is None or name == "":
        return
    if not isinstance(name, str) or not ENV_VAR_NAME.fullmatch(name):
        raise ConfigError(f"{setting} must name the environment variable that holds the key (e.g. "
                          "OPENAI_API_KEY), not the key itself: the value given is not a variable name (it is "
                          "not shown, and nothing was written); export the key in a variable and give its name")


def check_key_overrides(args: list[str]) -> None:
    """ConfigError when a command-line override sets an ``api_key_env`` (``system.api_key_env=…``,
    a judge's, a sweep's ``A,B``) to something that is not a variable name: checked before Hydra
    starts, which would write the overrides into the run (``multirun.yaml``, the logs)."""
    for arg in args:
        key, sep, value = arg.partition("=")
        key = key.lstrip("+~")
        if not sep or key.rsplit(".", 1)[-1] != "api_key_env":
            continue
        value = value.strip()
        for wrapper in ("choice(", "range("):
            if value.startswith(wrapper) and value.endswith(")"):
                value = value[len(wrapper):-1]
        if value.startswith("[") and value.endswith("]"):
            value = value[1:-1]
        for piece in value.split(","):
            piece = piece.strip().strip("'\"")
            check_key_env_name(None if piece in ("null", "") else piece, key)


def check_key_settings(config, where: str = "") -> None:
    """``check_key_env_name`` on every ``api_key_env`` in a resolved config (nested mappings and lists)."""
    if isinstance(config, dict):
        for key, value in config.items():
            setting = f"{where}.{key}" if where else str(key)
            if key == "api_key_env":
                check_key_env_name(value, setting)
            else:
                check_key_settings(value, setting)
    elif isinstance(config, list):
        for n, value in enumerate(config):
            check_key_settings(value, f"{where}[{n}]")


class ServerAnswerError(HarnessError):
    """An error whose message may quote what a server answered: made without any API key (``redact``)."""

    def __init__(self, message: str, *args):
        super().__init__(redact(message), *args)


class ServerUnreachable(ServerAnswerError):
    """No answer from the server (refused, reset, timed out) after every retry."""


class HttpStatusError(ServerAnswerError):
    """The server answered with an error status that retrying does not fix (or still gave after every retry)."""

    def __init__(self, message: str, *, status: int, url: str, detail: str):
        super().__init__(message)
        self.status, self.url, self.detail = status, url, redact(detail)


def backoff_delays(retries: int, backoff_s: float, max_backoff_s: float) -> list[float]:
    """The waits before each retry: backoff_s, 2*backoff_s, 4*backoff_s... capped at max_backoff_s."""
    return [min(max_backoff_s, backoff_s * 2 ** attempt) for attempt in range(retries)]


def error_detail(body: bytes) -> str:
    """The server's own words from an error body: OpenAI/vLLM ``error.message``, FastAPI ``detail``,
    Ollama ``error``; else the body's start."""
    text = redact(body.decode("utf-8", errors="replace").strip())  # before it is cut: a key whole
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500]
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            return (error if isinstance(error, str) else json.dumps(error))[:500]
    return text[:500]


def quote(answer, limit: int = 200) -> str:
    """The start of a server's answer for a message: without keys (before it is cut), ``limit`` characters."""
    return repr(redact(answer if isinstance(answer, str) else str(answer))[:limit])


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After") if headers else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class JsonClient:
    """Requests to one base URL. ``retries`` more attempts after the first on a retryable failure."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout_s: float = 600.0, retries: int = 3,
                 backoff_s: float = 1.0, max_backoff_s: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout_s, self.retries = timeout_s, retries
        self.delays = backoff_delays(retries, backoff_s, max_backoff_s)
        self.max_backoff_s = max_backoff_s
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            register_secret(api_key)
            self._headers["Authorization"] = f"Bearer {api_key}"

    def __repr__(self) -> str:
        return f"JsonClient({self.base_url!r})"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, *, timeout_s: float | None = None, retries: int | None = None) -> tuple[dict, dict]:
        """(JSON body, response headers)."""
        return self._request("GET", path, None, timeout_s, retries)

    def post(self, path: str, body: dict, *, timeout_s: float | None = None) -> dict:
        return self._request("POST", path, body, timeout_s, None)[0]

    def _request(self, method: str, path: str, body: dict | None, timeout_s: float | None,
                 retries: int | None) -> tuple[dict, dict]:
        url = self.url(path)
        data = json.dumps(body).encode("utf-8") if body is not None else None
        delays = self.delays[:retries] if retries is not None else self.delays
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=data, method=method, headers=self._headers)
            try:
                with urllib.request.urlopen(request, timeout=timeout_s or self.timeout_s) as response:
                    raw = response.read()
                    headers = dict(response.headers.items())
                try:
                    return json.loads(raw), headers
                except ValueError as e:
                    raise HttpStatusError(f"the server at {url} answered with something that is not JSON: "
                                          f"{quote(raw.decode('utf-8', errors='replace'))}", status=200, url=url,
                                          detail=str(e)) from None
            except urllib.error.HTTPError as e:
                with e:
                    detail = error_detail(e.read() or b"")
                if e.code not in RETRY_STATUS or attempt >= len(delays):
                    tried = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise HttpStatusError(f"the server at {url} answered HTTP {e.code}{tried}: {detail}",
                                          status=e.code, url=url, detail=detail) from None
                wait = _retry_after(e.headers)
                wait = delays[attempt] if wait is None else min(wait, self.max_backoff_s)
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
                # URLError wraps refused/unresolvable; a server that dies mid-answer raises
                # RemoteDisconnected or ConnectionResetError; a slow one TimeoutError.
                reason = getattr(e, "reason", None) or e
                if attempt >= len(delays):
                    raise ServerUnreachable(f"no answer from the server at {url} ({type(reason).__name__}: "
                                            f"{reason}) after {attempt + 1} attempts") from None
                wait = delays[attempt]
            time.sleep(wait)
            attempt += 1
