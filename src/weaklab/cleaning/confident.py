"""Confident learning: the confident joint of given and true labels, noise matrices and the class prior.

An item is *confidently* of class ``j`` when its predicted probability of
``j`` reaches the class's threshold ``t_j``, the mean self-confidence of the
items given label ``j``: ``t_j = mean(pred_probs[i, j] | given_i = j)``. Among
the classes an item is confident in, the most probable one is its estimated
true label; items confident in no class are not counted. Counting (given,
estimated true) pairs gives the *confident joint* ``C[given, true]``;
calibrating its rows to the number of items given each label and dividing by
``n`` estimates the joint distribution ``p(given, true)``, from which the
noise matrices and the prior of the true labels follow.

Soft given labels (e.g. a label model's ``predict_proba``): every function
here uses the *expected* counts, i.e. an item contributes its soft-label mass
``labels[i, g]`` to row ``g`` of the joint and to the mean of threshold ``t_g``
(one-hot soft labels give exactly the hard-label results).

Orientation: ``confident_joint`` and the inverse noise matrix are indexed
``[given, true]``; the noise matrix is ``noise[true, given]`` (rows sum to
1), the convention of :func:`weaklab.synthetic.make_noise_matrix`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.constants import TINY
from .._core.validation import check_bool
from ._inputs import Given, check_given

__all__ = [
    "self_confidence_thresholds",
    "confident_joint",
    "estimate_joint",
    "estimate_noise_matrix",
    "estimate_class_prior",
]


def self_confidence_thresholds(labels: Any, pred_probs: Any) -> np.ndarray:
    """Per-class thresholds: the mean self-confidence of the items given each class.

    Parameters
    ----------
    labels : array-like of shape (n,) or (n, k)
        Given class ids in ``[0, k)``, or soft given labels whose rows sum to 1.
    pred_probs : array-like of shape (n, k)
        Predicted class probabilities (ideally out of fold), rows sum to 1.

    Returns
    -------
    ndarray of shape (k,)
        ``t_j = mean(pred_probs[i, j] | given_i = j)`` (soft labels: weighted
        by ``labels[i, j]``); 1.0 for a class no item is given.
    """
    return _thresholds(check_given(labels, pred_probs))


def confident_joint(labels: Any, pred_probs: Any, *, calibrate: bool = True) -> np.ndarray:
    """Counts of (given label, estimated true label) pairs among confidently predicted items.

    Parameters
    ----------
    labels : array-like of shape (n,) or (n, k)
        Given class ids, or soft given labels (expected counts; see the module notes).
    pred_probs : array-like of shape (n, k)
        Predicted class probabilities, rows sum to 1.
    calibrate : bool, default=True
        Rescale each row so that it sums to the number of items given that
        label (the total is then ``n``); a row without confident items puts
        all its mass on the diagonal.

    Returns
    -------
    ndarray of shape (k, k)
        ``C[given, true]``; float counts (integers when ``calibrate=False``
        and the labels are hard).
    """
    calibrate = check_bool("calibrate", calibrate)
    g = check_given(labels, pred_probs)
    raw = _raw_joint(g)
    return _calibrate(raw, g.weights.sum(axis=0)) if calibrate else raw


def estimate_joint(labels: Any, pred_probs: Any) -> np.ndarray:
    """The estimated joint distribution ``p(given, true)``: the calibrated confident joint over ``n``.

    Parameters
    ----------
    labels : array-like of shape (n,) or (n, k)
    pred_probs : array-like of shape (n, k)

    Returns
    -------
    ndarray of shape (k, k)
        ``P[given, true]``, non-negative, sums to 1.
    """
    return _joint(check_given(labels, pred_probs))


def estimate_noise_matrix(labels: Any, pred_probs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Estimate the noise matrix ``p(given | true)`` and the inverse ``p(true | given)``.

    Parameters
    ----------
    labels : array-like of shape (n,) or (n, k)
    pred_probs : array-like of shape (n, k)

    Returns
    -------
    noise_matrix : ndarray of shape (k, k)
        ``noise[true, given] = p(given | true)``; rows sum to 1 (a true class
        with no estimated items gets an identity row).
    inverse_noise_matrix : ndarray of shape (k, k)
        ``inverse[given, true] = p(true | given)``; rows sum to 1.
    """
    joint = _joint(check_given(labels, pred_probs))
    return _noise_from_joint(joint), _rows_normalised(joint)


def estimate_class_prior(labels: Any, pred_probs: Any) -> np.ndarray:
    """Estimate the prior ``p(true)`` of the (unobserved) true labels.

    Parameters
    ----------
    labels : array-like of shape (n,) or (n, k)
    pred_probs : array-like of shape (n, k)

    Returns
    -------
    ndarray of shape (k,)
        Column sums of the estimated joint ``p(given, true)``; sums to 1.
    """
    return _joint(check_given(labels, pred_probs)).sum(axis=0)


# ----------------------------------------------------------------------------------- private compute


def _thresholds(g: Given) -> np.ndarray:
    w = g.weights
    mass = w.sum(axis=0)
    total = (w * g.proba).sum(axis=0)
    return np.divide(total, mass, out=np.ones(g.k), where=mass > 0)


def _confident_true(g: Given) -> tuple[np.ndarray, np.ndarray]:
    """Estimated true label of each item and whether it is confident in any class."""
    above = g.proba >= _thresholds(g)[None, :] - 1e-12
    masked = np.where(above, g.proba, -1.0)
    return masked.argmax(axis=1), np.asarray(above.any(axis=1))


def _raw_joint(g: Given) -> np.ndarray:
    true, has = _confident_true(g)
    if g.soft is None:
        flat = g.hard[has] * g.k + true[has]
        return np.bincount(flat, minlength=g.k * g.k).reshape(g.k, g.k).astype(np.float64)
    onehot = np.zeros((g.n, g.k))
    onehot[np.flatnonzero(has), true[has]] = 1.0
    return g.soft.T @ onehot


def _calibrate(raw: np.ndarray, given_counts: np.ndarray) -> np.ndarray:
    k = raw.shape[0]
    sums = raw.sum(axis=1, keepdims=True)
    fallback = np.eye(k)
    rates = np.divide(raw, sums, out=fallback.copy(), where=sums > 0)
    return rates * given_counts[:, None]


def _joint(g: Given) -> np.ndarray:
    cal = _calibrate(_raw_joint(g), g.weights.sum(axis=0))
    return cal / max(cal.sum(), TINY)


def _rows_normalised(m: np.ndarray) -> np.ndarray:
    sums = m.sum(axis=1, keepdims=True)
    return np.divide(m, sums, out=np.eye(m.shape[0]), where=sums > 0)


def _noise_from_joint(joint: np.ndarray) -> np.ndarray:
    return _rows_normalised(joint.T)
