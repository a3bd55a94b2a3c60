"""The ``harness`` command: ``harness run [overrides] [-m]`` and the commands later issues add."""

from __future__ import annotations

import sys

USAGE = """usage: harness COMMAND [ARGS]

commands:
  run [OVERRIDES] [-m]   generate, score and report (a Hydra app: key=value overrides;
                         -m runs the sweep set in conf/config.yaml, or the one you give)
  validate [OVERRIDES] [-m]
                         the config check alone (each job of a sweep with -m): types, ranges,
                         unset values; "config OK" or one error line (exit 2); nothing is run
  plan [OVERRIDES] [-m]  what the run or sweep would cost: summaries to generate and scores to
                         compute (cached ones apart), a served model's requests and tokens, and the
                         time estimated from this machine's earlier runs; nothing is run
  ls systems|metrics|data|prompts|decoding|servers|launchers|tracking
                         the options of one config group, each with its file's description
  leaderboard DIR [DIR ...] [--sort-by M] [--out DIR]
                         the leaderboard of sweep or run directories (one directory: written
                         into it as leaderboard.md/.json; several: printed, written to --out)
  gate --baseline PATH --candidate DIR [--metric NAME:TOL ...] [--config NAME] [--allow-missing]
       [--format text|markdown|json|junit]
                         fail (exit 1) when quality dropped beyond noise; exit 2 on unusable input;
                         a baseline scored by other scorers is scored again with the candidate's
  gate --update-baseline --baseline FILE --candidate DIR
                         write DIR's summaries and per-article scores as the new baseline file
  gate --refresh-baseline --baseline FILE --candidate DIR
                         score the baseline file's summaries with DIR's scorers and write only
                         its scores back (after a deliberate scorer change)

  track DIR [--tracker mlflow|wandb] [--tracking-uri URI] [--experiment NAME]
                         log a run or sweep directory to an experiment tracker (the runs a
                         tracker that was down missed; already logged ones are skipped)
  compare DIR [DIR ...] [--sort-by M] [--metric M ...] [--reference RUN] [--format F]
          [--marks FILE] [--out DIR]
                         leaderboard over runs and sweeps with 95% CIs and paired
                         differences to a reference run; report.html for editors
  review DIR [--port N]  serve DIR's report.html on 127.0.0.1 and save the editors' marks
                         to DIR/marks.json (for compare --marks)
  meta-eval --data FILE [--format F] [--metrics A,B] [--split half|given|none] [--dev FILE]
          [--dataset NAME] [--save-composite FILE] [--out DIR]
                         how well consistency scorers agree with human labels
                         (formats qags, summac, summeval; detected when not given);
                         --out keeps every score, the split and the data's hash
  meta-eval --marks DIR/marks.json [--runs DIR ...] [--metrics A,B] [--split none|half] [--out DIR]
                         the same on the editors' sentence verdicts (harness review)
  calibrate --data FILE | --marks DIR|marks.json | DIR  --out PATH [--threshold-only]
                         choose every consistency threshold (and refit the composite) on
                         labelled examples of your data; runs use it with calibration=PATH
  meta-eval --task coverage --data FILE [--metrics A,B] [--out DIR]
                         the same for coverage matchers (REALSumm format)
  train-checker pairs|train|evaluate ...
                         build training pairs, train the project's own checker (LoRA over the
                         registry's MiniLM; conf/training/checker.yaml), its leave-one-set-out figures

examples:
  harness run                                  # the embedded default, SmolLM2-135M
  harness validate system=lead3 seed=abc       # error: seed must be an integer, ... (exit 2)
  harness ls metrics                           # what metrics=[...] can name
  harness run -m                               # the default sweep
  harness run system=lead3 system.k=1 data.path=my_articles.jsonl
"""


