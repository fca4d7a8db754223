"""Estimate a noise-transition matrix from out-of-sample class probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.validation import check_float, check_proba, fail

__all__ = ["estimate_transition_matrix", "check_transition_matrix"]


def estimate_transition_matrix(noisy_proba: Any, *, quantile: float = 0.97) -> np.ndarray:
    """Estimate ``T[i, j] = P(noisy label j | true class i)`` by anchor points.

    A model trained on *noisy* labels estimates ``P(noisy | x)``. For an
    anchor point ``x_i`` of class ``i`` (an item that surely belongs to ``i``)
    that posterior equals row ``i`` of ``T``. The anchor of class ``i`` is the
    item with the highest ``P(noisy = i | x)``, or, for robustness to
    outliers (Patrini et al. 2017 use the 97th percentile), the highest one
    at or below the ``quantile`` of that column.

    Parameters
    ----------
    noisy_proba : array-like of shape (n, k)
        Out-of-sample probabilities of the noisy labels (e.g. from
        :func:`sklearn.model_selection.cross_val_predict` with
        ``method="predict_proba"``); rows sum to 1.
    quantile : float in (0, 1], default=0.97
        ``1.0`` takes the most confident item as the anchor.

    Returns
    -------
    ndarray of shape (k, k)
        Row-stochastic transition matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.endmodel import estimate_transition_matrix
    >>> T_true = np.array([[0.8, 0.2], [0.3, 0.7]])
    >>> clean = np.random.default_rng(0).dirichlet([0.3, 0.3], size=2000)  # P(true class | x)
    >>> noisy_proba = clean @ T_true  # what a model trained on noisy labels estimates
    >>> estimate_transition_matrix(noisy_proba, quantile=1.0).round(2).tolist()
    [[0.8, 0.2], [0.3, 0.7]]
    """
    proba = check_proba("noisy_proba", noisy_proba)
    quantile = check_float("quantile", quantile, low=0.0, high=1.0, low_open=True)
    if proba.shape[0] == 0:
        raise fail("noisy_proba", "at least one row", proba)
    k = proba.shape[1]
    T = np.empty((k, k))
    for i in range(k):
        column = proba[:, i]
        cutoff = np.quantile(column, quantile, method="higher")
        eligible = np.where(column <= cutoff, column, -np.inf)
        T[i] = proba[int(np.argmax(eligible))]
    return T / T.sum(axis=1, keepdims=True)


def check_transition_matrix(transition: Any, n_classes: int, name: str = "transition") -> np.ndarray:
    """Check a ``(k, k)`` row-stochastic matrix and return it as float64."""
    arr = check_proba(name, transition, n_classes=n_classes, n_rows=n_classes)
    return np.asarray(arr, dtype=np.float64)
