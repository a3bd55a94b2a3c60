"""``harness calibrate``: a calibration chosen on labelled examples of the data at hand.

``harness calibrate --data FILE --out PATH`` (a labelled file in any format meta-eval reads), or
``--marks DIR|marks.json`` (the sentence verdicts editors gave on ``harness review``'s page; a
directory means its marks.json): every scorer of the base calibration (``--base``, default the
shipped one) scores the examples, then `harness.calibration.fit` chooses every threshold and, unless
``--threshold-only``, refits the composite, each shrunk toward the base; the figures are
cross-validated on the same examples (folds by article). The calibration is written atomically to
``--out`` (never over its own input or the shipped calibration); a run uses it with
``calibration=PATH``, meta-eval with ``--calibration PATH``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from harness.errors import DataError, HarnessError


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``harness calibrate``, declared on ``p`` (the parser `harness.cli` builds)."""
    p.add_argument("source", nargs="?", help="a review directory (its marks.json) or a marks.json file")
    p.add_argument("--data", help="a labelled file (formats qags, summac, summeval; detected when not given)")
    p.add_argument("--format", choices=["qags", "summac", "summeval"], help="--data's format")
    p.add_argument("--marks", help="harness review's marks.json, or the directory holding it")
    p.add_argument("--runs", nargs="+", help="--marks: the run or sweep directories the marks were made on "
                                             "(default: the marks file's directory)")
    p.add_argument("--out", required=True, help="where to write the calibration (JSON)")
    p.add_argument("--base", help="the calibration to start from and shrink toward (default: the shipped one)")
    p.add_argument("--name", help="the calibration's name (default: --out's file name without .json)")
    p.add_argument("--threshold-only", action="store_true",
                   help="choose the thresholds only; keep the base composite's weights")
    p.add_argument("--prior", type=float, default=None,
                   help="how many labelled examples the base calibration counts as (default: the measured "
                        "rule, 2000 where the examples score like the base's data and 5 where they do not)")
    p.add_argument("--seed", type=int, default=0, help="the cross-validation folds' seed")
    p.add_argument("--cache-dir", default="runs/.cache/meta_eval",
                   help="--data: where each scorer's scores of the file are kept (default runs/.cache/meta_eval)")


def _labelled(examples, table: dict):
    from harness.calibration.fit import Labelled

    labels = np.array([e.label for e in examples], dtype=int)
    summary, weakest = {}, {}
    for name, (scores, sentences) in table.items():
        scores = np.asarray(scores, dtype=float)
        summary[name] = scores
        weakest[name] = np.array([min(s) if len(s) else float(scores[i]) for i, s in enumerate(sentences)])
    return Labelled(labels, np.array([str(e.doc_id) for e in examples]), summary, weakest)


def score_examples(examples, names: list[str], calibration_path, *, data_file=None, fmt=None, cache_dir=None):
    """Scorer config name -> (summary scores, sentence scores) of ``examples`` (through the meta-eval's
    score cache where they come from a data file)."""
    from harness.config import load_metric
    from harness.meta_eval.consistency import check_scorers, scorer_outputs

    metrics = {name: load_metric(name, calibration=calibration_path) for name in names}
    check_scorers(metrics)
    if data_file is not None:
        from harness.meta_eval.transfer import Dataset, dataset_name, scores
        from harness.models.model_source import file_sha256

        dataset = Dataset(dataset_name(data_file), str(data_file), fmt, file_sha256(str(data_file)), tuple(examples))
        table = scores(metrics, [dataset], cache_dir)
        return {name: (table[name][dataset.name]["summary"], table[name][dataset.name]["sentences"])
                for name in names}
    return {name: scorer_outputs(metric, list(examples)) for name, metric in metrics.items()}


