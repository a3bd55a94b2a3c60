"""Meta-evaluation of bullet coverage on human content-unit labels (REALSumm format).

Each content unit plays a bullet. The articles are split once into a dev half and a test half
(seed 0); a matcher's threshold is tuned on dev only (best balanced accuracy), and every figure is
reported on test, with a 95% bootstrap interval over articles:
- unit level: ROC AUC of the unit's coverage score against the human 0/1 presence, and balanced
  accuracy of "covered" at the dev-tuned threshold (and at the config's threshold);
- summary level (REALSumm / Lite2Pyramid's definition): for each article, the Pearson and Spearman
  correlation across its system summaries of bullet recall with the human pyramid score (fraction
  of units present), averaged over articles;
- system level: Pearson of the per-system means over the test articles.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from harness.errors import ConfigError
from harness.meta_eval.realsumm import UnitLabels
from harness.metrics.coverage.bullet_coverage import BulletCoverage, bullet_scores
from harness.stats.agreement import (
    balanced_accuracy,
    best_threshold,
    bootstrap_clusters,
    dev_test_split,
    pearson,
    roc_auc,
    spearman,
)
from harness.text.sentences import split_sentences

PUBLISHED = {"Lite2Pyramid (p2c, 5-fold)": {"summary_pearson": 0.642, "summary_spearman": 0.601,
                                            "system_pearson": 0.885}}


def unit_scores(metric: BulletCoverage, rows: list[UnitLabels]) -> list[np.ndarray]:
    """Each row's unit coverage scores, by the metric's matcher."""
    items = [(list(r.units), split_sentences(r.summary), r.summary) for r in rows]
    live = [i for i, item in enumerate(items) if item[1]]
    matches = dict(zip(live, metric.matcher.match_many([items[i] for i in live]), strict=True))
    return [bullet_scores(matches[i])[0] if i in matches else np.zeros(len(r.units)) for i, r in enumerate(rows)]


def check_matchers(metrics: dict) -> None:
    """Refuse, before anything is scored, a metric that is not a bullet-coverage matcher (``rouge``)."""
    for name, metric in metrics.items():
        if not isinstance(metric, BulletCoverage):
            raise ConfigError(f"--metrics {name}: not a coverage matcher ({type(metric).__name__}); the coverage "
                              "meta-eval takes bullet-coverage configs (coverage_lexical, coverage_semantic, "
                              "coverage_entailment)")


def evaluate(name: str, metric: BulletCoverage, rows: list[UnitLabels], *, seed: int = 0,
             n_resamples: int = 1000) -> dict:
    check_matchers({name: metric})
    t0 = time.perf_counter()
    scores = unit_scores(metric, rows)
    seconds = time.perf_counter() - t0
    dev, test = dev_test_split([r.doc_id for r in rows], seed)
    dev_idx = [i for i, r in enumerate(rows) if r.doc_id in dev]
    threshold = best_threshold(np.concatenate([scores[i] for i in dev_idx]),
                               np.concatenate([rows[i].present for i in dev_idx]))

    by_doc: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if r.doc_id in test:
            by_doc[r.doc_id].append(i)
    # One cluster per test article: its units' scores and labels, its summaries' (system, recall,
    # pyramid), and its own summary-level correlations (computed once; the bootstrap averages them).
    clusters = []
    for idx in by_doc.values():
        recalls = [float((scores[i] >= threshold).mean()) for i in idx]
        pyramids = [rows[i].pyramid for i in idx]
        clusters.append({"scores": np.concatenate([scores[i] for i in idx]),
                         "labels": np.concatenate([rows[i].present for i in idx]),
                         "systems": [(rows[i].system, r, p) for i, r, p in zip(idx, recalls, pyramids, strict=True)],
                         "pearson": pearson(recalls, pyramids), "spearman": spearman(recalls, pyramids)})

    def units(cs):
        return np.concatenate([c["scores"] for c in cs]), np.concatenate([c["labels"] for c in cs])

    def auc(cs):
        return roc_auc(*units(cs))

    def ba_at(t):
        return lambda cs: balanced_accuracy(*units(cs), t)

    def summary_corr(key):
        return lambda cs: float(np.nanmean([c[key] for c in cs]))

    def system_pearson(cs):
        per_system = defaultdict(lambda: ([], []))
        for c in cs:
            for system, recall, pyramid in c["systems"]:
                per_system[system][0].append(recall)
                per_system[system][1].append(pyramid)
        return pearson([np.mean(p) for p, _ in per_system.values()], [np.mean(h) for _, h in per_system.values()])

    boot = {"n_resamples": n_resamples, "seed": seed}
    n_units = int(sum(len(rows[i].units) for idx in by_doc.values() for i in idx))
    return {
        "metric": name, "matcher": metric.describe(), "seconds": round(seconds, 2),
        "dev_articles": len(dev), "test_articles": len(test), "test_summaries": sum(map(len, by_doc.values())),
        "test_units": n_units, "tuned_threshold": round(threshold, 4), "config_threshold": metric.threshold,
        "unit_auc": bootstrap_clusters(clusters, auc, **boot),
        "unit_balanced_accuracy": bootstrap_clusters(clusters, ba_at(threshold), **boot),
        "unit_balanced_accuracy_config_threshold": bootstrap_clusters(clusters, ba_at(metric.threshold), **boot),
        "summary_pearson": bootstrap_clusters(clusters, summary_corr("pearson"), **boot),
        "summary_spearman": bootstrap_clusters(clusters, summary_corr("spearman"), **boot),
        "system_pearson": bootstrap_clusters(clusters, system_pearson, **boot),
    }


def _cell(triple) -> str:
    point, low, high = triple
    return f"{point:.3f} [{low:.3f}, {high:.3f}]"


def render(results: list[dict], data: str) -> str:
    """The Markdown table of a coverage meta-evaluation."""
    if not results:
        return "no metrics evaluated\n"
    first = results[0]
    lines = [f"Coverage meta-evaluation on `{data}`: test half, {first['test_articles']} articles, "
             f"{first['test_summaries']} summaries, {first['test_units']} units (dev half: "
             f"{first['dev_articles']} articles, thresholds tuned there). 95% bootstrap CIs over articles.", "",
             "| metric | threshold (dev-tuned / config) | unit ROC AUC | unit balanced acc. | summary Pearson "
             "| summary Spearman | system Pearson | seconds |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['metric']} | {r['tuned_threshold']:.3f} / {r['config_threshold']:.3f} | "
                     f"{_cell(r['unit_auc'])} | {_cell(r['unit_balanced_accuracy'])} | {_cell(r['summary_pearson'])} | "
                     f"{_cell(r['summary_spearman'])} | {_cell(r['system_pearson'])} | {r['seconds']} |")
    for name, figures in PUBLISHED.items():
        lines.append(f"| {name} (published) | – | – | – | {figures['summary_pearson']:.3f} | "
                     f"{figures['summary_spearman']:.3f} | {figures['system_pearson']:.3f} | – |")
    return "\n".join(lines) + "\n"
