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
