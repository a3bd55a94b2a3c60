"""`harness validate` (the config check alone) and `harness ls` (a config group's options)."""

import pytest

from harness.cli import main
from harness.config import GROUPS, description, group_options
from harness.errors import ConfigError

from .helpers.cli import one_line


def call(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_validate_says_ok_in_one_line_and_runs_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "validate", "system=lead3", "metrics=[rouge,extractiveness]")
    assert (code, err) == (0, "")
    assert out == "config OK: 1 run (lead-3 | bullets | greedy); metrics: extractiveness, rouge\n"
    assert list(tmp_path.iterdir()) == []


def test_validate_checks_every_job_of_a_sweep(capsys):
    code, out, _ = call(capsys, "validate", "-m", "system=lead3,bullets", "decoding=greedy", "metrics=[rouge]")
    assert code == 0
    assert out == ("config OK: 2 jobs (lead-3 | bullets | greedy; reference-bullets | bullets | greedy); "
                   "metrics: rouge\n")
    code, _, err = call(capsys, "validate", "-m", "system=lead3", "seed=1,-2", "metrics=[rouge]")
    one_line(code, err, "job 1 (system=lead3 decoding=greedy seed=-2 metrics=[rouge]): seed must be an integer")


@pytest.mark.parametrize("args,message", [
    (("system=lead3", "seed=abc"), "error: seed must be an integer, 0 or more"),
    (("system=lead3", "n_resamples=0"), "error: n_resamples must be an integer from 1 to 1,000,000"),
    (("system=smollm2", "system.compile=yes"), "error: system.compile must be auto, true or false, got 'yes'"),
    (("--cfg", "job"), "error: harness validate takes overrides (and -m for a sweep), not Hydra's flags: --cfg"),
])
def test_validate_refuses_in_one_line_exit_2(capsys, args, message):
    code, out, err = call(capsys, "validate", *args)
    assert out == ""
    assert one_line(code, err).startswith(message)


def test_description_is_the_first_sentence_of_the_leading_comment():
    assert description("# @package _global_\n# Jobs as Ray tasks (pip install -e '.[ray]'). More here.\nhydra: 1\n") \
        == "Jobs as Ray tasks (pip install -e '.[ray]')."
    assert description("# MiniCheck (Tang et al. 2024) classifier,\n# e.g. this one. Next.\n") \
        == "MiniCheck (Tang et al. 2024) classifier, e.g. this one."
    assert description("rouge:\n  use_stemmer: true\n# late comment\n") == ""
    assert description("# " + "x" * 200, limit=10) == "xxxxxxxxx…"


def test_group_options_reads_a_config_directory(tmp_path):
    (tmp_path / "system").mkdir()
    (tmp_path / "system" / "b.yaml").write_text("# Second.\nname: b\n")
    (tmp_path / "system" / "a.yaml").write_text("name: a\n")
    assert group_options("systems", tmp_path) == [("a", ""), ("b", "Second.")]
    assert group_options("system", tmp_path) == group_options("systems", tmp_path)
    with pytest.raises(ConfigError, match="unknown kind 'nope'; known: systems, metrics, data, prompts"):
        group_options("nope", tmp_path)


def test_ls_lists_every_shipped_option_with_a_description(capsys):
    code, out, _ = call(capsys, "ls", "systems")
    assert code == 0
    assert "lead3              The first k sentences of the article (lead-3; system.k=1 for lead-1).\n" in out
    for kind in GROUPS:
        options = group_options(kind)
        assert options, kind
        assert all(text for _, text in options), [name for name, text in options if not text]
    code, _, err = call(capsys, "ls")
    one_line(code, err, "usage: harness ls systems|metrics|data|prompts|decoding|servers|launchers|tracking")
