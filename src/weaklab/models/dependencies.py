"""Learning which sources are correlated beyond what the latent class explains.

If sources are conditionally independent given the class ``y``, the
covariance of their one-hot votes is block-diagonal (each source with itself)
plus a rank ``k - 1`` term due to ``y``; by the Woodbury identity its inverse
is block-diagonal *minus* a rank ``k - 1`` term. Off the diagonal blocks the
(scaled) inverse covariance is therefore low rank, and a dependency between
two sources shows up as a sparse deviation from that low-rank part in their
block (the structure-learning idea behind MeTaL; Varma et al., ICML 2019).

:func:`learn_dependencies` computes the partial correlations of the one-hot
votes, finds suspected pairs with a convex sparse-plus-low-rank split
(robust PCA) of the off-diagonal blocks, fits the rank ``k - 1`` part by
low-rank completion with the suspects left out, and reports pairs whose
residual partial correlation is large. For a source ``j`` that copies
source ``i`` with probability ``rho`` (and is otherwise independent), the
strength is close to ``rho``; within a group of ``g`` mutual copies each
pair's partial correlation is smaller (about ``rho / (g - 1)``), as the
others explain part of it.

Limits: the class signal must be the dominant shared structure. When most
sources are copies of one another (e.g. 4 copies of one source among 5),
the copies are indistinguishable from the class and no edge is found. Cost
grows as ``(m k)^3`` per iteration (eigendecompositions of the ``m k``
square matrix), fine for a few hundred one-hot columns.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.linalg import eigh

from .._core import as_label_matrix
from .._core.constants import TINY
from .._core.validation import check_choice, check_float, check_int, check_random_state, fail
from ._vote_stats import small_blas, vote_overlaps

__all__ = ["Edge", "learn_dependencies", "partial_correlations", "low_rank_residuals", "sparse_plus_low_rank"]

_METHODS = ("inverse_covariance",)
_Z_FLOOR = 5.0  # a residual must also exceed this many standard errors (1 / sqrt(n))
_ROBUST_ROUNDS = 4  # refits of the low-rank part with flagged pairs left out


class Edge(NamedTuple):
    """A learned dependency: sources ``source_i < source_j`` and its ``strength``.

    Attributes
    ----------
    source_i, source_j : int
        Column positions of the two sources in the label matrix, ``source_i < source_j``.
    strength : float
        How strongly they depend on each other given the class (larger = stronger).

    Examples
    --------
    >>> from weaklab import learn_dependencies
    >>> from weaklab.synthetic import make_label_matrix
    >>> data = make_label_matrix(5000, 5, coverage=0.5, accuracy=0.7, correlated=1, random_state=0)
    >>> data.dependencies
    [(2, 4)]
    >>> edges = learn_dependencies(data.L)
    >>> [(edge.source_i, edge.source_j) for edge in edges], type(edges[0]).__name__
    ([(2, 4)], 'Edge')
    """

    source_i: int
    source_j: int
    strength: float


def partial_correlations(L: Any, n_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Partial correlations of the one-hot votes and the source of every column.

    Columns with no variance (a class a source never votes, or never
    abstains from) are dropped, and for a source that never abstains one
    more column is dropped (its indicators sum to 1).

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n, m)
    n_classes : int, optional

    Returns
    -------
    P : ndarray of shape (d, d)
        ``-K_ab / sqrt(K_aa K_bb)`` with ``K`` the inverse covariance.
    owner : ndarray of shape (d,)
        Source of every kept column.
    """
    L = as_label_matrix(L, n_classes)
    m, k, n = L.n_sources, L.n_classes, L.n_items
    moments = vote_overlaps(L) / n
    mean = np.diag(moments).copy()
    cov = moments - np.outer(mean, mean)
    keep = np.diag(cov) > 1e-12
    owner = np.repeat(np.arange(m), k)
    never_abstains = np.isclose(mean.reshape(m, k).sum(axis=1), 1.0)
    for j in np.flatnonzero(never_abstains):  # loop over sources: drop one indicator each
        cols = np.flatnonzero(keep & (owner == j))
        if cols.size:
            keep[cols[-1]] = False
    cov = cov[np.ix_(keep, keep)]
    ridge = 1e-9 * float(np.mean(np.diag(cov))) if cov.size else 0.0
    K = np.linalg.pinv(cov + ridge * np.eye(cov.shape[0]), hermitian=True)
    scale = np.sqrt(np.clip(np.diag(K), TINY, None))
    return -K / np.outer(scale, scale), owner[keep]


