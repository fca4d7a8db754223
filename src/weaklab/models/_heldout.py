"""Held-out votes for the no-gold criterion: order-free halves, vote samples, cavity rows, near-copies.

A *cavity row* is an item's votes without one of them (and without the
votes of that source's near-copies); a candidate label model predicts the
held-out vote from it. Splits and samples are functions of the votes,
salted, never of row or column positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._core import LabelMatrix
from ._auto_select import mix, row_hashes, spread, vote_keys
from ._tie_pairs import TiePairs, tie_pairs

__all__ = ["Fold", "make_folds", "eval_votes", "leave_one_out_rows", "sample_side", "near_copies",
           "source_class_counts"]

_MAX_SIDE_ITEMS = 50_000  # items per half used by the unsupervised criterion
_MAX_EVAL_VOTES = 50_000  # held-out votes scored per half
_DENSE_COVOTE_SOURCES = 256  # co-votes by a dense product (in row blocks) up to this many sources
_COVOTE_BLOCK = 65_536  # rows per block of that product
_U64 = np.uint64
NEAR_COPY = 0.5  # share of co-votes above which two sources count as near-copies
NEAR_COPY_LIFT = 2.0  # ... when also this many times more frequent than for independent sources


# ------------------------------------------------------------------------------------- vote sampling


def eval_votes(L: LabelMatrix, hashes: np.ndarray, salt: int) -> np.ndarray:
    """Mask of the votes to score: all, or an order-free sample of ``_MAX_EVAL_VOTES``."""
    rows, cols, labels = L.coo()
    if rows.size <= _MAX_EVAL_VOTES:
        return np.ones(rows.size, dtype=bool)
    keys = vote_keys(L, salt)[cols, labels.astype(np.int64) + 1]
    with np.errstate(over="ignore"):
        draw = mix(hashes[rows] + keys)
    threshold = np.partition(draw, _MAX_EVAL_VOTES - 1)[_MAX_EVAL_VOTES - 1]
    return draw <= threshold


def near_copies(L: LabelMatrix, share: float = NEAR_COPY) -> np.ndarray:
    """Codes ``i * m + j`` of the ordered pairs of distinct sources that vote together like copies.

    Sources ``i`` and ``j`` are near-copies when they vote on the same item
    for at least ``share`` of the votes of the one with fewer votes, and at
    least ``NEAR_COPY_LIFT`` times as often as independent sources with their
    coverages would. (Independent sparse labeling functions co-vote on a
    share of about the other's coverage, a few percent; dense sources always
    co-vote, and their copies are not detected this way.)
    """
    m = L.n_sources
    counts = _covotes(L)
    n = np.diag(counts).copy()
    i, j = np.nonzero(counts)
    co = counts[i, j]
    expected = n[i] * n[j] / max(L.n_items, 1)
    close = (i != j) & (co >= share * np.minimum(n[i], n[j])) & (co >= NEAR_COPY_LIFT * expected)
    return np.sort(i[close].astype(np.int64) * m + j[close])


def _covotes(L: LabelMatrix) -> np.ndarray:
    """``(m, m)`` float64: the number of items on which both sources vote (diagonal: votes per source).

    Exact integer counts: a dense matrix with few sources in float32 row blocks
    (each block's counts are below 2**24), else one sparse product.
    """
    m = L.n_sources
    if L.is_sparse or m > _DENSE_COVOTE_SOURCES:
        on = L.csr.copy()
        on.data = np.ones_like(on.data, dtype=np.float64)
        return np.asarray((on.T @ on).toarray(), dtype=np.float64)
    dense = L.to_dense()
    out = np.zeros((m, m), dtype=np.float64)
    for start in range(0, L.n_items, _COVOTE_BLOCK):
        block = (dense[start:start + _COVOTE_BLOCK] != -1).astype(np.float32)
        out += (block.T @ block).astype(np.float64)
    return out


def leave_one_out_rows(L: LabelMatrix, keep: np.ndarray, partners: np.ndarray | None = None,
                       ) -> tuple[LabelMatrix, np.ndarray, np.ndarray, np.ndarray]:
    """One row per kept vote: its item's other votes (without the voting source's ``partners``).

    ``partners`` holds codes ``i * m + j`` (see :func:`near_copies`): the
    votes of ``j`` are left out of the rows of the votes of ``i``.

    Returns
    -------
    cavity : LabelMatrix of shape (n_kept, m)
    item, source, vote : ndarray of shape (n_kept,)
        Item (row of ``L``), source and class of every kept vote.
    """
    csr = L.csr
    rows, cols, labels = L.coo()
    rows, cols, labels = rows[keep], cols[keep], labels.astype(np.int64)[keep]
    lengths = np.diff(csr.indptr)[rows]
    starts = np.repeat(csr.indptr[rows] - np.cumsum(lengths) + lengths, lengths)
    pos = starts + np.arange(lengths.sum())
    new_rows = np.repeat(np.arange(rows.size), lengths)
    new_cols = csr.indices[pos].astype(np.int64)
    held_col = np.repeat(cols, lengths)
    other = new_cols != held_col
    if partners is not None and partners.size:
        other &= ~np.isin(held_col.astype(np.int64) * L.n_sources + new_cols, partners)
    cavity = LabelMatrix.from_coo(new_rows[other], new_cols[other], csr.data[pos][other].astype(np.int64) - 1,
                                  n_items=rows.size, n_sources=L.n_sources, n_classes=L.n_classes,
                                  source_names=L.source_names)
    return cavity, rows, cols, labels


def sample_side(L: LabelMatrix, side: np.ndarray, hashes: np.ndarray) -> LabelMatrix:
    """The items of one half (at most ``_MAX_SIDE_ITEMS``, an order-free sample)."""
    idx = np.flatnonzero(side)
    if idx.size > _MAX_SIDE_ITEMS:
        idx = idx[np.argsort(mix(hashes[idx] ^ _U64(0x5DEECE66D)), kind="stable")[:_MAX_SIDE_ITEMS]]
        idx.sort()
    return L.select_items(idx)


@dataclass(frozen=True)
class Fold:
    """One direction of the two-fold scheme: fit on ``fit``, score the votes of ``held``.

    Attributes
    ----------
    fit, held : LabelMatrix
        The two halves.
    cavity : LabelMatrix
        One row per scored vote of ``held``: the other votes of its item
        (only votes whose item has another vote).
    item, source, vote : ndarray of shape (n_scored,)
        Row of ``held``, source and class of every scored vote.
    min_cavity : int
        Fewest other votes of a scored vote's item.
    held_on : scipy.sparse.csr_array
        ``(n_held, m)`` float64, 1 where a source voted on an item of ``held``.
    fit_coo : tuple of ndarray
        ``fit.coo()``, built once for every candidate.
    fit_counts : ndarray of shape (m, k)
        Votes of every source for every class in ``fit``.
    held_counts, cavity_counts : ndarray
        ``held.class_counts()`` and ``cavity.class_counts()``.
    pairs : TiePairs or None
        The tie pairs of ``held`` (:func:`~weaklab.models._tie_pairs.tie_pairs`),
        when asked for.
    """

    fit: LabelMatrix
    held: LabelMatrix
    cavity: LabelMatrix
    item: np.ndarray
    source: np.ndarray
    vote: np.ndarray
    min_cavity: int = 1
    held_on: Any = None
    fit_coo: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    fit_counts: np.ndarray | None = None
    held_counts: np.ndarray | None = None
    cavity_counts: np.ndarray | None = None
    pairs: TiePairs | None = None
    _balances: dict[Any, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def majority_balance(self, balance: np.ndarray | None) -> np.ndarray:
        """Majority vote's class balance on ``fit`` (given ``balance``), computed once per value."""
        key = None if balance is None else np.asarray(balance, dtype=np.float64).tobytes()
        if key not in self._balances:
            from .majority import MajorityVote

            self._balances[key] = np.asarray(MajorityVote().fit(self.fit, class_balance=balance).class_balance_,
                                             dtype=np.float64)
        return self._balances[key]


