"""``harness meta-eval``: how well consistency (or coverage) scorers agree with human labels.

`add_arguments` declares the command's options on the parser `harness.cli` builds; `execute` runs
it. Unusable input raises a ``HarnessError`` (or the parser's usage error): ``harness.cli.main``
prints it as one line and exits 2, before anything is scored or written.

- ``--data FILE`` (formats qags, summac, summeval, detected when not given; realsumm for
  ``--task coverage``): thresholds tuned on a seeded half of the articles (``--split half``), on
  the data's val cut (``--split given`` or ``--dev FILE``), or each scorer's calibrated threshold
  (``--split none``); ``--split lodo`` with three or more files: leave one data set out
  (harness/meta_eval/transfer.py);
- ``--marks DIR/marks.json``: the editors' sentence verdicts (``harness review``) as labels.
"""

from __future__ import annotations

import argparse

from harness.errors import HarnessError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``harness meta-eval``, declared on ``parser``."""
    parser.add_argument("--task", choices=["consistency", "coverage"], default="consistency")
    parser.add_argument("--data", nargs="+",
                        help="annotated file (--split lodo: three or more, one per data set)")
    parser.add_argument("--marks", help="harness review's marks.json as sentence-level labels (consistency): each "
                                        "sentence editors judged is one example, consistent = supported; default "
                                        "--split none (each scorer's shipped threshold)")
    parser.add_argument("--runs", nargs="+", help="--marks: the run or sweep directories the marks were made on "
                                                  "(default: the marks file's directory)")
    parser.add_argument("--format", choices=["qags", "summac", "summeval", "realsumm"],
                        help="the file's format (consistency: detected from its fields when not given)")
    parser.add_argument("--metrics", help="comma-separated conf/metrics names (default: with --marks, the "
                                          "consistency scorers that flagged on the page; else consistency_embedding,"
                                          "consistency_entity, or coverage_lexical,coverage_semantic)")
    parser.add_argument("--limit", type=int, help="only the first N examples (a quick look; figures need all)")
    parser.add_argument("--seed", type=int, default=0, help="dev/test split and bootstrap seed")
    parser.add_argument("--split", choices=["half", "given", "none", "lodo"],
                        help="consistency protocol: half = thresholds tuned on a seeded half of the articles "
                             "(default); given = on the data's val cut (a 'cut' column val/test, or --dev FILE); "
                             "none = each metric config's fixed threshold, everything is test; lodo = leave one "
                             "data set out: thresholds and the composite chosen on the other --data files, "
                             "reported on the one left out, for each")
    parser.add_argument("--flag-rate", type=float, default=None,
                        help="--split lodo: the share of a training set's consistent summaries one scorer may "
                             "flag (default 0.02)")
    parser.add_argument("--save-calibration", metavar="PATH",
                        help="--split lodo: save the chosen thresholds, composite and held-out figures as a "
                             "calibration (the shipped one is harness/calibration/shipped.json)")
    parser.add_argument("--cache-dir", default="runs/.cache/meta_eval",
                        help="--split lodo: where each (scorer, file)'s scores are kept "
                             "(default runs/.cache/meta_eval)")
    parser.add_argument("--calibration", metavar="PATH",
                        help="consistency: the calibration whose thresholds the scorers use (harness calibrate; "
                             "default the shipped one); --split none judges summaries at its summary thresholds")
    parser.add_argument("--dev", help="the val cut as a second file (same format); implies --split given")
    parser.add_argument("--n-resamples", type=int, default=1000)
    parser.add_argument("--out", help="directory for meta_eval.json and meta_eval.md (consistency: also "
                                      "examples.jsonl, audit.json and composite.json, to audit without rescoring)")
    parser.add_argument("--dataset", choices=["cogensumm", "factcc", "polytope", "mturk_cnndm", "summeval"],
                        help="consistency: whose published figures to show (default: the data's 'dataset' field "
                             "where every row names the same one; never the file's path)")
    parser.add_argument("--save-composite", metavar="PATH",
                        help="consistency: save the fitted composite (weights, inputs, threshold) as JSON for "
                             "the consistency_composite metric (metrics.consistency_composite.weights=PATH)")


def execute(options: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The command, on the options `add_arguments` declared; ``parser.error`` for options that do
    not go together."""
    from pathlib import Path

    from harness.io import write_json_atomic, write_text_atomic

    if options.dev and options.split not in (None, "given"):
        parser.error(f"--dev gives the val cut of --split given, not of --split {options.split}")
    if options.marks:
        if options.data or options.dev or options.task != "consistency" or options.split == "lodo":
            parser.error("--marks is labelled data of its own: give it without --data, --dev, --task coverage or "
                         "--split lodo")
        options.data, options.split = [options.marks], options.split or "none"
    elif not options.data:
        parser.error("give --data FILE (an annotated file) or --marks FILE (harness review's marks.json)")
    elif options.runs:
        parser.error("--runs names the runs of --marks")
    split_mode = "given" if options.dev else options.split or "half"
    if split_mode == "lodo":
        return _meta_eval_lodo(parser, options)
    if len(options.data) != 1:
        parser.error(f"--data takes one file under --split {split_mode} ({len(options.data)} given; several are "
                     "for --split lodo)")
    options.data = options.data[0]
    _check_meta_eval_outputs(options)
    if options.save_composite and (options.task != "consistency" or split_mode == "none"
                                   or len((options.metrics or "a,b").split(",")) < 2):
        parser.error("--save-composite needs the consistency task, two or more --metrics and a part to fit on "
                     "(--split half or given)")
    audit = None
    from harness.config import load_metric
    from harness.reports.compare import check_n_resamples

    check_n_resamples(options.n_resamples)
    if options.limit is not None and options.limit < 1:
        raise HarnessError(f"--limit must be a positive integer, got {options.limit}")

    if options.task == "coverage":
        from harness.meta_eval import coverage
        from harness.meta_eval.realsumm import read_realsumm

        rows = read_realsumm(options.data)[:options.limit]
        names = (options.metrics or "coverage_lexical,coverage_semantic").split(",")
        metrics = {name: load_metric(name) for name in names}
        coverage.check_matchers(metrics)  # every one, before the first is scored
        results = [coverage.evaluate(name, metric, rows, seed=options.seed, n_resamples=options.n_resamples)
                   for name, metric in metrics.items()]
        text = coverage.render(results, options.data)
    else:
        from harness.meta_eval import consistency
        from harness.meta_eval.consistency_data import read_consistency

        note = None
        if options.marks:
            from harness.meta_eval.marks_data import describe, read_marks_examples

            examples, read = read_marks_examples(options.marks, options.runs or [Path(options.marks).parent])
            fmt, note = "marks", describe(read)
        else:
            fmt, examples = read_consistency(options.data, options.format)
        examples = examples[:options.limit]
        if options.dev:  # the second file is the val cut, every row of --data is test
            from dataclasses import replace

            _, dev_examples = read_consistency(options.dev, fmt)
            examples = ([replace(e, cut="val") for e in dev_examples[:options.limit]]
                        + [replace(e, cut="test") for e in examples])
        from harness.meta_eval.consistency_data import check_measurable

        check_measurable(examples, str(options.marks or options.data))
        split = consistency.make_split(examples, split_mode, options.seed)
        default = ",".join(read["scorers"]) if options.marks and read["scorers"] else \
            "consistency_embedding,consistency_entity"  # --marks: the scorers that flagged on the page
        names = (options.metrics or default).split(",")
        outputs: dict = {}
        dataset = consistency.dataset_name(examples, options.dataset)
        from harness.calibration.file import read_calibration

        calibration = read_calibration(options.calibration)
        # A summary is judged at its scorer's summary threshold; an editor's sentence (--marks) at its flag one.
        fixed = {} if options.marks else {name: t for name in names
                                          if (t := calibration.summary_threshold(name)) is not None}
        results = consistency.run({name: load_metric(name, calibration.path) for name in names}, examples,
                                  split=split, seed=options.seed, n_resamples=options.n_resamples,
                                  outputs=outputs, fixed_thresholds=fixed)
        text = consistency.render(results, options.data, fmt, split, dataset) + (f"\n{note}\n" if note else "")
        data = consistency.data_record([options.data, options.dev])
        audit = (examples, split, results, outputs, data, fmt, dataset)
        if options.save_composite:
            fitted = consistency.fitted_composite(results, data)
            if fitted is None:
                raise HarnessError("--save-composite: no composite was fitted (it needs two or more --metrics, "
                                   "labels, and a dev part: not --split none, and enough examples)")
            write_json_atomic(Path(options.save_composite), fitted)
    print(text, end="")
    if options.out:
        out = Path(options.out)
        write_json_atomic(out / "meta_eval.json", {"task": options.task, "data": options.data, "dev": options.dev,
                                                   "split": split_mode if options.task == "consistency" else None,
                                                   "seed": options.seed, "results": results,
                                                   **({"dataset": audit[6], "data_files": audit[4]} if audit else {})})
        write_text_atomic(out / "meta_eval.md", text)
        written = [out / "meta_eval.json", out / "meta_eval.md"]
        if audit is not None:
            from harness.meta_eval import consistency

            written += consistency.write_audit(out, *audit)
        print(f"written: {', '.join(map(str, written))}")
    if options.save_composite:
        print(f"composite saved: {options.save_composite} (use it: 'metrics=[consistency_composite]' "
              f"metrics.consistency_composite.weights={options.save_composite})")
    return 0



