"""Instance scores of a MIL model as weak instance labels (a source for the rest of weaklab)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._core.constants import ABSTAIN
from .._core.label_matrix import LabelMatrix
from .._core.validation import check_choice, check_float, fail

__all__ = ["instance_votes", "instance_label_matrix"]


def _normalised(scores: Sequence[Any], normalize: str) -> list[np.ndarray]:
    out = []
    for i, s in enumerate(scores):
        arr = np.asarray(s, dtype=np.float64)
        if arr.ndim != 1 or len(arr) == 0 or not np.all(np.isfinite(arr)):
            raise fail(f"scores[{i}]", "a non-empty 1-d array of finite scores", arr)
        if normalize == "bag_max":
            arr = arr / arr.max() if arr.max() > 0 else np.zeros_like(arr)
        out.append(arr)
    return out


def instance_votes(
    scores: Sequence[Any],
    *,
    bag_labels: Any = None,
    positive_threshold: float = 0.5,
    negative_threshold: float | None = None,
    normalize: str = "none",
) -> np.ndarray:
    """Turn per-bag instance scores into instance votes: 1, 0 or ``ABSTAIN``.

    An instance votes 1 when its score is at least ``positive_threshold`` and 0 when at most
    ``negative_threshold``; between the two it abstains. With ``bag_labels``, the MIL assumption is
    applied: every instance of a negative bag votes 0 whatever its score.

    Parameters
    ----------
    scores : list of array-like
        One ``(n_i,)`` score array per bag (e.g. ``AttentionMIL.instance_scores``).
    bag_labels : array-like of shape (n_bags,), optional
        Known bag labels (0/1).
    positive_threshold : float, default 0.5
        Score at or above which an instance votes positive.
    negative_threshold : float or None, default None
        Score at or below which an instance votes negative; ``None`` means ``positive_threshold``
        (no abstention band: below it votes 0).
    normalize : {"none", "bag_max"}, default "none"
        ``"bag_max"`` divides each bag's scores by the bag's largest score first; use it for attention
        weights, which sum to 1 within a bag and so shrink as bags grow.

    Returns
    -------
    ndarray of shape (n_instances,)
        int8 votes in bag order (bags concatenated).

    Examples
    --------
    >>> instance_votes([[0.9, 0.1], [0.6]], positive_threshold=0.8, negative_threshold=0.2).tolist()
    [1, 0, -1]
    >>> instance_votes([[0.9, 0.1], [0.6]], bag_labels=[1, 0]).tolist()
    [1, 0, 0]
    """
    check_choice("normalize", normalize, ("none", "bag_max"))
    high = check_float("positive_threshold", positive_threshold)
    low = high if negative_threshold is None else check_float("negative_threshold", negative_threshold)
    if low > high:
        raise fail("negative_threshold", f"a value <= positive_threshold ({high})", low)
    if isinstance(scores, np.ndarray) or not isinstance(scores, Sequence) or len(scores) == 0:
        raise fail("scores", "a non-empty list of per-bag score arrays", scores)
    parts = _normalised(scores, normalize)
    flat = np.concatenate(parts)
    votes = np.full(len(flat), ABSTAIN, dtype=np.int8)
    votes[flat >= high] = 1
    votes[flat < high if negative_threshold is None else flat <= low] = 0
    if bag_labels is not None:
        labels = np.asarray(bag_labels)
        if labels.shape != (len(parts),) or not np.all(np.isin(labels, (0, 1))):
            raise fail("bag_labels", f"a (n_bags,) = ({len(parts)},) array of 0/1", labels)
        votes[np.repeat(labels, [len(p) for p in parts]) == 0] = 0
    return votes


def instance_label_matrix(
    scores: Sequence[Any],
    *,
    name: str = "mil",
    item_ids: Any = None,
    **options: Any,
) -> LabelMatrix:
    """Instance votes from MIL scores as a one-source :class:`~weaklab.LabelMatrix` (binary classes).

    Parameters
    ----------
    scores : list of array-like
        One ``(n_i,)`` score array per bag.
    name : str, default "mil"
        Source name of the column.
    item_ids : array-like of shape (n_instances,), optional
        Instance ids.
    **options
        Passed to :func:`instance_votes` (``bag_labels``, ``positive_threshold``,
        ``negative_threshold``, ``normalize``).

    Returns
    -------
    LabelMatrix
        Shape ``(n_instances, 1)``, ``n_classes=2``.

    Examples
    --------
    >>> L = instance_label_matrix([[0.9, 0.2], [0.7]], name="attention", bag_labels=[1, 0])
    >>> L.to_dense().ravel().tolist(), L.source_names
    ([1, 0, 0], ('attention',))
    """
    votes = instance_votes(scores, **options)
    return LabelMatrix(votes[:, None], n_classes=2, source_names=[name], item_ids=item_ids)
