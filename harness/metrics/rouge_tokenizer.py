"""ROUGE's tokenizer: rouge-score's own on Latin text, and words of every other script kept.

rouge-score's tokenizer lower-cases the text and keeps only runs of ``[a-z0-9]``, so Chinese,
Japanese, Korean, Arabic, Cyrillic, Devanagari or emoji-only text has no token at all and scores
0 against an identical reference. `UnicodeTokenizer` gives the same tokens as rouge-score's
(``tokenize.tokenize``, Porter stemming of words over 3 letters included) on any ASCII text, and
for every ASCII word of any text; beyond ASCII, on the lower-cased NFC text:

- a word is a run of letters, digits and combining marks (``\\w`` without ``_``, plus Unicode
  categories Mn/Mc/Me, so that Devanagari vowel signs and Arabic harakat stay in their word);
- Han ideographs, Hiragana, Katakana and Hangul syllables are one token per character (these
  scripts do not separate words with spaces);
- a symbol of Unicode category So (emoji, ©, ™) is a token by itself;
- an ASCII word is stemmed as rouge-score does; a word holding other letters is not (the Porter
  stemmer is English): ``café``, ``naïve`` and ``москва`` are kept whole (rouge-score: ``caf``;
  ``na``, ``ve``; nothing).

Scripts without spaces other than these (Thai, Lao, Khmer, Burmese) count a run between spaces
as one word. Punctuation and other symbols are never tokens; `Rouge` warns once per run when a
text that is not blank has no token at all.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

from nltk.stem import porter
from rouge_score import tokenize as rouge_tokenize

NAME = "unicode-v1"  # recorded in the metric's describe(): the score cache key changes with it
# One token per character: CJK ideographs (and their extensions, compatibility forms), kana, Hangul.
PER_CHARACTER = ("\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3038-\u303b\u3040-\u30ff\u31f0-\u31ff"
                 "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f")
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def _ranges(categories: tuple[str, ...]) -> str:
    """A regex character-class body of every code point in the Unicode ``categories``."""
    out, start = [], None
    for code in range(sys.maxunicode + 2):
        inside = code <= sys.maxunicode and unicodedata.category(chr(code)) in categories
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            end = code - 1
            out.append(re.escape(chr(start)) + ("" if end == start else "-" + re.escape(chr(end))))
            start = None
    return "".join(out)


@functools.cache
def _patterns() -> tuple[re.Pattern, re.Pattern]:
    """(one token: a word or a symbol; a CJK character or a run of other word characters), built
    on first use (a scan of all code points, under a second)."""
    marks, symbols = _ranges(("Mn", "Mc", "Me")), _ranges(("So",))
    token = re.compile(rf"(?:[^\W_]|[{marks}])+|[{symbols}]")
    pieces = re.compile(rf"[{PER_CHARACTER}]|(?:(?![{PER_CHARACTER}])(?:[^\W_]|[{marks}]))+")
    return token, pieces


class UnicodeTokenizer:
    """A rouge-score ``Tokenizer`` (``tokenize(text) -> list[str]``); see the module docstring."""

    name = NAME

    def __init__(self, use_stemmer: bool = True):
        self.use_stemmer = use_stemmer
        self._stemmer = porter.PorterStemmer() if use_stemmer else None

    def tokenize(self, text: str) -> list[str]:
        if text.isascii():
            return rouge_tokenize.tokenize(text, self._stemmer)
        token, pieces = _patterns()
        out: list[str] = []
        for match in token.finditer(unicodedata.normalize("NFC", text.lower())):
            word = match.group()
            parts = pieces.findall(word) if len(word) > 1 and not word.isascii() else [word]
            out.extend(self._stem(part) for part in parts)
        return out

    def _stem(self, word: str) -> str:
        if self._stemmer is not None and len(word) > 3 and _ASCII_WORD.fullmatch(word):
            return self._stemmer.stem(word)
        return word