def _meta_eval_lodo(parser, options) -> int:
    """``harness meta-eval --split lodo --data A B C ...``: see harness/meta_eval/transfer.py."""
    from pathlib import Path

    from harness.io import write_json_atomic, write_text_atomic

    if options.task != "consistency" or options.dev or options.limit is not None:
        parser.error("--split lodo is for the consistency task, without --dev or --limit (every example counts)")
    from harness.meta_eval.transfer import FLAG_RATE

    rate = FLAG_RATE if options.flag_rate is None else options.flag_rate
    if not 0 <= rate < 1:
        parser.error(f"--flag-rate must be at least 0 and below 1, got {rate}")
    _check_meta_eval_outputs(options)
    from harness.config import load_metric
    from harness.meta_eval import transfer
    from harness.reports.compare import check_n_resamples

    check_n_resamples(options.n_resamples)
    datasets = transfer.read_datasets(options.data)
    names = (options.metrics or "consistency_embedding,consistency_entity").split(",")
    metrics = {name: load_metric(name) for name in names}
    report = transfer.lodo(metrics, datasets, cache_dir=options.cache_dir, flag_rate=rate, seed=options.seed,
                           n_resamples=options.n_resamples)
    text = transfer.render(report)
    written = []
    if options.save_composite:
        write_json_atomic(Path(options.save_composite), transfer.composite_record(report, metrics))
        written.append(options.save_composite)
    if options.save_calibration:
        write_json_atomic(Path(options.save_calibration), transfer.calibration_record(report, metrics))
        written.append(options.save_calibration)
    if options.out:
        out = Path(options.out)
        write_json_atomic(out / "meta_eval.json", {"task": "consistency", "split": "lodo", **report})
        write_text_atomic(out / "meta_eval.md", text)
        written += [str(out / "meta_eval.json"), str(out / "meta_eval.md")]
    print(text, end="")
    if written:
        print(f"written: {', '.join(map(str, written))}")
    return 0


