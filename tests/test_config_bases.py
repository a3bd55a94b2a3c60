"""Configs composed from shared bases through Hydra's ``defaults:``: the checkers' common settings in
conf/metrics/base/, the judges' one prompt, and the default sweep as conf/experiment/default_sweep.yaml.

tests/fixtures/metric_configs_before_bases.json holds every metric config as the files said before
the bases (each unresolved, as a run composed it then): the composed configs must say the same."""

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from harness.config import CONF_DIR, compose, load_metric, metric_config
from harness.config_check import sweep_jobs
from harness.metrics.consistency.llm_judge import DEFAULT_PROMPT

from .helpers.cli import ROOT
from .helpers.configs import conf_copy

BEFORE = json.loads((Path(__file__).parent / "fixtures" / "metric_configs_before_bases.json").read_text())
JUDGES = ("consistency_judge", "consistency_judge_served")


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_each_metric_config_composes_to_what_it_said_before_the_bases(name):
    composed = OmegaConf.to_container(metric_config(name).metrics[name], resolve=False)
    expected = dict(BEFORE[name])
    if name in JUDGES:  # the prompt the files copied is the judges' one default now: null says "that one"
        assert expected.pop("prompt") == DEFAULT_PROMPT and composed.pop("prompt") is None
    assert composed == expected


def test_every_shipped_metric_config_was_recorded():
    assert sorted(p.stem for p in (CONF_DIR / "metrics").glob("*.yaml")) == sorted(BEFORE)


@pytest.mark.parametrize("name, base, keys", [
    ("consistency_minicheck", "checker_support", ["_target_", "granularity", "batch_size", "device", "threshold"]),
    ("consistency_minicheck_t5", "checker_support", ["_target_", "granularity", "batch_size", "device", "threshold"]),
    ("consistency_crossencoder", "checker_support", ["_target_", "granularity", "batch_size", "device", "threshold"]),
    ("consistency_checker", "trained_checker", ["model", "max_length", "batch_size", "device"]),
])
def test_a_checker_takes_its_shared_settings_from_its_base(name, base, keys):
    own = OmegaConf.load(CONF_DIR / "metrics" / f"{name}.yaml")
    assert f"base/{base}@{name}" in [str(d).split("  ")[0] for d in own.defaults]
    assert [k for k in keys if k in own[name]] == []  # said once, in the base
    shared = OmegaConf.load(CONF_DIR / "metrics" / "base" / f"{base}.yaml")
    assert {k: metric_config(name).metrics[name][k] for k in keys} == {k: shared[k] for k in keys}


def test_the_coverage_checker_s_matcher_is_the_trained_checker_base():
    matcher = metric_config("coverage_checker").metrics.coverage_checker.matcher
    shared = OmegaConf.load(CONF_DIR / "metrics" / "base" / "trained_checker.yaml")
    assert {k: matcher[k] for k in shared} == dict(shared)
    assert matcher._target_ == "harness.metrics.coverage.entailment.EntailmentMatcher"


def test_load_metric_builds_through_the_bases(tmp_path, monkeypatch, tiny_nli_dir):
    """load_metric composes as a run does: a config whose _target_ is in its base still builds."""
    from harness import config

    monkeypatch.setattr(config, "CONF_DIR", conf_copy(tmp_path, "consistency_crossencoder", model=str(tiny_nli_dir)))
    metric = load_metric("consistency_crossencoder")
    assert type(metric).__name__ == "CheckerSupport" and metric.threshold == 0.5


def test_the_judge_prompt_exists_once():
    question = "Is the statement supported by the article?"
    holders = [p.relative_to(ROOT).as_posix() for top in ("conf", "harness") for p in (ROOT / top).rglob("*")
               if p.suffix in (".yaml", ".py") and question in p.read_text(encoding="utf-8")]
    assert holders == ["harness/metrics/consistency/llm_judge.py"]
    assert all(metric_config(n).metrics[n].prompt is None for n in JUDGES)


def test_the_default_sweep_is_an_experiment_config():
    assert "sweeper" not in (OmegaConf.load(CONF_DIR / "config.yaml").get("hydra") or {})
    experiment = OmegaConf.load(CONF_DIR / "experiment" / "default_sweep.yaml")
    assert compose(hydra=True).hydra.sweeper.params == experiment.hydra.sweeper.params
    assert sweep_jobs([]) == [[f"system={s}", f"decoding={d}"] for s in ("lead3", "bullets", "smollm2")
                              for d in ("greedy", "beam")]


def test_another_experiment_replaces_the_default_sweep(tmp_path, monkeypatch):
    from harness import config

    conf = conf_copy(tmp_path)
    (conf / "experiment" / "two.yaml").write_text("# @package _global_\n# Two seeds of lead-3.\n"
                                                  "hydra:\n  sweeper:\n    params:\n      system: lead3\n"
                                                  "      seed: 0,1\n")
    monkeypatch.setattr(config, "CONF_DIR", conf)
    assert sweep_jobs(["experiment=two"]) == [["system=lead3", "seed=0", "experiment=two"],
                                              ["system=lead3", "seed=1", "experiment=two"]]
