"""Plain-text tables for the terminal: columns aligned with spaces, text shown as it is but for
characters that would rewrite the terminal or hide text (escape sequences, carriage returns, bidi
overrides, zero-width characters: shown as escapes, harness.text.visible); the terminal renders no
Markdown or HTML, so nothing else is escaped here; files use reports/markdown.py."""

from __future__ import annotations

from harness.text.visible import visible


def aligned(header: list[str], rows: list[list[str]]) -> str:
    cells = [[" ".join(visible(str(c)).split()) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells)
