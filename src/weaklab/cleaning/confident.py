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

from .._core.validation import check_bool
from . import _steps
from ._inputs import check_given

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

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.cleaning import out_of_fold_proba
    >>> from weaklab.evaluation import inject_noise
    >>> X, y = make_blobs(600, centers=3, cluster_std=1.0, random_state=0)
    >>> labels = inject_noise(y, "uniform", 0.2, random_state=0)
    >>> pred_probs = out_of_fold_proba(LogisticRegression(max_iter=500), X, labels, random_state=0)
    >>> from weaklab.cleaning import self_confidence_thresholds
    >>> self_confidence_thresholds(labels, pred_probs).round(2).tolist()
    [0.55, 0.64, 0.6]
    """
    return _steps.thresholds(check_given(labels, pred_probs))


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

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.cleaning import out_of_fold_proba
    >>> from weaklab.evaluation import inject_noise
    >>> X, y = make_blobs(600, centers=3, cluster_std=1.0, random_state=0)
    >>> labels = inject_noise(y, "uniform", 0.2, random_state=0)
    >>> pred_probs = out_of_fold_proba(LogisticRegression(max_iter=500), X, labels, random_state=0)
    >>> from weaklab.cleaning import confident_joint
    >>> joint = confident_joint(labels, pred_probs)
    >>> joint.round().astype(int).tolist()  # rows: given label, columns: the confidently predicted class
    [[147, 19, 15], [16, 177, 21], [22, 20, 163]]
    """
    calibrate = check_bool("calibrate", calibrate)
    g = check_given(labels, pred_probs)
    raw = _steps.raw_joint(g)
    return _steps.calibrate(raw, g.weights.sum(axis=0)) if calibrate else raw


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

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.cleaning import out_of_fold_proba
    >>> from weaklab.evaluation import inject_noise
    >>> X, y = make_blobs(600, centers=3, cluster_std=1.0, random_state=0)
    >>> labels = inject_noise(y, "uniform", 0.2, random_state=0)
    >>> pred_probs = out_of_fold_proba(LogisticRegression(max_iter=500), X, labels, random_state=0)
    >>> from weaklab.cleaning import estimate_joint
    >>> joint = estimate_joint(labels, pred_probs)
    >>> round(float(joint.sum()), 6), round(1 - float(np.trace(joint)), 2)  # the estimated noise rate
    (1.0, 0.19)
    >>> round(float(np.mean(labels != y)), 2)  # the true one
    0.19
    """
    return _steps.joint(check_given(labels, pred_probs))


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

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.cleaning import out_of_fold_proba
    >>> from weaklab.evaluation import inject_noise
    >>> X, y = make_blobs(600, centers=3, cluster_std=1.0, random_state=0)
    >>> labels = inject_noise(y, "uniform", 0.2, random_state=0)
    >>> pred_probs = out_of_fold_proba(LogisticRegression(max_iter=500), X, labels, random_state=0)
    >>> from weaklab.cleaning import estimate_noise_matrix
    >>> noise, inverse = estimate_noise_matrix(labels, pred_probs)
    >>> noise.round(2).tolist()  # noise[true, given]: rows sum to 1
    [[0.79, 0.08, 0.12], [0.09, 0.82, 0.09], [0.07, 0.11, 0.82]]
    >>> bool(np.allclose(inverse.sum(axis=1), 1))
    True
    """
    joint = _steps.joint(check_given(labels, pred_probs))
    return _steps.noise_from_joint(joint), _steps.rows_normalised(joint)


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

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.cleaning import out_of_fold_proba
    >>> from weaklab.evaluation import inject_noise
    >>> X, y = make_blobs(600, centers=3, cluster_std=1.0, random_state=0)
    >>> labels = inject_noise(y, "uniform", 0.2, random_state=0)
    >>> pred_probs = out_of_fold_proba(LogisticRegression(max_iter=500), X, labels, random_state=0)
    >>> from weaklab.cleaning import estimate_class_prior
    >>> estimate_class_prior(labels, pred_probs).round(2).tolist()
    [0.31, 0.36, 0.33]
    >>> (np.bincount(y, minlength=3) / len(y)).round(2).tolist()
    [0.33, 0.33, 0.33]
    """
    return _steps.joint(check_given(labels, pred_probs)).sum(axis=0)