def _check_meta_eval_outputs(options) -> None:
    """Every path meta-eval will write, checked before any example is scored: writable, and none
    of them one of its own inputs (--data, --dev, --marks), which it would overwrite."""
    from pathlib import Path

    from harness.errors import ConfigError
    from harness.outputs import check_writable

    inputs, data = {}, []
    for option in ("data", "dev", "marks"):
        given = getattr(options, option, None) or []
        for path in given if isinstance(given, list) else [given]:
            inputs.setdefault(Path(path).expanduser().resolve(), f"--{option} {path}")
            if option == "data":
                data.append((Path(path).expanduser().resolve(), f"--data {path}"))
    outputs = [(Path(options.out) / name, "--out") for name in ("meta_eval.json", "meta_eval.md")
               if options.out]
    outputs += [(Path(getattr(options, option)), f"--{option.replace('_', '-')}")
                for option in ("save_composite", "save_calibration") if getattr(options, option, None)]
    for path, option in outputs:
        if path.expanduser().resolve() in inputs:
            raise ConfigError(f"{option} {path} would overwrite {inputs[path.expanduser().resolve()]}, one of this "
                              "command's own inputs: write it elsewhere (nothing was read or written)")
    cache = getattr(options, "cache_dir", None)
    if cache and Path(cache).exists() and not Path(cache).is_dir():
        raise ConfigError(f"--cache-dir {cache} is a file, not a directory: give a directory for the score cache")
    seen: dict[str, str] = {}
    for path, given in data:  # the same labelled data twice: lodo would test on its own twin
        if path.is_file():
            import hashlib

            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in seen:
                raise ConfigError(f"{seen[digest]} and {given} hold the same data (SHA-256 {digest[:12]}): give each "
                                  "data set once (with --split lodo one would be tested on its own copy)")
            seen[digest] = given
    if options.out:
        check_writable(options.out, "--out")
    for option in ("save_composite", "save_calibration"):
        if getattr(options, option, None):
            check_writable(getattr(options, option), f"--{option.replace('_', '-')}", directory=False)

