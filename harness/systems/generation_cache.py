"""The generation cache: a finished summary stored under a key of everything that changes it.

Key: SHA-256 of the system identity (model fingerprint, prompt text, decoding parameters, seed
when sampling, library versions) and the article's content hash. One JSON file per entry under
``<cache_dir>/generations/<key[:2]>/<key>.json``, written atomically, so concurrent writers never
leave a half-written entry. A corrupt entry (unreadable, cut short, not matching its key, a field
of the wrong type, a directory in its place) is reported in one warning, moved aside and
regenerated. A cache directory that cannot be written stops the run with `StorageError` (the path,
the reason, ``cache_dir=``).
Workers sharing one cache (a sweep on several processes or machines with a shared file system)
take a per-key lock (`harness.io.file_lock` on ``locks/<key>.lock``) before generating, and look again
once they hold it: one worker generates each summary, the others wait and read it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.data.article import Article
from harness.errors import CACHE_FIX
from harness.io import file_lock, set_aside, write_json_atomic

log = logging.getLogger(__name__)
# Generation fields and the types a cached entry must have (None allowed where the system may not know).
FIELDS = {"text": (str,), "input_tokens": (int, type(None)), "output_tokens": (int, type(None)),
          "article_tokens": (int, type(None)), "article_tokens_cut": (int,), "seconds": (int, float)}
# What an entry that lacks a field (written by an older version) reads as; ``text`` has no default.
DEFAULTS = {"input_tokens": None, "output_tokens": None, "article_tokens": None, "article_tokens_cut": 0,
            "seconds": 0.0}


def cache_key(identity: dict, article: Article) -> str:
    payload = json.dumps({"system": identity, "article": article.content_hash}, sort_keys=True,
                         ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class GenerationCache:
    def __init__(self, root: str | Path):
        self.root = Path(root) / "generations"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        path = self._path(key)
        if not path.exists():
            return None
        try:
            return check_entry(json.loads(path.read_text(encoding="utf-8")), key)
        except (ValueError, OSError) as e:
            set_aside(path, f"corrupt generation cache entry {path} ({e})", "regenerating")
            return None

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the key's lock (blocking) while generating its summary."""
        with file_lock(self.root / "locks" / f"{key}.lock", fix=CACHE_FIX):
            yield

    def put(self, key: str, generation: dict, identity: dict, article_id: str) -> None:
        write_json_atomic(self._path(key), {"key": key, "article_id": article_id, "identity": identity,
                                            "generation": generation}, fix=CACHE_FIX)


def check_entry(entry, key: str) -> dict:
    """The generation of a cache entry read back; ValueError naming the first thing wrong with it."""
    if not isinstance(entry, dict) or entry.get("key") != key:
        raise ValueError("entry does not match its key")
    generation = entry.get("generation")
    if not isinstance(generation, dict):
        raise ValueError(f"'generation' is {type(generation).__name__}, not an object")
    generation = {**DEFAULTS, **generation}
    for name, types in FIELDS.items():
        value = generation.get(name)
        if not isinstance(value, types) or isinstance(value, bool):
            raise ValueError(f"field {name!r} is {type(value).__name__} {value!r:.40}, expected "
                             f"{' or '.join(t.__name__ for t in types)}")
    return generation

