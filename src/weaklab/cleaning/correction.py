"""Confidence-gated label correction with a log of every change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_choice, check_float, fail
from ._inputs import Given, check_given, check_mask_or_indices
from .filter import ISSUE_METHODS, _find

__all__ = ["CorrectionLog", "correct_labels", "CORRECTION_MODES"]

#: Names accepted by ``mode=``.
CORRECTION_MODES = ("hard", "soft")
_COLUMNS = ("item", "old_label", "new_label", "method", "score", "threshold")


@dataclass(frozen=True)
class CorrectionLog:
    """A read-only table of label changes: one row per changed item.

    Attributes
    ----------
    item : ndarray of shape (r,)
        The item's id (from ``item_ids``) or its row position.
    old_label, new_label : ndarray of shape (r,) and dtype int64
        The class before and after (the argmax for soft labels). ``new_label
        = -1`` means the item was removed from training (pruned).
    method : ndarray of shape (r,) and dtype object
        What flagged the item (a :data:`ISSUE_METHODS` name or ``"provided"``
        for issues passed in).
    score : ndarray of shape (r,)
        The model's probability of ``new_label`` (for a pruned item, of its
        most probable other class).
    threshold : ndarray of shape (r,)
        The confidence threshold in force.

    Convert with :meth:`to_frame` (``pandas.DataFrame``) or :meth:`to_dict`.
    """

    item: np.ndarray
    old_label: np.ndarray
    new_label: np.ndarray
    method: np.ndarray
    score: np.ndarray
    threshold: np.ndarray
    columns: tuple[str, ...] = field(default=_COLUMNS, init=False, repr=False)

    def __post_init__(self) -> None:
        lengths = {len(getattr(self, c)) for c in _COLUMNS}
        if len(lengths) != 1:
            raise fail("CorrectionLog", "columns of equal length", got_text=f"lengths {sorted(lengths)}")
        for c in _COLUMNS:
            arr = np.array(getattr(self, c), copy=True)
            arr.flags.writeable = False
            object.__setattr__(self, c, arr)

    def __len__(self) -> int:
        return int(self.item.shape[0])

    def to_dict(self) -> dict[str, np.ndarray]:
        """The columns as a dict of arrays (``pandas.DataFrame(log.to_dict())`` works too)."""
        return {c: getattr(self, c) for c in _COLUMNS}

    def to_frame(self) -> pd.DataFrame:
        """The log as a ``pandas.DataFrame`` with columns item, old_label, new_label, method, score, threshold."""
        return pd.DataFrame({c: np.array(v) for c, v in self.to_dict().items()}, columns=list(_COLUMNS))

    @classmethod
    def empty(cls) -> CorrectionLog:
        """A log without rows."""
        z = np.zeros(0)
        return cls(np.zeros(0, dtype=np.int64), z.astype(np.int64), z.astype(np.int64),
                   np.zeros(0, dtype=object), z, z)


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
    method : str, default="prune_by_noise_rate"
        Detection method when ``issues`` is None (see :func:`find_label_issues`).
    item_ids : array-like of shape (n,), optional
        Ids written to the log's ``item`` column; default row positions.

    Returns
    -------
    new_labels : ndarray of shape (n,) (mode "hard") or (n, k) (mode "soft")
    log : CorrectionLog
        One row per changed item, in row order.
    """
    check_choice("mode", mode, CORRECTION_MODES)
    check_choice("method", method, ISSUE_METHODS)
    threshold = check_float("threshold", threshold, low=0.0, high=1.0, low_open=True)
    g = check_given(labels, pred_probs)
    ids = _item_ids(item_ids, g.n)
    flagged = _find(g, method) if issues is None else check_mask_or_indices("issues", issues, g.n)
    source = method if issues is None else "provided"
    return _correct(g, flagged, threshold, mode, source, ids)


def _item_ids(item_ids: Any, n: int) -> np.ndarray:
    if item_ids is None:
        return np.arange(n, dtype=np.int64)
    ids = np.asarray(item_ids)
    if ids.ndim != 1 or ids.shape[0] != n:
        raise fail("item_ids", f"a 1-d array of {n} ids (one per item)", ids)
    return ids


def _best_other(g: Given) -> tuple[np.ndarray, np.ndarray]:
    """Most probable class other than the given one, and its probability."""
    others = g.proba.copy()
    others[np.arange(g.n), g.hard] = -1.0
    best = others.argmax(axis=1)
    return best, g.proba[np.arange(g.n), best]


def _correct(
    g: Given, flagged: np.ndarray, threshold: float, mode: str, source: str, ids: np.ndarray
) -> tuple[np.ndarray, CorrectionLog]:
    best, score = _best_other(g)
    change = flagged & (score >= threshold)
    rows = np.flatnonzero(change)
    if mode == "hard":
        new: np.ndarray = g.hard.copy()
        new[rows] = best[rows]
    else:
        new = g.weights.copy()
        new[rows] = g.proba[rows]
    log = CorrectionLog(
        item=ids[rows],
        old_label=g.hard[rows],
        new_label=best[rows],
        method=np.full(rows.shape[0], source, dtype=object),
        score=score[rows],
        threshold=np.full(rows.shape[0], threshold),
    )
    return new, log
