"""``make_label_matrix``: independent or planted-correlated sources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._core import ABSTAIN, LabelMatrix, vote_dtype
from .._core.validation import check_float, check_int, check_random_state, fail
from ._common import (
    SyntheticLabels,
    check_class_balance,
    check_flag,
    draw_classes,
    independent_confusion,
    is_numeric,
    labels_result,
    per_source,
    stochastic_rows,
)

__all__ = ["make_label_matrix"]

_CHUNK_CELLS = 1 << 21  # cells generated per chunk (about 8 MB of float32)


def make_label_matrix(
    n_items: int,
    n_sources: int,
    n_classes: int = 2,
    *,
    coverage: Any = 0.3,
    accuracy: Any = 0.7,
    class_balance: Any = None,
    error_matrix: Any = None,
    correlated: int = 0,
    correlation_strength: float = 0.8,
    sparse: bool = False,
    random_state: Any = None,
) -> SyntheticLabels:
    """Votes of independent (or planted-correlated) sources with known truth.

    Each source ``j`` votes on an item with probability ``coverage[j]``; a vote
    is correct with probability ``accuracy[j]``, and a wrong vote is uniform
    over the other classes (or drawn from ``error_matrix``).

    Parameters
    ----------
    n_items : int
        Number of items ``n >= 1``.
    n_sources : int
        Number of sources ``m >= 1``.
    n_classes : int, default=2
        Number of classes ``k >= 2``.
    coverage : float, tuple (low, high) or array-like of shape (m,), default=0.3
        Probability that each source votes. A float applies to every source;
        a 2-tuple is a range from which each source's value is drawn
        uniformly; a list or array gives one value per source. Values in [0, 1].
    accuracy : float, tuple (low, high) or array-like of shape (m,), default=0.7
        Probability that a vote is correct, in the same forms as ``coverage``.
    class_balance : array-like of shape (k,), optional
        Prior of the true classes; uniform when omitted.
    error_matrix : array-like of shape (k, k) or (m, k, k), optional
        Distribution of *wrong* votes: ``error_matrix[j, c, v]`` = P(source j
        votes v | true class c, the vote is wrong). Zero diagonal, rows sum
        to 1. Default: uniform over the other classes.
    correlated : int, default=0
        Number ``p`` of disjoint source pairs ``(i, j)`` (``2p <= m``) in which
        source ``j`` copies the vote of source ``i`` (abstain included) with
        probability ``correlation_strength``, and otherwise votes on its own.
    correlation_strength : float, default=0.8
        Copy probability in ``[0, 1]``.
    sparse : bool, default=False
        Store the votes sparsely (only non-abstain votes).
    random_state : None, int or numpy.random.Generator
        Seed; the result is a deterministic function of it.

    Returns
    -------
    SyntheticLabels
        ``accuracy``, ``coverage`` and ``confusion`` are the *marginal*
        values of every source, so for a copying source they mix its own
        parameters with those of the source it copies.

    Examples
    --------
    >>> data = make_label_matrix(1000, 5, coverage=(0.2, 0.6), random_state=0)
    >>> data.L.shape, data.y.shape, data.accuracy.shape
    ((1000, 5), (1000,), (5,))
    """
    n = check_int("n_items", n_items, low=1)
    m = check_int("n_sources", n_sources, low=1)
    k = check_int("n_classes", n_classes, low=2, high=127)
    sparse = check_flag("sparse", sparse)
    rng = check_random_state(random_state)
    prior = check_class_balance(class_balance, k)
    errors = _error_matrix(error_matrix, m, k)
    pairs_wanted = check_int("correlated", correlated, low=0, high=m // 2)
    strength = check_float("correlation_strength", correlation_strength, low=0.0, high=1.0)
    cov = per_source("coverage", coverage, m, rng)
    acc = per_source("accuracy", accuracy, m, rng)
    pairs = _draw_pairs(pairs_wanted, m, rng)
    y = np.empty(n, dtype=np.int64)
    dense = None if sparse else np.empty((n, m), dtype=vote_dtype(k))
    coo: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start, stop in _chunks(n, m * (k if errors is not None else 1)):
        y[start:stop] = draw_classes(stop - start, prior, rng)
        block = _vote_block(y[start:stop], cov, acc, errors, k, rng)
        _copy_votes(block, pairs, strength, rng)
        if dense is not None:
            dense[start:stop] = block
        else:
            rows, cols = np.nonzero(block != ABSTAIN)
            coo.append((rows + start, cols, block[rows, cols]))
    L = _build_matrix(dense, coo, n, m, k)
    confusion = independent_confusion(acc, errors, k)
    cov_eff, confusion = _mix_copies(cov, confusion, pairs, strength)
    return labels_result(L, y, cov_eff, confusion, prior, pairs)


def _error_matrix(error_matrix: Any, m: int, k: int) -> np.ndarray | None:
    if error_matrix is None:
        return None
    arr = np.asarray(error_matrix, dtype=np.float64) if is_numeric(error_matrix) else None
    if arr is None or arr.ndim not in (2, 3):
        raise fail("error_matrix", f"an array of shape ({k}, {k}) or ({m}, {k}, {k})", error_matrix)
    arr = stochastic_rows("error_matrix", arr, (k, k) if arr.ndim == 2 else (m, k, k))
    arr = np.broadcast_to(arr, (m, k, k))
    if np.any(np.diagonal(arr, axis1=1, axis2=2) > 1e-12):
        raise fail("error_matrix", "a zero diagonal (it describes wrong votes only)",
                   got_text="a non-zero diagonal entry")
    return np.ascontiguousarray(arr)


def _draw_pairs(p: int, m: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """``p`` disjoint ordered pairs of distinct sources, sorted by first source."""
    if p == 0:
        return []
    chosen = rng.permutation(m)[: 2 * p].reshape(p, 2)
    return sorted((int(i), int(j)) for i, j in chosen)


def _chunks(n: int, width: int) -> Iterator[tuple[int, int]]:
    """Row ranges of about ``_CHUNK_CELLS`` cells for rows of ``width`` cells."""
    rows = max(1, _CHUNK_CELLS // max(width, 1))
    for start in range(0, n, rows):
        yield start, min(n, start + rows)


def _vote_block(
    y: np.ndarray,
    cov: np.ndarray,
    acc: np.ndarray,
    errors: np.ndarray | None,
    k: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Votes of one chunk, from a single uniform draw per cell.

    With ``u ~ U[0, 1)``: ``u < cov * acc`` is a correct vote, ``u < cov`` a
    wrong one, anything else an abstain. For a wrong vote, the rescaled
    position of ``u`` inside its band picks the wrong class. The body is
    branch-free int8 arithmetic (masked copies are several times slower).
    """
    dtype = vote_dtype(k)
    u = rng.random((y.shape[0], cov.shape[0]), dtype=np.float32)
    hit = (cov * acc).astype(np.float32)
    covered = cov.astype(np.float32)
    truth = y.astype(dtype)[:, None]
    wrong = (u >= hit).view(np.int8)
    if k == 2 and errors is None:
        block = np.bitwise_xor(truth, wrong)
    else:
        block = np.where(wrong.view(bool), _wrong_votes(u, truth, hit, covered, errors, k), truth)
    on = (u < covered).view(np.int8)
    block *= on  # abstain: (0 * vote) + 0 - 1 = -1; vote: vote + 1 - 1
    block += on
    block -= 1
    return block


