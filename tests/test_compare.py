"""harness compare: CIs, paired differences to a reference, formats, determinism, schema checks, marks."""

import json

import pytest

from harness.errors import HarnessError
from harness.reports.compare import CompareError, agreement_with_marks, compare, load_runs
from harness.run import run

from .helpers.cli import harness
from .helpers.configs import config


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, four_articles):
    root = tmp_path_factory.mktemp("compare-runs")
    cache = root / "cache"
    for name, overrides in {"lead3": ["system=lead3"], "lead1": ["system=lead3", "system.k=1"],
                            "bullets": ["system=bullets"]}.items():
        run(config(*overrides, f"data.path={four_articles}", f"cache_dir={cache}",
                   "metrics=[rouge,coverage_lexical,extractiveness]"), root / name)
    return root


def test_leaderboard_has_cis_and_paired_differences(runs_dir):
    runs = load_runs([runs_dir / "lead3", runs_dir / "lead1", runs_dir / "bullets"]).runs
    board = compare(runs, ["rouge/rougeLsum_f"], reference="lead-3", n_resamples=2000)
    assert [r["name"] for r in board["rows"]] == ["reference-bullets", "lead-3", "lead-1"]
    lead1 = board["rows"][2]["metrics"]["rouge/rougeLsum_f"]
    assert lead1["n"] == 4 and lead1["ci95"][0] <= lead1["mean"] <= lead1["ci95"][1]
    diff = lead1["difference"]
    per_article = {}
    for name in ("lead-1", "lead-3"):
        run_ = next(r for r in runs if r.label == name)
        per_article[name] = [run_.scores[a]["rouge/rougeLsum_f"] for a in sorted(run_.scores)]
    expected = sum(x - y for x, y in zip(per_article["lead-1"], per_article["lead-3"], strict=True)) / 4
    assert diff["mean"] == pytest.approx(expected) and diff["n"] == 4
    assert diff["ci95"][0] <= expected <= diff["ci95"][1]
    assert diff["significant"] == (diff["ci95"][1] < 0 or diff["ci95"][0] > 0)
    assert "difference" not in board["rows"][1]["metrics"]["rouge/rougeLsum_f"]  # the reference itself


def test_compare_prints_identical_cis_twice_and_writes_every_format(runs_dir, tmp_path):
    args = ("compare", str(runs_dir / "lead3"), str(runs_dir / "lead1"), "--reference", "lead-3")
    first, second = harness(*args, cache_dir=tmp_path), harness(*args, cache_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and "[" in first.stdout
    done = harness(*args, "--format", "csv", "--out", str(tmp_path / "out"), cache_dir=tmp_path)
    assert done.stdout.startswith("rank,run,metric,higher_is_better,mean,ci95_low,ci95_high")
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"compare.md", "compare.csv", "compare.json",
                                                              "report.html"}
    board = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert board["reference"] == "lead-3" and board["schema_version"] == "2.0"


