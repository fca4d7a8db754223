"""Label quality for multi-annotator data: per-item consensus quality and per-annotator quality.

The votes are a label matrix ``(n, m)`` of class ids with ``-1`` where an
annotator did not label the item. The model's predicted probabilities act as
the prior of each item's true class, and every annotator as a one-coin
source: right with probability ``a_j``, otherwise any other class uniformly.

1. Initial consensus: the class with the most votes, the model's
   probabilities breaking ties (the model counts as less than one vote).
2. ``a_j``: the annotator's agreement with that consensus, smoothed towards
   the overall agreement rate with a pseudo-count of one item.
3. Posterior ``p(true = c | votes, x) ∝ pred_probs[i, c] * prod_j
   (a_j if v_ij = c else (1 - a_j) / (k - 1))``.

The *consensus label* is the posterior's argmax and its *quality* the
posterior probability of that label. An annotator's quality is the mean
posterior probability of the classes they voted (their expected accuracy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.constants import EPS
from .._core.inputs import as_label_matrix
from .._core.label_matrix import LabelMatrix
from .._core.soft_labels import SoftLabels
from .._core.validation import check_proba, fail

__all__ = ["consensus_labels", "consensus_quality", "annotator_quality"]


def consensus_labels(votes: Any, pred_probs: Any) -> np.ndarray:
    """The consensus class of each item (argmax of the posterior described in the module notes).

    Parameters
    ----------
    votes : LabelMatrix or array-like of shape (n, m)
        Annotator votes, class ids in ``[0, k)`` or ``-1`` (no vote).
    pred_probs : array-like of shape (n, k)
        Model probabilities, rows sum to 1 (ideally out of fold, trained on
        the majority-vote labels).

    Returns
    -------
    ndarray of shape (n,) and dtype int64

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.cleaning import consensus_labels
    >>> votes = np.array([[0, 0, 1], [1, -1, 1], [0, 1, -1]])
    >>> pred_probs = np.array([[0.8, 0.2], [0.3, 0.7], [0.2, 0.8]])
    >>> consensus_labels(votes, pred_probs).tolist()  # the model breaks the tie on the last item
    [0, 1, 1]
    """
    V, P = _check(votes, pred_probs)
    return _posterior(V, P, _accuracy(V, P)).argmax(axis=1).astype(np.int64)


def consensus_quality(votes: Any, pred_probs: Any) -> np.ndarray:
    """Posterior probability of each item's consensus label (low = the consensus is doubtful).

    Parameters
    ----------
    votes : LabelMatrix or array-like of shape (n, m)
    pred_probs : array-like of shape (n, k)

    Returns
    -------
    ndarray of shape (n,)
        Scores in ``[1/k, 1]``; an item without votes scores its model confidence.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.cleaning import consensus_quality
    >>> votes = np.array([[0, 0, 0], [0, 1, -1]])
    >>> pred_probs = np.array([[0.8, 0.2], [0.5, 0.5]])
    >>> consensus_quality(votes, pred_probs).round(2).tolist()
    [1.0, 0.9]
    """
    V, P = _check(votes, pred_probs)
    return _posterior(V, P, _accuracy(V, P)).max(axis=1)


def annotator_quality(votes: Any, pred_probs: Any) -> np.ndarray:
    """Expected accuracy of each annotator under the consensus posterior.

    Parameters
    ----------
    votes : LabelMatrix or array-like of shape (n, m)
    pred_probs : array-like of shape (n, k)

    Returns
    -------
    ndarray of shape (m,)
        Mean posterior probability of the classes each annotator voted; NaN
        for an annotator without votes.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.cleaning import annotator_quality
    >>> votes = np.array([[0, 0, 1], [1, 1, 0], [0, 0, 1], [1, 1, 1]])
    >>> pred_probs = np.array([[0.9, 0.1], [0.1, 0.9], [0.8, 0.2], [0.2, 0.8]])
    >>> annotator_quality(votes, pred_probs).round(2).tolist()  # the third annotator is the least reliable
    [1.0, 1.0, 0.25]
    """
    V, P = _check(votes, pred_probs)
    post = _posterior(V, P, _accuracy(V, P))
    voted = V >= 0
    picked = np.take_along_axis(post, np.where(voted, V, 0), axis=1)
    counts = voted.sum(axis=0)
    total = np.where(voted, picked, 0.0).sum(axis=0)
    return np.divide(total, counts, out=np.full(V.shape[1], np.nan), where=counts > 0)


def _check(votes: Any, pred_probs: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(pred_probs, SoftLabels):
        pred_probs = pred_probs.proba
    P = check_proba("pred_probs", pred_probs)
    k = P.shape[1]
    if k < 2:
        raise fail("pred_probs", "at least 2 columns (one per class)", got_text=f"{k} column")
    if not isinstance(votes, LabelMatrix):
        arr = np.asarray(votes)
        if arr.ndim != 2:
            raise fail("votes", "an (n_items, n_annotators) array of class ids with -1 for no vote", arr)
    L = as_label_matrix(votes, n_classes=k if not isinstance(votes, LabelMatrix) else None, name="votes")
    if L.n_classes > k:
        raise fail("votes", f"votes of at most {k} classes (the columns of pred_probs)",
                   got_text=f"a matrix of {L.n_classes} classes")
    V = np.asarray(L.to_dense(), dtype=np.int64)
    if V.shape[0] != P.shape[0]:
        raise fail("votes", f"{P.shape[0]} rows (one per row of pred_probs)", got_text=f"{V.shape[0]} rows")
    return V, P


def _vote_counts(V: np.ndarray, k: int, weights: np.ndarray | None = None) -> np.ndarray:
    rows, cols = np.nonzero(V >= 0)
    w = None if weights is None else weights[cols]
    flat = np.bincount(rows * k + V[rows, cols], weights=w, minlength=V.shape[0] * k)
    return flat.reshape(V.shape[0], k).astype(np.float64)


def _accuracy(V: np.ndarray, P: np.ndarray) -> np.ndarray:
    consensus = (_vote_counts(V, P.shape[1]) + 0.5 * P).argmax(axis=1)
    voted = V >= 0
    agree = (V == consensus[:, None]) & voted
    overall = agree.sum() / max(voted.sum(), 1)
    acc = (agree.sum(axis=0) + overall) / (voted.sum(axis=0) + 1.0)
    return np.clip(acc, 1e-3, 1 - 1e-3)


def _posterior(V: np.ndarray, P: np.ndarray, acc: np.ndarray) -> np.ndarray:
    k = P.shape[1]
    wrong = np.log((1 - acc) / (k - 1))
    gain = np.log(acc) - wrong  # log-odds gained by the class an annotator voted
    logp = np.log(np.clip(P, EPS, None)) + _vote_counts(V, k, gain)
    logp -= logp.max(axis=1, keepdims=True)
    post = np.exp(logp)
    return post / post.sum(axis=1, keepdims=True)
