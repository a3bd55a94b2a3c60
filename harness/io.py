"""Atomic file writes: a reader sees the old file or the new one, never half of one.

A write that fails (read-only file system, permission denied, disk full) removes its temporary
file and raises `StorageError` naming the target path and the setting that moves it (``fix``:
the run directory's by default, the caches pass theirs).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

from harness.errors import RUN_DIR_FIX, StorageError

log = logging.getLogger(__name__)
_UMASK = os.umask(0)
os.umask(_UMASK)


def write_text_atomic(path: Path, text: str, *, fix: str = RUN_DIR_FIX) -> None:
    """Write ``text`` to a temp file beside ``path``, fsync it, then rename it over ``path``."""
    path = Path(path)
    try:
        _write(path, text)
    except OSError as e:
        raise StorageError(path, e, fix=fix) from e


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def file_lock(path: Path, *, fix: str = RUN_DIR_FIX) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created when missing; blocking) across processes, on
    every platform (`filelock`: ``flock`` on POSIX, ``msvcrt`` on Windows): a read-modify-write of a
    file under it sees every earlier write. The system drops the lock when its process dies."""
    path = Path(path)
    lock = FileLock(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError as e:
        raise StorageError(path, e, fix=fix) from e
    try:
        yield
    finally:
        lock.release()


def write_json_atomic(path: Path, obj, *, fix: str = RUN_DIR_FIX) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n", fix=fix)


def write_jsonl_atomic(path: Path, rows, *, fix: str = RUN_DIR_FIX) -> None:
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), fix=fix)


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSON Lines file. Lines end at "\\n" only: U+2028, U+0085 and the like are
    characters inside a JSON string (we write them raw, ``ensure_ascii=False``), not line ends."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").split("\n") if line.strip()]


def set_aside(path: Path, what: str, then: str) -> None:
    """Move a corrupt cache entry (a file, or a directory where a file belongs) to ``<name>.corrupt``
    (replacing an older one) and say so in one warning naming ``what`` and what happens ``then``;
    when it cannot be moved, the warning says that instead."""
    path = Path(path)
    aside = path.with_suffix(".corrupt")
    try:
        if aside.is_dir() and not aside.is_symlink():
            shutil.rmtree(aside)
        path.replace(aside)
    except OSError as e:
        log.warning("%s: could not move it aside (%s); %s", what, e, then)
        return
    log.warning("%s: moved to %s, %s", what, aside, then)
