"""Escaping untrusted text (model output, reference text) for Markdown that may be rendered as HTML."""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#+\-!|{}~.>])")


def escape_md(text: str) -> str:
    """``text`` shown literally: HTML characters become entities, Markdown syntax is backslashed,
    line breaks become ``<br>`` so the text stays inside one table cell or paragraph."""
    escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=True))
    return "<br>".join(escaped.splitlines()) if "\n" in escaped else escaped


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; cells are inserted as given (escape untrusted cells first)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
