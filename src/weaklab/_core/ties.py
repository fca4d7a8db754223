"""Turning probabilities into hard labels with an explicit tie-break policy."""

from __future__ import annotations

from typing import Any

import numpy as np

from .constants import ABSTAIN
from .validation import check_choice, check_random_state

__all__ = ["TIE_BREAK_POLICIES", "break_ties"]

TIE_BREAK_POLICIES = ("random", "abstain", "prior")


def break_ties(
    proba: np.ndarray,
    tie_break: str = "random",
    *,
    prior: np.ndarray | None = None,
    random_state: Any = None,
    tol: float = 1e-9,
) -> np.ndarray:
    """Return the argmax class of each row, resolving ties by ``tie_break``.

    Parameters
    ----------
    proba : ndarray of shape (n, k)
        Scores or probabilities per class.
    tie_break : {"random", "abstain", "prior"}, default="random"
        ``"random"`` picks uniformly among the tied classes (seeded by
        ``random_state``); ``"abstain"`` returns ``-1`` for tied rows;
        ``"prior"`` picks the tied class with the largest ``prior`` (the
        lowest class id among equal priors).
    prior : ndarray of shape (k,), optional
        Class prior used by ``"prior"``; uniform when omitted.
    random_state : None, int or numpy.random.Generator
        Seed for ``"random"``.
    tol : float, default=1e-9
        Scores within ``tol`` of the row maximum count as tied.

    Returns
    -------
    ndarray of shape (n,) and dtype int64

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import break_ties
    >>> proba = np.array([[0.7, 0.3], [0.5, 0.5], [0.2, 0.8]])
    >>> break_ties(proba, "abstain").tolist()
    [0, -1, 1]
    >>> break_ties(proba, "prior", prior=np.array([0.3, 0.7])).tolist()
    [0, 1, 1]
    """
    check_choice("tie_break", tie_break, TIE_BREAK_POLICIES)
    proba = np.asarray(proba, dtype=np.float64)
    top = proba.max(axis=1, keepdims=True)
    tied = proba >= top - tol
    n_tied = tied.sum(axis=1)
    labels = np.argmax(tied, axis=1).astype(np.int64)
    multi = n_tied > 1
    if not multi.any():
        return labels
    if tie_break == "abstain":
        labels[multi] = ABSTAIN
    elif tie_break == "prior":
        weights = np.ones(proba.shape[1]) if prior is None else np.asarray(prior, dtype=np.float64)
        # Prefer the larger prior, then the lower class id.
        score = np.where(tied[multi], weights[None, :], -np.inf)
        labels[multi] = np.argmax(score, axis=1)
    else:
        rng = check_random_state(random_state)
        keys = rng.random(size=(int(multi.sum()), proba.shape[1]))
        labels[multi] = np.argmax(np.where(tied[multi], keys, -1.0), axis=1)
    return labels
