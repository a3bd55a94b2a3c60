"""The editor's-desk page the browser tests share: report.html over three systems' runs with known
sentences, flags and evidence (one article with hostile markup), and the Playwright waits."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

from harness.io import write_jsonl_atomic
from harness.reports.compare import compare
from harness.reports.html import write_html_report
from harness.results.runs import Run

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = '<img src=x onerror="window.__pwned = 1">'
INFO = {"rouge/rougeLsum_f": {"display": "ROUGE-Lsum F1", "higher_is_better": True, "headline": True, "range": [0, 1]},
        "consistency/unsupported@embedding": {"display": "Unsupported sentences (embedding)",
                                              "higher_is_better": False, "headline": False, "range": [0, None]}}
PARAGRAPHS = ["Russia sent troops to Kazakhstan on Thursday. The protests began over fuel prices.",
              "Police said 18 officers were killed in Almaty. The mayor's office was set on fire.",
              f"Officials gave no figures. {HOSTILE} was written on a wall."]
ARTICLES = [
    {"id": "a1", "title": "Russia sends troops to Kazakhstan", "paragraphs": PARAGRAPHS,
     "bullets": ["Russia sent troops", "18 officers were killed"]},
    {"id": "cnn_3f2a", "title": "cnn_3f2a", "paragraphs": ["Heavy snow closed schools across Boston on Monday. "
                                                          "Drivers were told to stay home."],
     "bullets": ["Snow closed schools"]},  # a title equal to the id: headed by its first words
    {"id": f"x{HOSTILE}", "title": f"Hostile {HOSTILE}", "paragraphs": [f"Body {HOSTILE} text."], "bullets": ["b"]},
]


def _sentences(article_id: str, system: str) -> list[dict]:
    if article_id != "a1":
        return [{"sentence": "A short summary.", "score": 0.9, "supported": True}]  # an older run: no level
    if system == "good":
        return [{"sentence": "Russia sent troops to Kazakhstan on Thursday.", "score": 0.98, "supported": True,
                 "level": "supported", "flagged": False, "evidence": "Russia sent troops to Kazakhstan on Thursday."},
                {"sentence": "Protests began over prices.", "score": 0.6, "supported": True, "level": "supported",
                 "flagged": False, "evidence": "The protests began over fuel prices."}]
    return [{"sentence": "Police said 40 officers died in Moscow.", "score": 0.2, "supported": False,
             "level": "contradicted", "flagged": True, "evidence": "Police said 18 officers were killed in Almaty."},
            {"sentence": "Putin resigned.", "score": 0.1, "supported": False}]  # no flagged: falls back to supported


def _scores(article_id: str, system: str, bullets: list[str]) -> dict:
    sentences = _sentences(article_id, system)
    entity = [{"sentence": s["sentence"], "score": 1.0, "supported": True,
               "entities": [{"text": "Moscow", "label": "GPE", "kind": "name", "status": "unmatched"}]
               if "Moscow" in s["sentence"] else []} for s in sentences]
    good = system == "good"
    return {"rouge/rougeLsum_f": 0.5 if good else 0.3,
            "consistency/unsupported@embedding": 0 if good else 2,
            "consistency/sentences@embedding": sentences, "consistency/sentences@entity": entity,
            "coverage/bullets@lexical": [{"bullet": b, "score": 0.9 if good else 0.1, "covered": good,
                                          "sentence": sentences[0]["sentence"]} for b in bullets],
            "consistency/contradictions@bullets": []}


def write_page(directory: Path, systems=("good", "bad", "third"), labels=None, edits=None) -> tuple[Path, list[Run]]:
    """report.html over ``systems`` (their run identity: the system's name); ``labels``: system ->
    the label the comparison gives it; ``edits``: (system, article id) -> another summary text."""
    runs = []
    for system in systems:
        run_dir = directory / system
        write_jsonl_atomic(run_dir / "references.jsonl", ARTICLES)
        summaries = [{"article_id": a["id"], "text": (edits or {}).get(
            (system, a["id"]), " ".join(s["sentence"] for s in _sentences(a["id"], system)))} for a in ARTICLES]
        write_jsonl_atomic(run_dir / "summaries.jsonl", summaries)
        runs.append(Run(name=system, label=(labels or {}).get(system, system), key=(system,),
                        setup=hashlib.sha256(system.encode()).hexdigest(),
                        results={"metric_info": INFO, "run": {"name": system, "data": "cnndm_sample.jsonl"}},
                        dirs=[str(run_dir)], articles={a["id"]: hashlib.sha256(json.dumps(a).encode()).hexdigest()
                                                       for a in ARTICLES},
                        scores={a["id"]: _scores(a["id"], system, a["bullets"]) for a in ARTICLES}))
    path = directory / "report.html"
    write_html_report(runs, compare(runs, n_resamples=50), path)
    return path, runs


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def ready(page, url):
    page.goto(url)
    page.wait_for_selector("html[data-ready=true]", state="attached")


def report_paint_benchmark():
    spec = importlib.util.spec_from_file_location("report_paint", ROOT / "benchmarks" / "report_paint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
