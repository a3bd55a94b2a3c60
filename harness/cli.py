"""The ``harness`` command: one argparse parser per command (`build_parser`), the help generated
from them (``harness -h``, ``harness gate -h``), and one error path for every command (`main`).

``run``, ``validate`` and ``plan`` take Hydra overrides (``key=value``, ``group=option``, ``-m``)
and pass them on exactly as given; Hydra's own flags (``--cfg job``, ``--info``) pass through to
``harness run`` too."""

from __future__ import annotations

import argparse
import sys

from harness.errors import HarnessError

# The commands whose arguments are Hydra's: passed on as given, never parsed as options.
OVERRIDE_COMMANDS = ("run", "validate", "plan")
HELP_FLAGS = ("-h", "--help")

EXAMPLES = """examples:
  harness run                                  # the embedded default, SmolLM2-135M
  harness validate system=lead3 seed=abc       # error: seed must be an integer, ... (exit 2)
  harness ls metrics                           # what metrics=[...] can name
  harness run -m                               # the default sweep (conf/experiment/default_sweep.yaml)
  harness run system=lead3 system.k=1 data.path=my_articles.jsonl
  harness gate -h                              # any command's options

exit status: 0 done; 1 a gate that failed, a leaderboard listing failed jobs, a run that failed after
it started (its results.json records why), or a bug (with a traceback); 2 an error you can fix (one
line, "error: ...", nothing written); 130 Ctrl-C"""


