"""The training pool of the checker: labelled pairs from the annotated sets and synthetic pairs
from their articles, each tagged with the sets its article appears in, so a fold can leave a set
out entirely (its labels and its articles).

Labelled pairs (``kind`` ``labelled:<set>``), premise = the article window that shares most of the
claim's content words (`harness.training.windows.top_windows`, as the scorer retrieves):
- a sentence with its own label (QAGS-C's per-sentence majority votes);
- a one-sentence summary with its summary label (XSumFaith, FactCC's claims, and any other);
- every sentence of a summary labelled consistent (a summary labelled inconsistent does not say
  which sentence is wrong, so its sentences are not used).
Synthetic pairs: `harness.training.synthetic.article_pairs` over every distinct article.
An article is one article across sets when `article_id` agrees (the same CNN/DM story in SummEval,
Polytope and CogenSumm).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path

from harness.meta_eval.consistency_data import ConsistencyExample, read_consistency
from harness.meta_eval.transfer import dataset_name
from harness.text.sentences import split_sentences
from harness.training.synthetic import Pair, article_id, article_pairs
from harness.training.windows import top_windows, windows


def labelled_claims(example: ConsistencyExample) -> list[tuple[str, int]]:
    """(sentence, label) pairs an annotated example gives (see the module's rules)."""
    if example.sentences and example.sentence_labels:
        return list(zip(example.sentences, example.sentence_labels, strict=True))
    if example.label is None:
        return []
    sentences = split_sentences(example.summary)
    if len(sentences) == 1:
        return [(sentences[0], int(example.label))]
    if example.label == 1:
        return [(s, 1) for s in sentences]
    return []


def labelled_pairs(examples: list[ConsistencyExample], name: str, size: int = 3) -> list[Pair]:
    """The labelled pairs of one set: each claim against its best window."""
    out, cache = [], {}
    for example in examples:
        if example.article not in cache:
            cache[example.article] = windows(split_sentences(example.article), size)
        article_windows = cache[example.article]
        if not article_windows:
            continue
        aid = article_id(example.article)
        for claim, label in labelled_claims(example):
            best = top_windows(claim, article_windows, 1)[0]
            out.append(Pair(article_windows[best], claim, label, f"labelled:{name}", aid))
    return out


def build_pool(paths: list[str], seed: int = 0, per_article: int = 6, size: int = 3, log=print) -> list[dict]:
    """Every labelled pair of ``paths`` and ``per_article`` synthetic pairs of each distinct article,
    as dicts (a `Pair`'s fields plus ``sets``: the set names the article appears in).

    Args:
        paths: annotated consistency files (any `read_consistency` format); a set's name is its
            file's (`dataset_name`).
        seed: the synthetic pairs' seed.
        per_article: synthetic target sentences drawn per article.
        size: sentences per window.
        log: progress lines go here.
    Returns:
        The pool, labelled pairs first, in file order, then synthetic pairs by article."""
    rng = random.Random(seed)
    sets: dict[str, set[str]] = {}
    texts: dict[str, str] = {}
    pool: list[Pair] = []
    for path in paths:
        name = dataset_name(path)
        _, examples = read_consistency(path)
        for e in examples:
            aid = article_id(e.article)
            sets.setdefault(aid, set()).add(name)
            texts.setdefault(aid, e.article)
        found = labelled_pairs(examples, name, size)
        log(f"{name}: {len(examples)} examples, {len(found)} labelled pairs "
            f"({sum(p.label for p in found)} supported)")
        pool += found
    ids = sorted(texts)
    sentences = {aid: split_sentences(texts[aid]) for aid in ids}
    for n, aid in enumerate(ids):
        other = sentences[ids[(n + 1 + rng.randrange(len(ids) - 1)) % len(ids)]] if len(ids) > 1 else []
        pool += article_pairs(texts[aid], sentences[aid], other, rng, per_article, size)
        if n % 100 == 0:
            log(f"synthetic: {n}/{len(ids)} articles, pool {len(pool)}")
    return [{**asdict(p), "sets": sorted(sets[p.article])} for p in pool]


def write_pool(pool: list[dict], path: str | Path) -> None:
    """The pool as JSON Lines, written atomically."""
    from harness.io import write_text_atomic

    write_text_atomic(Path(path), "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pool))


def read_pool(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
