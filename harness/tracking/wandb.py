"""Weights & Biases backend, offline by default: one W&B run per job, grouped by sweep.

``+tracking=wandb`` (conf/tracking/wandb.yaml) adds ``WandbCallback``. The records are the same as
MLflow's (harness.tracking.records): params as the run's config, metrics logged once and set as the
run summary, tags as config keys under ``harness/`` (W&B tags are short labels: the run's status
and schema version go there), the artifacts as one W&B artifact of type ``harness-run``.

W&B has no nested runs: a sweep's jobs share ``group`` = the sweep directory's name, which the W&B
UI folds together, as lm-evaluation-harness and Hydra sweeps do. Offline (``mode: offline``, the
default) needs no account and no network: runs are written under ``dir``/wandb/offline-run-*, and
``wandb sync DIR/wandb/offline-run-*`` uploads them later; so an unreachable W&B server never loses
a run. ``mode: online`` logs directly (WANDB_API_KEY), never stalling on a server that cannot be
reached: the server's base URL gets an HTTP request of ``PROBE_S`` seconds first and ``wandb.init``
waits ``init_timeout`` seconds (10; W&B's default: 90 s); either failing, the job is logged offline instead and
one line names its offline run directory and the ``wandb sync`` command that uploads it.
W&B's artifact staging, cache and download directories (by default in the user's home) are put
under ``DIR/wandb/`` (``data``, ``cache``, ``artifacts``) unless the environment sets them
(WANDB_DATA_DIR, WANDB_CACHE_DIR, WANDB_ARTIFACT_DIR): what a run logs stays with the run.
"""

from __future__ import annotations

import http.client
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from harness.errors import HarnessError
from harness.results.sweep import is_sweep
from harness.tracking.callback import TrackingCallback, one_line, warn
from harness.tracking.records import Record, finite, records

PROBE_S = 3.0  # the HTTP request to the W&B server before an online run
INIT_TIMEOUT_S = 10.0  # wandb.init's wait for the server (conf: hydra.callbacks.wandb.init_timeout)
# W&B's directories that default to the user's home, and their names under DIR/wandb/.
KEPT_DIRS = {"WANDB_DATA_DIR": "data", "WANDB_CACHE_DIR": "cache", "WANDB_ARTIFACT_DIR": "artifacts"}


class WandbMissing(HarnessError):
    """wandb is not installed."""


