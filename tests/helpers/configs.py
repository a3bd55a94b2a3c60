"""Run configurations for tests, composed as ``harness run`` composes them."""

from __future__ import annotations

from hydra import compose, initialize_config_dir

from harness.config import CONF_DIR


def config(*overrides):
    """The config ``harness run OVERRIDES`` runs (progress bars off)."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=["progress=false", *overrides])


def tiny(model_dir, *more):
    """Overrides that run the tiny random causal LM of ``model_dir`` (conftest's tiny_causal_dir)."""
    return ("system=causal_lm", f"system.model={model_dir}", "system.name=tiny", "decoding.max_new_tokens=6", *more)


def conf_copy(directory, metric: str | None = None, **settings):
    """A copy of conf/ under ``directory`` (for ``monkeypatch.setattr(harness.config, "CONF_DIR", ...)``),
    with ``settings`` of conf/metrics/METRIC.yaml changed (its ``defaults:`` kept); the copy's path."""
    import shutil
    from pathlib import Path

    from omegaconf import OmegaConf

    conf = Path(directory) / "conf"
    shutil.copytree(CONF_DIR, conf)
    if metric is not None:
        cfg = OmegaConf.load(conf / "metrics" / f"{metric}.yaml")
        for key, value in settings.items():
            cfg[metric][key] = value
        OmegaConf.save(cfg, conf / "metrics" / f"{metric}.yaml")
    return conf
