"""Meta-evaluation of factual-consistency scorers on human annotations (QAGS-C, SummaC, SummEval).

Protocol (``split``, `make_split`): where the threshold comes from and what is test.
- ``half`` (default): the articles are split once into a dev half and a test half (seed 0);
- ``given``: the benchmark's own cut (a ``cut`` column, ``val``/``test``, or a second file as the
  val cut), as the SummaC benchmark, AggreFact and LLM-AggreFact publish and tune on;
- ``none``: every example is test and the threshold is fixed (LLM-AggreFact style; no composite,
  which needs labels to fit on): each scorer's *summary* threshold in the calibration
  (``harness/calibration/shipped.json`` or ``--calibration PATH``), not its sentence flag threshold.
On dev (the dev half or the val cut), each scorer's threshold is tuned (best balanced accuracy)
and the composite's weights are fitted; every figure is on test, with n and a 95% bootstrap
interval over articles (all summaries of an article resampled together):
- example-level ROC AUC of the summary score against the binary label (the TRUE protocol);
- balanced accuracy at the dev-tuned threshold;
- sentence-level ROC AUC where the data labels sentences (QAGS-C);
- Spearman, Kendall and Pearson with the graded human score where there is one (SummEval,
  QAGS-C's fraction of consistent sentences).
The composite is a logistic regression on the scorers' standardised summary scores (scikit-learn's,
L2 penalty 0.01 per unit of mean loss), fitted on the dev part only, reported beside its parts.

Where the data names a ``dataset`` (or ``origin``) per example, balanced accuracy and ROC AUC are
also reported per group, with each group's threshold tuned on that group's dev part (as the
SummaC and AggreFact evaluation code do, one threshold per dataset), and their macro average over
groups (the benchmarks' headline figure), its interval from resampling articles within each group.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from harness.errors import ConfigError, DataError
from harness.meta_eval.consistency_data import ConsistencyExample
from harness.metrics.consistency.base import SentenceConsistency
from harness.metrics.consistency.composite import (
    COMPOSITE_FORMAT,
    CompositeConsistency,
    apply_composite,
    input_fingerprint,
)
from harness.stats.agreement import (
    balanced_accuracy,
    best_threshold,
    bootstrap_clusters,
    bootstrap_macro,
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


# Under which protocol each set's figures were published, and the --split of ours that is the same
# protocol on the same cut: only then are they printed beside ours (`published_lines`).
PUBLISHED_PROTOCOL = {
    "cogensumm": ("the SummaC benchmark's: threshold tuned on the val cut, figures on the test cut", "given"),
    "factcc": ("the SummaC benchmark's: threshold tuned on the val cut, figures on the test cut", "given"),
    "polytope": ("the SummaC benchmark's: threshold tuned on the val cut, figures on the test cut", "given"),
    "mturk_cnndm": ("correlation over all 235 summaries, nothing tuned", "none"),
    "summeval": ("summary-level correlation over all 1,600 summaries, nothing tuned", "none"),
}
DATASETS = tuple(PUBLISHED)

SPLITS = ("half", "given", "none")
THRESHOLD_FROM = {"half": "dev half", "given": "val cut", "none": "config"}


@dataclass(frozen=True)
class Split:
    """Which examples tune (``dev``) and which are reported (``test``), by index."""
    mode: str
    dev: tuple[int, ...]
    test: tuple[int, ...]
    seed: int = 0

    def describe(self) -> str:
        if self.mode == "half":
            return f"split half (seeded half of the articles, seed {self.seed}; thresholds tuned on the dev half)"
        if self.mode == "given":
            return "split given (the data's own cut; thresholds tuned on the val cut)"
        return "split none (every example is test; each metric config's fixed threshold)"


def make_split(examples: list[ConsistencyExample], mode: str = "half", seed: int = 0) -> Split:
    """The dev/test split of ``examples`` under protocol ``mode`` (see SPLITS)."""
    if mode == "half":
        dev, _ = dev_test_split([e.doc_id for e in examples], seed)
        return Split(mode, tuple(i for i, e in enumerate(examples) if e.doc_id in dev),
                     tuple(i for i, e in enumerate(examples) if e.doc_id not in dev), seed)
    if mode == "given":
        missing = [i + 1 for i, e in enumerate(examples) if e.cut is None]
        if missing:
            raise DataError(f"--split given needs a 'cut' field (val or test) on every record; record {missing[0]} "
                            f"has none ({len(missing)} without): add the column, give the val cut as a second "
                            "file with --dev FILE, or use --split half")
        dev = tuple(i for i, e in enumerate(examples) if e.cut == "val")
        test = tuple(i for i, e in enumerate(examples) if e.cut == "test")
        if not dev or not test:
            raise DataError(f"--split given needs both cuts: {len(dev)} val and {len(test)} test records; "
                            "give the val cut with --dev FILE or use --split half")
        return Split(mode, dev, test, seed)
    if mode == "none":
        return Split(mode, (), tuple(range(len(examples))), seed)
    raise DataError(f"unknown split {mode!r}: use one of {', '.join(SPLITS)}")


def check_scorers(metrics: dict) -> None:
    """Refuse, before anything is scored, a metric that is not a consistency scorer (``rouge``)."""
    for name, metric in metrics.items():
        if not isinstance(metric, (SentenceConsistency, CompositeConsistency)):
            raise ConfigError(f"--metrics {name}: not a consistency scorer ({type(metric).__name__}); the consistency "
                              "meta-eval takes sentence-level scorers (consistency_embedding, consistency_entity, "
                              "consistency_lemmas, consistency_claims, ...) and consistency_composite")


def scorer_outputs(metric, examples: list[ConsistencyExample],
                   known: dict | None = None) -> tuple[np.ndarray, list[list[float]]]:
    """Each example's summary score and sentence scores by ``metric`` (a SentenceConsistency).
    Annotated sentences are scored as given; otherwise the summary is split into sentences.
    A saved composite is scored from its inputs (their summary scores, taken from ``known``,
    name -> (summary, sentences), where already computed) with its saved weights."""
    if isinstance(metric, CompositeConsistency):
        known = known or {}
        columns = [(known[name] if name in known else scorer_outputs(m, examples))[0]
                   for name, m in metric.inputs.items()]
        return apply_composite(metric.model, np.column_stack(columns)), [[] for _ in examples]
    items = [(list(e.sentences) if e.sentences else split_sentences(e.summary), e.article) for e in examples]
    live = [i for i, (sentences, _) in enumerate(items) if sentences]
    judged = dict(zip(live, metric.judge([items[i] for i in live]), strict=True))
    summary = np.array([metric.summary_score(judged[i]) if i in judged else 0.0 for i in range(len(items))])
    sentences = [[j["score"] for j in judged.get(i, [])] for i in range(len(items))]
    return summary, sentences


def fit_composite(features: np.ndarray, labels: np.ndarray, l2: float = 1e-2) -> dict:
    """Logistic regression weights (on standardised features) with a small L2 penalty: mean log
    loss + ``l2`` * sum of squared weights (the bias unpenalised), which is scikit-learn's
    ``C = 1 / (2 * n * l2)``."""
    from sklearn.linear_model import LogisticRegression

    if len(set(labels.tolist())) < 2:
        raise DataError("the composite is fitted on labelled examples of both kinds (consistent and not); "
                        f"these {len(labels)} are all {labels[0]}")
    mean, std = features.mean(axis=0), features.std(axis=0) + 1e-9
    fit = LogisticRegression(C=1 / (2 * len(labels) * l2), tol=1e-10, max_iter=10_000).fit(
        (features - mean) / std, labels.astype(int))
    return {"mean": mean.tolist(), "std": std.tolist(), "weights": fit.coef_[0].tolist(),
            "bias": float(fit.intercept_[0])}


def _clusters(idx: list[int], examples, summary_scores, labels, sentence_scores) -> list[dict]:
    """The test examples ``idx`` grouped by article: the units the bootstrap resamples."""
    by_doc: dict[str, list[int]] = defaultdict(list)
    for i in idx:
        by_doc[examples[i].doc_id].append(i)
    return [{"scores": summary_scores[ix], "labels": labels[ix],
             "grades": np.array([examples[i].score or 0.0 for i in ix]),
             "sentence_scores": np.array([s for i in ix for s in sentence_scores[i]]),
             "sentence_labels": np.array([lab for i in ix for lab in (examples[i].sentence_labels or ())])}
            for ix in (np.array(v) for v in by_doc.values())]


def _cat(key):
    return lambda cs: np.concatenate([c[key] for c in cs])


def _tune(summary_scores, labels, dev: list[int], fixed: float | None) -> float | None:
    return best_threshold(summary_scores[dev], labels[dev]) if dev else fixed


def evaluate(name: str, summary_scores: np.ndarray, sentence_scores: list[list[float]],
             examples: list[ConsistencyExample], *, split: Split | None = None, fixed_threshold: float | None = None,
             seed: int = 0, n_resamples: int = 1000, seconds: float | None = None) -> dict:
    """Every figure of one scorer on the test part of ``split`` (default: the seeded half split);
    ``fixed_threshold`` is the threshold where the split has no dev part (``none``)."""
    split = split or make_split(examples, "half", seed)
    summary_scores = np.asarray(summary_scores, dtype=float)
    has_labels = all(e.label is not None for e in examples)
    has_grades = all(e.score is not None for e in examples)
    # Sentence level where the data labels sentences and the scorer scored each of them.
    has_sentence_labels = all(e.sentence_labels is not None and len(e.sentence_labels) == len(sentence_scores[i])
                              for i, e in enumerate(examples))
    labels = np.array([e.label if has_labels else 0 for e in examples])
    dev = list(split.dev)
    threshold = _tune(summary_scores, labels, dev, fixed_threshold) if has_labels else None
    clusters = _clusters(list(split.test), examples, summary_scores, labels, sentence_scores)
    scores, labs, grades = _cat("scores"), _cat("labels"), _cat("grades")
    boot = {"n_resamples": n_resamples, "seed": seed}
    out = {"scorer": name, "seconds": seconds, "split": split.mode, "threshold_from": THRESHOLD_FROM[split.mode],
           "n_test": int(sum(len(c["scores"]) for c in clusters)), "n_test_articles": len(clusters),
           "n_dev": len(dev), "tuned_threshold": threshold}
    if has_labels:
        out["n_test_consistent"] = int(sum(c["labels"].sum() for c in clusters))
        out["roc_auc"] = bootstrap_clusters(clusters, lambda cs: roc_auc(scores(cs), labs(cs)), **boot)
        if threshold is not None:
            out["balanced_accuracy"] = bootstrap_clusters(
                clusters, lambda cs: balanced_accuracy(scores(cs), labs(cs), threshold), **boot)
    if has_grades:
        for corr in (spearman, kendall, pearson):
            out[corr.__name__] = bootstrap_clusters(clusters, lambda cs, f=corr: f(scores(cs), grades(cs)), **boot)
    if has_sentence_labels:
        out["n_test_sentences"] = int(sum(len(c["sentence_scores"]) for c in clusters))
        out["sentence_roc_auc"] = bootstrap_clusters(
            clusters, lambda cs: roc_auc(_cat("sentence_scores")(cs), _cat("sentence_labels")(cs)), **boot)
    if has_labels and any(e.group is not None for e in examples):
        out.update(_by_group(summary_scores, sentence_scores, labels, examples, split, fixed_threshold, boot))
    return out


def _by_group(summary_scores, sentence_scores, labels, examples, split: Split, fixed_threshold, boot) -> dict:
    """Per dataset/origin group: n, threshold (tuned on the group's dev part), balanced accuracy and
    ROC AUC on its test part; and their macro averages over the groups."""
    scores, labs = _cat("scores"), _cat("labels")
    groups, strata_ba, strata_auc = {}, [], []
    for group in sorted({str(e.group) for e in examples}):
        dev = [i for i in split.dev if str(examples[i].group) == group]
        test = [i for i in split.test if str(examples[i].group) == group]
        if not test:
            continue
        threshold = _tune(summary_scores, labels, dev, fixed_threshold)
        clusters = _clusters(test, examples, summary_scores, labels, sentence_scores)
        auc = lambda cs: roc_auc(scores(cs), labs(cs))  # noqa: E731
        row = {"n_test": len(test), "n_test_consistent": int(labels[test].sum()), "n_dev": len(dev),
               "threshold": threshold, "roc_auc": bootstrap_clusters(clusters, auc, **boot)}
        strata_auc.append((clusters, auc))
        if threshold is not None:
            ba = lambda cs, t=threshold: balanced_accuracy(scores(cs), labs(cs), t)  # noqa: E731
            row["balanced_accuracy"] = bootstrap_clusters(clusters, ba, **boot)
            strata_ba.append((clusters, ba))
        groups[group] = row
    out = {"groups": groups}
    if strata_ba and len(strata_ba) == len(groups):
        out["macro_balanced_accuracy"] = bootstrap_macro(strata_ba, **boot)
    if strata_auc:
        out["macro_roc_auc"] = bootstrap_macro(strata_auc, **boot)
    return out


def composite_scores(parts: dict[str, np.ndarray], examples: list[ConsistencyExample], seed: int = 0,
                     split: Split | None = None):
    """(scores of every example, model): the composite fitted on the dev part's labels only."""
    split = split or make_split(examples, "half", seed)
    features = np.column_stack(list(parts.values()))
    labels = np.array([e.label for e in examples])
    dev = list(split.dev)
    model = fit_composite(features[dev], labels[dev])
    model["parts"] = list(parts)
    model["fitted_on"] = f"{THRESHOLD_FROM[split.mode]} ({len(dev)} examples)"
    return apply_composite(model, features), model


def run(metrics: dict, examples: list[ConsistencyExample], *, split: str | Split = "half", seed: int = 0,
        n_resamples: int = 1000, composite: bool = True, outputs: dict | None = None,
        fixed_thresholds: dict | None = None) -> list[dict]:
    """Every scorer in ``metrics`` (name -> metric), then the composite of them all (not under
    split ``none``: nothing to fit it on). ``outputs``, where given, receives each scorer's
    (summary scores, sentence scores) by name and the composite's scores (``composite``): what
    `audit_rows` saves per example. ``fixed_thresholds`` (name -> threshold) is each scorer's
    threshold on the summary score where the split tunes none (the calibration's summary threshold);
    a scorer not in it uses its own ``threshold``."""
    split = split if isinstance(split, Split) else make_split(examples, split, seed)
    results, parts = [], {}
    outputs = {} if outputs is None else outputs
    outputs.setdefault("scorers", {})
    check_scorers(metrics)
    for name, metric in metrics.items():
        t0 = time.perf_counter()
        summary, sentences = scorer_outputs(metric, examples, outputs["scorers"])
        parts[name] = summary
        outputs["scorers"][name] = (summary, sentences)
        results.append(evaluate(name, summary, sentences, examples, split=split,
                                fixed_threshold=(fixed_thresholds or {}).get(name, getattr(metric, "threshold", None)),
                                seed=seed,
                                n_resamples=n_resamples, seconds=round(time.perf_counter() - t0, 1)))
    fittable = {name: part for name, part in parts.items() if not isinstance(metrics[name], CompositeConsistency)}
    labelled = all(e.label is not None for e in examples)
    both = labelled and len({examples[i].label for i in split.dev}) == 2  # a fit needs both labels on dev
    if composite and split.dev and len(fittable) > 1 and both:
        parts = fittable
        scores, model = composite_scores(parts, examples, seed, split)
        result = evaluate("composite(" + "+".join(parts) + ")", scores, [[] for _ in examples], examples,
                          split=split, seed=seed, n_resamples=n_resamples)
        model["threshold"] = result["tuned_threshold"]
        model["split"], model["seed"], model["n_dev"] = split.mode, seed, len(split.dev)
        model["inputs"] = [{"metric": name, "key": getattr(metric, "key", None),
                            "describe": input_fingerprint(metric)} for name, metric in metrics.items() if name in parts]
        result["composite"] = model
        outputs["composite"] = scores
        results.append(result)
    return results


# --- What --out saves beside the tables, so that anyone can re-threshold or audit without rescoring.

def split_record(split: Split, examples: list[ConsistencyExample]) -> dict:
    """The split as data: mode, seed, dev/test example indices and article ids."""
    return {"mode": split.mode, "seed": split.seed, "describe": split.describe(),
            "dev": list(split.dev), "test": list(split.test),
            "dev_doc_ids": sorted({examples[i].doc_id for i in split.dev}),
            "test_doc_ids": sorted({examples[i].doc_id for i in split.test})}


def thresholds_record(results: list[dict]) -> dict:
    """Each scorer's threshold (and where it came from), and each group's."""
    return {r["scorer"]: {"threshold": r.get("tuned_threshold"), "threshold_from": r.get("threshold_from"),
                          "groups": {g: row.get("threshold") for g, row in (r.get("groups") or {}).items()}}
            for r in results}


def audit_rows(examples: list[ConsistencyExample], split: Split, outputs: dict) -> list[dict]:
    """One row per example: where it is (index, line, doc_id, part of the split, cut, group), its
    human labels and every scorer's summary and sentence scores (and the composite's)."""
    part = {**{i: "dev" for i in split.dev}, **{i: "test" for i in split.test}}
    rows = []
    for i, e in enumerate(examples):
        row = {"index": i, "line": e.line, "doc_id": e.doc_id, "part": part.get(i), "cut": e.cut, "group": e.group,
               "label": e.label, "score": e.score, "sentence_labels": list(e.sentence_labels or []) or None,
               "scores": {name: float(summary[i]) for name, (summary, _) in outputs.get("scorers", {}).items()},
               "sentence_scores": {name: [float(x) for x in sentences[i]]
                                   for name, (_, sentences) in outputs.get("scorers", {}).items()}}
        if "composite" in outputs:
            row["scores"]["composite"] = float(outputs["composite"][i])
        rows.append(row)
    return rows


def composite_record(model: dict, data: list[dict]) -> dict:
    """A fitted composite as the file `harness.metrics.consistency.composite` loads: its inputs
    (conf names, keys, config fingerprints), the logistic model, its threshold, what it was fitted on."""
    return {"format": COMPOSITE_FORMAT, "inputs": model["inputs"],
            "model": {k: model[k] for k in ("mean", "std", "weights", "bias")},
            "threshold": model.get("threshold"), "fitted_on": model["fitted_on"], "split": model.get("split"),
            "seed": model.get("seed"), "n_dev": model.get("n_dev"), "data": data}


def dataset_name(examples: list[ConsistencyExample], given: str | None = None) -> str | None:
    """The dataset whose published figures apply: ``given`` (``--dataset``), else the ``dataset``
    field where every example names the same one; never guessed from the file's path."""
    if given:
        if given not in PUBLISHED:
            raise DataError(f"unknown dataset {given!r} for published figures: one of {', '.join(DATASETS)}")
        return given
    names = {e.dataset for e in examples}
    return next(iter(names)) if len(names) == 1 and None not in names else None


def published_lines(dataset: str | None, split_mode: str) -> list[str]:
    """Published figures for ``dataset``, with the protocol they were published under: beside ours
    when our protocol (``split_mode``) is the same, else the line that says they are not comparable."""
    if dataset not in PUBLISHED:
        return []
    protocol, same = PUBLISHED_PROTOCOL[dataset]
    ours = f"--split {split_mode} ({THRESHOLD_FROM[split_mode]})"
    if split_mode == same:
        return [f"Published on {dataset} (protocol: {protocol}; ours: {ours}, the same): {PUBLISHED[dataset]}."]
    return [f"Published on {dataset}: not comparable: published under {protocol} (our --split {same}), "
            f"ours under {ours}; for reference only: {PUBLISHED[dataset]}."]


def _cell(triple) -> str:
    if triple is None:
        return "–"
    point, low, high = triple
    return f"{point:.3f} [{low:.3f}, {high:.3f}]" if np.isfinite(point) else "–"


def render(results: list[dict], data: str, fmt: str, split: Split | None = None, dataset: str | None = None) -> str:
    """The Markdown tables of one annotated file's meta-evaluation: every scorer on the test part,
    then, where the data has dataset/origin groups, each group and the macro average; then the
    published figures of ``dataset`` (see `published_lines`), if any."""
    first = results[0]
    mode = first.get("split", "half")
    part = {"half": "test half", "given": "test cut", "none": "all test"}[mode]
    dev = {"half": "dev half", "given": "val cut"}.get(mode)
    unit = "sentences" if fmt == "marks" else "summaries"  # an editor's verdict labels one sentence
    head = (f"`{data}` (format {fmt}; {split.describe() if split else 'split ' + mode}): {part} {first['n_test']} "
            f"{unit} of {first['n_test_articles']} articles"
            + (f", {first['n_test_consistent']} consistent" if "n_test_consistent" in first else "")
            + (f", {first['n_test_sentences']} sentences" if "n_test_sentences" in first and fmt != "marks" else "")
            + (f"; {dev} {first['n_dev']} {unit}" if dev else "") + ". 95% bootstrap CIs over articles.")
    columns = [c for c in ("roc_auc", "balanced_accuracy", "macro_balanced_accuracy", "sentence_roc_auc",
                           "spearman", "kendall", "pearson") if c in first]
    lines = [head, "", "| scorer | protocol | " + " | ".join(columns) + " | threshold | seconds |",
             "|---|---|" + "---|" * (len(columns) + 2)]
    for r in results:
        threshold = (f"{r['tuned_threshold']:.3f} ({r.get('threshold_from', 'dev half')})"
                     if r.get("tuned_threshold") is not None else "–")
        lines.append(f"| {r['scorer']} | {r.get('split', mode)} | " + " | ".join(_cell(r.get(c)) for c in columns)
                     + f" | {threshold} | {r['seconds'] if r.get('seconds') is not None else '–'} |")
    grouped = [r for r in results if r.get("groups")]
    if grouped:
        lines += ["", "By dataset/origin (threshold tuned per group on its own "
                  + (f"{dev}" if dev else "config threshold") + "; macro = mean over groups):", "",
                  "| scorer | group | n test (consistent) | balanced_accuracy | roc_auc | threshold |",
                  "|---|---|---|---|---|---|"]
        for r in grouped:
            for group, g in r["groups"].items():
                threshold = f"{g['threshold']:.3f}" if g.get("threshold") is not None else "–"
                lines.append(f"| {r['scorer']} | {group} | {g['n_test']} ({g['n_test_consistent']}) | "
                             f"{_cell(g.get('balanced_accuracy'))} | {_cell(g.get('roc_auc'))} | {threshold} |")
            lines.append(f"| {r['scorer']} | **macro average** | {r['n_test']} | "
                         f"{_cell(r.get('macro_balanced_accuracy'))} | {_cell(r.get('macro_roc_auc'))} | – |")
    published = published_lines(dataset, mode)
    if published:
        lines += ["", *published]
    composite = next((r["composite"] for r in results if r.get("composite")), None)
    if composite:
        lines += ["", f"Composite: logistic regression on {', '.join(i['metric'] for i in composite['inputs'])} "
                  f"(standardised), fitted on the {composite['fitted_on']}; weights "
                  + ", ".join(f"{i['metric']} {w:+.3f}" for i, w in zip(composite["inputs"], composite["weights"],
                                                                        strict=True))
                  + f", bias {composite['bias']:+.3f}."]
    return "\n".join(lines) + "\n"


def data_record(files: list) -> list[dict]:
    """Each data file and its SHA-256 (the audit's proof of which data the figures are on)."""
    from harness.models.model_source import file_sha256

    return [{"path": str(f), "sha256": file_sha256(str(f))} for f in files if f]


def fitted_composite(results: list[dict], data: list[dict]) -> dict | None:
    """The saveable record of the composite in ``results`` (None where none was fitted)."""
    model = next((r["composite"] for r in results if r.get("composite")), None)
    return composite_record(model, data) if model else None


def write_audit(out, examples: list[ConsistencyExample], split: Split, results: list[dict], outputs: dict,
                data: list[dict], fmt: str, dataset: str | None) -> list:
    """Beside meta_eval.json: ``examples.jsonl`` (per-example labels and scores), ``audit.json``
    (format, dataset, data hashes, the split, the thresholds) and, where fitted, ``composite.json``
    (usable by the ``consistency_composite`` metric). Atomic writes; returns the paths written."""
    from pathlib import Path

    from harness.io import write_json_atomic, write_jsonl_atomic

    out = Path(out)
    written = [out / "examples.jsonl", out / "audit.json"]
    write_jsonl_atomic(written[0], audit_rows(examples, split, outputs))
    write_json_atomic(written[1], {"format": fmt, "dataset": dataset, "data": data, "n_examples": len(examples),
                                   "split": split_record(split, examples), "thresholds": thresholds_record(results)})
    composite = fitted_composite(results, data)
    if composite:
        written.append(out / "composite.json")
        write_json_atomic(written[-1], composite)
    return written
