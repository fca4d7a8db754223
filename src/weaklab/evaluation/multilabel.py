"""Multi-label metrics: micro and macro F1, Hamming loss and per-label calibration.

Labels are ``(n, K)`` indicator arrays (``1`` = the label applies) and
probabilities ``(n, K)`` arrays of independent ``P(label applies)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core import check_label_proba
from .._core.validation import check_int, fail
from ..errors import ValidationError

__all__ = ["micro_f1", "macro_f1", "hamming_loss", "label_f1_scores", "label_calibration_errors"]


def _indicators(name: str, values: Any, shape: tuple[int, int] | None = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 2 or arr.shape[1] == 0 or arr.shape[0] == 0:
        raise fail(name, "a non-empty (n_items, n_labels) array of 0/1 indicators", arr)
    if arr.dtype.kind not in "biuf" or not np.isin(arr, (0, 1)).all():
        raise fail(name, "0/1 indicators (1 = the label applies)", got_text="other values")
    if shape is not None and arr.shape != shape:
        raise fail(name, f"shape {shape} (as y_true)", got_text=f"shape {arr.shape}")
    return arr.astype(bool)


def _is_indicators(values: Any) -> bool:
    arr = np.asarray(values)
    return arr.ndim == 2 and arr.size > 0 and arr.dtype.kind in "biuf" and bool(np.isin(arr, (0, 1)).all())


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = _indicators("y_true", y_true)
    return t, _indicators("y_pred", y_pred, t.shape)


def _counts(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tp = np.sum(t & p, axis=0).astype(np.float64)
    return tp, np.sum(~t & p, axis=0).astype(np.float64), np.sum(t & ~p, axis=0).astype(np.float64)


def label_f1_scores(y_true: Any, y_pred: Any) -> np.ndarray:
    """F1 of each label, shape ``(K,)``; a label absent from both truth and prediction scores 1.

    Parameters
    ----------
    y_true : array-like of shape (n, K)
        0/1 indicators: 1 = the label applies.
    y_pred : array-like of shape (n, K)
        Predicted 0/1 indicators.

    Examples
    --------
    >>> label_f1_scores([[1, 0], [1, 1]], [[1, 0], [0, 0]]).round(3).tolist()
    [0.667, 0.0]
    """
    tp, fp, fn = _counts(*_pair(y_true, y_pred))
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.ones_like(tp), where=denom > 0)


def micro_f1(y_true: Any, y_pred: Any) -> float:
    """F1 over all (item, label) decisions pooled: ``2 TP / (2 TP + FP + FN)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n, K)
        0/1 indicators.

    Returns
    -------
    float
        In ``[0, 1]``; 1 when neither holds any positive.

    Examples
    --------
    >>> round(micro_f1([[1, 0], [1, 1]], [[1, 0], [0, 0]]), 3)
    0.5
    """
    tp, fp, fn = (c.sum() for c in _counts(*_pair(y_true, y_pred)))
    denom = 2 * tp + fp + fn
    return float(2 * tp / denom) if denom > 0 else 1.0


def macro_f1(y_true: Any, y_pred: Any) -> float:
    """Unweighted mean of the per-label F1 scores (see :func:`label_f1_scores`).

    Parameters
    ----------
    y_true : array-like of shape (n, K)
        0/1 indicators: 1 = the label applies.
    y_pred : array-like of shape (n, K)
        Predicted 0/1 indicators.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> round(macro_f1([[1, 0], [1, 1]], [[1, 0], [0, 0]]), 3)
    0.333
    """
    return float(label_f1_scores(y_true, y_pred).mean())


def hamming_loss(y_true: Any, y_pred: Any) -> float:
    """Share of (item, label) decisions that are wrong.

    Parameters
    ----------
    y_true : array-like of shape (n, K)
        0/1 indicators: 1 = the label applies.
    y_pred : array-like of shape (n, K)
        Predicted 0/1 indicators.

    Examples
    --------
    >>> hamming_loss([[1, 0], [1, 1]], [[1, 0], [0, 0]])
    0.5
    """
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t != p))


def label_calibration_errors(proba: Any, y_true: Any, *, n_bins: int = 15) -> np.ndarray:
    """Expected calibration error of each label's ``P(applies)``, shape ``(K,)``.

    For label ``l``: the items are binned by ``proba[:, l]`` into ``n_bins``
    equal-width bins of ``[0, 1]``, and the error is
    ``sum_b (n_b / n) |mean(y_true[b, l]) - mean(proba[b, l])|``.

    Parameters
    ----------
    proba : array-like of shape (n, K)
        Probabilities in ``[0, 1]`` (first, as in every probability metric of
        :mod:`weaklab.evaluation`; pass both by keyword to make the order
        explicit).
    y_true : array-like of shape (n, K)
        0/1 indicators.
    n_bins : int, default=15
        Equal-width bins of ``[0, 1]``.

    Examples
    --------
    >>> label_calibration_errors([[0.9, 0.5], [0.9, 0.5]], [[1, 1], [1, 0]]).round(2).tolist()
    [0.1, 0.0]
    """
    nb = check_int("n_bins", n_bins, low=1)
    try:
        t = _indicators("y_true", y_true)
    except ValidationError:
        if _is_indicators(proba) and np.ndim(y_true) == 2:
            raise fail("y_true", "0/1 indicators as the second argument: label_calibration_errors(proba, y_true) "
                       "takes the probabilities first, as every probability metric",
                       got_text="fractional values, and 0/1 indicators as proba (arguments swapped?)") from None
        raise
    p = check_label_proba("proba", proba, t.shape[1])
    if p.shape != t.shape:
        raise fail("proba", f"shape {t.shape} (as y_true)", got_text=f"shape {p.shape}")
    bins = np.minimum((p * nb).astype(np.int64), nb - 1)
    out = np.empty(t.shape[1])
    for j in range(t.shape[1]):
        conf = np.bincount(bins[:, j], weights=p[:, j], minlength=nb)
        hits = np.bincount(bins[:, j], weights=t[:, j].astype(np.float64), minlength=nb)
        out[j] = np.abs(hits - conf).sum() / t.shape[0]
    return out
