"""The Hydra app behind ``harness run``: one job per run, errors recorded in the job's results.json.

Each job catches its own error and writes ``status: failed`` so a sweep goes on and its
leaderboard lists the failure (Hydra's basic sweeper would otherwise stop at the first one).
A single run exits non-zero with the error message.

A directory holding a finished run is never overwritten (``harness.run_dir``): a single run into
one exits non-zero; in a sweep the finished job is skipped, so rerunning a sweep into its
``hydra.sweep.dir`` finishes only the jobs that did not finish.

``check_launcher`` runs before Hydra: a ``+launcher=`` whose Hydra plugin is not installed is
our error naming the extra to install, not Hydra's "Could not find 'hydra/launcher/…'".
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from harness.config import CONF_DIR, register_resolvers
from harness.errors import ConfigError, HarnessError, RunDirError, StorageError, interrupted, storage_error
from harness.http_client import check_key_settings
from harness.ray_init import register_ray_resolver
from harness.results.metric_info import display_name, headline_metrics
from harness.results.results_file import write_results
from harness.results.run_dir import BusyRunDirError, FinishedRunError, register_run_dir_resolver
from harness.run import failed_results, run
from harness.threads import prepare as prepare_threads

log = logging.getLogger("harness")
register_resolvers()
register_run_dir_resolver()
register_ray_resolver()

# Hydra launcher (the hydra/launcher option a conf/launcher/*.yaml picks) -> (its plugin, our extra).
TRACKERS = ("mlflow", "wandb")  # conf/tracking/NAME.yaml needs the package NAME, from the extra NAME
LAUNCHER_PLUGINS = {
    "joblib": ("hydra_plugins.hydra_joblib_launcher", "joblib"),
    "submitit_local": ("hydra_plugins.hydra_submitit_launcher", "slurm"),
    "submitit_slurm": ("hydra_plugins.hydra_submitit_launcher", "slurm"),
    "ray": ("hydra_plugins.hydra_ray_launcher", "ray"),
}


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    prepare_threads()  # a launcher's worker process runs our code first here: before the job loads torch
    hc = HydraConfig.get()
    output_dir = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    sweep = hc.mode == RunMode.MULTIRUN
    try:  # a key where its variable's name belongs (from a config file): stop before any file is written
        check_key_settings(OmegaConf.to_container(cfg, resolve=True))
    except ConfigError as e:
        sys.stderr.write(f"error: {e}\n")
        sys.exit(2)
    except Exception:  # noqa: BLE001 - an unresolvable config: run() reports it, with the run's record
        pass
    try:
        results = run(cfg, output_dir, choices=dict(hc.runtime.choices), overrides=overrides)
    except RunDirError as e:  # finished, or another process is running there: leave it untouched
        if not sweep:
            sys.exit(f"error: {e}")
        skip(e, output_dir, overrides)
        return
    except KeyboardInterrupt:  # Ctrl-C: stop (a sweep too); every file written so far is whole
        sys.stderr.write(f"{interrupted(output_dir)}\n")
        sys.exit(130)
    except Exception as e:
        e = storage_error(e, cfg.get("cache_dir")) or e
        try:
            write_results(output_dir, failed_results(e, cfg))
        except FinishedRunError as finished:
            log.error("%s", finished)
        except (HarnessError, OSError) as unrecorded:  # the run directory cannot be written either
            log.warning("the failure is not recorded in %s: %s", output_dir, unrecorded)
        if isinstance(e, HarnessError):
            log.error("%s", e)
        else:
            log.exception("run failed")
        if sweep and not isinstance(e, StorageError):  # a full or read-only disk would fail every next job
            return
        sys.exit(f"error: {e}" if isinstance(e, HarnessError) else 1)
    gen, info = results["generation"], results["metric_info"]
    shown = [m for m in headline_metrics(info) if m in results["metrics"]][:3]
    scores = "  ".join(f"{display_name(info, m)}={results['metrics'][m]:.4f}" for m in shown)
    print(f"{results['run']['name']}: {scores}  generated={gen['generated']} cached={gen['cached']}  "
          f"report: {output_dir / 'report.md'}")


def skip(error: RunDirError, output_dir: Path, overrides: list[str]) -> None:
    """A sweep job whose directory is finished (or busy in another process): say so and go on."""
    if isinstance(error, BusyRunDirError):
        print(f"skipped {output_dir}: another harness process is running this job now; rerun the sweep "
              "into this hydra.sweep.dir once it ends to list it")
        return
    if not isinstance(error, FinishedRunError):
        print(f"skipped {output_dir}: {error}")
        return
    name = (error.results.get("run") or {}).get("name")
    print(f"skipped {output_dir}: it holds a finished run ({name}); its results.json is kept")
    before = (error.results.get("provenance") or {}).get("overrides")
    if before is not None and sorted(before) != sorted(overrides):
        log.warning("%s was run with the overrides %s, not %s; to run this job again, delete its results.json "
                    "or use another hydra.sweep.dir", output_dir, before, overrides)


def missing_launcher_plugin(option: str) -> str | None:
    """Why ``+launcher=OPTION`` cannot run here (its Hydra plugin is not installed), naming the
    extra that installs it; None when it can, or when OPTION is not one of conf/launcher/."""
    module, extra = LAUNCHER_PLUGINS.get(hydra_launcher(option) or "", (None, None))
    if module is None or plugin_installed(module):
        return None
    return (f"+launcher={option} needs the Hydra launcher plugin {module}, which is not installed: "
            f"pip install -e '.[{extra}]'")


def check_launcher(args: list[str]) -> None:
    """Raise ConfigError before Hydra starts when an override picks a launcher whose plugin, or a
    tracker whose package, is absent."""
    for arg in args:
        key, sep, value = arg.partition("=")
        key = key.lstrip("+~")
        if sep and key == "launcher" and (message := missing_launcher_plugin(value)):
            raise ConfigError(message)
        if sep and key == "tracking" and value in TRACKERS and not plugin_installed(value):
            raise ConfigError(f"+tracking={value} needs the {value} package, which is not installed: "
                              f"pip install -e '.[{value}]'")
        if sep and key == "hydra/launcher" and value in LAUNCHER_PLUGINS:
            module, extra = LAUNCHER_PLUGINS[value]
            if not plugin_installed(module):
                raise ConfigError(f"hydra/launcher={value} needs the Hydra launcher plugin {module}, which is not "
                                  f"installed: pip install -e '.[{extra}]'")


def hydra_launcher(option: str) -> str | None:
    """The hydra/launcher that conf/launcher/OPTION.yaml selects (None: no such file, or it picks none)."""
    path = CONF_DIR / "launcher" / f"{option}.yaml"
    if not path.is_file():
        return None
    for entry in OmegaConf.load(path).get("defaults") or []:
        for key, value in (entry.items() if isinstance(entry, DictConfig) else ()):
            if key.split()[-1].strip("/") == "hydra/launcher":
                return str(value)
    return None


def plugin_installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package (hydra_plugins) is absent too
        return False
