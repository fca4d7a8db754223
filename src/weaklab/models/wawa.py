"""Wawa: worker agreement with aggregate.

Each worker's weight is how often it agrees with the majority vote on the
items it labelled; soft labels are the weighted votes, normalised.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .._core import LabelMatrix
from .._core.validation import Checker, interval
from ._base import LabelModel, StateShapes, known_class_balance
from ._vote_stats import majority_agreement, weighted_vote_counts

__all__ = ["Wawa"]


class Wawa(LabelModel):
    """Worker agreement with aggregate: majority vote weighted by agreement.

    1. Majority vote on the training matrix (ties count fractionally: a
       vote for one of ``t`` tied classes agrees with probability ``1/t``).
    2. The weight of source ``j`` is its agreement rate with that majority
       vote over the items it voted on (``source_weight_``); a source
       without votes in the training matrix gets the vote-weighted mean
       weight of the others.
    3. :meth:`predict_proba` sums the weights of the sources voting each
       class and **normalises the weighted counts to sum to 1** (the score
       of a class is its share of the total weight). An item with no votes,
       or whose voters all have weight 0, gets ``class_balance_``.

    One source is enough (it then gets weight 1 and Wawa is majority vote).

    Parameters
    ----------
    smoothing : float, default=0.0
        Pseudo-weight added to every class before normalising the weighted
        counts of an item that has votes; 0 gives the plain weighted shares.

    Attributes
    ----------
    source_weight_ : ndarray of shape (n_sources,)
        Agreement rate of each source with the majority vote, in [0, 1].
    class_balance_ : ndarray of shape (k,)
        Given ``class_balance``, else the mean soft label of the training
        items that have votes (add-one smoothed), updated with the class
        counts of ``gold`` in proportion to their number (see
        ``known_class_balance`` in ``weaklab.models._base``).

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import Wawa
    >>> L = np.array([[0, 0, 1], [1, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1]])
    >>> model = Wawa().fit(L, n_classes=2)
    >>> model.predict(L).tolist()  # the third worker disagrees with the majority everywhere and counts least
    [0, 1, 0, 1, 1]
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {"smoothing": interval(float, 0.0, None)}
    _state_arrays: ClassVar[tuple[str, ...]] = ("source_weight_",)
    _state_shapes: ClassVar[StateShapes] = {"source_weight_": ("m",)}
    _min_sources: ClassVar[int] = 1

    def __init__(self, smoothing: float = 0.0) -> None:
        self.smoothing = smoothing

    @property
    def source_accuracy_(self) -> np.ndarray:
        """Agreement rate with the majority vote, an estimate of accuracy, shape ``(m,)``."""
        self._check_fitted()
        return self.source_weight_

    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        agreed, n_votes = majority_agreement(L)
        voted = n_votes > 0
        fallback = agreed.sum() / n_votes.sum()
        self.source_weight_ = np.where(voted, agreed / np.maximum(n_votes, 1.0), fallback)
        k = L.n_classes
        base = np.full(k, 1.0 / k)
        if class_balance is None:
            scores = weighted_vote_counts(L, self.source_weight_)
            totals = scores.sum(axis=1, keepdims=True)
            has = totals[:, 0] > 0
            mean = (scores[has] / totals[has]).sum(axis=0)
            base = (mean + 1.0) / (has.sum() + k)
        self.class_balance_ = known_class_balance(class_balance, gold, base, self._fit_gold_weight)

    def _predict_proba(self, L: LabelMatrix) -> np.ndarray:
        scores = weighted_vote_counts(L, self.source_weight_)
        has_votes = L.votes_per_item() > 0
        scores[has_votes] += float(self.smoothing)
        totals = scores.sum(axis=1, keepdims=True)
        proba = np.divide(scores, totals, out=np.empty_like(scores), where=totals > 0)
        proba[totals[:, 0] <= 0] = self.class_balance_
        return proba
