"""Shared input checks for the evaluation functions (validate once, then compute)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.validation import check_1d, check_int, check_labels, check_proba, fail

__all__ = ["n_classes_of", "checked_pair", "checked_proba_pair", "as_predictions"]


def n_classes_of(n_classes: Any, *arrays: np.ndarray) -> int:
    """``n_classes`` if given (checked), else one more than the largest class id seen (at least 2)."""
    if n_classes is not None:
        return check_int("n_classes", n_classes, low=2)
    top = max((int(a.max()) for a in arrays if a.size), default=1)
    return max(2, top + 1)


def _int_ids(name: str, values: Any) -> np.ndarray:
    arr = check_1d(name, values)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        whole = np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr))
        if whole and np.all(arr == np.round(arr)):
            return arr.astype(np.int64)
        raise fail(name, "integer class ids", arr)
    return arr.astype(np.int64, copy=False)


def checked_pair(
    y_true: Any, y_pred: Any, n_classes: Any = None, *, pred_name: str = "y_pred"
) -> tuple[np.ndarray, np.ndarray, int]:
    """Gold labels ``(n,)`` in ``[0, k)`` and predictions ``(n,)`` in ``[-1, k)`` (``-1`` = abstain)."""
    t = _int_ids("y_true", y_true)
    p = _int_ids(pred_name, y_pred)
    if p.shape[0] != t.shape[0]:
        raise fail(pred_name, f"length {t.shape[0]} (as y_true)", got_text=f"length {p.shape[0]}")
    if t.shape[0] == 0:
        raise fail("y_true", "at least one item", t)
    k = n_classes_of(n_classes, t, p)
    t = check_labels("y_true", t, k)
    p = check_labels(pred_name, p, k, allow_abstain=True)
    return t, p, k


def checked_proba_pair(proba: Any, y_true: Any) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities ``(n, k)`` (rows sum to 1) and gold labels ``(n,)`` in ``[0, k)``."""
    if np.ndim(proba) == 1 and np.ndim(y_true) == 2:
        raise fail("proba", "an (n, k) array of probabilities as the first argument: probability metrics take "
                   "(proba, y_true)", got_text=f"a 1-d array as proba and a {np.shape(y_true)} array as y_true "
                   "(arguments swapped?)")
    p = check_proba("proba", proba)
    if p.shape[0] == 0:
        raise fail("proba", "at least one row", p)
    if p.shape[1] < 2:
        raise fail("proba", "at least 2 columns (one per class)", p)
    t = check_labels("y_true", y_true, p.shape[1], length=p.shape[0])
    return p, t


def as_predictions(proba_or_pred: Any, n_items: int, n_classes: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Hard predictions (argmax of probabilities, first class on ties) and the probabilities, if given."""
    arr = np.asarray(proba_or_pred)
    if arr.ndim == 2:
        proba = check_proba("proba_or_pred", arr, n_classes=n_classes, n_rows=n_items)
        return proba.argmax(axis=1).astype(np.int64), proba
    pred = check_labels("proba_or_pred", arr, n_classes, length=n_items, allow_abstain=True)
    return pred, None

