"""Fit-time vote representations shared by the label models.

Models fit on *units*: the distinct vote patterns with their counts when the
matrix is dense (real matrices have few distinct rows), or the items
themselves when it is sparse (crowd data). Votes of the units are kept as COO
triples and, on demand, as a one-hot CSR matrix so that E- and M-steps are
sparse matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from .._core import ABSTAIN, LabelMatrix

__all__ = ["VoteData", "prepare_votes", "one_hot_votes"]


@dataclass(frozen=True, eq=False)
class VoteData:
    """Votes of ``n_units`` weighted units.

    Attributes
    ----------
    n_items, n_sources, n_classes : int
        Shape of the original matrix and number of classes.
    rows, cols, labels : ndarray of shape (nnz,)
        Unit, source and class of every non-abstain vote.
    weights : ndarray of shape (n_units,)
        Number of items each unit stands for.
    inverse : ndarray of shape (n_items,) or None
        Unit of every item (None when units are the items themselves).
    patterns : ndarray of shape (n_units, n_sources) or None
        Dense votes of the units, when the source matrix was dense.
    """

    n_items: int
    n_sources: int
    n_classes: int
    rows: np.ndarray
    cols: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    inverse: np.ndarray | None = None
    patterns: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_units(self) -> int:
        """Number of units (patterns or items)."""
        return int(self.weights.shape[0])

    @cached_property
    def one_hot(self) -> sp.csr_array:
        """``(n_units, n_sources * n_classes)`` indicator of source j voting class c."""
        return one_hot_votes(self.rows, self.cols, self.labels, self.n_units, self.n_sources, self.n_classes)

    def expand(self, unit_values: np.ndarray) -> np.ndarray:
        """Map per-unit rows back to items."""
        return unit_values if self.inverse is None else unit_values[self.inverse]

    def class_counts(self) -> np.ndarray:
        """Votes per unit and class, shape ``(n_units, k)``."""
        k = self.n_classes
        flat = np.bincount(self.rows * k + self.labels, minlength=self.n_units * k)
        return flat.reshape(self.n_units, k).astype(np.float64)


def prepare_votes(L: LabelMatrix, *, compress: bool | None = None) -> VoteData:
    """Build the fit-time representation of ``L``.

    Parameters
    ----------
    L : LabelMatrix
    compress : bool, optional
        Collapse identical rows of a dense matrix into weighted patterns.
        By default, dense matrices are compressed when that at least halves
        the number of rows; sparse matrices are never compressed.
    """
    n, m, k = L.n_items, L.n_sources, L.n_classes
    if L.is_sparse or compress is False:
        rows, cols, labels = L.coo()
        return VoteData(n, m, k, rows, cols, labels.astype(np.int64), np.ones(n, dtype=np.float64))
    pats = L.vote_patterns()
    if compress is None and pats.n_patterns * 2 > n:
        rows, cols, labels = L.coo()
        return VoteData(n, m, k, rows, cols, labels.astype(np.int64), np.ones(n, dtype=np.float64),
                        patterns=L.to_dense())
    rows, cols = np.nonzero(pats.patterns != ABSTAIN)
    labels = pats.patterns[rows, cols].astype(np.int64)
    return VoteData(
        n, m, k, rows.astype(np.int64), cols.astype(np.int64), labels,
        pats.counts.astype(np.float64), inverse=pats.inverse, patterns=pats.patterns,
    )


def one_hot_votes(
    rows: np.ndarray, cols: np.ndarray, labels: np.ndarray, n_units: int, n_sources: int, n_classes: int
) -> sp.csr_array:
    """Indicator matrix ``X[u, j * k + c] = 1`` when source j voted c on unit u."""
    data = np.ones(rows.shape[0], dtype=np.float64)
    X = sp.csr_array((data, (rows, cols * n_classes + labels)), shape=(n_units, n_sources * n_classes))
    X.sort_indices()
    return X
