"""Turn the labels an end model is fitted on into one ``(n, k)`` target matrix.

End models accept soft labels ``(n, k)`` (rows summing to 1) or hard labels
``(n,)``. Both become a float matrix of per-class probabilities in which an
*unlabelled* row is all-NaN: a soft row that is all NaN, or a hard label that
is NaN, ``None`` or ``-1`` (weaklab's ``ABSTAIN``) when labels are numeric.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

from .._core import MultiLabelSoftLabels
from .._core.constants import TINY
from .._core.validation import check_proba, describe, fail
from ..errors import NotFittedError

__all__ = [
    "encode_targets",
    "as_weights",
    "n_rows",
    "take_rows",
    "check_fitted",
    "require_y",
    "EndModelNotFittedError",
]


def encode_targets(y: Any, n: int, *, name: str = "y", classes: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Encode soft or hard labels as probabilities with NaN rows for unlabelled items.

    Parameters
    ----------
    y : array-like of shape (n, k) or (n,), or SoftLabels
        Soft labels (rows summing to 1; an all-NaN row is unlabelled) or hard
        class labels (NaN, None or -1 is unlabelled).
    n : int
        Expected number of rows.
    name : str, default="y"
        Parameter name used in error messages.
    classes : array-like of shape (k,), optional
        The known classes, in column order. Default: ``0..k-1`` for soft labels,
        the sorted distinct labels for hard labels.

    Returns
    -------
    proba : ndarray of shape (n, k)
        Float targets; unlabelled rows are NaN.
    classes : ndarray of shape (k,)
    """
    if isinstance(y, MultiLabelSoftLabels):
        raise fail(name, "single-label targets (multi-label soft labels train MultiLabelTorchClassifier or "
                   "MultiLabelSoftClassifier)", y)
    if hasattr(y, "proba") and hasattr(y, "n_classes"):  # a SoftLabels container
        y = y.proba
    arr = np.asarray(y)
    if arr.ndim == 2:
        return _encode_soft(arr, n, name, classes)
    if arr.ndim == 1:
        return _encode_hard(arr, n, name, classes)
    raise fail(name, "soft labels of shape (n_items, n_classes) or hard labels of shape (n_items,)", arr)


def _encode_soft(arr: np.ndarray, n: int, name: str, classes: Any) -> tuple[np.ndarray, np.ndarray]:
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise fail(name, "real-valued soft labels", arr)
    if arr.shape[0] != n:
        raise fail(name, f"{n} rows (one per row of X)", got_text=f"{arr.shape[0]} rows")
    proba = arr.astype(np.float64)
    nan = np.isnan(proba)
    partial = nan.any(axis=1) & ~nan.all(axis=1)
    if partial.any():
        row = int(np.flatnonzero(partial)[0])
        raise fail(
            name,
            "rows that are either all NaN (unlabelled) or finite probabilities",
            got_text=f"{int(partial.sum())} partly-NaN row(s), e.g. row {row}",
        )
    labelled = ~nan.all(axis=1)
    check_proba(f"{name} (labelled rows)", proba[labelled])
    k = proba.shape[1]
    out_classes = np.arange(k) if classes is None else _check_classes(classes, k)
    if k < 2:
        raise fail(name, "at least 2 classes (columns)", got_text=f"{k} column(s)")
    return proba, out_classes


def _unknown_mask(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind == "f":
        return np.isnan(arr) | (arr == -1)
    if arr.dtype.kind in "iu":
        return arr == -1
    if arr.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in arr], dtype=bool)
    return np.zeros(arr.shape, dtype=bool)


def _encode_hard(arr: np.ndarray, n: int, name: str, classes: Any) -> tuple[np.ndarray, np.ndarray]:
    if arr.shape[0] != n:
        raise fail(name, f"{n} labels (one per row of X)", got_text=f"{arr.shape[0]} labels")
    unknown = _unknown_mask(arr)
    known = arr[~unknown]
    if arr.dtype.kind == "f" and known.size and not np.all(np.isfinite(known) & (known == np.round(known))):
        raise fail(
            name,
            "class labels (integers or strings); continuous targets are not classes",
            got_text=f"values such as {known[~(known == np.round(known))][:1].tolist() or 'inf'}",
        )
    if arr.dtype.kind == "f":
        known = known.astype(np.int64)
    if arr.dtype.kind == "O":
        kinds = {type(v) for v in known}
        if len(kinds) > 1:
            raise fail(
                name,
                "labels of one type",
                got_text="a mix of " + ", ".join(sorted(t.__name__ for t in kinds)),
            )
    found = np.unique(known)
    out_classes = found if classes is None else _check_classes(classes, None)
    if classes is not None:
        missing = ~np.isin(found, out_classes)
        if missing.any():
            raise fail(
                name, f"labels among classes {out_classes.tolist()}", got_text=f"label {found[missing][0]!r}"
            )
    if out_classes.size < 2:
        raise fail(
            name,
            "labels of at least 2 classes",
            got_text=f"{out_classes.size} class(es) {out_classes.tolist()}",
        )
    proba = np.full((n, out_classes.size), np.nan)
    proba[~unknown] = 0.0
    sorter = np.argsort(out_classes, kind="stable")
    columns = sorter[np.searchsorted(out_classes, known, sorter=sorter)]
    proba[np.flatnonzero(~unknown), columns] = 1.0
    return proba, out_classes


