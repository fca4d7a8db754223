"""Conversions between spans and tag sequences (BIO / IOB2 and IO).

A *span* is a tuple ``(start, end_exclusive, type)`` of token positions in one
sentence. A *tag* is a string: ``"O"``, ``"B-<type>"`` or ``"I-<type>"``
(BIO, also called IOB2) or ``"O"`` / ``"I-<type>"`` (IO). Conversions from tags
are lenient the way seqeval's default mode is: an ``I-`` tag that does not
continue a span of its own type starts a new one, so every non-``O`` tag lands
in exactly one span.

IO cannot separate two adjacent spans of the same type: they merge into one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np

from .._core.validation import fail

__all__ = [
    "Span",
    "tags_to_spans",
    "spans_to_tags",
    "bio_to_io",
    "io_to_bio",
    "merge_adjacent",
    "check_spans",
    "io_ids_to_spans",
]

Span = tuple[int, int, str]
"""``(start, end_exclusive, type)`` token positions of one sentence."""

_SCHEMES = ("bio", "io")


def _split_tag(tag: str, name: str) -> tuple[str, str]:
    if tag == "O":
        return "O", ""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BI":
        return tag[0], tag[2:]
    raise fail(name, "tags 'O', 'B-<type>' or 'I-<type>'", tag)


def tags_to_spans(tags: Sequence[str], *, name: str = "tags") -> list[Span]:
    """Spans of a BIO or IO tag sequence.

    ``B-t`` always starts a span; ``I-t`` continues the span before it when
    that span has type ``t`` and ends right there, and starts a new one
    otherwise (lenient decoding, as seqeval's default mode).

    Parameters
    ----------
    tags : sequence of str
        One tag per token.
    name : str, default "tags"
        Parameter name used in error messages.

    Returns
    -------
    list of (int, int, str)
        Spans in order of their start.

    Examples
    --------
    >>> tags_to_spans(["B-Dis", "I-Dis", "O", "I-Chem", "B-Chem"])
    [(0, 2, 'Dis'), (3, 4, 'Chem'), (4, 5, 'Chem')]
    """
    spans: list[Span] = []
    start, current = -1, ""
    for i, tag in enumerate(tags):
        prefix, typ = _split_tag(tag, name)
        if prefix == "I" and typ == current:
            continue
        if current:
            spans.append((start, i, current))
        start, current = (i, typ) if prefix != "O" else (-1, "")
    if current:
        spans.append((start, len(tags), current))
    return spans


def check_spans(spans: Iterable[Sequence[object]], length: int, *, name: str = "spans") -> list[Span]:
    """Validate spans of a sentence of ``length`` tokens and return them as sorted tuples.

    Spans must lie inside ``[0, length]``, be non-empty, carry a string type
    and not overlap one another.

    Parameters
    ----------
    spans : iterable of (int, int, str)
        Candidate spans.
    length : int
        Number of tokens in the sentence.
    name : str, default "spans"
        Parameter name used in error messages.

    Returns
    -------
    list of (int, int, str)

    Examples
    --------
    >>> check_spans([[2, 3, "Dis"], (0, 1, "Chem")], 4)
    [(0, 1, 'Chem'), (2, 3, 'Dis')]
    """
    out: list[Span] = []
    for span in spans:
        if len(span) != 3 or not isinstance(span[2], str):
            raise fail(name, "spans (start, end_exclusive, type) with a str type", span)
        start, end = int(span[0]), int(span[1])  # type: ignore[call-overload]
        if not 0 <= start < end <= length:
            raise fail(name, f"0 <= start < end <= {length} (the sentence length)", got_text=repr(tuple(span)))
        out.append((start, end, span[2]))
    out.sort()
    for (_, end, _t), nxt in itertools.pairwise(out):
        if nxt[0] < end:
            raise fail(name, "spans that do not overlap", got_text=f"{out} (overlap at {nxt})")
    return out


def spans_to_tags(spans: Iterable[Sequence[object]], length: int, *, scheme: str = "bio") -> list[str]:
    """Tags of a sentence of ``length`` tokens holding ``spans``.

    Parameters
    ----------
    spans : iterable of (int, int, str)
        Non-overlapping spans.
    length : int
        Number of tokens.
    scheme : {"bio", "io"}, default "bio"
        ``"bio"`` puts ``B-`` on the first token of each span; ``"io"`` uses
        ``I-`` throughout (adjacent spans of one type then read back as one).

    Returns
    -------
    list of str

    Examples
    --------
    >>> spans_to_tags([(1, 3, "Dis")], 4)
    ['O', 'B-Dis', 'I-Dis', 'O']
    >>> spans_to_tags([(1, 3, "Dis")], 4, scheme="io")
    ['O', 'I-Dis', 'I-Dis', 'O']
    """
    if scheme not in _SCHEMES:
        raise fail("scheme", "'bio' or 'io'", scheme)
    tags = ["O"] * length
    for start, end, typ in check_spans(spans, length):
        tags[start:end] = ["I-" + typ] * (end - start)
        if scheme == "bio":
            tags[start] = "B-" + typ
    return tags


def bio_to_io(tags: Sequence[str]) -> list[str]:
    """Replace every ``B-`` by ``I-``.

    Parameters
    ----------
    tags : sequence of str
        BIO tags (``B-Type``, ``I-Type``, ``O``).

    Returns
    -------
    list of str
        IO tags (``I-Type``, ``O``).

    Examples
    --------
    >>> bio_to_io(["B-Dis", "I-Dis", "O"])
    ['I-Dis', 'I-Dis', 'O']
    """
    return [("I" + tag[1:]) if tag.startswith("B-") else _checked(tag) for tag in tags]


def _checked(tag: str) -> str:
    _split_tag(tag, "tags")
    return tag


def io_to_bio(tags: Sequence[str]) -> list[str]:
    """BIO tags of an IO sequence: a run of one type becomes one span.

    Parameters
    ----------
    tags : sequence of str
        IO tags (``I-Type``, ``O``).

    Returns
    -------
    list of str
        BIO tags: a span starts with ``B-``.

    Examples
    --------
    >>> io_to_bio(["I-Dis", "I-Dis", "O", "I-Chem"])
    ['B-Dis', 'I-Dis', 'O', 'B-Chem']
    """
    return spans_to_tags(merge_adjacent(tags_to_spans(tags)), len(tags))


def merge_adjacent(spans: Iterable[Span]) -> list[Span]:
    """Merge spans of one type that touch (what an IO round trip does).

    Parameters
    ----------
    spans : iterable of (start, end_exclusive, type)
        Spans of one item.

    Returns
    -------
    list of (start, end_exclusive, type)
        Sorted; touching spans of one type merged.

    Examples
    --------
    >>> merge_adjacent([(0, 2, "Dis"), (2, 3, "Dis"), (3, 4, "Chem")])
    [(0, 3, 'Dis'), (3, 4, 'Chem')]
    """
    out: list[Span] = []
    for span in sorted(spans):
        if out and out[-1][1] == span[0] and out[-1][2] == span[2]:
            out[-1] = (out[-1][0], span[1], span[2])
        else:
            out.append(span)
    return out


def io_ids_to_spans(ids: np.ndarray, offsets: np.ndarray, entity_types: tuple[str, ...]) -> list[list[Span]]:
    """Spans per sentence of flat IO ids (a run of one type is one span).

    Parameters
    ----------
    ids : ndarray of shape (n_tokens,)
        ``0`` = O, ``t + 1`` = type ``t``.
    offsets : ndarray of shape (n_sentences + 1,)
        Sentence boundaries in flat token positions.
    entity_types : tuple of str

    Returns
    -------
    list of list of (int, int, str)

    Examples
    --------
    >>> io_ids_to_spans(np.array([1, 1, 0, 2, 2]), np.array([0, 4, 5]), ("A", "B"))
    [[(0, 2, 'A'), (3, 4, 'B')], [(0, 1, 'B')]]
    """
    ids = np.asarray(ids)
    n = len(ids)
    first = np.zeros(n, dtype=bool)
    first[offsets[:-1][offsets[:-1] < n]] = True
    prev = np.concatenate([[0], ids[:-1]])
    starts = np.flatnonzero((ids > 0) & (first | (prev != ids)))
    nxt_first = np.zeros(n, dtype=bool)
    nxt_first[(offsets[1:] - 1)[offsets[1:] > 0]] = True
    nxt = np.concatenate([ids[1:], [0]])
    ends = np.flatnonzero((ids > 0) & (nxt_first | (nxt != ids))) + 1
    sent = np.searchsorted(offsets, starts, side="right") - 1
    out: list[list[Span]] = [[] for _ in range(len(offsets) - 1)]
    for s, e, i in zip(starts.tolist(), ends.tolist(), sent.tolist()):
        base = int(offsets[i])
        out[i].append((s - base, e - base, entity_types[int(ids[s]) - 1]))
    return out
