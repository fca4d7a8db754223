"""Which column text templates read when ``field`` is not given: ``"text"``, or the project's text field.

``keyword_lf``, ``regex_lf`` and ``embedding_lf`` default to ``field="text"``.
Inside :func:`default_text_field` (which a weaklab project wraps around
loading its LF module, with ``[data].text_field``), templates built without
an explicit ``field`` read that column instead. An explicit ``field=...``
always wins, and outside the context the default stays ``"text"``. The
column is resolved when the LF is built, so it is part of the LF's
parameters and fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .._core.context_default import ContextDefault
from .._core.validation import fail

__all__ = ["TEXT", "default_text_field", "resolve_text_field"]


class _DefaultText(str):
    """The default of a template's ``field``: equal to ``"text"``, but recognisable as "not given"."""

    __slots__ = ()


#: The value templates use as the default of ``field`` (it equals, and prints as, ``"text"``).
TEXT: str = _DefaultText("text")

_FIELD = ContextDefault("weaklab_default_text_field")


@contextmanager
def default_text_field(field: str) -> Iterator[str]:
    """Make ``field`` the column text templates read when they are built without ``field=``.

    Parameters
    ----------
    field : str
        A column name (a project's ``[data].text_field``).

    Yields
    ------
    str
        ``field``.

    Examples
    --------
    >>> from weaklab.labeling import keyword_lf
    >>> with default_text_field("headline"):
    ...     inside = keyword_lf(["goal"], 1)
    >>> inside.params["field"], keyword_lf(["goal"], 1).params["field"]
    ('headline', 'text')
    """
    if not isinstance(field, str) or not field:
        raise fail("field", "a column name (non-empty string)", field)
    with _FIELD.using(str(field)):
        yield field


def resolve_text_field(field: Any) -> Any:
    """The column a template reads: ``field`` when given, else the context's text field, else ``"text"``.

    Examples
    --------
    >>> resolve_text_field("body"), resolve_text_field(TEXT)
    ('body', 'text')
    """
    if isinstance(field, _DefaultText):
        return _FIELD.get() or "text"
    return field
