"""Invisible and layout-changing characters made visible, for text a reviewer reads in a report.

A report must show the text that was scored, not a rendering of it: a bidirectional override
(U+202E) can make a sentence read backwards, a zero-width space hides inside a word, a bare
carriage return or an ANSI escape rewrites a table row or a terminal line. `visible` replaces
each such character by an escape a reader sees (``\\u202e``, ``\\r``, ``\\x1b`` shown as
``\\u001b``) and leaves every other character, line feeds and tabs included, as it is.

Made visible: control characters (Unicode category Cc) but line feed and tab; format characters
(Cf: bidi embeddings, overrides, isolates and marks, zero-width space/joiners, word joiner,
byte-order mark, soft hyphen, invisible tag characters); the line and paragraph separators
U+2028/U+2029 (Zl, Zp); lone surrogates (Cs, which no UTF-8 file can hold); and the blank
"filler" letters that render as nothing (U+115F, U+1160, U+3164, U+FFA0, U+034F).
A literal backslash is left as it is, so the text ``\\u202e`` typed by a writer reads the same as
an escaped U+202E: the escapes are for eyes, not for parsing back.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

_FILLERS = "\u034f\u115f\u1160\u3164\uffa0"
_KEEP = "\n\t"


@functools.cache
def _hidden() -> re.Pattern:
    """A regex of every character `visible` escapes (built on first use: a scan of all code points)."""
    ranges, start = [], None
    for code in range(sys.maxunicode + 2):
        char = chr(code) if code <= sys.maxunicode else ""
        hidden = bool(char) and char not in _KEEP and (
            unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs") or char in _FILLERS)
        if hidden and start is None:
            start = code
        elif not hidden and start is not None:
            ranges.append((start, code - 1))
            start = None
    return re.compile("[" + "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if code == 0x0D:
        return "\\r"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str) -> str:
    """``text`` with every invisible or layout-changing character shown as an escape
    (``"a\\u202eb"`` → ``"a\\\\u202eb"``, a bare ``"\\r"`` → ``"\\\\r"``); line feeds and tabs kept."""
    return _hidden().sub(_escape, text)


def blank(text: str) -> bool:
    """Whether ``text`` holds no character a reader sees: only whitespace (any script's: U+3000
    too) and the characters `visible` escapes (``"\\u200b\\u2060\\u3164"`` is blank).

    Args:
        text: any text.

    Returns:
        True when nothing in it shows.
    """
    return not _hidden().sub("", text).strip()


def visible_strings(value, keep_keys=frozenset()):
    """``value`` (JSON-like data: dicts, lists, strings, numbers) with `visible` applied to every
    string in it but dict keys and the values under a key in ``keep_keys`` (identifiers that must
    stay exact, e.g. the article id that exported marks refer to). For report.html's data."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {k: v if k in keep_keys else visible_strings(v, keep_keys) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [visible_strings(v, keep_keys) for v in value]
    return value