def build(args: argparse.Namespace) -> tuple[dict, str]:
    """(the calibration's content, the text to print) for parsed ``args``."""
    from harness.calibration import fit
    from harness.calibration.drift import quantiles
    from harness.calibration.file import CALIBRATION_FORMAT, data_sha256, read_calibration
    from harness.models.model_source import file_sha256

    base = read_calibration(args.base)
    prior = args.prior
    if prior is not None and not prior >= 0:
        raise HarnessError(f"--prior must be 0 or more, got {args.prior}")
    if args.data:
        from harness.meta_eval.consistency_data import read_consistency

        fmt, examples = read_consistency(args.data, args.format)
        if any(e.label is None for e in examples):
            raise DataError("calibration needs a binary label on every example", file=str(args.data))
        source, what = args.data, f"{len(examples)} labelled summaries of {args.data} (format {fmt})"
    else:
        from harness.meta_eval.marks_data import describe, read_marks_examples

        fmt, source = "marks", str(args.marks)
        examples, info = read_marks_examples(args.marks, args.runs or [Path(args.marks).parent])
        what = describe(info)
    content = base.content
    names = list(content.get("scorers") or {})
    for item in (content.get("composite") or {}).get("inputs", []):
        if item["metric"] not in names:
            names.append(item["metric"])
    table = score_examples(examples, names, base.path, data_file=args.data, fmt=fmt, cache_dir=args.cache_dir)
    data = _labelled(examples, table)
    options = {"refit_composite": not args.threshold_only, "prior": prior}
    chosen = fit.choose(data, content, **options)
    cv = fit.cross_validate(data, content, seed=args.seed, **options)
    scorers = {}
    for name, entry in (content.get("scorers") or {}).items():
        scorers[name] = {"key": entry.get("key"), **chosen["scorers"][name], "prior": chosen["priors"].get(name),
                         "cross_validated": {"k": data.k, **cv["scorers"].get(name, {})},
                         "base": {k: entry.get(k) for k in ("summary_threshold", "flag_threshold")}}
    composite = None
    if chosen.get("composite"):
        composite = {**chosen["composite"],
                     "fitted_on": f"{data.k} labelled examples ({what}); "
                                  + ("threshold only, weights of the base" if args.threshold_only else
                                     "weights refitted, shrunk toward the base's"),
                     "prior": chosen["priors"].get("composite"),
                     "cross_validated": {"k": data.k, **cv["scorers"].get("composite", {})}}
    digest = file_sha256(str(source))
    name = args.name or Path(args.out).stem
    calibration = {
        "format": CALIBRATION_FORMAT, "name": name,
        "protocol": f"harness calibrate: every threshold chosen on the {data.k} labelled examples"
                    + ("" if args.threshold_only else " and the composite refitted")
                    + f", each shrunk toward the base calibration {base.name!r} (worth "
                    + (f"{prior:g} examples)" if prior is not None else
                       f"{fit.PRIOR_FIT:g} examples where the examples score like its data, {fit.PRIOR_DRIFT:g} "
                       "where they do not: harness.calibration.drift)"),
        "k": data.k, "n_consistent": int(data.labels.sum()),
        "data": [{"name": Path(str(source)).stem, "path": str(source), "sha256": digest, "format": fmt,
                  "n": data.k, "n_consistent": int(data.labels.sum())}],
        "data_sha256": data_sha256([digest]), "base": base.record(), "prior": prior,
        "priors": chosen["priors"],
        "flag_rate": chosen["flag_rate"], "flag_rule": content.get("flag_rule"),
        "summary_rule": "the best-balanced-accuracy threshold on the labelled examples, shrunk toward the base's",
        "scorers": scorers, "composite": composite,
        "figures": {"protocol": f"{cv['n_folds']}-fold cross-validation by article on the same {data.k} examples "
                                "(each fold judged by a calibration chosen without it); base: the base "
                                "calibration on all of them",
                    "cross_validated": cv["scorers"], "base": cv["base"]},
        "reference": {"what": ("the labelled examples' summary scores" if args.data else
                               "the marked sentences' scores (each sentence is one example)")
                              + ", 0, 5, ..., 100% quantiles",
                      "sets": {name: {"n": data.k, "scorers": {s: quantiles(data.summary[s]) for s in data.summary}}}},
    }
    return calibration, render(calibration, base.name, what)


def _pct(x) -> str:
    return f"{100 * x:.0f}%" if isinstance(x, (int, float)) and x == x else "–"


