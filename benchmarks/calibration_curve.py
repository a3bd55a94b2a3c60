"""How many labels does ``harness calibrate`` need? The learning curve, and the no-label check's table.

Usage: .venv/bin/python benchmarks/calibration_curve.py [--data-dir ../shared/data] [--draws 20]
       [--prior N] [--base held-out|shipped] [--split-none] [--drift [--human]]
       [--baseline runs/baselines/default.json]

Reads each labelled set's scores of the four scorers from the meta-eval's cache (runs/.cache/meta_eval,
written by the lodo command in docs/meta-eval-consistency.md; missing entries are computed, 12-16
minutes for all six files on 2 cores). Prints, per set: the composite's balanced accuracy on the
other half of its articles after calibrating on K labelled summaries of the first half (K = 0: the
calibration chosen by leaving that set out), threshold only and refit, mean [10%, 90%] over the
draws (harness/calibration/curve.py). With --drift: the no-label check's statistic per set and
scorer against the other sets (harness/calibration/drift.py), and on the runs of a baseline file
(the default sweep's) against the shipped calibration.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETS = ("qags/mturk_cnndm.jsonl", "summeval/summeval.jsonl", "summac/cogensumm_test.jsonl",
        "summac/factcc_test.jsonl", "summac/polytope_test.jsonl", "summac/xsumfaith_test.jsonl")
SCORERS = ("consistency_embedding", "consistency_entity", "consistency_lemmas", "consistency_claims")


def score_table(metrics: dict, datasets: list, cache_dir: str) -> dict:
    """The lodo score table, read from the meta-eval cache. An entry is keyed by the scorer's
    fingerprint, which includes the source of every module it imports (harness/models/model_source.py
    among them): where the exact entry is missing but the same scorer config scored the same file
    under an earlier fingerprint, that entry is read (noted on stderr) rather than 15 minutes spent
    recomputing scores that an edit elsewhere in the package did not change; else it is computed."""
    import numpy as np

    from harness.meta_eval import transfer
    from harness.metrics.score_cache import metric_fingerprint

    table: dict = {name: {} for name in metrics}
    for name, metric in metrics.items():
        fingerprint = metric_fingerprint(name, metric)
        for d in datasets:
            exact = Path(cache_dir) / name / f"{fingerprint[:24]}-{d.sha256[:24]}.json"
            entry = transfer._read_entry(exact, len(d.examples))
            if entry is None:
                for other in sorted(Path(cache_dir, name).glob(f"*-{d.sha256[:24]}.json"),
                                    key=lambda p: p.stat().st_mtime, reverse=True):
                    entry = transfer._read_entry(other, len(d.examples))
                    if entry is not None:
                        print(f"note: {name} on {d.name}: read {other.name} (an earlier fingerprint of this scorer)",
                              file=sys.stderr)
                        break
            if entry is None:
                table[name].update(transfer.scores({name: metric}, [d], cache_dir)[name])
                continue
            table[name][d.name] = {"summary": np.array(entry["summary"], dtype=float),
                                   "sentences": entry["sentences"], "seconds": entry["seconds"]}
    return table


def human_summaries(data_dir: Path) -> dict:
    """Label -> ConsistencyExamples of human (or human-approved) summaries, read in place: SummEval's
    first reference of each article (the original CNN/DM highlights) and, per XSumFaith article, its
    first summary judged consistent."""
    from harness.meta_eval.consistency_data import ConsistencyExample

    highlights, seen = [], set()
    for line in (data_dir / "summeval" / "summeval.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        if row["doc_id"] not in seen:
            seen.add(row["doc_id"])
            highlights.append(ConsistencyExample(row["doc_id"], row["article"], row["references"][0]))
    xsum, seen = [], set()
    for line in (data_dir / "summac" / "xsumfaith_test.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        if row["label"] == 1 and row["bbcid"] not in seen:
            seen.add(row["bbcid"])
            xsum.append(ConsistencyExample(str(row["bbcid"]), row["document"], row["claim"]))
    return {"SummEval human highlights (CNN/DM), as a bullets run": highlights,
            "XSumFaith summaries judged consistent, one per article": xsum}


def main() -> int:
    from harness.calibration import curve, drift
    from harness.calibration.file import read_calibration
    from harness.config import load_metric
    from harness.meta_eval import transfer
    from harness.meta_eval.consistency import scorer_outputs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--cache-dir", default=str(ROOT / "runs" / ".cache" / "meta_eval"))
    parser.add_argument("--draws", type=int, default=curve.DRAWS)
    parser.add_argument("--prior", type=float, default=None,
                        help="a fixed prior (default: the calibrate command's rule, harness/calibration/fit.py)")
    parser.add_argument("--sets", help="comma-separated set names (default: all six)")
    parser.add_argument("--base", choices=["held-out", "shipped"], default="held-out",
                        help="the calibration K=0 stands for and every calibration shrinks toward: the one the "
                             "shipped procedure chooses with the set left out (default: what a user gets on data "
                             "it never saw), or the shipped file itself (chosen with the set in: optimistic)")
    parser.add_argument("--drift", action="store_true", help="print the no-label check's table instead")
    parser.add_argument("--human", action="store_true",
                        help="--drift: also human-written or human-approved summaries, scored here (2 minutes): "
                             "SummEval's original CNN/DM highlights (one per article) and one XSumFaith summary "
                             "judged consistent per article, as a bullets run would hold them")
    parser.add_argument("--split-none", action="store_true",
                        help="print each scorer's balanced accuracy on every whole set at the shipped summary "
                             "threshold and at the flag threshold (what meta-eval --split none used to apply)")
    parser.add_argument("--baseline", default=str(ROOT / "runs" / "baselines" / "default.json"),
                        help="--drift: also the runs of this baseline file (the default sweep)")
    options = parser.parse_args()
    datasets = transfer.read_datasets([str(Path(options.data_dir) / s) for s in SETS])
    metrics = {name: load_metric(name) for name in SCORERS}
    table = score_table(metrics, datasets, options.cache_dir)
    names = list(SCORERS)
    if options.drift:
        rows = curve.drift_table(table, datasets, names)
        shipped = read_calibration()
        references = drift.scorer_references(shipped.content)
        baseline = Path(options.baseline)
        if baseline.is_file():
            from harness.results.sweep import load_runs

            for run in load_runs([baseline]).runs:  # labelled as the baseline's sweep labelled them
                by_scorer = {}
                for n in names:
                    column = f"consistency/score@{metrics[n].key}"
                    values = [s[column] for s in run.scores.values() if column in s]
                    if values:
                        by_scorer[n] = drift.check(values, references[n])
                if by_scorer:
                    rows[f"default sweep: {run.label}"] = by_scorer
        if options.human:
            for label, examples in human_summaries(Path(options.data_dir)).items():
                by_scorer = {}
                for n in (n for n in names if n != "consistency_lemmas"):  # the default metrics' scorers
                    summary, _ = scorer_outputs(metrics[n], examples)
                    by_scorer[n] = drift.check(summary, references[n])
                rows[label] = by_scorer
        print(f"Position of each set's median summary score among the other sets' summaries (median over them); "
              f"the rule fires below {100 * drift.CUT:.0f}% (n >= {drift.MIN_SUMMARIES}):\n")
        print(curve.render_drift(rows, names))
        return 0
    if options.split_none:
        from harness.stats.agreement import balanced_accuracy

        shipped = read_calibration()
        print("Balanced accuracy (points) on each whole set, summary score judged at the shipped calibration's "
              "summary threshold / at its sentence flag threshold (the calibration was chosen on all six sets, "
              "these included):\n")
        print("| set | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
        for d in datasets:
            cells = []
            for n in names:
                scores = table[n][d.name]["summary"]
                at_summary = balanced_accuracy(scores, d.labels, shipped.summary_threshold(n))
                at_flag = balanced_accuracy(scores, d.labels, shipped.threshold(n, "flag"))
                cells.append(f"{100 * at_summary:.1f} / {100 * at_flag:.1f}")
            print(f"| {d.name} | " + " | ".join(cells) + " |")
        return 0
    inputs = read_calibration().composite["inputs"]
    wanted = set(options.sets.split(",")) if options.sets else None
    curves = {}
    for d in datasets:
        if wanted and d.name not in wanted:
            continue
        base = (curve.base_without(table, datasets, d.name, names, transfer.FLAG_RATE, inputs)
                if options.base == "held-out" else read_calibration().content)
        data = curve.labelled_set(table, d, names)
        curves[d.name] = curve.curve(data, base, draws=options.draws, prior=options.prior,
                                     shipped=read_calibration().content)
        print(f"{d.name}: done", file=sys.stderr)
    prior = "the rule's" if options.prior is None else f"{options.prior:g}"
    print(f"Composite balanced accuracy (points) on the held-out half, after calibrating on K summaries of the "
          f"other half (>= {curve.MIN_EACH} of each label; prior {prior}); mean [10%, 90%] over "
          f"{options.draws} draws; K=0: the base calibration ("
          + ("chosen with the set left out" if options.base == "held-out" else "the shipped file")
          + "); shipped: the shipped calibration (chosen on all six sets, this one included, so optimistic "
          "here).\n")
    print(curve.render_curve(curves))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
