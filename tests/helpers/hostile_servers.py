"""Hostile OpenAI-compatible servers on 127.0.0.1 (stdlib ``http.server`` in a thread) and a leak
check that looks for an API key in every form a server can quote it in.

- `RecordingServer`: answers like a server (a model list, a chat answer) and records every request's
  path and headers: the target a redirect points at, so a test can assert the key never reached it.
- `RedirectingServer`: answers GET /v1/models and/or POSTs with a redirect to another URL.
- `EchoingServer`: quotes the request's key back in one encoding (or all), in a 4xx error or in a
  200 answer's ``model``, ``system_fingerprint`` and content.
- `HugeServer`: ignores ``max_tokens``: an answer of ``megabytes`` MB (with or without a
  Content-Length), or a content of ``chars`` characters.

`leak_forms` lists the forms independently of ``harness.key_forms`` (so a bug there is not copied
here): every 10-character window of the key as sent, hex-encoded and base64-encoded at each byte
offset; `leaks` says which of them a text or a tree of files holds.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ALIAS = "smollm2"
WINDOW = 10


def encodings(key: str) -> dict[str, str]:
    """The key as a hostile server may quote it: name -> quoted text."""
    raw = key.encode()
    half = len(key) // 3
    return {
        "literal": key,
        "base64": base64.b64encode(raw).decode(),
        "base64url_unpadded": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "base64_bearer": base64.b64encode(b"Bearer " + raw).decode(),
        "base64_basic_user": base64.b64encode(b"user:" + raw).decode(),
        "base64_basic_u": base64.b64encode(b"u:" + raw).decode(),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "url": urllib.parse.quote(key, safe=""),
        "json": json.dumps(key)[1:-1],
        "split_7": f"{key[:7]} ... {key[7:]}",
        "split_thirds": f"{key[:half]} | {key[half:2 * half]} | {key[2 * half:]}",
    }


def _core(text: str, skip: int) -> str:
    return text[skip:len(text) - 4] if len(text) > skip + 4 else ""


def leak_forms(key: str) -> set[str]:
    """Every ``WINDOW``-character run of the key in a form a server can quote it in: the key,
    URL-encoded, hex (both cases), and the base64 characters that encode only the key's bytes when
    it starts at byte offset 0, 1 or 2 of an encoded string (both alphabets)."""
    raw = key.encode()
    forms = {key, urllib.parse.quote(key, safe=""), raw.hex(), raw.hex().upper()}
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.add(_core(encode(b"\0" * pad + raw).decode(), 4))
    return {f[i:i + WINDOW] for f in forms if f for i in range(max(1, len(f) - WINDOW + 1))}


def leaks(key: str, texts=(), roots=()) -> list[str]:
    """Where a form of ``key`` is found: ``text #n`` for ``texts``, the file's path for each file under
    ``roots`` (bytes read as UTF-8, undecodable bytes replaced)."""
    forms = leak_forms(key)
    found = [f"text #{n}: {t[:80]!r}" for n, t in enumerate(texts) if any(f in t for f in forms)]
    for root in roots:
        root = Path(root)
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
        for path in files:
            text = path.read_bytes().decode("utf-8", errors="replace")
            if any(f in text for f in forms):
                found.append(str(path))
    return found


def _chat(content: str, **extra) -> dict:
    return {"id": "x", "object": "chat.completion", "model": ALIAS,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 6}, **extra}


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 in a daemon thread, as a context manager; ``url`` ends in /v1."""

    def __init__(self, handler):
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.http.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.url = f"{self.origin}/v1"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.http.shutdown()
        self.http.server_close()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass

    def send_json(self, status: int, body, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def models(self) -> None:
        self.send_json(200, {"object": "list", "data": [{"id": ALIAS, "object": "model", "owned_by": "me"}]})

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


class RecordingServer(_Server):
    """Serves ``smollm2`` (a model list; a short chat answer) and records (method, path, headers) of
    every request in ``requests``."""

    def __init__(self):
        self.requests: list[tuple[str, str, dict]] = []
        server = self

        class Handler(_Handler):
            def do_GET(self):  # noqa: N802
                server.requests.append(("GET", self.path, dict(self.headers.items())))
                self.models()

            def do_POST(self):  # noqa: N802
                self.body()
                server.requests.append(("POST", self.path, dict(self.headers.items())))
                self.send_json(200, _chat("Eight officers were hurt."))

        super().__init__(Handler)

    def authorizations(self) -> list[str]:
        return [h.get("Authorization", "") for _, _, h in self.requests if h.get("Authorization")]


class RedirectingServer(_Server):
    """Answers GET /v1/models with ``get_status`` (None: the model list) and every POST with
    ``post_status``, each with ``Location: {target}{path}`` (``query`` appended: a key in the URL)."""

    def __init__(self, target: str, get_status: int | None = 302, post_status: int = 303, query: str = ""):
        class Handler(_Handler):
            def _redirect(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Location", f"{target}{self.path}{query}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):  # noqa: N802
                if get_status is None:
                    return self.models()
                self._redirect(get_status)

            def do_POST(self):  # noqa: N802
                self.body()
                self._redirect(post_status)

        super().__init__(Handler)


class EchoingServer(_Server):
    """Quotes the request's key (its ``Authorization`` header's credential) in ``encoding`` (a name of
    `encodings`; ``"all"``: every one): with ``status`` 400/401 in the error's message, with 200 in
    the answer's ``model``, ``system_fingerprint`` and content. ``on_models``: in the model listing's
    ``owned_by`` too."""

    def __init__(self, encoding: str = "all", status: int = 400, on_models: bool = False):
        def quoted(headers) -> str:
            key = headers.get("Authorization", "").removeprefix("Bearer ")
            forms = encodings(key)
            return " ; ".join(forms.values()) if encoding == "all" else forms[encoding]

        class Handler(_Handler):
            def do_GET(self):  # noqa: N802
                if not on_models:
                    return self.models()
                self.send_json(200, {"object": "list", "data": [
                    {"id": ALIAS, "object": "model", "owned_by": quoted(self.headers), "root": quoted(self.headers)}]})

            def do_POST(self):  # noqa: N802
                self.body()
                said = quoted(self.headers)
                if status == 200:
                    return self.send_json(200, _chat(f"Eight officers were hurt. {said}", model=f"{ALIAS} {said}",
                                                     system_fingerprint=said))
                self.send_json(status, {"error": {"message": f"invalid request, you sent: {said}"}})

        super().__init__(Handler)


class HugeServer(_Server):
    """Ignores ``max_tokens``. ``megabytes``: a body of that many MB, with its Content-Length
    (``length=True``) or without one (closed at the end); ``sent`` counts the bytes written before
    the client went. ``chars``: a valid chat answer whose content is that many characters."""

    def __init__(self, megabytes: int = 0, length: bool = True, chars: int = 0):
        self.sent = 0
        server = self

        class Handler(_Handler):
            def do_GET(self):  # noqa: N802
                self.models()

            def do_POST(self):  # noqa: N802
                self.body()
                if chars:
                    return self.send_json(200, _chat(("word " * chars)[:chars]))
                total = megabytes * 2 ** 20
                head = b'{"choices": [{"message": {"content": "'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if length:
                    self.send_header("Content-Length", str(total))
                self.end_headers()
                chunk = b"x" * 2 ** 16
                try:
                    self.wfile.write(head)
                    server.sent += len(head)
                    while server.sent < total:
                        self.wfile.write(chunk)
                        server.sent += len(chunk)
                except OSError:  # the client stopped reading and closed: what the test wants
                    pass
                self.close_connection = True

        super().__init__(Handler)
