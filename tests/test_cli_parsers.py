"""The ``harness`` command is built from one argparse parser per command: the help is generated from
them, a command line a parser refuses is one line and exit 2, a bug is a traceback and exit 1, and
the Hydra overrides of run, validate and plan pass through exactly as given."""

import subprocess
import sys

import pytest

from harness import cli

from .helpers.cli import ROOT, call, harness, one_line
from .helpers.timing import scaled_timeout


def test_the_generated_help_lists_every_command_with_its_one_line(tmp_path):
    done = harness("-h", cache_dir=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    text = " ".join(done.stdout.split())  # argparse wraps the lines
    for name, (_, summary, _) in cli.COMMANDS.items():
        assert f"{name} {' '.join(summary.replace('%%', '%').split())}" in text, name
    assert harness(cache_dir=tmp_path).stdout == done.stdout  # no arguments: the same help
    assert harness("help", cache_dir=tmp_path).stdout == done.stdout


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_each_command_has_its_own_help(capsys, command):
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "-h"])
    out = capsys.readouterr().out
    assert exited.value.code == 0 and out.startswith(f"usage: harness {command} ")
    with pytest.raises(SystemExit):
        cli.main(["help", command])
    assert capsys.readouterr().out == out


def test_every_option_the_old_usage_named_is_in_the_generated_help(capsys):
    """The options the hand-written usage listed (and those it had lost: lodo, --save-calibration,
    gate's --out, compare's --n-resamples) are each in their command's help."""
    options = {"leaderboard": ["--sort-by", "--out"],
               "gate": ["--baseline", "--candidate", "--metric", "--config", "--allow-missing", "--format", "--out",
                        "--update-baseline", "--refresh-baseline"],
               "track": ["--tracker", "--tracking-uri", "--experiment"],
               "compare": ["--sort-by", "--metric", "--reference", "--format", "--marks", "--out", "--n-resamples"],
               "review": ["--port"],
               "meta-eval": ["--data", "--format", "--metrics", "--split", "lodo", "--dev", "--dataset",
                             "--save-composite", "--save-calibration", "--out", "--marks", "--runs", "--task"],
               "calibrate": ["--data", "--marks", "--out", "--threshold-only"],
               "train-checker": ["pairs", "train", "evaluate"]}
    for command, names in options.items():
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        out = capsys.readouterr().out
        assert [n for n in names if n not in out] == [], command


@pytest.mark.parametrize("argv, message", [
    (["gate", "--baseline", "b", "--candidate", "c", "--bogus"], "harness gate: unrecognized arguments: --bogus"),
    (["leaderboard", "d", "--n-resamples", "5"], "harness leaderboard: unrecognized arguments: --n-resamples 5"),
    (["ls", "systems", "metrics"], "harness ls: unrecognized arguments: metrics"),
    (["compare"], "harness compare: the following arguments are required: paths"),
    (["review", "d", "--port", "x"], "harness review: argument --port: invalid int value: 'x'"),
    (["nope"], "harness: argument COMMAND: invalid choice: 'nope'"),
    (["--bogus"], "harness: unrecognized arguments: --bogus"),
    (["train-checker", "fly"], "harness train-checker: argument STEP: invalid choice: 'fly'"),
])
def test_a_command_line_a_parser_refuses_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, *argv)
    line = one_line(code, err, message)
    assert line.endswith("-h)") and out == ""  # the line says where the options are listed
    assert list(tmp_path.iterdir()) == []


def _run_with_bug(command: str, exception: str, *args: str) -> subprocess.CompletedProcess:
    """``harness COMMAND ARGS`` with COMMAND's handler replaced by one that raises ``exception``."""
    script = ("import sys\nfrom harness import cli\n"
              f"def broken(options):\n    raise {exception}('a bug in our own code')\n"
              f"cli.{command.replace('-', '_')} = broken\nsys.exit(cli.main(sys.argv[1:]))\n")
    return subprocess.run([sys.executable, "-c", script, command, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=scaled_timeout(60))


@pytest.mark.parametrize("command, exception, args", [
    ("ls", "RuntimeError", ["systems"]),
    ("gate", "ValueError", ["--baseline", "b", "--candidate", "c"]),  # a ValueError of ours is a bug too
    ("run", "AttributeError", ["system=lead3"]),
])
def test_a_bug_is_a_traceback_and_exit_1(command, exception, args):
    done = _run_with_bug(command, exception, *args)
    assert done.returncode == 1 and done.stdout == ""
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.rstrip().endswith(f"{exception}: a bug in our own code"), done.stderr


@pytest.mark.parametrize("command", cli.OVERRIDE_COMMANDS)
@pytest.mark.parametrize("args", [
    ["-m", "system=lead3,bullets", "seed=1"],
    ["--cfg", "job", "system=lead3"],
    ["hydra.run.dir=-x", "--multirun", "+launcher=joblib", "~progress"],
    [],
])
def test_the_overrides_pass_through_exactly_as_given(command, args):
    options = cli.parse([command, *args])
    assert options.overrides == args and options.handler == command


def test_help_is_ours_even_among_overrides(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "system=lead3", "--help"])
    assert exited.value.code == 0 and "usage: harness run [-h] [OVERRIDE ...]" in capsys.readouterr().out
