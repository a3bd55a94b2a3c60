"""Meta-evaluation of factual-consistency scorers on human annotations (QAGS-C, SummaC, SummEval).

Protocol: the articles are split once into a dev half and a test half (seed 0). On dev, each
scorer's threshold is tuned (best balanced accuracy) and the composite's weights are fitted;
every figure is on test, with n and a 95% bootstrap interval over articles (all summaries of an
article resampled together):
- example-level ROC AUC of the summary score against the binary label (the TRUE protocol);
- balanced accuracy at the dev-tuned threshold;
- sentence-level ROC AUC where the data labels sentences (QAGS-C);
- Spearman, Kendall and Pearson with the graded human score where there is one (SummEval,
  QAGS-C's fraction of consistent sentences).
The composite is a logistic regression on the scorers' standardised summary scores, fitted on
the dev half only, reported beside its parts.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
from scipy.optimize import minimize

from harness.meta_eval.consistency_data import ConsistencyExample
from harness.stats.agreement import (
    balanced_accuracy,
    best_threshold,
    bootstrap_clusters,
    dev_test_split,
    kendall,
    pearson,
    roc_auc,
    spearman,
)
from harness.text.sentences import split_sentences

# Published figures on the same test sets (see ../shared/data/README.md for the sources).
PUBLISHED = {
    "cogensumm": "SummaC-ZS BA 70.4 / AUC 73.1; SummaC-Conv 64.7 / 67.6; DAE BA 63.4",
    "factcc": "SummaC-ZS BA 83.8 / AUC 83.7; SummaC-Conv 89.5 / 92.2; DAE BA 75.9",
    "polytope": "SummaC-ZS BA 62.0 / AUC 60.3; SummaC-Conv 62.7 / 62.4; QuestEval BA 70.3",
    "mturk_cnndm": "Spearman with the fraction of consistent sentences: AlignScore-large 73.9, G-Eval (GPT-4) 68.5, "
                   "QAFactEval 63.1",
    "summeval": "Spearman with expert consistency: G-Eval (GPT-4) 0.507, AlignScore-large 0.466, UniEval 0.446, "
                "QAFactEval 0.428, BERTScore ~0.11",
}


def scorer_outputs(metric, examples: list[ConsistencyExample]) -> tuple[np.ndarray, list[list[float]]]:
    """Each example's summary score and sentence scores by ``metric`` (a SentenceConsistency).
    Annotated sentences are scored as given; otherwise the summary is split into sentences."""
    items = [(list(e.sentences) if e.sentences else split_sentences(e.summary), e.article) for e in examples]
    live = [i for i, (sentences, _) in enumerate(items) if sentences]
    judged = dict(zip(live, metric.judge([items[i] for i in live]), strict=True))
    summary = np.array([metric.summary_score(judged[i]) if i in judged else 0.0 for i in range(len(items))])
    sentences = [[j["score"] for j in judged.get(i, [])] for i in range(len(items))]
    return summary, sentences


def fit_composite(features: np.ndarray, labels: np.ndarray, l2: float = 1e-2) -> dict:
    """Logistic regression weights (on standardised features) with a small L2 penalty."""
    mean, std = features.mean(axis=0), features.std(axis=0) + 1e-9
    x = np.hstack([(features - mean) / std, np.ones((len(features), 1))])
    y = labels.astype(float)

    def loss(w):
        z = x @ w
        return float(np.mean(np.logaddexp(0, z) - y * z) + l2 * np.sum(w[:-1] ** 2))

    def grad(w):
        p = 1 / (1 + np.exp(-(x @ w)))
        g = x.T @ (p - y) / len(y)
        g[:-1] += 2 * l2 * w[:-1]
        return g

    w = minimize(loss, np.zeros(x.shape[1]), jac=grad, method="L-BFGS-B").x
    return {"mean": mean.tolist(), "std": std.tolist(), "weights": w[:-1].tolist(), "bias": float(w[-1])}


def apply_composite(model: dict, features: np.ndarray) -> np.ndarray:
    z = (features - np.array(model["mean"])) / np.array(model["std"]) @ np.array(model["weights"]) + model["bias"]
    return 1 / (1 + np.exp(-z))


def evaluate(name: str, summary_scores: np.ndarray, sentence_scores: list[list[float]],
             examples: list[ConsistencyExample], *, seed: int = 0, n_resamples: int = 1000,
             seconds: float | None = None) -> dict:
    dev, test = dev_test_split([e.doc_id for e in examples], seed)
    has_labels = all(e.label is not None for e in examples)
    has_grades = all(e.score is not None for e in examples)
    # Sentence level where the data labels sentences and the scorer scored each of them.
    has_sentence_labels = all(e.sentence_labels is not None and len(e.sentence_labels) == len(sentence_scores[i])
                              for i, e in enumerate(examples))
    labels = np.array([e.label if has_labels else 0 for e in examples])
    dev_idx = [i for i, e in enumerate(examples) if e.doc_id in dev]
    threshold = best_threshold(summary_scores[dev_idx], labels[dev_idx]) if has_labels else None

    by_doc: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        if e.doc_id in test:
            by_doc[e.doc_id].append(i)
    clusters = [{"scores": summary_scores[idx], "labels": labels[idx],
                 "grades": np.array([examples[i].score or 0.0 for i in idx]),
                 "sentence_scores": np.array([s for i in idx for s in sentence_scores[i]]),
                 "sentence_labels": np.array([lab for i in idx for lab in (examples[i].sentence_labels or ())])}
                for idx in (np.array(v) for v in by_doc.values())]

    def cat(key):
        return lambda cs: np.concatenate([c[key] for c in cs])

    scores, labs, grades = cat("scores"), cat("labels"), cat("grades")
    boot = {"n_resamples": n_resamples, "seed": seed}
    out = {"scorer": name, "seconds": seconds, "n_test": int(sum(len(c["scores"]) for c in clusters)),
           "n_test_articles": len(clusters), "n_dev": len(dev_idx), "tuned_threshold": threshold}
    if has_labels:
        out["n_test_consistent"] = int(sum(c["labels"].sum() for c in clusters))
        out["roc_auc"] = bootstrap_clusters(clusters, lambda cs: roc_auc(scores(cs), labs(cs)), **boot)
        out["balanced_accuracy"] = bootstrap_clusters(
            clusters, lambda cs: balanced_accuracy(scores(cs), labs(cs), threshold), **boot)
    if has_grades:
        for corr in (spearman, kendall, pearson):
            out[corr.__name__] = bootstrap_clusters(clusters, lambda cs, f=corr: f(scores(cs), grades(cs)), **boot)
    if has_sentence_labels:
        out["n_test_sentences"] = int(sum(len(c["sentence_scores"]) for c in clusters))
        out["sentence_roc_auc"] = bootstrap_clusters(
            clusters, lambda cs: roc_auc(cat("sentence_scores")(cs), cat("sentence_labels")(cs)), **boot)
    return out


def composite_scores(parts: dict[str, np.ndarray], examples: list[ConsistencyExample], seed: int = 0):
    """(scores of every example, model): the composite fitted on the dev half's labels."""
    dev, _ = dev_test_split([e.doc_id for e in examples], seed)
    features = np.column_stack(list(parts.values()))
    labels = np.array([e.label for e in examples])
    dev_idx = [i for i, e in enumerate(examples) if e.doc_id in dev]
    model = fit_composite(features[dev_idx], labels[dev_idx])
    model["parts"] = list(parts)
    return apply_composite(model, features), model


