"""Dependency parses of texts with the embedded spaCy pipeline (en_core_web_sm: tagger, parser,
lemmatizer; no NER), reduced to what the claim-level scorers read: per sentence, its words with
lemma, part of speech, dependency label and head.

Each word carries a matching ``key``: its lemma lower-cased (a proper noun's own text lower-cased,
numbers as their value: "eight" and "8" share the key ``8``), so that "arrested", "arrests" and
"arrest" are one key. Content words (`CONTENT_POS`, not stop words) are what a claim is made of.

Limits: a text is parsed line by line in pieces of at most SENTENCE_PIECE (10,000) characters,
in batches of at most MAX_BATCH_CHARS characters (`harness.text.sentences.bounded_batches`: memory
bounded by a batch; 16 pieces of 100,000 characters at once took 5 GB); a sentence never spans a
line break or a piece boundary. An article's parse is cached per text in the process (`parse_article`), so
16 summaries of one article parse it once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from harness.text.numbers import parse_number
from harness.text.sentences import SPACY_MODEL, bounded_batches

CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "NUM"})
_POSSESSIVE = re.compile(r"['’]s?$")


@dataclass(frozen=True)
class Word:
    text: str
    key: str  # lemma lower-cased; numbers as their value
    pos: str
    dep: str
    head: int  # index of the head word in the sentence (the root is its own head)
    content: bool


@lru_cache(maxsize=1)
def _pipeline():
    import spacy

    return spacy.load(SPACY_MODEL, exclude=["ner"])


def word_key(text: str, lemma: str, pos: str) -> str:
    """The matching key of one word (see the module docstring)."""
    if pos == "NUM" or text[:1].isdigit():
        value = parse_number(text.lower())
        if value is not None:
            return f"{value:g}"
    if pos == "PROPN":
        return _POSSESSIVE.sub("", text.lower())
    return lemma.lower()


def _sentences(doc) -> list[tuple[str, tuple[Word, ...]]]:
    out = []
    for sent in doc.sents:
        start = sent.start
        words = tuple(Word(t.text, word_key(t.text, t.lemma_, t.pos_), t.pos_, t.dep_, t.head.i - start,
                           t.pos_ in CONTENT_POS and not t.is_stop and any(c.isalnum() for c in t.text))
                      for t in sent)
        if any(not w.text.isspace() for w in words):
            out.append((sent.text.strip(), words))
    return out


def parse(text: str) -> list[tuple[str, tuple[Word, ...]]]:
    """The sentences of ``text`` (line by line, in bounded pieces), each as (its text, its words)."""
    return [s for batch in bounded_batches(text.splitlines())
            for doc in _pipeline().pipe(batch, batch_size=len(batch)) for s in _sentences(doc)]


def parse_sentence(sentence: str) -> tuple[Word, ...]:
    """One summary sentence as one parsed unit (its words, even where spaCy would split it)."""
    return tuple(w for s in _parse_cached(sentence) for w in s)


@lru_cache(maxsize=8192)
def _parse_cached(sentence: str) -> tuple[tuple[Word, ...], ...]:
    # Heads are per spaCy sentence; re-base them when one summary sentence parses as several.
    out, offset = [], 0
    for _, words in parse(sentence):
        out.append(tuple(Word(w.text, w.key, w.pos, w.dep, w.head + offset, w.content) for w in words))
        offset += len(words)
    return tuple(out)


@lru_cache(maxsize=1024)
def parse_article(text: str) -> tuple[tuple[str, tuple[Word, ...]], ...]:
    """An article text's parsed sentences (text, words), cached per text in the process."""
    return tuple(parse(text))
