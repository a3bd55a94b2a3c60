"""One run, end to end: references -> system -> summaries -> metrics -> scores -> results and report.

Writes into ``output_dir``: ``resolved_config.yaml``, ``summaries.jsonl``, ``scores.jsonl``,
``report.md`` and, last, ``results.json`` (its ``status`` marks the run finished). Every file is
written atomically. A directory whose results.json says ``completed`` is never overwritten.
"""

from __future__ import annotations

import json
import logging
import math
import time
from datetime import datetime, timezone
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from harness.config import build
from harness.errors import RunDirError
from harness.io import write_json_atomic, write_jsonl_atomic, write_text_atomic
from harness.metrics.score_cache import ScoreCache, metric_fingerprint, score_key
from harness.provenance import git_state, machine, package_versions, text_sha256
from harness.reports.html import write_run_html
from harness.reports.run_report import render_run_report
from harness.stats.bootstrap import bootstrap_mean
from harness.systems.generation_cache import GenerationCache, cache_key

SCHEMA_VERSION = "1.0"
log = logging.getLogger(__name__)


def check_run_dir(output_dir: Path) -> None:
    results = output_dir / "results.json"
    if results.exists():
        try:
            status = json.loads(results.read_text(encoding="utf-8")).get("status")
        except ValueError:
            status = None
        if status == "completed":
            raise RunDirError(f"{output_dir} already holds a finished run; a finished run is never "
                              "overwritten. Run again in a new directory (hydra.run.dir=PATH).")


def run(cfg: DictConfig, output_dir: Path, *, choices: dict | None = None,
        overrides: list[str] | None = None) -> dict:
    started_at, t0 = datetime.now(timezone.utc).isoformat(), time.perf_counter()
    output_dir = Path(output_dir)
    check_run_dir(output_dir)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    config_yaml = OmegaConf.to_yaml(OmegaConf.create(resolved))
    write_text_atomic(output_dir / "resolved_config.yaml", OmegaConf.to_yaml(OmegaConf.create(
        {"config": resolved, "choices": dict(choices or {}), "overrides": list(overrides or [])})))

    articles = build(cfg, "data")
    system = build(cfg, "system")
    prompt = build(cfg, "prompt")
    decoding = build(cfg, "decoding")
    metrics = {name: build(cfg.metrics, name) for name in cfg.metrics}
    t_setup = time.perf_counter()

    identity = system.identity(prompt, decoding)
    summaries, counts = generate(system, identity, articles, prompt, decoding, GenerationCache(cfg.cache_dir),
                                 progress=cfg.progress)
    write_jsonl_atomic(output_dir / "references.jsonl", [{"id": a.id, "title": a.title, "bullets": list(a.bullets)}
                                                         for a in articles])
    write_jsonl_atomic(output_dir / "summaries.jsonl", summaries)
    t_generated = time.perf_counter()

    scores, scoring = score(metrics, summaries, articles, ScoreCache(cfg.cache_dir), progress=cfg.progress)
    write_jsonl_atomic(output_dir / "scores.jsonl", scores)
    t_scored = time.perf_counter()

    uses_prompt = system.uses_prompt
    results = {
        "schema_version": SCHEMA_VERSION,
        "status": "completed",
        "run": {
            "name": " | ".join([system.name, *([prompt.name, decoding.name] if uses_prompt else [])]),
            "system": system.name,
            "prompt": prompt.name if uses_prompt else None,
            "decoding": decoding.name if uses_prompt else None,
            "data": str(cfg.data.path),
            "n_articles": len(articles),
            "seed": cfg.seed,
            "identity_sha256": text_sha256(json.dumps(identity, sort_keys=True)),
            "data_sha256": text_sha256(json.dumps(sorted(a.content_hash for a in articles))),
            # The evaluation set before sharding: shards of one set share it, and are merged.
            "shard": [cfg.data.get("shard", 0), cfg.data.get("num_shards", 1)],
            "data_source_sha256": text_sha256(json.dumps({k: v for k, v in resolved["data"].items()
                                                          if k != "shard"}, sort_keys=True, default=str)),
        },
        "metrics": {},
        "metric_stats": aggregate(scores, seed=cfg.seed),
        "generation": counts,
        "scoring": scoring,
        "provenance": {
            "system_identity": identity,
            "config_sha256": text_sha256(config_yaml),
            "metrics": {name: {"class": type(m).__name__, **m.describe()} for name, m in metrics.items()},
            "choices": dict(choices or {}),
            "overrides": list(overrides or []),
            "seed": cfg.seed,
            "versions": package_versions(),
            "git": git_state(),
            "machine": machine(),
            "started_at": started_at,
            "timings_s": {"setup": round(t_setup - t0, 3), "generation": round(t_generated - t_setup, 3),
                          "scoring": round(t_scored - t_generated, 3)},
        },
    }
    results["metrics"] = {name: stats["mean"] for name, stats in results["metric_stats"].items()}
    write_text_atomic(output_dir / "report.md", render_run_report(results, summaries, scores, articles))
    write_run_html(results, scores, output_dir)
    results["provenance"]["timings_s"]["total"] = round(time.perf_counter() - t0, 3)
    results["provenance"]["finished_at"] = datetime.now(timezone.utc).isoformat()
    write_json_atomic(output_dir / "results.json", results)
    return results