def main(argv: list[str] | None = None) -> int:
    """Every command's one error path: an error the user can fix (``HarnessError``, whichever
    command raised it) is one line and exit 2; a write that failed names the option that chose
    its path (``harness.outputs``)."""
    from harness.errors import HarnessError

    argv = sys.argv[1:] if argv is None else argv
    try:
        from harness.threads import prepare

        prepare()  # OpenMP's waiting and thread count, before any command loads torch (harness/threads.py)
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C outside a job (a job prints its own line and exits 130)
        from harness.errors import interrupted

        print(interrupted(), file=sys.stderr)
        return 130
    except HarnessError as e:
        from harness.outputs import named_by_option

        print(f"error: {named_by_option(e, argv)}", file=sys.stderr)
        return 2


def _main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "run":
        from harness import app
        from harness.config_check import check_run_overrides, widen_system_overrides
        from harness.http_client import check_key_overrides
        from harness.outputs import check_run_dir_override

        # Each a HarnessError (main's one line, exit 2) before Hydra creates the run directory and its app.log:
        check_key_overrides(rest)  # a key where its variable's name belongs, before Hydra writes the overrides
        rest = widen_system_overrides(rest)  # a mixed sweep's setting that only some of its systems have
        app.check_launcher(rest)  # a missing launcher plugin: our error naming the extra, before Hydra's
        check_run_dir_override(rest)  # the run directory: a read-only one, or a file
        check_not_finished(rest)  # a finished run's directory: Hydra would append to its app.log
        check_run_overrides(rest)  # each job's config composed and checked (types, ranges, unset values)
        sys.argv = ["harness run", *rest]
        app.main()
        return 0
    if command == "validate":
        return validate(rest)
    if command == "plan":
        return plan(rest)
    if command == "ls":
        return ls(rest)
    if command == "leaderboard":
        return leaderboard(rest)
    if command == "gate":
        return gate(rest)
    if command == "meta-eval":
        return meta_eval(rest)
    if command == "compare":
        return compare(rest)
    if command == "track":
        return track(rest)
    if command == "review":
        return review(rest)
    if command == "calibrate":
        return calibrate(rest)
    if command == "train-checker":
        from harness.training.__main__ import main as train_checker

        return train_checker(rest)
    print(USAGE, file=sys.stderr)
    return 2


def check_not_finished(args: list[str]) -> None:
    """A single run's ``hydra.run.dir`` that holds a finished run: its FinishedRunError, before Hydra
    opens app.log there (a sweep skips its finished jobs instead)."""
    from pathlib import Path

    from harness.results.run_dir import finished_run_error

    if "-m" in args or "--multirun" in args:
        return
    given = [a.split("=", 1)[1].strip("'\"") for a in args if a.split("=", 1)[0].lstrip("+~") == "hydra.run.dir"]
    if given and "${" not in given[-1] and (error := finished_run_error(Path(given[-1]))) is not None:
        raise error


def validate(args: list[str]) -> int:
    """``harness validate OVERRIDES [-m]``: `check_run_overrides` alone; one line either way."""
    from harness.config_check import check_run_overrides, widen_system_overrides
    from harness.errors import HarnessError

    configs = check_run_overrides(widen_system_overrides(args))
    if not configs:
        raise HarnessError("harness validate takes overrides (and -m for a sweep), not Hydra's flags: "
                           f"{' '.join(a for a in args if a.startswith('-') and a not in ('-m', '--multirun'))}")
    names = [" | ".join(str(c.get(k, {}).get("name", "?")) for k in ("system", "prompt", "decoding")) for c in configs]
    metrics = sorted({name for c in configs for name in (c.get("metrics") or {})})
    jobs = f"{len(configs)} jobs" if len(configs) > 1 else "1 run"
    print(f"config OK: {jobs} ({'; '.join(names)}); metrics: {', '.join(metrics) or 'none'}")
    return 0


