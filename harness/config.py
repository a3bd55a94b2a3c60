"""Where the configs live, the resolvers they use (``${project_root:}``, ``${unique_id:}``, ...),
composing a run's config from Python (`compose`), and loading one metric config outside a run
(for meta-evaluation).

``conf/`` and ``references/`` stay at the repository's top level; a built wheel carries copies of
both as ``harness/_bundled/`` (setup.py). `project_root` is the one place that chooses: the
checkout's top level in a checkout or an editable install, the packaged copies otherwise. The
``${project_root:}`` in the configs (``data.path``, the composite's weights) resolves to it too."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent
BUNDLED_DIR = PACKAGE_DIR / "_bundled"  # what setup.py's build step copies into a wheel


def project_root(checkout: Path = CHECKOUT_DIR, bundled: Path = BUNDLED_DIR) -> Path:
    """The directory holding ``conf/`` and ``references/``.

    Args:
        checkout: the directory above the package (a checkout's top level, or site-packages).
        bundled: the copies a built wheel carries inside the package.
    Returns:
        ``checkout`` when it is the project's checkout (its ``pyproject.toml`` beside
        ``conf/config.yaml``: a checkout or an editable install), else ``bundled``.
    """
    if (checkout / "conf" / "config.yaml").is_file() and (checkout / "pyproject.toml").is_file():
        return checkout
    return bundled


DATA_ROOT = project_root()
CONF_DIR = DATA_ROOT / "conf"
REFERENCES_DIR = DATA_ROOT / "references"


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("project_root"):
        OmegaConf.register_new_resolver("project_root", lambda: str(DATA_ROOT))
    if not OmegaConf.has_resolver("calibrated"):
        OmegaConf.register_new_resolver("calibrated", _calibrated)
    if not OmegaConf.has_resolver("calibration_file"):
        OmegaConf.register_new_resolver("calibration_file", _calibration_file)


def _calibrated(kind: str, *, _parent_, _root_) -> float:
    """``${calibrated:flag}`` in a scorer's config: its ``kind`` threshold in the calibration the
    config's top-level ``calibration`` names (the shipped one where unset), by the scorer's config name."""
    from harness.calibration.file import read_calibration, root_calibration

    return read_calibration(root_calibration(_root_)).threshold(str(_parent_._key()), str(kind))


def _calibration_file(*, _root_) -> str:
    """``${calibration_file:}``: the path of the calibration the top-level ``calibration`` names."""
    from harness.calibration.file import read_calibration, root_calibration

    return read_calibration(root_calibration(_root_)).path


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


def metric_config(name: str, calibration=None) -> DictConfig:
    """``conf/metrics/NAME.yaml`` composed as a run composes it (``metrics=[NAME]``: the shared
    bases its ``defaults:`` names included, which ``OmegaConf.load`` would leave out).

    Args:
        name: a metrics option (``harness ls metrics``).
        calibration: the calibration file its ``${calibrated:...}`` thresholds read (None: the shipped one).
    Returns:
        The composed config, the metric at ``metrics.NAME`` (unresolved: interpolations resolve when read).
    Raises:
        ConfigError: no such metric config, naming the known ones.
    """
    from harness.errors import ConfigError

    path = CONF_DIR / "metrics" / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (CONF_DIR / "metrics").glob("*.yaml"))
        raise ConfigError(f"no metric config {name!r} ({path}); known: {', '.join(known)}")
    cfg = compose([f"metrics=[{name}]"])
    if calibration is not None:
        cfg.calibration = str(calibration)
    return cfg


def load_metric(name: str, calibration=None):
    """Instantiate ``conf/metrics/NAME.yaml`` (`metric_config`), its calibrated thresholds read from
    ``calibration`` (a calibration file; None: the shipped one)."""
    return build(metric_config(name, calibration).metrics, name)


def register_all_resolvers() -> None:
    """Every resolver the configs use: `register_resolvers`'s, the run directory's (``${unique_id:}``,
    ``${abs_path:}``) and Ray's."""
    from harness.ray_init import register_ray_resolver
    from harness.results.run_dir import register_run_dir_resolver

    register_resolvers()
    register_run_dir_resolver()
    register_ray_resolver()


