"""Coercing user inputs into the core containers."""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from .label_matrix import LabelMatrix
from .validation import check_int, fail

__all__ = ["as_label_matrix"]


def as_label_matrix(L: Any, n_classes: int | None = None, *, name: str = "L") -> LabelMatrix:
    """Return ``L`` as a :class:`LabelMatrix`.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n, m)
        Votes; ``-1`` = abstain.
    n_classes : int, optional
        Number of classes. Required for a raw array whose classes cannot be
        inferred; must agree with a LabelMatrix's own ``n_classes`` (a larger
        value widens it).
    name : str
        Parameter name used in error messages.
    """
    if isinstance(L, LabelMatrix):
        if n_classes is not None:
            k = check_int("n_classes", n_classes, low=2)
            if k < L.n_classes:
                raise fail("n_classes", f"at least {L.n_classes} (the matrix's n_classes)", k)
            if k > L.n_classes:
                return L.replace(n_classes=k)
        return L
    if L is None:
        raise fail(name, "a LabelMatrix or an (n_items, n_sources) array of votes", L)
    try:
        return LabelMatrix(L, n_classes=n_classes)
    except ValidationError as exc:
        message = str(exc)
        if message.startswith("votes:"):
            message = name + message[len("votes"):]
        raise ValidationError(message) from None
