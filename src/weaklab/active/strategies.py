"""Query strategies as pure scoring functions: a higher score means *ask this item first*.

Every function takes arrays over the pool of ``n`` items and returns a float
array of shape ``(n,)``. Uncertainty scores are scaled to ``[0, 1]`` so they
can be combined (e.g. with a density in :func:`~weaklab.active.density_weighted`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core import LabelMatrix, as_label_matrix
from .._core.constants import EPS
from .._core.validation import check_choice, check_int, check_random_state, fail
from ._inputs import checked_proba

__all__ = [
    "UNCERTAINTY_MEASURES",
    "DISAGREEMENT_MEASURES",
    "random_scores",
    "least_confidence",
    "margin",
    "entropy",
    "uncertainty",
    "vote_entropy",
    "model_disagreement",
]

UNCERTAINTY_MEASURES = ("entropy", "margin", "least_confidence")
DISAGREEMENT_MEASURES = ("tv", "js", "kl")


def random_scores(n_items: int, *, random_state: Any = None) -> np.ndarray:
    """Uniform random scores: the baseline strategy.

    Parameters
    ----------
    n_items : int
        Pool size ``n``.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the scores.

    Returns
    -------
    ndarray of shape (n_items,)
        Independent draws from ``U[0, 1)``.

    Examples
    --------
    >>> from weaklab.active import random_scores
    >>> scores = random_scores(4, random_state=0)
    >>> scores.shape, bool(((scores >= 0) & (scores < 1)).all())
    ((4,), True)
    """
    n = check_int("n_items", n_items, low=0)
    return check_random_state(random_state).random(n)


def least_confidence(proba: Any) -> np.ndarray:
    """One minus the largest class probability, rescaled to ``[0, 1]``.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Predicted class probabilities; rows sum to 1.

    Returns
    -------
    ndarray of shape (n,)
        ``(1 - max_c p_c) * k / (k - 1)``: 0 for a one-hot row, 1 for a uniform row.

    Examples
    --------
    >>> from weaklab.active import least_confidence
    >>> least_confidence([[0.5, 0.5], [0.9, 0.1], [1.0, 0.0]]).round(2).tolist()
    [1.0, 0.2, 0.0]
    """
    p = checked_proba("proba", proba)
    k = p.shape[1]
    return np.clip((1.0 - p.max(axis=1)) * k / (k - 1), 0.0, 1.0)


def margin(proba: Any) -> np.ndarray:
    """One minus the gap between the two most probable classes.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Predicted class probabilities; rows sum to 1.

    Returns
    -------
    ndarray of shape (n,)
        ``1 - (p_(1) - p_(2))`` in ``[0, 1]``: 1 when the top two classes tie.

    Examples
    --------
    >>> from weaklab.active import margin
    >>> margin([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4]]).round(2).tolist()
    [1.0, 0.2, 0.8]
    """
    p = checked_proba("proba", proba)
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return np.clip(1.0 - (top2[:, 1] - top2[:, 0]), 0.0, 1.0)


def entropy(proba: Any) -> np.ndarray:
    """Shannon entropy of each row, normalised by ``log k`` to ``[0, 1]``.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Predicted class probabilities; rows sum to 1.

    Returns
    -------
    ndarray of shape (n,)
        0 for a one-hot row, 1 for a uniform row.

    Examples
    --------
    >>> from weaklab.active import entropy
    >>> entropy([[0.5, 0.5], [0.9, 0.1], [1.0, 0.0]]).round(3).tolist()
    [1.0, 0.469, 0.0]
    """
    p = checked_proba("proba", proba)
    return _entropy(p)


def _entropy(p: np.ndarray) -> np.ndarray:
    """Normalised entropy of validated rows ``(n, k)``."""
    logs = np.log(np.clip(p, EPS, 1.0))
    h = -np.sum(np.where(p > 0, p * logs, 0.0), axis=1) / np.log(p.shape[1])
    return np.clip(h, 0.0, 1.0) + 0.0  # + 0.0: a certain row scores 0.0, not -0.0


def uncertainty(proba: Any, *, measure: str = "entropy") -> np.ndarray:
    """Uncertainty of each row by a named measure.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Predicted class probabilities; rows sum to 1.
    measure : {"entropy", "margin", "least_confidence"}, default="entropy"
        :func:`entropy`, :func:`margin` or :func:`least_confidence`.

    Returns
    -------
    ndarray of shape (n,)
        Scores in ``[0, 1]``.

    Examples
    --------
    >>> from weaklab.active import uncertainty
    >>> proba = [[0.5, 0.5], [0.9, 0.1]]
    >>> uncertainty(proba).round(3).tolist(), uncertainty(proba, measure="margin").round(3).tolist()
    ([1.0, 0.469], [1.0, 0.2])
    """
    check_choice("measure", measure, UNCERTAINTY_MEASURES)
    return {"entropy": entropy, "margin": margin, "least_confidence": least_confidence}[measure](proba)


def vote_entropy(L: Any, *, n_classes: int | None = None, few_votes: str = "low") -> np.ndarray:
    """Source disagreement: entropy of the non-abstain votes on each item, normalised by ``log k``.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n, m)
        Votes, ``-1`` = abstain.
    n_classes : int, optional
        Number of classes (taken from a LabelMatrix).
    few_votes : {"low", "high"}, default="low"
        Score of an item with fewer than 2 votes, where no disagreement can be
        observed: ``"low"`` gives 0 (asked last, like a unanimous item);
        ``"high"`` gives 1 (asked first, like a full tie: what the sources
        do not cover is as unknown as what they fight over).

    Returns
    -------
    ndarray of shape (n,)
        In ``[0, 1]``: 0 when every vote agrees, 1 when the votes spread
        evenly over all ``k`` classes.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.active import vote_entropy
    >>> L = np.array([[0, 1, -1], [1, 1, 1], [-1, -1, -1]])
    >>> vote_entropy(L, n_classes=2).round(3).tolist()
    [1.0, 0.0, 0.0]
    """
    check_choice("few_votes", few_votes, ("low", "high"))
    matrix: LabelMatrix = as_label_matrix(L, n_classes)
    counts = matrix.class_counts().astype(np.float64)
    n_votes = counts.sum(axis=1)
    p = counts / np.maximum(n_votes, 1.0)[:, None]
    scores = _entropy(p)
    scores[n_votes < 2] = 0.0 if few_votes == "low" else 1.0
    return scores


def model_disagreement(proba: Any, label_proba: Any, *, measure: str = "tv") -> np.ndarray:
    """Disagreement between the end model's and the label model's distributions.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        End-model probabilities on the pool; rows sum to 1.
    label_proba : array-like of shape (n, k)
        Label-model soft labels on the same items; rows sum to 1.
    measure : {"tv", "js", "kl"}, default="tv"
        ``"tv"``: total variation ``0.5 * sum |p - q|`` (in ``[0, 1]``);
        ``"js"``: Jensen-Shannon divergence in bits (in ``[0, 1]``);
        ``"kl"``: ``KL(label_proba || proba)`` in nats (unbounded;
        probabilities are clipped at 1e-12).

    Returns
    -------
    ndarray of shape (n,)
        0 where the two distributions agree.

    Examples
    --------
    >>> from weaklab.active import model_disagreement
    >>> end_model = [[0.9, 0.1], [0.2, 0.8]]
    >>> label_model = [[0.8, 0.2], [0.9, 0.1]]
    >>> model_disagreement(end_model, label_model).round(2).tolist()
    [0.1, 0.7]
    """
    check_choice("measure", measure, DISAGREEMENT_MEASURES)
    p = checked_proba("proba", proba)
    q = checked_proba("label_proba", label_proba, n_rows=p.shape[0])
    if q.shape[1] != p.shape[1]:
        raise fail("label_proba", f"{p.shape[1]} columns (as proba)", got_text=f"{q.shape[1]} columns")
    if measure == "tv":
        return np.clip(0.5 * np.abs(p - q).sum(axis=1), 0.0, 1.0)
    if measure == "kl":
        return _kl(q, p)
    mid = 0.5 * (p + q)
    return np.clip(0.5 * (_kl(p, mid) + _kl(q, mid)) / np.log(2.0), 0.0, 1.0)


def _kl(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``KL(p || q)`` per row in nats (0 log 0 = 0; q clipped away from 0)."""
    ratio = np.log(np.clip(p, EPS, 1.0)) - np.log(np.clip(q, EPS, 1.0))
    return np.maximum(np.sum(np.where(p > 0, p * ratio, 0.0), axis=1), 0.0)

