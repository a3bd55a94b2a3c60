"""Every option of every config group composes with conf/config.yaml and instantiates, so a broken
config fails here, not in a user's run. Options are globbed from conf/: a new option is covered
the moment its file exists.

Some options cannot be instantiated offline as they are (a Hub model, a server): OFFLINE lists
each with the overrides this test gives it and why. An option that fails to instantiate and is
not in OFFLINE fails this test: add it to OFFLINE with documented overrides, or fix the config.
Options of an optional extra skip without it (EXTRA); launchers are composed only (their jobs
run in tests/test_launchers.py), and skip without their plugin.
"""

import json
import os

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import get_class
from omegaconf import OmegaConf

from harness.app import LAUNCHER_PLUGINS, hydra_launcher, missing_launcher_plugin, plugin_installed
from harness.config import CONF_DIR, build
from harness.data.article import Article
from harness.gate import load_gate_config
from harness.metrics.base import Metric
from harness.systems.base import System
from harness.systems.decoding import Decoding
from harness.systems.prompt import PromptTemplate

GROUPS = ("system", "prompt", "decoding", "data", "metrics")
TYPES = {"system": System, "prompt": PromptTemplate, "decoding": Decoding, "metrics": Metric}

# "group/option": (overrides, why). {causal_lm}, {seq2seq}, {nli} are tiny random models saved to
# a temp dir (tests/conftest.py); {cnn_dailymail} a two-article file in the CNN/DailyMail format.
OFFLINE = {
    "system/causal_lm": (["system.model={causal_lm}"], "system.model is ??? (a Hub id or directory)"),
    "system/seq2seq": (["system.model={seq2seq}"], "system.model is ??? (a Hub id or directory)"),
    "system/openai_compatible": (["system.model=tiny", "system.check_model=false"],
                                 "system.model is ???, and no server answers GET /models offline"),
    "data/cnn_dailymail": (["data.path={cnn_dailymail}"], "data.path is a Hub dataset"),
    "metrics/consistency_nli": (["metrics.consistency_nli.model={nli}"], "model is a Hub NLI model"),
    "metrics/consistency_minicheck": (["metrics.consistency_minicheck.model={nli}"], "model is a Hub checker"),
    "metrics/consistency_minicheck_t5": (["metrics.consistency_minicheck_t5.model={seq2seq}",
                                          "metrics.consistency_minicheck_t5.label_words=[yes,no]"],
                                         "model is a Hub checker (the tiny seq2seq's vocabulary has no 1/0)"),
    "metrics/consistency_crossencoder": (["metrics.consistency_crossencoder.model={nli}"],
                                         "model is a Hub NLI cross-encoder"),
    "metrics/coverage_entailment": (["metrics.coverage_entailment.matcher.model={nli}"],
                                    "matcher.model is a Hub NLI model"),
    "metrics/consistency_judge_served": (["metrics.consistency_judge_served.model=tiny",
                                          "+metrics.consistency_judge_served.check_model=false"],
                                         "model comes from the environment, and no server answers offline"),
}
# More cases of one option: "group/option[variant]": (overrides, why).
VARIANTS = {
    "metrics/consistency_bullets[nli]": (["metrics.consistency_bullets.nli_model={nli}"],
                                         "the NLI path of the contradiction check (nli_model: a Hub id or directory)"),
}
# "group/option": (module, extra): skipped when the module is not installed (failed in CI, which has every extra).
EXTRA = {"system/smollm2_llamacpp": ("llama_cpp", "llamacpp")}


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def skip_or_fail_in_ci(reason: str) -> None:
    """CI installs every extra (.ci/run): a missing one there is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs every extra)")
    pytest.skip(reason)


CASES = [f"{group}/{option}" for group in GROUPS for option in options(group)] + sorted(VARIANTS)


def compose_with(*overrides, hydra=False):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=["progress=false", *overrides], return_hydra_config=hydra)


@pytest.fixture(scope="module")
def cnn_dailymail_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cnn") / "cnn.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in [
        {"id": "c1", "article": "The mayor spoke. Fuel prices rose sharply.", "highlights": "Fuel prices rose"},
        {"id": "c2", "article": "Police fled the city. Troops arrived.", "highlights": "Police fled\nTroops came"}]))
    return path


@pytest.mark.parametrize("case", CASES)
def test_every_option_instantiates(case, cache_dir, tiny_causal_dir, tiny_seq2seq_dir, tiny_nli_dir,
                                   cnn_dailymail_file):
    key = case.split("[")[0]
    group, option = key.split("/")
    if key in EXTRA and not plugin_installed(EXTRA[key][0]):
        skip_or_fail_in_ci(f"{case} needs {EXTRA[key][0]}: pip install -e '.[{EXTRA[key][1]}]'")
    paths = {"causal_lm": tiny_causal_dir, "seq2seq": tiny_seq2seq_dir, "nli": tiny_nli_dir,
             "cnn_dailymail": cnn_dailymail_file}
    given, why = VARIANTS.get(case) or OFFLINE.get(key, ([], ""))
    choice = f"metrics=[{option}]" if group == "metrics" else f"{group}={option}"
    try:
        cfg = compose_with(choice, *(o.format(**paths) for o in given))
        built = build(cfg.metrics, option) if group == "metrics" else build(cfg, group)
    except Exception as e:
        listed = f"with {given} ({why})" if given else "as it is; if it cannot offline, add it to OFFLINE in " \
                                                         "tests/test_configs.py with the overrides it needs and why"
        pytest.fail(f"{case} does not instantiate {listed}: {type(e).__name__}: {e}")
    if group == "data":
        assert built and all(isinstance(a, Article) for a in built)
    else:
        assert isinstance(built, TYPES[group])


def test_the_override_tables_name_existing_options():
    cases = {f"{group}/{option}" for group in GROUPS for option in options(group)}
    stale = {key for key in [*OFFLINE, *EXTRA, *(v.split("[")[0] for v in VARIANTS)] if key not in cases}
    assert stale == set()


def test_the_cnn_dailymail_option_reads_a_local_file(cache_dir, cnn_dailymail_file):
    articles = build(compose_with("data=cnn_dailymail", f"data.path={cnn_dailymail_file}"), "data")
    assert [(a.id, list(a.bullets)) for a in articles] == [("c1", ["Fuel prices rose"]),
                                                          ("c2", ["Police fled", "Troops came"])]


@pytest.mark.parametrize("name", options("gate"))
def test_every_gate_config_loads_with_what_the_gate_reads(name):
    config = load_gate_config(name)
    assert config["metrics"] and all(isinstance(m, str) and isinstance(t, (int, float)) and t >= 0
                                     for m, t in config["metrics"].items())
    assert 0 < config["confidence"] < 1
    assert isinstance(config["n_resamples"], int) and config["n_resamples"] >= 1 and isinstance(config["seed"], int)


@pytest.mark.parametrize("option", options("launcher"))
def test_every_launcher_composes_and_targets_its_plugin(option):
    import harness.app  # noqa: F401  (registers ${unique_id:}, as `harness run` does)

    reason = missing_launcher_plugin(option)
    if reason:
        skip_or_fail_in_ci(reason)
    cfg = compose_with(f"+launcher={option}", hydra=True)
    launcher = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    plugin = LAUNCHER_PLUGINS.get(hydra_launcher(option), ("hydra._internal.core_plugins.basic_launcher",))[0]
    assert launcher["_target_"].startswith(f"{plugin}.")
    assert get_class(launcher["_target_"]).__module__.startswith(plugin)


# --- the run's configuration checked before anything is built (issue 23, harness/config_check.py) ----------

REFUSED = [
    (["seed=abc"], r"^seed must be an integer, 0 or more .*got 'abc': e\.g\. seed=0$"),
    (["seed=-1"], r"^seed must be an integer, 0 or more .*got -1"),
    (["seed=1.5"], r"^seed must be an integer, 0 or more .*got 1\.5"),
    (["seed=true"], r"^seed must be an integer, 0 or more .*got True"),
    (["seed=null"], r"^seed must be an integer, 0 or more .*got None"),
    (["n_resamples=0"], r"^n_resamples must be an integer from 1 to 1,000,000 .*got 0"),
    (["n_resamples=2000000"], r"^n_resamples must be an integer from 1 to 1,000,000"),
    (["progress=maybe"], r"^progress must be true or false, got 'maybe'$"),
    (["progress=1"], r"^progress must be true or false, got 1$"),
    (["system=causal_lm"], r"^system\.model is not set: give it on the command line, a hub id, a local directory or "
                           r"a \.gguf file, e\.g\. system\.model=HuggingFaceTB/SmolLM2-135M-Instruct$"),
    (["system=seq2seq"], r"^system\.model is not set: .*system\.model="),
    (["metrics.rouge.use_stemmer=maybe"], r"^metrics\.rouge\.use_stemmer must be true or false, got 'maybe'$"),
    (["metrics.rouge.use_stemmer=2"], r"^metrics\.rouge\.use_stemmer must be true or false, got 2$"),
    (["metrics.coverage_lexical.threshold=7"], r"^metrics\.coverage_lexical\.threshold must be from 0 to 1, got 7$"),
    (["metrics.coverage_lexical.threshold=-0.1"], r"^metrics\.coverage_lexical\.threshold must be from 0 to 1"),
    (["metrics.coverage_semantic.threshold=1.5"], r"^metrics\.coverage_semantic\.threshold must be from -1 to 1"),
    (["metrics.coverage_lexical.threshold=high"], r"^metrics\.coverage_lexical\.threshold must be a number, got"),
    (["metrics.consistency_entity.threshold=7"], r"^metrics\.consistency_entity\.threshold must be from 0 to 1"),
    (["metrics.consistency_embedding.threshold=-2"],
     r"^metrics\.consistency_embedding\.threshold must be from -1 to 1"),
    (["metrics.coverage_lexical.matcher.n=two"], r"^metrics\.coverage_lexical\.matcher\.n must be an integer, got"),
    (["system=causal_lm", "system.model=x", "system.max_input_tokens=-5"],
     r"^system\.max_input_tokens must be 1 or more \(or null\), got -5$"),
    (["system=causal_lm", "system.model=x", "system.max_input_tokens=0"], r"^system\.max_input_tokens must be 1 or"),
    (["system=causal_lm", "system.model=x", "system.max_input_tokens=many"],
     r"^system\.max_input_tokens must be an integer \(or null\), got 'many'$"),
    (["system.batch_size=0"], r"^system\.batch_size must be 1 or more, got 0$"),
    (["system.batch_size=1.5"], r"^system\.batch_size must be an integer or a string, got 1\.5$"),
    (["system.revision=1234567"], r"^system\.revision must be a string \(or null\), got 1234567 \(quote a value that "
                                  r"looks like a number: system\.revision='1234567'\)$"),
    (["system=lead3", "system.k=three"], r"^system\.k must be an integer, got 'three'$"),
    (["system=openai_compatible", "system.model=m", "system.timeout_s=soon"],
     r"^system\.timeout_s must be a number, got 'soon'$"),
    (["system=openai_compatible", "system.model=m", "system.max_input_chars=-1"],
     r"^system\.max_input_chars must be 1 or more \(or null\), got -1$"),
    (["system=openai_compatible", "system.model=m", "system.concurrency=0"], r"^system\.concurrency must be 1 or more"),
    (["data.sample=abc"], r"^data\.sample must be an integer \(or null\), got 'abc'$"),
    (["data.limit=1.5"], r"^data\.limit must be an integer \(or null\), got 1\.5$"),
]
ACCEPTED = [["seed=0"], ["seed=12345678901234567890"], ["progress=false"], ["n_resamples=1"],
            ["metrics.coverage_lexical.threshold=0"], ["metrics.coverage_lexical.threshold=1"],
            ["metrics.coverage_semantic.threshold=-0.5"], ["metrics.rouge.use_stemmer=false"],
            ["system=causal_lm", "system.model=x", "system.max_input_tokens=null"],
            ["system=causal_lm", "system.model=x", "system.max_input_tokens=1"], ["system.batch_size=auto"],
            ["system.revision='1234567'"], ["data.sample=3"]]


@pytest.mark.parametrize(("overrides", "message"), REFUSED, ids=[" ".join(o) for o, _ in REFUSED])
def test_a_bad_setting_is_refused_in_one_line_naming_it(overrides, message):
    from harness.config_check import check_run_config
    from harness.errors import ConfigError

    with pytest.raises(ConfigError, match=message) as refused:
        check_run_config(compose_with(*overrides))
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("overrides", ACCEPTED, ids=[" ".join(o) for o in ACCEPTED])
def test_good_settings_pass_the_check(overrides):
    from harness.config_check import check_run_config

    check_run_config(compose_with(*overrides))


@pytest.mark.parametrize("system", options("system"))
def test_every_shipped_system_and_metric_config_passes_the_check(system):
    from harness.config_check import check_run_config

    model = ["system.model=x"] if system in ("causal_lm", "seq2seq", "openai_compatible") else []
    check_run_config(compose_with(f"system={system}", f"metrics=[{','.join(options('metrics'))}]", *model))


@pytest.mark.parametrize(("overrides", "message"), [
    (["seed=abc"], "seed must be an integer"),
    (["system=causal_lm"], "system.model is not set"),
    (["system=causal_lm", "system.model=x", "system.max_input_tokens=-5"], "system.max_input_tokens must be 1"),
    (["metrics.coverage_lexical.threshold=7"], "threshold must be from 0 to 1"),
])
def test_a_run_is_refused_before_any_model_loads_or_any_file_is_written(tmp_path, monkeypatch, overrides, message):
    from harness.errors import ConfigError
    from harness.run import run
    from harness.systems.language_model import CausalLM

    def no_load(self):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(CausalLM, "load", no_load)
    with pytest.raises(ConfigError, match=message):
        run(compose_with(f"cache_dir={tmp_path / 'cache'}", *overrides), tmp_path / "run")
    assert not (tmp_path / "run").exists() or list((tmp_path / "run").iterdir()) == []


def test_harness_run_says_the_unset_model_in_one_line_not_a_traceback(tmp_path):
    import subprocess
    import sys

    from .conftest import ROOT, scaled_timeout

    done = subprocess.run([sys.executable, "-m", "harness", "run", "system=causal_lm", "metrics=[rouge]",
                           f"hydra.run.dir={tmp_path / 'run'}"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache")}, timeout=scaled_timeout(60))
    assert done.returncode == 2 and not (tmp_path / "run").exists()  # checked before Hydra creates it
    assert done.stderr.strip().splitlines() == [
        "error: system.model is not set: give it on the command line, a hub id, a local directory or a .gguf file, "
        "e.g. system.model=HuggingFaceTB/SmolLM2-135M-Instruct"]
    assert "MissingMandatoryValue" not in done.stdout + done.stderr


def test_a_coverage_threshold_outside_its_matchers_scores_is_refused_when_built_directly():
    from harness.errors import ConfigError
    from harness.metrics.coverage.bullet_coverage import BulletCoverage
    from harness.metrics.coverage.lexical import LexicalMatcher

    with pytest.raises(ConfigError, match=r"coverage \(lexical\): threshold must be from 0 to 1 .*got 7"):
        BulletCoverage(LexicalMatcher(), threshold=7)
    with pytest.raises(ConfigError, match="got 'high'"):
        BulletCoverage(LexicalMatcher(), threshold="high")
    assert BulletCoverage(LexicalMatcher(), threshold=1).threshold == 1.0


def test_two_coverage_keys_never_share_score_cache_entries():
    from harness.metrics.coverage.bullet_coverage import BulletCoverage
    from harness.metrics.coverage.lexical import LexicalMatcher
    from harness.metrics.score_cache import metric_fingerprint

    first, second = (BulletCoverage(LexicalMatcher(), threshold=0.65, key=k) for k in ("a", "b"))
    assert metric_fingerprint("coverage_lexical", first) != metric_fingerprint("coverage_lexical", second)
    assert metric_fingerprint("coverage_lexical", first) == metric_fingerprint(
        "coverage_lexical", BulletCoverage(LexicalMatcher(), threshold=0.65, key="a"))


def test_a_second_run_with_another_coverage_key_scores_under_its_own_columns(tmp_path):
    """Was: the second run read the first one's cache entries and failed with 'wrote columns its
    columns() does not declare'."""
    from harness.run import run

    cache = tmp_path / "cache"
    for key in ("first", "second"):
        results = run(compose_with("system=lead3", "metrics=[coverage_lexical]", f"cache_dir={cache}",
                                   f"+metrics.coverage_lexical.key={key}"), tmp_path / key)
        assert results["status"] == "completed"
        assert f"coverage/bullet_recall@{key}" in results["metrics"]
        assert results["scoring"]["coverage_lexical"]["cached"] == 0
