"""The example CI workflow (.github/workflows/quality-gate.yml): actionlint finds no error in it
(and does find one in a broken copy, so the check can fail), and it keeps what users copy it for:
a timeout; pip's cache; runs/.cache keyed by pyproject.toml, conf/** and harness/**, restored on
every run and saved only by pushes to the default branch (a cache saved by a pull request is
scoped to it); the runtime installed without test tools or a browser; the gate on pull requests;
its Markdown in the job summary; an optional PR comment edited in place; the reports uploaded
under a name unique to the run attempt.
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


def steps_of(flow) -> dict:
    return {step.get("name", step.get("uses")): step for step in flow["jobs"]["gate"]["steps"]}


def test_the_workflow_keeps_what_users_copy_it_for():
    flow = yaml.safe_load(WORKFLOW.read_text())
    assert "pull_request" in flow[True]  # YAML 1.1 reads the key `on` as true
    job = flow["jobs"]["gate"]
    assert job["timeout-minutes"] == 45
    steps = steps_of(flow)
    assert steps["actions/setup-python@v6"]["with"] == {"python-version": "3.11", "cache": "pip",
                                                        "cache-dependency-path": "pyproject.toml"}
    assert steps["Gate against the committed baseline"]["run"].startswith(
        ".venv/bin/harness gate --baseline runs/baselines/default.json")
    assert '>> "$GITHUB_STEP_SUMMARY"' in steps["Gate verdict in the job summary"]["run"]
    assert steps["Gate verdict in the job summary"]["if"] == "always()"
    upload = steps["Upload the reports"]
    assert upload["if"] == "always()" and upload["uses"] == "actions/upload-artifact@v6"
    assert [Path(p).name for p in upload["with"]["path"].splitlines()] == [
        "report.html", "compare.md", "leaderboard.md", "gate.md", "gate.json", "gate.xml"]


def test_the_cache_is_restored_everywhere_and_saved_on_pushes_to_the_default_branch():
    flow = yaml.safe_load(WORKFLOW.read_text())
    assert flow[True]["push"]["branches"] == ["main"]
    steps = [s for s in flow["jobs"]["gate"]["steps"] if s.get("uses", "").startswith("actions/cache")]
    restore, save = steps  # no actions/cache@ (which would also save from pull requests)
    assert restore["uses"] == "actions/cache/restore@v5" and "if" not in restore
    assert restore["with"]["path"] == "runs/.cache"
    assert restore["with"]["key"] == ("harness-cache-${{ runner.os }}-"
                                      "${{ hashFiles('pyproject.toml', 'conf/**', 'harness/**') }}")
    assert restore["with"]["restore-keys"].strip() == "harness-cache-${{ runner.os }}-"
    assert save["uses"] == "actions/cache/save@v5" and save["with"]["path"] == "runs/.cache"
    assert save["with"]["key"] == f"${{{{ steps.{restore['id']}.outputs.cache-primary-key }}}}"
    condition = " ".join(save["if"].split())
    assert "github.event_name == 'push'" in condition
    assert "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)" in condition
    assert "!cancelled()" in condition  # saved after a failing gate too: the summaries are still good
    order = [s.get("name", s.get("uses")) for s in flow["jobs"]["gate"]["steps"]]
    assert order.index(save["name"]) > order.index("Run the default sweep")


def test_the_gate_installs_no_browser_and_no_test_tools():
    (install,) = [s for name, s in steps_of(yaml.safe_load(WORKFLOW.read_text())).items()
                  if name.startswith("Install")]
    assert "make install-runtime" in install["run"] and "make install\n" not in install["run"] + "\n"
    makefile = (ROOT / "Makefile").read_text()
    runtime = makefile[makefile.index("$(VENV)/.runtime: pyproject.toml"):].split("\n\n")[0]
    assert "pip install -e ." in runtime.replace("$(PIP)", "pip") and "[dev]" not in runtime
    assert "playwright" not in runtime.lower()


def test_the_pr_comment_is_edited_in_place_and_the_artifact_name_is_unique():
    steps = steps_of(yaml.safe_load(WORKFLOW.read_text()))
    comment = steps["Gate verdict as a pull-request comment"]
    assert "vars.GATE_PR_COMMENT == 'true'" in comment["if"]
    script = comment["run"]
    assert "--method PATCH" in script and "issues/comments/${id}" in script  # the existing one, edited
    assert "--method POST" in script and "gh pr comment" not in script  # created only when there is none
    assert comment["env"]["MARKER"] in script or "$MARKER" in script
    upload = steps["Upload the reports"]["with"]
    assert "${{ github.run_id }}" in upload["name"] and "${{ github.run_attempt }}" in upload["name"]