def _check_classes(classes: Any, k: int | None) -> np.ndarray:
    arr = np.asarray(classes)
    if arr.ndim != 1 or (k is not None and arr.shape[0] != k) or np.unique(arr).size != arr.size:
        expected = "distinct classes" + ("" if k is None else f", one per column ({k})")
        raise fail("classes", expected, arr)
    return arr


def as_weights(sample_weight: Any, n: int, name: str = "sample_weight") -> np.ndarray:
    """Return ``(n,)`` finite non-negative weights (ones when ``None``)."""
    if sample_weight is None:
        return np.ones(n)
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail(name, f"{n} finite non-negative weights", sample_weight) from None
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise fail(name, f"{n} finite non-negative weights", got_text=describe(w))
    if n and not np.any(w > 0):
        raise fail(name, "at least one positive weight", got_text="all weights zero")
    return w


def n_rows(X: Any) -> int:
    """Number of rows of an array, sparse matrix, DataFrame or list."""
    shape = getattr(X, "shape", None)
    if shape is not None:
        return int(shape[0])
    return len(X) if hasattr(X, "__len__") else int(np.asarray(X).shape[0])


def take_rows(X: Any, rows: np.ndarray) -> Any:
    """Rows ``rows`` of an array, sparse matrix, DataFrame or list."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if sp.issparse(X):
        return X.tocsr()[rows]
    if isinstance(X, np.ndarray):
        return X[rows]
    if isinstance(X, list):
        return [X[i] for i in rows]
    return np.asarray(X)[rows]


class EndModelNotFittedError(NotFittedError, SklearnNotFittedError):
    """Raised by an end model used before ``fit``; both weaklab's and scikit-learn's error."""


def check_fitted(estimator: Any, attribute: str) -> None:
    """Raise :class:`~weaklab.errors.NotFittedError` unless ``estimator`` has ``attribute``."""
    if not hasattr(estimator, attribute):
        raise EndModelNotFittedError(
            f"{type(estimator).__name__} is not fitted yet; call fit(X, y) before using it"
        )


def require_y(y: Any, estimator: Any) -> None:
    """Fail clearly when ``y`` is ``None``."""
    if y is None:
        raise fail(
            "y",
            "soft labels (n, k) or hard labels (n,)",
            got_text=f"None ({type(estimator).__name__} requires y to be passed, but the target y is None)",
        )


def accuracy_score_soft(proba: np.ndarray, y: Any, classes: np.ndarray, sample_weight: Any = None) -> float:
    """Weighted accuracy of predicted ``proba`` ``(n, k)`` against hard or soft labels.

    Soft labels count by their argmax; unlabelled rows are ignored.
    """
    target, _ = encode_targets(y, proba.shape[0], classes=classes)
    labelled = ~np.isnan(target[:, 0])
    hit = np.argmax(proba, axis=1) == np.argmax(np.nan_to_num(target), axis=1)
    w = as_weights(sample_weight, hit.shape[0]) * labelled
    return float(np.sum(hit * w) / max(float(np.sum(w)), TINY))


class ProbaClassifierMixin:
    """``predict_log_proba``, ``predict`` and ``score`` derived from ``predict_proba``.

    For end models whose ``classes_`` lists the class of each probability column.
    """

    classes_: np.ndarray

    def predict_proba(self, X: Any) -> np.ndarray:  # pragma: no cover - provided by the estimator
        raise NotImplementedError

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba` ``(n, k)``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row, ``(n,)`` values of ``classes_``."""
        proba = self.predict_proba(X)  # checks fitting before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy against hard labels ``(n,)`` or the argmax of soft labels ``(n, k)``."""
        proba = self.predict_proba(X)
        return accuracy_score_soft(proba, y, self.classes_, sample_weight)
