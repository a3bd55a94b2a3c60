"""Served endpoints that answer badly (issue 23): a connection closed mid-body, a server that
trickles its answer, fields of the wrong type, lone surrogates, answers that are not JSON.

Every server here is a scripted stdlib server on 127.0.0.1: it lists ``smollm2`` at GET
/v1/models and answers each POST with the next step of its script (the last step repeats).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.data.article import Article
from harness.errors import HarnessError
from harness.http_client import JsonClient, NotJsonAnswer, ServerUnreachable, error_detail, not_json
from harness.systems.base import Generation
from harness.systems.decoding import Decoding
from harness.systems.prompt import PromptTemplate
from harness.systems.served import OpenAICompatible
from harness.systems.served_answer import AnswerShapeError, completion
from harness.text.surrogates import REPLACEMENT, replace_surrogates, without_surrogates

from .conftest import ROOT, SEED_FILE, scaled_timeout

ALIAS = "smollm2"
PROMPT = PromptTemplate(name="bullets", template="Summarize:\n\n{article}")
GREEDY = Decoding(name="greedy", max_new_tokens=12)
ARTICLE = Article(id="a1", title="T", paragraphs=("Police said eight officers were hurt.",), bullets=("Eight hurt.",))
KEY = "sk-answers-5d1e7c0a9b3f4e21"


def chat(content="Eight officers were hurt.", **extra) -> dict:
    return {"id": "x", "object": "chat.completion", "model": ALIAS,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 6}, **extra}


class ScriptedServer:
    """Steps: ``("json", body)``, ``("raw", status, content_type, bytes)``, ``("cut", n)`` (headers
    promising 400 bytes, ``n`` of them, then the connection closed), ``("trickle_body",)`` and
    ``("trickle_headers",)`` (one byte a second until the client goes)."""

    def __init__(self, *steps):
        self.steps, self.posts, self.stop = list(steps), 0, threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002
                pass

            def _send(self, status: int, content_type: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                self._send(200, "application/json", json.dumps(
                    {"object": "list", "data": [{"id": ALIAS, "object": "model", "owned_by": "me"}]}).encode())

            def _trickle(self, data: bytes) -> None:
                try:
                    for byte in data:
                        if server.stop.wait(1.0):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                except OSError:  # the client cut the connection: what the test wants
                    pass

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                step = server.steps[min(server.posts, len(server.steps) - 1)]
                server.posts += 1
                kind = step[0]
                if kind == "json":
                    self._send(200, "application/json", json.dumps(step[1]).encode())
                elif kind == "raw":
                    self._send(step[1], step[2], step[3])
                elif kind == "cut":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "400")
                    self.end_headers()
                    self.wfile.write(json.dumps(chat()).encode()[:step[1]])
                    self.wfile.flush()
                    self.close_connection = True
                elif kind == "trickle_body":
                    body = json.dumps(chat()).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.flush()
                    self._trickle(body)
                    self.close_connection = True
                elif kind == "trickle_headers":
                    self._trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 20)
                    self.close_connection = True

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.http.shutdown()
        self.http.server_close()


def _system(url: str, **kwargs) -> OpenAICompatible:
    kwargs = {"backoff_s": 0.05, "retries": 0, "repetition_penalty_param": None, **kwargs}
    return OpenAICompatible(url, ALIAS, **kwargs)


# --- a connection closed mid-body -------------------------------------------------------------------------


def test_a_connection_closed_mid_body_is_retried_and_the_next_answer_used():
    with ScriptedServer(("cut", 30), ("cut", 0), ("json", chat("Eight hurt."))) as server:
        generation = _system(server.url, retries=2).summarize(ARTICLE, PROMPT, GREEDY)
    assert generation.text == "Eight hurt." and server.posts == 3


@pytest.mark.parametrize("cut", [0, 30, 150])
def test_a_connection_always_closed_mid_body_is_one_error_naming_the_url_and_what_happened(cut):
    with ScriptedServer(("cut", cut)) as server:
        with pytest.raises(HarnessError) as failed:
            _system(server.url, retries=1).summarize(ARTICLE, PROMPT, GREEDY)
    message = str(failed.value)
    assert server.url in message and "stopped answering" in message and "after 2 attempts" in message
    assert f"IncompleteRead: the connection closed after {cut} bytes of the answer" in message
    assert server.posts == 2


def test_a_run_whose_server_closes_mid_body_ends_with_one_line_and_no_traceback(tmp_path):
    with ScriptedServer(("cut", 25)) as server:
        done = subprocess.run(
            [sys.executable, "-m", "harness", "run", "system=openai_compatible", f"system.base_url={server.url}",
             f"system.model={ALIAS}", "system.retries=1", "system.backoff_s=0", "metrics=[rouge]",
             f"data.path={SEED_FILE}", f"hydra.run.dir={tmp_path / 'run'}", "progress=false"],
            cwd=ROOT, env={**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache")}, capture_output=True,
            text=True, timeout=scaled_timeout(120))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "IncompleteRead: the connection closed after 25 bytes of the answer" in done.stderr
    assert "error: the server at" in done.stderr


# --- a deadline per request, not per read -----------------------------------------------------------------


@pytest.mark.parametrize("step", ["trickle_body", "trickle_headers"])
def test_a_server_trickling_a_byte_a_second_is_cut_at_timeout_s(step):
    with ScriptedServer((step,)) as server:
        system = _system(server.url, timeout_s=2)
        start = time.monotonic()
        with pytest.raises(HarnessError) as failed:
            system.summarize(ARTICLE, PROMPT, GREEDY)
        took = time.monotonic() - start
    assert 1.9 <= took < 2.0 + scaled_timeout(1.5), took  # one attempt of 2 s: not 1 s per byte forever
    assert "did not arrive in full within timeout_s=2 s" in str(failed.value) and server.url in str(failed.value)


def test_the_deadline_holds_for_each_attempt_and_the_retry_gets_the_answer():
    with ScriptedServer(("trickle_body",), ("json", chat("Eight hurt."))) as server:
        start = time.monotonic()
        generation = _system(server.url, timeout_s=2, retries=1).summarize(ARTICLE, PROMPT, GREEDY)
        took = time.monotonic() - start
    assert generation.text == "Eight hurt." and server.posts == 2
    assert 1.9 <= took < 2.0 + scaled_timeout(1.5), took


def test_retries_of_a_trickling_server_end_within_attempts_times_timeout_s_plus_backoff():
    with ScriptedServer(("trickle_body",)) as server:
        client = JsonClient(server.url, timeout_s=1, retries=2, backoff_s=0.1)
        start = time.monotonic()
        with pytest.raises(ServerUnreachable, match="after 3 attempts"):
            client.post("chat/completions", {"model": ALIAS})
        took = time.monotonic() - start
    assert 3.2 <= took < 3.3 + scaled_timeout(2.0), took  # 3 x 1 s + 0.1 + 0.2 s of backoff


def test_a_fast_answer_is_not_affected_by_the_deadline():
    with ScriptedServer(("json", chat("Eight hurt."))) as server:
        client = JsonClient(server.url, timeout_s=0.5, retries=0)
        for _ in range(20):  # the timers of finished requests never cut a later one
            assert client.post("chat/completions", {})["choices"][0]["message"]["content"] == "Eight hurt."


# --- fields of the wrong type -----------------------------------------------------------------------------

BAD_FIELDS = [
    ({"choices": [{"message": {"content": 42}}]}, "choices[0].message.content an integer (42), not text"),
    ({"choices": [{"message": {"content": 4.5}}]}, "choices[0].message.content a number (4.5), not text"),
    ({"choices": [{"message": {"content": ["Eight"]}}]}, "choices[0].message.content a list"),
    ({"choices": [{"message": {"content": {"text": "x"}}}]}, "choices[0].message.content an object"),
    ({"choices": [{"message": {"content": True}}]}, "choices[0].message.content a boolean"),
    ({"choices": [{"message": "Eight hurt."}]}, "choices[0].message a string"),
    ({**chat(), "usage": "20 tokens"}, 'usage a string ("20 tokens"), not an object of token counts'),
    ({**chat(), "usage": [20, 6]}, "usage a list"),
    ({**chat(), "usage": {"prompt_tokens": "20", "completion_tokens": 6}},
     'usage.prompt_tokens a string ("20"), not a whole number of tokens'),
    ({**chat(), "usage": {"prompt_tokens": 20, "completion_tokens": "6"}}, 'usage.completion_tokens a string ("6")'),
    ({**chat(), "usage": {"prompt_tokens": 20, "completion_tokens": 6.5}}, "usage.completion_tokens a number (6.5)"),
    ({**chat(), "usage": {"prompt_tokens": -1, "completion_tokens": 6}}, "usage.prompt_tokens an integer (-1)"),
    ({**chat(), "usage": {"prompt_tokens": True, "completion_tokens": 6}}, "usage.prompt_tokens a boolean"),
    ({**chat(), "model": 7}, "model an integer (7), not a string"),
    ({**chat(), "system_fingerprint": ["fp"]}, 'system_fingerprint a list (["fp"])'),
    ({"choices": [{"message": {"content": "x"}, "finish_reason": 1}]}, "choices[0].finish_reason an integer (1)"),
]


@pytest.mark.parametrize(("answer", "said"), BAD_FIELDS)
def test_a_field_of_the_wrong_type_is_one_error_naming_the_url_and_the_field(answer, said):
    with ScriptedServer(("json", answer)) as server:
        with pytest.raises(AnswerShapeError) as failed:
            _system(server.url).summarize(ARTICLE, PROMPT, GREEDY)
    message = str(failed.value)
    assert f"the server at {server.url}/chat/completions answered article 'a1' with {said}" in message
    assert "Its answer: " in message


@pytest.mark.parametrize("answer", [{}, {"choices": []}, {"choices": "x"}, {"choices": [5]}, [1, 2], "text", 5])
def test_an_answer_without_a_first_choice_is_named(answer):
    with pytest.raises(AnswerShapeError, match=r"answered article 'a1' without choices\[0\]"):
        completion(answer, True, "http://h/v1/chat/completions", "article 'a1'")


def test_the_completions_endpoint_names_its_own_field():
    with pytest.raises(AnswerShapeError, match=r"choices\[0\]\.text an integer \(3\), not text"):
        completion({"choices": [{"text": 3}]}, False, "http://h/v1/completions", "article 'a1'")


def test_absent_or_null_fields_and_whole_float_counts_are_accepted():
    got = completion({"choices": [{"message": {"content": None}}], "usage": None}, True, "u", "article 'a'")
    assert (got.text, got.input_tokens, got.output_tokens, got.finish_reason) == ("", None, None, None)
    got = completion({**chat(" Eight. "), "usage": {"prompt_tokens": 20.0, "completion_tokens": 6}}, True, "u", "x")
    assert (got.text, got.input_tokens, got.output_tokens, got.model) == ("Eight.", 20, 6, ALIAS)
    assert isinstance(got.input_tokens, int)


def test_a_wrong_field_in_an_answer_quoting_the_key_does_not_repeat_it(monkeypatch):
    monkeypatch.setenv("HARNESS_TEST_ANSWER_KEY", KEY)
    with ScriptedServer(("json", {**chat(), "usage": f"Authorization: Bearer {KEY}"})) as server:
        with pytest.raises(AnswerShapeError) as failed:
            _system(server.url, api_key_env="HARNESS_TEST_ANSWER_KEY").summarize(ARTICLE, PROMPT, GREEDY)
    assert KEY not in str(failed.value) and KEY[:8] not in str(failed.value)
    assert "[redacted]" in str(failed.value)


# --- lone surrogates --------------------------------------------------------------------------------------


def test_lone_surrogates_become_the_replacement_character():
    assert replace_surrogates("a\ud800b\udfffc") == f"a{REPLACEMENT}b{REPLACEMENT}c"
    text = "plain 😀 text"
    assert replace_surrogates(text) is text
    assert without_surrogates({"k\udc00": ["\ud83d", 1, None, {"x": "\udbff"}]}) == {
        f"k{REPLACEMENT}": [REPLACEMENT, 1, None, {"x": REPLACEMENT}]}
    assert Generation(text="bad \ud800 end").text == f"bad {REPLACEMENT} end"


def test_a_served_answer_holding_a_lone_surrogate_is_text_a_file_can_hold():
    body = json.dumps(chat("Eight \ud800 hurt. \ud83d\ude00")).encode()  # "\\ud800": a lone escape; the pair is one
    assert b"\\ud800" in body
    with ScriptedServer(("raw", 200, "application/json", body)) as server:
        generation = _system(server.url).summarize(ARTICLE, PROMPT, GREEDY)
    assert generation.text == f"Eight {REPLACEMENT} hurt. 😀"
    generation.text.encode("utf-8")  # would raise UnicodeEncodeError with the surrogate


def test_a_run_and_its_rerun_with_a_lone_surrogate_in_the_output_both_finish(tmp_path):
    body = json.dumps(chat("Police said \ud800 eight officers were hurt.")).encode()
    cache = tmp_path / "cache"
    with ScriptedServer(("raw", 200, "application/json", body)) as server:
        for n in (1, 2):
            run_dir = tmp_path / f"run{n}"
            done = subprocess.run(
                [sys.executable, "-m", "harness", "run", "system=openai_compatible", f"system.base_url={server.url}",
                 f"system.model={ALIAS}", "system.retries=0", "metrics=[rouge]", f"data.path={SEED_FILE}",
                 f"hydra.run.dir={run_dir}", "progress=false"],
                cwd=ROOT, env={**os.environ, "HARNESS_CACHE_DIR": str(cache)}, capture_output=True, text=True,
                timeout=scaled_timeout(180))
            assert done.returncode == 0, done.stderr[-2000:]
            summary = json.loads((run_dir / "summaries.jsonl").read_text(encoding="utf-8").splitlines()[0])
            assert summary["text"] == f"Police said {REPLACEMENT} eight officers were hurt."
            assert json.loads((run_dir / "results.json").read_text())["generation"]["cached"] == n - 1
    assert server.posts == 1  # the rerun read the cache entry the first run wrote


# --- answers that are not JSON ----------------------------------------------------------------------------

HTML = b"<!DOCTYPE html><html><head><title>Open WebUI</title></head><body>Sign in</body></html>"


@pytest.mark.parametrize(("content_type", "body", "said"), [
    ("text/html; charset=utf-8", HTML, "answered HTML, not JSON (Content-Type: text/html; charset=utf-8): "
                                       "'<!DOCTYPE html><html><head><title>Open WebUI"),
    ("application/json", b"  <html><body>502</body></html>",
     "answered HTML, not JSON (Content-Type: application/json)"),
    ("text/plain", b"Internal error: upstream gone", "answered text, not JSON (Content-Type: text/plain): "
                                                     "'Internal error: upstream gone'"),
    ("application/json", b"", "answered an empty body (Content-Type: application/json), not JSON"),
    ("application/json", b'{"choices": [', "answered text, not JSON"),
    ("application/json", b"\xff\xfe not utf-8", "answered text, not JSON"),
])
def test_an_answer_that_is_not_json_is_named_for_what_it_is(content_type, body, said):
    with ScriptedServer(("raw", 200, content_type, body)) as server:
        with pytest.raises(HarnessError) as failed:
            _system(server.url).summarize(ARTICLE, PROMPT, GREEDY)
    assert f"the server at {server.url}/chat/completions {said}" in str(failed.value)


def test_an_html_page_is_quoted_to_200_characters_without_keys(monkeypatch):
    page = b"<html><body>" + f"Authorization: Bearer {KEY} ".encode() + b"x" * 1000 + b"</body></html>"
    message = not_json("http://h/v1/x", page, {"Content-Type": "text/html"})
    assert "answered HTML, not JSON" in message and KEY not in message and "[redacted]" in message
    quoted = message.split(": ", 2)[-1].split("; is this")[0]
    assert len(quoted) <= 200 + 2  # the repr's quotes
    assert "is this the API's URL" in message


def test_an_html_error_page_says_so():
    with ScriptedServer(("raw", 502, "text/html", HTML)) as server:
        with pytest.raises(HarnessError) as failed:
            _system(server.url, retries=0).summarize(ARTICLE, PROMPT, GREEDY)
    assert "HTTP 502" in str(failed.value) and "an HTML page, not JSON: '<!DOCTYPE html>" in str(failed.value)
    assert error_detail(b'{"error": {"message": "boom"}}', {"Content-Type": "text/html"}) == "boom"


def test_a_model_listing_that_is_an_html_page_is_named_when_the_system_starts():
    class HtmlListing(ScriptedServer):
        def __init__(self):
            super().__init__(("json", chat()))
            handler = self.http.RequestHandlerClass

            def do_get(request):
                request._send(200, "text/html", HTML)
            handler.do_GET = do_get

    with HtmlListing() as server:
        with pytest.raises(NotJsonAnswer) as failed:
            _system(server.url)
    message = str(failed.value)
    assert f"the server at {server.url}/models answered HTML, not JSON (Content-Type: text/html)" in message
    assert "is this the API's URL (an OpenAI-compatible API's root usually ends in /v1)?" in message
