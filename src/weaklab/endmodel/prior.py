"""Class-prior correction of soft labels before an end model is trained on them.

A label model's posteriors often carry the wrong class balance: a model that
takes most items for the majority class (or the class its sources vote for
most) hands that skew to every end model trained on its soft labels, and the
end model then loses to the label model it learned from. Reweighting the
columns of the soft labels until their mean equals a trusted class prior
(the class frequencies of a small gold split) keeps each item's *ranking*
of the classes and fixes the balance, the same change of prior as moving a
decision threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.constants import TINY
from .._core.validation import check_int, check_labels, check_proba, fail

__all__ = ["match_class_prior", "class_prior_from_gold"]


def class_prior_from_gold(gold: Any, n_classes: int, *, smoothing: float = 1.0) -> np.ndarray:
    """Class frequencies of the gold labels, with add-``smoothing`` counts.

    Parameters
    ----------
    gold : array-like of shape (n,)
        Class ids ``0..n_classes-1``; ``-1`` marks an item without gold (skipped).
    n_classes : int
        Number of classes.
    smoothing : float >= 0, default=1.0
        Pseudo-count added to every class (so no class gets prior 0).

    Returns
    -------
    ndarray of shape (n_classes,)
        Sums to 1.

    Raises
    ------
    ValidationError
        No gold label, or a label outside ``0..n_classes-1``.

    Examples
    --------
    >>> class_prior_from_gold([0, 0, 1, -1], 2, smoothing=0.0).tolist()
    [0.6666666666666666, 0.3333333333333333]
    """
    k = check_int("n_classes", n_classes, low=2)
    labels = check_labels("gold", gold, k, allow_abstain=True)
    known = labels[labels >= 0]
    if known.size == 0:
        raise fail("gold", "at least one gold label (not -1)", got_text="none")
    if not (np.isfinite(smoothing) and smoothing >= 0):
        raise fail("smoothing", "a finite number >= 0", smoothing)
    counts = np.bincount(known, minlength=k).astype(np.float64) + float(smoothing)
    return np.asarray(counts / counts.sum())


def match_class_prior(proba: Any, prior: Any, *, max_iter: int = 500, tol: float = 1e-8,
                      name: str = "prior") -> np.ndarray:
    """Reweight the columns of soft labels so that their mean equals ``prior``.

    Finds per-class weights ``w`` such that the rows of ``proba * w``,
    renormalised, average to ``prior`` (iterative proportional fitting on the
    columns). Each row keeps the order of its class probabilities; only the
    class balance moves.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Soft labels (rows sum to 1). Rows that are all NaN (unlabelled) are
        left as they are and do not count.
    prior : array-like of shape (k,)
        Target class balance, positive, summing to 1.
    max_iter : int, default=500
    tol : float, default=1e-8
        Stop when the largest gap between a column mean and ``prior`` is below it.
    name : str, default="prior"
        Parameter name of ``prior`` in error messages.

    Returns
    -------
    ndarray of shape (n, k)
        The reweighted soft labels. A class that no labelled row gives any
        probability cannot gain mass; its share is spread over the others.

    Examples
    --------
    >>> import numpy as np
    >>> q = match_class_prior(np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4]]), [0.5, 0.5])
    >>> np.round(q.mean(axis=0), 3).tolist()
    [0.5, 0.5]
    >>> bool(q[2, 1] > q[1, 1] > q[0, 1])
    True
    """
    arr = np.asarray(proba, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise fail("proba", "soft labels of shape (n_items, n_classes) with at least 2 classes", arr)
    target = np.asarray(prior, dtype=np.float64)
    if target.shape != (arr.shape[1],) or not np.all(np.isfinite(target)) or np.any(target <= 0):
        raise fail(name, f"{arr.shape[1]} positive class shares summing to 1", target)
    if not np.isclose(target.sum(), 1.0, atol=1e-6):
        raise fail(name, "class shares summing to 1", got_text=f"shares summing to {target.sum():.6g}")
    check_int("max_iter", max_iter, low=1)
    labelled = ~np.isnan(arr).all(axis=1)
    out = arr.copy()
    if not labelled.any():
        return out
    p = arr[labelled]
    check_proba("proba (labelled rows)", p)
    present = p.max(axis=0) > 0
    goal = np.where(present, target, 0.0)
    goal = goal / goal.sum()
    w = np.ones(p.shape[1])
    for _ in range(int(max_iter)):
        q = _reweighted(p, w)
        mean = q.mean(axis=0)
        if np.max(np.abs(mean - goal)) < tol:
            break
        w = np.where(present, w * goal / np.maximum(mean, TINY), 0.0)
        w = w / w[present].max()
    out[labelled] = _reweighted(p, w)
    return out


def _reweighted(p: np.ndarray, w: np.ndarray) -> np.ndarray:
    q = p * w
    total = q.sum(axis=1, keepdims=True)
    # a row whose only classes got weight 0 keeps its own probabilities
    return np.where(total > 0, q / np.maximum(total, TINY), p)
