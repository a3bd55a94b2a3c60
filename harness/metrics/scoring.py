"""Scoring summaries with a run's metrics, through the score cache: one function for a run and for
the gate's re-scoring of a baseline (harness.gate), so both get the same scores for the same texts.
"""

from __future__ import annotations

from tqdm import tqdm

from harness.metrics.score_cache import ScoreCache, metric_fingerprint, score_key


def score(metrics: dict, summaries: list[dict], articles, cache: ScoreCache | None = None, *,
          progress: bool = True) -> tuple[list[dict], dict]:
    """Every metric's scores for every summary, as ``{article_id, system, scores}`` rows, and per
    metric how many were computed, how many came from the score cache, and its fingerprint (what
    the scores depend on: config, code, models; ``metric_fingerprint``)."""
    from harness.models.sentence_encoder import vector_store

    # Every sentence embedding kept beside the score cache: a rescored summary gets the same vectors
    # as the first computation (an encoder's output depends on its batch mates in the last bits).
    with vector_store(cache.root.parent / "embeddings" if cache else None):
        return _score(metrics, summaries, articles, cache, progress)


SCORE_CHUNK = 64  # summaries per score_many() call: batches stay large, a stopped run loses at most one


def _score(metrics, summaries, articles, cache, progress):
    by_id = {a.id: a for a in articles}
    pairs = [(row["text"], by_id[row["article_id"]]) for row in summaries]
    merged = [{} for _ in pairs]
    counts = {}
    for name, metric in tqdm(metrics.items(), desc="score", unit="metric", disable=not progress):
        fingerprint = metric_fingerprint(name, metric)
        keys = [score_key(fingerprint, text, article.content_hash) for text, article in pairs]
        declared = metric.columns()
        values = [cache.get(k, declared) if cache else None for k in keys]
        missing = [i for i, v in enumerate(values) if v is None]
        # In chunks, each cached as it is done: a run stopped mid-metric (a served judge's server gone,
        # Ctrl-C) keeps every chunk it finished.
        for start in range(0, len(missing), SCORE_CHUNK):
            chunk = missing[start:start + SCORE_CHUNK]
            for i, computed in zip(chunk, metric.score_many([pairs[i] for i in chunk]), strict=True):
                values[i] = computed
                if cache:
                    cache.put(keys[i], computed)
        counts[name] = {"computed": len(missing), "cached": len(pairs) - len(missing), "fingerprint": fingerprint}
        for i, v in enumerate(values):
            undeclared = [k for k, x in v.items() if _scalar(x) and k not in declared]
            if undeclared:
                raise TypeError(f"metric {name!r} ({type(metric).__name__}) wrote columns its columns() does not "
                                f"declare: {undeclared}")
            merged[i].update({f"{metric.name}/{k}": x for k, x in v.items()})
    rows = [{"article_id": row["article_id"], "article_sha256": by_id[row["article_id"]].content_hash,
             "system": row["system"], "scores": s} for row, s in zip(summaries, merged, strict=True)]
    return rows, counts


def _scalar(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
