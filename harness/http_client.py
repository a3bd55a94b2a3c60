"""JSON over HTTP for served models: one GET or POST with a deadline, retried with exponential
backoff on 408/429/5xx answers and on connection errors, failing with errors that name the URL.

``timeout_s`` bounds each attempt as a whole, not each read: a timer shuts the attempt's socket
at the deadline (`_Deadline`), so a server that trickles its answer a byte a second is cut there,
and the call fails after ``(retries + 1) * timeout_s`` plus the backoff waits at most. A connection
closed before the answer is whole (``IncompleteRead``, a reset, a status line that never came) is
retried like a refused connection. An answer that is not JSON is named for what it is (an HTML
page, an empty body, other text) with its first 200 characters. Every string of an answer has its
lone surrogates (``"\\ud800"`` escapes, which no UTF-8 file can hold) replaced by U+FFFD
(`harness.text.surrogates`), so nothing a server says can stop a cache or a results write.

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

import http.client
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime

from harness.errors import ConfigError, HarnessError
from harness.text.surrogates import without_surrogates

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


class NotJsonAnswer(ServerAnswerError):
    """A 2xx answer that is not JSON (an HTML page, an empty body, other text); not retried."""


class HttpStatusError(ServerAnswerError):
    """The server answered with an error status that retrying does not fix (or still gave after every retry)."""

    def __init__(self, message: str, *, status: int, url: str, detail: str):
        super().__init__(message)
        self.status, self.url, self.detail = status, url, redact(detail)


def backoff_delays(retries: int, backoff_s: float, max_backoff_s: float) -> list[float]:
    """The waits before each retry: backoff_s, 2*backoff_s, 4*backoff_s... capped at max_backoff_s."""
    return [min(max_backoff_s, backoff_s * 2 ** attempt) for attempt in range(retries)]


def error_detail(body: bytes, headers: dict | None = None) -> str:
    """The server's own words from an error body: OpenAI/vLLM ``error.message``, FastAPI ``detail``,
    Ollama ``error``; an HTML page said to be one; else the body's start."""
    text = redact(body.decode("utf-8", errors="replace").strip())  # before it is cut: a key whole
    try:
        data = json.loads(text)
    except ValueError:
        content_type = {k.lower(): v for k, v in (headers or {}).items()}.get("content-type", "")
        if looks_like_html(text, content_type):
            return f"an HTML page, not JSON: {quote(text)}"
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


def looks_like_html(text: str, content_type: str = "") -> bool:
    """Whether an answer is an HTML page (a proxy's or a web UI's, not the API's)."""
    start = text.lstrip()[:15].lower()
    return "html" in content_type.lower() or start.startswith(("<!doctype html", "<html", "<head", "<body"))


def not_json(url: str, raw: bytes, headers: dict) -> str:
    """What a server answered instead of JSON, for a message: an HTML page, an empty body or
    other text, with its first 200 characters (without keys)."""
    text = raw.decode("utf-8", errors="replace")
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    typed = f" (Content-Type: {content_type})" if content_type else ""
    if not text.strip():
        return f"the server at {url} answered an empty body{typed}, not JSON"
    kind = "HTML" if looks_like_html(text, content_type) else "text"
    return (f"the server at {url} answered {kind}, not JSON{typed}: {quote(text)}"
            + ("; is this the API's URL (an OpenAI-compatible API's root usually ends in /v1)?"
               if kind == "HTML" else ""))


class _Deadline:
    """One attempt's deadline: when ``seconds`` have passed, every socket the attempt opened is shut
    down, so that a read blocked on a server trickling its answer returns at once (the socket's
    own timeout only bounds each read)."""

    def __init__(self, seconds: float):
        self.seconds, self.expired, self._stopped = seconds, False, False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def stop(self) -> bool:
        """Stop the timer; whether the deadline had passed (the answer is then not to be trusted)."""
        self._timer.cancel()
        with self._lock:
            self._stopped = True
            return self.expired

    def _expire(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown, under TLS too: it wakes a blocked read without touching TLS state
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _Watched:
    """A urllib handler whose connections report their socket to ``deadline`` once connected."""

    def __init__(self, deadline: _Deadline):
        super().__init__()
        self._deadline = deadline

    def do_open(self, http_class, req, **kwargs):
        deadline = self._deadline

        class Connection(http_class):
            def connect(self):
                super().connect()
                deadline.watch(self.sock)

        return super().do_open(Connection, req, **kwargs)


class _WatchedHTTP(_Watched, urllib.request.HTTPHandler):
    pass


class _WatchedHTTPS(_Watched, urllib.request.HTTPSHandler):
    pass


def _open(request: urllib.request.Request, timeout_s: float) -> tuple[bytes, dict]:
    """(body, headers) of one attempt, all of it within ``timeout_s`` seconds, else TimeoutError.
    An HTTP error status is raised as urllib's ``HTTPError``, its body read within the deadline too."""
    deadline = _Deadline(timeout_s)
    late = TimeoutError(f"the answer did not arrive in full within timeout_s={timeout_s:g} s")
    try:
        opener = urllib.request.build_opener(_WatchedHTTP(deadline), _WatchedHTTPS(deadline))
        with opener.open(request, timeout=timeout_s) as response:
            raw = response.read()
            headers = dict(response.headers.items())
    except urllib.error.HTTPError as e:
        with e:
            body = e.read() or b""
        if deadline.stop():
            raise late from None
        e.harness_body = body
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError):
        if deadline.stop():
            raise late from None
        raise
    finally:
        deadline.stop()
    if deadline.stop():  # cut at the deadline: what was read may look whole and is not
        raise late
    return raw, headers


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
                raw, headers = _open(request, timeout_s or self.timeout_s)
                try:
                    return without_surrogates(json.loads(raw)), headers
                except ValueError:  # UnicodeDecodeError too: not UTF-8
                    raise NotJsonAnswer(not_json(url, raw, headers)) from None
            except urllib.error.HTTPError as e:
                detail = error_detail(getattr(e, "harness_body", b""), dict(e.headers.items()) if e.headers else {})
                if e.code not in RETRY_STATUS or attempt >= len(delays):
                    tried = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise HttpStatusError(f"the server at {url} answered HTTP {e.code}{tried}: {detail}",
                                          status=e.code, url=url, detail=detail) from None
                wait = _retry_after(e.headers)
                wait = delays[attempt] if wait is None else min(wait, self.max_backoff_s)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
                # URLError wraps refused/unresolvable; a server that dies mid-answer raises
                # RemoteDisconnected, ConnectionResetError or IncompleteRead (its body cut short);
                # a slow one TimeoutError (a read's timeout, or the attempt's deadline).
                reason = getattr(e, "reason", None) or e
                if isinstance(reason, http.client.IncompleteRead):  # its str() is a byte count
                    reason = f"IncompleteRead: the connection closed after {len(reason.partial)} bytes of the answer"
                    reason = ConnectionError(reason)
                if attempt >= len(delays):
                    raise ServerUnreachable(f"no answer from the server at {url} ({type(reason).__name__}: "
                                            f"{reason}) after {attempt + 1} attempts") from None
                wait = delays[attempt]
            time.sleep(wait)
            attempt += 1
