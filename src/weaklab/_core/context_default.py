"""A default that a ``with`` block can change: what a weaklab project sets while its LF module runs.

Text templates read ``[data].text_field`` and image sources ``[data].image_column`` when built without
``field=`` inside the project's block (:func:`weaklab.labeling.default_text_field`,
:func:`weaklab.features.default_image_field`); both keep their value in a :class:`ContextDefault`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["ContextDefault"]


class ContextDefault:
    """A value that :meth:`using` sets for the length of a ``with`` block (per thread and task), None outside.

    Parameters
    ----------
    name : str
        The context variable's name (for debugging).

    Examples
    --------
    >>> column = ContextDefault("column")
    >>> with column.using("body"):
    ...     inside = column.get()
    >>> inside, column.get()
    ('body', None)
    """

    def __init__(self, name: str) -> None:
        self._var: ContextVar[Any] = ContextVar(name, default=None)

    @contextmanager
    def using(self, value: Any) -> Iterator[Any]:
        """Make ``value`` what :meth:`get` gives inside the block; the value before comes back after it."""
        token = self._var.set(value)
        try:
            yield value
        finally:
            self._var.reset(token)

    def get(self) -> Any:
        """The value set by the innermost :meth:`using` block, or None outside every block."""
        return self._var.get()
