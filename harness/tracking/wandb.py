"""Weights & Biases backend, offline by default: one W&B run per job, grouped by sweep.

``+tracking=wandb`` (conf/tracking/wandb.yaml) adds ``WandbCallback``. The records are the same as
MLflow's (harness.tracking.records): params as the run's config, metrics logged once and set as the
run summary, tags as config keys under ``harness/`` (W&B tags are short labels: the run's status
and schema version go there), the artifacts as one W&B artifact of type ``harness-run``.

W&B has no nested runs: a sweep's jobs share ``group`` = the sweep directory's name, which the W&B
UI folds together, as lm-evaluation-harness and Hydra sweeps do. Offline (``mode: offline``, the
default) needs no account and no network: runs are written under ``dir``/wandb/offline-run-*, and
``wandb sync DIR/wandb/offline-run-*`` uploads them later; so an unreachable W&B server never loses
a run. ``mode: online`` logs directly (WANDB_API_KEY).
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError
from harness.tracking.callback import TrackingCallback
from harness.tracking.records import Record, finite, is_sweep, records


class WandbMissing(HarnessError):
    """wandb is not installed."""


class WandbBackend:
    def __init__(self, project: str = "harness", mode: str = "offline", dir: str | None = None,
                 entity: str | None = None):
        try:
            import wandb
        except ImportError:
            raise WandbMissing("+tracking=wandb needs wandb, which is not installed: "
                               "pip install -e '.[wandb]'") from None
        self.wandb = wandb
        self.project, self.mode, self.dir, self.entity = project, mode, dir, entity

    def start_sweep(self, sweep_dir: Path) -> None:
        """Nothing to start: W&B groups a sweep's runs by name."""

    def end_sweep(self, sweep_dir: Path) -> None:
        """Nothing to close."""

    def later(self, path: Path) -> str:
        return f"harness track {path} --tracker wandb (offline runs: wandb sync {self._dir(path)}/wandb/offline-run-*)"

    def _dir(self, path: Path) -> Path:
        return Path(self.dir) if self.dir else Path(path)

    def log(self, rec: Record, sweep_dir: Path | None) -> str:
        """One W&B run for one job; returns the directory W&B wrote it to."""
        where = self._dir(sweep_dir or rec.run_dir)
        where.mkdir(parents=True, exist_ok=True)
        run = self.wandb.init(project=self.project, entity=self.entity, mode=self.mode, dir=str(where),
                              name=rec.name, group=Path(sweep_dir).name if sweep_dir else None, job_type="harness-job",
                              config={**rec.params, **{k.replace(".", "/", 1): v for k, v in rec.tags.items()}},
                              tags=[rec.status, f"schema-{rec.tags.get('harness.schema_version')}"],
                              reinit="create_new", settings=self.wandb.Settings(silent=True))
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
                 entity: str | None = None):
        self.backend = WandbBackend(project, mode, dir, entity)
        self.tracker = f"W&B ({mode})"
