"""Extractive fragments of a summary in its article (Grusky, Naaman & Artzi 2018, Newsroom).

The greedy procedure of the paper (and of Newsroom's and SummEval's code): walk the summary; at
each position take the longest run of tokens that also occurs in the article starting anywhere
(on a tie the earliest), record it as a fragment and jump past it; a token found nowhere is
skipped. Matching is on lower-cased tokens. Like the reference code, the article scan resumes
after each partial match, so a longer match that starts inside an earlier partial match is not
seen; we keep that behaviour so our figures equal the published tools'.
"""

from __future__ import annotations


def fragments(summary: list[str], article: list[str]) -> list[int]:
    """The lengths of the extractive fragments of ``summary`` (tokens) in ``article`` (tokens)."""
    a, b = [t.lower() for t in summary], [t.lower() for t in article]
    lengths, i = [], 0
    while i < len(a):
        best, j = 0, 0
        while j < len(b):
            if a[i] == b[j]:
                i_end, j_end = i, j
                while i_end < len(a) and j_end < len(b) and a[i_end] == b[j_end]:
                    i_end, j_end = i_end + 1, j_end + 1
                best = max(best, i_end - i)
                j = j_end
            else:
                j += 1
        if best:
            lengths.append(best)
            i += best
        else:
            i += 1
    return lengths


def coverage(lengths: list[int], summary_length: int) -> float:
    """Fraction of summary tokens inside an extractive fragment (0 to 1)."""
    return sum(lengths) / summary_length if summary_length else 0.0


def density(lengths: list[int], summary_length: int) -> float:
    """Mean squared fragment length per summary token (0 to summary length): ~1 means word copying,
    large means long copied spans."""
    return sum(n * n for n in lengths) / summary_length if summary_length else 0.0


def compression(article_length: int, summary_length: int) -> float:
    """Article tokens per summary token."""
    return article_length / summary_length if summary_length else 0.0
