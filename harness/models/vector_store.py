"""Every sentence embedding a run computes, kept on disk so that a rescored summary gets the
very vectors the first computation gave.

Why: an encoder's output for a text depends, in the last bits, on the texts batched with it
(padding and matrix shapes change the float sums: measured 1e-7 apart). A run killed while
scoring, then rerun, embeds only what is missing, in other batches than an uninterrupted run, and
its scores differed in the 8th digit (embedding support 1.0 vs 0.99999998). With the store, each
text is embedded once per encoder (model weights, device) and every later use reads that vector.

Layout: ``<cache_dir>/embeddings/<encoder key>/<call>.npz``, one file per encoder call, holding
the texts' SHA-256 (``keys``) and their vectors, written whole (temporary file, then rename), so
a kill leaves all of a call's vectors or none: a rerun then makes the same call again. The index
(text -> file and row) is read from the files' ``keys`` on first use. A file that cannot be read
(truncated, not a zip archive, a member missing) or that holds the wrong shapes (``keys`` not one
text hash per row of a two-dimensional ``vectors``, vectors of another width than the encoder's,
or not finite) is moved aside with one warning (``<name>.corrupt``); its texts are embedded again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from harness.errors import CACHE_FIX, StorageError
from harness.io import set_aside

log = logging.getLogger(__name__)

# What np.load raises on a damaged .npz: truncated (BadZipFile, EOFError), a member missing (KeyError),
# a bad header or a pickled array refused (ValueError), unreadable (OSError).
UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)
AGAIN = "its texts are embedded again"


class MisshapenError(ValueError):
    """A store file whose arrays are readable but not the shapes the store writes."""


def _arrays(path: Path, *names: str) -> list[np.ndarray]:
    data = np.load(path)  # no pickles (allow_pickle is False): an object array is a ValueError
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise MisshapenError("one .npy array, not an .npz archive of keys and vectors")
    with data:
        return [data[name] for name in names]


def read_keys(path: Path) -> list[str]:
    """The text hashes of one store file, checked: a one-dimensional array of strings."""
    (keys,) = _arrays(path, "keys")
    if keys.ndim != 1 or keys.dtype.kind != "U":
        raise MisshapenError(f"'keys' is a {keys.ndim}-dimensional {keys.dtype} array, expected text hashes")
    return keys.tolist()


def read_vectors(path: Path, dim: int | None = None) -> np.ndarray:
    """The vectors of one store file, checked: one finite row per key (of width ``dim`` when given)."""
    keys, vectors = _arrays(path, "keys", "vectors")
    if vectors.ndim != 2 or len(vectors) != len(keys):
        raise MisshapenError(f"'vectors' has shape {vectors.shape} for {len(keys)} keys, expected one row per key")
    if dim is not None and vectors.shape[1] != dim:
        raise MisshapenError(f"vectors of width {vectors.shape[1]}, the encoder's are {dim}")
    if vectors.dtype.kind != "f" or not np.isfinite(vectors).all():
        raise MisshapenError(f"'vectors' is not all finite numbers (dtype {vectors.dtype})")
    return vectors


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        # encoder key -> text key -> (file, row). Vectors are not kept in memory here (the encoder's own
        # bounded cache holds the ones in use); a get() reads each file it needs once.
        self._index: dict[str, dict[str, tuple[Path, int]]] = {}
        self._bad: set[Path] = set()  # files found damaged (skipped even where they could not be moved aside)

    def _files(self, encoder: str) -> dict[str, tuple[Path, int]]:
        if encoder not in self._index:
            index: dict[str, tuple[Path, int]] = {}
            for path in sorted((self.root / encoder).glob("*.npz")):
                if path in self._bad:
                    continue
                try:
                    keys = read_keys(path)
                except UNREADABLE as e:
                    self._set_aside(path, e)
                    continue
                for row, key in enumerate(keys):
                    index.setdefault(key, (path, row))
            self._index[encoder] = index
        return self._index[encoder]

    def get(self, encoder: str, texts: list[str], dim: int | None = None) -> dict[str, np.ndarray]:
        """The stored vectors of those ``texts`` that have one (``dim``: the encoder's width; a file
        of another is set aside)."""
        index, out, arrays = self._files(encoder), {}, {}
        for text in texts:
            found = index.get(text_key(text))
            if found is None:
                continue
            path, row = found
            if path not in arrays:
                try:
                    arrays[path] = read_vectors(path, dim)
                except UNREADABLE as e:
                    self._set_aside(path, e)
                    self._index.pop(encoder, None)
                    return self.get(encoder, texts, dim)
            out[text] = arrays[path][row]
        return out

    def _set_aside(self, path: Path, error: Exception) -> None:
        self._bad.add(path)
        set_aside(path, f"unreadable embedding file {path} ({type(error).__name__}: {error})", AGAIN)

    def put(self, encoder: str, texts: list[str], vectors: np.ndarray) -> None:
        """Keep one encoder call's vectors, all in one file written whole."""
        keys = [text_key(t) for t in texts]
        directory = self.root / encoder
        path = directory / f"{hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:32]}.npz"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
            try:
                with os.fdopen(fd, "wb") as f:
                    np.savez(f, keys=np.array(keys), vectors=vectors)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise StorageError(path, e, fix=CACHE_FIX) from e
        self._bad.discard(path)  # written whole again
        index = self._files(encoder)
        for row, key in enumerate(keys):
            index.setdefault(key, (path, row))
