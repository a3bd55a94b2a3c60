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

Redirects are never followed (`_RefuseRedirects`): the request carries the API key, which urllib
would forward to any host a ``Location`` names, and a 301/302/303 would turn a POST into a GET;
every 3xx is one `RedirectRefused` naming the status and the target's origin. Every read is capped
(``max_bytes``: `AnswerTooLarge` past it, never read whole; an error body's first
``ERROR_BODY_BYTES``).

Standard library only (``urllib``): no dependency to declare or pin, and safe from many threads
(each request opens its own connection; on the seconds a generation takes, the handshake is noise).
The API key is sent in the ``Authorization`` header and kept nowhere else: it is never part of a
message, a log line or a ``repr``. A server's answer can repeat it (an error body echoing the
request's headers): every error that can carry the server's words is a ``ServerAnswerError``, whose
message goes through ``redact`` when it is made (the keys of every client made in this process,
``Bearer …`` tokens and ``Authorization``/``api-key`` header values), so nothing printed, logged or
written into ``results.json`` holds a key. The registered keys are found in every form a server
can quote them in (`harness.key_forms`: escaped, hex, base64, pieces), in log records too (a
record factory), and ``redact_keys`` cleans a successful answer's strings the same way.
``check_key_value`` refuses a key a header cannot carry (a CRLF ``.env``'s ``\\r``) naming where it
came from, never its value; ``check_base_url`` a URL holding ``user:password@``.
``check_key_env_name`` refuses a key given where the *name* of its environment variable belongs
(``system.api_key_env=sk-…``): ``harness run`` calls it on the command line's overrides before
Hydra starts, and the run on its config before any file.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from email.utils import parsedate_to_datetime

from harness.errors import ConfigError, HarnessError
from harness.key_forms import KeyIndex
from harness.text.surrogates import without_surrogates

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_MAX_BYTES = 8 * 2 ** 20  # an answer's body at most, where the caller gives no cap (a model listing)
ERROR_BODY_BYTES = 64 * 2 ** 10  # an error answer's body read at most (its first 500 characters are shown)
REDACTED = "[redacted]"
ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_secrets: set[str] = set()  # every API key a client of this process sends
_secrets_lock = threading.Lock()
_index = KeyIndex()
_TOKEN = r"(?!\[redacted\])[^\s\"'`,;)}\]\\]+"  # a credential: up to a space, quote or separator
_PATTERNS = [
    # Authorization: …, "authorization": "…", 'Authorization': 'Basic …', x-api-key=… (a header's value:
    # an optional scheme word and the credential)
    re.compile(r"(?i)\b((?:proxy-)?authorization|x-api-key|api[-_]?key|openai[-_]api[-_]key)"
               rf"(\\?[\"']?\s*[:=]\s*\\?[\"']?)((?:[A-Za-z][\w-]*[ \t]+)?)({_TOKEN})"),
    # "Bearer sk-…" anywhere else (the scheme kept, the credential not)
    re.compile(rf"(?i)\b(bearer)(\s+|\\u0020|%20)()({_TOKEN})"),
]


class _RedactedRecord(logging.LogRecord):
    """A log record whose message holds no registered key (`redact_keys`), whichever logger made it."""

    def getMessage(self) -> str:  # noqa: N802
        return redact_keys(super().getMessage())


def register_secret(value: str | None) -> None:
    """``redact`` hides ``value`` (an API key) in every form (`harness.key_forms`) from every message
    made in this process from now on, log records included."""
    global _index
    if value:
        with _secrets_lock:
            if value not in _secrets:
                _secrets.add(value)
                _index = KeyIndex(_secrets)
        if logging.getLogRecordFactory() is logging.LogRecord:
            logging.setLogRecordFactory(_RedactedRecord)


def redact_keys(text: str) -> str:
    """``text`` without any registered key in any form or piece (`harness.key_forms.KeyIndex`), each
    replaced by ``[redacted]``; header-like words are left as they are (for a server's answer)."""
    with _secrets_lock:
        index = _index
    return index.replace(str(text), REDACTED)


def redact(text: str) -> str:
    """``text`` without any API key: the values of ``Authorization``, ``api-key`` and ``x-api-key``
    headers, ``Bearer`` credentials, and the keys registered here in every form (`redact_keys`:
    literal, JSON- or URL-escaped, hex, base64, and pieces of 6 characters or more of a key of 12 or
    more), each replaced by ``[redacted]``."""
    text = str(text)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    return redact_keys(text)


_CHARACTER_NAMES = {"\r": "a carriage return (as a .env file saved with Windows line ends leaves)",
                    "\n": "a newline", " ": "a space", "\t": "a tab"}


def check_key_value(key: str, where: str) -> None:
    """ConfigError when ``key`` holds a character an HTTP header cannot carry (only visible ASCII
    can: a trailing ``\\r`` from a CRLF ``.env`` file, a space, a non-ASCII letter), naming
    ``where`` (e.g. ``the environment variable OPENAI_API_KEY``) and the character's position, never
    the key.

    Args:
        key: the API key.
        where: what holds it, for the message.
    """
    for n, char in enumerate(key, 1):
        if not "\x21" <= char <= "\x7e":
            what = _CHARACTER_NAMES.get(char, f"U+{ord(char):04X}, not visible ASCII")
            raise ConfigError(f"{where} holds an API key with a character an HTTP header cannot carry: character "
                              f"{n} of {len(key)} is {what}. Remove it (the key is not shown, and nothing was sent)")


def check_base_url(url, setting: str) -> None:
    """ConfigError when ``url`` holds a user name or password (``http://user:password@host/v1``):
    refused without repeating the URL, with the fix (the key goes in an environment variable named by
    ``api_key_env``)."""
    if isinstance(url, str) and re.match(r"(?i)\s*https?://[^/?#]*@", url):
        raise ConfigError(f"{setting} holds a user name or password (user:password@host): refused, and not "
                          "shown. Remove it from the URL, export the key in an environment variable and give "
                          f"its name in {setting.rsplit('.', 1)[0] + '.' if '.' in setting else ''}api_key_env")


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
    a judge's, a sweep's ``A,B``) to something that is not a variable name, or any setting to a URL
    holding a user name or password (`check_base_url`): checked before Hydra starts, which would
    write the overrides into the run (``multirun.yaml``, the logs)."""
    for arg in args:
        key, sep, value = arg.partition("=")
        key = key.lstrip("+~")
        if sep:
            check_base_url(value.strip().strip("'\""), key)  # any URL: user:password@ refused
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
    """``check_key_env_name`` on every ``api_key_env`` in a resolved config (nested mappings and lists)
    and `check_key_value` on the key its variable holds, if set; `check_base_url` on every value (no
    URL in it may hold a user name or password)."""
    if isinstance(config, str):
        check_base_url(config, where)
    elif isinstance(config, dict):
        for key, value in config.items():
            setting = f"{where}.{key}" if where else str(key)
            if key == "api_key_env":
                check_key_env_name(value, setting)
                if value and os.environ.get(value):  # a key a header cannot carry: before any file too
                    check_key_value(os.environ[value], f"the environment variable {value} ({setting})")
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


class RedirectRefused(ServerAnswerError):
    """A 3xx answer: never followed (the request carries the API key; see `_RefuseRedirects`)."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.status = status


