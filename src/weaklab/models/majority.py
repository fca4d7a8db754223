"""Majority vote: every non-abstaining source counts once."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .._core import LabelMatrix, PartitionedLabelMatrix, PartitionStatistics
from .._core.validation import Checker, interval
from ._base import LabelModel, known_class_balance

__all__ = ["MajorityVote"]


class MajorityVote(LabelModel):
    """Soft labels proportional to the votes each class gets.

    The soft label of an item is the share of its non-abstain votes that went
    to each class (optionally smoothed); an item nobody voted on gets the
    class balance. ``predict(L, tie_break=...)`` resolves ties with the
    ``"random"``, ``"abstain"`` or ``"prior"`` policy.

    Parameters
    ----------
    smoothing : float, default=0.0
        Pseudo-count added to every class before normalising; 0 gives the
        plain vote shares.

    Attributes
    ----------
    class_balance_ : ndarray of shape (k,)
        Given ``class_balance``, else the share of all votes per class
        (add-one smoothed), updated with the class counts of ``gold`` in
        proportion to their number (see ``known_class_balance`` in ``weaklab.models._base``).
    n_sources_, n_classes_ : int
    source_names_ : list of str

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import MajorityVote
    >>> L = np.array([[0, 0, 1], [1, 1, -1], [-1, -1, -1], [0, 1, -1]])
    >>> model = MajorityVote().fit(L, n_classes=2)
    >>> model.predict_proba(L).round(3).tolist()  # an item without votes gets the class balance
    [[0.667, 0.333], [0.0, 1.0], [0.444, 0.556], [0.5, 0.5]]
    >>> model.predict(L, tie_break="abstain").tolist()  # abstains on the tie and on the item without votes
    [0, 1, -1, -1]
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {"smoothing": interval(float, 0.0, None)}
    _min_sources: ClassVar[int] = 1
    fits_partitioned_gold: ClassVar[bool] = True
    _conformance_skip: ClassVar[tuple[str, ...]] = ("beats_majority",)

    def __init__(self, smoothing: float = 0.0) -> None:
        self.smoothing = smoothing

    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        self._fit_counts(L.class_counts().sum(axis=0), gold, class_balance)

    def _fit_reduced(self, plm: PartitionedLabelMatrix, stats: PartitionStatistics,
                     class_balance: np.ndarray | None, gold: np.ndarray | None = None) -> None:
        self._fit_counts(stats.class_votes.sum(axis=0), gold, class_balance)

    def _fit_counts(self, class_votes: np.ndarray, gold: np.ndarray | None,
                    class_balance: np.ndarray | None) -> None:
        """The class balance from the number of votes for each class, ``(k,)``."""
        counts = np.asarray(class_votes, dtype=np.float64)
        k = counts.shape[0]
        self.class_balance_ = known_class_balance(class_balance, gold, (counts + 1.0) / (counts.sum() + k),
                                                  self._fit_gold_weight)

    def _predict_proba(self, L: LabelMatrix) -> np.ndarray:
        counts = L.class_counts().astype(np.float64)
        counts += float(self.smoothing)
        totals = counts.sum(axis=1, keepdims=True)
        proba = np.divide(counts, totals, out=np.empty_like(counts), where=totals > 0)
        empty = totals[:, 0] == 0
        proba[empty] = self.class_balance_
        return proba
