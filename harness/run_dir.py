"""The rules of a run directory: a finished run is never overwritten, one process works in a
directory at a time, and default directories never collide.

A finished run is a ``results.json`` whose ``status`` is ``completed``. ``check_run_dir`` (before
a run writes anything) takes the directory's lock, ``.harness.lock``, and refuses a finished run;
the lock is held until ``publish_results`` (the run's last write) has looked again under it and
written ``results.json`` atomically, so a run never replaces a results.json that another process
completed meanwhile. The lock is ``fcntl.flock``: the system drops it when its process dies.

``${unique_id:}`` (registered by ``register_run_dir_resolver``) is part of the default
``hydra.run.dir`` and ``hydra.sweep.dir``: two runs started in the same second get different
directories.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from pathlib import Path

from omegaconf import OmegaConf

from harness.errors import RunDirError
from harness.io import write_json_atomic

LOCK_NAME = ".harness.lock"
_held: dict[Path, int] = {}  # directory -> descriptor of its lock file, for the directories this process holds


class FinishedRunError(RunDirError):
    """The directory holds a finished run; it is left untouched."""

    def __init__(self, message: str, directory: Path, results: dict):
        super().__init__(message)
        self.directory, self.results = directory, results


class BusyRunDirError(RunDirError):
    """Another process holds the directory's lock: it is running there now."""


def register_run_dir_resolver() -> None:
    """``${unique_id:}``: this process's id and 4 random hex digits, the same every time one
    config resolves it (cached, like Hydra's ``${now:}``)."""
    if not OmegaConf.has_resolver("unique_id"):
        OmegaConf.register_new_resolver("unique_id", lambda: f"{os.getpid()}-{secrets.token_hex(2)}",
                                        use_cache=True)


def finished_run(directory: Path) -> dict | None:
    """The directory's results.json when it marks a finished run, else None (none there, a failed
    run, or a file cut short)."""
    try:
        results = json.loads((Path(directory) / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return results if isinstance(results, dict) and results.get("status") == "completed" else None


def check_run_dir(directory: Path) -> None:
    """Before a run: take the directory's lock (held until ``publish_results`` or ``release``)
    and refuse a directory that holds a finished run."""
    directory = Path(directory)
    _lock(directory, wait=False)
    results = finished_run(directory)
    if results is not None:
        release(directory)
        raise FinishedRunError(
            f"{directory} already holds a finished run ({_name(results)}); a finished run is never overwritten. "
            "Run again in a new directory: hydra.run.dir=PATH, or leave hydra.run.dir out for a new one.",
            directory, results)


def publish_results(directory: Path, results: dict) -> None:
    """Write ``results.json`` last: under the directory's lock, look again for a finished run
    (another process may have completed one meanwhile) and keep it, else write atomically."""
    directory = Path(directory)
    _lock(directory, wait=True)
    try:
        finished = finished_run(directory)
        if finished is not None:
            raise FinishedRunError(
                f"{directory}: another process finished a run here ({_name(finished)}) while this one ran; "
                "its results.json is kept and this run's is not written. Its summaries and scores are cached: "
                "run again in a new directory (hydra.run.dir=PATH) and nothing is computed twice.",
                directory, finished)
        write_json_atomic(directory / "results.json", results)
    finally:
        release(directory)


def release(directory: Path) -> None:
    """Drop this process's lock on the directory (nothing when it holds none)."""
    fd = _held.pop(Path(directory).resolve(), None)
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the flock


def _lock(directory: Path, *, wait: bool) -> None:
    key = directory.resolve()
    if key in _held:  # this process holds it already (check_run_dir, then publish_results)
        return
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(key / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip()
        os.close(fd)
        raise BusyRunDirError(
            f"{directory}: another harness process{f' (pid {holder})' if holder else ''} is running in this "
            "directory now. Wait for it to finish, or run in another directory (hydra.run.dir=PATH).") from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _held[key] = fd


def _name(results: dict) -> str:
    return str((results.get("run") or {}).get("name") or "unnamed run")