def _ba(x) -> str:
    return f"{100 * x:.1f}" if isinstance(x, (int, float)) and x == x else "–"


def render(calibration: dict, base_name: str, what: str) -> str:
    """What changed, in plain lines: per scorer its thresholds base -> new and the figures on the
    examples (the base's, and the new calibration's cross-validated)."""
    figures = calibration["figures"]
    lines = [f"Calibration {calibration['name']!r} from {what}", f"(K = {calibration['k']}, "
             f"{calibration['n_consistent']} consistent; thresholds shrunk toward {base_name!r}; figures: "
             f"{figures['protocol']})", ""]
    for name, entry in calibration["scorers"].items():
        old, cv, was = entry["base"], figures["cross_validated"].get(name, {}), figures["base"].get(name, {})
        lines.append(f"{name}: flag threshold {old.get('flag_threshold')} -> {entry['flag_threshold']:.3f} "
                     f"(false flags on these examples {_pct(was.get('consistent_flagged'))} -> "
                     f"{_pct(cv.get('consistent_flagged'))}, inconsistent flagged "
                     f"{_pct(was.get('inconsistent_flagged'))} -> {_pct(cv.get('inconsistent_flagged'))}); summary "
                     "threshold "
                     f"{old.get('summary_threshold'):.3f} -> {entry['summary_threshold']:.3f} (balanced accuracy "
                     f"{_ba(was.get('balanced_accuracy'))} -> {_ba(cv.get('balanced_accuracy'))})")
    if not figures["cross_validated"]:
        lines.append("(no cross-validated figures: folds keep an article's examples together, and these examples "
                     "come from fewer than 2 articles with both kinds of label outside each fold; mark more articles)")
    if calibration.get("composite"):
        c, cv, was = calibration["composite"], figures["cross_validated"].get("composite", {}), figures["base"].get(
            "composite", {})
        lines.append(f"composite: threshold {c['threshold']:.3f}, weights "
                     + ", ".join(f"{i['metric']} {w:+.3f}" for i, w in zip(c["inputs"], c["model"]["weights"],
                                                                            strict=True))
                     + f" (balanced accuracy {_ba(was.get('balanced_accuracy'))} -> "
                       f"{_ba(cv.get('balanced_accuracy'))})")
    return "\n".join(lines) + "\n"


def execute(args: argparse.Namespace, p: argparse.ArgumentParser) -> int:
    """The command on the options `add_arguments` declared (``p.error`` for options that do not go
    together); HarnessError (one line, exit 2 in the CLI) for unusable input, nothing written."""
    from harness.calibration.file import SHIPPED
    from harness.io import write_json_atomic
    from harness.outputs import check_writable

    if args.source:
        if args.data or args.marks:
            p.error("give the marks as DIR (or marks.json) or with --marks/--data, not both")
        args.marks = args.source
    if bool(args.data) == bool(args.marks):
        p.error("give --data FILE (a labelled file) or --marks DIR|marks.json (editors' sentence verdicts)")
    if args.runs and not args.marks:
        p.error("--runs names the runs of --marks")
    if args.marks:
        from harness.results.marks import marks_path

        args.marks = str(marks_path(args.marks))
        if not Path(args.marks).is_file():
            raise DataError(f"no marks file at {args.marks}: mark sentences on the page harness review serves "
                            "(it saves DIR/marks.json)")
    elif not Path(args.data).is_file():
        raise DataError(f"no labelled file at {args.data}")
    out = Path(args.out)
    inputs = [Path(x) for x in (args.data, args.marks, args.base) if x] + [SHIPPED]
    if out.exists() and any(out.resolve() == i.resolve() for i in inputs if i.exists()):
        raise HarnessError(f"--out {out} is this command's own input (or the shipped calibration): write the "
                           "calibration to a new file")
    check_writable(out, "--out", directory=False)
    calibration, text = build(args)
    write_json_atomic(out, calibration)
    print(text, end="")
    print(f"written: {out} (use it: harness run calibration={out}; harness meta-eval ... --calibration {out})")
    return 0
