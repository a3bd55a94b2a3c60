"""Article windows and their retrieval: the premises the trained checker reads, the same in
training and in scoring.

A window is ``size`` consecutive article sentences (every start, stride 1, so each sentence is
in up to ``size`` windows; an article shorter than ``size`` sentences is one window). For a claim,
the windows are ranked by `overlap`: the share of the claim's content words (lower-cased word
characters, stop words and one-letter words dropped) that the window contains, ties broken by the
earlier window; the best ``k`` are the ones scored (SummaC-style: the claim's score is the maximum
over them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset("""a an and are as at be been but by for from had has have he her his i in is it its of on or
our she that the their them they this to was were which who will with would not no said says say also after
over than then there these those up out about into more most""".split())


def content_words(text: str) -> set[str]:
    """The lower-cased content words of ``text`` (no stop words, nothing of one character)."""
    return {w for w in WORD.findall(text.lower()) if len(w) > 1 and w not in STOP}


def windows(sentences: Sequence[str], size: int = 3) -> list[str]:
    """Every run of ``size`` consecutive sentences, joined by spaces, in order; fewer sentences
    than ``size``: one window of all; none: no windows."""
    if not sentences:
        return []
    if len(sentences) <= size:
        return [" ".join(sentences)]
    return [" ".join(sentences[i:i + size]) for i in range(len(sentences) - size + 1)]


def overlap(claim_words: set[str], window: str) -> float:
    """The share of ``claim_words`` found in ``window`` (1.0 for a claim without content words)."""
    if not claim_words:
        return 1.0
    return len(claim_words & content_words(window)) / len(claim_words)


def top_windows(claim: str, article_windows: Sequence[str], k: int) -> list[int]:
    """Indices of the ``k`` windows that share most of the claim's content words, best first
    (ties: the earlier window)."""
    words = content_words(claim)
    ranked = sorted(range(len(article_windows)), key=lambda i: (-overlap(words, article_windows[i]), i))
    return ranked[:k]