class AnswerTooLarge(ServerAnswerError):
    """An answer longer than the read's cap (``max_bytes``): not read further, not retried."""

    def __init__(self, message: str, *, limit: int):
        super().__init__(message)
        self.limit = limit


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


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``: no user name, password, path or query (which can hold a key)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}"


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Every redirect refused: the request carries the API key, which must reach no other address
    (urllib would forward the ``Authorization`` header to any host), and a 301/302/303 would turn a
    POST into a GET. The error says a redirect happened, its status and where to (origin only)."""

    def _refuse(self, req, fp, code, msg, headers):
        location = (headers or {}).get("Location") or (headers or {}).get("URI") or ""
        if fp is not None:
            fp.close()
        target = origin(urllib.parse.urljoin(req.full_url, location)) if location else "nowhere (no Location)"
        same = " (the same server: the path differs)" if location and target == origin(req.full_url) else ""
        raise RedirectRefused(f"the server at {req.full_url} answered HTTP {code}, a redirect to {target}{same}: "
                              "not followed, since the request carries the API key, which must reach no other "
                              "address, and a redirect turns a POST into a GET. If the API has moved, set the "
                              "base_url to its new address", status=code)

    http_error_301 = http_error_302 = http_error_303 = http_error_307 = http_error_308 = _refuse


def _read_capped(response, max_bytes: int, url: str) -> bytes:
    """The body of ``response``: at most ``max_bytes`` bytes, else AnswerTooLarge (never read whole)."""
    length = response.headers.get("Content-Length") if response.headers else None
    said = f" (its Content-Length says {length})" if length else ""
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise AnswerTooLarge(f"the server at {url} answered more than the {max_bytes} bytes allowed{said}: not "
                             "read (a server that ignores max_tokens can answer without end)", limit=max_bytes)
    raw = response.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise AnswerTooLarge(f"the server at {url} answered more than the {max_bytes} bytes allowed{said}: not "
                             "read further (a server that ignores max_tokens can answer without end)",
                             limit=max_bytes)
    if length and length.strip().isdigit() and len(raw) < int(length):  # read(n) returns what came, not raising
        raise http.client.IncompleteRead(raw, int(length) - len(raw))
    return raw


def _open(request: urllib.request.Request, timeout_s: float, max_bytes: int = DEFAULT_MAX_BYTES
          ) -> tuple[bytes, dict]:
    """(body, headers) of one attempt, all of it within ``timeout_s`` seconds, else TimeoutError;
    at most ``max_bytes`` of body, else AnswerTooLarge; a redirect is RedirectRefused.
    An HTTP error status is raised as urllib's ``HTTPError``, its body (its first
    ``ERROR_BODY_BYTES``) read within the deadline too."""
    deadline = _Deadline(timeout_s)
    late = TimeoutError(f"the answer did not arrive in full within timeout_s={timeout_s:g} s")
    try:
        opener = urllib.request.build_opener(_WatchedHTTP(deadline), _WatchedHTTPS(deadline), _RefuseRedirects())
        with opener.open(request, timeout=timeout_s) as response:
            raw = _read_capped(response, max_bytes, request.full_url)
            headers = dict(response.headers.items())
    except urllib.error.HTTPError as e:
        with e:
            body = e.read(ERROR_BODY_BYTES) or b""
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
                 backoff_s: float = 1.0, max_backoff_s: float = 30.0, key_source: str = "the API key given"):
        self.base_url = base_url.rstrip("/")
        self.timeout_s, self.retries = timeout_s, retries
        self.delays = backoff_delays(retries, backoff_s, max_backoff_s)
        self.max_backoff_s = max_backoff_s
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            register_secret(api_key)
            check_key_value(api_key, key_source)
            self._headers["Authorization"] = f"Bearer {api_key}"

    def __repr__(self) -> str:
        return f"JsonClient({self.base_url!r})"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, *, timeout_s: float | None = None, retries: int | None = None,
            max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[dict, dict]:
        """(JSON body, response headers); a body over ``max_bytes`` is AnswerTooLarge."""
        return self._request("GET", path, None, timeout_s, retries, max_bytes)

    def post(self, path: str, body: dict, *, timeout_s: float | None = None, max_bytes: int = DEFAULT_MAX_BYTES
             ) -> dict:
        return self._request("POST", path, body, timeout_s, None, max_bytes)[0]

    def _request(self, method: str, path: str, body: dict | None, timeout_s: float | None,
                 retries: int | None, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[dict, dict]:
        url = self.url(path)
        data = json.dumps(body).encode("utf-8") if body is not None else None
        delays = self.delays[:retries] if retries is not None else self.delays
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=data, method=method, headers=self._headers)
            try:
                raw, headers = _open(request, timeout_s or self.timeout_s, max_bytes)
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
            except ValueError as e:  # urllib's own refusals (a header value, a URL): quoted without keys
                raise ServerAnswerError(f"the request to {url} could not be made ({type(e).__name__}: {e})") from None
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
