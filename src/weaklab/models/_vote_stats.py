"""Vote statistics that several label models compute: one home for each.

* :func:`vote_overlaps`: second moments of the one-hot votes (MatrixCompletion,
  Triplet, learn_dependencies);
* :func:`majority_agreement` and :func:`weighted_vote_counts`: agreement with
  the majority vote and weighted votes per class (Wawa, WeightedMajorityVote);
* :func:`small_blas`: single-threaded BLAS for the small dense fits.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

from .._core import LabelMatrix

__all__ = ["small_blas", "vote_overlaps", "majority_agreement", "weighted_vote_counts"]

_CHUNK_ROWS = 1 << 20  # rows per chunk when counting dense overlaps (a multiple of 64)


def small_blas() -> threadpool_limits:
    """Context manager running BLAS/LAPACK single-threaded.

    The fits here work on matrices of a few hundred rows, where threads only
    cost synchronisation; on a busy machine a multi-threaded OpenBLAS makes a
    100 x 100 eigendecomposition 30-100 times slower.
    """
    return threadpool_limits(limits=1, user_api="blas")


def vote_overlaps(L: LabelMatrix) -> np.ndarray:
    """Co-occurrence counts of one-hot votes, ``C = X^T X``.

    ``C[j * k + a, l * k + b]`` is the number of items on which source ``j``
    voted ``a`` and source ``l`` voted ``b``; the diagonal holds the number of
    votes of each (source, class). Counts are exact integers (stored as
    float64), so dense and sparse storage give identical results. Dense votes
    are packed into bit sets and counted with a popcount of their bitwise
    AND (1-3 s for 1M items x 50 sources on one busy core); sparse votes use a sparse
    product.

    Parameters
    ----------
    L : LabelMatrix
        Votes of shape ``(n, m)`` with ``k`` classes.

    Returns
    -------
    ndarray of shape (m * k, m * k)
    """
    m, k = L.n_sources, L.n_classes
    if L.is_sparse:
        rows, cols, labels = L.coo()
        data = np.ones(rows.shape[0], dtype=np.float64)
        X = sp.csr_array((data, (rows, cols * k + labels.astype(np.int64))), shape=(L.n_items, m * k))
        return np.asarray((X.T @ X).toarray(), dtype=np.float64)
    dense = L.to_dense()
    out = np.zeros((m * k, m * k), dtype=np.int64)
    for start in range(0, dense.shape[0], _CHUNK_ROWS):  # chunks of rows bound the memory
        out += _pair_popcounts(_packed_one_hot(dense[start : start + _CHUNK_ROWS], k))
    return out.astype(np.float64)


def _packed_one_hot(block: np.ndarray, k: int) -> np.ndarray:
    """One-hot votes of ``block`` (b, m) as bit sets: ``(m * k, ceil(b / 64))`` uint64."""
    b, m = block.shape
    n_bytes = -(-b // 64) * 8
    columns = np.ascontiguousarray(block.T)  # (m, b): packing along contiguous rows is fast
    packed = np.zeros((m, k, n_bytes), dtype=np.uint8)
    for c in range(k):  # loop over classes, not items
        bits = np.packbits(columns == c, axis=1)  # (m, ceil(b / 8))
        packed[:, c, : bits.shape[1]] = bits
    return packed.reshape(m * k, n_bytes).view(np.uint64)


def _pair_popcounts(words: np.ndarray) -> np.ndarray:
    """``C[a, b]`` = number of bits set in both row a and row b of ``words``."""
    d = words.shape[0]
    out = np.zeros((d, d), dtype=np.int64)
    for a in range(d):  # loop over one-hot columns; each step is vectorised over items
        both = np.bitwise_and(words[a], words[a:])
        out[a, a:] = _popcount(both).sum(axis=1, dtype=np.int64)
    upper = np.triu_indices(d, 1)
    out[upper[1], upper[0]] = out[upper]
    return out


def _popcount(words: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(words)
    return np.unpackbits(words.view(np.uint8), axis=-1)  # pragma: no cover - numpy < 2


def majority_agreement(L: LabelMatrix) -> tuple[np.ndarray, np.ndarray]:
    """Agreement of every source with the (unweighted) majority vote.

    A vote agrees with an item's majority with probability ``1 / t`` when
    its class is one of ``t`` classes tied for the most votes (the expected
    agreement under random tie-breaking), else 0.

    Returns
    -------
    agreed : ndarray of shape (m,)
        Expected number of each source's votes that agree with the majority.
    n_votes : ndarray of shape (m,)
        Number of votes of each source.
    """
    rows, cols, labels = L.coo()
    counts = L.class_counts()
    top = counts.max(axis=1, keepdims=True)
    is_top = (counts == top) & (top > 0)
    share = is_top / np.maximum(is_top.sum(axis=1, keepdims=True), 1)
    agree = share.ravel()[rows * L.n_classes + labels.astype(np.int64)]
    agreed = np.bincount(cols, agree, minlength=L.n_sources)
    n_votes = np.bincount(cols, minlength=L.n_sources).astype(np.float64)
    return agreed, n_votes


def weighted_vote_counts(L: LabelMatrix, weights: np.ndarray) -> np.ndarray:
    """Sum of the weights of the sources voting each class, shape ``(n, k)``."""
    rows, cols, labels = L.coo()
    k = L.n_classes
    flat = np.bincount(rows * k + labels.astype(np.int64), weights[cols], minlength=L.n_items * k)
    return flat.reshape(L.n_items, k).astype(np.float64, copy=False)  # bincount of nothing is int
