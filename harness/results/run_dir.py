"""The rules of a run directory: the names of the files in it, a finished run is never
overwritten, one process works in a directory at a time, and default directories never collide.

A finished run is a ``results.json`` whose ``status`` is ``completed``. ``check_run_dir`` (before
a run writes anything) takes the directory's lock, ``.harness.lock``, and refuses a finished run;
the lock is held until ``publish_results`` (the run's last write) has looked again under it and
written ``results.json`` atomically, so a run never replaces a results.json that another process
completed meanwhile. The lock is `filelock`'s (``flock`` on POSIX, ``msvcrt`` on Windows): the system
drops it when its process dies.

``${unique_id:}`` (registered by ``register_run_dir_resolver``) is part of the default
``hydra.run.dir`` and ``hydra.sweep.dir``: two runs started in the same second get different
directories.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from filelock import FileLock, SoftFileLock, Timeout
from omegaconf import OmegaConf

from harness.errors import RunDirError
from harness.io import write_json_atomic

LOCK_NAME = ".harness.lock"
# The files of a run directory (written in this order; results.json last, under the lock).
RESOLVED_CONFIG = "resolved_config.yaml"
REFERENCES = "references.jsonl"
SUMMARIES = "summaries.jsonl"
SCORES = "scores.jsonl"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
RESULTS = "results.json"
_held: dict[Path, FileLock] = {}  # directory -> its lock, for the directories this process holds


class FinishedRunError(RunDirError):
    """The directory holds a finished run; it is left untouched."""

    def __init__(self, message: str, directory: Path, results: dict):
        super().__init__(message)
        self.directory, self.results = directory, results


class BusyRunDirError(RunDirError):
    """Another process holds the directory's lock: it is running there now."""


def register_run_dir_resolver() -> None:
    """``${unique_id:}``: this process's id and 4 random hex digits, the same every time one
    config resolves it (cached, like Hydra's ``${now:}``). ``${abs_path:PATH}``: PATH made absolute
    against the directory where it is first resolved, cached too: a sweep's driver resolves
    ``hydra.sweep.dir`` and ``cache_dir`` before its jobs leave, and Hydra copies the resolver cache
    into every job's config, so a worker that runs elsewhere (a Ray node started in another
    directory) writes where the driver reads, never under its own working directory."""
    if not OmegaConf.has_resolver("unique_id"):
        OmegaConf.register_new_resolver("unique_id", lambda: f"{os.getpid()}-{secrets.token_hex(2)}",
                                        use_cache=True)
    if not OmegaConf.has_resolver("abs_path"):
        OmegaConf.register_new_resolver("abs_path", lambda path: str(Path(str(path)).expanduser().absolute()),
                                        use_cache=True)


def has_results(directory: Path) -> bool:
    """Whether ``directory`` holds a results.json (a job that finished, or failed and said so)."""
    return (Path(directory) / RESULTS).is_file()


def finished_run(directory: Path) -> dict | None:
    """The directory's results.json when it marks a finished run, else None (none there, a failed
    run, or a file cut short)."""
    try:
        results = json.loads((Path(directory) / RESULTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return results if isinstance(results, dict) and results.get("status") == "completed" else None


def check_run_dir(directory: Path) -> None:
    """Before a run: take the directory's lock (held until ``publish_results`` or ``release``)
    and refuse a directory that holds a finished run."""
    directory = Path(directory)
    _lock(directory, wait=False)
    error = finished_run_error(directory)
    if error is not None:
        release(directory)
        raise error


def finished_run_error(directory: Path) -> FinishedRunError | None:
    """The error refusing ``directory`` when it holds a finished run (None when it holds none);
    ``harness run`` raises it before Hydra starts too, so not even app.log is touched."""
    results = finished_run(directory)
    if results is None:
        return None
    return FinishedRunError(
        f"{directory} already holds a finished run ({_name(results)}); a finished run is never overwritten. "
        "Run again in a new directory: hydra.run.dir=PATH, or leave hydra.run.dir out for a new one.",
        Path(directory), results)


def publish_results(directory: Path, results: dict) -> None:
    """Write ``results.json`` last: under the directory's lock, look again for a finished run
    (another process may have completed one meanwhile) and keep it, else write atomically. A run
    writes through `harness.results.results_file.write_results` (from its typed model)."""
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
        write_json_atomic(directory / RESULTS, results)
    finally:
        release(directory)


def release(directory: Path) -> None:
    """Drop this process's lock on the directory (nothing when it holds none)."""
    lock = _held.pop(Path(directory).resolve(), None)
    if lock is not None:
        lock.release()


def busy(directory: Path) -> bool:
    """Whether another process holds the directory's lock now (it is running there)."""
    path = Path(directory) / LOCK_NAME
    if not path.exists() or Path(directory).resolve() in _held:
        return False
    probe = FileLock(path, blocking=False, thread_local=False)
    try:
        probe.acquire()
    except Timeout:
        return True
    probe.release()
    return False


def _lock(directory: Path, *, wait: bool) -> None:
    key = directory.resolve()
    if key in _held:  # this process holds it already (check_run_dir, then publish_results)
        return
    directory.mkdir(parents=True, exist_ok=True)
    # The holder's pid goes into a native lock's file; a soft lock's file is filelock's own marker.
    pid = {} if issubclass(FileLock, SoftFileLock) else {"on_acquired": _write_pid}
    lock = FileLock(key / LOCK_NAME, blocking=wait, thread_local=False, **pid)
    try:
        lock.acquire()
    except Timeout:
        holder = _holder(key / LOCK_NAME)
        raise BusyRunDirError(
            f"{directory}: another harness process{f' (pid {holder})' if holder else ''} is running in this "
            "directory now. Wait for it to finish, or run in another directory (hydra.run.dir=PATH).") from None
    _held[key] = lock


def _write_pid(fd: int) -> None:
    """The holder's pid in its lock file, for the message another process gets."""
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, str(os.getpid()).encode())


def _holder(path: Path) -> str:
    if issubclass(FileLock, SoftFileLock):
        return ""
    try:
        return path.read_bytes()[:32].decode(errors="replace").strip()
    except OSError:  # Windows: the holder's lock covers the bytes
        return ""


def _name(results: dict) -> str:
    return str((results.get("run") or {}).get("name") or "unnamed run")
