"""Translate Python regular expressions into RE2, exactly, for a known alphabet.

The translation is exact on texts whose characters lie in ASCII plus a given
set of extra characters (the *alphabet* of a batch): every character and
character class becomes the explicit set of alphabet characters that Python's
own ``re`` says it matches (so case folding, ``\\w``, ``\\s`` and flags behave
exactly as in Python). The zero-width constructs RE2 lacks are rewritten only
where that keeps the *existence* of a match unchanged (a look-behind at the
start, a look-ahead or ``$`` at the end). RE2's ``\\b`` is ASCII-only, so a
translation that uses it reports so: rows holding non-ASCII word characters
must then be checked by Python.

Also here: literal prefilters, strings one of which every match contains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

try:  # the parser of the standard library's regex engine (Python >= 3.11)
    from re import _constants as _C  # type: ignore[attr-defined]
    from re import _parser as _P  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - only on unusual Python builds
    _C = _P = None

__all__ = ["Need", "Translation", "required_literals", "to_re2"]

_ASCII = tuple(chr(code) for code in range(128))
_RE2_MAX_REPEAT = 1000
_NEVER = r"[^\x{0}-\x{10FFFF}]"
_CATEGORY_SOURCE = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}
_CLASS_FLAGS = re.IGNORECASE | re.ASCII
_SINGLE = ("LITERAL", "NOT_LITERAL", "IN", "ANY")


class _Untranslatable(Exception):
    """The pattern uses a construct with no exact RE2 equivalent."""


@dataclass(frozen=True)
class Translation:
    """An RE2 pattern and whether it relies on RE2's ASCII-only ``\\b``."""

    pattern: str
    ascii_boundary: bool


def to_re2(pattern: str, flags: int = 0, alphabet: tuple[str, ...] = ()) -> Translation | None:
    """Translate a Python pattern into RE2, exact on texts over ASCII + ``alphabet``.

    Returns ``None`` when the pattern has no exact translation (back
    references, look-arounds in the middle, atomic groups, huge repeats...).
    """
    if _P is None:
        return None
    translator = _Translator(_ASCII + tuple(alphabet))
    try:
        tree = _P.parse(pattern, flags)
        text = translator.sequence(list(tree), tree.state.flags, head=True, tail=True)
    except (_Untranslatable, re.error, RecursionError):
        return None
    return Translation(text, translator.boundary) if _re2_compiles(text) else None


