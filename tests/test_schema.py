"""What is read back from disk is checked once, where it is read (harness.schema): results.json,
scores.jsonl rows and baseline files. A non-finite, non-number or out-of-bounds score, or a
wrong-typed field, is one line and exit 2 from every command that reads runs (compare,
leaderboard, gate), naming the file, the line or run, and the field; never a traceback, never a
value silently left out of a mean while the article is still counted."""

import json
import re
import shutil

import pytest

from harness.cli import main as harness_main
from harness.results.schema import MAX_SCORE, ResultsError, check_baseline, check_results, first_non_finite
from harness.results.sweep import load_runs
from harness.run import run

from .helpers.configs import config

METRIC = "rouge/rougeLsum_f"
COMMANDS = ("compare", "leaderboard", "gate")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("schema-runs")
    for name, overrides in {"lead3": (), "lead1": ("system.k=1",)}.items():
        run(config("system=lead3", *overrides, "metrics=[rouge,extractiveness]", f"cache_dir={root / 'cache'}"),
            root / name)
    return root


def variant(runs, tmp_path, *, results=None, scores=None):
    """A copy of the lead-3 run with its results.json changed by ``results(dict)`` and/or the text
    of its scores.jsonl by ``scores(str) -> str``."""
    target = tmp_path / "variant"
    shutil.copytree(runs / "lead3", target)
    if results:
        data = json.loads((target / "results.json").read_text())
        results(data)
        (target / "results.json").write_text(json.dumps(data))
    if scores:
        (target / "scores.jsonl").write_text(scores((target / "scores.jsonl").read_text()))
    return target


def score_token(token: str, metric: str = METRIC):
    """scores.jsonl with ``metric``'s value replaced by the raw JSON text ``token``."""
    return lambda text: re.sub(rf'"{re.escape(metric)}": [^,}}]+', f'"{metric}": {token}', text, count=1)


def cli(capsys, command, candidate, runs, tmp_path):
    args = {"compare": ["compare", str(candidate), str(runs / "lead1")],
            "leaderboard": ["leaderboard", str(candidate), str(runs / "lead1")],
            "gate": ["gate", "--baseline", str(runs / "lead1"), "--candidate", str(candidate),
                     "--metric", f"{METRIC}:0.5", "--out", str(tmp_path / "gate-out")]}[command]
    code = harness_main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(code, out, err, *parts):
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for part in parts:
        assert part in lines[0], (part, lines[0])
    assert "Traceback" not in err and "PASSED" not in out


# --- scores.jsonl: numbers only, finite, bounded ----------------------------------------------------

