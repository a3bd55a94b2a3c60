"""Where the configs live, the one resolver they use (``${project_root:}``), and loading one
metric config outside a run (for meta-evaluation)."""

from __future__ import annotations

from omegaconf import OmegaConf

from harness.provenance import PROJECT_ROOT

CONF_DIR = PROJECT_ROOT / "conf"


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("project_root"):
        OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT))


def build(cfg, key: str):
    """``instantiate(cfg[key])``, with our own errors raised as they are and others named by key."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    from harness.errors import ConfigError, HarnessError

    try:
        return instantiate(cfg[key])
    except InstantiationException as e:
        if isinstance(e.__cause__, HarnessError):
            raise e.__cause__ from None
        raise ConfigError(f"config {key!r}: {e}") from e


def load_metric(name: str):
    """Instantiate ``conf/metrics/NAME.yaml`` (its single top-level key is the metric)."""
    from harness.errors import ConfigError

    path = CONF_DIR / "metrics" / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (CONF_DIR / "metrics").glob("*.yaml"))
        raise ConfigError(f"no metric config {name!r} ({path}); known: {', '.join(known)}")
    register_resolvers()
    return build(OmegaConf.load(path), name)
