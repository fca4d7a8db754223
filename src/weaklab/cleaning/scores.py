"""Per-item label-quality scores and the ranking of items by them (worst label first).

Every score lies in ``[0, 1]``; lower means the given label is more likely
wrong. Soft given labels are scored against their most probable class.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.validation import check_choice
from ._inputs import Given, check_given, check_mask_or_indices

__all__ = ["QUALITY_SCORES", "label_quality_scores", "rank_label_issues"]

#: Names accepted by ``score=``.
QUALITY_SCORES = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")


def label_quality_scores(labels: Any, pred_probs: Any, *, score: str = "self_confidence") -> np.ndarray:
    """Score how likely each given label is correct (low = likely a label issue).

    Parameters
    ----------
    labels : array-like of shape (n,) or (n, k)
        Given class ids, or soft given labels (scored at their argmax).
    pred_probs : array-like of shape (n, k)
        Predicted class probabilities (ideally out of fold), rows sum to 1.
    score : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}, default="self_confidence"
        * ``"self_confidence"``: ``p[i, given_i]``.
        * ``"normalized_margin"``: ``(1 + p[i, given_i] - max_{j != given_i} p[i, j]) / 2``.
        * ``"confidence_weighted_entropy"``: ``1 / (1 + H_i / p[i, given_i])``
          with ``H_i`` the entropy of row ``i`` divided by ``log k`` (in
          ``[0, 1]``): a decreasing function of the entropy weighted by the
          inverse self-confidence, low when the prediction is uncertain *and*
          gives the label little mass (0 when it gives it none).

    Returns
    -------
    ndarray of shape (n,)
        Scores in ``[0, 1]``.

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
    >>> from weaklab.cleaning import label_quality_scores
    >>> scores = label_quality_scores(labels, pred_probs)
    >>> wrong = labels != y
    >>> bool(scores[wrong].mean() < scores[~wrong].mean())  # wrong labels score lower
    True
    """
    check_choice("score", score, QUALITY_SCORES)
    return _scores(check_given(labels, pred_probs), score)


def rank_label_issues(
    labels: Any, pred_probs: Any, *, score: str = "self_confidence", mask: Any = None
) -> np.ndarray:
    """Positions of items ordered from the most to the least likely label issue.

    Parameters
    ----------
    labels : array-like of shape (n,) or (n, k)
    pred_probs : array-like of shape (n, k)
    score : str, default="self_confidence"
        One of :data:`QUALITY_SCORES` (see :func:`label_quality_scores`).
    mask : array-like of shape (n,) of bool, or integer positions, optional
        Rank only these items (e.g. the mask from :func:`find_label_issues`);
        default all items.

    Returns
    -------
    ndarray of int64
        Item positions sorted by ascending score; ties keep row order.

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
    >>> from weaklab import rank_label_issues
    >>> order = rank_label_issues(labels, pred_probs)
    >>> round(float(np.mean(labels[order[:50]] != y[order[:50]])), 2)  # share of real errors among the top 50
    1.0
    """
    check_choice("score", score, QUALITY_SCORES)
    g = check_given(labels, pred_probs)
    keep = np.ones(g.n, dtype=bool) if mask is None else check_mask_or_indices("mask", mask, g.n)
    positions = np.flatnonzero(keep)
    order = np.argsort(_scores(g, score)[positions], kind="stable")
    return positions[order].astype(np.int64)


def _scores(g: Given, score: str) -> np.ndarray:
    rows = np.arange(g.n)
    self_conf = g.proba[rows, g.hard]
    if score == "self_confidence":
        return self_conf
    if score == "normalized_margin":
        others = g.proba.copy()
        others[rows, g.hard] = -np.inf
        return np.clip((1.0 + self_conf - others.max(axis=1)) / 2.0, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(g.proba > 0, g.proba * np.log(g.proba), 0.0)
    entropy = -terms.sum(axis=1) / np.log(g.k)
    entropy = np.clip(entropy, 0.0, 1.0)
    total = self_conf + entropy
    return np.divide(self_conf, total, out=np.ones(g.n), where=total > 0)