def plan(args: list[str]) -> int:
    """``harness plan OVERRIDES [-m]``: what the run or sweep would generate and score, what the
    caches hold, and an estimate from this machine's earlier runs under ./runs; nothing is run."""
    from pathlib import Path

    from harness.config_check import check_run_overrides, widen_system_overrides
    from harness.errors import HarnessError
    from harness.plan import past_rates, plan_job, render

    configs = check_run_overrides(widen_system_overrides(args))
    if not configs:
        raise HarnessError("harness plan takes overrides (and -m for a sweep), not Hydra's flags")
    rates, planned = past_rates(Path("runs")), set()
    print(render([plan_job(n, cfg, rates, planned) for n, cfg in enumerate(configs)]))
    return 0


def ls(args: list[str]) -> int:
    """``harness ls KIND``: the options of one config group and their descriptions."""
    from harness.config import GROUPS, group_options
    from harness.errors import HarnessError

    if len(args) != 1:
        raise HarnessError(f"usage: harness ls {'|'.join(GROUPS)}")
    options = group_options(args[0])
    width = max((len(name) for name, _ in options), default=0)
    for name, text in options:
        print(f"{name:<{width}}  {text}".rstrip())
    return 0


def leaderboard(args: list[str]) -> int:
    import argparse
    from pathlib import Path

    from harness.outputs import check_writable
    from harness.reports.leaderboard import write_leaderboard

    parser = argparse.ArgumentParser(prog="harness leaderboard",
                                     description="The leaderboard of sweep and run directories (shards merged).")
    parser.add_argument("paths", nargs="+", help="sweep or run directories")
    parser.add_argument("--sort-by", help="the metric to rank by, in its own direction (default: the first "
                                          "headline metric)")
    parser.add_argument("--out", help="write leaderboard.md and leaderboard.json here (default: into the "
                                      "directory when one is given; nowhere when several are)")
    options = parser.parse_args(args)
    out = options.out or (options.paths[0] if len(options.paths) == 1 else None)
    if options.out or (out and Path(out).is_dir()):  # a missing directory given to read is named by the reader
        check_writable(out, "--out")
    try:
        board, text = write_leaderboard([Path(p) for p in options.paths], options.sort_by,
                                        out=Path(out) if out else None)
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(text)
    if out:
        print(f"written: {Path(out) / 'leaderboard.md'}, leaderboard.json")
    return 1 if board["failed"] else 0


