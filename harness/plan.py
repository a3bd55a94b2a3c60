"""What a run or sweep would cost, before it runs: ``harness plan OVERRIDES [-m]``.

For each job (a sweep's jobs as its basic sweeper expands them, each config checked as ``harness
run`` checks it): how many summaries it would generate and how many the generation cache already
holds, how many (summary, metric) scores it would compute and how many the score cache holds (a
summary not generated yet has none), for a served model the requests and the most completion tokens
they can ask for, and an estimate of the time from this machine's own earlier runs (``runs/``): the
seconds per generated summary of the last completed run of the same system identity, and the
seconds per computed score of the last completed run that scored with the same metric fingerprints.
With no such run the estimate is unknown, and the table says so rather than guess.

A summary an earlier job of the same plan would generate (an extractive system under two decodings:
the same summary) counts as cached for the later one. Nothing is generated, scored or written: the
data is read and the systems and metrics built, which hashes their weights (a metric whose fingerprint
needs its model's config loads it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from harness.config import build
from harness.generation import batch_keys, batch_order, plan_batches, refill_rows
from harness.metrics.score_cache import ScoreCache, metric_fingerprint, score_key
from harness.provenance import text_sha256
from harness.results.sweep import completed_results_under
from harness.systems.generation_cache import GenerationCache


@dataclass(frozen=True)
class JobPlan:
    """One job's counts and estimate (``estimate_s`` None: no earlier run to measure it by)."""

    job: int
    name: str
    articles: int
    to_generate: int
    cached_summaries: int
    metrics: int
    to_score: int
    cached_scores: int
    requests: int | None  # a served model's requests (None: not served)
    max_completion_tokens: int | None
    prompt_chars: int | None
    estimate_s: float | None
    estimate_from: str


@dataclass(frozen=True)
class Rates:
    """Seconds per generated summary by system identity, per computed score by metric fingerprints."""

    generation: dict[str, float]
    scoring: dict[frozenset, float]


def past_rates(root: Path) -> Rates:
    """This machine's measured rates, from the completed runs under ``root`` (the latest run wins)."""
    generation, scoring = {}, {}
    for results in completed_results_under(root):  # oldest first: the latest run's rate wins
        counts, timings = results.get("generation") or {}, (results.get("provenance") or {}).get("timings_s") or {}
        if counts.get("generated") and counts.get("seconds"):
            generation[results["run"]["identity_sha256"]] = counts["seconds"] / counts["generated"]
        scored = results.get("scoring") or {}
        computed = sum(m.get("computed", 0) for m in scored.values() if isinstance(m, dict))
        if computed and timings.get("scoring"):
            key = frozenset(m.get("fingerprint") for m in scored.values() if isinstance(m, dict))
            scoring[key] = timings["scoring"] / computed
    return Rates(generation, scoring)


def plan_job(job: int, cfg: DictConfig, rates: Rates, planned: set[str] | None = None) -> JobPlan:
    """One job's plan.

    Args:
        job: the job's number in its sweep.
        cfg: its composed config.
        rates: this machine's past rates (`past_rates`).
        planned: generation keys earlier jobs of the plan would generate; this job's are added.
    Returns:
        Its counts and estimate.
    """
    planned = set() if planned is None else planned
    articles, system = build(cfg, "data"), build(cfg, "system")
    prompt, decoding = build(cfg, "prompt"), build(cfg, "decoding")
    identity = system.identity(prompt, decoding)
    size = system.batch_size if isinstance(system.batch_size, int) else 1  # auto: probed at run time
    rows = refill_rows(system, decoding, size)
    cache = GenerationCache(cfg.cache_dir)
    found = {}
    for batch in plan_batches(batch_order(articles, prompt), size, rows):
        for i, key in zip(batch, batch_keys(system, identity, articles, batch, rows), strict=True):
            found[i] = {"earlier job": key} if key in planned else cache.get(key)
            planned.add(key)
    to_generate = sum(g is None for g in found.values())
    metrics = {name: build(cfg.metrics, name) for name in cfg.metrics}
    fingerprints = {name: metric_fingerprint(name, m) for name, m in metrics.items()}
    scores, cached_scores = ScoreCache(cfg.cache_dir), 0
    for i, generation in found.items():
        if generation is not None and "earlier job" in generation:
            cached_scores += len(metrics)  # the same summary as an earlier job's: scored once, there
        elif generation is not None:
            cached_scores += sum(scores.get(score_key(fingerprints[n], generation["text"], articles[i].content_hash),
                                            m.columns()) is not None for n, m in metrics.items())
    to_score = len(articles) * len(metrics) - cached_scores
    served = type(system).__name__ == "OpenAICompatible"
    prompt_chars = sum(len(prompt.render(title=articles[i].title, article=articles[i].body))
                       for i, g in found.items() if g is None) if served and system.uses_prompt else None
    name = " | ".join([system.name, *([prompt.name, decoding.name] if system.uses_prompt else [])])
    estimate, source = _estimate(to_generate, to_score, text_sha256(json.dumps(identity, sort_keys=True)),
                                 frozenset(fingerprints.values()), rates)
    return JobPlan(job, name, len(articles), to_generate, len(articles) - to_generate, len(metrics), to_score,
                   cached_scores, to_generate if served else None,
                   to_generate * decoding.max_new_tokens if served else None, prompt_chars, estimate, source)


def _estimate(to_generate: int, to_score: int, identity_sha: str, fingerprints: frozenset,
              rates: Rates) -> tuple[float | None, str]:
    parts, missing, total = [], [], 0.0
    if to_generate:
        if identity_sha in rates.generation:
            total += to_generate * rates.generation[identity_sha]
            parts.append(f"{rates.generation[identity_sha]:.2f} s/summary")
        else:
            missing.append("no earlier run of this system")
    if to_score:
        known = [rate for key, rate in rates.scoring.items() if key == fingerprints]
        if known:
            total += to_score * known[-1]
            parts.append(f"{known[-1]:.3f} s/score")
        else:
            missing.append("no earlier run with these metrics")
    if missing:
        return None, "; ".join(missing)
    return round(total, 1), ", ".join(parts) or "nothing to compute"


def render(plans: list[JobPlan]) -> str:
    """The plan as a table and a total line."""
    head = ["job", "run", "articles", "generate (cached)", "score (cached)", "requests / max tokens", "estimate"]
    rows = [[str(p.job), p.name, str(p.articles), f"{p.to_generate} ({p.cached_summaries})",
             f"{p.to_score} ({p.cached_scores})",
             f"{p.requests} / {p.max_completion_tokens} (~{p.prompt_chars // 4} prompt tokens)"
             if p.requests is not None else "-",
             f"{p.estimate_s:.0f} s ({p.estimate_from})" if p.estimate_s is not None else f"unknown: {p.estimate_from}"]
            for p in plans]
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in [head, *rows]]
    known = [p.estimate_s for p in plans if p.estimate_s is not None]
    unknown = len(plans) - len(known)
    lines += ["", f"{len(plans)} job(s): {sum(p.to_generate for p in plans)} summaries to generate "
              f"({sum(p.cached_summaries for p in plans)} cached), {sum(p.to_score for p in plans)} scores to compute "
              f"({sum(p.cached_scores for p in plans)} cached); estimate {sum(known):.0f} s"
              + (f" for {len(known)} job(s), {unknown} unknown (run a few articles first, e.g. data.limit=2)"
                 if unknown else "")]
    return "\n".join(lines)
