"""Numpy helpers that decide which items a noise-aware trainer uses each epoch.

Pure functions with no torch dependency: the curriculum pool, co-teaching's
forget-rate schedule and small-loss selection, and fixed or class-adaptive
(FlexMatch-like) pseudo-label thresholds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._core.validation import check_float, check_int, check_proba, fail

__all__ = [
    "curriculum_order",
    "curriculum_size",
    "forget_rate_schedule",
    "small_loss_indices",
    "class_adaptive_thresholds",
    "select_pseudo_labels",
]


def curriculum_order(confidence: Any, rng: np.random.Generator) -> np.ndarray:
    """Item indices from most to least confident; ties in a random order.

    Parameters
    ----------
    confidence : array-like of shape (n,)
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (n,) of int
    """
    conf = np.asarray(confidence, dtype=np.float64)
    shuffled = rng.permutation(conf.shape[0])
    return shuffled[np.argsort(-conf[shuffled], kind="stable")]


def curriculum_size(n: int, epoch: int, n_epochs: int, start: float) -> int:
    """Size of the curriculum pool at ``epoch`` (0-based).

    The pool starts with the ``start`` fraction of the items and grows
    linearly, reaching all ``n`` items at epoch ``n_epochs // 2`` and staying
    there.

    Returns
    -------
    int in [1, n] (0 when ``n`` is 0)
    """
    ramp = max(1, n_epochs // 2)
    fraction = start + (1.0 - start) * min(1.0, epoch / ramp)
    return min(n, max(1, math.ceil(fraction * n))) if n else 0


def forget_rate_schedule(epoch: int, forget_rate: Any, forget_epochs: int) -> Any:
    """Co-teaching's rate of discarded items: ``forget_rate * min(epoch / forget_epochs, 1)``.

    ``forget_rate`` is a float, or an array of per-class rates (the result then has its shape).

    Han et al. (2018) keep ``R(T) = 1 - min(T tau / T_k, tau)`` of each batch.
    """
    if forget_epochs <= 0:
        return forget_rate
    return forget_rate * min(epoch / forget_epochs, 1.0)


def small_loss_indices(losses: Any, keep_fraction: Any, groups: Any = None) -> np.ndarray:
    """Indices of the ``ceil(keep_fraction * n)`` smallest losses (at least one).

    With ``groups`` (for example each item's given class), the fraction is
    kept within every group separately, so a class whose items all have
    larger losses (a harder or rarer class) is not dropped as a whole; then
    ``keep_fraction`` may also be one fraction per group id (an array indexed
    by the non-negative integer group ids), for classes whose given labels
    are wrong at different rates.

    Parameters
    ----------
    losses : array-like of shape (n,)
    keep_fraction : float in [0, 1], or array-like of shape (n_groups,) with groups
    groups : array-like of shape (n,), optional

    Returns
    -------
    ndarray of int; without groups sorted by loss (ties by position), with groups sorted by position

    Examples
    --------
    >>> small_loss_indices([0.1, 5.0, 0.2, 4.0], 0.5).tolist()
    [0, 2]
    >>> small_loss_indices([0.1, 5.0, 0.2, 4.0], 0.5, groups=[0, 1, 0, 1]).tolist()
    [0, 3]
    >>> small_loss_indices([0.1, 5.0, 0.2, 4.0, 0.3], [1.0, 0.5], groups=[0, 1, 0, 1, 0]).tolist()
    [0, 2, 3, 4]
    """
    arr = np.asarray(losses, dtype=np.float64)
    if groups is None:
        n_keep = min(arr.shape[0], max(1, math.ceil(float(keep_fraction) * arr.shape[0])))
        return np.argsort(arr, kind="stable")[:n_keep]
    labels = np.asarray(groups)
    if labels.shape != arr.shape:
        raise fail("groups", f"an array of shape {arr.shape} like losses", labels)
    fractions = np.asarray(keep_fraction, dtype=np.float64)
    if fractions.ndim == 1 and (labels.size and (labels.min() < 0 or labels.max() >= fractions.shape[0])):
        raise fail("keep_fraction", f"one fraction per group id 0 .. {int(labels.max())}", fractions)
    kept = [
        rows[small_loss_indices(arr[rows], fractions if fractions.ndim == 0 else fractions[g])]
        for g, rows in ((g, np.flatnonzero(labels == g)) for g in np.unique(labels))
    ]
    return np.sort(np.concatenate(kept)) if kept else np.zeros(0, dtype=np.int64)


def class_adaptive_thresholds(proba: Any, threshold: float, *, warmup: bool = True) -> np.ndarray:
    """FlexMatch-like per-class confidence thresholds for pseudo-labels.

    With ``sigma_c`` the number of unlabelled items predicted as ``c`` with
    confidence at least ``threshold``, the learning effect is
    ``beta_c = sigma_c / max(max_c sigma_c, n_unused)`` (``n_unused``, the
    items below ``threshold``, only with ``warmup``) and the threshold is
    ``threshold * beta_c / (2 - beta_c)`` (Zhang et al. 2021, convex mapping).
    Classes the model has learnt less get lower thresholds.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Current predictions on the unlabelled items.
    threshold : float in (0, 1]
        The upper (fixed) threshold ``tau``.
    warmup : bool, default=True

    Returns
    -------
    ndarray of shape (k,)

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.endmodel import class_adaptive_thresholds
    >>> proba = np.array([[0.97, 0.03]] * 8 + [[0.04, 0.96]] * 2 + [[0.6, 0.4]] * 2)
    >>> class_adaptive_thresholds(proba, 0.95).round(3).tolist()  # the class learnt less gets a lower bar
    [0.95, 0.136]
    """
    p = check_proba("proba", proba)
    threshold = check_float("threshold", threshold, low=0.0, high=1.0, low_open=True)
    confidence = p.max(axis=1)
    over = confidence >= threshold
    sigma = np.bincount(p.argmax(axis=1)[over], minlength=p.shape[1]).astype(np.float64)
    denominator = max(sigma.max(), float((~over).sum())) if warmup else sigma.max()
    beta = sigma / denominator if denominator > 0 else np.ones_like(sigma)
    return threshold * beta / (2.0 - beta)


def select_pseudo_labels(proba: Any, thresholds: Any) -> tuple[np.ndarray, np.ndarray]:
    """Items whose confidence reaches their predicted class's threshold.

    Parameters
    ----------
    proba : array-like of shape (n, k)
    thresholds : float or array-like of shape (k,)

    Returns
    -------
    rows : ndarray of int
        Selected items.
    labels : ndarray of int
        Their pseudo-labels (argmax class).
    """
    p = check_proba("proba", proba)
    tau = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (p.shape[1],))
    pred = p.argmax(axis=1)
    rows = np.flatnonzero(p.max(axis=1) >= tau[pred])
    return rows, pred[rows]


def check_epochs(name: str, value: Any) -> int:
    """Check a non-negative epoch count."""
    return check_int(name, value, low=0)


def check_fraction(name: str, value: Any, *, allow_none: bool = False) -> float | None:
    """Check ``value`` in (0, 1] (or None when allowed)."""
    if value is None and allow_none:
        return None
    if value is None:
        raise fail(name, "a real number in (0, 1]", value)
    return check_float(name, value, low=0.0, high=1.0, low_open=True)
