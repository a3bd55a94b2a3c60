"""Where the configs live, and the one resolver they use (``${project_root:}``)."""

from __future__ import annotations

from omegaconf import OmegaConf

from harness.provenance import PROJECT_ROOT

CONF_DIR = PROJECT_ROOT / "conf"


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("project_root"):
        OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT))