def gate(args: list[str]) -> int:
    import argparse
    from pathlib import Path

    from harness import gate as g
    from harness.errors import HarnessError
    from harness.outputs import check_writable

    parser = argparse.ArgumentParser(prog="harness gate", description="Paired bootstrap regression gate.")
    parser.add_argument("--baseline", required=True, help="baseline file, run directory or sweep directory")
    parser.add_argument("--candidate", required=True, help="run or sweep directory to check")
    parser.add_argument("--metric", action="append", default=[], metavar="NAME:TOLERANCE",
                        help="gate this metric (replaces the config's list); repeatable")
    parser.add_argument("--config", default="default", help="conf/gate/NAME.yaml (default: default)")
    parser.add_argument("--out", help="where to write gate.json, gate.md, gate.xml (default: the candidate directory)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--update-baseline", action="store_true",
                      help="write the candidate's summaries and scores to --baseline instead of gating")
    mode.add_argument("--refresh-baseline", action="store_true",
                      help="score the baseline file's summaries with the candidate's scorers and write only its "
                           "scores back (for a deliberate scorer change), instead of gating")
    parser.add_argument("--allow-missing", action="store_true",
                        help="gate the baseline runs the candidate has, listing the others (default: exit 2)")
    parser.add_argument("--format", choices=g.GATE_FORMATS, default="text",
                        help="what to print: a text table (default), Markdown, the JSON report, or JUnit XML; "
                             "gate.json, gate.md and gate.xml (JUnit) are written whatever the format")
    options = parser.parse_args(args)
    # Where the gate writes, checked before any scoring (a candidate that is missing is named by its reader).
    if not (options.update_baseline or options.refresh_baseline) and (options.out or Path(options.candidate).is_dir()):
        check_writable(options.out or options.candidate, "--out")
    try:
        if options.update_baseline:
            baseline = g.write_baseline(options.candidate, options.baseline)
            print(f"baseline {options.baseline}: {len(baseline['runs'])} runs from {options.candidate}: "
                  + "; ".join(f"{r['label']} ({len(r['scores'])} articles)" for r in baseline["runs"]))
            return 0
        if options.refresh_baseline:
            notes = g.refresh_baseline(options.baseline, options.candidate, allow_missing=options.allow_missing)
            for note in notes:
                print(f"note: {note}")
            rescored = [n for n in notes if not n.startswith("not refreshed")]
            print(f"baseline {options.baseline}: " + (f"scores of {len(rescored)} run(s) rewritten" if rescored else
                                                      "already scored by the candidate's scorers; unchanged"))
            return 0
        config = g.load_gate_config(options.config)
        tolerances = dict(config["metrics"])
        if options.metric:
            tolerances = {}
            for item in options.metric:
                name, sep, tolerance = item.rpartition(":")
                if not sep or not name:
                    raise HarnessError(f"--metric {item!r}: expected NAME:TOLERANCE, e.g. rouge/rougeLsum_f:0.02")
                tolerances[name] = g.check_tolerance(tolerance, f"--metric {item!r}")
        report = g.run_gate(options.baseline, options.candidate, tolerances, config,
                          allow_missing=options.allow_missing)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    printed = g.render_gate_as(report, options.format)
    out = Path(options.out or options.candidate)
    g.write_gate_outputs(report, out)  # written before anything is printed: a failed write never follows a verdict
    print(printed, end="")
    # Only the text format shares stdout with this line: JSON and XML stay parseable.
    print(f"written: {', '.join(str(out / name) for name in g.GATE_FILES)}",
          file=sys.stdout if options.format == "text" else sys.stderr)
    return 0 if report["passed"] else 1


def track(args: list[str]) -> int:
    import argparse
    from pathlib import Path

    from harness.errors import HarnessError

    parser = argparse.ArgumentParser(prog="harness track", description="Log finished runs to an experiment tracker.")
    parser.add_argument("path", help="a run directory or a sweep directory")
    parser.add_argument("--tracker", choices=["mlflow", "wandb"], default="mlflow")
    parser.add_argument("--tracking-uri", help="MLflow: the tracking URI (default: MLFLOW_TRACKING_URI, else "
                                               "runs/mlflow.db); W&B: ignored (use wandb sync for offline runs)")
    parser.add_argument("--experiment", default="harness", help="MLflow experiment / W&B project (default: harness)")
    options = parser.parse_args(args)
    try:
        if options.tracker == "wandb":
            from harness.tracking.wandb import WandbBackend

            done = WandbBackend(project=options.experiment).log_path(Path(options.path))
        else:
            from harness.tracking.callback import quiet_retries
            from harness.tracking.mlflow import MlflowBackend

            backend = MlflowBackend(options.tracking_uri, options.experiment)
            with quiet_retries():
                done = backend.log_path(Path(options.path))
    except HarnessError:
        raise  # main's one error path: one line, exit 2
    except Exception as e:  # the tracker's own error (unreachable, refused): one line, exit 1
        from harness.tracking.callback import one_line

        print(f"error: could not log {options.path} ({one_line(e)})", file=sys.stderr)
        return 1
    print(f"logged {len(done['logged'])} run(s), {len(done['already_logged'])} already logged"
          + (f"; sweep run {done['parent_run_id']}" if done.get("parent_run_id") else ""))
    return 0


