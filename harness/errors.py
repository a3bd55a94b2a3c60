"""The harness's error types: each says what went wrong and how to fix it."""

import errno


class HarnessError(Exception):
    """Base class: an error the user can act on. The CLI prints it without a traceback."""


class DataError(HarnessError):
    """A reference file or record is unusable. Names the file, the record and the field."""

    def __init__(self, message: str, *, file: str | None = None, record: str | None = None,
                 field: str | None = None):
        where = ", ".join(f"{k} {v!r}" for k, v in (("file", file), ("record", record), ("field", field)) if v)
        super().__init__(f"{message} ({where})" if where else message)
        self.file, self.record, self.field = file, record, field


class ModelLoadError(HarnessError):
    """A model could not be found or loaded; the message names the fix."""


class ConfigError(HarnessError):
    """A configuration value is invalid."""


class RunDirError(HarnessError):
    """The run directory cannot be used (for example it holds a finished run)."""


class StorageError(HarnessError):
    """A file or directory could not be written: read-only, permission denied, disk full. Names
    the path, the reason and the setting that moves it; nothing half-written is left behind."""

    def __init__(self, path, error: OSError, *, fix: str):
        reason = error.strerror or type(error).__name__
        if error.errno in FULL:
            fix = f"Free space there, or {fix[0].lower()}{fix[1:]}"
        super().__init__(f"cannot write {path}: {reason} (errno {errno.errorcode.get(error.errno, error.errno)}). "
                         f"{fix}; then rerun the same command: finished summaries and scores are cached")
        self.path, self.errno = str(path), error.errno


FULL = {errno.ENOSPC, errno.EDQUOT}
RUN_DIR_FIX = "Give the run a writable directory: hydra.run.dir=DIR (a sweep: hydra.sweep.dir=DIR)"
CACHE_FIX = "Give the caches a writable directory: cache_dir=DIR (or HARNESS_CACHE_DIR)"

WRITE_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT}


def storage_error(error: BaseException, cache_dir=None) -> StorageError | None:
    """An OSError from writing (read-only, permission denied, disk full) raised outside
    `harness.io`, as a StorageError naming its path and the setting that moves it (``cache_dir=``
    when the path is under ``cache_dir``); None for any other error."""
    if isinstance(error, StorageError) or not isinstance(error, OSError) or error.errno not in WRITE_ERRNOS:
        return None
    from pathlib import Path

    path = Path(error.filename) if error.filename else None
    under_cache = False
    if path is not None and cache_dir:
        try:
            under_cache = path.resolve().is_relative_to(Path(cache_dir).resolve())
        except (OSError, ValueError):
            under_cache = False
    fix = CACHE_FIX if under_cache else RUN_DIR_FIX
    return StorageError(path if path is not None else "a file", error, fix=fix)


def interrupted(where=None) -> str:
    """The one line Ctrl-C prints."""
    return (f"interrupted (Ctrl-C){f' in {where}' if where else ''}: stopped; every file written so far is whole. "
            "Run the same command again to resume: finished summaries and scores are cached")
