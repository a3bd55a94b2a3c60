"""No command overwrites its own input (issue 32): meta-eval's --save-composite,
--save-calibration and --out refuse a path that is one of its --data, --dev or --marks files, in
one line, exit 2, the file untouched."""

import pytest

from .helpers.cli import harness


@pytest.mark.parametrize("args, option", [
    (["--split", "lodo", "--data", "{a}", "{b}", "--save-composite", "{a}"], "--save-composite"),
    (["--split", "lodo", "--data", "{a}", "{b}", "--save-calibration", "{b}"], "--save-calibration"),
    (["--split", "half", "--data", "{a}", "--metrics", "consistency_entity,consistency_lemmas",
      "--save-composite", "{a}"], "--save-composite"),
    (["--split", "given", "--data", "{a}", "--dev", "{b}", "--save-calibration", "{b}"], "--save-calibration"),
    (["--data", "{d}/meta_eval.json", "--out", "{d}"], "--out"),
])
def test_meta_eval_refuses_to_write_over_one_of_its_own_inputs(tmp_path, args, option):
    (tmp_path / "d").mkdir()
    files = {"a": tmp_path / "a.jsonl", "b": tmp_path / "b.jsonl", "d": tmp_path / "d"}
    for path in (files["a"], files["b"], files["d"] / "meta_eval.json"):
        path.write_text("labelled data\n")
    done = harness("meta-eval", *(arg.format(**files) for arg in args), cache_dir=tmp_path / "cache", timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"{option} " in done.stderr and "one of this command's own inputs" in done.stderr
    for path in (files["a"], files["b"], files["d"] / "meta_eval.json"):
        assert path.read_text() == "labelled data\n"


def test_the_same_data_twice_and_a_cache_dir_that_is_a_file_are_one_line_each(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "copy.jsonl"
    a.write_text("labelled data\n")
    b.write_text("labelled data\n")
    done = harness("meta-eval", "--split", "lodo", "--data", str(a), str(b), cache_dir=tmp_path / "cache", timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"--data {a} and --data {b} hold the same data" in done.stderr
    done = harness("meta-eval", "--split", "lodo", "--data", str(a), str(a), cache_dir=tmp_path / "cache", timeout=120)
    assert done.returncode == 2 and f"--data {a} and --data {a} hold the same data" in done.stderr
    (tmp_path / "file").write_text("")
    c = tmp_path / "c.jsonl"
    c.write_text("other data\n")
    done = harness("meta-eval", "--split", "lodo", "--data", str(a), str(c), "--cache-dir", str(tmp_path / "file"),
                   cache_dir=tmp_path / "cache", timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"--cache-dir {tmp_path / 'file'} is a file, not a directory" in done.stderr
