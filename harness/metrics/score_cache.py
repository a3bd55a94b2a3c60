"""The score cache: one metric's scores of one summary, stored under a key of everything that
changes them, so a rerun (after an interruption, or with one metric added) scores only what is new.

Key: SHA-256 of the metric's config name, class and ``describe()`` (model weights hash,
threshold, layer...), the source code of the scoring packages (harness/metrics, models, text:
any code change invalidates every entry), the summary text and the article's content hash.
Entries live in ``<cache_dir>/scores/<key[:2]>/<key>.json``, written atomically. An entry that
cannot be used (unreadable, cut short, another key, scores that are not an object, a declared
column holding a string or a list, a directory in its place) is moved aside to ``<key>.corrupt``
with one warning and recomputed. A cache that cannot be written stops the run with
`StorageError` (the path, the reason, ``cache_dir=``).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from harness.errors import CACHE_FIX
from harness.io import set_aside, write_json_atomic

SCORING_PACKAGES = ("metrics", "models", "text")


@lru_cache(maxsize=1)
def scoring_code_sha256() -> str:
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in SCORING_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def metric_fingerprint(name: str, metric) -> str:
    payload = {"name": name, "class": f"{type(metric).__module__}.{type(metric).__qualname__}",
               "describe": metric.describe(), "code": scoring_code_sha256()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def score_key(fingerprint: str, summary: str, article_hash: str) -> str:
    payload = json.dumps([fingerprint, summary, article_hash], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ScoreCache:
    def __init__(self, root: str | Path):
        self.root = Path(root) / "scores"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str, columns=()) -> dict | None:
        """The cached scores under ``key``, or None (then they are computed). ``columns``: the
        metric's declared scalar keys, which a usable entry holds as numbers (or null)."""
        path = self._path(key)
        if not path.exists():
            return None
        try:
            return check_entry(json.loads(path.read_text(encoding="utf-8")), key, columns)
        except (OSError, ValueError) as e:
            set_aside(path, f"corrupt score cache entry {path} ({e})", "scoring again")
            return None

    def put(self, key: str, scores: dict) -> None:
        write_json_atomic(self._path(key), {"key": key, "scores": scores}, fix=CACHE_FIX)


def check_entry(entry, key: str, columns=()) -> dict:
    """The scores of a cache entry read back; ValueError naming the first thing wrong with it."""
    if not isinstance(entry, dict) or entry.get("key") != key:
        raise ValueError("entry does not match its key")
    scores = entry.get("scores")
    if not isinstance(scores, dict):
        raise ValueError(f"'scores' is {type(scores).__name__}, not an object")
    for name in columns:
        value = scores.get(name)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise ValueError(f"score {name!r} is {type(value).__name__} {value!r:.40}, expected a number")
    return scores