def _re2_compiles(pattern: str) -> bool:
    try:
        pc.match_substring_regex(pa.array(["a"]), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


class _Translator:
    """Walks ``re._parser`` output and emits RE2 text."""

    def __init__(self, chars: tuple[str, ...]) -> None:
        self.chars = chars
        self.boundary = False

    def sequence(self, items: list[Any], flags: int, *, head: bool, tail: bool) -> str:
        last = len(items) - 1
        return "".join(
            self.node(op, av, flags, head=head and i == 0, tail=tail and i == last)
            for i, (op, av) in enumerate(items)
        )

    def node(self, op: Any, av: Any, flags: int, *, head: bool, tail: bool) -> str:
        name = str(op)
        if name == "ANY":
            return "(?s:.)" if flags & re.DOTALL else r"[^\n]"
        if name in _SINGLE:
            return self.char_class(self.mask(op, av, flags))
        if name == "BRANCH":
            alternatives = [self.sequence(list(alt), flags, head=head, tail=tail) for alt in av[1]]
            return "(?:" + "|".join(alternatives) + ")"
        if name == "SUBPATTERN":
            _group, add_flags, del_flags, sub = av
            inner = (flags | add_flags) & ~del_flags
            return "(?:" + self.sequence(list(sub), inner, head=head, tail=tail) + ")"
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            return self.repeat(av, flags, lazy=name == "MIN_REPEAT")
        if name == "AT":
            return self.anchor(str(av), flags, tail=tail)
        if name in ("ASSERT", "ASSERT_NOT"):
            return self.lookaround(av, flags, negative=name == "ASSERT_NOT", head=head, tail=tail)
        raise _Untranslatable(name)

    def repeat(self, av: Any, flags: int, *, lazy: bool) -> str:
        low, high, sub = av
        unbounded = high == _C.MAXREPEAT
        if low > _RE2_MAX_REPEAT or (not unbounded and high > _RE2_MAX_REPEAT):
            raise _Untranslatable("repeat")
        inner = self.sequence(list(sub), flags, head=False, tail=False)
        count = f"{{{low},}}" if unbounded else f"{{{low},{high}}}"
        return f"(?:{inner}){count}" + ("?" if lazy else "")

    def anchor(self, code: str, flags: int, *, tail: bool) -> str:
        multiline = bool(flags & re.MULTILINE)
        simple = {"AT_BEGINNING_STRING": r"\A", "AT_END_STRING": r"\z"}
        if code in simple:
            return simple[code]
        if code in ("AT_BOUNDARY", "AT_NON_BOUNDARY"):
            self.boundary = self.boundary or not flags & re.ASCII
            return r"\b" if code == "AT_BOUNDARY" else r"\B"
        if code == "AT_BEGINNING":
            return "(?m:^)" if multiline else r"\A"
        if code == "AT_END" and multiline:
            return "(?m:$)"
        if code == "AT_END" and tail:  # "$" also matches before a final newline
            return r"(?:\n?\z)"
        raise _Untranslatable(code)

    def lookaround(self, av: Any, flags: int, *, negative: bool, head: bool, tail: bool) -> str:
        direction, sub = av
        items = list(sub)
        behind_at_head = direction < 0 and head
        ahead_at_tail = direction > 0 and tail
        if len(items) != 1 or str(items[0][0]) not in _SINGLE or not (behind_at_head or ahead_at_tail):
            raise _Untranslatable("look-around")
        mask = self.mask(items[0][0], items[0][1], flags)
        if not negative:
            return self.char_class(mask)
        edge = r"\A" if behind_at_head else r"\z"
        return f"(?:{edge}|{self.char_class(tuple(not m for m in mask))})"

    def mask(self, op: Any, av: Any, flags: int) -> tuple[bool, ...]:
        """Which alphabet characters one pattern position matches, as Python decides."""
        name = str(op)
        if name == "ANY":
            return tuple(bool(flags & re.DOTALL) or c != "\n" for c in self.chars)
        if name == "LITERAL":
            source = _escape(av)
        elif name == "NOT_LITERAL":
            source = "[^" + _escape(av) + "]"
        else:
            source = "[" + "".join(_set_item(item_op, item_av) for item_op, item_av in av) + "]"
        return _mask_of(source, flags & _CLASS_FLAGS, self.chars)

    def char_class(self, mask: tuple[bool, ...]) -> str:
        codes = sorted(ord(c) for c, hit in zip(self.chars, mask) if hit)
        if not codes:
            return _NEVER
        if len(codes) == 1:
            return re2_char(codes[0])
        parts = []
        start = prev = codes[0]
        for code in [*codes[1:], -2]:
            if code != prev + 1:
                parts.append(re2_char(start) if start == prev else f"{re2_char(start)}-{re2_char(prev)}")
                start = code
            prev = code
        return "[" + "".join(parts) + "]"


def _set_item(op: Any, av: Any) -> str:
    name = str(op)
    if name == "NEGATE":
        return "^"
    if name == "LITERAL":
        return _escape(av)
    if name == "RANGE":
        return _escape(av[0]) + "-" + _escape(av[1])
    if name == "CATEGORY" and str(av) in _CATEGORY_SOURCE:
        return _CATEGORY_SOURCE[str(av)]
    raise _Untranslatable(name)


def _escape(code: int) -> str:
    return f"\\U{code:08x}"


@lru_cache(maxsize=8192)
def _mask_of(source: str, flags: int, chars: tuple[str, ...]) -> tuple[bool, ...]:
    compiled = re.compile(source, flags)
    return tuple(compiled.fullmatch(c) is not None for c in chars)


def re2_char(code: int) -> str:
    """One code point written safely for RE2."""
    char = chr(code)
    return char if char.isascii() and char.isalnum() else f"\\x{{{code:x}}}"


# ---------------------------------------------------------------------------
# Literal prefilters: strings one of which must occur in every match.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """Every match contains one of ``literals`` (ignoring case as ``re.I`` does, if asked)."""

    literals: frozenset[str]
    ignore_case: bool

    @property
    def strength(self) -> int:
        """Length of the shortest literal."""
        return min(len(lit) for lit in self.literals)


def required_literals(pattern: str, flags: int = 0) -> Need | None:
    """A literal prefilter for the pattern (literals every match contains one of), or ``None``."""
    if _P is None:
        return None
    try:
        tree = _P.parse(pattern, flags)
        need = _sequence_need(list(tree), tree.state.flags)
    except (re.error, RecursionError):
        return None
    return need


def _sequence_need(items: list[Any], flags: int) -> Need | None:
    best: Need | None = None
    run: list[str] = []
    run_ic = False
    for op, av in [*items, (None, None)]:
        ignore_case = bool(flags & re.IGNORECASE)
        if str(op) == "LITERAL" and (av < 128 or not ignore_case):
            if run and run_ic != ignore_case:
                best = _better(best, Need(frozenset(["".join(run)]), run_ic))
                run = []
            run.append(chr(av))
            run_ic = ignore_case
            continue
        if run:
            best = _better(best, Need(frozenset(["".join(run)]), run_ic))
            run = []
        if op is not None:
            best = _better(best, _node_need(str(op), av, flags))
    return best


def _node_need(name: str, av: Any, flags: int) -> Need | None:
    if name == "SUBPATTERN":
        _group, add_flags, del_flags, sub = av
        return _sequence_need(list(sub), (flags | add_flags) & ~del_flags)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
        return _sequence_need(list(av[2]), flags)
    if name == "BRANCH":
        needs = [_sequence_need(list(alt), flags) for alt in av[1]]
        if any(n is None for n in needs):
            return None
        return Need(frozenset().union(*(n.literals for n in needs if n is not None)),
                    any(n.ignore_case for n in needs if n is not None))
    return None


def _better(a: Need | None, b: Need | None) -> Need | None:
    if a is None or b is None:
        return a or b
    key_a, key_b = (a.strength, -len(a.literals)), (b.strength, -len(b.literals))
    return b if key_b > key_a else a
