"""Repetition in a summary, for the editor's card: the clause a degenerate summary repeats.

A small model stuck in a loop writes one clause again and again ("The company said it will
appeal." eleven times); the scores may not show it (each copy is supported by the article), so
the page warns. A clause is a run of words between sentence or clause punctuation (. ! ? ; : and
line breaks), compared lower-cased on its words. Known misses: a loop that varies a word each
time, and repetition inside a clause without punctuation ("very very very …"), which the
n-gram measure below catches instead.
"""

from __future__ import annotations

import re
from collections import Counter

CLAUSE = re.compile(r"[.!?;:\n]+")
WORD = re.compile(r"\w+", re.UNICODE)
MIN_REPEATS = 3  # a clause written this many times is a loop, not emphasis
MIN_CLAUSE_WORDS = 3  # "Yes." twice is not a loop
NGRAM = 4
MAX_REPEATED_NGRAM_SHARE = 0.5  # over half of a summary's 4-grams are repeats: a loop


def repeated_clause(text: str) -> tuple[str, int] | None:
    """(the clause as first written, how many times) for the most repeated clause of at least
    ``MIN_CLAUSE_WORDS`` words written ``MIN_REPEATS`` times or more; else None."""
    counts: Counter = Counter()
    first: dict[tuple, str] = {}
    for clause in CLAUSE.split(text):
        words = tuple(w.lower() for w in WORD.findall(clause))
        if len(words) < MIN_CLAUSE_WORDS:
            continue
        counts[words] += 1
        first.setdefault(words, clause.strip())
    if not counts:
        return None
    words, n = counts.most_common(1)[0]
    return (first[words], n) if n >= MIN_REPEATS else None


def repeated_ngram_share(text: str, n: int = NGRAM) -> float:
    """Share of the text's word n-grams that repeat an earlier one (0 for fewer than n words)."""
    words = [w.lower() for w in WORD.findall(text)]
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def repetition_warning(text: str) -> str | None:
    """One line for the card when the summary loops, else None."""
    clause = repeated_clause(text)
    if clause:
        shown = clause[0] if len(clause[0]) <= 120 else clause[0][:117] + "…"
        return f"repeats “{shown}” {clause[1]} times"
    share = repeated_ngram_share(text)
    if share > MAX_REPEATED_NGRAM_SHARE:
        return f"{100 * share:.0f}% of its {NGRAM}-word sequences repeat earlier ones"
    return None
