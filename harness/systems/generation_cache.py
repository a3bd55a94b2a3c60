"""The generation cache: a finished summary stored under a key of everything that changes it.

Key: SHA-256 of the system identity (model fingerprint, prompt text, decoding parameters, seed
when sampling, library versions) and the article's content hash. One JSON file per entry under
``<cache_dir>/generations/<key[:2]>/<key>.json``, written atomically, so concurrent writers never
leave a half-written entry. A corrupt entry is reported, moved aside and regenerated.
Workers sharing one cache (a sweep on several processes or machines with a shared file system)
take a per-key lock (``fcntl.flock`` on ``locks/<key>.lock``) before generating, and look again
once they hold it: one worker generates each summary, the others wait and read it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.data.article import Article
from harness.io import write_json_atomic

log = logging.getLogger(__name__)


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
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry.get("key") != key or not isinstance(entry.get("generation", {}).get("text"), str):
                raise ValueError("entry does not match its key")
            return entry["generation"]
        except (ValueError, OSError) as e:
            aside = path.with_suffix(".corrupt")
            path.replace(aside)
            log.warning("corrupt generation cache entry %s (%s): moved to %s, regenerating", path, e, aside)
            return None

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the key's lock (blocking) while generating its summary."""
        path = self.root / "locks" / f"{key}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def put(self, key: str, generation: dict, identity: dict, article_id: str) -> None:
        write_json_atomic(self._path(key), {"key": key, "article_id": article_id, "identity": identity,
                                            "generation": generation})
