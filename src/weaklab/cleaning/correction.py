"""Confidence-gated label correction with a log of every change."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.validation import check_choice, check_float, fail
from ._inputs import check_given, check_mask_or_indices
from ._log import CorrectionLog, apply_corrections
from ._steps import find_issues
from .filter import ISSUE_METHODS

__all__ = ["CorrectionLog", "correct_labels", "CORRECTION_MODES"]

#: Names accepted by ``mode=``.
CORRECTION_MODES = ("hard", "soft")


def correct_labels(
    labels: Any,
    pred_probs: Any,
    *,
    issues: Any = None,
    threshold: float = 0.9,
    mode: str = "hard",
    method: str = "prune_by_noise_rate",
    item_ids: Any = None,
) -> tuple[np.ndarray, CorrectionLog]:
    """Relabel the flagged items the model is confident belong to another class.

    Only a flagged item whose predicted probability of some class other than
    its given one is at least ``threshold`` changes; every change is logged
    and nothing else is touched.

    Parameters
    ----------
    labels : array-like of shape (n,) or (n, k)
        Given class ids or soft given labels (rows sum to 1).
    pred_probs : array-like of shape (n, k)
        Out-of-fold predicted probabilities, rows sum to 1.
    issues : array-like of shape (n,) of bool, or integer positions, optional
        The items that may change. Default: ``find_label_issues(labels,
        pred_probs, method=method)``.
    threshold : float, default=0.9
        Minimum probability of the new class, in ``(0, 1]``.
    mode : {"hard", "soft"}, default="hard"
        ``"hard"``: return ``(n,)`` class ids; a changed item takes the new
        class. ``"soft"``: return ``(n, k)`` soft labels; a changed row
        becomes the model's ``pred_probs`` row and the other rows keep the
        given labels (one-hot for hard labels).
    method : str, default="auto"
        Detection method when ``issues`` is None (see :func:`find_label_issues`).
    item_ids : array-like of shape (n,), optional
        Ids written to the log's ``item`` column; default row positions.

    Returns
    -------
    new_labels : ndarray of shape (n,) (mode "hard") or (n, k) (mode "soft")
    log : CorrectionLog
        One row per changed item, in row order.

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
    >>> from weaklab import correct_labels
    >>> fixed, log = correct_labels(labels, pred_probs, threshold=0.8)
    >>> len(log), round(float(np.mean(labels != y)), 3), round(float(np.mean(fixed != y)), 3)  # fewer wrong labels
    (30, 0.192, 0.142)
    >>> list(log.to_frame().columns)
    ['item', 'old_label', 'new_label', 'method', 'score', 'threshold']
    """
    check_choice("mode", mode, CORRECTION_MODES)
    check_choice("method", method, ISSUE_METHODS)
    threshold = check_float("threshold", threshold, low=0.0, high=1.0, low_open=True)
    g = check_given(labels, pred_probs)
    ids = _item_ids(item_ids, g.n)
    flagged = find_issues(g, method) if issues is None else check_mask_or_indices("issues", issues, g.n)
    source = method if issues is None else "provided"
    return apply_corrections(g, flagged, threshold, mode, source, ids)


def _item_ids(item_ids: Any, n: int) -> np.ndarray:
    if item_ids is None:
        return np.arange(n, dtype=np.int64)
    ids = np.asarray(item_ids)
    if ids.ndim != 1 or ids.shape[0] != n:
        raise fail("item_ids", f"a 1-d array of {n} ids (one per item)", ids)
    return ids
