"""Plain-text tables for the terminal: columns aligned with spaces, text shown as it is (the
terminal renders no Markdown or HTML, so nothing is escaped here; files use reports/markdown.py)."""

from __future__ import annotations


def aligned(header: list[str], rows: list[list[str]]) -> str:
    cells = [[" ".join(str(c).split()) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells)
