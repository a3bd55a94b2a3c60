"""MLflow backend: one MLflow run per job, nested under one parent run per sweep.

``+tracking=mlflow`` (conf/tracking/mlflow.yaml) adds ``MlflowCallback``; ``harness track DIR``
calls ``log_path``. The tracking URI is the config's ``tracking_uri``, else ``MLFLOW_TRACKING_URI``,
else the local store ``runs/mlflow.db`` (SQLite, artifacts in ``runs/mlartifacts``; no server). MLflow 3
refuses its old file store (``./mlruns``) unless ``MLFLOW_ALLOW_FILE_STORE=true``, so the local
default is SQLite.

Logging is idempotent: a job run carries the tag ``harness.run_dir`` (its absolute directory) and,
once params, metrics and artifacts are all in, ``harness.logged=true``; a directory already
logged to the experiment is skipped, and a half-logged one (the tracker died mid-way) is deleted
and logged again. The parent run is found by its tag ``harness.sweep_dir``; its id is also kept
in ``SWEEP/.tracking/mlflow.json`` for jobs in other processes. HTTP retries are few and short
(``request_retries``, ``request_timeout``), so a tracker that is down costs seconds, not minutes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from harness.errors import HarnessError
from harness.results.sweep import is_sweep
from harness.tracking.callback import TrackingCallback
from harness.tracking.records import SWEEP_ARTIFACTS, Record, records

DEFAULT_URI = "runs/mlflow.db"
DEFAULT_EXPERIMENT = "harness"


class MlflowMissing(HarnessError):
    """MLflow is not installed."""


def resolve_uri(uri: str | None) -> str:
    """The URI to log to: ``uri``, else MLFLOW_TRACKING_URI, else runs/mlflow.db. A path ending in
    ``.db`` is a local SQLite store; any other path a ``file:`` store (which MLflow 3 refuses unless
    MLFLOW_ALLOW_FILE_STORE=true)."""
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI
    if "://" in uri or uri.startswith("file:"):
        return uri
    path = Path(uri).resolve()
    return f"sqlite:///{path}" if path.suffix == ".db" else path.as_uri()


def local_artifacts(uri: str) -> str | None:
    """Where a local SQLite store keeps artifacts: ``mlartifacts/`` beside the database (MLflow's
    own default, ./mlruns, would depend on the directory the command runs in)."""
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri[len("sqlite:///"):]).parent / "mlartifacts").as_uri()


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class MlflowBackend:
    def __init__(self, tracking_uri: str | None = None, experiment: str = DEFAULT_EXPERIMENT,
                 request_retries: int = 1, request_timeout: float = 10.0):
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise MlflowMissing("+tracking=mlflow needs MLflow, which is not installed: "
                                "pip install -e '.[mlflow]'") from None
        # Read by MLflow at each request: a tracker that is down fails in seconds.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(request_retries))
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(request_timeout)))
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
        # Not two "View run" lines per job on stdout (and not one more request per finished run).
        os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
        self.uri = resolve_uri(tracking_uri)
        if self.uri.startswith("sqlite:///"):  # SQLite makes the file, not its directory
            Path(self.uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        self.experiment = experiment
        self.client = MlflowClient(tracking_uri=self.uri)
        self._experiment_id = None

    # --- the backend interface (harness.tracking.callback) ----------------------------------------

    def start_sweep(self, sweep_dir: Path) -> str:
        return self.parent(sweep_dir)

    def log(self, rec: Record, sweep_dir: Path | None) -> str | None:
        parent = self.parent(sweep_dir) if sweep_dir else None
        return self.log_record(rec, parent)

    def end_sweep(self, sweep_dir: Path) -> None:
        parent = self.parent(sweep_dir)
        failed = any(status != "completed" for status in self._child_statuses(parent))
        for name in SWEEP_ARTIFACTS:
            if (Path(sweep_dir) / name).is_file():
                self.client.log_artifact(parent, str(Path(sweep_dir) / name))
        self.client.set_terminated(parent, "FAILED" if failed else "FINISHED")

    def later(self, path: Path) -> str:
        return f"harness track {path} --tracking-uri {self.uri} --experiment {self.experiment}"

    # --- MLflow ------------------------------------------------------------------------------------

    def experiment_id(self) -> str:
        if self._experiment_id is None:
            found = self.client.get_experiment_by_name(self.experiment)
            self._experiment_id = found.experiment_id if found else self.client.create_experiment(
                self.experiment, artifact_location=local_artifacts(self.uri))
        return self._experiment_id

    def _find(self, tag: str, value: str):
        return self.client.search_runs([self.experiment_id()], filter_string=f"tags.`{tag}` = {_quote(value)}",
                                       max_results=100)

    def _child_statuses(self, parent: str) -> list[str | None]:
        return [r.data.tags.get("harness.status") for r in self.client.search_runs(
            [self.experiment_id()], filter_string=f"tags.`mlflow.parentRunId` = {_quote(parent)}", max_results=10000)]

    def parent(self, sweep_dir: Path) -> str:
        """The parent run of a sweep directory: from SWEEP/.tracking/mlflow.json, its tag, or a new run."""
        sweep_dir = Path(sweep_dir).resolve()
        state = sweep_dir / ".tracking" / "mlflow.json"
        if state.is_file():
            saved = json.loads(state.read_text(encoding="utf-8"))
            if saved.get("tracking_uri") == self.uri and saved.get("experiment") == self.experiment:
                return saved["run_id"]
        found = self._find("harness.sweep_dir", str(sweep_dir))
        run_id = found[0].info.run_id if found else self.client.create_run(
            self.experiment_id(), run_name=f"sweep {sweep_dir.name}",
            tags={"harness.sweep_dir": str(sweep_dir), "harness.kind": "sweep"}).info.run_id
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"tracking_uri": self.uri, "experiment": self.experiment, "run_id": run_id}) + "\n",
                         encoding="utf-8")
        return run_id

    def logged(self, run_dir: Path) -> str | None:
        """The id of the run that fully logged ``run_dir``; deletes half-logged ones."""
        done = None
        for run in self._find("harness.run_dir", str(Path(run_dir).resolve())):
            if run.data.tags.get("harness.logged") == "true":
                done = run.info.run_id
            else:
                self.client.delete_run(run.info.run_id)
        return done

    def log_record(self, rec: Record, parent: str | None) -> str | None:
        """Log one job; returns its MLflow run id (None: it was logged before)."""
        from mlflow.entities import Metric, Param, RunTag

        if self.logged(rec.run_dir):
            return None
        tags = dict(rec.tags)
        if parent:
            tags["mlflow.parentRunId"] = parent
        run_id = self.client.create_run(self.experiment_id(), run_name=rec.name, tags=tags).info.run_id
        now = int(time.time() * 1000)
        params = [Param(k, v) for k, v in rec.params.items()]
        metrics = [Metric(k, v, now, 0) for k, v in rec.metrics.items()]
        for i in range(0, len(params), 100):
            self.client.log_batch(run_id, params=params[i:i + 100])
        for i in range(0, len(metrics), 1000):
            self.client.log_batch(run_id, metrics=metrics[i:i + 1000])
        for path in rec.artifacts:
            self.client.log_artifact(run_id, str(path))
        self.client.log_batch(run_id, tags=[RunTag("harness.logged", "true")])
        self.client.set_terminated(run_id, "FINISHED" if rec.status == "completed" else "FAILED")
        return run_id

    def log_path(self, path: Path) -> dict:
        """``harness track``: every job under ``path`` not logged yet (a sweep: under its parent run)."""
        path = Path(path)
        sweep = is_sweep(path)
        parent = self.parent(path) if sweep else None
        logged, skipped = [], []
        for rec in records(path):
            (logged if self.log_record(rec, parent) else skipped).append(str(rec.run_dir))
        if sweep:
            self.end_sweep(path)
        return {"logged": logged, "already_logged": skipped, "parent_run_id": parent}


class MlflowCallback(TrackingCallback):
    """``+tracking=mlflow``: each job's run directory to MLflow when the job ends."""

    tracker = "MLflow"

    def __init__(self, tracking_uri: str | None = None, experiment: str = DEFAULT_EXPERIMENT,
                 request_retries: int = 1, request_timeout: float = 10.0):
        self.backend = MlflowBackend(tracking_uri, experiment, request_retries, request_timeout)
        self.tracker = f"MLflow at {self.backend.uri}"
