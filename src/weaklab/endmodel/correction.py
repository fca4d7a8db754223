"""Label correction for the alternating correction/training loop, with its log.

:class:`~weaklab.endmodel.TorchClassifier` with ``correction_rounds=R``
alternates two phases ``R`` times: *correct* the labels the held-out model
contradicts with high confidence (:func:`relabel_from_predictions`), then *retrain* on
the revised labels. Every change is recorded in a :class:`CorrectionLog`
(``correction_log_``), so the corrections can be reviewed or stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core.validation import check_float, check_labels, check_proba, fail

__all__ = ["CorrectionLog", "relabel_from_predictions"]


def _frozen(values: Any, dtype: Any) -> np.ndarray:
    arr = np.array(values, dtype=dtype, copy=True).reshape(-1)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class CorrectionLog:
    """The label changes made by the alternating correction loop (read-only arrays).

    Parameters
    ----------
    round : array-like of shape (m,)
        Correction round (1-based) of each change.
    item : array-like of shape (m,)
        Row of the item in the ``X``/``y`` passed to ``fit``.
    old, new : array-like of shape (m,)
        Class index (into ``classes_``) before and after the change.
    confidence : array-like of shape (m,)
        The held-out model's probability of ``new``.

    Examples
    --------
    >>> log = CorrectionLog(round=[1], item=[4], old=[0], new=[1], confidence=[0.97])
    >>> len(log), log.to_records()[0]["new"]
    (1, 1)
    """

    round: Any
    item: Any
    old: Any
    new: Any
    confidence: Any

    def __post_init__(self) -> None:
        for name in ("round", "item", "old", "new"):
            object.__setattr__(self, name, _frozen(getattr(self, name), np.int64))
        object.__setattr__(self, "confidence", _frozen(self.confidence, np.float64))
        sizes = {name: getattr(self, name).shape[0] for name in ("round", "item", "old", "new", "confidence")}
        if len(set(sizes.values())) != 1:
            raise fail("CorrectionLog", "arrays of one length", got_text=str(sizes))

    def __len__(self) -> int:
        return int(self.item.shape[0])

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per change: ``round``, ``item``, ``old``, ``new``, ``confidence``."""
        return [
            {"round": int(r), "item": int(i), "old": int(o), "new": int(n), "confidence": float(c)}
            for r, i, o, n, c in zip(self.round, self.item, self.old, self.new, self.confidence)
        ]

    @classmethod
    def empty(cls) -> CorrectionLog:
        """A log with no change."""
        return cls(round=[], item=[], old=[], new=[], confidence=[])

    def extended(self, round_: int, item: Any, old: Any, new: Any, confidence: Any) -> CorrectionLog:
        """A new log with one round's changes appended."""
        n = np.asarray(item).shape[0]
        return CorrectionLog(
            round=np.r_[self.round, np.full(n, round_)],
            item=np.r_[self.item, item],
            old=np.r_[self.old, old],
            new=np.r_[self.new, new],
            confidence=np.r_[self.confidence, confidence],
        )


def relabel_from_predictions(proba: Any, labels: Any, threshold: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Relabel the items whose held-out prediction is another class, with enough confidence.

    An item labelled ``y`` is relabelled to its predicted class ``j != y``
    when ``p_j >= t_j`` and ``p_y < t_y``: the model is confident in ``j``
    and not in ``y``. Without a threshold, class ``c``'s threshold ``t_c`` is
    the mean of ``p_c`` over the items labelled ``c`` (the class's
    self-confidence, as in confident learning): a model trained on noisy
    labels rarely reaches a fixed high probability (at a noise rate ``r`` its
    probabilities are capped near ``1 - r``), so a fixed threshold stops
    correcting just when the noise is heaviest. The probabilities should come
    from a model that did not train on the item (out-of-fold), or it mostly
    agrees with the labels it memorised.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Held-out class probabilities.
    labels : array-like of shape (n,)
        Current class ids.
    threshold : float in (0.5, 1], optional
        A fixed threshold for every class instead of the per-class ones
        (then ``p_y < threshold`` always holds for a changed item).

    Returns
    -------
    new_labels : ndarray of shape (n,)
        A new array; the input is not modified.
    changed : ndarray of int
        Rows whose label changed.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.95, 0.05], [0.6, 0.4], [0.2, 0.8]])
    >>> new, changed = relabel_from_predictions(P, [1, 1, 1], threshold=0.9)
    >>> new.tolist(), changed.tolist()
    ([0, 1, 1], [0])
    >>> relabel_from_predictions(P, [0, 1, 1])[1].tolist()  # class 0's threshold is 0.95: item 1 stays
    []
    """
    p = check_proba("proba", proba)
    y = check_labels("labels", labels, p.shape[1], length=p.shape[0])
    pred = p.argmax(axis=1)
    if threshold is None:
        k = p.shape[1]
        counts = np.bincount(y, minlength=k)
        tau = np.array([p[y == j, j].mean() if counts[j] else np.inf for j in range(k)])
    else:
        tau = np.full(p.shape[1], check_float("threshold", threshold, low=0.5, high=1.0, low_open=True))
    conf = p[np.arange(p.shape[0]), pred]
    own = p[np.arange(p.shape[0]), y]
    changed = np.flatnonzero((pred != y) & (conf >= tau[pred]) & (own < tau[y]))
    new = y.copy()
    new[changed] = pred[changed]
    return new, changed
