"""Which rows of a text column contain which literals, without a pass per row per literal.

A literal prefilter narrows the rows a pattern is run on to those holding a
string every match contains. Run per labeling function through Arrow's
row-wise regex kernel, every prefilter is a pass of its own with a fixed cost
per row. Here the column's UTF-8 bytes are searched as *one* string, and the
literals of all the labeling functions of a batch are answered together
(:class:`LiteralIndex`), in whichever of two ways is cheaper for them:

* one RE2 pass per literal (RE2 skips ahead with ``memchr`` on the literal's
  first byte), the matches' positions read off the lengths of the pieces the
  text splits into;
* one RE2 pass for the alternation of all literals, writing a marker byte
  (one absent from the text) before every match: the markers' places give the
  matches' positions and the bytes there tell which literals start at each.

The column's offsets then give the rows. The answer is a superset, which is
all a prefilter needs (the pattern itself decides on the rows that pass):
every row containing a literal is marked. RE2 reports non-overlapping matches,
so an occurrence that starts inside an earlier match is not seen; such a
literal is also marked on every row where a literal it can overlap was found,
and a match that runs past the end of its row marks the rows it runs into.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._re2 import re2_char

__all__ = ["LiteralIndex", "literal_rows"]

# Bytes tried as the marker, in order; one that never occurs in the searched text is used.
_MARKERS = (1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31)
_MAX_BYTES = 1 << 30  # larger texts are searched row by row (RE2 lengths stay far from 2**31)


class LiteralIndex:
    """Rows of one text column that may contain each literal, found together and cached.

    Parameters
    ----------
    array : pyarrow.Array
        The column as ``large_string``.
    wanted : iterable of str
        Literals searched in the first pass, together with the first ones
        asked for (the literals of every labeling function of a batch).
    """

    def __init__(self, array: pa.Array, wanted: Iterable[str] = ()) -> None:
        self.array = array
        self.wanted = set(wanted)
        self._rows: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def rows(self, literals: Iterable[str]) -> np.ndarray:
        """Bool per row: may contain one of ``literals`` (True on every row that does)."""
        literals = set(literals)
        with self._lock:
            missing = literals - self._rows.keys()
            if missing:
                self._rows.update(literal_rows(self.array, missing | (self.wanted - self._rows.keys())))
            out = np.zeros(len(self.array), dtype=bool)
            for lit in literals:
                out |= self._rows[lit]
        return out


def literal_rows(array: pa.Array, literals: Iterable[str]) -> dict[str, np.ndarray]:
    """For each literal, a bool per row that is True on every row containing it.

    Parameters
    ----------
    array : pyarrow.Array
        ``large_string`` column (missing rows come out False unless their
        slots hold text).
    literals : iterable of str
        Non-empty strings.

    Returns
    -------
    dict
        ``{literal: bool array of shape (len(array),)}``; a row may be True
        without containing the literal (see the module docstring).
    """
    literals = sorted(set(literals), key=lambda s: (-len(s.encode()), s))  # longest first: RE2 takes those
    n = len(array)
    out = {lit: np.zeros(n, dtype=bool) for lit in literals}
    if n == 0 or not literals:
        return out
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset:array.offset + n + 1]
    lo, hi = int(offsets[0]), int(offsets[-1])
    if hi == lo:
        return out
    if hi - lo > _MAX_BYTES:
        return {lit: _row_by_row(array, lit) for lit in literals}
    text = _one_string(array.buffers()[2].slice(lo, hi - lo))
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[lo:hi]
    local = offsets - lo
    if len(literals) > 1 and _one_pass_pays(data, literals):
        marker = next((m for m in _MARKERS if not pc.count_substring_regex(text, f"\\x{{{m:x}}}")[0].as_py()), None)
        if marker is not None:
            _mark_together(out, text, data, local, literals, marker)
            return out
    for lit in literals:
        starts = _single_starts(text, lit)
        row = np.searchsorted(local, starts, side="right") - 1
        out[lit][row] = True
        out[lit] |= _crossed_rows(local, row, starts + len(lit.encode()))
    return out


def _one_pass_pays(data: np.ndarray, literals: list[str]) -> bool:
    """Whether one pass for the alternation is cheaper than one pass per literal.

    RE2 finds a single literal by ``memchr`` on its first byte, so a pass
    costs about ``0.05 + 10 f`` ns per byte of text (``f``: share of bytes
    equal to the literal's first byte, estimated from the first 64 KiB); an
    alternation runs RE2's DFA on every byte and writes a marked copy, about
    3 ns per byte whatever the number of literals (measured with Arrow 26).
    Only speed depends on this choice, never the result.
    """
    sample = np.bincount(data[:1 << 16], minlength=256) / max(1, min(data.size, 1 << 16))
    single = sum(0.05 + 10.0 * float(sample[lit.encode()[0]]) for lit in literals)
    return single > 3.0


def _one_string(buffer: pa.Buffer) -> pa.Array:
    """A one-row ``large_string`` array holding ``buffer`` (the rows' bytes, back to back)."""
    offsets = pa.py_buffer(np.array([0, buffer.size], dtype=np.int64).tobytes())
    return pa.LargeStringArray.from_buffers(1, offsets, buffer)


def _re2_literal(literal: str) -> str:
    return "".join(re2_char(ord(c)) for c in literal)


def _single_starts(text: pa.Array, literal: str) -> np.ndarray:
    """Start of every (non-overlapping, left to right) occurrence of ``literal`` in the one-row ``text``."""
    pieces = pc.split_pattern_regex(text, _re2_literal(literal)).values
    ends = np.frombuffer(pieces.buffers()[1], dtype=np.int64)[pieces.offset:pieces.offset + len(pieces) + 1]
    between = ends[1:-1] - ends[0]  # bytes of text before each occurrence, occurrences excluded
    return between + np.arange(between.size, dtype=np.int64) * len(literal.encode())


def _mark_together(out: dict[str, np.ndarray], text: pa.Array, data: np.ndarray, local: np.ndarray,
                   literals: list[str], marker: int) -> None:
    """Fill ``out`` from one RE2 pass for the alternation of all ``literals`` (``marker`` absent from text)."""
    pattern = "(?:" + "|".join(_re2_literal(lit) for lit in literals) + ")"
    marked = pc.replace_substring_regex(text, pattern, chr(marker) + "\\0")
    size = int(np.frombuffer(marked.buffers()[1], dtype=np.int64)[1])
    where = np.flatnonzero(np.frombuffer(marked.buffers()[2], dtype=np.uint8)[:size] == marker)
    starts = where - np.arange(where.size)  # each earlier marker shifted the text by one byte
    if not starts.size:
        return
    encoded = [lit.encode() for lit in literals]
    hits = _starting_here(data, starts, encoded)  # (n_literals, n_matches)
    row = np.searchsorted(local, starts, side="right") - 1
    lengths = np.array([len(b) for b in encoded], dtype=np.int64)
    consumed = (hits * lengths[:, None]).max(axis=0)  # RE2 took the longest literal starting there
    crossed = _crossed_rows(local, row, starts + consumed)
    for i, lit in enumerate(literals):
        out[lit][row[hits[i]]] = True
        out[lit] |= crossed
    for i, j in _overlaps(tuple(encoded)):  # literal j may hide inside a match of literal i
        out[literals[j]][row[hits[i]]] = True


def _starting_here(data: np.ndarray, starts: np.ndarray, encoded: list[bytes]) -> np.ndarray:
    """``hits[i, t]``: literal i occurs at byte ``starts[t]`` of ``data``."""
    width = max(len(b) for b in encoded)
    padded = np.zeros(data.size + width, dtype=np.uint8)
    padded[:data.size] = data
    hits = np.ones((len(encoded), starts.size), dtype=bool)
    columns: dict[int, np.ndarray] = {}
    for i, lit in enumerate(encoded):
        for k, byte in enumerate(lit):
            if k not in columns:
                columns[k] = padded[starts + k]
            hits[i] &= columns[k] == byte
    return hits


@lru_cache(maxsize=256)
def _overlaps(encoded: tuple[bytes, ...]) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``: literal j can start strictly inside an occurrence of literal i."""
    pairs = []
    for i, a in enumerate(encoded):
        for j, b in enumerate(encoded):
            if i != j and any(a[o:o + len(b)] == b[:len(a) - o] for o in range(1, len(a))):
                pairs.append((i, j))
    return pairs


def _crossed_rows(offsets: np.ndarray, row: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Rows that a match starting in an earlier row runs into (it may hide literals there)."""
    n = offsets.shape[0] - 1
    crossing = np.flatnonzero(ends > offsets[row + 1])
    out = np.zeros(n, dtype=bool)
    if crossing.size:
        first = row[crossing] + 1
        last = np.searchsorted(offsets, ends[crossing] - 1, side="right") - 1
        change = np.zeros(n + 1, dtype=np.int64)
        np.add.at(change, first, 1)
        np.add.at(change, last + 1, -1)
        out = np.cumsum(change[:n]) > 0
    return out


def _row_by_row(array: pa.Array, literal: str) -> np.ndarray:
    found = pc.match_substring_regex(array, _re2_literal(literal))
    return found.fill_null(False).to_numpy(zero_copy_only=False)