def run(metrics: dict, examples: list[ConsistencyExample], *, seed: int = 0, n_resamples: int = 1000,
        composite: bool = True) -> list[dict]:
    """Every scorer in ``metrics`` (name -> metric), then the composite of them all."""
    results, parts = [], {}
    for name, metric in metrics.items():
        t0 = time.perf_counter()
        summary, sentences = scorer_outputs(metric, examples)
        parts[name] = summary
        results.append(evaluate(name, summary, sentences, examples, seed=seed, n_resamples=n_resamples,
                                seconds=round(time.perf_counter() - t0, 1)))
    if composite and len(parts) > 1 and all(e.label is not None for e in examples):
        scores, model = composite_scores(parts, examples, seed)
        result = evaluate("composite(" + "+".join(parts) + ")", scores, [[] for _ in examples], examples,
                          seed=seed, n_resamples=n_resamples)
        result["composite"] = model
        results.append(result)
    return results


def _cell(triple) -> str:
    if triple is None:
        return "–"
    point, low, high = triple
    return f"{point:.3f} [{low:.3f}, {high:.3f}]" if np.isfinite(point) else "–"


def render(results: list[dict], data: str, fmt: str) -> str:
    """The Markdown table of one annotated file's meta-evaluation."""
    first = results[0]
    head = (f"`{data}` (format {fmt}): test half {first['n_test']} summaries of {first['n_test_articles']} "
            f"articles" + (f", {first['n_test_consistent']} consistent" if "n_test_consistent" in first else "")
            + (f", {first['n_test_sentences']} sentences" if "n_test_sentences" in first else "")
            + f"; dev half {first['n_dev']} summaries. 95% bootstrap CIs over articles.")
    columns = [c for c in ("roc_auc", "balanced_accuracy", "sentence_roc_auc", "spearman", "kendall", "pearson")
               if c in first]
    lines = [head, "", "| scorer | " + " | ".join(columns) + " | threshold (dev) | seconds |",
             "|---|" + "---|" * (len(columns) + 2)]
    for r in results:
        threshold = f"{r['tuned_threshold']:.3f}" if r.get("tuned_threshold") is not None else "–"
        lines.append(f"| {r['scorer']} | " + " | ".join(_cell(r.get(c)) for c in columns)
                     + f" | {threshold} | {r['seconds'] if r.get('seconds') is not None else '–'} |")
    published = next((text for key, text in PUBLISHED.items() if key in data), None)
    if published:
        lines += ["", f"Published on this set: {published}."]
    return "\n".join(lines) + "\n"