def compare(args: list[str]) -> int:
    import argparse
    import json
    from pathlib import Path

    from harness.errors import HarnessError
    from harness.outputs import check_writable
    from harness.reports import compare as cmp

    parser = argparse.ArgumentParser(prog="harness compare", description="Compare runs with bootstrap CIs.")
    parser.add_argument("paths", nargs="+", help="run or sweep directories")
    parser.add_argument("--sort-by", help="the metric to rank by, in its own direction (default: the first "
                                          "headline metric)")
    parser.add_argument("--metric", action="append", help="a metric to show (repeatable; default: headline metrics)")
    parser.add_argument("--reference", help="the run the differences are to: its label or a unique part of it "
                                            "(default: the top run)")
    parser.add_argument("--format", choices=["table", "markdown", "csv", "json"], default="table")
    parser.add_argument("--marks", help="editors' marks (harness review's marks.json, or exported from report.html): "
                                        "agreement of the metrics with them, each consistency scorer's flag "
                                        "precision against their sentence verdicts, and the editors' agreement")
    parser.add_argument("--out", help="write compare.{md,csv,json} and report.html here")
    parser.add_argument("--n-resamples", type=int, default=10_000,
                        help="resamples of the paired differences (each run's own interval is the one its "
                             "results.json stores)")
    options = parser.parse_args(args)
    if options.out:
        check_writable(options.out, "--out")
    try:
        runset = cmp.load_runs(options.paths)
        for failed in runset.failed:
            print(f"note: skipped a run that did not complete: {failed['dir']}: {failed['error']}", file=sys.stderr)
        runs = runset.runs
        if not runs:
            raise HarnessError(f"no completed run under {', '.join(options.paths)}")
        board = cmp.compare(runs, options.metric, options.sort_by, options.reference,
                            n_resamples=options.n_resamples)
        agreement = review = None
        if options.marks:
            marks = cmp.read_marks(options.marks)
            agreement = cmp.agreement_with_marks(runs, marks, board["metrics"])
            review = cmp.marks_review(runs, marks)
            board["agreement_with_marks"], board["marks_review"] = agreement, review
            board["warnings"] += review["warnings"]
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if options.format in ("csv", "json"):  # the table and Markdown carry the warnings; say them here too
        for warning in (review or {}).get("warnings", []):
            print(f"warning: {warning}", file=sys.stderr)
    rendered = {"table": lambda: cmp.render_terminal(board, agreement, review),
                "markdown": lambda: cmp.render_markdown(board, agreement, review),
                "csv": lambda: cmp.render_csv(board), "json": lambda: json.dumps(board, indent=2) + "\n"}
    print(rendered[options.format](), end="")
    if options.out:
        out = Path(options.out)
        cmp.write_comparison(out, runs=runs, board=board, agreement=agreement, review=review)
        print(f"written: {out / 'compare.md'}, compare.csv, compare.json, report.html")
    return 0


def calibrate(args: list[str]) -> int:
    """``harness calibrate``: harness/calibration/command.py."""
    from harness.calibration.command import main as calibrate_main

    return calibrate_main(args)


def review(args: list[str]) -> int:
    import argparse
    from pathlib import Path

    from harness.review import serve

    parser = argparse.ArgumentParser(prog="harness review", description="Serve report.html locally and save marks.")
    parser.add_argument("path", help="a run, sweep or compare --out directory with a report.html")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0: any free one)")
    options = parser.parse_args(args)
    try:
        serve(Path(options.path), options.port)
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def meta_eval(args: list[str]) -> int:
    import argparse
    from pathlib import Path

    from harness.errors import HarnessError
    from harness.io import write_json_atomic, write_text_atomic

    parser = argparse.ArgumentParser(prog="harness meta-eval", description="Agreement of scorers with human labels.")
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
    parser.add_argument("--metrics", help="comma-separated conf/metrics names (default: every offline scorer "
                                          "of the task)")
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
    options = parser.parse_args(args)
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
    try:
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
            names = (options.metrics or "consistency_embedding,consistency_entity").split(",")
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
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
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
    try:
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
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
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


if __name__ == "__main__":
    sys.exit(main())
