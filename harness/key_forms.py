"""Every form a server can quote an API key in, and finding them in text.

A server that echoes the request (an error body repeating the headers, a "model" field holding
what it was sent) can quote the key as it was sent or encoded: JSON-escaped, URL-encoded,
hex (lower or upper case), base64 (standard or URL-safe, with or without padding, on its own or
inside the base64 of ``Bearer KEY`` or ``user:KEY``: at each of the three byte offsets a key can
start at, the characters that encode only the key's own bytes are the same), and cut into
pieces (a 7-character head in one place, the tail in another).

`key_forms` lists the forms of one key; `KeyIndex` finds them in a text. The rule for pieces:

- a key of ``MIN_KEY_FOR_PIECES`` (12) characters or more: every run of ``PIECE_CHARS`` (6) or
  more consecutive characters of any of its forms is found (so a head of 6 and the tail, two
  halves, or a base64 quote cut short are all found), except that six letters that read like a
  word (``answer``, ``Report``, ``ERRORS``: `WORD_LIKE`) are not a piece on their own: the run
  must reach a digit, a symbol or a change of case (``-answe``, ``swers-5``). Otherwise a key such
  as ``sk-answers-5d1e…`` would redact "answer" from every message. Six characters of a random key
  are 30 to 36 bits: ordinary text matches one by chance about once in 10^9 positions.
- a shorter key: only whole forms. Its pieces would be ordinary words (``secret``, ``-key-``),
  and a key that short is weak anyway: use a long random key.

A key made of words (``sk-no-key-required``) has pieces that are words too: text holding them is
redacted (and, for an answer, warned); a random key does not have the problem. A server that means
to hide the key from this (reversing it, another encoding) can; the defence against a hostile
server is not to send it the key at all (harness/http_client.py refuses redirects).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse

PIECE_CHARS = 6
MIN_KEY_FOR_PIECES = 12
WORD_LIKE = re.compile(r"[a-z]+|[A-Z][a-z]+|[A-Z]+")  # a piece of these letters alone is an ordinary word


def _base64_forms(raw: bytes) -> list[str]:
    """The base64 characters that encode ``raw`` alone, at each of the three offsets it can start
    at within an encoded string, in both alphabets; and the whole encodings, padded and not."""
    forms = []
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode()
        forms += [whole, whole.rstrip("=")]
        for skip in range(3):  # the key starts `skip` bytes before a 3-byte group boundary
            body = raw[skip:]
            body = body[:len(body) - len(body) % 3]
            if body:
                forms.append(encode(body).decode())
    return forms


def key_forms(key: str) -> list[str]:
    """Every encoding of ``key`` a server can quote: literal, JSON-escaped, URL-encoded (upper- and
    lower-case escapes, ``+`` for spaces), hex (both cases), base64 (`_base64_forms`). Distinct,
    longest first.

    Args:
        key: an API key.

    Returns:
        The forms, each a non-empty string.
    """
    raw = key.encode("utf-8")
    quoted = urllib.parse.quote(key, safe="")
    forms = [key, json.dumps(key)[1:-1], json.dumps(key, ensure_ascii=False)[1:-1], quoted,
             _lower_escapes(quoted), urllib.parse.quote_plus(key, safe=""), raw.hex(), raw.hex().upper(),
             *_base64_forms(raw)]
    return sorted({f for f in forms if f}, key=lambda f: (-len(f), f))


def _lower_escapes(quoted: str) -> str:
    out, at = [], 0
    while (found := quoted.find("%", at)) >= 0:
        out += [quoted[at:found], quoted[found:found + 3].lower()]
        at = found + 3
    return "".join(out) + quoted[at:]


class KeyIndex:
    """The forms of some keys, to find in texts: pieces of ``PIECE_CHARS`` characters of every form
    of a long key, whole forms of a short one (see the module docstring)."""

    def __init__(self, keys=()):
        self.keys = tuple(sorted(set(k for k in keys if k)))
        by_length: dict[int, set[str]] = {}
        for key in self.keys:
            pieces = len(key) >= MIN_KEY_FOR_PIECES
            for form in key_forms(key):
                if pieces and len(form) >= PIECE_CHARS:
                    grams = (form[i:i + PIECE_CHARS] for i in range(len(form) - PIECE_CHARS + 1))
                    by_length.setdefault(PIECE_CHARS, set()).update(
                        g for g in grams if not WORD_LIKE.fullmatch(g))
                by_length.setdefault(len(form), set()).add(form)  # whole, always (a key of letters alone too)
        self._by_length = sorted(by_length.items())

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The (start, end) ranges of ``text`` that hold a key's form or a piece of one, merged
        where they touch or overlap, in order.

        Args:
            text: any text.

        Returns:
            Sorted, disjoint ranges; [] when no key is in it.
        """
        found = []
        for length, grams in self._by_length:
            start = end = -1
            for i in range(len(text) - length + 1):
                if text[i:i + length] in grams:
                    if i > end:
                        if end > start:
                            found.append((start, end))
                        start = i
                    end = max(end, i + length)
            if end > start:
                found.append((start, end))
        merged: list[tuple[int, int]] = []
        for start, end in sorted(found):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def replace(self, text: str, mark: str) -> str:
        """``text`` with every range `spans` finds replaced by ``mark``."""
        spans = self.spans(text) if self._by_length else []
        if not spans:
            return text
        out, at = [], 0
        for start, end in spans:
            out += [text[at:start], mark]
            at = end
        return "".join(out) + text[at:]