class UsageError(HarnessError):
    """A command line its parser refused (an unknown option, a missing or invalid argument)."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose refusals are `UsageError`s, printed by `main` as one line (exit 2),
    not argparse's usage text and SystemExit."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} -h)")


def build_parser() -> Parser:
    """The ``harness`` parser: one subparser per command (`COMMANDS`), each naming its handler."""
    parser = Parser(prog="harness", description="Evaluate news summarization systems: run, compare, gate, review.",
                    epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, (add, summary, description) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=description or summary)
        add(sub)
        sub.set_defaults(handler=name.replace("-", "_"), command_parser=sub)
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    """``argv`` parsed; the overrides of `OVERRIDE_COMMANDS` kept exactly as given (after ``--``,
    so ``-m`` and Hydra's flags are never taken for options of ours), unless help is asked."""
    if argv and argv[0] in OVERRIDE_COMMANDS and not set(HELP_FLAGS) & set(argv[1:]):
        argv = [argv[0], "--", *argv[1:]]
    parser = build_parser()
    options, unknown = parser.parse_known_args(argv)
    if unknown:  # named by the command's own parser (argparse leaves them to the top level)
        getattr(options, "command_parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    return options


def main(argv: list[str] | None = None) -> int:
    """Every command's one error path: an error the user can fix (a ``HarnessError`` from any
    command, a command line its parser refused, a file that cannot be read) is one line and exit 2;
    a write that failed names the option that chose its path (``harness.outputs``). Any other
    exception is a bug: it propagates (a traceback, exit 1)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        from harness.threads import prepare

        prepare()  # OpenMP's waiting and thread count, before any command loads torch (harness/threads.py)
        if not argv or argv[0] == "help":  # ``harness help [COMMAND]``: the help of harness, or of COMMAND
            argv = [*argv[1:2], "-h"]
        options = parse(argv)
        return getattr(sys.modules[__name__], options.handler)(options)
    except KeyboardInterrupt:  # Ctrl-C outside a job (a job prints its own line and exits 130)
        from harness.errors import interrupted

        print(interrupted(), file=sys.stderr)
        return 130
    except HarnessError as e:
        from harness.outputs import named_by_option

        print(f"error: {named_by_option(e, argv)}", file=sys.stderr)
        return 2
    except OSError as e:  # a file or directory our readers do not name themselves (a missing input)
        print(f"error: {e}", file=sys.stderr)
        return 2


# --- the commands: add_NAME declares NAME's arguments, NAME(options) runs it ------------------------

def add_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("overrides", nargs="*", metavar="OVERRIDE",
                        help="Hydra overrides: key=value (seed=1, system.k=1), group=option (system=lead3; "
                             "harness ls lists the options), -m (--multirun) for the sweep: conf/experiment/"
                             "default_sweep.yaml's, with a key swept on the command line (system=lead3,bullets) "
                             "in place of its value there")


def run(options: argparse.Namespace) -> int:
    from harness import app
    from harness.config_check import check_run_overrides, widen_system_overrides
    from harness.http_client import check_key_overrides
    from harness.outputs import check_run_dir_override

    rest = options.overrides
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



def validate(options: argparse.Namespace) -> int:
    """``harness validate OVERRIDES [-m]``: `check_run_overrides` alone; one line either way."""
    from harness.config_check import check_run_overrides, widen_system_overrides

    args = options.overrides
    configs = check_run_overrides(widen_system_overrides(args))
    if not configs:
        raise HarnessError("harness validate takes overrides (and -m for a sweep), not Hydra's flags: "
                           f"{' '.join(a for a in args if a.startswith('-') and a not in ('-m', '--multirun'))}")
    names = [" | ".join(str(c.get(k, {}).get("name", "?")) for k in ("system", "prompt", "decoding")) for c in configs]
    metrics = sorted({name for c in configs for name in (c.get("metrics") or {})})
    jobs = f"{len(configs)} jobs" if len(configs) > 1 else "1 run"
    print(f"config OK: {jobs} ({'; '.join(names)}); metrics: {', '.join(metrics) or 'none'}")
    return 0


def plan(options: argparse.Namespace) -> int:
    """``harness plan OVERRIDES [-m]``: what the run or sweep would generate and score, what the
    caches hold, and an estimate from this machine's earlier runs under ./runs; nothing is run."""
    from pathlib import Path

    from harness.config_check import check_run_overrides, widen_system_overrides
    from harness.plan import past_rates, plan_job, render

    configs = check_run_overrides(widen_system_overrides(options.overrides))
    if not configs:
        raise HarnessError("harness plan takes overrides (and -m for a sweep), not Hydra's flags")
    rates, planned = past_rates(Path("runs")), set()
    print(render([plan_job(n, cfg, rates, planned) for n, cfg in enumerate(configs)]))
    return 0


def add_ls(parser: argparse.ArgumentParser) -> None:
    from harness.config import GROUPS

    parser.add_argument("kind", nargs="?", metavar="|".join(GROUPS), help="the config group to list")


def ls(options: argparse.Namespace) -> int:
    """``harness ls KIND``: the options of one config group and their descriptions."""
    from harness.config import GROUPS, group_options

    if options.kind is None:
        raise UsageError(f"usage: harness ls {'|'.join(GROUPS)}")
    options = group_options(options.kind)
    width = max((len(name) for name, _ in options), default=0)
    for name, text in options:
        print(f"{name:<{width}}  {text}".rstrip())
    return 0


def add_leaderboard(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", help="sweep or run directories")
    parser.add_argument("--sort-by", help="the metric to rank by, in its own direction (default: the first "
                                          "headline metric)")
    parser.add_argument("--out", help="write leaderboard.md and leaderboard.json here (default: into the "
                                      "directory when one is given; nowhere when several are)")


def leaderboard(options: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.outputs import check_writable
    from harness.reports.leaderboard import write_leaderboard

    out = options.out or (options.paths[0] if len(options.paths) == 1 else None)
    if options.out or (out and Path(out).is_dir()):  # a missing directory given to read is named by the reader
        check_writable(out, "--out")
    board, text = write_leaderboard([Path(p) for p in options.paths], options.sort_by,
                                    out=Path(out) if out else None)
    print(text)
    if out:
        print(f"written: {Path(out) / 'leaderboard.md'}, leaderboard.json")
    return 1 if board["failed"] else 0


def add_gate(parser: argparse.ArgumentParser) -> None:
    from harness.gate import GATE_FORMATS

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
    parser.add_argument("--format", choices=GATE_FORMATS, default="text",
                        help="what to print: a text table (default), Markdown, the JSON report, or JUnit XML; "
                             "gate.json, gate.md and gate.xml (JUnit) are written whatever the format")


def gate(options: argparse.Namespace) -> int:
    from pathlib import Path

    from harness import gate as g
    from harness.outputs import check_writable

    # Where the gate writes, checked before any scoring (a candidate that is missing is named by its reader).
    if not (options.update_baseline or options.refresh_baseline) and (options.out or Path(options.candidate).is_dir()):
        check_writable(options.out or options.candidate, "--out")
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
    printed = g.render_gate_as(report, options.format)
    out = Path(options.out or options.candidate)
    g.write_gate_outputs(report, out)  # written before anything is printed: a failed write never follows a verdict
    print(printed, end="")
    # Only the text format shares stdout with this line: JSON and XML stay parseable.
    print(f"written: {', '.join(str(out / name) for name in g.GATE_FILES)}",
          file=sys.stdout if options.format == "text" else sys.stderr)
    return 0 if report["passed"] else 1


def add_track(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a run directory or a sweep directory")
    parser.add_argument("--tracker", choices=["mlflow", "wandb"], default="mlflow")
    parser.add_argument("--tracking-uri", help="MLflow: the tracking URI (default: MLFLOW_TRACKING_URI, else "
                                               "runs/mlflow.db); W&B: ignored (use wandb sync for offline runs)")
    parser.add_argument("--experiment", default="harness", help="MLflow experiment / W&B project (default: harness)")


def track(options: argparse.Namespace) -> int:
    """A tracker that cannot be reached or refuses is one line and exit 1 (the runs are complete on
    disk: log them later); unusable input is main's one line, exit 2."""
    from pathlib import Path

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


def add_compare(parser: argparse.ArgumentParser) -> None:
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


def compare(options: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from harness.outputs import check_writable
    from harness.reports import compare as cmp

    if options.out:
        check_writable(options.out, "--out")
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


def add_review(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a run, sweep or compare --out directory with a report.html")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0: any free one)")


def review(options: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.review import serve

    serve(Path(options.path), options.port)
    return 0


def add_meta_eval(parser: argparse.ArgumentParser) -> None:
    from harness.meta_eval.command import add_arguments

    add_arguments(parser)


def meta_eval(options: argparse.Namespace) -> int:
    """``harness meta-eval``: harness/meta_eval/command.py."""
    from harness.meta_eval.command import execute

    return execute(options, options.command_parser)


def add_calibrate(parser: argparse.ArgumentParser) -> None:
    from harness.calibration.command import add_arguments

    add_arguments(parser)


def calibrate(options: argparse.Namespace) -> int:
    """``harness calibrate``: harness/calibration/command.py."""
    from harness.calibration.command import execute

    return execute(options, options.command_parser)


def add_train_checker(parser: argparse.ArgumentParser) -> None:
    from harness.training.__main__ import add_arguments

    add_arguments(parser)


def train_checker(options: argparse.Namespace) -> int:
    """``harness train-checker pairs|train|evaluate``: harness/training/__main__.py."""
    from harness.training.__main__ import execute

    return execute(options)


# Each command: (declare its arguments, its line in ``harness -h``, the description atop ``harness NAME -h``).
COMMANDS = {
    "run": (add_overrides, "generate, score and report (a Hydra app: key=value overrides; -m runs the sweep)",
            "Generate summaries, score them and write the run directory (results.json, report.md, report.html). "
            "A Hydra app: override any config value; -m runs the sweep. Hydra's own flags pass through "
            "(--cfg job prints the composed config, --hydra-help Hydra's help). Every job's config is checked "
            "before anything is written: a bad value is one line, exit 2."),
    "validate": (add_overrides, "the config check alone (each job of a sweep with -m); nothing is run",
                 "Compose and check the config (each job of a sweep with -m): types, ranges, unset values. "
                 'Prints "config OK: ..." (exit 0) or one error line (exit 2); nothing is run or written.'),
    "plan": (add_overrides, "what a run or sweep would compute and cost, from this machine's earlier runs",
             "What the run or sweep would cost: summaries to generate and scores to compute (cached ones "
             "apart), a served model's requests and tokens, and the time estimated from this machine's earlier "
             "runs under ./runs; nothing is run."),
    "ls": (add_ls, "the options of one config group, each with its file's description", None),
    "leaderboard": (add_leaderboard, "the leaderboard of sweep or run directories",
                    "The leaderboard of sweep and run directories (shards merged): one directory, written into "
                    "it as leaderboard.md/.json; several, printed (and written to --out). Exit 1 when it lists "
                    "failed jobs."),
    "gate": (add_gate, "fail (exit 1) when quality dropped beyond noise against a baseline",
             "Paired bootstrap regression gate: fail (exit 1) when a metric of the candidate dropped below the "
             "baseline's beyond its tolerance and the noise; exit 2 on unusable input. A baseline scored by other "
             "scorers is scored again with the candidate's. --update-baseline writes the candidate as the new "
             "baseline file; --refresh-baseline re-scores the baseline file's summaries with the candidate's "
             "scorers (after a deliberate scorer change)."),
    "track": (add_track, "log a run or sweep directory to an experiment tracker (MLflow, W&B)",
              "Log finished runs to an experiment tracker: the runs a tracker that was down missed; already "
              "logged ones are skipped. A tracker that cannot be reached: one line, exit 1."),
    "compare": (add_compare, "runs side by side with 95%% CIs and paired differences; report.html for editors",
                "Compare runs and sweeps: a leaderboard with 95% CIs and paired bootstrap differences to a "
                "reference run; with --marks, the metrics' agreement with editors' marks; --out writes "
                "compare.{md,csv,json} and report.html."),
    "review": (add_review, "serve a report.html on 127.0.0.1 and save the editors' marks",
               "Serve DIR's report.html on 127.0.0.1 and save the editors' marks to DIR/marks.json (for "
               "compare --marks, meta-eval --marks and calibrate)."),
    "meta-eval": (add_meta_eval, "how well consistency or coverage scorers agree with human labels",
                  "How well consistency scorers (--task coverage: coverage matchers) agree with human labels: "
                  "--data FILE (formats qags, summac, summeval, realsumm; detected when not given), or --marks "
                  "DIR/marks.json (editors' sentence verdicts). --out keeps every score, the split and the data's "
                  "hash."),
    "calibrate": (add_calibrate, "choose every consistency threshold (and refit the composite) on labelled data",
                  "Choose every consistency threshold (and, unless --threshold-only, refit the composite) on "
                  "labelled examples of your data: --data FILE, or --marks DIR|marks.json. Runs use it with "
                  "calibration=PATH, meta-eval with --calibration PATH."),
    "train-checker": (add_train_checker, "build training pairs, train the project's own checker, its figures",
                      "Build training pairs, train the project's own checker (LoRA over the registry's MiniLM; "
                      "conf/training/checker.yaml), and its leave-one-set-out figures."),
}


if __name__ == "__main__":
    sys.exit(main())
