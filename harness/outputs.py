"""Where the commands write. The analysis commands (``--out``, ``--baseline``, ``--save-composite``,
…): a path an option gives is checked for writing before the work starts, and a write that fails
later is named by the option that chose its path, with the fix that applies to that option (not
the run directory's ``hydra.run.dir``, which these commands never write to). ``harness run``: the
run (or sweep) directory is checked before Hydra starts (``check_run_dir_override``), since Hydra
creates it and opens ``app.log`` in it first: a directory on a read-only mount, or one naming a
file, is one line naming ``hydra.run.dir``, not Hydra's and logging's tracebacks.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from harness.errors import FULL, RUN_DIR_FIX, HarnessError, StorageError


class OutputError(HarnessError):
    """A path a command option gave cannot be written; names the path, the reason and the option."""


def check_writable(path, option: str, *, directory: bool = True) -> Path:
    """``path`` (a directory an option names; or, ``directory=False``, a file) when the command
    will be able to write there: its deepest existing part is a directory where a file can be
    created (nothing is left behind: the directories are made when the outputs are written);
    else an ``OutputError`` naming the path and ``option``, before any work is done."""
    path = Path(path)
    existing = deepest_existing(path if directory else path.parent)
    try:
        if not directory and path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{existing} is a file, not a directory", str(existing))
        probe_write(existing)
    except OSError as e:
        raise unwritable(path, e, option, directory=directory) from None
    return path


def deepest_existing(path: Path) -> Path:
    """``path`` or the nearest of its parents that exists."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def probe_write(directory: Path) -> None:
    """Create and remove a file in ``directory``: the OSError a write there would raise, if any."""
    fd, probe = tempfile.mkstemp(prefix=".harness-write-check-", dir=directory)
    os.close(fd)
    os.unlink(probe)


def unwritable(path, error: OSError, option: str, *, directory: bool = True) -> OutputError:
    reason = error.strerror or type(error).__name__
    code = errno.errorcode.get(error.errno, error.errno) if error.errno else None
    fix = f"give {option} a writable directory" if directory else f"give {option} a path in a writable directory"
    if error.errno in FULL:
        fix = f"free space there, or {fix}"
    return OutputError(f"cannot write {path}: {reason}{f' (errno {code})' if code else ''}. "
                       f"{fix[0].upper()}{fix[1:]}, then run the command again")


def named_by_option(error: HarnessError, argv: list[str]) -> HarnessError:
    """A ``StorageError`` raised while a command wrote one of its outputs, as the ``OutputError``
    of the option in ``argv`` whose path holds the file (the file itself, or a directory above
    it); any other error as it is."""
    if not isinstance(error, StorageError) or not isinstance(error.__cause__, OSError):
        return error
    written = Path(error.path).absolute()
    best = None
    for option, value in _options(argv):
        given = Path(value).absolute()
        if (given == written or given in written.parents) and (best is None or len(str(given)) > len(best[1])):
            best = (option, str(given), given == written)
    if best is None:
        return error
    option, _, is_file = best
    if option == "--candidate":  # the gate writes into the candidate directory when no --out is given
        option = "--out"
    return unwritable(error.path, error.__cause__, option, directory=not is_file)


def _options(argv: list[str]):
    """(option, value) for each ``--name value`` and ``--name=value`` in ``argv``."""
    for i, arg in enumerate(argv):
        if not arg.startswith("--"):
            continue
        name, sep, value = arg.partition("=")
        if sep:
            yield name, value
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            yield name, argv[i + 1]


def check_run_dir_override(args: list[str]) -> None:
    """Before Hydra starts: the directory ``harness run ARGS`` will create and log into
    (``hydra.run.dir``, or ``hydra.sweep.dir`` with ``-m``: the override's, else conf/config.yaml's).
    Up to its first interpolation (``${now:…}``), its deepest existing part must be a directory
    where a file can be written; else a one-line error naming the setting."""
    from omegaconf import OmegaConf

    from harness.config import CONF_DIR

    sweep = "-m" in args or "--multirun" in args
    key = "hydra.sweep.dir" if sweep else "hydra.run.dir"
    hydra = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "config.yaml"), resolve=False).get("hydra") or {}
    value = str(((hydra.get("sweep" if sweep else "run")) or {}).get("dir") or ".")
    for arg in args:
        name, sep, given = arg.partition("=")
        if sep and name.lstrip("+~") == key:
            value = given.strip()
            if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
    if value.startswith("${abs_path:") and value.endswith("}"):  # made absolute where it starts: the same place
        value = value[len("${abs_path:"):-1]
    static = value.split("${")[0]
    base = Path(static if "${" not in value else static.rpartition("/")[0] or ".")
    existing = deepest_existing(base)
    if not existing.is_dir():
        raise OutputError(f"{key}={value}: {existing} is a file, not a directory; give {key} a directory "
                          "(one that does not exist yet, or a run directory)")
    try:
        probe_write(existing)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        code = errno.errorcode.get(e.errno, e.errno) if e.errno else None
        raise OutputError(f"cannot write {base}{'' if existing == base else f' (in {existing})'}: {reason}"
                          f"{f' (errno {code})' if code else ''}. {RUN_DIR_FIX}") from None
