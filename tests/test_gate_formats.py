"""`harness gate --format text|markdown|json|junit` on real runs: each format parses back (the
JUnit XML through xml.etree) with exact counts and failure messages; exit codes do not change
with the format; gate.json, gate.md and gate.xml are written whatever the format."""

import json
import shutil
import xml.etree.ElementTree as ET

import pytest

from harness.cli import main as harness_main
from harness.gate import GateInputError, render_gate_as
from harness.run import run

from .helpers.cli import gate, one_line
from .helpers.configs import config

GATED = ("--metric", "rouge/rougeLsum_f:0.02", "--metric", "rouge/rouge1_f:0.02")
# lead-1 against lead-3 on the embedded article (one article: the interval is the point difference).
LSUM_FAIL = ("lead-1: rouge/rougeLsum_f fell beyond the tolerance 0.02: baseline 0.3770, candidate 0.2299, "
             "difference -0.1472 [95% CI -0.1472, -0.1472] over 1 articles")
ROUGE1_FAIL = ("lead-1: rouge/rouge1_f fell beyond the tolerance 0.02: baseline 0.4262, candidate 0.3448, "
               "difference -0.0814 [95% CI -0.0814, -0.0814] over 1 articles")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("gate-format-runs")
    made = {"lead3": ("system=lead3",), "lead1": ("system=lead3", "system.k=1"), "bullets": ("system=bullets",)}
    for name, overrides in made.items():
        run(config(*overrides, f"cache_dir={root / 'cache'}", "metrics=[rouge]"), root / name)
    for sweep, members in {"base_sweep": ("lead3", "bullets"), "partial_sweep": ("lead3",)}.items():
        for i, member in enumerate(members):
            shutil.copytree(root / member, root / sweep / str(i))
    return root


def suites(xml_text: str):
    root = ET.fromstring(xml_text)
    assert root.tag == "testsuites"
    return root, root.findall("testsuite")


def test_junit_failure_has_one_testcase_per_metric_and_the_verdict_line(runs, capsys, tmp_path):
    code, out, err = gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead1", *GATED,
                          "--format", "junit", "--out", tmp_path)
    assert code == 1
    root, (suite,) = suites(out)
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "2", "failures": "2", "errors": "0", "skipped": "0"}
    assert suite.get("name") == "gate: lead-1" and suite.get("tests") == "2" and suite.get("failures") == "2"
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [("lead-1", "rouge/rougeLsum_f"),
                                                                   ("lead-1", "rouge/rouge1_f")]
    assert [c.find("failure").get("message") for c in cases] == [LSUM_FAIL, ROUGE1_FAIL]
    assert [c.find("failure").text for c in cases] == [LSUM_FAIL, ROUGE1_FAIL]
    assert (tmp_path / "gate.xml").read_text() == out  # the same XML is written beside gate.json
    assert err == f"written: {tmp_path / 'gate.json'}, {tmp_path / 'gate.md'}, {tmp_path / 'gate.xml'}\n"


def test_junit_pass_and_skipped_runs(runs, capsys, tmp_path):
    code, out, _ = gate(capsys, "--baseline", runs / "base_sweep", "--candidate", runs / "partial_sweep", *GATED,
                        "--allow-missing", "--format", "junit", "--out", tmp_path)
    assert code == 0
    root, (passed, skipped) = suites(out)
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4", "failures": "0", "errors": "0", "skipped": "2"}
    assert [c.find("failure") for c in passed.findall("testcase")] == [None, None]
    assert passed.find("testcase/system-out").text == (
        "lead-3: rouge/rougeLsum_f within the tolerance 0.02: baseline 0.3770, candidate 0.3770, "
        "difference +0.0000 [95% CI +0.0000, +0.0000] over 1 articles")
    assert skipped.get("name") == "gate: not gated (no candidate run)" and skipped.get("skipped") == "2"
    assert [(c.get("classname"), c.get("name"), c.find("skipped").get("message"))
            for c in skipped.findall("testcase")] == [
        ("reference-bullets", metric, "reference-bullets: not gated: the candidate has no run with its setup")
        for metric in ("rouge/rougeLsum_f", "rouge/rouge1_f")]
    assert root.find("system-out").text.splitlines()[-1] == "warning: not gated (no candidate run): reference-bullets"


def test_json_format_is_the_report_and_markdown_is_gate_md(runs, capsys, tmp_path):
    code, out, _ = gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead1", *GATED,
                        "--format", "json", "--out", tmp_path)
    report = json.loads(out)
    assert code == 1 and report == json.loads((tmp_path / "gate.json").read_text())
    assert report["passed"] is False and report["failed"] == ["lead-1: rouge/rougeLsum_f", "lead-1: rouge/rouge1_f"]
    code, out, _ = gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead1", *GATED,
                        "--format", "markdown", "--out", tmp_path)
    assert code == 1 and out == (tmp_path / "gate.md").read_text()
    assert out.startswith("## Quality gate: FAILED: lead\\-1: rouge/rougeLsum\\_f, lead\\-1: rouge/rouge1\\_f\n")


def test_text_is_the_default_and_exit_codes_do_not_depend_on_the_format(runs, capsys, tmp_path):
    code, out, _ = gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead3", *GATED, "--out", tmp_path)
    assert code == 0 and out.splitlines()[-2:] == [
        "gate PASSED", f"written: {tmp_path / 'gate.json'}, {tmp_path / 'gate.md'}, {tmp_path / 'gate.xml'}"]
    for fmt in ("text", "markdown", "json", "junit"):
        assert gate(capsys, "--baseline", runs / "lead3", "--candidate", runs / "lead1", *GATED,
                    "--format", fmt, "--out", tmp_path)[0] == 1
        code, out, err = gate(capsys, "--baseline", runs / "lead3", "--candidate", tmp_path / "missing",
                              "--format", fmt)
        assert code == 2 and out == "" and "no such run directory" in err


def test_an_unknown_format_is_refused(capsys):
    assert harness_main(["gate", "--baseline", "b", "--candidate", "c", "--format", "xml"]) == 2
    one_line(2, capsys.readouterr().err, "harness gate: argument --format: invalid choice: 'xml'")
    with pytest.raises(GateInputError, match="no gate format 'xml': choose one of text, markdown, json, junit"):
        render_gate_as({}, "xml")
