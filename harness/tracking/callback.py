"""The Hydra callback every tracker backend shares (``+tracking=mlflow``, ``+tracking=wandb``).

A backend has four methods: ``start_sweep(sweep_dir)``, ``log(record, sweep_dir)``,
``end_sweep(sweep_dir, failed)`` and ``later(path)`` (the command that logs what was not logged).
This module calls them at Hydra's multirun start, each job's end and the multirun's end, and turns
the first error of the tracker into one line on stderr (later ones in the same process are not
repeated: the line's ``harness track`` command logs every run the tracker missed). The run
directory on disk is complete whatever the tracker does. Jobs in other processes (joblib, submitit,
Ray) get their own callback instance; backends keep what jobs share (the parent run's id) in the
sweep directory.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path

from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from harness.results.run_dir import has_results
from harness.tracking.records import record


def one_line(error: BaseException, limit: int = 300) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


@contextmanager
def quiet_retries():
    """urllib3 logs each HTTP retry as a warning (twice, through Hydra's job logging): the one
    line ``_guard`` prints says all of it."""
    logger = logging.getLogger("urllib3.connectionpool")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def warn(message: str) -> None:
    print(f"tracking: {message}", file=sys.stderr, flush=True)


class TrackingCallback(Callback):
    """Logs each finished job to a backend; subclasses set ``self.backend`` and ``self.tracker``."""

    backend = None
    tracker = "tracker"

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        self._guard(lambda: self.backend.start_sweep(sweep_dir), f"could not start the sweep's run for {sweep_dir}",
                    sweep_dir)

    def on_job_end(self, config: DictConfig, job_return=None, **kwargs) -> None:
        run_dir = Path(config.hydra.runtime.output_dir)
        if not has_results(run_dir):
            return  # skipped: another process is running there, or nothing was written
        sweep_dir = Path(config.hydra.sweep.dir) if config.hydra.mode == RunMode.MULTIRUN else None
        self._guard(lambda: self.backend.log(record(run_dir), sweep_dir),
                    f"could not log {run_dir}", sweep_dir or run_dir)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        self._guard(lambda: self.backend.end_sweep(sweep_dir), f"could not close the sweep's run for {sweep_dir}",
                    sweep_dir)

    failures = 0  # in this process; only the first is printed: its command logs every run missed

    def _guard(self, action, what: str, path: Path) -> None:
        try:
            with quiet_retries():
                action()
        except Exception as e:  # the tracker never fails or loses a run: say so in one line, go on
            self.failures += 1
            if self.failures == 1:
                warn(f"{what} to {self.tracker} ({one_line(e)}); the run is complete on disk; "
                     f"log it later: {self.backend.later(path)}")
