"""One-hot vote matrices with implicit ones, stored in row blocks.

The E- and M-steps of the confusion-matrix label models are products of the
one-hot votes ``X[u, j * k + c] = [source j voted c on unit u]`` with small
dense arrays (``X @ table`` and ``X.T @ posterior``). As a scipy CSR array,
``X`` stores a float64 1 (8 bytes) beside the int32 column (4 bytes) of every
vote: at 1M items x 50 sources with 15M votes, 120 MB of ones. :class:`OneHot`
keeps only the columns and row pointers, cut into row blocks of about
``_BLOCK_VOTES`` votes, and runs every product block by block through scipy's
CSR kernels, the ones coming from one shared read-only buffer no longer than
a block (a transient view, so whatever scipy does with it costs at most one
block). Each block owns its arrays (no slices of a larger array, which scipy
would copy), so building the transient CSR of a block costs no copy.

Blocking changes the order in which ``X.T @ v`` adds the blocks' partial
sums (rounding-level differences only); ``X @ v`` is computed row by row
exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import numpy as np
import scipy.sparse as sp

__all__ = ["OneHot", "one_hot_from_dense", "one_hot_from_csr", "one_hot_from_triples"]

_BLOCK_VOTES = 1 << 18  # votes per block: the ones buffer (2 MiB) and a block's columns stay in cache
_DENSE_CELLS = 1 << 20  # dense cells converted at once (bounds the temporaries of a dense block)

Block = tuple[int, np.ndarray, np.ndarray]
"""``(first_row, indptr, indices)`` of one row block; ``indptr`` starts at 0."""


class OneHot:
    """Read-only one-hot matrix ``(n_rows, n_cols)`` of 0/1 entries with implicit ones.

    Supports ``X @ B`` and ``X.T @ B`` for a dense ``B`` (1-d or 2-d),
    returning dense float64 arrays, like a scipy sparse array would.

    Parameters
    ----------
    blocks : list of (first_row, indptr, indices)
        Consecutive row blocks covering ``[0, n_rows)`` in order; ``indptr``
        (int32, starting at 0) and ``indices`` (int32 column of every entry)
        of each block in CSR form.
    shape : tuple of int
        ``(n_rows, n_cols)``.

    Examples
    --------
    >>> import numpy as np
    >>> X = one_hot_from_dense(np.array([[0, -1], [1, 1]], dtype=np.int8), 2)
    >>> X @ np.arange(4.0)
    array([0., 4.])
    >>> X.T @ np.ones(2)
    array([1., 1., 0., 1.])
    """

    def __init__(self, blocks: list[Block], shape: tuple[int, int]) -> None:
        self._blocks = blocks
        self.shape = (int(shape[0]), int(shape[1]))
        self.nnz = int(sum(indices.shape[0] for _, _, indices in blocks))
        longest = max((indices.shape[0] for _, _, indices in blocks), default=0)
        self._ones = np.ones(longest, dtype=np.float64)
        self._ones.flags.writeable = False

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored arrays (row pointers, columns and the ones buffer)."""
        return self._ones.nbytes + sum(p.nbytes + i.nbytes for _, p, i in self._blocks)

    def csr_blocks(self) -> Iterator[tuple[int, sp.csr_array]]:
        """Yield ``(first_row, float64 CSR of the block)``; the data of all blocks is one shared read-only buffer."""
        for start, indptr, indices in self._blocks:
            data = self._ones[: indices.shape[0]]
            yield start, sp.csr_array((data, indices, indptr), shape=(indptr.shape[0] - 1, self.shape[1]))

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        other = np.asarray(other, dtype=np.float64)
        out = np.empty((self.shape[0], *other.shape[1:]), dtype=np.float64)
        for start, block in self.csr_blocks():
            out[start:start + block.shape[0]] = block @ other
        return out

    @property
    def T(self) -> _Transposed:
        """The transpose, for ``X.T @ B``."""
        return _Transposed(self)

    def _rmatmul(self, other: np.ndarray) -> np.ndarray:
        """``X.T @ other`` for ``other`` of shape ``(n_rows, ...)``."""
        other = np.asarray(other, dtype=np.float64)
        out = np.zeros((self.shape[1], *other.shape[1:]), dtype=np.float64)
        for start, block in self.csr_blocks():
            out += block.T @ other[start:start + block.shape[0]]
        return out

    def to_csr(self) -> sp.csr_array:
        """The whole matrix as a float64 scipy CSR array (materialises the ones)."""
        if not self._blocks:
            return sp.csr_array(self.shape, dtype=np.float64)
        indptr = np.zeros(self.shape[0] + 1, dtype=_index_dtype(self.nnz))  # int32 when it fits, as scipy's own
        for start, ptr, _ in self._blocks:
            indptr[start + 1:start + ptr.shape[0]] = ptr[1:]
        offsets = np.cumsum([0] + [i.shape[0] for _, _, i in self._blocks[:-1]])
        for (start, ptr, _), offset in zip(self._blocks, offsets, strict=True):
            indptr[start + 1:start + ptr.shape[0]] += offset
        indices = np.concatenate([i for _, _, i in self._blocks])
        X = sp.csr_array((np.ones(self.nnz, dtype=np.float64), indices, indptr), shape=self.shape)
        X.sort_indices()
        return X

    def rows_and_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Row and column (int64) of every entry, row-major, shape ``(nnz,)`` each."""
        if not self._blocks:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        rows = np.concatenate([np.repeat(np.arange(start, start + p.shape[0] - 1, dtype=np.int64), np.diff(p))
                               for start, p, _ in self._blocks])
        cols = np.concatenate([i.astype(np.int64) for _, _, i in self._blocks])
        return rows, cols


class _Transposed:
    """``X.T`` of a :class:`OneHot`: supports ``X.T @ B`` only."""

    def __init__(self, parent: OneHot) -> None:
        self._parent = parent
        self.shape = parent.shape[::-1]

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        return self._parent._rmatmul(other)


def _index_dtype(n_cols: int) -> type[np.signedinteger]:
    return np.int32 if n_cols < np.iinfo(np.int32).max else np.int64


def _bounds(indptr: np.ndarray, max_rows: int | None = None) -> list[int]:
    """Row boundaries cutting ``indptr`` into blocks of about ``_BLOCK_VOTES`` entries (at least one row each)."""
    n = indptr.shape[0] - 1
    bounds = [0]
    while bounds[-1] < n:
        start = bounds[-1]
        stop = int(np.searchsorted(indptr, indptr[start] + _BLOCK_VOTES, side="right")) - 1
        if max_rows is not None:
            stop = min(stop, start + max_rows)
        bounds.append(min(n, max(stop, start + 1)))
    return bounds


def _block_indptr(indptr: np.ndarray, start: int, stop: int) -> np.ndarray:
    return (indptr[start:stop + 1] - indptr[start]).astype(np.int32)


def one_hot_from_dense(votes: np.ndarray, n_classes: int) -> OneHot:
    """One-hot of a dense ``(n, m)`` vote array (``-1`` = abstain).

    Two passes over row blocks (count, then fill): no ``(n, m)`` temporary,
    no float64 ones and no int64 coordinates are built.
    """
    n, m = votes.shape
    k = int(n_classes)
    idx = _index_dtype(m * k)
    step = max(1, _DENSE_CELLS // max(1, m))
    count = np.uint8 if m < np.iinfo(np.uint8).max else np.int64
    indptr = np.zeros(n + 1, dtype=np.int64)
    for a in range(0, n, step):
        block = votes[a:a + step]
        indptr[a + 1:a + 1 + block.shape[0]] = (block >= 0).view(np.uint8).sum(axis=1, dtype=count)
    np.cumsum(indptr, out=indptr)
    offsets = np.arange(m, dtype=idx) * k
    blocks: list[Block] = []
    for start, stop in _pairs(_bounds(indptr, max_rows=step)):
        block = votes[start:stop]
        voted = (block >= 0).ravel()
        codes = block.astype(idx)
        codes += offsets
        # np.compress on flat arrays is several times faster than boolean-mask indexing
        blocks.append((start, _block_indptr(indptr, start, stop), np.compress(voted, codes.ravel())))
    return OneHot(blocks, (n, m * k))


def one_hot_from_csr(csr: sp.csr_array, n_classes: int) -> OneHot:
    """One-hot of a vote CSR holding ``label + 1`` (as :attr:`LabelMatrix.csr`), without densifying."""
    n, m = csr.shape
    k = int(n_classes)
    idx = _index_dtype(m * k)
    if not csr.has_sorted_indices:
        csr = csr.sorted_indices()
    indptr = np.asarray(csr.indptr, dtype=np.int64)
    blocks: list[Block] = []
    for start, stop in _pairs(_bounds(indptr)):
        lo, hi = int(indptr[start]), int(indptr[stop])
        indices = csr.indices[lo:hi].astype(idx)
        indices *= k
        indices += csr.data[lo:hi]
        indices -= 1
        blocks.append((start, _block_indptr(indptr, start, stop), indices))
    return OneHot(blocks, (n, m * k))


def one_hot_from_triples(rows: np.ndarray, cols: np.ndarray, labels: np.ndarray, n_rows: int,
                         n_sources: int, n_classes: int) -> OneHot:
    """One-hot ``X[u, j * k + c] = 1`` from the (unit, source, class) of every vote, in any order."""
    k = int(n_classes)
    idx = _index_dtype(n_sources * k)
    rows = np.asarray(rows, dtype=np.int64)
    flat = (np.asarray(cols, dtype=np.int64) * k + np.asarray(labels, dtype=np.int64)).astype(idx)
    order = np.lexsort((flat, rows))
    rows, flat = rows[order], flat[order]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    blocks = [(start, _block_indptr(indptr, start, stop), flat[indptr[start]:indptr[stop]].copy())
              for start, stop in _pairs(_bounds(indptr))]
    return OneHot(blocks, (n_rows, n_sources * k))


def _pairs(bounds: list[int]) -> list[tuple[int, int]]:
    return list(pairwise(bounds))
