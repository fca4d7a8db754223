"""Fit-time vote representations shared by the label models.

Models fit on *units*: the distinct vote patterns with their counts when the
matrix is dense and that at least halves the rows (real LF matrices have few
distinct rows), or the items themselves otherwise (crowd data, or dense data
whose rows are nearly all distinct). The votes of the units are kept as a
one-hot design matrix ``(n_units, n_sources * n_classes)`` so that E- and
M-steps are sparse matrix products; COO triples are derived on demand.

The design matrix (:class:`~weaklab.models._onehot.OneHot`) stores no ones,
only int32 columns and row pointers in row blocks, and is built without
densifying sparse input and without materialising int64 coordinates of
dense input. A float64 scipy CSR (``VoteData.one_hot``) is built only when
a model asks for one.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from .._core import LabelMatrix, vote_patterns
from ._onehot import OneHot, one_hot_from_csr, one_hot_from_dense, one_hot_from_triples

__all__ = ["VoteData", "prepare_votes", "iter_one_hot_blocks"]

_SAMPLE_ROWS = 1 << 16  # rows hashed to decide whether compressing a large matrix pays
_BLOCK_ROWS = 1 << 16  # rows per block when converting a dense matrix
_STREAM_ROWS = 1 << 14  # rows per block when streaming a dense matrix through predict


class VoteData:
    """Votes of ``n_units`` weighted units (read-only after construction).

    Parameters
    ----------
    n_items, n_sources, n_classes : int
        Shape of the original matrix and number of classes.
    rows, cols, labels : ndarray of shape (nnz,), optional
        Unit, source and class of every non-abstain vote. Derived from
        ``design`` when omitted.
    weights : ndarray of shape (n_units,)
        Number of items each unit stands for.
    inverse : ndarray of shape (n_items,), optional
        Unit of every item (None when units are the items themselves).
    patterns : ndarray of shape (n_units, n_sources), optional
        Dense votes of the units, when the source matrix was dense.
    design : OneHot of shape (n_units, n_sources * n_classes), optional
        The one-hot votes; built from the triples when omitted.
    keys : ndarray of shape (n_units,), optional
        A per-unit label kept apart by compression (the gold label, ``-1``
        where unknown), when :func:`prepare_votes` was given ``keys``.
    """

    def __init__(
        self,
        n_items: int,
        n_sources: int,
        n_classes: int,
        rows: np.ndarray | None = None,
        cols: np.ndarray | None = None,
        labels: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        inverse: np.ndarray | None = None,
        patterns: np.ndarray | None = None,
        *,
        design: OneHot | None = None,
        keys: np.ndarray | None = None,
    ) -> None:
        if design is None and (rows is None or cols is None or labels is None):
            raise TypeError("VoteData needs either rows/cols/labels or design")
        if weights is None:
            raise TypeError("VoteData needs weights")
        self.n_items, self.n_sources, self.n_classes = int(n_items), int(n_sources), int(n_classes)
        self.weights = weights
        self.inverse = inverse
        self.patterns = patterns
        self.keys = keys
        if rows is not None:
            self.__dict__.update(rows=rows, cols=cols, labels=labels)
        if design is not None:
            self.__dict__["design"] = design

    @property
    def n_units(self) -> int:
        """Number of units (patterns or items)."""
        return int(self.weights.shape[0])

    @cached_property
    def design(self) -> OneHot:
        """One-hot votes ``(n_units, n_sources * n_classes)`` with implicit ones (``@`` and ``.T @`` only)."""
        return one_hot_from_triples(self.rows, self.cols, self.labels, self.n_units, self.n_sources,
                                    self.n_classes)

    @cached_property
    def one_hot(self) -> sp.csr_array:
        """``(n_units, n_sources * n_classes)`` float64 CSR indicator of source j voting class c (materialised)."""
        return self.design.to_csr()

    @cached_property
    def _triples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows, flat = self.design.rows_and_columns()
        return rows, flat // self.n_classes, flat % self.n_classes

    @cached_property
    def rows(self) -> np.ndarray:
        """Unit of every non-abstain vote, shape ``(nnz,)`` (row-major order)."""
        return self._triples[0]

    @cached_property
    def cols(self) -> np.ndarray:
        """Source of every non-abstain vote, shape ``(nnz,)``."""
        return self._triples[1]

    @cached_property
    def labels(self) -> np.ndarray:
        """Class of every non-abstain vote, shape ``(nnz,)``."""
        return self._triples[2]

    def expand(self, unit_values: np.ndarray) -> np.ndarray:
        """Map per-unit rows back to items."""
        return unit_values if self.inverse is None else unit_values[self.inverse]

    def class_counts(self) -> np.ndarray:
        """Votes per unit and class, shape ``(n_units, k)``."""
        k = self.n_classes
        collapse = np.tile(np.eye(k), (self.n_sources, 1))
        return np.asarray(self.design @ collapse, dtype=np.float64)


def prepare_votes(
    L: LabelMatrix, *, compress: bool | None = None, keys: np.ndarray | None = None
) -> VoteData:
    """Build the fit-time representation of ``L``.

    Parameters
    ----------
    L : LabelMatrix
    compress : bool, optional
        Collapse identical rows of a dense matrix into weighted patterns.
        By default, dense matrices are compressed when that at least halves
        the number of rows (for large matrices judged first from a sample
        of rows, so nearly-unique rows cost no full hashing); sparse
        matrices are never compressed.
    keys : ndarray of shape (n_items,), optional
        Integer labels in ``[-1, n_classes)`` (e.g. gold labels) that
        compression must keep apart: two items share a unit only when their
        votes and keys agree. Returned per unit as ``VoteData.keys``.

    Returns
    -------
    VoteData
    """
    n, m, k = L.n_items, L.n_sources, L.n_classes
    if L.is_sparse or compress is False or (compress is None and not _worth_compressing(L)):
        design = one_hot_from_csr(L.csr, k) if L.is_sparse else one_hot_from_dense(L.to_dense(), k)
        return VoteData(n, m, k, weights=np.ones(n, dtype=np.float64), design=design,
                        patterns=None if L.is_sparse else L.to_dense(), keys=keys)
    dense = L.to_dense()
    keyed = dense if keys is None else np.column_stack([dense, keys.astype(dense.dtype)])
    pats = vote_patterns(keyed)
    if compress is None and pats.n_patterns * 2 > n:
        return VoteData(n, m, k, weights=np.ones(n, dtype=np.float64), design=one_hot_from_dense(dense, k),
                        patterns=dense, keys=keys)
    patterns = np.ascontiguousarray(pats.patterns[:, :m])
    unit_keys = None if keys is None else pats.patterns[:, m].astype(np.int64)
    return VoteData(
        n, m, k, weights=pats.counts.astype(np.float64), inverse=pats.inverse, patterns=patterns,
        design=one_hot_from_dense(patterns, k), keys=unit_keys,
    )


def _worth_compressing(L: LabelMatrix) -> bool:
    """Guess from a sample of rows whether distinct rows are at most half of all.

    With ``u`` equally frequent patterns among ``n`` rows, two distinct rows
    coincide with probability about ``(n / u - 1) / n``; the number of
    coinciding pairs in a sample estimates ``n / u``. Small matrices are
    always hashed in full.
    """
    n = L.n_items
    if n <= 4 * _SAMPLE_ROWS:
        return True
    rng = np.random.default_rng(0)  # which rows are sampled affects speed only, never results
    sample = np.sort(rng.choice(n, size=_SAMPLE_ROWS, replace=False))
    counts = vote_patterns(L.to_dense()[sample]).counts.astype(np.float64)
    s = float(_SAMPLE_ROWS)
    if counts.shape[0] * 2 <= s:
        return True
    pairs = float(np.sum(counts * (counts - 1.0)) / 2.0)
    rows_per_pattern = 1.0 + pairs * (n - 1) / (s * (s - 1) / 2.0)
    return rows_per_pattern >= 2.0


def iter_one_hot_blocks(L: LabelMatrix, block_rows: int = _STREAM_ROWS) -> Iterator[tuple[int, sp.csr_array]]:
    """Yield ``(first_row, one-hot CSR of a block of rows)`` covering ``L``.

    Lets a caller stream a large dense matrix through a model without
    holding the one-hot votes of all items at once. The blocks of a dense
    matrix share their buffers: use each one before asking for the next.
    A sparse matrix is yielded in row blocks of its one-hot, whose data is
    one shared read-only buffer of ones.
    """
    if L.is_sparse:
        yield from one_hot_from_csr(L.csr, L.n_classes).csr_blocks()
        return
    votes = L.to_dense()
    size = min(block_rows, max(1, L.n_items)) * L.n_sources
    buffers = (np.ones(size, dtype=np.float64), np.empty(size, dtype=_index_dtype(size)))
    for a in range(0, max(1, L.n_items), block_rows):
        yield a, _one_hot_dense(votes[a:a + block_rows], L.n_classes, buffers=buffers)


def _index_dtype(n: int) -> type[np.signedinteger]:
    return np.int32 if n < np.iinfo(np.int32).max else np.int64


def _one_hot_dense(votes: np.ndarray, k: int, *,
                   buffers: tuple[np.ndarray, np.ndarray] | None = None) -> sp.csr_array:
    """One-hot CSR from a dense ``(n, m)`` vote array, converted in blocks of rows.

    Two passes over row blocks (count, then fill), so no ``(n, m)``
    temporary and no int64 coordinates are ever built. ``buffers`` (a
    vector of ones and an index vector, each of at least ``n * m``) are
    used instead of fresh arrays when given: fresh memory is slow to touch.
    """
    n, m = votes.shape
    nnz = sum(int(np.count_nonzero(votes[a:a + _BLOCK_ROWS] >= 0)) for a in range(0, n, _BLOCK_ROWS))
    idx = _index_dtype(max(nnz, m * k + 1)) if buffers is None else buffers[1].dtype.type
    code = np.int16 if m * k < np.iinfo(np.int16).max else idx
    offsets = (np.arange(m, dtype=np.int64) * k).astype(code)
    indptr = np.zeros(n + 1, dtype=idx)
    indices = np.empty(nnz, dtype=idx) if buffers is None else buffers[1][:nnz]
    count = np.uint8 if m < np.iinfo(np.uint8).max else np.int64
    for a in range(0, n, _BLOCK_ROWS):
        block = votes[a:a + _BLOCK_ROWS]
        b = a + block.shape[0]
        voted = block >= 0
        np.cumsum(voted.view(np.uint8).sum(axis=1, dtype=count), out=indptr[a + 1:b + 1])
        indptr[a + 1:b + 1] += indptr[a]
        codes = block.astype(code)
        codes += offsets
        # np.compress on flat arrays is several times faster than boolean-mask indexing
        indices[indptr[a]:indptr[b]] = np.compress(voted.ravel(), codes.ravel())
    data = np.ones(nnz, dtype=np.float64) if buffers is None else buffers[0][:nnz]
    return sp.csr_array((data, indices, indptr), shape=(n, m * k))
