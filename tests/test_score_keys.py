"""Score cache keys cover all the code a scorer runs: the fingerprint hashes the import closure of
the scorer's classes (computed from the import graph). In a temporary copy of the package, a
function is edited in each module of every shipped scorer's closure: each edit misses the cache of
every scorer whose closure holds that module, and keeps the cache of the others."""

import ast
import shutil

import pytest
from omegaconf import OmegaConf

from harness.config import CONF_DIR, metric_config
from harness.metrics.rouge import Rouge
from harness.metrics.score_cache import (
    PACKAGE_ROOT,
    ScoreCache,
    code_modules,
    code_sha256,
    import_closure,
    metric_fingerprint,
    score_key,
)


def _targets(node, out):
    if isinstance(node, dict):
        if isinstance(node.get("_target_"), str):
            out.append(node["_target_"].rpartition(".")[0])
        for value in node.values():
            _targets(value, out)
    return out


# Each shipped metric config -> the modules of the classes it builds (its _target_s: a coverage
# metric's matcher too), read from conf/metrics without loading any model.
# Composed as a run composes them: a base in conf/metrics/base/ may hold a config's _target_.
SCORERS = {path.stem: sorted(set(_targets(OmegaConf.to_container(metric_config(path.stem).metrics), [])))
           for path in sorted((CONF_DIR / "metrics").glob("*.yaml"))}
CLOSURES = {name: import_closure(modules) for name, modules in SCORERS.items()}
ALL_MODULES = sorted(set().union(*CLOSURES.values()))


def edit_a_function(path):
    """Insert a statement at the top of the first function's body (or, in a module without a
    function, a module-level line): a real code change, not a comment."""
    source = path.read_text(encoding="utf-8")
    functions = [n for n in ast.walk(ast.parse(source)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    lines = source.splitlines(keepends=True)
    if not functions:
        path.write_text(source + "\n_EDITED = True\n", encoding="utf-8")
        return
    first = min(functions, key=lambda f: f.lineno).body[0]
    indent = " " * first.col_offset
    if first.lineno == functions[0].lineno:  # a one-line def: `def f(): return x`
        path.write_text(source + "\n_EDITED = True\n", encoding="utf-8")
        return
    lines.insert(first.lineno - 1, f"{indent}_edited = True  # noqa\n")
    path.write_text("".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def copy_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("code") / "harness"
    shutil.copytree(PACKAGE_ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_closures_hold_what_scores_depend_on():
    """The modules the issue named, which the old package list missed, are in the closures."""
    assert "harness.systems.served" in CLOSURES["consistency_judge_served"]  # the served judge's client
    composite = {path for path in CLOSURES["consistency_composite"].values()
                 if "def apply_composite" in path.read_text(encoding="utf-8")}
    assert composite, "the module that applies the composite's weights is in its closure"
    assert "harness.models.model_source" in CLOSURES["consistency_embedding"]
    assert "harness.metrics.coverage.lexical" in CLOSURES["coverage_lexical"]  # the matcher, built from config
    # nothing a scorer never runs: reports, the CLI, the gate, the run (which the package's lazy
    # Python API names: an import statement there would put it in every closure)
    assert not {"harness.cli", "harness.gate", "harness.reports.leaderboard", "harness.run"} & set(ALL_MODULES)


@pytest.fixture(scope="module")
def hashes_before(copy_root):
    return {name: code_sha256(modules, copy_root) for name, modules in SCORERS.items()}


@pytest.mark.parametrize("module", ALL_MODULES)
def test_editing_a_function_in_a_module_misses_the_cache_of_the_scorers_that_import_it(module, copy_root,
                                                                                       hashes_before):
    relative = CLOSURES[next(n for n, c in CLOSURES.items() if module in c)][module].relative_to(PACKAGE_ROOT)
    target = copy_root / relative
    original = target.read_bytes()
    before = hashes_before
    try:
        edit_a_function(target)
        after = {name: code_sha256(modules, copy_root) for name, modules in SCORERS.items()}
    finally:
        target.write_bytes(original)
    for name in SCORERS:
        assert (after[name] != before[name]) == (module in CLOSURES[name]), name


def test_an_edit_is_a_real_cache_miss(tmp_path, copy_root):
    """ROUGE's fingerprint from the edited copy gives another key: the entry stored under the
    current code's key is not found, while an edit outside its closure (a report) keeps it."""
    rouge = Rouge()
    cache = ScoreCache(tmp_path)
    here = score_key(metric_fingerprint("rouge", rouge), "A summary.", "article-sha")
    cache.put(here, {"rouge1_f": 0.5})
    assert metric_fingerprint("rouge", rouge, copy_root) == metric_fingerprint("rouge", rouge)
    for relative, misses in (("metrics/lcs.py", True), ("text/sentences.py", True), ("reports/leaderboard.py", False)):
        target = copy_root / relative
        original = target.read_bytes()
        try:
            edit_a_function(target)
            key = score_key(metric_fingerprint("rouge", rouge, copy_root), "A summary.", "article-sha")
        finally:
            target.write_bytes(original)
        assert (cache.get(key, rouge.columns()) is None) == misses, relative


def test_code_of_objects_a_metric_holds_counts():
    """Classes a config puts together (a coverage metric's matcher, a composite's inputs) are in no
    import statement of the metric's module: their modules come from the objects it holds."""
    from harness.metrics.coverage.bullet_coverage import BulletCoverage
    from harness.metrics.coverage.lexical import LexicalMatcher

    metric = BulletCoverage(matcher=LexicalMatcher(), threshold=0.5)
    assert {"harness.metrics.coverage.bullet_coverage", "harness.metrics.coverage.lexical"} <= code_modules(metric)
