"""Scoring one run's summaries again with another run's scorers, so that two runs compare on the
same scorers: the gate's way to judge a model change and not a scoring-code change.

A run records, per metric config key, the fingerprint of the scorer that wrote its scores
(``scoring`` in results.json; a baseline file keeps them with the summaries). Two runs whose
fingerprints differ for a metric were scored by different code, config or models; ``align``
re-scores the baseline's summaries with the candidate's scorers (built from the candidate's
resolved config with this checkout's code, through the score cache, so summaries the candidate
already scored cost nothing) and, when this checkout's scorers are not the ones that scored the
candidate either, the candidate's too. The articles come from the candidate's references.jsonl,
checked against the baseline's content hashes (a baseline keeps the hashes, not the articles).
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError
from harness.results.run_config import read_run_config
from harness.results.run_dir import RESOLVED_CONFIG
from harness.results.runs import Run, run_summaries
from harness.results.summaries import read_references


class RescoreError(HarnessError):
    """A run cannot be scored again (no summaries kept, no scorer config, other articles)."""


def scorer_keys(columns, info: dict) -> list[str]:
    """The metric config keys that write ``columns`` (``metric`` in each column's metadata), in order."""
    return list(dict.fromkeys(info[c]["metric"] for c in columns if (info.get(c) or {}).get("metric")))


def stale_keys(base: Run, cand: Run, keys) -> list[str]:
    """The keys whose baseline scores were not written by the candidate's scorer (fingerprints
    differ, or either run did not record one)."""
    return [k for k in keys if base.fingerprints.get(k) is None or base.fingerprints.get(k) != cand.fingerprints.get(k)]


def candidate_scorers(cand: Run, keys) -> tuple[dict, list, Path]:
    """(config key -> metric built from the candidate's resolved config, the candidate's articles,
    its cache_dir) for ``keys``."""
    from omegaconf import OmegaConf

    from harness.config import build, register_resolvers

    directory = Path(cand.dirs[0])
    if directory.is_file():
        raise RescoreError(f"{cand.label}: re-scoring needs the candidate's run directory (its config and "
                           f"articles), not the baseline file {directory}")
    config = read_run_config(directory)
    configured = config.get("metrics") or {}
    missing = [k for k in keys if k not in configured]
    if missing:
        raise RescoreError(f"{cand.label}: its config ({directory / RESOLVED_CONFIG}) has no metric "
                           f"{', '.join(map(repr, missing))} to score the baseline with; add it to the candidate's "
                           "run, or drop its columns from the gate")
    register_resolvers()
    metrics_cfg = OmegaConf.create(configured)
    metrics = {k: build(metrics_cfg, k) for k in keys}
    articles = []
    for d in cand.dirs:  # shards: every shard's articles
        articles += read_references(d)
    return metrics, articles, Path(config.get("cache_dir") or "runs/.cache")


def kept_summaries(run: Run, side: str) -> dict[str, str]:
    """``run``'s summaries; an error with the fix when it kept none."""
    summaries = run_summaries(run)
    if summaries is None:
        raise RescoreError(f"{run.label}: the {side} keeps no summaries (a baseline file written before baselines "
                           "kept them), so it cannot be scored with the candidate's scorers. Write it again from a "
                           "run of the baseline model: harness gate --update-baseline --baseline FILE --candidate "
                           "RUN_OR_SWEEP_DIR")
    return summaries


def rescore(run: Run, metrics: dict, articles: list, cache_dir: Path, *, side: str) -> dict:
    """Score ``run``'s summaries with ``metrics`` (config key -> metric) through the score cache and
    put the new scores (and fingerprints) in place of the old ones of those metrics. Returns the
    scoring counts per key (computed, cached, fingerprint)."""
    from harness.metrics.score_cache import ScoreCache
    from harness.metrics.scoring import score

    summaries = kept_summaries(run, side)
    by_id = {a.id: a for a in articles}
    ids = sorted(run.scores)
    lacking = [a for a in ids if a not in summaries]
    if lacking:
        raise RescoreError(f"{run.label}: the {side} has no summary of {len(lacking)} scored articles "
                           f"({', '.join(lacking[:5])}); write it again with harness gate --update-baseline")
    other = [a for a in ids if a not in by_id or by_id[a].content_hash != run.articles.get(a)]
    if other:
        raise RescoreError(f"{run.label}: {len(other)} of the {side}'s articles are not the candidate's "
                           f"({', '.join(other[:5])}); gate on the same evaluation set")
    rows = [{"article_id": a, "system": run.name, "text": summaries[a]} for a in ids]
    scored, counts = score(metrics, rows, [by_id[a] for a in ids], ScoreCache(cache_dir), progress=False)
    replaced = {c for c, meta in run.metric_info.items() if meta.get("metric") in metrics}
    new_scores = {}
    for a, row in zip(ids, scored, strict=True):
        kept = {m: v for m, v in run.scores[a].items() if m not in replaced}
        new_scores[a] = {**kept, **row["scores"]}
    run.set_scores(new_scores, {k: c["fingerprint"] for k, c in counts.items()})
    return counts


def align(base: Run, cand: Run, keys) -> list[str]:
    """Make ``base`` and ``cand`` scored by the same scorers for ``keys``; one note per side re-scored."""
    from harness.metrics.score_cache import metric_fingerprint

    stale = stale_keys(base, cand, keys)
    if not stale:
        return []
    kept_summaries(base, "baseline")  # before any scorer is built: a baseline that cannot be re-scored fails at once
    metrics, articles, cache_dir = candidate_scorers(cand, stale)
    current = {k: metric_fingerprint(k, m) for k, m in metrics.items()}
    notes = []
    counts = rescore(base, metrics, articles, cache_dir, side="baseline")
    notes.append(f"{cand.label}: re-scored the baseline's {base.n_articles} summaries with the candidate's scorers "
                 f"({', '.join(stale)}; {sum(c['computed'] for c in counts.values())} scores computed, the rest from "
                 "the score cache): the scorers that wrote its scores differ from the candidate's (scoring code, "
                 "config or models)")
    cand_stale = [k for k in stale if cand.fingerprints.get(k) != current[k]]
    if cand_stale:
        rescore(cand, {k: metrics[k] for k in cand_stale}, articles, cache_dir, side="candidate")
        notes.append(f"{cand.label}: re-scored the candidate's summaries too ({', '.join(cand_stale)}): this "
                     "checkout's scorers are not the ones that scored it")
    return notes
