"""Flags measured on human text: how often a sentence-consistency scorer flags sentences that
people wrote, and how many of the sentences people judged unsupported its flags find, at the
scorer's shipped ``threshold`` (below it a sentence is flagged; see consistency/base.py). The
threshold itself is chosen across data sets by `harness.meta_eval.transfer` (never here):

- **Reference sentences** (CNN/DM human text): SummEval's human references (100 CNN/DM
  articles, 11 references each: the original highlights and 10 written for SummEval), split into
  sentences and scored against their article: the share flagged is the false-flag rate on text
  people wrote.
- **Detection**: QAGS-C's 714 summary sentences, each labelled by the majority of 3 workers: of
  the sentences people judged unsupported, the share flagged (recall), of the flagged ones the
  share people judged unsupported (precision), and balanced accuracy.

Shares carry a 95% Wilson interval over sentences (sentences of one summary are not independent,
so the intervals are somewhat narrow). Run: ``python -m harness.meta_eval.flags`` (``--help``).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

from harness.io import read_jsonl
from harness.text.sentences import split_sentences

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@dataclass(frozen=True)
class Sentences:
    """Sentences to score: per item, its article id, article text and sentences (and labels, 1 = supported)."""

    doc_ids: tuple[str, ...]
    items: tuple[tuple[tuple[str, ...], str], ...]
    labels: tuple[tuple[int, ...], ...] | None = None


def reference_sentences(summeval: str | Path) -> Sentences:
    """Every human reference of every SummEval article, split into sentences."""
    seen, doc_ids, items = set(), [], []
    for row in read_jsonl(summeval):
        if row["doc_id"] in seen:
            continue
        seen.add(row["doc_id"])
        for reference in row["references"]:
            sentences = tuple(split_sentences(reference))
            if sentences:
                doc_ids.append(row["doc_id"])
                items.append((sentences, row["article"]))
    return Sentences(tuple(doc_ids), tuple(items))


def labelled_sentences(qags: str | Path) -> Sentences:
    """QAGS-C's summary sentences with their majority labels (1 = consistent)."""
    from harness.meta_eval.consistency_data import read_consistency

    _, examples = read_consistency(qags, "qags")
    return Sentences(tuple(e.doc_id for e in examples), tuple((e.sentences, e.article) for e in examples),
                     tuple(e.sentence_labels for e in examples))


def sentence_scores(metric, data: Sentences) -> list[list[float]]:
    """Each item's per-sentence scores by ``metric`` (a SentenceConsistency)."""
    judged = metric.judge([(list(sentences), article) for sentences, article in data.items])
    return [[j["score"] for j in item] for item in judged]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of the proportion k/n."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def share_flagged(scores: list[float], flag_below: float) -> dict:
    k = sum(s < flag_below for s in scores)
    return {"flagged": k, "n": len(scores), "share": k / len(scores) if scores else float("nan"),
            "ci": wilson(k, len(scores))}


def detection(scores: list[float], labels: list[int], flag_below: float) -> dict:
    """Flags against people's labels: a flag is right when people judged the sentence unsupported (0)."""
    flagged = [s < flag_below for s in scores]
    unsupported = [label == 0 for label in labels]
    hits = sum(f and u for f, u in zip(flagged, unsupported, strict=True))
    false_alarms = sum(f and not u for f, u in zip(flagged, unsupported, strict=True))
    positives, negatives = sum(unsupported), len(labels) - sum(unsupported)
    recall = hits / positives if positives else float("nan")
    specificity = (negatives - false_alarms) / negatives if negatives else float("nan")
    return {"n": len(labels), "unsupported": positives, "flagged": sum(flagged),
            "recall": recall, "recall_ci": wilson(hits, positives),
            "precision": hits / sum(flagged) if any(flagged) else float("nan"),
            "balanced_accuracy": (recall + specificity) / 2}


def evaluate(name: str, metric, references: Sentences, labelled: Sentences) -> dict:
    """``metric``'s flags at its threshold on the reference sentences and the labelled ones."""
    reference_scores = [s for item in sentence_scores(metric, references) for s in item]
    labelled_scores = [s for item in sentence_scores(metric, labelled) for s in item]
    labels = [label for item in labelled.labels for label in item]
    return {"metric": name, "threshold": metric.threshold,
            "references": share_flagged(reference_scores, metric.threshold),
            "detection": detection(labelled_scores, labels, metric.threshold)}


def _pct(value: float) -> str:
    return "–" if value != value else f"{100 * value:.1f}%"


def render(results: list[dict]) -> str:
    lines = ["| scorer | flag below | human reference sentences flagged (SummEval, CNN/DM) | QAGS-C unsupported "
             "sentences flagged (recall) | flags right (precision) | balanced accuracy |",
             "|---|---|---|---|---|---|"]
    for r in results:
        ref, det = r["references"], r["detection"]
        lines.append(f"| {r['metric']} | {r['threshold']:.3f} | {_pct(ref['share'])} of {ref['n']} "
                     f"[{_pct(ref['ci'][0])}, {_pct(ref['ci'][1])}] | {_pct(det['recall'])} of "
                     f"{det['unsupported']} [{_pct(det['recall_ci'][0])}, {_pct(det['recall_ci'][1])}] | "
                     f"{_pct(det['precision'])} of {det['flagged']} | {det['balanced_accuracy']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.meta_eval.flags", description=__doc__.splitlines()[0])
    parser.add_argument("--summeval", type=Path, default=DEFAULT_DATA / "summeval" / "summeval.jsonl")
    parser.add_argument("--qags", type=Path, default=DEFAULT_DATA / "qags" / "mturk_cnndm.jsonl")
    parser.add_argument("--metrics", default="consistency_embedding,consistency_entity,consistency_lemmas,"
                                              "consistency_claims")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    options = parser.parse_args(argv)
    from harness.config import load_metric

    references, labelled = reference_sentences(options.summeval), labelled_sentences(options.qags)
    results = [evaluate(name, load_metric(name), references, labelled) for name in options.metrics.split(",")]
    print(render(results))
    if options.out:
        from harness.io import write_json_atomic

        write_json_atomic(options.out, {"summeval": str(options.summeval), "qags": str(options.qags),
                                        "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
