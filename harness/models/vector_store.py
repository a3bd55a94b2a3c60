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
is moved aside with one warning (its texts are embedded again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from harness.errors import CACHE_FIX, StorageError
from harness.io import set_aside

log = logging.getLogger(__name__)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        # encoder key -> text key -> (file, row). Vectors are not kept in memory here (the encoder's own
        # bounded cache holds the ones in use); a get() reads each file it needs once.
        self._index: dict[str, dict[str, tuple[Path, int]]] = {}

    def _files(self, encoder: str) -> dict[str, tuple[Path, int]]:
        if encoder not in self._index:
            index: dict[str, tuple[Path, int]] = {}
            for path in sorted((self.root / encoder).glob("*.npz")):
                try:
                    with np.load(path) as data:
                        keys = data["keys"].tolist()
                except (OSError, ValueError, KeyError) as e:
                    set_aside(path, f"unreadable embedding file {path} ({e})", "its texts are embedded again")
                    continue
                for row, key in enumerate(keys):
                    index.setdefault(key, (path, row))
            self._index[encoder] = index
        return self._index[encoder]

    def get(self, encoder: str, texts: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those ``texts`` that have one."""
        index, out, arrays = self._files(encoder), {}, {}
        for text in texts:
            found = index.get(text_key(text))
            if found is None:
                continue
            path, row = found
            if path not in arrays:
                try:
                    with np.load(path) as data:
                        arrays[path] = data["vectors"]
                except (OSError, ValueError, KeyError) as e:
                    set_aside(path, f"unreadable embedding file {path} ({e})", "its texts are embedded again")
                    self._index.pop(encoder, None)
                    return self.get(encoder, texts)
            out[text] = arrays[path][row]
        return out

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
        index = self._files(encoder)
        for row, key in enumerate(keys):
            index.setdefault(key, (path, row))
