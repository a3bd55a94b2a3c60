"""JSON over HTTP for served models: one GET or POST with a timeout, retried with exponential
backoff on 408/429/5xx answers and on connection errors, failing with errors that name the URL.

Standard library only (``urllib``): no dependency to declare or pin, and safe from many threads
(each request opens its own connection; on the seconds a generation takes, the handshake is noise).
The API key is sent in the ``Authorization`` header and kept nowhere else: it is never part of a
message, a log line or a ``repr``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime

from harness.errors import HarnessError

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class ServerUnreachable(HarnessError):
    """No answer from the server (refused, reset, timed out) after every retry."""


class HttpStatusError(HarnessError):
    """The server answered with an error status that retrying does not fix (or still gave after every retry)."""

    def __init__(self, message: str, *, status: int, url: str, detail: str):
        super().__init__(message)
        self.status, self.url, self.detail = status, url, detail


def backoff_delays(retries: int, backoff_s: float, max_backoff_s: float) -> list[float]:
    """The waits before each retry: backoff_s, 2*backoff_s, 4*backoff_s... capped at max_backoff_s."""
    return [min(max_backoff_s, backoff_s * 2 ** attempt) for attempt in range(retries)]


def error_detail(body: bytes) -> str:
    """The server's own words from an error body: OpenAI/vLLM ``error.message``, FastAPI ``detail``,
    Ollama ``error``; else the body's start."""
    text = body.decode("utf-8", errors="replace").strip()
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
                                          f"{raw[:200]!r}", status=200, url=url, detail=str(e)) from None
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
