"""Throughput of the consistency scorers when each article has one summary (the run's case: a
system writes one summary per article), on XSumFaith's BBC articles.

Usage: .venv/bin/python benchmarks/claim_scorers.py [XSUMFAITH_FILE] [--n N]
The first summary of each of the first N articles (default 200) of
../shared/data/summac/xsumfaith_test.jsonl (read at run time). Each scorer is timed from cold
caches (parses, sentence splits, embeddings emptied; models loaded before timing) in one
``score_many`` call, as a run scores. Beside them, the bound each one shares: spaCy's parse of
the articles and summaries alone (lemmas, claims), the NER alone (entity), and the encoder on
every article and summary sentence alone (embedding).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def clear_caches(metric=None) -> None:
    import harness.metrics.consistency.claim_support as claims
    import harness.metrics.consistency.embedding_support as embedding
    import harness.metrics.consistency.lemma_support as lemmas
    import harness.text.entities as entities
    import harness.text.parse as parse

    for fn in (parse.parse_article, parse._parse_cached, lemmas.article_vocabulary, claims.article_index,
               embedding.article_sentences, entities.mentions, entities.article_index):
        fn.cache_clear()
    encoder = getattr(metric, "encoder", None)
    if encoder is not None:
        encoder._cache.clear()


def one_summary_options(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The data file (XSumFaith by default) and ``--n``, parsed."""
    parser.add_argument("data", nargs="?",
                        default=str(ROOT.parent / "shared" / "data" / "summac" / "xsumfaith_test.jsonl"))
    parser.add_argument("--n", type=int, default=200, help="articles (one summary each)")
    return parser.parse_args()


def first_summaries(path: str, n: int) -> list[tuple[tuple[str, object], bool]]:
    """((summary, Article), consistent?) for the first summary of each of the first ``n`` articles
    of a SummaC-style file (its human label)."""
    from harness.data.article import Article
    from harness.meta_eval.consistency_data import read_consistency

    _, examples = read_consistency(path, "summac")
    first: dict[str, object] = {}
    for e in examples:
        first.setdefault(e.doc_id, e)
    return [((e.summary, Article(str(i), "", (e.article,), ())), bool(e.label))
            for i, e in enumerate(list(first.values())[:n])]


def main() -> None:
    options = one_summary_options(argparse.ArgumentParser())
    from harness.config import load_metric
    from harness.metrics.consistency.base import article_text
    from harness.text.entities import _entities
    from harness.text.parse import parse
    from harness.text.sentences import split_sentences

    pairs = [pair for pair, _ in first_summaries(options.data, options.n)]
    sentences = sum(len(split_sentences(s)) for s, _ in pairs)
    print(f"cores: {os.cpu_count()}; {len(pairs)} articles, one summary each ({sentences} summary sentences)")
    texts = [article_text(a) for _, a in pairs] + [s for s, _ in pairs]
    parse("Warm up the pipeline."), _entities("Warm up the pipeline.")  # loading spaCy is not the bound
    clear_caches()
    t0 = time.perf_counter()
    for text in texts:
        parse(text)
    parse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for text in texts:
        _entities(text)
    ner_s = time.perf_counter() - t0
    print(f"bound, spaCy parse of articles and summaries alone: {parse_s:.1f} s ({len(pairs) / parse_s:.1f} "
          f"summaries/s); NER alone: {ner_s:.1f} s ({len(pairs) / ner_s:.1f} summaries/s)")
    for name in ("consistency_embedding", "consistency_entity", "consistency_lemmas", "consistency_claims"):
        metric = load_metric(name)
        if name == "consistency_embedding":
            clear_caches(metric)
            all_sentences = list(dict.fromkeys(s for t in texts for s in split_sentences(t)))
            t0 = time.perf_counter()
            metric.encoder.encode(all_sentences)
            encode_s = time.perf_counter() - t0
            print(f"bound, encoder on every article and summary sentence alone ({len(all_sentences)}): "
                  f"{encode_s:.1f} s ({len(pairs) / encode_s:.1f} summaries/s)")
        clear_caches(metric)
        t0 = time.perf_counter()
        metric.score_many(pairs)
        seconds = time.perf_counter() - t0
        print(f"{name}: {seconds:.1f} s, {len(pairs) / seconds:.1f} summaries/s")


if __name__ == "__main__":
    main()
