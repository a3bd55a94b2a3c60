"""One error path for every command (harness.cli.main): an error the user can fix is one line and
exit 2, whichever command raised it; a path a command cannot write is named with the option that
chose it and that option's fix (never hydra.run.dir advice for an --out); a gate tolerance is a
finite number, 0 or more; `harness run` refuses a run directory on a read-only mount or naming a
file before Hydra (and its app.log handler) start."""

import json
import math
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import cli
from harness.errors import HarnessError
from harness.run import run

from .helpers.cli import call, one_line
from .helpers.configs import config
from .helpers.run_if import require

METRIC = "rouge/rougeLsum_f"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-runs")
    for name, overrides in {"lead3": (), "lead1": ("system.k=1",)}.items():
        run(config("system=lead3", *overrides, "metrics=[rouge,extractiveness]", f"cache_dir={root / 'cache'}"),
            root / name)
    return root


def harness_process(*args, cwd=ROOT, prefix=()):
    return subprocess.run([*prefix, sys.executable, "-m", "harness", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


# --- one error path --------------------------------------------------------------------------------

COMMANDS = {"leaderboard": ["d"], "gate": ["--baseline", "b", "--candidate", "c"], "compare": ["d"],
            "track": ["d"], "review": ["d"], "meta-eval": ["--data", "f"], "calibrate": ["--data", "f", "--out", "o"],
            "train-checker": ["pairs", "--data", "f", "--out", "o"], "run": ["seed=1"], "validate": [], "plan": ["-m"],
            "ls": ["systems"]}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_harness_error_from_any_command_is_one_line_and_exit_2(monkeypatch, capsys, command):
    def fail(options):
        raise HarnessError(f"{command} cannot go on: the fix")

    monkeypatch.setattr(cli, command.replace("-", "_"), fail)
    code, out, err = call(capsys, command, *COMMANDS[command])
    assert (code, out, err) == (2, "", f"error: {command} cannot go on: the fix\n")


def test_leaderboard_help_is_usage_and_exit_0():
    done = harness_process("leaderboard", "--help")
    assert done.returncode == 0 and "usage: harness leaderboard" in done.stdout and not done.stderr


@pytest.mark.parametrize("command", ["leaderboard", "compare", "gate"])
@pytest.mark.parametrize("case", ["missing", "empty", "truncated", "schema", "not-an-object", "wrong-type"])
def test_unusable_run_directories_are_one_line_from_every_reader(runs, tmp_path, capsys, command, case):
    target = tmp_path / "target"
    if case != "missing":
        shutil.copytree(runs / "lead3", target)
    results = target / "results.json"
    if case == "empty":
        shutil.rmtree(target)
        target.mkdir()
    elif case == "truncated":
        results.write_text(results.read_text()[:200])
    elif case in ("schema", "wrong-type"):
        data = json.loads(results.read_text())
        data.update({"schema_version": "1.0"} if case == "schema" else {"generation": {"generated": "1"}})
        results.write_text(json.dumps(data))
    elif case == "not-an-object":
        results.write_text("[]")
    args = {"leaderboard": ["leaderboard", target], "compare": ["compare", target],
            "gate": ["gate", "--baseline", runs / "lead3", "--candidate", target, "--out", tmp_path / "o"]}[command]
    code, out, err = call(capsys, *args)
    expected = {"missing": "no such run directory", "empty": "no run here", "truncated": "not valid JSON",
                "schema": "results schema version '1.0' differs", "not-an-object": "expected a JSON object",
                "wrong-type": "field 'generation.generated' should be an integer"}[case]
    one_line(code, err, str(target), expected)


def test_track_and_review_errors_are_one_line(tmp_path, capsys):
    one_line(*call(capsys, "review", tmp_path / "nope", "--port", "0")[::2], f"no report.html in {tmp_path / 'nope'}")
    require(extra="mlflow")  # harness track logs to MLflow
    code, _, err = call(capsys, "track", tmp_path / "nope", "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}")
    errors = [line for line in err.splitlines() if "mlflow" not in line]  # MLflow's own INFO lines on a new store
    assert code == 2 and errors == [f"error: {tmp_path / 'nope'}: no run here (no results.json in it or in its "
                                    "subdirectories)"]


# --- the gate: tolerances, JUnit, writing before printing -------------------------------------------

@pytest.mark.parametrize("tolerance", ["-1", "-0.01", "nan", "NaN", "inf", "-inf", "abc", "", "1e999"])
def test_a_tolerance_that_is_not_a_finite_number_at_least_0_is_refused_naming_the_option(runs, tmp_path, capsys,
                                                                                     tolerance):
    code, out, err = call(capsys, "gate", "--baseline", runs / "lead1", "--candidate", runs / "lead3",
                          "--metric", f"{METRIC}:{tolerance}", "--out", tmp_path / "o")
    one_line(code, err, f"--metric '{METRIC}:{tolerance}': the tolerance must be a finite number, 0 or more")
    assert not out and not (tmp_path / "o" / "gate.json").exists()


@pytest.mark.parametrize("tolerance, needed", [("0", 2), ("1e-320", 10**12)])
def test_a_tolerance_of_0_or_a_tiny_one_gates_without_overflow(runs, tmp_path, capsys, tolerance, needed):
    code, out, err = call(capsys, "gate", "--baseline", runs / "lead3", "--candidate", runs / "lead3",
                          "--metric", f"{METRIC}:{tolerance}", "--out", tmp_path / "o")
    assert code == 0 and "gate PASSED" in out, err
    (metric,) = json.loads((tmp_path / "o" / "gate.json").read_text())["comparisons"][0]["metrics"]
    assert metric["tolerance"] == float(tolerance) and metric["articles_needed"] == needed


def test_a_gate_config_with_a_negative_tolerance_is_refused_naming_the_file(monkeypatch, tmp_path, capsys, runs):
    from harness import gate

    (tmp_path / "gate").mkdir()
    (tmp_path / "gate" / "neg.yaml").write_text(f"metrics:\n  {METRIC}: -0.1\nconfidence: 0.95\nn_resamples: 100\n"
                                                "seed: 0\n")
    monkeypatch.setattr(gate, "CONF_DIR", tmp_path)
    code, _, err = call(capsys, "gate", "--baseline", runs / "lead3", "--candidate", runs / "lead3",
                        "--config", "neg", "--out", tmp_path / "o")
    one_line(code, err, f"neg.yaml: metrics.{METRIC}: the tolerance must be a finite number, 0 or more", "-0.1")


@pytest.mark.parametrize("fmt", ["junit", "text", "json", "markdown"])
def test_the_gate_writes_its_files_whatever_it_prints(runs, tmp_path, capsys, fmt):
    code, out, err = call(capsys, "gate", "--baseline", runs / "lead3", "--candidate", runs / "lead3",
                          "--metric", f"{METRIC}:0.02", "--format", fmt, "--out", tmp_path / "o")
    assert code == 0, err
    suites = ET.parse(tmp_path / "o" / "gate.xml").getroot()
    assert suites.get("tests") == "1" and suites.get("failures") == "0"
    if fmt == "junit":
        assert ET.fromstring(out).get("tests") == "1"


def test_a_gate_that_cannot_write_prints_no_verdict(runs, tmp_path, capsys, monkeypatch):
    """The files are written before the verdict is printed: a write that fails (here the third
    file, gate.xml) is the one line of the run, never after "pass"."""
    import harness.io as hio

    real = hio._write

    def fail_on_xml(path, text):
        if Path(path).name == "gate.xml":
            raise OSError(28, "No space left on device", str(path))
        real(path, text)

    monkeypatch.setattr(hio, "_write", fail_on_xml)
    code, out, err = call(capsys, "gate", "--baseline", runs / "lead3", "--candidate", runs / "lead3",
                          "--metric", f"{METRIC}:0.02", "--format", "junit", "--out", tmp_path / "o")
    line = one_line(code, err, f"cannot write {tmp_path / 'o' / 'gate.xml'}: No space left on device",
                    "Free space there, or give --out a writable directory")
    assert out == "" and "hydra" not in line


# --- unwritable outputs -----------------------------------------------------------------------------

def _file(tmp_path):
    (tmp_path / "a-file").write_text("x")
    return tmp_path / "a-file"


OUT_COMMANDS = {  # command -> argv builder(runs, out)
    "compare": lambda runs, out: ["compare", runs / "lead3", runs / "lead1", "--out", out],
    "gate": lambda runs, out: ["gate", "--baseline", runs / "lead1", "--candidate", runs / "lead3",
                               "--metric", f"{METRIC}:0.5", "--out", out],
    "leaderboard": lambda runs, out: ["leaderboard", runs / "lead3", runs / "lead1", "--out", out],
    "meta-eval": lambda runs, out: ["meta-eval", "--data", "not-read.jsonl", "--out", out],
}


@pytest.mark.parametrize("command", list(OUT_COMMANDS))
@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_out_that_cannot_be_a_directory_is_one_line_naming_out(runs, tmp_path, capsys, command, where):
    out = _file(tmp_path) if where == "a file" else _file(tmp_path) / "sub"
    code, printed, err = call(capsys, *OUT_COMMANDS[command](runs, out))
    line = one_line(code, err, f"cannot write {out}", "Give --out a writable directory")
    assert "hydra" not in line and printed == ""


@pytest.mark.parametrize("command", ["compare", "gate"])
def test_a_write_that_fails_after_the_check_names_out(runs, tmp_path, capsys, monkeypatch, command):
    import harness.io as hio

    def denied(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(hio, "_write", denied)
    code, _, err = call(capsys, *OUT_COMMANDS[command](runs, tmp_path / "o"))
    line = one_line(code, err, f"cannot write {tmp_path / 'o'}", "Permission denied (errno EACCES)",
                    "Give --out a writable directory")
    assert "hydra" not in line


def test_an_unwritable_baseline_is_named_by_baseline(runs, tmp_path, capsys):
    for baseline in (_file(tmp_path) / "baseline.json", tmp_path):  # under a file; a directory
        code, out, err = call(capsys, "gate", "--update-baseline", "--baseline", baseline, "--candidate",
                              runs / "lead3")
        line = one_line(code, err, f"cannot write {baseline}", "Give --baseline a path in a writable directory")
        assert "hydra" not in line and not out


def test_meta_eval_save_paths_are_checked_before_scoring(tmp_path, capsys):
    saved = _file(tmp_path) / "composite.json"
    code, _, err = call(capsys, "meta-eval", "--data", "not-read.jsonl", "--metrics", "a,b", "--save-composite", saved)
    one_line(code, err, f"cannot write {saved}", "Give --save-composite a path in a writable directory")


def test_the_baseline_writer_refuses_a_non_finite_value(tmp_path):
    from harness.results.baseline import write_baseline_file
    from harness.results.schema import ResultsError

    with pytest.raises(ResultsError, match=r"runs\.0\.scores\.a\.m is inf, not a finite number"):
        write_baseline_file(tmp_path / "b.json", {"runs": [{"scores": {"a": {"m": math.inf}}}]})
    assert not (tmp_path / "b.json").exists()


# --- read-only mounts (a real one: a bind mount in a user namespace, where the system allows it) ------

def read_only(directory: Path) -> tuple[str, ...]:
    """A command prefix that runs the command with ``directory`` mounted read-only."""
    script = f'mount --bind "{directory}" "{directory}" && mount -o remount,bind,ro "{directory}" && exec "$@"'
    return ("unshare", "-rm", "sh", "-c", script, "sh")


def _can_mount_read_only() -> bool:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        try:
            done = subprocess.run([*read_only(Path(directory)), "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return False
    return done.returncode == 0


read_only_mount = pytest.mark.skipif(not _can_mount_read_only(),
                                     reason="no user namespaces here (unshare -rm) for a read-only bind mount")


@read_only_mount
def test_an_out_on_a_read_only_mount_is_one_line(runs, tmp_path):
    mount = tmp_path / "ro"
    mount.mkdir()
    done = harness_process("compare", runs / "lead3", "--out", mount / "out", prefix=read_only(mount))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"error: cannot write {mount / 'out'}: Read-only file system (errno EROFS). "
                           "Give --out a writable directory, then run the command again\n")


@read_only_mount
@pytest.mark.parametrize("exists", [True, False])
def test_a_run_directory_on_a_read_only_mount_is_one_line(tmp_path, exists):
    mount = tmp_path / "ro"
    (mount / "run").mkdir(parents=True)
    target = mount / "run" if exists else mount / "new" / "run"
    done = harness_process("run", "system=lead3", "metrics=[rouge]", f"hydra.run.dir={target}",
                           f"cache_dir={tmp_path / 'cache'}", "progress=false", prefix=read_only(mount))
    where = target if exists else f"{mount / 'new' / 'run'} (in {mount})"
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"error: cannot write {where}: Read-only file system (errno EROFS). Give the run a "
                           "writable directory: hydra.run.dir=DIR (a sweep: hydra.sweep.dir=DIR)\n")


@read_only_mount
def test_a_sweep_from_a_read_only_working_directory_is_one_line(tmp_path):
    done = harness_process("run", "-m", "system=lead3", "metrics=[rouge]", f"cache_dir={tmp_path / 'cache'}",
                           cwd=tmp_path, prefix=read_only(tmp_path))
    assert done.returncode == 2 and done.stderr.startswith("error: cannot write runs/multirun (in .): Read-only "
                                                           "file system (errno EROFS). Give the run a writable "
                                                           "directory: hydra.run.dir=DIR (a sweep: hydra.sweep.dir")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("value", ["FILE", "FILE/sub", "'FILE'", "FILE/${now:%H}"])
def test_a_run_directory_naming_a_file_is_one_line(tmp_path, value):
    path = _file(tmp_path)
    value = value.replace("FILE", str(path))
    done = harness_process("run", "system=lead3", "metrics=[rouge]", f"hydra.run.dir={value}", "progress=false")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"error: hydra.run.dir={value.strip(chr(39))}: {path} is a file, not a directory; "
                                  "give hydra.run.dir a directory")
    assert "Traceback" not in done.stderr


def test_the_run_directory_check_passes_writable_and_interpolated_directories(tmp_path):
    from harness.outputs import check_run_dir_override

    check_run_dir_override([f"hydra.run.dir={tmp_path / 'new' / 'deeper'}"])
    check_run_dir_override(["-m", f"hydra.sweep.dir={tmp_path}/sweep-${{now:%H}}"])
    check_run_dir_override([])  # the config's runs/${now:...}: under this checkout
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing created, no probe left
