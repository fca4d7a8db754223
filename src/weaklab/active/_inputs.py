"""Shared input checks for the active-learning functions (validate once, then compute)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._core import LabelMatrix
from .._core.validation import check_1d, check_int, check_proba, fail
from ..errors import ValidationError

__all__ = [
    "checked_proba",
    "checked_features",
    "checked_scores",
    "checked_mask",
    "checked_indices",
    "pool_size",
    "infer_classes",
]


def checked_proba(name: str, proba: Any, *, n_rows: int | None = None) -> np.ndarray:
    """Probabilities ``(n, k)`` with ``k >= 2`` whose rows sum to 1, as float64."""
    if proba is None:
        raise fail(name, "an (n_items, n_classes) array of probabilities", proba)
    arr = check_proba(name, proba, n_rows=n_rows)
    if arr.shape[1] < 2:
        raise fail(name, "at least 2 columns (one per class)", arr)
    return arr


def checked_features(name: str, X: Any, *, n_rows: int | None = None) -> Any:
    """Features ``(n, d)``: a dense float array or a scipy sparse matrix (CSR), finite values."""
    if X is None:
        raise fail(name, "an (n_items, n_features) array or sparse matrix", X)
    if sp.issparse(X):
        out = sp.csr_matrix(X, dtype=np.float64)
        values = out.data
    else:
        try:
            out = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise fail(name, "a numeric (n_items, n_features) array or sparse matrix", X) from None
        if out.ndim != 2:
            raise fail(name, "a 2-d (n_items, n_features) array or sparse matrix", out)
        values = out
    if n_rows is not None and out.shape[0] != n_rows:
        raise fail(name, f"{n_rows} rows (one per item)", got_text=f"{out.shape[0]} rows")
    if not np.all(np.isfinite(values)):
        raise fail(name, "finite values", got_text="NaN or infinite values")
    return out


def checked_scores(name: str, scores: Any) -> np.ndarray:
    """A 1-d array of finite scores as float64."""
    arr = check_1d(name, scores)
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise fail(name, "real-valued scores", arr)
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise fail(name, "finite scores", got_text=f"{int((~np.isfinite(arr)).sum())} NaN or infinite value(s)")
    return arr


def checked_mask(name: str, mask: Any, n_items: int) -> np.ndarray:
    """A boolean mask of length ``n_items`` (None = all True)."""
    if mask is None:
        return np.ones(n_items, dtype=bool)
    arr = check_1d(name, mask, length=n_items)
    if arr.dtype != np.bool_:
        raise fail(name, f"a boolean mask of length {n_items}", arr)
    return arr


def checked_indices(name: str, indices: Any, n_items: int, *, unique: bool = True) -> np.ndarray:
    """Item indices in ``[0, n_items)`` as int64 (None = none); duplicates rejected when ``unique``."""
    if indices is None:
        return np.zeros(0, dtype=np.int64)
    arr = check_1d(name, indices)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise fail(name, "integer item indices", arr)
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= n_items):
        bad = arr[(arr < 0) | (arr >= n_items)]
        raise fail(name, f"item indices in 0..{n_items - 1}",
                   got_text=f"{bad.size} index(es) out of range, e.g. {int(bad[0])}")
    if unique and np.unique(arr).size != arr.size:
        values, counts = np.unique(arr, return_counts=True)
        raise fail(name, "distinct item indices", got_text=f"item {int(values[counts > 1][0])} more than once")
    return arr


def checked_n(name: str, n: Any, available: int) -> int:
    """A batch size in ``[0, available]``; a larger one names how many items are left."""
    n = check_int(name, n, low=0)
    if n > available:
        raise fail(name, f"at most {available} (the items still available)", n)
    return n


def pool_size(inputs: dict[str, Any], known: int | None) -> int:
    """The common number of items of the inputs (and of the ``known`` pool); a mismatch names every size."""
    sizes = {k: (v.n_items if isinstance(v, LabelMatrix) else _rows(k, v)) for k, v in inputs.items()}
    if not sizes:
        raise fail("select", "at least one of proba, label_proba, L, X, density_scores", got_text="none")
    if known is not None:
        sizes = {"the loop's pool": known, **sizes}
    if len(set(sizes.values())) > 1:
        shown = ", ".join(f"{k}={v}" for k, v in sizes.items())
        raise ValidationError(f"select: expected the same number of items in every input, got {shown}")
    return next(iter(sizes.values()))


def infer_classes(inputs: dict[str, Any], known: int | None) -> int | None:
    """The number of classes the inputs carry (``proba``, ``label_proba``, a LabelMatrix), if any."""
    found: dict[str, int] = {k: int(np.shape(inputs[k])[1]) for k in ("proba", "label_proba") if k in inputs}
    if isinstance(inputs.get("L"), LabelMatrix):
        found["L"] = inputs["L"].n_classes
    if known is not None:
        found = {"n_classes": known, **found}
    if len(set(found.values())) > 1:
        shown = ", ".join(f"{k}: {v}" for k, v in found.items())
        raise ValidationError(f"select: expected the same number of classes in every input, got {shown}")
    return next(iter(found.values()), None)


def _rows(name: str, value: Any) -> int:
    shape = np.shape(value) if not hasattr(value, "shape") else value.shape
    if len(shape) == 0:
        raise fail(name, "an array with one row per item", value)
    return int(shape[0])