def _wrong_votes(
    u: np.ndarray,
    truth: np.ndarray,
    hit: np.ndarray,
    covered: np.ndarray,
    errors: np.ndarray | None,
    k: int,
) -> np.ndarray:
    """Wrong class of every cell (only used where ``hit <= u < covered``)."""
    width = np.maximum(covered - hit, np.float32(1e-12))
    w = np.clip((u - hit) / width, 0.0, np.float32(1.0 - 1e-6))
    if errors is None:
        offset = 1 + (w * np.float32(k - 1)).astype(np.int16)
        np.minimum(offset, k - 1, out=offset)
        return ((truth + offset) % k).astype(truth.dtype)
    cum = np.cumsum(errors, axis=2).astype(np.float32)  # (m, k, k)
    rows = cum[np.arange(cum.shape[0])[None, :], truth.astype(np.intp)]  # (c, m, k)
    votes = (w[..., None] >= rows).sum(axis=-1)
    return np.minimum(votes, k - 1).astype(truth.dtype)


def _copy_votes(block: np.ndarray, pairs: list[tuple[int, int]], strength: float,
                rng: np.random.Generator) -> None:
    """In place: source j takes source i's vote with probability ``strength``."""
    if not pairs:
        return
    copy = rng.random((block.shape[0], len(pairs)), dtype=np.float32) < strength
    for p, (i, j) in enumerate(pairs):
        np.copyto(block[:, j], block[:, i], where=copy[:, p])


def _build_matrix(dense: np.ndarray | None, coo: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                  n: int, m: int, k: int) -> LabelMatrix:
    if dense is not None:
        return LabelMatrix(dense, n_classes=k)
    rows, cols, labels = (np.concatenate([part[i] for part in coo]) for i in range(3))
    return LabelMatrix.from_coo(rows, cols, labels, n_items=n, n_sources=m, n_classes=k)


def _mix_copies(cov: np.ndarray, confusion: np.ndarray, pairs: list[tuple[int, int]],
                strength: float) -> tuple[np.ndarray, np.ndarray]:
    """Marginal coverage and confusion of copying sources."""
    cov_eff, conf_eff = cov.copy(), confusion.copy()
    for i, j in pairs:
        own, copied = (1.0 - strength) * cov[j], strength * cov[i]
        cov_eff[j] = own + copied
        if cov_eff[j] > 0:  # a convex mix, so rows still sum to 1 when the coverages are subnormal
            share = min(1.0, own / cov_eff[j])
            conf_eff[j] = share * confusion[j] + (1.0 - share) * confusion[i]
    return cov_eff, conf_eff