def generate(system, identity: dict, articles, prompt, decoding, cache: GenerationCache, *, progress: bool = True):
    """One summary per article, from the cache when its key (``identity`` + article) is there;
    counts generated and cached."""
    rows, counts = [], {"generated": 0, "cached": 0, "truncated": 0, "article_tokens_cut": 0,
                        "empty": 0, "output_tokens": 0, "seconds": 0.0}
    bar = tqdm(articles, desc=f"generate {system.name}", unit="article", disable=not progress)
    for article in bar:
        key = cache_key(identity, article)
        generation, cached = cached_or_generated(
            cache, key, lambda a=article: system.summarize(a, prompt, decoding).to_dict(), identity, article.id)
        if not cached:
            counts["generated"] += 1
            counts["output_tokens"] += generation["output_tokens"] or 0
            counts["seconds"] += generation["seconds"]
            if counts["seconds"] > 0 and counts["output_tokens"]:
                bar.set_postfix(tok_s=f"{counts['output_tokens'] / counts['seconds']:.1f}")
        else:
            counts["cached"] += 1
        if generation["article_tokens_cut"]:
            counts["truncated"] += 1
            counts["article_tokens_cut"] += generation["article_tokens_cut"]
            log.warning("article %s: %d of %d tokens cut from the end to fit the model's input", article.id,
                        generation["article_tokens_cut"], generation["article_tokens"])
        if not generation["text"].strip():
            counts["empty"] += 1
            log.warning("article %s: %s produced an empty summary", article.id, system.name)
        rows.append({"article_id": article.id, "system": system.name,
                     "prompt": prompt.name if system.uses_prompt else None,
                     "decoding": decoding.name if system.uses_prompt else None,
                     "cached": cached, "cache_key": key, **generation})
    counts["seconds"] = round(counts["seconds"], 3)
    counts["tokens_per_s"] = round(counts["output_tokens"] / counts["seconds"], 2) if counts["seconds"] else None
    return rows, counts


def cached_or_generated(cache: GenerationCache, key: str, make, identity: dict, article_id: str) -> tuple[dict, bool]:
    """(generation, whether it came from the cache). Generating holds the key's lock and looks
    again first, so workers sharing the cache never make the same summary twice."""
    generation = cache.get(key)
    if generation is not None:
        return generation, True
    with cache.lock(key):
        generation = cache.get(key)
        if generation is not None:
            return generation, True
        generation = make()
        cache.put(key, generation, identity, article_id)
        return generation, False


def score(metrics: dict, summaries: list[dict], articles, cache: ScoreCache | None = None, *,
          progress: bool = True) -> tuple[list[dict], dict]:
    """Every metric's scores for every summary, as ``{article_id, system, scores}`` rows, and per
    metric how many were computed and how many came from the score cache."""
    by_id = {a.id: a for a in articles}
    pairs = [(row["text"], by_id[row["article_id"]]) for row in summaries]
    merged = [{} for _ in pairs]
    counts = {}
    for name, metric in tqdm(metrics.items(), desc="score", unit="metric", disable=not progress):
        fingerprint = metric_fingerprint(name, metric)
        keys = [score_key(fingerprint, text, article.content_hash) for text, article in pairs]
        values = [cache.get(k) if cache else None for k in keys]
        missing = [i for i, v in enumerate(values) if v is None]
        for i, computed in zip(missing, metric.score_many([pairs[i] for i in missing]) if missing else [],
                               strict=True):
            values[i] = computed
            if cache:
                cache.put(keys[i], computed)
        counts[name] = {"computed": len(missing), "cached": len(pairs) - len(missing)}
        for i, v in enumerate(values):
            merged[i].update({f"{metric.name}/{k}": x for k, x in v.items()})
    rows = [{"article_id": row["article_id"], "system": row["system"], "scores": s}
            for row, s in zip(summaries, merged, strict=True)]
    return rows, counts


def aggregate(scores: list[dict], seed: int = 0) -> dict:
    """Mean, standard deviation, n and a 95% bootstrap interval over articles of every scalar score."""
    values: dict[str, list[float]] = {}
    for row in scores:
        for name, value in row["scores"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                values.setdefault(name, []).append(float(value))
    stats = {}
    for name, xs in values.items():
        mean = sum(xs) / len(xs)
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
        interval = bootstrap_mean(xs, seed=seed)
        stats[name] = {"mean": mean, "std": std, "n": len(xs), "ci95": [interval.low, interval.high]}
    return stats


def failed_results(error: BaseException, cfg: DictConfig | None) -> dict:
    """The results.json of a run that stopped with ``error``; aggregation lists it as failed."""
    name = None
    if cfg is not None:
        name = " | ".join(str(cfg.get(k, {}).get("name") or "?") for k in ("system", "prompt", "decoding"))
    return {"schema_version": SCHEMA_VERSION, "status": "failed", "error": f"{type(error).__name__}: {error}",
            "run": {"name": name}, "provenance": {"versions": package_versions(), "git": git_state(),
                                                  "failed_at": datetime.now(timezone.utc).isoformat()}}
