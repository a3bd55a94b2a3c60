"""Prompt templates: the instruction a language model gets, with the article filled in."""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass

from harness.errors import ConfigError

FIELDS = {"title", "article"}


@dataclass(frozen=True)
class PromptTemplate:
    """A template with ``{article}`` (the body) and optionally ``{title}``; braces are doubled to escape."""

    name: str
    template: str

    def __post_init__(self):
        try:
            used = {f for _, f, _, _ in string.Formatter().parse(self.template) if f is not None}
        except ValueError as e:
            raise ConfigError(f"prompt {self.name!r}: malformed template: {e}") from e
        if "article" not in used:
            raise ConfigError(f"prompt {self.name!r}: the template must contain {{article}}")
        if used - FIELDS:
            raise ConfigError(f"prompt {self.name!r}: unknown fields {sorted(used - FIELDS)}; "
                              f"allowed: {sorted(FIELDS)}")

    def render(self, *, title: str, article: str) -> str:
        return self.template.format(title=title, article=article)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()
