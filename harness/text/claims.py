"""The claims of a parsed sentence as predicate-argument arcs between its content words, in the
spirit of DAE's dependency-arc factuality (Goyal & Durrett 2020) but without a trained arc
classifier: an arc (governor, dependent) says that two content words are related in the claim
("arrested → footman", "charged → molestation").

Rules (on spaCy's dependency parse, `harness.text.parse`):
- every content word whose governor is a content word gives the arc (governor, word); function
  words between them are skipped ("charged with molestation": charged → molestation, through the
  preposition "with"; "was arrested": the auxiliary is not a word of the claim);
- a conjoined verb without a subject of its own takes its conjunct's ("the footman was arrested
  and charged": charged → footman as well as arrested → footman);
- punctuation, determiners and stop words never make an arc.
"""

from __future__ import annotations

from harness.text.parse import Word

SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj", "csubjpass", "agent", "expl"})
_MAX_HOPS = 3


def _governor(words: tuple[Word, ...], i: int) -> int | None:
    """The nearest content word above word ``i`` (through at most _MAX_HOPS function words)."""
    j = i
    for _ in range(_MAX_HOPS):
        head = words[j].head
        if head == j:
            return None
        if words[head].content:
            return head
        j = head
    return None


def arcs(words: tuple[Word, ...]) -> list[tuple[int, int]]:
    """(governor index, dependent index) of every arc of the sentence, without repeats, in order."""
    out: dict[tuple[int, int], None] = {}
    for i, word in enumerate(words):
        if not word.content:
            continue
        governor = _governor(words, i)
        if governor is not None and words[governor].key != word.key:
            out[(governor, i)] = None
    for i, word in enumerate(words):  # a conjoined verb inherits its conjunct's subject
        if word.pos != "VERB" or word.dep != "conj" or not words[word.head].pos == "VERB":
            continue
        own = [j for j, w in enumerate(words) if w.head == i and w.dep in SUBJECTS and j != i]
        if own:
            continue
        for j, w in enumerate(words):
            if w.head == word.head and w.dep in SUBJECTS and j != word.head and w.content:
                out[(i, j)] = None
    return list(out)


def arc_text(words: tuple[Word, ...], arc: tuple[int, int]) -> str:
    """An arc as an editor reads it: ``arrested → footman``."""
    return f"{words[arc[0]].text} → {words[arc[1]].text}"
