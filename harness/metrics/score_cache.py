"""The score cache: one metric's scores of one summary, stored under a key of everything that
changes them, so a rerun (after an interruption, or with one metric added) scores only what is new.

Key: SHA-256 of the metric's config name, class and ``describe()`` (model weights hash,
threshold, layer...), the source code of the scoring packages (harness/metrics, models, text:
any code change invalidates every entry), the summary text and the article's content hash.
Entries live in ``<cache_dir>/scores/<key[:2]>/<key>.json``, written atomically; an unreadable
entry is recomputed.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from harness.io import write_json_atomic

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

    def get(self, key: str) -> dict | None:
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry.get("scores") if entry.get("key") == key else None

    def put(self, key: str, scores: dict) -> None:
        write_json_atomic(self._path(key), {"key": key, "scores": scores})
