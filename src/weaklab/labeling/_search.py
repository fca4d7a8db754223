"""Fast text search with Python ``re.search`` semantics over a column of text.

A batch's text becomes one Arrow column plus the set of non-ASCII characters
it holds (its alphabet). A pattern is translated into RE2 for that alphabet
(:mod:`._re2`), so RE2 scans the column as one operation and its answer is
exactly Python's; rows it cannot vouch for (empty strings, rows with non-ASCII
word characters when the pattern uses ``\\b``, anything untranslatable) are
checked by Python's ``re``. A literal prefilter narrows the rows first where
the pattern has one; the prefilters of all the labeling functions of a batch
are answered together, in one pass per column (:mod:`._literals`). The result
always equals ``[re.search(p, s, flags) is not None for s in texts]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._literals import LiteralIndex
from ._re2 import Translation, re2_char, required_literals, to_re2

__all__ = ["LiteralFinder", "TextColumn", "TextSearch", "text_column"]

LiteralFinder = Callable[[bool, frozenset[str]], np.ndarray]
"""``find(lowered, literals)``: rows of the (lower-cased if ``lowered``) column that may hold a literal."""

_MAX_ALPHABET = 1000
_FINAL_SIGMA = "\u03a3"  # str.lower() lower-cases it by context


@dataclass
class TextColumn:
    """A column of text prepared for searching.

    Attributes
    ----------
    array : pyarrow.Array or None
        The text as ``large_string`` (``None`` when it cannot be UTF-8 encoded;
        then every row is searched by Python from ``values``).
    valid : numpy.ndarray of bool
        Rows that are not missing.
    ascii : numpy.ndarray of bool
        Non-empty ASCII rows.
    covered : numpy.ndarray of bool
        Non-empty rows whose characters all lie in ASCII + ``alphabet``.
    alphabet : tuple of str
        Non-ASCII characters that translations cover.
    present : numpy.ndarray of int
        Every non-ASCII code point in the column.
    """

    array: pa.Array | None
    valid: np.ndarray
    ascii: np.ndarray
    covered: np.ndarray
    alphabet: tuple[str, ...]
    present: np.ndarray
    values: list[Any] | None = None
    _word_rows: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.valid.size

    def values_at(self, rows: np.ndarray) -> list[str]:
        """The text of the given rows (positions), as Python strings."""
        if self.array is None:
            values = cast(list[Any], self.values)  # python-only columns always keep their values
            return [values[i] for i in rows]
        return self.array.take(pa.array(rows)).to_pylist()

    def word_rows(self) -> np.ndarray:
        """Rows holding a non-ASCII word character (where RE2's ``\\b`` differs)."""
        if self._word_rows is None:
            words = [ord(c) for c in self.alphabet if re.fullmatch(r"\w", c)]
            self._word_rows = (
                regex_mask(self.array, _class_of(words)) if words and self.array is not None
                else np.zeros(len(self), dtype=bool)
            )
        return self._word_rows

    def lower(self) -> TextColumn:
        """The same column lower-cased exactly as ``str.lower`` does."""
        if self.array is None:
            values = cast(list[Any], self.values)
            return _python_column([v.lower() if isinstance(v, str) else v for v in values])
        if not self.present.size:  # ASCII only: str.lower changes A-Z alone, as ascii_lower does
            return _arrow_column(pc.ascii_lower(self.array))
        lowered = pc.utf8_lower(self.array)
        unsafe = _unsafe_lower_codes(self.present)
        if unsafe:
            rows = regex_mask(self.array, _class_of(unsafe)) & self.valid
            fixed = [text.lower() for text in self.values_at(np.flatnonzero(rows))]
            lowered = pc.replace_with_mask(lowered, pa.array(rows), pa.array(fixed, pa.large_string()))
        return _arrow_column(lowered)


def text_column(values: Any) -> TextColumn:
    """Build a :class:`TextColumn` from a pandas Series or sequence of str/None.

    Raises
    ------
    TypeError
        When a value is neither a string nor missing.
    """
    try:
        array = _as_large_string(values)
    except UnicodeEncodeError:  # lone surrogates: Python-only search
        items = list(values)
        if not all(v is None or isinstance(v, str) or v != v for v in items):
            raise TypeError("expected text or missing values") from None
        return _python_column([v if isinstance(v, str) else None for v in items])
    return _arrow_column(array)


def _arrow_column(array: pa.Array) -> TextColumn:
    valid = ~pc.is_null(array).to_numpy(zero_copy_only=False)
    nonempty = pc.greater(pc.binary_length(array), 0).fill_null(False).to_numpy(zero_copy_only=False)
    ascii_rows = pc.string_is_ascii(array).fill_null(False).to_numpy(zero_copy_only=False) & nonempty
    present = _non_ascii_codes(array)
    if present.size <= _MAX_ALPHABET:
        alphabet = tuple(chr(c) for c in present)
        covered = nonempty & valid
    else:
        alphabet, covered = (), ascii_rows
    return TextColumn(array, valid, ascii_rows, covered, alphabet, present)


def _python_column(values: list[Any]) -> TextColumn:
    valid = np.array([v is not None for v in values], dtype=bool)
    nothing = np.zeros(len(values), dtype=bool)
    return TextColumn(None, valid, nothing, nothing, (), np.zeros(0, dtype=np.int64), values=values)


def _as_large_string(values: Any) -> pa.Array:
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise TypeError(f"expected text or missing values ({exc})") from None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), pa.large_string())
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        raise TypeError(f"expected text or missing values, got values of type {array.type}")
    return array.cast(pa.large_string())


