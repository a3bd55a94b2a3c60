"""Escaping untrusted text (model output, reference text, ids, labels) for Markdown that may be
rendered as HTML."""

from __future__ import annotations

import html
import re

from harness.text.visible import visible

_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#+\-!|{}~.=])")  # ">" and "<" become entities


def escape_md(text) -> str:
    """``text`` shown literally: invisible and layout-changing characters (bidi overrides,
    zero-width characters, a bare carriage return, control characters) become visible escapes
    (harness.text.visible), HTML characters become entities, Markdown syntax is backslashed, and
    line breaks become ``<br>`` so the text stays inside one table cell, heading or list item."""
    # Backslashes first, entities second: a backslash inside "&#x27;" would show the entity as text.
    escaped = html.escape(_MD_SPECIAL.sub(r"\\\1", visible(str(text))), quote=True)
    return "<br>".join(escaped.split("\n"))


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; cells are inserted as given (escape untrusted cells first)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
