"""Train any scikit-learn estimator on soft (probabilistic) labels."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from .._core.validation import check_float, check_labels, check_proba, fail

__all__ = ["SoftLabelClassifier"]


class SoftLabelClassifier(ClassifierMixin, BaseEstimator):
    """Fit a classifier that accepts ``sample_weight`` on soft labels.

    Each item is expanded into one weighted copy per class whose probability
    is at least ``min_proba``; the copy's weight is that probability (times
    the item's ``sample_weight``, times its confidence when
    ``confidence_weighting`` is on). With one-hot labels this is plain
    training on hard labels.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Any classifier whose ``fit`` accepts ``sample_weight``; it is cloned.
    min_proba : float, default=0.0
        Drop expanded copies whose class probability is below this value
        (0 keeps every class with positive probability).
    confidence_threshold : float, default=0.0
        Items whose largest class probability is below this value are not
        used for training.
    confidence_weighting : bool, default=False
        Multiply each item's weight by its largest class probability.

    Attributes
    ----------
    estimator_ : fitted clone of ``estimator``
    classes_ : ndarray of shape (k,)
        ``0..k-1``.
    n_train_items_ : int
        Items that took part in training.
    """

    def __init__(
        self,
        estimator: Any,
        *,
        min_proba: float = 0.0,
        confidence_threshold: float = 0.0,
        confidence_weighting: bool = False,
    ) -> None:
        self.estimator = estimator
        self.min_proba = min_proba
        self.confidence_threshold = confidence_threshold
        self.confidence_weighting = confidence_weighting

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SoftLabelClassifier:
        """Fit on features ``X`` and soft ``(n, k)`` or hard ``(n,)`` labels ``y``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n, d)
        y : array-like of shape (n, k) with rows summing to 1, or (n,) class ids
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        self
        """
        check_float("min_proba", self.min_proba, low=0.0, high=1.0)
        check_float("confidence_threshold", self.confidence_threshold, low=0.0, high=1.0)
        n = _n_rows(X)
        proba = _as_proba(y, n)
        weights = np.ones(n) if sample_weight is None else _weights(sample_weight, n)
        rows, cols, w = _expand(proba, weights, self.min_proba, self.confidence_threshold,
                                bool(self.confidence_weighting))
        if rows.size == 0:
            raise fail("y", "at least one item above confidence_threshold", got_text="none")
        self.classes_ = np.arange(proba.shape[1])
        self.n_train_items_ = int(np.unique(rows).size)
        self.estimator_ = clone(self.estimator)
        self.estimator_.fit(_take_rows(X, rows), cols, sample_weight=w)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, k)``; classes never seen in training get 0."""
        check_is_fitted(self, "estimator_")
        raw = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        out = np.zeros((raw.shape[0], self.classes_.shape[0]))
        out[:, np.asarray(self.estimator_.classes_, dtype=np.int64)] = raw
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _n_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)


def _as_proba(y: Any, n: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2:
        return check_proba("y", arr, n_rows=n)
    labels = check_labels("y", arr, int(arr.max()) + 1 if arr.size else 1, length=n)
    k = max(2, int(labels.max()) + 1)
    out = np.zeros((n, k))
    out[np.arange(n), labels] = 1.0
    return out


def _weights(sample_weight: Any, n: int) -> np.ndarray:
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise fail("sample_weight", f"{n} finite non-negative weights", w)
    return w


def _expand(proba: np.ndarray, weights: np.ndarray, min_proba: float, threshold: float,
            confidence_weighting: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    confidence = proba.max(axis=1)
    item_w = weights * (confidence if confidence_weighting else 1.0)
    keep_item = (confidence >= threshold) & (item_w > 0)
    mask = (proba > 0) & (proba >= min_proba) & keep_item[:, None]
    rows, cols = np.nonzero(mask)
    return rows, cols, proba[rows, cols] * item_w[rows]


def _take_rows(X: Any, rows: np.ndarray) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if hasattr(X, "shape"):
        return X[rows]
    return [X[i] for i in rows]