def _non_ascii_codes(array: pa.Array) -> np.ndarray:
    """Sorted non-ASCII code points in a ``large_string`` array (decoded from its UTF-8 bytes)."""
    buffers = array.buffers()
    if len(array) == 0 or buffers[2] is None:
        return np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[array.offset:array.offset + len(array) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    lead = np.flatnonzero(data >= 0xC0)
    if not lead.size:
        return np.zeros(0, dtype=np.int64)
    last = data.size - 1
    b0 = data[lead].astype(np.int64)
    b1, b2, b3 = (data[np.minimum(lead + k, last)].astype(np.int64) & 0x3F for k in (1, 2, 3))
    codes = np.where(
        b0 >= 0xF0, ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3,
        np.where(b0 >= 0xE0, ((b0 & 0x0F) << 12) | (b1 << 6) | b2, ((b0 & 0x1F) << 6) | b1),
    )
    seen = np.zeros(0x110000, dtype=bool)
    seen[np.minimum(codes, 0x10FFFF)] = True
    seen[0xD800:0xE000] = False  # never valid UTF-8
    return np.flatnonzero(seen)


def _unsafe_lower_codes(present: np.ndarray) -> list[int]:
    """Code points whose Arrow lower-casing differs from Python's ``str.lower``."""
    if not present.size:
        return []
    chars = [chr(c) for c in present]
    arrow = pc.utf8_lower(pa.array(chars, pa.large_string())).to_pylist()
    return [ord(c) for c, low in zip(chars, arrow) if low != c.lower() or c == _FINAL_SIGMA]


def _class_of(codes: list[int]) -> str:
    return "[" + "".join(re2_char(c) for c in codes) + "]"


def regex_mask(array: pa.Array, pattern: str) -> np.ndarray:
    """RE2 search over an Arrow column: bool per row, missing -> False."""
    found = pc.match_substring_regex(array, pattern)
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def _scan(array: pa.Array, rows: np.ndarray, pattern: str) -> np.ndarray:
    if rows.size * 2 > len(array):
        return regex_mask(array, pattern)[rows]
    return regex_mask(array.take(pa.array(rows)), pattern)


class TextSearch:
    """One compiled pattern: ``search(column)`` is ``re.search(...) is not None`` per row.

    Parameters
    ----------
    pattern : str
        A Python regular expression.
    flags : int, default=0
        ``re`` flags.
    """

    _USELESS_PASS_RATE = 0.6

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.compiled = re.compile(pattern, flags)
        self.need = required_literals(pattern, flags)
        # Every literal need is a prefilter: the literals of a batch's searches are found in one shared
        # pass, so even a short one costs little; it is switched off once it lets most rows through.
        self.prefilter_on = self.need is not None
        self._translations: dict[tuple[str, ...], Translation | None] = {}

    def prefilter_literals(self) -> tuple[bool, frozenset[str]] | None:
        """``(on lower-cased text, literals)`` the prefilter looks for, or None when it is off."""
        need = self.need
        if need is None or not self.prefilter_on:
            return None
        if need.ignore_case:
            return True, frozenset(lit.lower() for lit in need.literals)
        return False, need.literals

    def translation(self, alphabet: tuple[str, ...]) -> Translation | None:
        """The RE2 translation exact over ASCII + ``alphabet`` (cached)."""
        if alphabet not in self._translations:
            if len(self._translations) >= 8:
                self._translations.clear()
            self._translations[alphabet] = to_re2(self.compiled.pattern, self.compiled.flags, alphabet)
        return self._translations[alphabet]

    def search(self, column: TextColumn, lowered: Callable[[], TextColumn] | None = None,
               find: LiteralFinder | None = None) -> np.ndarray:
        """Return a bool array: does the pattern occur in each row (missing -> False).

        ``lowered`` gives the column lower-cased (shared per batch); it lets a
        case-insensitive pattern use a literal prefilter. ``find`` answers
        the prefilter from a batch's shared :class:`LiteralIndex` (called
        with ``lowered=True`` for the lower-cased column, else for
        ``column`` itself); without it the prefilter runs on its own.
        """
        hits = np.zeros(len(column), dtype=bool)
        translation = self.translation(column.alphabet) if column.array is not None else None
        fast = np.zeros(len(column), dtype=bool)
        if translation is not None:
            fast = column.covered & ~column.word_rows() if translation.ascii_boundary else column.covered
        maybe = self._prefilter(column, lowered, find)
        rows = np.flatnonzero(fast & maybe)
        if rows.size and translation is not None and column.array is not None:
            hits[rows] = _scan(column.array, rows, translation.pattern)
        slow = np.flatnonzero(column.valid & ~fast & maybe)
        if slow.size:
            hits[slow] = self._python(column.values_at(slow))
        return hits

    def _prefilter(self, column: TextColumn, lowered: Callable[[], TextColumn] | None,
                   find: LiteralFinder | None) -> np.ndarray:
        """Rows that may match (``False`` only where the literal prefilter rules a row out)."""
        wanted = self.prefilter_literals()
        if wanted is None or column.array is None:
            return column.valid
        on_lower, literals = wanted
        if on_lower:  # on lower-cased text; exact on ASCII rows only
            if lowered is None:
                return column.valid
            maybe = ~column.ascii
        else:
            maybe = np.zeros(len(column), dtype=bool)
        if find is None:
            target = lowered().array if on_lower and lowered is not None else column.array
            if target is None:
                return column.valid
            maybe |= LiteralIndex(target).rows(literals)
        else:
            maybe |= find(on_lower, literals)
        if len(column) >= 1000 and maybe.mean() > self._USELESS_PASS_RATE:
            self.prefilter_on = False
        return maybe & column.valid

    def _python(self, values: list[str]) -> list[bool]:
        find = self.compiled.search
        if self.need is None or self.need.ignore_case:
            return [find(text) is not None for text in values]
        literals = tuple(self.need.literals)
        return [any(lit in text for lit in literals) and find(text) is not None for text in values]