def low_rank_residuals(P: np.ndarray, known: np.ndarray, rank: int, *, n_iter: int = 100) -> np.ndarray:
    """Residual ``P - W`` of a positive semi-definite rank-``rank`` fit ``W`` to the known entries.

    Unknown entries are imputed from the current fit (hard impute), then
    ``W`` is refitted from the top eigenpairs; this converges to a low-rank
    completion of the known entries.

    Parameters
    ----------
    P : ndarray of shape (d, d)
        Symmetric matrix.
    known : ndarray of bool, shape (d, d)
        Symmetric mask of the entries the fit must match.
    rank : int
    n_iter : int, default=100

    Returns
    -------
    ndarray of shape (d, d)
    """
    d = P.shape[0]
    filled = np.where(known, P, 0.0)
    fit = np.zeros_like(P)
    for _ in range(n_iter):  # loop over completion rounds
        vals, vecs = eigh(filled, subset_by_index=[d - rank, d - 1])
        new = (vecs * np.clip(vals, 0.0, None)) @ vecs.T
        done = np.max(np.abs(new - fit), initial=0.0) < 1e-8
        fit = new
        filled = np.where(known, P, fit)
        if done:
            break
    return P - fit


def _pair_strengths(resid: np.ndarray, owner: np.ndarray, m: int) -> np.ndarray:
    """Largest absolute residual in each (source, source) block, shape ``(m, m)``."""
    strengths = np.zeros((m, m))
    rows, cols = np.meshgrid(owner, owner, indexing="ij")
    np.maximum.at(strengths, (rows.ravel(), cols.ravel()), np.abs(resid).ravel())
    np.fill_diagonal(strengths, 0.0)
    return strengths


def learn_dependencies(
    L: Any,
    *,
    n_classes: int | None = None,
    threshold: float = 0.1,
    method: str = "inverse_covariance",
    max_edges: int | None = None,
    random_state: Any = None,
) -> list[Edge]:
    """Find pairs of sources that are correlated given the true class.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n_items, n_sources)
        Votes, ``-1`` = abstain.
    n_classes : int, optional
        Number of classes (taken from ``L`` when it is a LabelMatrix).
    threshold : float, default=0.1
        Smallest residual partial correlation reported as an edge. An edge
        must also exceed ``5 / sqrt(n_items)`` (five standard errors of a
        partial correlation), so small samples do not produce chance edges.
    method : {"inverse_covariance"}, default="inverse_covariance"
        Sparse-plus-low-rank analysis of the inverse covariance of the
        one-hot votes (see the module docstring).
    max_edges : int, optional
        Keep at most this many edges (the strongest).
    random_state : None, int or Generator, default=None
        Accepted for a uniform interface; the method is deterministic and
        does not draw random numbers.

    Returns
    -------
    list of Edge
        ``(source_i, source_j, strength)`` with ``source_i < source_j``
        (positions of the sources), strongest first. Pass it to
        ``MatrixCompletion(dependencies=...)``.

    Examples
    --------
    >>> from weaklab.synthetic import make_label_matrix
    >>> data = make_label_matrix(20000, 10, coverage=0.8, correlated=1, random_state=0)
    >>> edges = learn_dependencies(data.L)
    >>> [(e.source_i, e.source_j) for e in edges] == [tuple(sorted(data.dependencies[0]))]
    True
    """
    L = as_label_matrix(L, n_classes)
    threshold = check_float("threshold", threshold, low=0.0, low_open=True)
    check_choice("method", method, _METHODS)
    if max_edges is not None:
        max_edges = check_int("max_edges", max_edges, low=0)
    check_random_state(random_state)
    if L.n_sources < 3:
        raise fail("L", "at least 3 sources to learn dependencies", got_text=f"{L.n_sources} source(s)")
    with small_blas():
        P, owner = partial_correlations(L)
        strengths = _robust_strengths(P, owner, L.n_sources, L.n_classes - 1, threshold)
    cutoff = max(threshold, _Z_FLOOR / np.sqrt(L.n_items))
    return _edges(strengths, cutoff, max_edges)


