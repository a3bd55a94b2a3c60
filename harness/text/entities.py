"""Named entities, numbers, quantities and dates of a text, with the embedded spaCy NER
(en_core_web_sm), each normalised for matching: names lower-cased without possessives or a
leading "the"; numbers as values with their qualifier; dates as (year, month, day) readings.

Limits: NER runs over pieces of at most MAX_PIECE characters (cut at a line break when one is in
the second half of the piece, else at a space), one piece at a time, so memory is bounded by one
piece (a 1M-word article took 17.5 GB when spaCy batched all its pieces together); an article
shorter than MAX_PIECE is one piece, as before. Time is linear in the text (no lookup is
quadratic); figures in docs/performance.md, "Long texts".
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from harness.text.numbers import _NUMERIC_DATE, parse_dates, parse_number, scale_suffix, split_qualifier
from harness.text.sentences import MAX_PIECE, SPACY_MODEL

NUMBER_LABELS = {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}
DATE_LABELS = {"DATE", "TIME"}
SKIPPED_LABELS = {"ORDINAL"}  # "first", "second": rarely a fact of their own, often wrong NER
_POSSESSIVE = re.compile(r"['’]s?\b")
_NON_WORD = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class Mention:
    text: str
    label: str
    kind: str  # "name" | "number" | "date"
    start: int  # character offsets in the text
    end: int
    value: float | None = None
    qualifier: str | None = None
    dates: frozenset = field(default_factory=frozenset)

    @property
    def normal(self) -> str:
        return normalise_name(self.text)


def normalise_name(text: str) -> str:
    """Lower case, no possessive 's, no punctuation, no leading "the", single spaces."""
    text = _NON_WORD.sub(" ", _POSSESSIVE.sub("", text.lower()))
    text = " ".join(text.split())
    return text[4:] if text.startswith("the ") else text


@lru_cache(maxsize=1)
def _pipeline():
    import spacy

    # The shared ``tok2vec`` feeds only the tagger and parser (excluded); the NER has its own
    # embedding layer, so running it was wasted work (same entities, 1.8x faster without it).
    return spacy.load(SPACY_MODEL, exclude=["tok2vec", "parser", "lemmatizer", "attribute_ruler", "tagger"])


class _Entity:
    """A spaCy entity span with character offsets in the whole text."""

    def __init__(self, ent, offset: int):
        self.text, self.label_ = ent.text, ent.label_
        self.start_char, self.end_char = ent.start_char + offset, ent.end_char + offset


def _pieces(text: str, size: int = MAX_PIECE) -> list[tuple[str, int]]:
    """(piece, its offset) covering ``text``: at most ``size`` characters each, cut at the last
    line break in the piece's second half, else at its last space."""
    pieces, offset = [], 0
    while offset < len(text):
        end = min(len(text), offset + size)
        if end < len(text):
            cut = text.rfind("\n", offset + size // 2, end)
            cut = cut if cut > offset else text.rfind(" ", offset, end)
            end = cut if cut > offset else end
        pieces.append((text[offset:end], offset))
        offset = end
    return pieces


def _entities(text: str, size: int = MAX_PIECE) -> list[_Entity]:
    """NER over ``text`` in pieces (`_pieces`), one at a time: a long article neither exceeds
    spaCy's length limit nor holds more than one piece's activations in memory."""
    pieces = _pieces(text, size)
    docs = _pipeline().pipe([p for p, _ in pieces], batch_size=1)
    return [_Entity(ent, start) for doc, (_, start) in zip(docs, pieces, strict=True) for ent in doc.ents]


def _inside(spans: list[tuple[int, int]], position: int) -> bool:
    """Whether ``position`` falls in one of ``spans`` (sorted, non-overlapping (start, end) pairs)."""
    k = bisect.bisect_right(spans, (position, float("inf"))) - 1
    return k >= 0 and spans[k][0] <= position < spans[k][1]


@lru_cache(maxsize=4096)
def mentions(text: str) -> tuple[Mention, ...]:
    """The entity, number and date mentions of ``text``, in order (cached per text)."""
    out = []
    for ent in _entities(text):
        if ent.label_ in SKIPPED_LABELS:
            continue
        if ent.label_ in DATE_LABELS:
            out.append(Mention(ent.text, ent.label_, "date", ent.start_char, ent.end_char,
                               dates=frozenset(parse_dates(ent.text))))
        elif ent.label_ in NUMBER_LABELS:
            qualifier, rest = split_qualifier(ent.text)
            value = parse_number(rest)
            if value is not None and ent.text.lower() == rest:  # "£200m": the NER span is "200"
                value *= scale_suffix(text[max(0, ent.start_char - 2):ent.start_char],
                                      text[ent.end_char:ent.end_char + 5])
            if value is not None:
                out.append(Mention(ent.text, ent.label_, "number", ent.start_char, ent.end_char, value, qualifier))
        elif normalise_name(ent.text):
            out.append(Mention(ent.text, ent.label_, "name", ent.start_char, ent.end_char))
    taken = sorted((m.start, m.end) for m in out)
    for match in _NUMERIC_DATE.finditer(text):  # "05/01/2022": the small NER model misses these
        if not _inside(taken, match.start()):
            out.append(Mention(match.group(), "DATE", "date", match.start(), match.end(),
                               dates=frozenset(parse_dates(match.group()))))
    return tuple(sorted(out, key=lambda m: m.start))


_SPLIT_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3}), (\d{3})\b")


@lru_cache(maxsize=256)
def article_index(text: str) -> dict:
    """What summary mentions are matched against: the article's normalised text, its number
    values (each with the qualifiers it appears with) and its date readings. Thousands split by a
    tokeniser ("13, 000" in the QAGS-C articles) are joined first: "13,000" is one number."""
    text = _SPLIT_THOUSANDS.sub(r"\1,\2", text)
    numbers: dict[float, set] = {}
    spans = []
    for m in mentions(text):
        if m.kind == "number":
            numbers.setdefault(m.value, set()).add(m.qualifier)
            spans.append((m.start, m.end))
    spans.sort()
    for piece, offset in _pieces(text):  # numbers the NER did not tag ("killed 8")
        for token in _pipeline().tokenizer(piece):
            if token.like_num and not _inside(spans, offset + token.idx):
                value = parse_number(token.text)
                if value is not None:
                    value *= scale_suffix(piece[max(0, token.idx - 2):token.idx],
                                          piece[token.idx + len(token.text):token.idx + len(token.text) + 5])
                    numbers.setdefault(value, set()).add(None)
    dates = set(parse_dates(text))
    for m in mentions(text):
        dates |= m.dates
    return {"normal": f" {normalise_name(text)} ", "numbers": numbers, "dates": dates}
