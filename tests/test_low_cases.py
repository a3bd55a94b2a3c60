"""Low cases of issue 32, by class: a value outside its range refused on read (a token count of
10**30), a leaderboard sorted by a metric no run has, JUnit output holding characters XML cannot."""

import xml.etree.ElementTree as ET

import pytest

from harness.gate import render_gate_junit, xml_chars
from harness.systems.served_answer import AnswerShapeError, completion

from .helpers.run_if import require


@pytest.mark.parametrize("count", [10 ** 30, 10 ** 9 + 1, -1])
def test_a_token_count_outside_its_range_is_refused(count):
    answer = {"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": 3, "completion_tokens": count}}
    with pytest.raises(AnswerShapeError, match=r"usage.completion_tokens an integer .*not a whole number of tokens "
                                               r"\(0 to 1,000,000,000\)"):
        completion(answer, True, "http://h/v1/chat/completions", "article 'a1'")
    answer["usage"]["completion_tokens"] = 10 ** 9
    assert completion(answer, True, "u", "a").output_tokens == 10 ** 9


def test_a_leaderboard_sorted_by_a_metric_no_run_has_is_one_line_exit_2(tmp_path, capsys, four_articles):
    from harness.cli import main
    from harness.run import run

    from .helpers.configs import config

    run(config("system=lead3", f"data.path={four_articles}", f"cache_dir={tmp_path / 'cache'}", "metrics=[rouge]"),
        tmp_path / "A")
    assert main(["leaderboard", str(tmp_path / "A"), "--sort-by", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--sort-by 'nope': no run here has it; metrics here: rouge/" in err
    assert main(["leaderboard", str(tmp_path / "A"), "--sort-by", "rouge/rouge1_f"]) == 0


def _report(label: str) -> dict:
    metric = {"metric": "rouge/rouge1_f", "verdict": "fail", "higher_is_better": True, "tolerance": 0.02,
              "baseline": 0.5, "candidate": 0.25,
              "difference": {"mean": -0.25, "low": -0.3, "high": -0.2, "confidence": 0.95, "n": 4}}
    return {"comparisons": [{"candidate_run": label, "metrics": [metric]}], "skipped": [],
            "warnings": [f"a warning about {label}"], "notes": []}


def test_junit_with_control_characters_in_a_label_is_well_formed_xml():
    label = "lead\x01three\x1b[31m\ud800\uffff\tok"
    text = render_gate_junit(_report(label))
    root = ET.fromstring(text)  # was: not well-formed (invalid token)
    case = root.find("testsuite/testcase")
    assert case.get("classname") == "lead\ufffdthree\ufffd[31m\ufffd\ufffd\tok"
    assert root.get("failures") == "1"
    assert xml_chars("a\x00b\nc\rd\te\x7f") == "a\ufffdb\nc\rd\te\x7f"


def test_sixty_one_editors_print_a_bounded_number_of_agreement_lines():
    from itertools import combinations

    from harness.reports.compare import MAX_PAIR_LINES, _editor_lines

    names = [f"e{i:02d}" for i in range(61)]
    pairs = [{"editors": [a, b], "n": 0, "kappa": None} for a, b in combinations(names, 2)]
    assert len(pairs) == 1830
    pairs[0].update(n=4, kappa=0.5)
    lines = _editor_lines({"editors": names, "pairs": pairs, "alpha": None, "n_summaries": 4})
    assert lines == ["Cohen's kappa, e00 and e01: 0.500 over 4 summaries both marked",
                     "1829 of 1830 pairs of editors marked no summary in common: no kappa for them",
                     "Krippendorff's alpha (nominal), 61 editors: – over 4 summaries marked by two or more"]
    for p in pairs:
        p.update(n=2, kappa=1.0)
    lines = _editor_lines({"editors": names, "pairs": pairs, "alpha": 1.0, "n_summaries": 4})
    assert len(lines) == MAX_PAIR_LINES + 2 and lines[-2] == "… and 1810 more pairs of editors (not shown)"


@pytest.mark.parametrize("invisible", ["\u200b\u2060\u3164", "\u3000\u200b", "\u202e", "\ufeff \u00ad"])
def test_invisible_only_ids_bullets_and_bodies_are_not_text(invisible):
    from harness.data.formats import row_to_article
    from harness.errors import DataError
    from harness.text.visible import blank

    assert blank(invisible) and not blank(f"{invisible}a") and not blank("警察")
    good = {"id": "a1", "paragraphs": ["Police said eight were hurt."], "bullets": ["Eight hurt."]}
    with pytest.raises(DataError, match="'id' is only whitespace or invisible characters"):
        row_to_article({**good, "id": invisible}, "records", file="f.jsonl", index=1)
    with pytest.raises(DataError, match="no reference bullets"):
        row_to_article({**good, "bullets": [invisible, f"- {invisible}"]}, "records", file="f.jsonl", index=1)
    with pytest.raises(DataError, match="article body is empty"):
        row_to_article({**good, "paragraphs": [invisible]}, "records", file="f.jsonl", index=1)
    article = row_to_article({**good, "bullets": ["Eight hurt.", invisible]}, "records", file="f.jsonl", index=1)
    assert article.bullets == ("Eight hurt.",)


def test_the_pages_clip_never_cuts_an_emoji_in_half():
    import json
    import re
    import shutil
    import subprocess

    from .conftest import ROOT

    require(executable="node")  # else the page's clip() is tested in a browser only
    node = shutil.which("node")
    script = (ROOT / "harness" / "reports" / "report.js").read_text()
    start = script.index("  const graphemes = ")
    code = script[start:script.index("\n", script.index("  const clip = ", start))]
    note = "a" * 58 + "👍🏽 and 🇫🇷 and e\u0301"
    program = f"{code}\nconsole.log(JSON.stringify([clip({json.dumps(note)}, 60), clip('short', 60)]));"
    clipped, short = json.loads(subprocess.run([node, "-e", program], capture_output=True, text=True,
                                               check=True).stdout)
    assert clipped == "a" * 58 + "👍🏽…" and short == "short"  # the emoji and its skin tone whole
    assert not re.search("[\ud800-\udfff]", clipped)


def test_a_baseline_with_two_runs_of_one_setup_is_refused_in_either_order(tmp_path, capsys, four_articles):
    import shutil

    from harness.run import run

    from .conftest import SEED_FILE
    from .helpers.cli import gate
    from .helpers.configs import config

    for name, data in (("four", four_articles), ("seed", SEED_FILE)):  # one setup (lead-3), two article sets
        run(config("system=lead3", f"data.path={data}", f"cache_dir={tmp_path / 'cache'}", "metrics=[rouge]"),
            tmp_path / name)
    for order in (("four", "seed"), ("seed", "four")):
        base = tmp_path / f"base-{order[0]}"
        for i, name in enumerate(order):
            shutil.copytree(tmp_path / name, base / str(i))
        code, _, err = gate(capsys, "--baseline", base, "--candidate", tmp_path / "four", "--metric",
                            "rouge/rouge1_f:0.02")
        assert code == 2 and "2 baseline runs have the setup of" in err and "one run per setup" in err