def make_folds(L: LabelMatrix, salt: int, min_cavity: int = 1, pairs: bool = False) -> list[Fold]:
    """Both directions of an order-free split of the items of ``L`` in two halves.

    Only votes whose item has at least ``min_cavity`` other votes are scored,
    and the cavity row of a vote leaves out the near-copies of its source
    (:func:`near_copies`), which would otherwise predict it for any model
    that trusts them. With ``pairs`` every fold also holds the tie pairs of
    its held-out half (:func:`~weaklab.models._tie_pairs.tie_pairs`).
    """
    hashes = row_hashes(L, salt)
    side = spread(hashes, 2)
    halves = [sample_side(L, side == s, hashes) for s in (0, 1)]
    partners = near_copies(LabelMatrix.concat(halves))  # all of L's items when the halves are not sampled
    folds = []
    for fit, held in (halves, halves[::-1]):
        keep = eval_votes(held, row_hashes(held, salt), salt)
        keep &= np.repeat(held.votes_per_item() > min_cavity, held.votes_per_item())
        cavity, item, source, vote = leave_one_out_rows(held, keep, partners)
        keep_rows = cavity.votes_per_item() >= min_cavity
        if not keep_rows.all():
            cavity = cavity.select_items(np.flatnonzero(keep_rows))
            item, source, vote = item[keep_rows], source[keep_rows], vote[keep_rows]
        on = held.csr.copy()
        on.data = np.ones_like(on.data, dtype=np.float64)
        ties = tie_pairs(held, salt) if pairs else None
        folds.append(Fold(fit, held, cavity, item, source, vote, min_cavity, sp.csr_array(on), fit.coo(),
                          source_class_counts(fit), held.class_counts(), cavity.class_counts(), ties))
    return folds

def source_class_counts(L: LabelMatrix) -> np.ndarray:
    """Votes of every source for every class, ``(m, k)`` int64 (no coordinate arrays built)."""
    m, k = L.n_sources, L.n_classes
    if L.is_sparse:
        csr = L.csr
        flat = csr.indices.astype(np.int64) * k + (csr.data.astype(np.int64) - 1)
        return np.bincount(flat, minlength=m * k).reshape(m, k)
    dense = L.to_dense()
    return np.stack([np.count_nonzero(dense == c, axis=0) for c in range(k)], axis=1).astype(np.int64)