NOT_A_SCORE = [  # (raw JSON token, what the message says it got)
    ("Infinity", "got float inf"), ("-Infinity", "got float -inf"), ("NaN", "got float nan"),
    ('"0.5"', "got string '0.5'"), ("1e308", "got float 1e+308"), ("-1e308", "got float -1e+308"),
    # variants: a boolean, a list, an object, a number just beyond the bound, an integer too big for a float
    ("true", "got boolean True"), ("[0.5]", "got list [0.5]"), ('{"v": 0.5}', "got object"),
    ("1.000001e15", "got float 1000001000000000.0"), ("1" + "0" * 400, "got int"),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("token, got", NOT_A_SCORE, ids=[t[:12] for t, _ in NOT_A_SCORE])
def test_a_score_that_is_not_a_finite_number_is_named(runs, tmp_path, capsys, command, token, got):
    broken = variant(runs, tmp_path, scores=score_token(token))
    code, out, err = cli(capsys, command, broken, runs, tmp_path)
    assert_one_line_error(code, out, err, f"{broken / 'scores.jsonl'}, line 1: field 'scores.{METRIC}'", got)
    assert not (tmp_path / "gate-out").exists()


def test_the_bound_and_null_are_scores(runs, tmp_path):
    """A score of exactly ±MAX_SCORE is read (and summed without overflow); null is a metric that did
    not apply (left out of the mean, like before); an undeclared detail that is not a number is kept."""
    def stats(data):  # results.json agreeing with the changed scores (a contradiction is refused on read)
        data["metric_stats"][METRIC].update(mean=MAX_SCORE)
        data["metric_stats"].pop("rouge/rouge1_f", None)

    edge = variant(runs, tmp_path, results=stats, scores=lambda t: score_token(f"{MAX_SCORE!r}")(t).replace(
        '"rouge/rouge1_f": ', '"rouge/rouge1_f": null, "x": '))
    (run_,) = load_runs([edge]).runs
    assert run_.mean(METRIC) == MAX_SCORE and run_.mean("rouge/rouge1_f") is None
    assert run_.interval(METRIC).n == 1


def test_a_non_finite_detail_number_is_named_too(runs, tmp_path, capsys):
    """Every number of a row is something a baseline keeps (scalar_scores): none may be NaN."""
    broken = variant(runs, tmp_path, scores=lambda t: t.replace('"scores": {', '"scores": {"detail/x": NaN, ', 1))
    code, out, err = cli(capsys, "compare", broken, runs, tmp_path)
    assert_one_line_error(code, out, err, "line 1: field 'scores.detail/x' should be a finite number")


@pytest.mark.parametrize("text, message", [
    ("5\n", "line 1: not a scores row (a JSON int, expected an object)"),
    ('{"article_id": 7, "article_sha256": "h", "scores": {}}\n',
     "line 1: not a scores row: field 'article_id' should be a string, got int 7"),
    ('{"article_id": "a", "article_sha256": "h", "scores": [0.5]}\n',
     "line 1: not a scores row: field 'scores' should be an object, got list [0.5]"),
    ('{"article_id": "a", "scores": {}}\n', "line 1: not a scores row: missing 'article_sha256'"),
    ('{"article_id": "a", "article_sha256": "h", "scores": {}}\n' * 2,
     "line 2: article 'a' is scored again (first at line 1)"),
])
def test_a_row_of_the_wrong_shape_is_named_with_its_line(runs, tmp_path, capsys, text, message):
    broken = variant(runs, tmp_path, scores=lambda _: text)
    for command in COMMANDS:
        code, out, err = cli(capsys, command, broken, runs, tmp_path)
        assert_one_line_error(code, out, err, f"{broken / 'scores.jsonl'}, {message}")


# --- results.json: wrong-typed fields ---------------------------------------------------------------

def _set(path: str, value):
    def change(data):
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[part]
        node[last] = value
    return change


WRONG_TYPES = [  # (field, value, what the message says)
    ("run.shard", ["a"], "field 'run.shard.0' should be an integer, got string 'a'"),
    ("run.shard", 3, "field 'run.shard' should be a list, got int 3"),
    ("run.shard", "0/2", "field 'run.shard' should be a list, got string '0/2'"),
    ("metric_info", ["rouge"], "field 'metric_info' should be an object, got list ['rouge']"),
    ("generation.generated", "1", "field 'generation.generated' should be an integer, got string '1'"),
    ("run.name", 7, "field 'run.name' should be a string, got int 7"),
    # variants
    ("run.shard", [0], "field 'run.shard': should be [shard, num_shards] with 0 <= shard < num_shards, got [0]"),
    ("run.shard", [2, 2], "field 'run.shard': should be [shard, num_shards] with 0 <= shard < num_shards, got [2, 2]"),
    ("run.shard", [True, 1], "field 'run.shard.0' should be an integer, got boolean True"),
    ("run.name", None, "field 'run.name' should be a string, got null None"),
    ("run.setup_sha256", ["x"], "field 'run.setup_sha256' should be a string"),
    ("generation.generated", -1, "field 'generation.generated' should be greater than or equal to 0, got int -1"),
    ("generation.cached", 1.5, "field 'generation.cached' should be an integer, got float 1.5"),
    ("generation", [], "field 'generation' should be an object, got list []"),
    (f"metric_info.{METRIC}.higher_is_better", "yes",
     f"field 'metric_info.{METRIC}.higher_is_better' should be true or false, got string 'yes'"),
    (f"metric_info.{METRIC}", 1, f"field 'metric_info.{METRIC}' should be an object"),
    (f"metric_stats.{METRIC}.mean", float("inf"), f"field 'metric_stats.{METRIC}.mean' should be a finite number"),
    (f"metric_stats.{METRIC}.ci95", [0.1], f"field 'metric_stats.{METRIC}.ci95' should have at least 2 items"),
    ("intervals.n_resamples", 0, "field 'intervals.n_resamples' should be greater than or equal to 1"),
    ("intervals.seed", "abc", "field 'intervals.seed' should be an integer, got string 'abc'"),
    ("provenance", [], "field 'provenance' should be an object, got list []"),
    ("provenance.overrides", "a=1", "field 'provenance.overrides' should be a list, got string 'a=1'"),
    ("scoring", {"rouge": "x"}, "field 'scoring.rouge' should be an object, got string 'x'"),
    ("metrics", {METRIC: "0.5"}, f"field 'metrics.{METRIC}' should be a number, got string '0.5'"),
    ("run", "lead-3", "field 'run' should be an object, got string 'lead-3'"),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("field, value, message", WRONG_TYPES, ids=[f"{f}={v!r}"[:40] for f, v, _ in WRONG_TYPES])
def test_a_wrong_typed_field_is_named_with_its_file(runs, tmp_path, capsys, command, field, value, message):
    broken = variant(runs, tmp_path, results=_set(field, value))
    code, out, err = cli(capsys, command, broken, runs, tmp_path)
    assert_one_line_error(code, out, err, f"{broken / 'results.json'}: {message}")


def test_a_sharded_run_without_its_set_hash_is_named(runs, tmp_path, capsys):
    def change(data):
        data["run"]["shard"] = [0, 2]
        del data["run"]["data_source_sha256"]
    broken = variant(runs, tmp_path, results=change)
    code, out, err = cli(capsys, "compare", broken, runs, tmp_path)
    assert_one_line_error(code, out, err, "field 'run': a shard of several needs 'data_source_sha256'")


@pytest.mark.parametrize("record, message", [
    ({"run": ["x"]}, "field 'run' should be an object, got list ['x']"),
    ({"run": {"name": 5}}, "field 'run.name' should be a string, got int 5"),
    ({"error": {"why": "boom"}}, "field 'error' should be a string"),
])
def test_a_failed_runs_record_is_checked_too(runs, tmp_path, capsys, record, message):
    """A run that did not complete is listed (name, error): those fields are typed as well."""
    broken = tmp_path / "failed"
    broken.mkdir()
    (broken / "results.json").write_text(json.dumps({"schema_version": "2.0", "status": "failed", **record}))
    code, out, err = cli(capsys, "leaderboard", broken, runs, tmp_path)
    assert_one_line_error(code, out, err, f"{broken / 'results.json'}: {message}")


def test_the_runs_the_harness_writes_pass_their_schema(runs):
    for name in ("lead3", "lead1"):
        check_results(json.loads((runs / name / "results.json").read_text()), name)
    assert {r.name for r in load_runs([runs / "lead3", runs / "lead1"]).runs} == {"lead-3", "lead-1"}


def test_the_committed_baseline_passes_its_schema():
    from harness.config import CONF_DIR

    path = CONF_DIR.parent / "runs" / "baselines" / "default.json"
    check_baseline(json.loads(path.read_text()), path)


# --- baseline files ---------------------------------------------------------------------------------

@pytest.fixture
def baseline(runs, tmp_path, capsys):
    path = tmp_path / "baseline.json"
    assert harness_main(["gate", "--update-baseline", "--baseline", str(path), "--candidate", str(runs / "lead3")]) == 0
    capsys.readouterr()
    return path


def _article(data):
    return next(iter(data["runs"][0]["scores"]))


BASELINE_CASES = [  # (change, message)
    (lambda d: d["runs"][0]["scores"][_article(d)].__setitem__(METRIC, float("inf")),
     "run 1: field 'scores.{a}.rouge/rougeLsum_f' should be a finite number"),
    (lambda d: d["runs"][0]["scores"][_article(d)].__setitem__(METRIC, "0.5"),
     "run 1: field 'scores.{a}.rouge/rougeLsum_f' should be a number, got string '0.5'"),
    (lambda d: d["runs"][0]["scores"][_article(d)].__setitem__(METRIC, -1e308),
     "run 1: field 'scores.{a}.rouge/rougeLsum_f' should be within ±1e+15"),
    (lambda d: d["runs"][0]["results"]["run"].__setitem__("shard", "0/1"),
     "run 1: field 'results.run.shard' should be a list, got string '0/1'"),
    (lambda d: d["runs"][0].__setitem__("name", 3), "run 1: field 'name' should be a string, got int 3"),
    (lambda d: d["runs"][0]["results"].__setitem__("metric_info", []),
     "run 1: field 'results.metric_info' should be an object, got list []"),
    (lambda d: d["runs"][0].__setitem__("summaries", ["s"]), "run 1: field 'summaries' should be an object"),
    (lambda d: d["runs"][0].__setitem__("articles", {}),
     "run 1: scored articles without a content hash in 'articles'"),
    (lambda d: d["runs"][0].pop("scores"), "run 1: missing 'scores'"),
    (lambda d: d.__setitem__("runs", {"a": 1}), "field 'runs' should be a list"),
    (lambda d: d["runs"].__setitem__(0, 5), "field 'runs.0' should be an object, got int 5"),
]


@pytest.mark.parametrize("change, message", BASELINE_CASES, ids=[m[:40] for _, m in BASELINE_CASES])
def test_a_damaged_baseline_is_named_with_its_run_and_field(runs, baseline, tmp_path, capsys, change, message):
    data = json.loads(baseline.read_text())
    article = _article(data)
    change(data)
    baseline.write_text(json.dumps(data))  # json.dumps writes inf as the non-JSON token Infinity, as a hand edit might
    code = harness_main(["gate", "--baseline", str(baseline), "--candidate", str(runs / "lead3"),
                         "--out", str(tmp_path / "out")])
    out = capsys.readouterr()
    assert_one_line_error(code, out.out, out.err, str(baseline), message.format(a=article))


def test_first_non_finite_names_the_path():
    assert first_non_finite({"a": [1.0, {"b": float("-inf")}]}) == ("a.1.b", float("-inf"))
    assert first_non_finite({"a": [1, "x", None, True]}) is None
    path, value = first_non_finite([float("nan")])
    assert path == "0" and value != value


def test_schema_errors_are_results_errors():
    from harness.errors import HarnessError

    assert issubclass(ResultsError, HarnessError)  # one line, exit 2, wherever it is raised
    with pytest.raises(ResultsError, match=r"here: missing 'run'"):
        check_results({"status": "completed"}, "here")
