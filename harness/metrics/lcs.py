"""Longest common subsequences in bounded memory, with the exact results of Google's rouge-score.

rouge-score builds the whole (n+1) x (m+1) table as Python lists: a 20,000-token bullet against
itself took 15.8 GB and minutes. Here a table row is a numpy vector computed from the previous one
(``row = cummax(match ? prev[j-1] + 1 : prev[j])``, the same integers as rouge-score's table):

- `lcs_length`: one row at a time over the shorter sequence, O(min(n, m)) steps of O(max(n, m))
  vector work, O(max(n, m)) memory;
- `lcs_indices`: rouge-score's ``lcs_ind`` (the reference positions of the LCS its backtrack
  chooses, ties broken the same way). The forward pass keeps every B-th row (a checkpoint); the
  backtrack, which only walks towards the first row, recomputes one block of B rows at a time
  from its checkpoint. Memory: O((steps / B + B) * length), about 16 MB for 20,000 x 20,000
  tokens; time: twice the forward pass, with the backtrack's runs along a row done as vector
  operations.
"""

from __future__ import annotations

import math

import numpy as np

BLOCK_CELLS = 4_000_000  # table cells a block of rows may hold (int32: 16 MB)


def encode(sequences: list[list], codes: dict | None = None) -> list[np.ndarray]:
    """The sequences as integer arrays, one code per distinct token (``codes``: token -> code,
    shared between calls so that arrays encoded apart compare)."""
    codes = {} if codes is None else codes
    return [np.fromiter((codes.setdefault(x, len(codes)) for x in s), dtype=np.int64, count=len(s))
            for s in sequences]


def _encode(a, b) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a, b
    a, b = encode([a, b])
    return a, b


def _next_row(prev: np.ndarray, x: int, ys: np.ndarray) -> np.ndarray:
    """Row k of the LCS table (over ``ys``) from row k-1, where ``x`` is the k-th step token."""
    u = np.empty_like(prev)
    u[0] = 0
    u[1:] = np.where(ys == x, prev[:-1] + 1, prev[1:])
    return np.maximum.accumulate(u)


def lcs_length(a: list, b: list) -> int:
    """The length of a longest common subsequence of ``a`` and ``b`` (token lists, or integer
    arrays from `encode`): rouge-score's ``_lcs_table(a, b)[-1][-1]``."""
    if not len(a) or not len(b):
        return 0
    xs, ys = _encode(a, b)
    if len(xs) > len(ys):
        xs, ys = ys, xs
    row = np.zeros(len(ys) + 1, dtype=np.int32)
    for x in xs.tolist():
        row = _next_row(row, x, ys)
    return int(row[-1])


class _Rows:
    """Rows 0..len(xs) of the LCS table of ``xs`` (steps) against ``ys`` (vectors), read in
    decreasing order: checkpoints every ``block`` rows, one block recomputed at a time."""

    def __init__(self, xs: np.ndarray, ys: np.ndarray, block_cells: int):
        self.xs, self.ys = xs.tolist(), ys
        steps, width = len(xs), len(ys) + 1
        self.block = max(1, min(steps, max(block_cells // width, math.isqrt(steps) + 1)))
        self.checkpoints = []
        row = np.zeros(width, dtype=np.int32)
        for k in range(steps + 1):
            if k % self.block == 0:
                self.checkpoints.append(row)
            if k < steps:
                row = _next_row(row, self.xs[k], ys)
        self._blocks: dict[int, np.ndarray] = {}

    def __getitem__(self, k: int) -> np.ndarray:
        n = k // self.block
        if n not in self._blocks:
            if len(self._blocks) >= 2:  # the walk goes down: drop the highest block held
                del self._blocks[max(self._blocks)]
            start = n * self.block
            rows = [self.checkpoints[n]]
            for step in range(start, min(start + self.block, len(self.xs))):
                rows.append(_next_row(rows[-1], self.xs[step], self.ys))
            self._blocks[n] = np.stack(rows)
        return self._blocks[n][k - n * self.block]


def lcs_indices(ref: list, can: list, block_cells: int = BLOCK_CELLS) -> list[int]:
    """The positions in ``ref`` of the LCS that rouge-score's ``lcs_ind(ref, can)`` returns:
    backtracking from the end, a match goes diagonally, else left (in ``can``) when
    ``t[i][j-1] > t[i-1][j]``, else up (in ``ref``). Token lists, or integer arrays from `encode`."""
    if not len(ref) or not len(can):
        return []
    r, c = _encode(ref, can)
    found: list[int] = []
    i, j = len(r), len(c)
    if len(r) <= len(c):  # steps over ref (rows i), vectors along can (j): runs of left moves vectorised
        rows = _Rows(r, c, block_cells)
        while i > 0 and j > 0:
            here, above, token = rows[i], rows[i - 1], r[i - 1]
            left = (c[:j] != token) & (here[:j] > above[1:j + 1])  # left[j'-1]: move left from j'
            stops = np.flatnonzero(~left)
            if stops.size == 0:
                break
            j = int(stops[-1]) + 1
            if c[j - 1] == token:
                found.append(i - 1)
                j -= 1
            i -= 1
    else:  # steps over can (columns j), vectors along ref (i): runs of up moves vectorised
        cols = _Rows(c, r, block_cells)
        while i > 0 and j > 0:
            here, before, token = cols[j], cols[j - 1], c[j - 1]
            up = (r[:i] != token) & (before[1:i + 1] <= here[:i])  # up[i'-1]: move up from i'
            stops = np.flatnonzero(~up)
            if stops.size == 0:
                break
            i = int(stops[-1]) + 1
            if r[i - 1] == token:
                found.append(i - 1)
                i -= 1
            j -= 1
    return found[::-1]
