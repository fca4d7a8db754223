"""Sufficient statistics of partitioned votes: computed per partition, merged by a tree reduction.

Per partition (pure numpy, on a worker) the votes are collapsed to their
distinct rows with counts (:func:`~weaklab._core.vote_patterns`); every
statistic is then a weighted sum over those rows, so merging two partitions
is addition, plus a re-hash of the two pattern tables. Pattern tables are
dropped (``patterns=None``) once they exceed ``max_patterns`` rows or
``MAX_PATTERN_CELLS`` votes, which bounds the memory of every merge:
crowd-shaped votes, whose rows hardly repeat, are then handled by distributed
EM instead. The ``(m k, m k)`` overlap matrix is kept only up to
``MAX_OVERLAP_DIM`` source-class pairs (a crowd of thousands of workers would
make it gigabytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .constants import ABSTAIN
from .patterns import sparse_vote_patterns, vote_patterns
from .validation import check_int

if TYPE_CHECKING:
    from .label_matrix import LabelMatrix
    from .partitioned import PartitionedLabelMatrix

__all__ = ["PartitionStatistics", "partition_statistics", "sparse_partition_statistics", "matrix_statistics",
           "merge_statistics", "reduce_statistics",
           "MAX_PATTERN_CELLS", "MAX_OVERLAP_DIM"]

MAX_PATTERN_CELLS = 1 << 24
"""Largest pattern table kept, in votes (rows times sources): 16 MB of int8."""
MAX_OVERLAP_DIM = 2048
"""Largest ``m * k`` for which the overlap matrix is kept (32 MB of int64)."""


@dataclass(frozen=True)
class PartitionStatistics:
    """Reduced statistics of the votes of one or more partitions.

    Attributes
    ----------
    n_items, n_sources, n_classes : int
    class_votes : ndarray of shape (m, k), int64
        Votes of each source for each class.
    overlaps : ndarray of shape (m * k, m * k), int64, or None
        ``overlaps[j * k + a, l * k + b]``: items on which source ``j`` voted
        ``a`` and source ``l`` voted ``b`` (diagonal: ``class_votes``); None
        when ``m * k > MAX_OVERLAP_DIM``.
    source_overlaps : ndarray of shape (m,), int64
        Items each source votes on that have at least two votes.
    source_conflicts : ndarray of shape (m,), int64
        Items each source votes on whose votes are not all equal.
    votes_per_item : ndarray of shape (m + 1,), int64
        Number of items with 0, 1, ..., m votes.
    conflicted_items : int
        Items whose votes are not all equal.
    patterns : ndarray of shape (u, m) or None
        Distinct vote rows in order of first appearance over the partitions
        in order; None when there were more than ``max_patterns``.
    pattern_counts : ndarray of shape (u,), int64, or None
        Items with each pattern.
    """

    n_items: int
    n_sources: int
    n_classes: int
    class_votes: np.ndarray
    overlaps: np.ndarray | None
    source_overlaps: np.ndarray
    source_conflicts: np.ndarray
    votes_per_item: np.ndarray
    conflicted_items: int
    patterns: np.ndarray | None
    pattern_counts: np.ndarray | None

    @property
    def source_votes(self) -> np.ndarray:
        """Votes of each source, shape ``(m,)``."""
        return self.class_votes.sum(axis=1)

    @property
    def compresses(self) -> bool:
        """Whether the pattern table was kept and has at most half as many rows as there are items."""
        return self.patterns is not None and 2 * self.patterns.shape[0] <= self.n_items


def partition_statistics(votes: np.ndarray, n_classes: int, *, max_patterns: int = 100_000) -> PartitionStatistics:
    """Statistics of one dense ``(n, m)`` vote array.

    Parameters
    ----------
    votes : ndarray of shape (n, m), integer
        Votes in ``[-1, n_classes)``.
    n_classes : int
    max_patterns : int, default=100000
        Keep the pattern table only up to this many distinct rows.

    Returns
    -------
    PartitionStatistics

    Examples
    --------
    >>> import numpy as np
    >>> s = partition_statistics(np.array([[0, 0], [0, 1], [0, 0], [-1, -1]]), 2)
    >>> s.class_votes.tolist(), s.source_conflicts.tolist(), s.pattern_counts.tolist()
    ([[3, 0], [2, 1]], [1, 1], [2, 1, 1])
    """
    votes = np.asarray(votes)
    n, m = votes.shape
    pats = vote_patterns(votes)
    return _from_patterns(pats.patterns, pats.counts, n, m, int(n_classes), max_patterns)


def sparse_partition_statistics(csr: sp.csr_array, n_classes: int, *,
                                max_patterns: int = 100_000) -> PartitionStatistics:
    """Statistics of one sparse ``(n, m)`` vote matrix, equal to :func:`partition_statistics` of its dense form.

    Every count comes from the stored votes only (no ``(n, m)`` array is
    built); the pattern table is kept under the same limits, and not built
    at all once the rows hold more than ``max_patterns`` distinct patterns.

    Parameters
    ----------
    csr : scipy.sparse.csr_array of shape (n, m)
        ``label + 1`` per vote (0 = abstain), as :attr:`LabelMatrix.csr`.
    n_classes : int
    max_patterns : int, default=100000

    Returns
    -------
    PartitionStatistics

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> votes = np.array([[0, 0], [0, 1], [0, 0], [-1, -1]])
    >>> s = sparse_partition_statistics(sp.csr_array(votes + 1), 2)
    >>> s.class_votes.tolist(), s.source_conflicts.tolist(), s.pattern_counts.tolist()
    ([[3, 0], [2, 1]], [1, 1], [2, 1, 1])
    """
    csr = sp.csr_array(csr)
    csr.sort_indices()
    (n, m), k = csr.shape, int(n_classes)
    per_item = np.diff(csr.indptr)
    rows = np.repeat(np.arange(n), per_item)
    cols, labels = csr.indices.astype(np.int64), csr.data.astype(np.int64) - 1
    conflicted = np.zeros(n, dtype=bool)
    starts = csr.indptr[:-1][per_item > 0]
    if starts.size:
        conflicted[per_item > 0] = np.minimum.reduceat(labels, starts) != np.maximum.reduceat(labels, starts)
    pats = sparse_vote_patterns(csr, max_patterns=max_patterns)
    keep = pats is not None and _keeps(pats.n_patterns, m, max_patterns)
    return PartitionStatistics(
        n_items=int(n), n_sources=m, n_classes=k,
        class_votes=np.bincount(cols * k + labels, minlength=m * k).reshape(m, k).astype(np.int64),
        overlaps=_sparse_overlaps(rows, cols * k + labels, n, m * k) if m * k <= MAX_OVERLAP_DIM else None,
        source_overlaps=np.bincount(cols[per_item[rows] >= 2], minlength=m).astype(np.int64),
        source_conflicts=np.bincount(cols[conflicted[rows]], minlength=m).astype(np.int64),
        votes_per_item=np.bincount(per_item, minlength=m + 1).astype(np.int64),
        conflicted_items=int(conflicted.sum()),
        patterns=pats.patterns if keep and pats is not None else None,
        pattern_counts=pats.counts if keep and pats is not None else None,
    )


def matrix_statistics(L: LabelMatrix, *, max_patterns: int = 100_000) -> PartitionStatistics:
    """Statistics of a :class:`~weaklab.LabelMatrix`, dense or sparse (whichever its storage is).

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import LabelMatrix
    >>> L = LabelMatrix(np.array([[0, -1], [1, 1]]))
    >>> matrix_statistics(L).class_votes.tolist() == matrix_statistics(L.as_sparse()).class_votes.tolist()
    True
    """
    if L.is_sparse:
        return sparse_partition_statistics(L.csr, L.n_classes, max_patterns=max_patterns)
    return partition_statistics(L.to_dense(), L.n_classes, max_patterns=max_patterns)


def _sparse_overlaps(rows: np.ndarray, flat: np.ndarray, n: int, width: int) -> np.ndarray:
    X = sp.csr_array((np.ones(rows.shape[0], dtype=np.int64), (rows, flat)), shape=(n, width))
    return np.asarray((X.T @ X).toarray(), dtype=np.int64)


def _from_patterns(patterns: np.ndarray, counts: np.ndarray, n: int, m: int, k: int,
                   max_patterns: int) -> PartitionStatistics:
    counts = counts.astype(np.int64)
    voted = patterns != ABSTAIN
    per_item = np.count_nonzero(voted, axis=1)
    high = patterns.max(axis=1, initial=ABSTAIN)
    low = np.where(voted, patterns, k).min(axis=1, initial=k)
    conflicted = (per_item > 0) & (low != high)
    keep = _keeps(patterns.shape[0], m, max_patterns)
    return PartitionStatistics(
        n_items=int(n), n_sources=m, n_classes=k,
        class_votes=_class_votes(patterns, counts, k),
        overlaps=_weighted_overlaps(patterns, counts, k) if m * k <= MAX_OVERLAP_DIM else None,
        source_overlaps=(voted & (per_item >= 2)[:, None]).T.astype(np.int64) @ counts,
        source_conflicts=(voted & conflicted[:, None]).T.astype(np.int64) @ counts,
        votes_per_item=np.bincount(per_item, weights=counts, minlength=m + 1).astype(np.int64),
        conflicted_items=int(counts[conflicted].sum()),
        patterns=patterns if keep else None, pattern_counts=counts if keep else None,
    )


def _keeps(n_patterns: int, m: int, max_patterns: int) -> bool:
    return n_patterns <= max_patterns and n_patterns * m <= MAX_PATTERN_CELLS


def _class_votes(patterns: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """Votes per source and class ``(m, k)``, weighted by the pattern counts."""
    out = np.empty((patterns.shape[1], k), dtype=np.int64)
    for j in range(patterns.shape[1]):  # one bincount per source
        out[j] = np.bincount(patterns[:, j].astype(np.int64) + 1, weights=counts, minlength=k + 1)[1:]
    return out


def _weighted_overlaps(patterns: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """``X^T diag(counts) X`` for the one-hot votes ``X`` of the patterns, exact int64."""
    u, m = patterns.shape
    rows, cols = np.nonzero(patterns != ABSTAIN)
    flat = cols * k + patterns[rows, cols].astype(np.int64)
    X = sp.csr_array((np.ones(rows.shape[0], dtype=np.int64), (rows, flat)), shape=(u, m * k))
    weighted = sp.csr_array((counts[rows], (rows, flat)), shape=(u, m * k))
    return np.asarray((X.T @ weighted).toarray(), dtype=np.int64)


def merge_statistics(a: PartitionStatistics, b: PartitionStatistics, *,
                     max_patterns: int = 100_000) -> PartitionStatistics:
    """The statistics of two partitions together (``a``'s rows first).

    Examples
    --------
    >>> import numpy as np
    >>> a = partition_statistics(np.array([[0, 0], [0, 1]]), 2)
    >>> b = partition_statistics(np.array([[1, 1], [0, 0]]), 2)
    >>> merge_statistics(a, b).pattern_counts.tolist()
    [2, 1, 1]
    """
    patterns, counts = None, None
    if a.patterns is not None and b.patterns is not None and a.pattern_counts is not None \
            and b.pattern_counts is not None:
        both = np.concatenate([a.patterns, b.patterns])
        pats = vote_patterns(both)
        if _keeps(pats.n_patterns, a.n_sources, max_patterns):
            weights = np.concatenate([a.pattern_counts, b.pattern_counts])
            patterns = pats.patterns
            counts = np.bincount(pats.inverse, weights=weights, minlength=pats.n_patterns).astype(np.int64)
    return PartitionStatistics(
        n_items=a.n_items + b.n_items, n_sources=a.n_sources, n_classes=a.n_classes,
        class_votes=a.class_votes + b.class_votes,
        overlaps=None if a.overlaps is None or b.overlaps is None else a.overlaps + b.overlaps,
        source_overlaps=a.source_overlaps + b.source_overlaps,
        source_conflicts=a.source_conflicts + b.source_conflicts,
        votes_per_item=a.votes_per_item + b.votes_per_item,
        conflicted_items=a.conflicted_items + b.conflicted_items, patterns=patterns, pattern_counts=counts,
    )


def reduce_statistics(plm: PartitionedLabelMatrix, *, max_patterns: int = 100_000,
                      split_every: int = 8) -> PartitionStatistics:
    """The statistics of a :class:`~weaklab.PartitionedLabelMatrix`, tree-reduced by Dask.

    Each partition is read and summarised on a worker; summaries are merged
    pairwise in partition order (``split_every`` per task), so the client
    receives one :class:`PartitionStatistics`.

    Parameters
    ----------
    plm : PartitionedLabelMatrix
    max_patterns : int, default=100000
        Pattern tables larger than this are dropped (see the module docstring).
    split_every : int, default=8

    Returns
    -------
    PartitionStatistics

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from weaklab import LabelMatrix, PartitionedLabelMatrix
    >>> plm = PartitionedLabelMatrix.write(tempfile.mkdtemp(), [LabelMatrix(np.array([[0, 0], [0, 1]])),
    ...                                                          LabelMatrix(np.array([[0, 0]]))])
    >>> reduce_statistics(plm).pattern_counts.tolist()
    [2, 1]
    """
    from .dask_ops import map_reduce

    max_patterns = check_int("max_patterns", max_patterns, low=1)

    def summarise(i: int) -> PartitionStatistics:
        return matrix_statistics(plm.read_partition(i), max_patterns=max_patterns)

    def merge(a: PartitionStatistics, b: PartitionStatistics) -> PartitionStatistics:
        return merge_statistics(a, b, max_patterns=max_patterns)

    return map_reduce(plm.n_partitions, summarise, merge, split_every=split_every)
