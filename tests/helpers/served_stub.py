"""A stdlib OpenAI-compatible server on 127.0.0.1 that keeps every request body (tests of what a
served system sends)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ALIAS = "smollm2"


class RecordingServer:
    """A stdlib OpenAI-compatible server on 127.0.0.1 listing ``ids`` at GET /v1/models and answering
    every chat completion with one bullet; ``bodies`` holds each request body it received."""

    def __init__(self, ids=(ALIAS,), content: str = "- Protests over fuel prices."):
        bodies = self.bodies = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002
                pass

            def _answer(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                self._answer({"object": "list", "data": [{"id": i, "object": "model", "owned_by": "me"} for i in ids]})

            def do_POST(self):  # noqa: N802
                bodies.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
                self._answer({"model": bodies[-1]["model"], "choices": [
                    {"message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}], "usage": {"prompt_tokens": 100, "completion_tokens": 6}})

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self) -> RecordingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.http.shutdown()
        self.http.server_close()
