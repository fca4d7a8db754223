"""Simulated ties for the no-gold criterion on labeling-function votes: a disagreeing pair, judged by the rest.

On labeling-function-shaped votes :class:`~weaklab.models.auto.AutoLabelModel`
only lets a candidate break majority vote's ties, so the candidate is judged
on ties. Most real ties are two LFs voting two classes and nothing else. A
*tie pair* reproduces one: on an item of the held-out half with three votes
or more, two votes for different classes (sources ``j`` and ``l``, classes
``a`` and ``b``) are kept as a row of their own, and the item's other votes
are its *referee*: when their
plurality is strictly ``a`` or ``b``, a tie-breaker is scored on whether it
picks that class. A label model can only pick well from the pair alone by
knowing which LF to trust against which, the thing that decides real ties.

Leaving out one vote of an item (:func:`~weaklab.models._heldout.leave_one_out_rows`)
makes ties too, but of another kind: items whose full votes already have a
majority, judged by a single vote. On WRENCH TREC's train split those
judgements ranked tie-breakers almost opposite to their accuracy on the
real ties (gold used only for that diagnosis); the pairs put the two best
first, in order, and every model worse than majority vote on the real ties
below its coin flip. The pairs have their own blind spot: a pair hides
which LFs did *not* vote, evidence a model of abstentions rightly uses on a
real two-vote tie, so :mod:`._trust` asks the held-out lift to agree.

Pairs are chosen by a hash of the item's votes, salted, never by row or
column positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core import LabelMatrix
from ._auto_select import mix, row_hashes, vote_keys

__all__ = ["TiePairs", "class_balanced", "tie_pairs", "pair_choice"]

PAIRS_PER_ITEM = 4  # disagreeing pairs scored per item at most (the item's other pairs add little)
PAIR_VOTES = 16  # pairs are drawn among this many of an item's votes at most (chosen by hash; all referee)
_BLOCK_CELLS = 4_000_000  # row x pair cells (times votes) handled at once
_U64 = np.uint64


@dataclass(frozen=True)
class TiePairs:
    """The tie pairs of one held-out half.

    Attributes
    ----------
    rows : LabelMatrix of shape (n_pairs, m)
        Two votes per row: the pair, as a tie of its own.
    item : ndarray of shape (n_pairs,)
        Row of the held-out half the pair comes from.
    first, second : ndarray of shape (n_pairs,)
        The two tied classes.
    referee : ndarray of shape (n_pairs,)
        The strict plurality of the item's other votes (``first`` or ``second``).
    weight : ndarray of shape (n_pairs,)
        ``1 / (pairs of the item)``: every item with pairs weighs 1.
    n_items : int
        Items with at least one pair (the number of scored units).
    """

    rows: LabelMatrix
    item: np.ndarray
    first: np.ndarray
    second: np.ndarray
    referee: np.ndarray
    weight: np.ndarray
    n_items: int

    def per_item(self, values: np.ndarray, n_held: int) -> np.ndarray:
        """``values`` (one per pair) weighted and summed per held row, shape ``(n_held,)``."""
        return np.bincount(self.item, weights=self.weight * values, minlength=n_held)


def pair_choice(P: np.ndarray, pairs: TiePairs, tol: float = 1e-9) -> np.ndarray:
    """Share of each pair's tie that ``P`` (posteriors of ``pairs.rows``) gives to the referee's class.

    1 when ``P`` puts more mass on the referee's class than on the other
    tied class, 0 when less, 1/2 when equal (majority vote's uniform
    random tie-break always scores 1/2).
    """
    idx = np.arange(pairs.item.size)
    P = np.asarray(P, dtype=np.float64)
    mine = P[idx, pairs.referee]
    other = P[idx, np.where(pairs.referee == pairs.first, pairs.second, pairs.first)]
    return np.where(np.abs(mine - other) <= tol, 0.5, (mine > other).astype(np.float64))


def tie_pairs(held: LabelMatrix, salt: int, per_item: int = PAIRS_PER_ITEM) -> TiePairs:
    """The tie pairs of ``held`` (see the module docstring), at most ``per_item`` per item.

    Every other vote of the item referees, near-copies of the pair's sources
    included: leaving those out (as the cavity rows of
    :mod:`._heldout` do) left most of WRENCH TREC's multi-vote items without
    a referee in the pair's classes, and the rest were refereed at chance.
    """
    m, k = held.n_sources, held.n_classes
    csr = held.csr
    lengths = np.diff(csr.indptr)
    keys = vote_keys(held, salt)
    hashes = row_hashes(held, salt)
    parts = []
    for v in np.unique(lengths[lengths >= 3]):
        rows_v = np.flatnonzero(lengths == v)
        first, second = np.triu_indices(min(int(v), PAIR_VOTES), 1)
        step = max(1, _BLOCK_CELLS // (first.size * int(v)))
        for start in range(0, rows_v.size, step):
            parts.append(_pairs_of_rows(csr, rows_v[start:start + step], int(v), first, second, keys,
                                        hashes, k, per_item))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        rows = LabelMatrix.from_coo(empty, empty, empty, n_items=0, n_sources=m, n_classes=k,
                                    source_names=held.source_names)
        return TiePairs(rows, empty, empty, empty, empty, np.zeros(0), 0)
    item, src_a, src_b, a, b, referee = (np.concatenate([p[i] for p in parts]) for i in range(6))
    n_pairs = item.size
    rows = LabelMatrix.from_coo(np.repeat(np.arange(n_pairs), 2), np.column_stack([src_a, src_b]).ravel(),
                                np.column_stack([a, b]).ravel(), n_items=n_pairs, n_sources=m, n_classes=k,
                                source_names=held.source_names)
    per = np.bincount(item, minlength=held.n_items)
    return TiePairs(rows, item, a, b, referee, 1.0 / per[item], int((per > 0).sum()))


def class_balanced(item: np.ndarray, weight: np.ndarray, first: np.ndarray, second: np.ndarray,
                   referee: np.ndarray, k: int) -> np.ndarray:
    """``weight`` reweighted so that, for each two tied classes, both referee outcomes weigh the same.

    Under these weights a tie-breaker that only prefers one class of each
    two (whatever the sources) scores majority vote's coin flip: what is
    left of its gain comes from knowing which source to trust against
    which (see :mod:`._tie_check`, *Class preference*).

    Pairs whose two classes are refereed only one way get weight 0; the
    rest are scaled so the weights sum to the number of items with pairs of
    positive weight (a gain stays per scored item).

    Examples
    --------
    >>> w = class_balanced(np.arange(4), np.ones(4), np.array([0, 0, 0, 1]), np.array([1, 1, 1, 2]),
    ...                    np.array([0, 0, 1, 1]), 3)
    >>> w.round(2).tolist()
    [0.75, 0.75, 1.5, 0.0]
    """
    low, high = np.minimum(first, second), np.maximum(first, second)
    key = (low * k + high) * 2 + (referee == high)
    side = np.bincount(key, weights=weight, minlength=2 * k * k).astype(np.float64).reshape(-1, 2)
    half = np.where((side > 0).all(axis=1), side.sum(axis=1) / 2.0, 0.0)
    scale = np.divide(half[:, None], side, out=np.zeros_like(side), where=side > 0).reshape(-1)
    out = weight * scale[key]
    total = float(out.sum())
    if total <= 0:
        return out
    return out * np.unique(item[out > 0]).size / total


def _pairs_of_rows(csr: Any, rows: np.ndarray, v: int, first: np.ndarray, second: np.ndarray, keys: np.ndarray,
                   hashes: np.ndarray, k: int, per_item: int) -> tuple[np.ndarray, ...]:
    """Tie pairs of rows that all hold ``v`` votes: at most ``per_item`` per row, chosen by hash.

    ``first`` and ``second`` index the pairs among the row's first
    ``PAIR_VOTES`` votes in the order of a hash of (source, vote, item).
    """
    pos = csr.indptr[rows][:, None] + np.arange(v)[None, :]
    src = csr.indices[pos].astype(np.int64)  # (r, v)
    lab = csr.data[pos].astype(np.int64) - 1
    r_idx = np.arange(rows.size)[:, None]
    with np.errstate(over="ignore"):
        order = np.argsort(mix(keys[src, lab + 1] ^ hashes[rows][:, None]), axis=1, kind="stable")
    pf, ps = order[:, first], order[:, second]  # (r, P): positions of each pair's votes
    la, lb = lab[r_idx, pf], lab[r_idx, ps]
    sa, sb = src[r_idx, pf], src[r_idx, ps]
    with np.errstate(over="ignore"):
        draw = mix(keys[sa, la + 1] + keys[sb, lb + 1] + hashes[rows][:, None])  # symmetric in the pair
    draw = np.where(la != lb, draw, np.iinfo(np.uint64).max)
    take = np.argsort(draw, axis=1, kind="stable")[:, :per_item]  # (r, K)
    la, lb, sa, sb = la[r_idx, take], lb[r_idx, take], sa[r_idx, take], sb[r_idx, take]
    valid = la != lb
    # the referee: every other vote of the item
    onehot = np.eye(k)[lab]  # (r, v, k)
    rest = onehot.sum(axis=1)[:, None, :] - onehot[r_idx, pf[r_idx, take]] - onehot[r_idx, ps[r_idx, take]]
    top = rest.max(axis=2)
    plurality = rest.argmax(axis=2)
    strict = (top > 0) & ((rest == top[:, :, None]).sum(axis=2) == 1)
    keep = valid & strict & ((plurality == la) | (plurality == lb))
    item = np.broadcast_to(rows[:, None], keep.shape)[keep]
    return item, sa[keep], sb[keep], la[keep], lb[keep], plurality[keep]