def sparse_plus_low_rank(P: np.ndarray, known: np.ndarray, *, lam: float | None = None,
                         n_iter: int = 500, tol: float = 1e-7) -> tuple[np.ndarray, np.ndarray]:
    """Split the known entries of ``P`` into a PSD low-rank part and a sparse part.

    Solves ``min ||W||_* + lam ||S||_1`` subject to ``W + S = P`` on the
    known entries (principal component pursuit with missing entries, by an
    inexact augmented Lagrangian method; ``W`` is kept positive
    semi-definite). Being convex, it is not captured by strong correlated
    pairs the way a least-squares low-rank fit is.

    Parameters
    ----------
    P : ndarray of shape (d, d)
        Symmetric matrix.
    known : ndarray of bool, shape (d, d)
        Symmetric mask of the constrained entries.
    lam : float, optional
        Weight of the sparse part; ``1 / sqrt(d)`` by default.
    n_iter : int, default=500
    tol : float, default=1e-7
        Stop when the constraint violation is below ``tol`` (relative).

    Returns
    -------
    W, S : ndarrays of shape (d, d)
        ``S`` is zero outside ``known``.
    """
    d = P.shape[0]
    lam = 1.0 / np.sqrt(d) if lam is None else lam
    target = np.where(known, P, 0.0)
    norm = float(np.linalg.norm(target, 2)) or 1.0
    low, sparse, dual = np.zeros_like(P), np.zeros_like(P), np.zeros_like(P)
    mu, mu_max = 1.25 / norm, 1.25e7 / norm
    limit = tol * max(1.0, float(np.abs(target).max()))
    for _ in range(n_iter):  # loop over ALM iterations
        fill = np.where(known, P - sparse + dual / mu, low)
        vals, vecs = eigh((fill + fill.T) / 2.0)
        low = (vecs * np.clip(vals - 1.0 / mu, 0.0, None)) @ vecs.T
        rest = P - low + dual / mu
        sparse = np.where(known, np.sign(rest) * np.clip(np.abs(rest) - lam / mu, 0.0, None), 0.0)
        gap = np.where(known, P - low - sparse, 0.0)
        dual += mu * gap
        mu = min(mu * 1.5, mu_max)
        if np.abs(gap).max() < limit:
            break
    return low, sparse


def _robust_strengths(P: np.ndarray, owner: np.ndarray, m: int, rank: int, threshold: float) -> np.ndarray:
    """Pair strengths from a rank-``rank`` fit that leaves suspected pairs out.

    Suspects are the pairs with a sparse component (from
    :func:`sparse_plus_low_rank`) and, over a few refits, the pairs whose
    residual exceeds ``threshold``.
    """
    off_block = owner[:, None] != owner[None, :]
    _, sparse = sparse_plus_low_rank(P, off_block)
    suspects = _pair_strengths(sparse, owner, m) > threshold / 2.0
    strengths = np.zeros((m, m))
    for _ in range(_ROBUST_ROUNDS):  # loop over robust refits
        known = off_block & ~suspects[np.ix_(owner, owner)]
        strengths = _pair_strengths(low_rank_residuals(P, known, rank), owner, m)
        grown = suspects | (strengths > threshold)
        if np.array_equal(grown, suspects):
            break
        suspects = grown
    return strengths


def _edges(strengths: np.ndarray, cutoff: float, max_edges: int | None) -> list[Edge]:
    i, j = np.triu_indices(strengths.shape[0], 1)
    values = strengths[i, j]
    chosen = np.flatnonzero(values > cutoff)
    chosen = chosen[np.argsort(-values[chosen], kind="stable")]
    if max_edges is not None:
        chosen = chosen[:max_edges]
    return [Edge(int(i[c]), int(j[c]), float(values[c])) for c in chosen]
