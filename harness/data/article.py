"""The reference record: one article, its body paragraphs and its human bullets."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Article:
    """A news article with its reference bullets ("highlights").

    Bullets stay separate items: coverage is judged per bullet, never on one flattened string.
    """

    id: str
    title: str
    paragraphs: tuple[str, ...]
    bullets: tuple[str, ...]
    source: dict = field(default_factory=dict, compare=False)

    @property
    def body(self) -> str:
        """The body as one text, paragraphs separated by blank lines."""
        return "\n\n".join(self.paragraphs)

    @property
    def content_hash(self) -> str:
        """SHA-256 of what a system reads (title, paragraphs) and what it is scored on (bullets)."""
        payload = json.dumps([self.title, list(self.paragraphs), list(self.bullets)], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def to_record(self) -> dict:
        record = asdict(self)
        record["paragraphs"] = list(self.paragraphs)
        record["bullets"] = list(self.bullets)
        if not record["source"]:
            del record["source"]
        return record
