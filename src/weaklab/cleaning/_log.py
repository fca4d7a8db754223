"""The correction log and the corrections that fill it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._core.validation import fail
from ._inputs import Given
from ._steps import best_other

__all__ = ["CorrectionLog", "apply_corrections"]

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
    >>> ids = [f"item{i}" for i in range(len(labels))]
    >>> _, log = correct_labels(labels, pred_probs, threshold=0.8, item_ids=ids)
    >>> type(log).__name__, str(log.item[0]).startswith("item"), bool((log.old_label != log.new_label).all())
    ('CorrectionLog', True, True)
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


def apply_corrections(
    g: Given, flagged: np.ndarray, threshold: float, mode: str, source: str, ids: np.ndarray
) -> tuple[np.ndarray, CorrectionLog]:
    best, score = best_other(g)
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
