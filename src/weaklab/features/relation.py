"""Texts of relation tasks with the entity pair made visible to a bag-of-words model.

In a relation task (WRENCH's semeval, chemprot, cdr, spouse) an item is a
sentence plus two entity spans, and the labeling functions read what a plain
bag of words over the sentence cannot: the words *between* the two entities,
which entity comes first, and the entities themselves. An end model on
TF-IDF of the sentence alone sees none of that, and loses to the labels it
is trained on. :func:`entity_marked_texts` appends marked tokens for those
views (``btw_caused``, ``e1_first``, ``e1_virus``, ...) so that any word-level
featurizer picks them up.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .._core.validation import fail

__all__ = ["entity_marked_texts", "has_entity_spans"]

_WORD = re.compile(r"\w+")


def has_entity_spans(items: pd.DataFrame, span1: str = "span1", span2: str = "span2") -> bool:
    """True when ``items`` has both span columns (WRENCH's relation format).

    Parameters
    ----------
    items : pandas.DataFrame
        The items.
    span1, span2 : str
        The names of the two span columns.

    Returns
    -------
    bool
        Whether both columns are present.

    Examples
    --------
    >>> has_entity_spans(pd.DataFrame({"text": ["a b"], "span1": [[0, 1]], "span2": [[2, 3]]}))
    True
    """
    return isinstance(items, pd.DataFrame) and span1 in items.columns and span2 in items.columns


def entity_marked_texts(items: pd.DataFrame, *, text: str = "text", span1: str = "span1",
                        span2: str = "span2") -> list[str]:
    """Each item's text followed by marked tokens of its entity pair.

    Parameters
    ----------
    items : pandas.DataFrame
        One row per item with the text column and two character spans
        ``[start, end)`` (lists, tuples or arrays of two integers; WRENCH's
        ``span1`` / ``span2``). Rows whose spans are missing keep their text.
    text, span1, span2 : str
        Column names.

    Returns
    -------
    list of str
        ``text`` plus ``e1_first`` or ``e2_first``, ``btw_<word>`` for each
        word between the two spans, ``btwlen_<0|1|2|3-4|5-8|9+>``, and
        ``e1_<word>`` / ``e2_<word>`` for the words of each entity.

    Raises
    ------
    ValidationError
        A column is missing.

    Examples
    --------
    >>> items = pd.DataFrame({"text": ["Smoking causes cancer ."], "span1": [[0, 7]], "span2": [[15, 21]]})
    >>> entity_marked_texts(items)[0]
    'Smoking causes cancer . e1_first btw_causes btwlen_1 e1_smoking e2_cancer'
    """
    for column in (text, span1, span2):
        if not isinstance(items, pd.DataFrame) or column not in items.columns:
            raise fail("items", f"a DataFrame with column {column!r}", items)
    out = []
    for sentence, s1, s2 in zip(items[text].fillna("").astype(str), items[span1], items[span2]):
        a, b = _span(s1), _span(s2)
        out.append(sentence if a is None or b is None else f"{sentence} {_marks(sentence, a, b)}")
    return out


def _span(value: Any) -> tuple[int, int] | None:
    try:
        start, end = (int(v) for v in value)
    except (TypeError, ValueError):
        return None
    return (start, end) if 0 <= start <= end else None


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _bucket(n: int) -> str:
    return "0" if n == 0 else "1" if n == 1 else "2" if n == 2 else "3-4" if n <= 4 else "5-8" if n <= 8 else "9+"


def _marks(sentence: str, a: tuple[int, int], b: tuple[int, int]) -> str:
    first, second = (a, b) if a[0] <= b[0] else (b, a)
    between = _words(sentence[first[1]:second[0]]) if first[1] <= second[0] else []
    tokens = ["e1_first" if a[0] <= b[0] else "e2_first"]
    tokens += [f"btw_{w}" for w in between] + [f"btwlen_{_bucket(len(between))}"]
    tokens += [f"e1_{w}" for w in _words(sentence[a[0]:a[1]])] + [f"e2_{w}" for w in _words(sentence[b[0]:b[1]])]
    return " ".join(tokens)
