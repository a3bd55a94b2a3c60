"""The Python API as a notebook calls it: `harness.compose` (resolvers registered by itself) and
`harness.evaluate` (one run, its results as the typed model), in a fresh interpreter."""

import json
import os
import subprocess
import sys

import pytest

import harness
from harness.errors import ConfigError
from harness.results.schema import CompletedResults
from harness.run import run

from .helpers.cli import ROOT
from .helpers.configs import config
from .helpers.timing import scaled_timeout


def python(code: str, cwd, tmp_path) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter in ``cwd`` (no test's resolvers registered, no conftest)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "HARNESS_CACHE_DIR": str(tmp_path / "cache"),
           **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=scaled_timeout(120))


def test_import_harness_loads_nothing_heavy(tmp_path):
    done = python("import sys, harness; print(sorted(m.split('.')[0] for m in sys.modules "
                  "if m.split('.')[0] in ('omegaconf', 'hydra', 'torch', 'transformers', 'pydantic')))\n"
                  "print(harness.__all__, callable(harness.compose), callable(harness.evaluate))", tmp_path, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "['compose', 'evaluate'] True True"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        harness.nope  # noqa: B018


def test_a_notebook_composes_changes_and_evaluates_lead3_without_the_cli(tmp_path):
    cwd = tmp_path / "notebook"
    cwd.mkdir()
    code = """
import json, harness
cfg = harness.compose(["system=lead3", "metrics=[rouge]", "progress=false"])
print(cfg.data.path)  # ${project_root:} resolves without register_resolvers()
cfg.system.k = 2
two = harness.evaluate(cfg, output_dir="lead2")
three = harness.evaluate(["system=lead3", "metrics=[rouge]", "progress=false"])
print(json.dumps([type(two).__name__, two.run.name, two.metrics, three.run.name, three.metrics,
                  list(three.metric_stats["rouge/rougeLsum_f"].ci95), three.provenance.overrides]))
"""
    done = python(code, cwd, tmp_path)
    assert done.returncode == 0, done.stderr
    path, line = done.stdout.splitlines()
    assert path == str(ROOT / "references" / "seed.jsonl")
    kind, name2, metrics2, name3, metrics3, ci, overrides = json.loads(line)
    assert (kind, name2, name3) == ("CompletedResults", "lead-2", "lead-3")
    assert overrides == ["system=lead3", "metrics=[rouge]", "progress=false"]
    # The same figures as the run the CLI makes (harness.run.run on the same composed config).
    expected = run(config("system=lead3", "metrics=[rouge]", f"cache_dir={tmp_path / 'cache2'}"), tmp_path / "cli")
    assert metrics3 == expected["metrics"] and metrics2 != metrics3
    assert ci[0] <= metrics3["rouge/rougeLsum_f"] <= ci[1]
    assert json.loads((cwd / "lead2" / "results.json").read_text())["run"]["name"] == "lead-2"
    (default,) = cwd.glob("runs/*/*/results.json")  # harness run's default directory, under the cwd
    assert CompletedResults.model_validate(json.loads(default.read_text())).run.name == "lead-3"


def test_evaluate_refuses_a_bad_value_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="^seed must be an integer, 0 or more"):
        harness.evaluate(["system=lead3", "seed=abc"])
    with pytest.raises(ConfigError, match="^Could not override 'no_such_key'"):
        harness.compose(["no_such_key=1"])
    assert list(tmp_path.iterdir()) == []