def unreachable(url: str, timeout: float = PROBE_S) -> str | None:
    """Why nothing at ``url`` answers an HTTP request within ``timeout`` seconds; None when something
    does (any status, or a TLS handshake that fails on its certificate: W&B's own settings may trust it).
    A TCP connect is not enough: a listener that accepts and never answers would start an online run
    whose W&B service process then holds the interpreter's exit for half a minute (measured: 23 s)."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    connection_class = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parsed.hostname, port, timeout=timeout)
    try:
        connection.request("GET", "/healthz")
        connection.getresponse().read(0)
        return None
    except ssl.SSLError:
        return None
    except TimeoutError:
        return f"{parsed.hostname}:{port}: no HTTP answer within {timeout:g} s"
    except (OSError, http.client.HTTPException) as e:
        return f"{parsed.hostname}:{port}: {getattr(e, 'strerror', None) or type(e).__name__}"
    finally:
        connection.close()


@contextmanager
def kept_under(root: Path) -> Iterator[None]:
    """W&B's staging, cache and download directories under ``root`` for the block, except those the
    environment sets."""
    chosen = {name: str(root / sub) for name, sub in KEPT_DIRS.items() if name not in os.environ}
    os.environ.update(chosen)
    try:
        yield
    finally:
        for name in chosen:
            os.environ.pop(name, None)


class WandbBackend:
    def __init__(self, project: str = "harness", mode: str = "offline", dir: str | None = None,
                 entity: str | None = None, init_timeout: float = INIT_TIMEOUT_S):
        # W&B's error reports go to Sentry over the network: where that cannot be reached, flushing them
        # held the process's exit ~10 s (measured against a silent server); and they are data leaving
        # the machine. Off unless the environment says otherwise.
        os.environ.setdefault("WANDB_ERROR_REPORTING", "false")
        try:
            import wandb
        except ImportError:
            raise WandbMissing("+tracking=wandb needs wandb, which is not installed: "
                               "pip install -e '.[wandb]'") from None
        self.wandb = wandb
        self.project, self.mode, self.dir, self.entity = project, mode, dir, entity
        self.init_timeout = float(init_timeout)

    def start_sweep(self, sweep_dir: Path) -> None:
        """Nothing to start: W&B groups a sweep's runs by name."""

    def end_sweep(self, sweep_dir: Path) -> None:
        """Nothing to close."""

    def later(self, path: Path) -> str:
        return f"harness track {path} --tracker wandb (offline runs: wandb sync {self._dir(path)}/wandb/offline-run-*)"

    def _dir(self, path: Path) -> Path:
        return Path(self.dir) if self.dir else Path(path)

    def log(self, rec: Record, sweep_dir: Path | None) -> str:
        """One W&B run for one job; returns the directory W&B wrote it to. Online with a server that
        cannot be reached: logged offline, in one line naming the offline run and its ``wandb sync``."""
        where = self._dir(sweep_dir or rec.run_dir)
        where.mkdir(parents=True, exist_ok=True)
        with kept_under(where / "wandb"):
            if self.mode != "online":
                return self._log(rec, sweep_dir, where, self.mode)
            url = self.wandb.setup().settings.base_url
            reason = unreachable(url)
            if reason is None:
                try:
                    return self._log(rec, sweep_dir, where, "online")
                except self.wandb.errors.CommError as e:  # connected, but no answer within init_timeout
                    reason = one_line(e)
            files = self._log(rec, sweep_dir, where, "offline")
        offline = Path(files).parent
        warn(f"W&B server {url} cannot be reached ({reason}): {rec.run_dir} is logged offline to {offline}; "
             f"upload it with: wandb sync {offline}")
        return files

    def _log(self, rec: Record, sweep_dir: Path | None, where: Path, mode: str) -> str:
        run = self.wandb.init(project=self.project, entity=self.entity, mode=mode, dir=str(where),
                              name=rec.name, group=Path(sweep_dir).name if sweep_dir else None, job_type="harness-job",
                              config={**rec.params, **{k.replace(".", "/", 1): v for k, v in rec.tags.items()}},
                              tags=[rec.status, f"schema-{rec.tags.get('harness.schema_version')}"],
                              reinit="create_new",
                              settings=self.wandb.Settings(silent=True, init_timeout=self.init_timeout))
        try:
            metrics = finite(rec.metrics)
            if metrics:
                run.log(metrics)
                run.summary.update(metrics)
            if rec.artifacts:
                identity = rec.tags.get("harness.identity_sha256", "run")[:12]
                artifact = self.wandb.Artifact(f"run-{identity}", type="harness-run",
                                               metadata={"run_dir": str(rec.run_dir)})
                for path in rec.artifacts:
                    artifact.add_file(str(path))
                run.log_artifact(artifact)
        finally:
            run.finish(exit_code=0 if rec.status == "completed" else 1)
        return run.dir

    def log_path(self, path: Path) -> dict:
        sweep = Path(path) if is_sweep(path) else None
        return {"logged": [self.log(rec, sweep) for rec in records(path)], "already_logged": []}


class WandbCallback(TrackingCallback):
    """``+tracking=wandb``: each job's run directory to Weights & Biases (offline) when the job ends."""

    tracker = "W&B"

    def __init__(self, project: str = "harness", mode: str = "offline", dir: str | None = None,
                 entity: str | None = None, init_timeout: float = INIT_TIMEOUT_S):
        self.backend = WandbBackend(project, mode, dir, entity, init_timeout)
        self.tracker = f"W&B ({mode})"
