"""Runs and a report.html page with known sentences and flags, the marks an editor would save on
it, and `harness review`'s server over HTTP: shared by the review, compare, meta-eval --marks tests."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness.io import write_jsonl_atomic
from harness.reports.compare import compare
from harness.reports.html import write_html_report
from harness.results.runs import Run

INFO = {"rouge/rougeLsum_f": {"display": "ROUGE-Lsum F1", "higher_is_better": True, "headline": True, "range": [0, 1]}}
ARTICLES = [
    {"id": "a1", "title": "Troops sent",
     "paragraphs": ["Russia sent troops on Thursday. Police said 18 officers died."],
     "bullets": ["Russia sent troops"]},
    {"id": "a2", "title": "Snow", "paragraphs": ["Heavy snow closed schools in Boston on Monday."],
     "bullets": ["Snow closed schools"]},
]
# system -> article -> [(sentence, flagged by embedding, flagged by entity)]
SENTENCES = {
    "good": {"a1": [("Russia sent troops on Thursday.", False, False), ("Police said 18 officers died.", False, False)],
             "a2": [("Snow closed schools in Boston.", False, False)]},
    "bad": {"a1": [("Police said 40 officers died in Moscow.", True, True), ("Russia sent troops.", True, False)],
            "a2": [("Snow closed schools in Paris.", False, True)]},
    "third": {"a1": [("Troops were sent.", False, False)], "a2": [("Schools closed.", True, False)]},
    "fourth": {"a1": [("Troops.", False, False)], "a2": [("Snow.", False, False)]},  # joins a comparison later
}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def summary_text(system: str, article: str, sentences=SENTENCES) -> str:
    return " ".join(s for s, _, _ in sentences[system][article])


def _scores(system: str, article: str, sentences=SENTENCES) -> dict:
    judged = sentences[system][article]
    rouge = {"good": 0.5, "bad": 0.3, "third": 0.4, "fourth": 0.2}[system] + (0.01 if article == "a2" else 0)
    return {"rouge/rougeLsum_f": rouge,
            **{f"consistency/sentences@{scorer}": [
                {"sentence": s, "score": 0.2 if flags[k] else 0.9, "supported": not flags[k], "flagged": flags[k]}
                for s, *flags in judged] for k, scorer in enumerate(("embedding", "entity"))}}


def make_runs(directory: Path, systems=("good", "bad", "third"), *, labels=None, sentences=SENTENCES,
              articles=ARTICLES) -> list[Run]:
    """Runs with directories (references, summaries) and scores; ``labels``: system -> the label it
    has in this comparison (its identity, ``key``, stays the system's)."""
    runs = []
    for system in systems:
        run_dir = directory / "runs" / system
        write_jsonl_atomic(run_dir / "references.jsonl", articles)
        write_jsonl_atomic(run_dir / "summaries.jsonl", [{"article_id": a["id"], "text": summary_text(
            system, a["id"], sentences)} for a in articles])
        runs.append(Run(name=system, label=(labels or {}).get(system, system), key=(f"identity-{system}", "data"),
                        setup=sha(system), results={"metric_info": INFO, "run": {"name": system}}, dirs=[str(run_dir)],
                        scores={a["id"]: _scores(system, a["id"], sentences) for a in articles},
                        articles={a["id"]: sha(json.dumps(a, sort_keys=True)) for a in articles}))
    return runs


def write_page(directory: Path, **kwargs) -> list[Run]:
    runs = make_runs(directory, **kwargs)
    write_html_report(runs, compare(runs, n_resamples=20), directory / "report.html")
    return runs


def mark(system: str, article: str, choice="accept", note="", sentences=(), runs_sentences=SENTENCES, **more) -> dict:
    a = next(x for x in ARTICLES if x["id"] == article)
    return {"run": system, "run_key": f"identity-{system}", "article_id": article,
            "article_sha256": sha(json.dumps(a, sort_keys=True)),
            "summary_sha256": sha(summary_text(system, article, runs_sentences)), "mark": choice, "note": note,
            "sentences": [{"index": i, "text": "", "verdict": v} for i, v in sentences], **more}


def body(editor, *marks) -> bytes:
    return json.dumps({"editor": editor, "marks": list(marks)}).encode()


@pytest.fixture
def server(tmp_path):
    from harness.review import make_server

    write_page(tmp_path)
    servers = []

    def start(directory=tmp_path):
        srv = make_server(directory, port=0)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    yield tmp_path, start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def post(url, data: bytes, content_type="application/json", headers=None):
    request = urllib.request.Request(url + "/marks.json", data=data, method="POST",
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get(url, path="/marks.json"):
    with urllib.request.urlopen(url + path) as response:
        text = response.read().decode()
    return json.loads(text) if path.endswith(".json") else text


def saved(directory) -> list[dict]:
    return json.loads((directory / "marks.json").read_text())["marks"]
