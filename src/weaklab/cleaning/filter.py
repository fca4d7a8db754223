"""Find the items whose given label is likely wrong (a boolean mask).

The counting methods take their *number* of issues from the calibrated
confident joint (see :mod:`weaklab.cleaning.confident`): with
``r[g, t] = C[g, t] / sum_t C[g, t]`` the estimated share of items given
``g`` whose true label is ``t``, ``rint(r[g, t] * n_g)`` items given ``g``
are taken from cell ``(g, t)``. Which items are taken is decided by the
predicted probabilities.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.constants import TINY
from .._core.validation import check_choice
from ._inputs import Given, check_given
from .confident import _calibrate, _confident_true, _noise_from_joint, _raw_joint

__all__ = ["ISSUE_METHODS", "find_label_issues"]

#: Names accepted by ``method=``.
ISSUE_METHODS = (
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_joint",
    "predicted_neq_given",
    "noise_posterior",
)


def find_label_issues(labels: Any, pred_probs: Any, *, method: str = "prune_by_noise_rate") -> np.ndarray:
    """Flag the items whose given label is likely wrong.

    Parameters
    ----------
    labels : array-like of shape (n,) or (n, k)
        Given class ids in ``[0, k)``, or soft given labels whose rows sum to
        1 (items are judged at their most probable class; the counts use the
        expected confident joint).
    pred_probs : array-like of shape (n, k)
        Predicted class probabilities, rows sum to 1. Use out-of-fold
        probabilities (:func:`out_of_fold_proba`): a model that saw an item's
        label while training is too sure of it.
    method : str, default="prune_by_noise_rate"
        * ``"prune_by_noise_rate"``: from each off-diagonal cell ``(g, t)``
          of the calibrated confident joint, the estimated number of items
          given ``g`` with the largest margin ``p[i, t] - p[i, g]``.
        * ``"prune_by_class"``: for each given class ``g``, the estimated
          number of mislabelled items given ``g`` with the lowest
          self-confidence ``p[i, g]``.
        * ``"both"``: items flagged by both of the above.
        * ``"confident_joint"``: items counted off the diagonal of the
          (uncalibrated) confident joint: confidently of another class.
        * ``"predicted_neq_given"``: the most probable class is not the
          given one.
        * ``"noise_posterior"``: as many items as the confident joint counts
          off its diagonal, taken in order of their posterior probability of
          a wrong label, ``1 - p(true = given | x, given)`` with
          ``p(true = t | x, given = g) ∝ pred_probs[i, t] * noise[t, g]`` and
          ``noise`` from :func:`estimate_noise_matrix`. Unlike the ranking by
          self-confidence alone, this weighs each item by how often its
          given class receives items of the class the model predicts, which
          matters when the noise is asymmetric (e.g. pair flips).

        The three pruning methods never flag an item whose given label is
        its most probable class.

    Returns
    -------
    ndarray of shape (n,) and dtype bool
        True for the items flagged as label issues.

    See Also
    --------
    rank_label_issues : order the flagged items, worst first.
    """
    check_choice("method", method, ISSUE_METHODS)
    return _find(check_given(labels, pred_probs), method)


def _find(g: Given, method: str) -> np.ndarray:
    if method == "predicted_neq_given":
        return np.asarray(g.proba.argmax(axis=1) != g.hard)
    if method == "confident_joint":
        true, has = _confident_true(g)
        return np.asarray(has & (true != g.hard))
    if method == "noise_posterior":
        return _noise_posterior(g)
    counts = _issue_counts(g)
    if method == "prune_by_class":
        mask = _prune_by_class(g, counts.sum(axis=1))
    elif method == "prune_by_noise_rate":
        mask = _prune_by_noise_rate(g, counts)
    else:
        mask = _prune_by_class(g, counts.sum(axis=1)) & _prune_by_noise_rate(g, counts)
    return mask & (g.proba.argmax(axis=1) != g.hard)


def _issue_counts(g: Given) -> np.ndarray:
    """``m[g, t]``: how many items given ``g`` to take as truly ``t`` (zero diagonal)."""
    cal = _calibrate(_raw_joint(g), g.weights.sum(axis=0))
    sums = cal.sum(axis=1, keepdims=True)
    rates = np.divide(cal, sums, out=np.eye(g.k), where=sums > 0)
    n_given = np.bincount(g.hard, minlength=g.k).astype(np.float64)
    counts = np.rint(rates * n_given[:, None]).astype(np.int64)
    np.fill_diagonal(counts, 0)
    return counts


def _within_group_rank(groups: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Rank (0 = smallest key) of every item among the items of its group; ties keep row order."""
    order = np.lexsort((np.arange(groups.shape[0]), keys, groups))
    sorted_groups = groups[order]
    starts = np.searchsorted(sorted_groups, sorted_groups, side="left")
    rank = np.empty(groups.shape[0], dtype=np.int64)
    rank[order] = np.arange(groups.shape[0]) - starts
    return rank


def _prune_by_class(g: Given, per_class: np.ndarray) -> np.ndarray:
    self_conf = g.proba[np.arange(g.n), g.hard]
    return np.asarray(_within_group_rank(g.hard, self_conf) < per_class[g.hard])


def _prune_by_noise_rate(g: Given, counts: np.ndarray) -> np.ndarray:
    self_conf = g.proba[np.arange(g.n), g.hard]
    mask = np.zeros(g.n, dtype=bool)
    for t in np.flatnonzero(counts.sum(axis=0)):  # one pass per true class, not per item
        margin = g.proba[:, t] - self_conf
        rank = _within_group_rank(g.hard, -margin)
        mask |= (rank < counts[g.hard, t]) & (g.hard != t)
    return mask


def _noise_posterior(g: Given) -> np.ndarray:
    raw = _raw_joint(g)
    cal = _calibrate(raw, g.weights.sum(axis=0))
    noise = _noise_from_joint(cal / max(cal.sum(), TINY))  # [true, given]
    weighted = g.proba * noise[:, g.hard].T  # p(true = t | x) * p(given | true = t)
    total = weighted.sum(axis=1)
    rows = np.arange(g.n)
    wrong = 1.0 - np.divide(weighted[rows, g.hard], total, out=np.zeros(g.n), where=total > 0)
    n_issues = int(np.rint(raw.sum() - np.trace(raw)))
    mask = np.zeros(g.n, dtype=bool)
    mask[np.argsort(-wrong, kind="stable")[:n_issues]] = True
    return mask
