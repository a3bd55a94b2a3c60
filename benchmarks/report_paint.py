"""How fast report.html opens at scale: a synthetic 1,000-article x 4-system report written by the
real html writer (harness.reports.html.write_html_report), opened in headless Chromium.

Usage: .venv/bin/python benchmarks/report_paint.py [N_ARTICLES] [N_SYSTEMS] [REPEATS]
Prints the page size and, per load (median of REPEATS fresh pages), first contentful paint, the
moment the page's script is done (``report-ready``: every article header drawn, the page
interactive), the load event, and two interactions: unfolding one article (its body drawn) and
"Unfold all" (drawing what is near the viewport). Articles are CNN/DailyMail-sized (about 700
words in 20 paragraphs), summaries 4 sentences with two consistency scorers' verdicts
(evidence, levels, names the article lacks) and two coverage matchers over 4 bullets.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("police protest minister fuel price city government office report said officials week capital "
         "people killed injured troops border state court election vote party leader market bank shares "
         "company year million percent after before during against while between under").split()
LEVELS = ["supported", "unsupported", "contradicted", "not in the article"]
METRICS = {  # name: (display, higher_is_better, headline)
    "rouge/rougeLsum_f": ("ROUGE-Lsum F1", True, True),
    "rouge/rouge1_f": ("ROUGE-1 F1", True, True),
    "coverage/bullets_covered@lexical": ("Bullets covered (lexical)", True, True),
    "consistency/score@embedding": ("Embedding support", True, True),
    "consistency/unsupported@embedding": ("Unsupported sentences (embedding)", False, False),
    "consistency/score@entity": ("Entity precision", True, True),
    "extractive/words": ("Words", None, False),
}


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def synthetic_runs(directory: Path, n_articles: int = 1000, n_systems: int = 4, seed: int = 0) -> list:
    """``n_systems`` runs over ``n_articles`` synthetic articles: run directories with
    references.jsonl (title, paragraphs, bullets) and summaries.jsonl, and their scores."""
    from harness.io import write_jsonl_atomic
    from harness.results.runs import Run

    rng = random.Random(seed)
    articles = []
    for i in range(n_articles):
        paragraphs = [" ".join(_sentence(rng, rng.randint(12, 24)) for _ in range(2)) for _ in range(20)]
        articles.append({"id": hashlib.sha1(str(i).encode()).hexdigest(), "title": "" if i % 3 else _sentence(rng, 9),
                         "paragraphs": paragraphs, "bullets": [_sentence(rng, 12) for _ in range(4)]})
    info = {m: {"display": d, "higher_is_better": h, "headline": head, "range": [0.0, 1.0], "metric": m.split("/")[0]}
            for m, (d, h, head) in METRICS.items()}
    runs = []
    for s in range(n_systems):
        name = f"system-{s}"
        run_dir = directory / name
        summaries, scores = [], {}
        for a in articles:
            article_sentences = [x + "." for p in a["paragraphs"] for x in p.split(". ") if x]
            sentences = [rng.choice(article_sentences).rstrip(".") + "." if rng.random() < 0.7 else _sentence(rng, 14)
                         for _ in range(4)]
            verdicts = []
            for text in sentences:
                level = rng.choice(LEVELS)
                verdicts.append((text, level))
            embedding = [{"sentence": t, "score": round(rng.random(), 4), "evidence": rng.choice(article_sentences),
                          "supported": lv == "supported", "level": lv,
                          "flagged": lv != "supported"} for t, lv in verdicts]
            entity = [{"sentence": t, "score": 1.0, "supported": True, "level": "supported", "flagged": False,
                       "entities": [{"text": t.split()[1], "label": "ORG", "kind": "name",
                                     "status": "unmatched" if rng.random() < 0.2 else "matched"}]}
                      for t, _ in verdicts]
            coverage = {f"coverage/bullets@{m}": [{"bullet": b, "score": round(rng.random(), 4),
                                                   "covered": rng.random() < 0.5, "sentence": rng.choice(sentences)}
                                                  for b in a["bullets"]] for m in ("lexical", "semantic")}
            row = {m: round(rng.random(), 4) for m in METRICS}
            row.update({"consistency/sentences@embedding": embedding, "consistency/sentences@entity": entity,
                        **coverage, "consistency/contradictions@bullets": []})
            scores[a["id"]] = row
            summaries.append({"article_id": a["id"], "text": " ".join(sentences)})
        write_jsonl_atomic(run_dir / "references.jsonl", articles)
        write_jsonl_atomic(run_dir / "summaries.jsonl", summaries)
        runs.append(Run(name=name, label=name, key=(name,), setup=hashlib.sha256(name.encode()).hexdigest(),
                        results={"metric_info": info}, dirs=[str(run_dir)], scores=scores))
    return runs


def write_report(directory: Path, n_articles: int = 1000, n_systems: int = 4) -> Path:
    """report.html of the synthetic runs, by the real writer (comparison with 200 resamples)."""
    from harness.reports.compare import compare
    from harness.reports.html import write_html_report

    runs = synthetic_runs(Path(directory), n_articles, n_systems)
    path = Path(directory) / "report.html"
    write_html_report(runs, compare(runs, n_resamples=200), path)
    return path


MEASURE = """async () => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const ready = performance.getEntriesByName("report-ready")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  let t = performance.now();
  document.querySelector("article.item button.fold").click();
  await frame();
  const unfoldOne = performance.now() - t;
  t = performance.now();
  document.getElementById("unfold-all").click();
  await frame();
  const unfoldAll = performance.now() - t;
  return { fcp: paint ? paint.startTime : null, ready: ready ? ready.startTime : null,
           load: nav.loadEventEnd, unfold_one: unfoldOne, unfold_all: unfoldAll,
           nodes: document.getElementsByTagName("*").length };
}"""


def measure(path: Path, repeats: int = 3) -> dict:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from browser import CHROMIUM

    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            start = time.perf_counter()
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_selector("html[data-ready=true]", state="attached")
            wall = (time.perf_counter() - start) * 1000
            page.wait_for_timeout(200)  # let the paint entries settle
            runs.append({**page.evaluate(MEASURE), "wall": wall})
            page.close()
        browser.close()
    return {k: statistics.median(r[k] for r in runs) for k in runs[0] if runs[0][k] is not None}


def main() -> None:
    n_articles = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    n_systems = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path = write_report(Path(tmp), n_articles, n_systems)
        written = time.perf_counter() - t
        size = path.stat().st_size
        m = measure(path, repeats)
    print(f"report.html: {n_articles} articles x {n_systems} systems, {size / 1e6:.1f} MB, written in {written:.1f} s")
    print(f"median of {repeats} loads in headless Chromium: first contentful paint {m['fcp']:.0f} ms; "
          f"script done (interactive) {m['ready']:.0f} ms; load event {m['load']:.0f} ms; "
          f"goto to ready (wall) {m['wall']:.0f} ms; {m['nodes']:.0f} elements")
    print(f"unfold one article {m['unfold_one']:.0f} ms; unfold all {m['unfold_all']:.0f} ms")


if __name__ == "__main__":
    main()