def compose(overrides=(), *, hydra: bool = False) -> DictConfig:
    """A run's configuration, composed as ``harness run OVERRIDES`` composes it (without running).

    Args:
        overrides: Hydra overrides, e.g. ``["system=lead3", "metrics=[rouge]"]`` (no sweeps).
        hydra: keep the ``hydra`` node (run and sweep directories, sweeper params).
    Returns:
        The composed config (unresolved: interpolations resolve when read).
    Raises:
        ConfigError: an override that does not parse, names no config option or no key (one line).
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from hydra.initialize import get_gh_backup, restore_gh_from_backup
    from omegaconf.errors import OmegaConfBaseException

    from harness.errors import ConfigError

    register_all_resolvers()
    outer = get_gh_backup()  # a caller's own Hydra (inside its initialize_config_dir, or a running app)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="harness"):
            return hydra_compose(config_name="config", overrides=list(overrides), return_hydra_config=hydra)
    except (HydraException, OmegaConfBaseException) as e:
        raise ConfigError(one_line(str(e))) from None
    finally:
        restore_gh_from_backup(outer)


def one_line(message: str) -> str:
    """Hydra's messages (several lines, a hint on the last) as one line, without its search path."""
    message = message.split("\nConfig search path:")[0]
    return " ".join(line.strip() for line in message.splitlines() if line.strip())


# ``harness ls KIND``: the config group each kind lists.
GROUPS = {"systems": "system", "metrics": "metrics", "data": "data", "prompts": "prompt", "decoding": "decoding",
          "servers": "server", "launchers": "launcher", "tracking": "tracking", "experiments": "experiment"}


def group_options(kind: str, conf_dir: Path | None = None) -> list[tuple[str, str]]:
    """The options of one config group, for ``harness ls``.

    Args:
        kind: a key of `GROUPS` (``systems``, ``metrics``...) or a group's own name (``system``).
        conf_dir: the config directory (default `CONF_DIR`).
    Returns:
        (option, description) for each ``conf/GROUP/OPTION.yaml``, sorted by option; the
        description is the first sentence of the file's leading comment ("" when it has none).
    Raises:
        ConfigError: an unknown kind, naming the known ones.
    """
    from harness.errors import ConfigError

    group = GROUPS.get(kind, kind if kind in GROUPS.values() else None)
    if group is None:
        raise ConfigError(f"harness ls: unknown kind {kind!r}; known: {', '.join(GROUPS)}")
    directory = (conf_dir or CONF_DIR) / group
    return [(path.stem, description(path.read_text(encoding="utf-8"))) for path in sorted(directory.glob("*.yaml"))]


ABBREVIATIONS = (" al", "e.g", "i.e", "etc", " vs", " cf")


def description(text: str, limit: int = 120) -> str:
    """The first sentence of a YAML file's leading comment (its Hydra ``# @package`` line skipped),
    at most ``limit`` characters (cut with an ellipsis); "" when the file starts with no comment.

    Args:
        text: the YAML file's text.
        limit: the longest description returned.
    Returns:
        e.g. "The first k sentences of the article (lead-3; system.k=1 for lead-1)."
    """
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        comment = stripped.lstrip("#").strip()
        if not comment.startswith("@package"):
            lines.append(comment)
    words = " ".join(lines)
    # A sentence ends at a full stop and a space (not the one of "et al." or "e.g.") or at the end.
    end = next((i + 1 for i, ch in enumerate(words) if ch == "." and words[i + 1:i + 2] in ("", " ")
                and not words[:i].endswith(ABBREVIATIONS)), len(words))
    sentence = words[:end]
    return sentence if len(sentence) <= limit else sentence[:limit - 1].rstrip() + "…"
