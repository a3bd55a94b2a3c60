"""``resolved_config.yaml``: the config a run ran with (``config``, resolved), Hydra's group
``choices`` and the ``overrides`` it was given; written first, read by the gate's re-scoring (the
candidate's scorers) and the trackers (params)."""

from __future__ import annotations

from pathlib import Path

from harness.io import write_text_atomic
from harness.results.run_dir import RESOLVED_CONFIG
from harness.results.schema import ResultsError


def write_run_config(directory: Path, resolved: dict, choices: dict | None = None,
                     overrides: list[str] | None = None) -> None:
    from omegaconf import OmegaConf

    write_text_atomic(Path(directory) / RESOLVED_CONFIG, OmegaConf.to_yaml(OmegaConf.create(
        {"config": resolved, "choices": dict(choices or {}), "overrides": list(overrides or [])})))


def read_resolved_config(directory: Path, *, missing_ok: bool = False) -> dict:
    """The whole resolved_config.yaml (``config``, ``choices``, ``overrides``) as written, its
    interpolations left as they are; ``missing_ok``: {} when the run wrote none."""
    from omegaconf import OmegaConf

    path = Path(directory) / RESOLVED_CONFIG
    if missing_ok and not path.is_file():
        return {}
    try:
        data = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    except OSError as e:
        raise ResultsError(f"{path}: cannot read it ({e.strerror or e})") from None
    except Exception as e:  # YAML that does not parse: a damaged file
        raise ResultsError(f"{path}: not a resolved config ({type(e).__name__}: {e}); rerun the run that wrote it") \
            from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: not a resolved config (a YAML {type(data).__name__}); rerun the run that wrote it")
    return data


def read_run_config(directory: Path) -> dict:
    """The resolved config a run ran with (``config`` of its resolved_config.yaml)."""
    data = read_resolved_config(directory)
    if not isinstance(data.get("config"), dict):
        raise ResultsError(f"{Path(directory) / RESOLVED_CONFIG}: no 'config' in it; rerun the run that wrote it")
    return data["config"]