def test_schema_mismatch_is_refused_with_both_versions(runs_dir, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(runs_dir / "lead1", old)
    results = json.loads((old / "results.json").read_text())
    results["schema_version"] = "0.9"
    (old / "results.json").write_text(json.dumps(results))
    with pytest.raises(HarnessError, match="'0.9' differs from this harness's '2.0'"):
        load_runs([old])
    done = harness("compare", str(old), cache_dir=tmp_path)
    assert done.returncode == 2 and "schema version" in done.stderr


def test_editor_marks_agreement(runs_dir):
    runs = load_runs([runs_dir / "lead3", runs_dir / "lead1"]).runs
    # Editors accept every lead-3 summary and reject every lead-1 one: ROUGE agrees wherever lead-3 scores higher.
    marks = [{"run": name, "article_id": f"a{i}", "mark": "accept" if name == "lead-3" else "reject"}
             for name in ("lead-3", "lead-1") for i in range(4)]
    agreement = agreement_with_marks(runs, marks + [{"run": "nope", "article_id": "a0", "mark": "accept"}],
                                     ["rouge/rougeLsum_f"])
    assert agreement["rouge/rougeLsum_f"]["n"] == 8
    assert agreement["rouge/rougeLsum_f"]["spearman"] > 0.5


def test_lower_is_better_metrics_rank_lowest_first(runs_dir, tmp_path):
    """Ranked by a lower-is-better metric, the smallest value comes first; by a higher-is-better or
    descriptive one, the largest."""
    runs = load_runs([runs_dir]).runs
    for metric in ("extractive/repeated_1gram", "coverage/bullets_total@lexical"):
        board = compare(runs, sort_by=metric, n_resamples=200)
        means = [r["metrics"][metric]["mean"] for r in board["rows"]]
        direction = board["metric_info"][metric]["higher_is_better"]
        assert means == sorted(means, reverse=direction is not False), (metric, means)
    lower = compare(runs, sort_by="extractive/repeated_1gram", n_resamples=200)
    assert lower["metric_info"]["extractive/repeated_1gram"]["higher_is_better"] is False


def test_reference_by_unique_part_of_the_label(runs_dir):
    runs = load_runs([runs_dir]).runs
    assert compare(runs, reference="bullets", n_resamples=200)["reference"] == "reference-bullets"
    with pytest.raises(HarnessError, match="'lead' matches 2 runs"):
        compare(runs, reference="lead", n_resamples=200)
    with pytest.raises(HarnessError, match="no run matches 'gpt'"):
        compare(runs, reference="gpt", n_resamples=200)


def test_verdict_line_per_metric_and_no_zero_resamples(runs_dir, tmp_path):
    board = compare(load_runs([runs_dir]).runs, ["rouge/rougeLsum_f"], reference="lead-3", n_resamples=2000)
    (verdict,) = board["verdicts"]
    assert verdict == ("ROUGE-Lsum F1 [rouge/rougeLsum_f] (higher is better): best reference-bullets 1.0000; "
                       "against lead-3: 1 significantly better, 1 significantly worse, 0 not distinguishable")
    with pytest.raises(CompareError, match="--n-resamples must be at least 1"):
        compare(load_runs([runs_dir]).runs, n_resamples=0)
    done = harness("compare", str(runs_dir), "--n-resamples", "0", cache_dir=tmp_path)
    assert done.returncode == 2 and "--n-resamples must be at least 1" in done.stderr


def test_different_article_sets_warn(runs_dir, tmp_path, seed_article):
    run(config("system=lead3", f"cache_dir={tmp_path / 'cache'}", "metrics=[rouge]"), tmp_path / "seed")
    board = compare(load_runs([runs_dir / "lead3", tmp_path / "seed"]).runs, n_resamples=200)
    (warning,) = board["warnings"]
    assert "the runs cover different articles (lead-3" in warning and "0 in common" in warning


def test_terminal_output_is_plain_text(runs_dir, tmp_path):
    done = harness("compare", str(runs_dir), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "reference-bullets" in done.stdout and "reference\\-bullets" not in done.stdout
    assert "&" not in done.stdout and "ROUGE-Lsum F1 ↑" in done.stdout


@pytest.mark.parametrize("content, message", [
    ("{broken", "not a marks file exported from report.html (invalid JSON"),
    ('{"exported_at": "x"}', 'expected {"marks": [...]}'),
])
def test_malformed_marks_file_is_named(runs_dir, tmp_path, content, message):
    marks = tmp_path / "marks.json"
    marks.write_text(content)
    done = harness("compare", str(runs_dir), "--marks", str(marks), cache_dir=tmp_path)
    assert done.returncode == 2 and f"--marks {marks}" in done.stderr and message in done.stderr
    assert "Traceback" not in done.stderr


# --- compare --marks: marks of version 3, flag precision, editors' agreement


def _v3(system, article, choice=None, editor="alice", sentences=(), **more):
    from .helpers.review_pages import mark

    return {**mark(system, article, choice, sentences=sentences), "editor": editor, **more}


def test_flag_dismissed_gives_that_scorers_precision_and_recall(tmp_path):
    from harness.reports.compare import marks_review, render_markdown, render_terminal

    from .helpers.review_pages import make_runs

    runs = make_runs(tmp_path)
    # embedding flags bad/a1 #0 and #1, third/a2 #0; entity flags bad/a1 #0 and bad/a2 #0 (tests/test_review.py).
    marks = [_v3("bad", "a1", "reject", sentences=[(0, "unsupported"), (1, "supported")]),  # #1: a flag dismissed
             _v3("bad", "a2", sentences=[(0, "supported")]),  # entity's flag dismissed
             _v3("third", "a2", sentences=[(0, "unsupported")]),  # embedding's flag confirmed
             _v3("good", "a1", "accept", sentences=[(0, "supported"), (1, "unsupported")])]  # unflagged, judged
    review = marks_review(runs, marks)
    embedding, entity = review["flags"]["embedding"], review["flags"]["entity"]
    # embedding: flagged and judged bad/a1#0 (unsupported), bad/a1#1 (supported), third/a2#0 (unsupported): 2/3;
    # judged unsupported: bad/a1#0, third/a2#0 (flagged), good/a1#1 (not): recall 2/3.
    assert embedding["precision"] == pytest.approx(2 / 3, abs=1e-12) and embedding["n_flagged"] == 3
    assert embedding["recall"] == pytest.approx(2 / 3, abs=1e-12) and embedding["n_unsupported"] == 3
    # entity: flagged and judged bad/a1#0 (unsupported), bad/a2#0 (supported): 1/2; recall: bad/a1#0 of the three.
    assert entity["precision"] == pytest.approx(0.5, abs=1e-12) and entity["n_flagged"] == 2
    assert entity["recall"] == pytest.approx(1 / 3, abs=1e-12) and entity["n_judged"] == 6
    assert review["editors"] is None and review["warnings"] == [] and review["placed"] == 4
    text = render_markdown(compare(runs, n_resamples=20), None, review)
    assert "## Flags against the editors' sentence verdicts" in text
    assert "| embedding | 0.667 (n=3) | 0.667 (n=3) | 6 |" in text
    assert "| entity | 0.500 (n=2) | 0.333 (n=3) | 6 |" in text
    terminal = [line.split() for line in render_terminal(compare(runs, n_resamples=20), None, review).splitlines()]
    assert ["entity", "0.500", "(n=2)", "0.333", "(n=3)", "6"] in terminal
    # a second editor says bad/a1 #1 is unsupported: that sentence counts once, as half unsupported
    both = marks_review(runs, marks + [_v3("bad", "a1", editor="bob", sentences=[(1, "unsupported")])])
    assert both["flags"]["embedding"]["precision"] == pytest.approx((1 + 0.5 + 1) / 3, abs=1e-12)
    only_flags = marks_review(runs, [_v3("bad", "a1", sentences=[(0, "unsupported")])])  # flagged by both
    assert only_flags["flags"]["embedding"] == {"n_flagged": 1, "precision": 1.0, "n_judged": 1, "n_unsupported": 1,
                                                "recall": None}  # no unflagged sentence judged: no recall claimed


def test_editors_agreement_kappa_and_alpha(tmp_path):
    from harness.reports.compare import marks_review, render_markdown

    from .helpers.review_pages import make_runs

    runs = make_runs(tmp_path)
    alice = dict(zip([("good", "a1"), ("good", "a2"), ("bad", "a1"), ("bad", "a2")], "AARR", strict=True))
    bob = dict(zip([("good", "a1"), ("good", "a2"), ("bad", "a1"), ("bad", "a2")], "ARRR", strict=True))
    word = {"A": "accept", "R": "reject"}
    marks = [_v3(s, a, word[c], editor=name) for name, given in (("alice", alice), ("bob", bob))
             for (s, a), c in given.items()] + [_v3("third", "a1", "accept", editor="carol")]
    editors = marks_review(runs, marks)["editors"]
    # alice/bob: p_o = 3/4; p_e = 1/2 * 1/4 + 1/2 * 3/4 = 1/2; kappa = (3/4 - 1/2) / (1/2) = 1/2.
    (ab, ac, bc) = editors["pairs"]
    assert ab == {"editors": ["alice", "bob"], "n": 4, "kappa": pytest.approx(0.5, abs=1e-12)}
    assert ac == {"editors": ["alice", "carol"], "n": 0, "kappa": None} and bc["n"] == 0
    # alpha: units (A,A), (A,R), (R,R), (R,R) (carol's lone mark pairs with nobody); n = 8, one disagreeing
    # unit (2 ordered pairs); expected 8*8 - 3*3 - 5*5 = 30: alpha = 1 - 7 * 2 / 30 = 8/15.
    assert editors["alpha"] == pytest.approx(8 / 15, abs=1e-12) and editors["n_summaries"] == 4
    text = render_markdown(compare(runs, n_resamples=20), None, marks_review(runs, marks))
    assert "Cohen's kappa, alice and bob: 0.500 over 4 summaries both marked" in text
    assert "Krippendorff's alpha (nominal), 3 editors: 0.533 over 4 summaries marked by two or more" in text


def test_relabelled_runs_keep_their_marks_and_changed_summaries_are_left_out_with_a_warning(tmp_path):
    from harness.reports.compare import marks_review

    from .helpers.review_pages import make_runs

    before = make_runs(tmp_path / "before")
    marks = [_v3(s, a, "accept" if s == "good" else "reject") for s in ("good", "bad") for a in ("a1", "a2")]
    after = make_runs(tmp_path / "after", labels={"good": "good (k=1)", "bad": "bad (k=1)"})  # relabelled
    assert agreement_with_marks(after, marks, ["rouge/rougeLsum_f"]) == agreement_with_marks(
        before, marks, ["rouge/rougeLsum_f"])
    assert agreement_with_marks(after, marks, ["rouge/rougeLsum_f"])["rouge/rougeLsum_f"]["n"] == 4
    assert marks_review(after, marks)["warnings"] == []
    stale = marks + [_v3("good", "a1", "reject", editor="bob", summary_sha256="0" * 64),
                     _v3("bad", "a2", "accept", editor="bob", article_sha256="1" * 64)]
    review = marks_review(after, stale)
    assert review["left_out"] == {"summary changed": 1, "article changed": 1}
    assert review["warnings"] == ["2 of the editors' marks name summaries or articles that changed since they were "
                                  "made (1 summary changed, 1 article changed): left out of the agreement and flag "
                                  "figures"]
    assert agreement_with_marks(after, stale, ["rouge/rougeLsum_f"]) == agreement_with_marks(
        after, marks, ["rouge/rougeLsum_f"])  # left out


def test_compare_marks_warns_in_the_terminal_and_compare_md(runs_dir, tmp_path):
    import hashlib
    import html

    runs = load_runs([runs_dir / "lead3", runs_dir / "lead1"]).runs
    lines = [json.loads(line) for line in (runs_dir / "lead3" / "summaries.jsonl").read_text().splitlines()]
    lead3 = next(r for r in runs if r.label == "lead-3")
    marks = [{"editor": "alice", "run": "lead-3", "run_key": lead3.key[0], "article_id": row["article_id"],
              "article_sha256": lead3.articles[row["article_id"]], "mark": "accept",
              "summary_sha256": hashlib.sha256(row["text"].encode()).hexdigest()} for row in lines]
    marks[0]["summary_sha256"] = "0" * 64  # marked before a rerun changed it
    path = tmp_path / "marks.json"
    path.write_text(json.dumps({"version": 3, "marks": marks}))
    done = harness("compare", str(runs_dir / "lead3"), str(runs_dir / "lead1"), "--marks", str(path), "--out",
                   str(tmp_path / "out"), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    warning = "1 of the editors' marks names summaries or articles that changed since it was made"
    assert f"warning: {warning}" in done.stdout
    markdown = html.unescape((tmp_path / "out" / "compare.md").read_text().replace("\\", ""))  # Markdown escapes
    assert f"**Warning:** {warning}" in markdown
    saved = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert saved["marks_review"]["placed"] == 3 and saved["marks_review"]["left_out"]["summary changed"] == 1
