"""Unique vote patterns: fitting label models on distinct rows with counts.

Real label matrices have far fewer distinct rows than items, so a model that
fits on ``(patterns, counts)`` costs time in the number of patterns, not rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["VotePatterns", "vote_patterns", "sparse_vote_patterns"]

_CHUNK_ROWS = 1 << 20


@dataclass(frozen=True)
class VotePatterns:
    """Distinct rows of a dense vote matrix.

    Attributes
    ----------
    patterns : ndarray of shape (u, m)
        The distinct rows, in order of first appearance.
    counts : ndarray of shape (u,)
        How many items have each pattern.
    inverse : ndarray of shape (n,)
        Pattern index of every item: ``patterns[inverse]`` equals the votes.
    """

    patterns: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray

    @property
    def n_patterns(self) -> int:
        """Number of distinct rows."""
        return int(self.patterns.shape[0])


def vote_patterns(votes: np.ndarray) -> VotePatterns:
    """Find the distinct rows of a dense ``(n, m)`` integer vote matrix.

    Rows are hashed with a random-free multiplicative hash, factorized in
    linear time, and verified exactly; a hash collision (vanishingly rare)
    falls back to an exact sort-based method.

    Parameters
    ----------
    votes : ndarray of shape (n, m), integer dtype
        Votes in ``[-1, k)``.

    Returns
    -------
    VotePatterns
    """
    votes = np.asarray(votes)
    n = votes.shape[0]
    if n == 0:
        return VotePatterns(votes[:0].copy(), np.zeros(0, np.int64), np.zeros(0, np.int64))
    codes = _row_hash(votes)
    inverse, uniques = pd.factorize(codes)
    first = _first_occurrence(inverse, len(uniques))
    patterns = np.ascontiguousarray(votes[first])
    if not _verify(votes, patterns, inverse):
        return _exact_patterns(votes)
    counts = np.bincount(inverse, minlength=len(uniques)).astype(np.int64)
    return VotePatterns(patterns, counts, inverse.astype(np.int64, copy=False))


def _row_hash(votes: np.ndarray) -> np.ndarray:
    """64-bit hash of every row (column-wise accumulation, chunked)."""
    m = votes.shape[1]
    consts = _hash_constants(m)
    out = np.empty(votes.shape[0], dtype=np.uint64)
    for start in range(0, votes.shape[0], _CHUNK_ROWS):
        block = votes[start : start + _CHUNK_ROWS]
        acc = np.zeros(block.shape[0], dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(m):
                acc += (block[:, j].astype(np.uint64) + np.uint64(1)) * consts[j]
                acc ^= acc >> np.uint64(29)
        out[start : start + block.shape[0]] = acc
    return out


def _hash_constants(m: int) -> np.ndarray:
    # Fixed odd constants derived by splitmix64 from the column index.
    x = (np.arange(1, m + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x | np.uint64(1)


def _first_occurrence(inverse: np.ndarray, n_unique: int) -> np.ndarray:
    # pd.factorize numbers uniques in order of first appearance, so code c
    # first occurs where the running maximum of ``inverse`` steps up to c.
    running = np.maximum.accumulate(inverse)
    first = np.flatnonzero(np.r_[True, running[1:] > running[:-1]])
    if first.shape[0] != n_unique:  # pragma: no cover - factorize contract
        raise RuntimeError("pandas.factorize did not number codes by first appearance")
    return first


def _verify(votes: np.ndarray, patterns: np.ndarray, inverse: np.ndarray) -> bool:
    for start in range(0, votes.shape[0], _CHUNK_ROWS):
        stop = start + _CHUNK_ROWS
        if not np.array_equal(patterns[inverse[start:stop]], votes[start:stop]):
            return False
    return True


def _exact_patterns(votes: np.ndarray) -> VotePatterns:
    patterns, first, inverse, counts = np.unique(
        votes, axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    return VotePatterns(
        np.ascontiguousarray(patterns[order]),
        counts[order].astype(np.int64),
        rank[inverse.ravel()].astype(np.int64),
    )


def sparse_vote_patterns(csr: sp.csr_array, *, max_patterns: int | None = None) -> VotePatterns | None:
    """The distinct rows of a sparse vote matrix, as :func:`vote_patterns` gives them for its dense form.

    Only the stored votes are touched: each row is hashed from its
    ``(source, label)`` entries, factorized by first appearance and
    verified exactly against its representative row; a collision falls
    back to the dense method. The returned patterns are dense (``-1`` =
    abstain) and equal :func:`vote_patterns` of the dense matrix.

    Parameters
    ----------
    csr : scipy.sparse.csr_array of shape (n, m)
        ``label + 1`` per vote (0 = abstain), as :attr:`LabelMatrix.csr`.
    max_patterns : int, optional
        Return None as soon as the rows hold more distinct patterns than
        this (without building them): a crowd-shaped partition.

    Returns
    -------
    VotePatterns or None

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> votes = np.array([[0, -1], [-1, -1], [0, -1], [1, 1]])
    >>> pats = sparse_vote_patterns(sp.csr_array(votes + 1))
    >>> pats.patterns.tolist(), pats.counts.tolist()
    ([[0, -1], [-1, -1], [1, 1]], [2, 1, 1])
    >>> sparse_vote_patterns(sp.csr_array(votes + 1), max_patterns=2) is None
    True
    """
    csr = sp.csr_array(csr)
    csr.sort_indices()
    n, m = csr.shape
    if n == 0:
        return VotePatterns(np.zeros((0, m), dtype=np.int8), np.zeros(0, np.int64), np.zeros(0, np.int64))
    inverse, uniques = pd.factorize(_sparse_row_hash(csr, m))
    if max_patterns is not None and len(uniques) > max_patterns:
        return None
    first = _first_occurrence(inverse, len(uniques))
    representatives = csr[first]
    if (csr != representatives[inverse]).nnz:  # a hash collision (vanishingly rare): the exact method
        return vote_patterns(csr.toarray().astype(np.int16) - 1)
    dtype = np.int8 if csr.dtype.itemsize == 1 else np.int16
    patterns = (representatives.toarray().astype(np.int16) - 1).astype(dtype)
    counts = np.bincount(inverse, minlength=len(uniques)).astype(np.int64)
    return VotePatterns(patterns, counts, inverse.astype(np.int64, copy=False))


def _sparse_row_hash(csr: sp.csr_array, m: int) -> np.ndarray:
    """64-bit hash of every row from its entries (an order-free sum of mixed ``(source, label)`` codes)."""
    per_row = np.diff(csr.indptr)
    width = np.uint64(int(csr.data.max(initial=0)) + 1)
    codes = csr.indices.astype(np.uint64) * width + csr.data.astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = _hash_constants(int(codes.max(initial=0)) + 1)[codes.astype(np.int64)] if codes.size else codes
        sums = np.zeros(per_row.shape[0], dtype=np.uint64)
        nonempty = per_row > 0
        if codes.size:
            sums[nonempty] = np.add.reduceat(mixed, csr.indptr[:-1][nonempty])
        sums ^= per_row.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return sums
