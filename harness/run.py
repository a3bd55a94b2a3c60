"""One run, end to end: references -> system -> summaries -> metrics -> scores -> results and report.

Writes into ``output_dir``: ``resolved_config.yaml``, ``summaries.jsonl``, ``scores.jsonl``,
``report.md`` and, last, ``results.json`` (its ``status`` marks the run finished). Every file is
written atomically. A directory whose results.json says ``completed`` is never overwritten.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from harness.calibration.record import run_calibration
from harness.config import build
from harness.config_check import check_run_config
from harness.errors import ConfigError
from harness.generation import generate
from harness.http_client import check_key_settings, redact
from harness.io import write_text_atomic
from harness.metrics.base import declared_columns
from harness.metrics.score_cache import ScoreCache
from harness.metrics.scoring import score
from harness.provenance import git_state, machine, package_versions, text_sha256
from harness.reports.html import write_run_html
from harness.reports.run_report import render_run_report
from harness.results.intervals import interval_settings, metric_stats
from harness.results.results_file import max_new_tokens_of, results_data, thresholds_of, write_results
from harness.results.run_config import write_run_config
from harness.results.run_dir import REPORT_MD, check_run_dir
from harness.results.schema import (
    CompletedResults,
    FailedProvenance,
    FailedRecord,
    FailedResults,
    Provenance,
    RunRecord,
)
from harness.results.scores import write_scores
from harness.results.summaries import write_references, write_summaries
from harness.stats.bootstrap import N_RESAMPLES
from harness.systems.generation_cache import GenerationCache

log = logging.getLogger(__name__)


def run(cfg: DictConfig, output_dir: Path, *, choices: dict | None = None,
        overrides: list[str] | None = None) -> dict:
    started_at, t0 = datetime.now(timezone.utc).isoformat(), time.perf_counter()
    output_dir = Path(output_dir)
    check_run_config(cfg)  # types, ranges, seeds, unset values: before anything is built, loaded or written
    resolved = OmegaConf.to_container(cfg, resolve=True)
    check_key_settings(resolved)  # a key where its variable's name belongs: refused before any file is written
    check_run_dir(output_dir)
    config_yaml = OmegaConf.to_yaml(OmegaConf.create(resolved))
    write_run_config(output_dir, resolved, choices, overrides)

    articles = build(cfg, "data")
    system = build(cfg, "system")
    prompt = build(cfg, "prompt")
    decoding = build(cfg, "decoding")
    if not cfg.get("metrics"):
        raise ConfigError("no metrics to score with (metrics is empty): give at least one, e.g. metrics=[rouge]")
    metrics = {name: build(cfg.metrics, name) for name in cfg.metrics}
    metric_info = declared_columns(metrics)  # before generating: two configs writing one column fail here
    t_setup = time.perf_counter()

    identity = system.identity(prompt, decoding)
    summaries, counts = generate(system, identity, articles, prompt, decoding, GenerationCache(cfg.cache_dir),
                                 progress=cfg.progress)
    write_references(output_dir, articles)
    write_summaries(output_dir, summaries)
    t_generated = time.perf_counter()

    scores, scoring = score(metrics, summaries, articles, ScoreCache(cfg.cache_dir), progress=cfg.progress)
    write_scores(output_dir, scores)
    t_scored = time.perf_counter()

    uses_prompt = system.uses_prompt
    # The run's intervals, computed once here; every report reads them from results.json.
    intervals = interval_settings({"intervals": {"seed": cfg.seed, "n_resamples": cfg.get("n_resamples", N_RESAMPLES)}})
    stats = metric_stats(scores, metric_info, seed=intervals["seed"], n_resamples=intervals["n_resamples"],
                         confidence=intervals["confidence"])
    described = {name: {"class": type(m).__name__, **m.describe()} for name, m in metrics.items()}
    results = CompletedResults(
        run=RunRecord(
            name=" | ".join([system.name, *([prompt.name, decoding.name] if uses_prompt else [])]),
            system=system.name,
            prompt=prompt.name if uses_prompt else None,
            decoding=decoding.name if uses_prompt else None,
            data=str(cfg.data.path),
            n_articles=len(articles),
            seed=cfg.seed,
            identity_sha256=text_sha256(json.dumps(identity, sort_keys=True)),
            # What was asked (not the weights): the gate pairs baseline and candidate runs by it.
            setup_sha256=text_sha256(json.dumps({"system": system.name, **({
                "prompt": prompt.template, "decoding": decoding.identity()} if uses_prompt else {})},
                sort_keys=True)),
            data_sha256=text_sha256(json.dumps(sorted(a.content_hash for a in articles))),
            # The evaluation set before sharding: shards of one set share it, and are merged.
            shard=[cfg.data.get("shard", 0), cfg.data.get("num_shards", 1)],
            data_source_sha256=text_sha256(json.dumps({k: v for k, v in resolved["data"].items()
                                                       if k != "shard"}, sort_keys=True, default=str)),
            max_new_tokens=max_new_tokens_of(identity),
        ),
        metrics={name: entry["mean"] for name, entry in stats.items()},
        metric_info={name: meta for name, meta in metric_info.items() if name in stats},
        metric_stats=stats,
        intervals=intervals,
        generation=counts,
        scoring=scoring,
        provenance=Provenance(
            system_identity=identity,
            config_sha256=text_sha256(config_yaml),
            metrics=described,
            choices=dict(choices or {}),
            overrides=list(overrides or []),
            seed=cfg.seed,
            versions=package_versions(),
            git=git_state(),
            machine=machine(),
            started_at=started_at,
            timings_s={"setup": round(t_setup - t0, 3), "generation": round(t_generated - t_setup, 3),
                       "scoring": round(t_scored - t_generated, 3)},
        ),
        # Which calibration set the consistency thresholds, and whether this data scores like its own.
        calibration=run_calibration(cfg.get("calibration"), metrics, scores, system.name),
        thresholds=thresholds_of(described),
    )
    written = results_data(results)  # what the reports read: the file as it will be written
    write_text_atomic(output_dir / REPORT_MD, render_run_report(written, summaries, scores, articles))
    write_run_html(written, scores, output_dir)
    results.provenance.timings_s["total"] = round(time.perf_counter() - t0, 3)
    results.provenance.finished_at = datetime.now(timezone.utc).isoformat()
    write_results(output_dir, results)  # under the directory's lock, never over a finished run
    return results_data(results)


def failed_results(error: BaseException, cfg: DictConfig | None) -> FailedResults:
    """The results.json of a run that stopped with ``error``; aggregation lists it as failed."""
    name = None
    if cfg is not None:
        name = " | ".join(str(cfg.get(k, {}).get("name") or "?") for k in ("system", "prompt", "decoding"))
    return FailedResults(error=redact(f"{type(error).__name__}: {error}"), run=FailedRecord(name=name),
                         provenance=FailedProvenance(versions=package_versions(), git=git_state(),
                                                     failed_at=datetime.now(timezone.utc).isoformat()))


def evaluate(config=(), *, output_dir: Path | str | None = None):
    """One run from Python (a notebook, a script), as ``harness run OVERRIDES`` runs it.

    Args:
        config: Hydra overrides (``["system=lead3", "metrics=[rouge]"]``), or a config from
            `harness.compose` (changed as you like).
        output_dir: the run directory (default: the one ``harness run`` would make,
            ``runs/DATE/TIME-ID`` under the current directory).
    Returns:
        The run's results.json as the typed model every reader uses (`harness.results.schema.CompletedResults`:
        ``.metrics``, ``.metric_stats[name].ci95``, ``.run.name``...).
    Raises:
        ConfigError: a bad value, before anything is written; another HarnessError: the run
            failed (what it wrote so far stays, unlocked; no failed results.json is recorded).
    """
    from harness.config import compose
    from harness.results.results_file import read_completed
    from harness.results.run_dir import release
    from harness.threads import prepare

    prepare()  # OpenMP's waiting and thread count, as `harness run` sets them (before torch loads)

    if isinstance(config, DictConfig):
        cfg, overrides = config, []
        full = compose([], hydra=True)
    else:
        overrides = [str(o) for o in ([config] if isinstance(config, str) else config)]
        full, cfg = compose(overrides, hydra=True), compose(overrides)
    check_run_config(cfg)  # before the directory exists
    output_dir = Path(output_dir if output_dir is not None else full.hydra.run.dir)
    try:
        run(cfg, output_dir, choices=dict(full.hydra.runtime.choices), overrides=overrides)
    finally:
        release(output_dir)
    return read_completed(output_dir)
