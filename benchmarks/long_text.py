"""Peak memory and time of the default metrics on long texts (issue 12: bounded memory).

Usage: .venv/bin/python benchmarks/long_text.py [--words 100000] [--bullet-words 20000] [CASE ...]
Cases (all by default):
- ``article:METRIC`` for every default metric (conf/config.yaml): a lead-3 summary of an article of
  ``--words`` words (the embedded reference article repeated, each copy's sentences marked with
  its number so that none repeats);
- ``paragraph:METRIC`` for every default metric: the same words in one paragraph (one line of
  millions of characters), summarized by the lead-3 system itself (its seconds are reported apart);
- ``run:paragraph``: ``harness run system=lead3`` with the default metrics over a file holding that
  one-paragraph article, in a fresh cache and run directory: the whole run's wall seconds and peak
  RSS (issue 23: under 5 minutes and 2 GB for 350,000 words: ``--words 350000 run:paragraph``);
- ``bullets:rouge``: ROUGE of ``system=bullets`` (the summary is the bullets) when one bullet has
  ``--bullet-words`` words;
- ``loop:rouge``: ROUGE of a summary that loops (the reference article's words repeated to
  ``--bullet-words`` words) against the normal bullets.
Each case runs in a fresh process, so its peak RSS (``ru_maxrss``) is its own: the metric's load,
its spaCy/model imports, and the scoring of one summary. Seconds are the scoring alone (for
``run:paragraph``: the whole ``harness run`` process, start to exit).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def default_metrics() -> list[str]:
    from omegaconf import OmegaConf

    from harness.config import CONF_DIR

    return next(d["metrics"] for d in OmegaConf.to_container(OmegaConf.load(CONF_DIR / "config.yaml").defaults)
                if isinstance(d, dict) and "metrics" in d)


def inputs(case: str, words: int, bullet_words: int):
    """(summary, article) of a case."""
    from harness.data import load_articles
    from harness.data.article import Article
    from harness.text.sentences import split_sentences

    seed = load_articles(str(ROOT / "references" / "seed.jsonl"))[0]
    kind = case.split(":")[0]
    if kind in ("article", "paragraph"):
        per_copy = sum(len(p.split()) for p in seed.paragraphs)
        # Every copy's sentences marked with its number: no sentence repeats (an encoder embeds each once).
        paragraphs = tuple(f"Part {k}: " + p.replace(". ", f". In part {k}, ") for k in range(words // per_copy + 1)
                           for p in seed.paragraphs)
        if kind == "paragraph":
            return None, Article("long-paragraph", seed.title, (" ".join(paragraphs),), seed.bullets)
        article = Article("long", seed.title, paragraphs, seed.bullets)
        return " ".join(split_sentences(seed.body)[:3]), article
    vocabulary = seed.body.split()
    long_text = " ".join(vocabulary[i % len(vocabulary)] for i in range(bullet_words))
    if kind == "bullets":
        article = Article("long-bullet", seed.title, seed.paragraphs, (long_text, *seed.bullets))
        return "\n".join(article.bullets), article
    if kind == "loop":
        return long_text, seed
    raise SystemExit(f"unknown case {case!r}: article:METRIC, paragraph:METRIC, run:paragraph, bullets:rouge or "
                     "loop:rouge")


def one(case: str, words: int, bullet_words: int) -> dict:
    import resource
    import time

    from harness.config import load_metric

    if case == "run:paragraph":
        return whole_run(words)
    summary, article = inputs(case, words, bullet_words)
    lead3_seconds = None
    if summary is None:  # the lead-3 system's own summary of the one-paragraph article
        from harness.systems.extractive import LeadK

        start = time.perf_counter()
        summary = LeadK(3).summarize(article, None, None).text
        lead3_seconds = round(time.perf_counter() - start, 1)
    metric = load_metric(case.split(":")[1])
    start = time.perf_counter()
    metric.score_many([(summary, article)])
    seconds = time.perf_counter() - start
    return {"case": case, "article_words": sum(len(p.split()) for p in article.paragraphs),
            "longest_bullet_words": max(len(b.split()) for b in article.bullets),
            "summary_words": len(summary.split()), "seconds": round(seconds, 1), "lead3_seconds": lead3_seconds,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def whole_run(words: int) -> dict:
    """``harness run system=lead3`` (the default metrics) over the one-paragraph article, fresh
    cache and run directory: wall seconds and the run process's peak RSS."""
    import resource
    import time

    _, article = inputs("paragraph:-", words, 0)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "long.jsonl"
        data.write_text(json.dumps({"id": article.id, "title": article.title, "paragraphs": list(article.paragraphs),
                                    "bullets": list(article.bullets)}) + "\n", encoding="utf-8")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "harness", "run", "system=lead3", f"data.path={data}",
                               f"hydra.run.dir={tmp}/run", f"cache_dir={tmp}/cache", "progress=false"],
                              capture_output=True, text=True, cwd=ROOT)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"harness run failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return {"case": "run:paragraph", "article_words": sum(len(p.split()) for p in article.paragraphs),
            "seconds": round(seconds, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*")
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--bullet-words", type=int, default=20_000)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.cases[0], args.words, args.bullet_words)))
        return
    cases = args.cases or [*(f"{kind}:{m}" for kind in ("article", "paragraph") for m in default_metrics()),
                           "run:paragraph", "bullets:rouge", "loop:rouge"]
    print(f"cores: {os.cpu_count()}; article {args.words} words; long bullet / looping summary "
          f"{args.bullet_words} words")
    print(f"{'case':34s} {'seconds':>8s} {'peak RSS MB':>12s} {'lead-3 s':>9s}")
    for case in cases:
        done = subprocess.run([sys.executable, __file__, "--one", case, "--words", str(args.words),
                               "--bullet-words", str(args.bullet_words)], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{case:34s} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        lead3 = "" if row.get("lead3_seconds") is None else f"{row['lead3_seconds']:9.1f}"
        print(f"{case:34s} {row['seconds']:8.1f} {row['peak_rss_mb']:12d} {lead3}", flush=True)


if __name__ == "__main__":
    main()
