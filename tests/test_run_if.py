"""tests/helpers/run_if.py: a test runs only where what it needs is here; elsewhere it is skipped naming
what is missing and how to install it, and in CI (which installs every extra) it fails instead."""

import pytest

from .helpers import run_if as r


def test_what_is_missing_is_named_with_its_fix(monkeypatch, tmp_path):
    monkeypatch.setitem(r.EXTRA_MODULES, "ray", "no_such_module_for_run_if")
    assert r.missing(extra="ray") == [("needs the ray extra (no_such_module_for_run_if is not installed): "
                                       "pip install -e '.[ray]'", True)]
    assert r.missing(module="no_such_module_for_run_if") == [
        ("needs no_such_module_for_run_if, which is not installed: pip install it", False)]
    assert r.missing(executable="no-such-program-for-run-if") == [("needs no-such-program-for-run-if on PATH", False)]
    monkeypatch.setattr(r, "SHARED_DIR", tmp_path / "absent")
    assert r.missing(shared_data=True) == [(f"needs the shared data beside this checkout ({tmp_path / 'absent'})",
                                            False)]
    assert r.missing(module="json", executable="sh") == []
    with pytest.raises(ValueError, match="unknown extra 'nope'"):
        r.missing(extra="nope")


def test_require_skips_here_and_fails_in_ci_for_what_ci_installs(monkeypatch):
    monkeypatch.setitem(r.EXTRA_MODULES, "ray", "no_such_module_for_run_if")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"needs the ray extra"):
        r.require(extra="ray")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"needs the ray extra .*\(CI: .ci/run installs it\)"):
        r.require(extra="ray")
    with pytest.raises(pytest.skip.Exception, match="on PATH"):  # CI installs no arbitrary program
        r.require(executable="no-such-program-for-run-if")
    r.require(module="json")  # here: nothing raised


def test_the_marker_is_checked_for_every_run_if_of_a_test(monkeypatch):
    monkeypatch.delenv("CI", raising=False)

    class Item:
        nodeid = "tests/test_x.py::test_y"

        def __init__(self, *marks):
            self.marks = marks

        def iter_markers(self, name):
            return [m.mark for m in self.marks if m.mark.name == name]

    r.check(Item(r.run_if(module="json"), pytest.mark.slow))
    with pytest.raises(pytest.skip.Exception, match="no_such_module_for_run_if"):
        r.check(Item(r.run_if(module="json"), r.run_if(module="no_such_module_for_run_if")))
    with pytest.raises(TypeError, match="run_if takes keywords"):
        r.check(Item(r.run_if("ray")))


@r.run_if(module="no_such_module_for_run_if")
def test_a_marked_test_is_skipped_before_it_runs():
    raise AssertionError("run_if should have skipped this test")
