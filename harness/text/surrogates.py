"""Lone surrogates out of text that comes from outside the harness.

A JSON string can hold an escape such as ``"\\ud800"`` that is half of a UTF-16 pair: Python reads
it as a lone surrogate, a code point no UTF-8 file can hold, so writing it (a cache entry,
``summaries.jsonl``) raises ``UnicodeEncodeError``, on every rerun. Text is cleaned where it
enters: a served model's answer (`harness.http_client`) and every summary a system returns
(`harness.systems.base.Generation`). Each lone surrogate becomes U+FFFD, the replacement
character (a paired one cannot occur in a Python string read from JSON: the pair is one character).
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (the same object when it has none)."""
    return _SURROGATE.sub(REPLACEMENT, text) if _SURROGATE.search(text) else text


def without_surrogates(value):
    """A JSON value (from ``json.loads``) with `replace_surrogates` applied to every string in it,
    object keys included."""
    if isinstance(value, str):
        return replace_surrogates(value)
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    return value
