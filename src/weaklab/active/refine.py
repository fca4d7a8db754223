"""Weak labels sharpened by what the end model learns from the item features (co-training of two views).

The label model sees an item through its votes, the end model through its
features. When the two views are independent given the class, the posterior
given both is the product of the two posteriors divided by the class prior,
``p(y | votes, x) ∝ p(y | votes) p(y | x) / p(y)``. The end model's
``p(y | x)`` must come from a model that did not train on the item itself
(a model scores its own training labels back), so it is taken out of fold:
the items are dealt into folds, and each fold is predicted by a clone of the
end model trained on the other folds (weak labels and answers, weighted as
for the final fit). Answers thus reach the weak labels of the items that look
like them, and weak labels the features contradict lose their certainty.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from .._core.validation import check_int, check_random_state, fail
from ._inputs import checked_features

__all__ = ["out_of_fold_proba", "combine_views", "MIN_CO_TRAIN_ANSWERS", "PROBA_FLOOR"]

MIN_CO_TRAIN_ANSWERS = 20
"""Answers :class:`~weaklab.active.ActiveLoop` needs before ``co_train`` combines the views."""
PROBA_FLOOR = 1e-6
"""Least probability a feature model's posterior gives a class in :func:`combine_views`."""


def out_of_fold_proba(end_model: Any, X: Any, targets: Any, weights: Any, *, n_folds: int = 3,
                      random_state: Any = None) -> np.ndarray:
    """Every item's class probabilities from a clone of ``end_model`` trained on the other folds.

    Parameters
    ----------
    end_model : classifier
        Unfitted; ``fit(X, soft_labels, sample_weight=...)`` and ``predict_proba``
        (e.g. :class:`~weaklab.endmodel.SoftLabelClassifier`); cloned per fold.
    X : array-like or sparse matrix of shape (n, d)
        Item features.
    targets : array-like of shape (n, k)
        Soft labels (rows sum to 1) the folds train on.
    weights : array-like of shape (n,)
        Non-negative training weights; rows of weight 0 do not train but are predicted.
    n_folds : int, default=3
        Folds the items are dealt into (at random).
    random_state : None, int or numpy.random.Generator, default=None
        Deals the folds.

    Returns
    -------
    ndarray of shape (n, k)
        Row ``i``: the prediction of the model that did not see item ``i``.
        A fold whose training weight falls on one class only predicts that
        class with certainty (no classifier can be fitted there).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.active import out_of_fold_proba
    >>> from weaklab.endmodel import SoftLabelClassifier
    >>> X = np.repeat(np.array([[0.0], [1.0]]), 6, axis=0)
    >>> targets = np.eye(2)[(X[:, 0] > 0.5).astype(int)]
    >>> targets[0] = [0.0, 1.0]  # one weak label the features contradict
    >>> p = out_of_fold_proba(SoftLabelClassifier(LogisticRegression()), X, targets, np.ones(12), random_state=0)
    >>> bool(p[0, 0] > 0.5)  # the item's own (wrong) label did not train its prediction
    True
    """
    folds_n = check_int("n_folds", n_folds, low=2)
    P = np.asarray(targets, dtype=np.float64)
    if P.ndim != 2:
        raise fail("targets", "a 2-d array of soft labels (n, k)", got_text=f"{P.ndim} dimension(s)")
    n, k = P.shape
    X = checked_features("X", X, n_rows=n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise fail("weights", f"{n} finite non-negative weights", got_text=f"shape {w.shape}")
    folds = check_random_state(random_state).permutation(n) % folds_n
    out = np.empty((n, k))
    for f in range(folds_n):
        held = folds == f
        train = ~held & (w > 0)
        out[held] = _fold_proba(end_model, X, P, w, train, held)
    return out


def _fold_proba(end_model: Any, X: Any, P: np.ndarray, w: np.ndarray, train: np.ndarray,
                held: np.ndarray) -> np.ndarray:
    mass = (P[train] * w[train, None]).sum(axis=0)
    if np.count_nonzero(mass > 0) < 2:  # one class (or nothing) to learn: that class
        return np.tile(np.eye(P.shape[1])[int(mass.argmax())], (int(held.sum()), 1))
    model = clone(end_model).fit(X[train], P[train], sample_weight=w[train] / w[train].mean())
    proba = np.asarray(model.predict_proba(X[held]), dtype=np.float64)
    if proba.shape[1] != P.shape[1]:
        raise fail("end_model", f"predict_proba with {P.shape[1]} columns (one per class)",
                   got_text=f"{proba.shape[1]} columns")
    return proba


def combine_views(label_proba: Any, model_proba: Any, prior: Any = None) -> np.ndarray:
    """The posterior given both views: ``label_proba * model_proba / prior``, rows renormalised.

    Parameters
    ----------
    label_proba : array-like of shape (n, k)
        The label model's posteriors (the votes' view).
    model_proba : array-like of shape (n, k)
        A feature model's posteriors (the features' view), e.g. from
        :func:`out_of_fold_proba`; clipped away from 0 so that one view
        alone never rules a class out.
    prior : array-like of shape (k,), optional
        The class prior both posteriors include once; default the mean of
        ``label_proba``.

    Returns
    -------
    ndarray of shape (n, k)
        Rows sum to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.active import combine_views
    >>> combine_views([[0.6, 0.4], [0.5, 0.5]], [[0.2, 0.8], [0.9, 0.1]], prior=[0.5, 0.5]).round(3).tolist()
    [[0.273, 0.727], [0.9, 0.1]]
    """
    lp = np.asarray(label_proba, dtype=np.float64)
    mp = np.asarray(model_proba, dtype=np.float64)
    if lp.ndim != 2 or mp.shape != lp.shape:
        raise fail("model_proba", f"an array of the shape of label_proba {lp.shape}", got_text=f"shape {mp.shape}")
    pr = lp.mean(axis=0) if prior is None else np.asarray(prior, dtype=np.float64)
    if pr.shape != (lp.shape[1],) or np.any(pr <= 0) or not np.all(np.isfinite(pr)):
        raise fail("prior", f"{lp.shape[1]} positive class probabilities", got_text=f"{pr!r}")
    joint = lp * np.clip(mp, PROBA_FLOOR, 1.0) / pr
    total = joint.sum(axis=1, keepdims=True)
    return np.divide(joint, total, out=np.tile(pr / pr.sum(), (lp.shape[0], 1)), where=total > 0)
