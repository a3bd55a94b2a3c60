"""The example CI workflow (.github/workflows/quality-gate.yml): actionlint finds no error in it
(and does find one in a broken copy, so the check can fail), and it keeps what users copy it for:
a timeout, pip and runs/.cache caches keyed by pyproject.toml and conf/**, the gate on pull
requests, the gate's Markdown in the job summary, an optional PR comment, the reports uploaded.
Without the `actionlint` extra the lint tests skip naming it (in CI, where .ci/run installs it,
they fail)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "quality-gate.yml"


def actionlint() -> str:
    found = shutil.which("actionlint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if not found:
        reason = "actionlint is not installed: pip install -e '.[actionlint]'"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI: .ci/run installs it)")
        pytest.skip(reason)
    return found


def lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint(), "-no-color", "-oneline", str(path)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_actionlint_finds_no_error_in_the_workflow():
    done = lint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_actionlint_fails_on_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("timeout-minutes: 45", "timeout-minutes: 45\n    runs-onn: x")
                      .replace("${{ github.token }}", "${{ github.tokn }}"))
    done = lint(broken)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout
    assert 'unexpected key "runs-onn" for "job" section' in lines[0]
    assert 'property "tokn" is not defined in object type' in lines[1]


def test_the_workflow_keeps_what_users_copy_it_for():
    flow = yaml.safe_load(WORKFLOW.read_text())
    assert "pull_request" in flow[True]  # YAML 1.1 reads the key `on` as true
    job = flow["jobs"]["gate"]
    assert job["timeout-minutes"] == 45
    steps = {step.get("name", step.get("uses")): step for step in job["steps"]}
    assert steps["actions/setup-python@v6"]["with"] == {"python-version": "3.11", "cache": "pip",
                                                        "cache-dependency-path": "pyproject.toml"}
    cache = steps["Cache generations and scores"]["with"]
    assert cache["path"] == "runs/.cache"
    assert cache["key"] == "harness-cache-${{ runner.os }}-${{ hashFiles('pyproject.toml', 'conf/**') }}"
    assert steps["Gate against the committed baseline"]["run"].startswith(
        ".venv/bin/harness gate --baseline runs/baselines/default.json")
    assert '>> "$GITHUB_STEP_SUMMARY"' in steps["Gate verdict in the job summary"]["run"]
    assert steps["Gate verdict in the job summary"]["if"] == "always()"
    comment = steps["Gate verdict as a pull-request comment"]
    assert "vars.GATE_PR_COMMENT == 'true'" in comment["if"] and "gh pr comment" in comment["run"]
    upload = steps["Upload the reports"]
    assert upload["if"] == "always()" and upload["uses"] == "actions/upload-artifact@v6"
    assert [Path(p).name for p in upload["with"]["path"].splitlines()] == [
        "report.html", "compare.md", "leaderboard.md", "gate.md", "gate.json", "gate.xml"]
