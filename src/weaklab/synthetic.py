"""Known-truth generators: label matrices, crowds and label noise.

Every generator returns the truth it planted (true labels, each source's
accuracy, coverage and confusion, planted dependencies) so that label models,
dependency learning and noise estimation can be checked against it. The
generators are vectorised and work in row chunks, so a dense ``1e7 x 50``
binary matrix needs little memory beyond its own ``int8`` votes.

Conventions
-----------
* ``confusion[j, c, v]`` is the probability that source ``j`` votes ``v`` on an
  item of true class ``c`` *given that it votes* (rows sum to 1).
* A noise matrix is ``noise[true, given]``: row ``c`` is the distribution of
  the observed label of an item of true class ``c`` (rows sum to 1).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._core import ABSTAIN, LabelMatrix, vote_dtype
from ._core.validation import check_float, check_int, check_random_state, fail

__all__ = [
    "SyntheticLabels",
    "make_label_matrix",
    "make_crowd",
    "make_noise_matrix",
    "corrupt_labels",
]

_CHUNK_CELLS = 1 << 21  # cells generated per chunk (about 8 MB of float32)
_NOISE_KINDS = ("uniform", "pair", "random")


@dataclass(frozen=True, eq=False)
class SyntheticLabels:
    """A synthetic label matrix with the truth that generated it.

    Attributes
    ----------
    L : LabelMatrix
        The votes, shape ``(n_items, n_sources)``.
    y : ndarray of shape (n_items,)
        True class of every item (int64).
    accuracy : ndarray of shape (n_sources,)
        Probability that a source's vote is correct, given that it votes.
    coverage : ndarray of shape (n_sources,)
        Probability that a source votes on an item.
    dependencies : list of tuple of int
        Planted correlated source pairs ``(i, j)``: source ``j`` copies the
        vote of source ``i`` (empty for independent sources).
    confusion : ndarray of shape (n_sources, n_classes, n_classes)
        ``confusion[j, c, v]`` = P(source j votes v | true class c, j votes).
    class_balance : ndarray of shape (n_classes,)
        The class prior the labels were drawn from.
    difficulty : ndarray of shape (n_items,) or None
        Item difficulty (crowds only): the probability that a worker guesses
        uniformly at random on that item.
    """

    L: LabelMatrix
    y: np.ndarray
    accuracy: np.ndarray
    coverage: np.ndarray
    dependencies: list[tuple[int, int]]
    confusion: np.ndarray
    class_balance: np.ndarray
    difficulty: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return self.L.n_classes


# ---------------------------------------------------------------------------
# make_label_matrix
# ---------------------------------------------------------------------------


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
    sparse = _check_flag("sparse", sparse)
    rng = check_random_state(random_state)
    prior = _class_balance(class_balance, k)
    errors = _error_matrix(error_matrix, m, k)
    pairs_wanted = check_int("correlated", correlated, low=0, high=m // 2)
    strength = check_float("correlation_strength", correlation_strength, low=0.0, high=1.0)
    cov = _per_source("coverage", coverage, m, rng)
    acc = _per_source("accuracy", accuracy, m, rng)
    pairs = _draw_pairs(pairs_wanted, m, rng)
    y = np.empty(n, dtype=np.int64)
    dense = None if sparse else np.empty((n, m), dtype=vote_dtype(k))
    coo: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start, stop in _chunks(n, m * (k if errors is not None else 1)):
        y[start:stop] = _draw_classes(stop - start, prior, rng)
        block = _vote_block(y[start:stop], cov, acc, errors, k, rng)
        _copy_votes(block, pairs, strength, rng)
        if dense is not None:
            dense[start:stop] = block
        else:
            rows, cols = np.nonzero(block != ABSTAIN)
            coo.append((rows + start, cols, block[rows, cols]))
    L = _build_matrix(dense, coo, n, m, k)
    confusion = _independent_confusion(acc, errors, k)
    cov_eff, confusion = _mix_copies(cov, confusion, pairs, strength)
    return _result(L, y, cov_eff, confusion, prior, pairs)


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise fail(name, "True or False", value)
    return bool(value)


def _per_source(name: str, value: Any, m: int, rng: np.random.Generator) -> np.ndarray:
    """Expand a scalar, a (low, high) range or a per-source array to shape (m,)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return np.full(m, check_float(name, value, low=0.0, high=1.0))
    if isinstance(value, tuple) and len(value) == 2:
        low = check_float(f"{name}[0]", value[0], low=0.0, high=1.0)
        high = check_float(f"{name}[1]", value[1], low=low, high=1.0)
        return rng.uniform(low, high, size=m)
    return _probabilities(name, value, m, "a float, a (low, high) tuple or")


def _probabilities(name: str, value: Any, size: int, forms: str) -> np.ndarray:
    """Check an array of ``size`` values in [0, 1] and return a float64 copy."""
    expected = f"{forms} an array of shape ({size},) with values in [0, 1]"
    arr = np.asarray(value, dtype=np.float64) if _numeric(value) else None
    if arr is None or arr.shape != (size,):
        raise fail(name, expected, value)
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
        raise fail(name, expected, got_text=f"values in [{np.nanmin(arr):.4g}, {np.nanmax(arr):.4g}]")
    return arr.copy()


def _class_balance(class_balance: Any, k: int) -> np.ndarray:
    if class_balance is None:
        return np.full(k, 1.0 / k)
    arr = _stochastic_rows("class_balance", class_balance, (k,))
    return arr / arr.sum()


def _stochastic_rows(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Check an array of the given shape whose last axis sums to 1."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail(name, f"a numeric array of shape {shape}", value) from None
    if arr.shape != shape:
        raise fail(name, f"an array of shape {shape}", arr)
    if not np.all(np.isfinite(arr)) or arr.min() < 0:
        raise fail(name, "finite non-negative probabilities", got_text=f"minimum {np.nanmin(arr):.4g}")
    sums = arr.sum(axis=-1)
    if np.any(np.abs(sums - 1.0) > 1e-6):
        worst = float(sums.flat[np.argmax(np.abs(sums - 1.0))])
        raise fail(name, "probabilities that sum to 1 along the last axis", got_text=f"a sum of {worst:.6g}")
    return arr


def _error_matrix(error_matrix: Any, m: int, k: int) -> np.ndarray | None:
    if error_matrix is None:
        return None
    arr = np.asarray(error_matrix, dtype=np.float64) if _numeric(error_matrix) else None
    if arr is None or arr.ndim not in (2, 3):
        raise fail("error_matrix", f"an array of shape ({k}, {k}) or ({m}, {k}, {k})", error_matrix)
    arr = _stochastic_rows("error_matrix", arr, (k, k) if arr.ndim == 2 else (m, k, k))
    arr = np.broadcast_to(arr, (m, k, k))
    if np.any(np.diagonal(arr, axis1=1, axis2=2) > 1e-12):
        raise fail("error_matrix", "a zero diagonal (it describes wrong votes only)",
                   got_text="a non-zero diagonal entry")
    return np.ascontiguousarray(arr)


def _numeric(value: Any) -> bool:
    try:
        np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


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


def _draw_classes(size: int, prior: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cum = np.cumsum(prior)
    cum[-1] = np.inf
    return np.searchsorted(cum, rng.random(size), side="right").astype(np.int64)


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


def _independent_confusion(acc: np.ndarray, errors: np.ndarray | None, k: int) -> np.ndarray:
    """``(m, k, k)`` confusion of sources that vote on their own."""
    m = acc.shape[0]
    wrong = errors if errors is not None else np.broadcast_to(
        (1.0 - np.eye(k)) / (k - 1), (m, k, k))
    confusion = (1.0 - acc)[:, None, None] * wrong
    confusion[:, np.arange(k), np.arange(k)] = acc[:, None]
    return confusion


def _mix_copies(cov: np.ndarray, confusion: np.ndarray, pairs: list[tuple[int, int]],
                strength: float) -> tuple[np.ndarray, np.ndarray]:
    """Marginal coverage and confusion of copying sources."""
    cov_eff, conf_eff = cov.copy(), confusion.copy()
    for i, j in pairs:
        own, copied = (1.0 - strength) * cov[j], strength * cov[i]
        cov_eff[j] = own + copied
        if cov_eff[j] > 0:
            conf_eff[j] = (own * confusion[j] + copied * confusion[i]) / cov_eff[j]
    return cov_eff, conf_eff


def _result(L: LabelMatrix, y: np.ndarray, coverage: np.ndarray, confusion: np.ndarray,
            prior: np.ndarray, pairs: list[tuple[int, int]],
            difficulty: np.ndarray | None = None) -> SyntheticLabels:
    accuracy = np.diagonal(confusion, axis1=1, axis2=2) @ prior
    for arr in (y, coverage, confusion, prior, accuracy, difficulty):
        if arr is not None:
            arr.flags.writeable = False
    return SyntheticLabels(L=L, y=y, accuracy=accuracy, coverage=coverage, dependencies=list(pairs),
                           confusion=confusion, class_balance=prior, difficulty=difficulty)


# ---------------------------------------------------------------------------
# make_crowd
# ---------------------------------------------------------------------------


def make_crowd(
    n_items: int,
    n_workers: int,
    votes_per_item: int,
    n_classes: int = 2,
    *,
    worker_accuracy: Any = (0.55, 0.95),
    spammer_fraction: float = 0.0,
    difficulty: Any = None,
    class_balance: Any = None,
    random_state: Any = None,
) -> SyntheticLabels:
    """A crowd: each item labelled by ``votes_per_item`` distinct random workers.

    A worker answers correctly with its accuracy, otherwise uniformly among
    the other classes. Spammers answer uniformly at random (half of them, on
    average) or always the same class. On an item of difficulty ``d`` every
    worker guesses uniformly at random with probability ``d``.

    Parameters
    ----------
    n_items : int
        Number of items ``n >= 1``.
    n_workers : int
        Number of workers (sources) ``W >= votes_per_item``.
    votes_per_item : int
        Distinct workers per item, ``>= 1``.
    n_classes : int, default=2
        Number of classes ``k >= 2``.
    worker_accuracy : float, tuple (low, high) or array-like of shape (W,), default=(0.55, 0.95)
        Accuracy of the honest workers, as in ``make_label_matrix``'s ``accuracy``.
    spammer_fraction : float, default=0.0
        Share of workers (rounded) who are spammers, in [0, 1].
    difficulty : float, tuple (low, high) or array-like of shape (n,), optional
        Item difficulty in [0, 1]: a float for every item, a range drawn
        uniformly per item, or one value per item. Default: 0 (none).
    class_balance : array-like of shape (k,), optional
        Prior of the true classes; uniform when omitted.
    random_state : None, int or numpy.random.Generator
        Seed.

    Returns
    -------
    SyntheticLabels
        ``L`` is sparse with exactly ``n_items * votes_per_item`` votes.
        ``accuracy`` and ``confusion`` are each worker's expected values over
        the items' difficulty; ``difficulty`` holds the per-item values.
    """
    n = check_int("n_items", n_items, low=1)
    n_workers = check_int("n_workers", n_workers, low=1)
    v = check_int("votes_per_item", votes_per_item, low=1, high=n_workers)
    k = check_int("n_classes", n_classes, low=2, high=127)
    spam_share = check_float("spammer_fraction", spammer_fraction, low=0.0, high=1.0)
    rng = check_random_state(random_state)
    prior = _class_balance(class_balance, k)
    acc = _per_source("worker_accuracy", worker_accuracy, n_workers, rng)
    hard = np.zeros(n) if difficulty is None else _per_source("difficulty", difficulty, n, rng)
    acc, constant = _worker_confusion(acc, spam_share, k, rng)
    y = _draw_classes(n, prior, rng)
    workers = _distinct_workers(n, n_workers, v, rng).ravel()
    items = np.repeat(np.arange(n, dtype=np.int64), v)
    labels = _crowd_votes(y[items], acc[workers], constant[workers], hard[items], k, rng)
    L = LabelMatrix.from_coo(items, workers, labels, n_items=n, n_sources=n_workers, n_classes=k)
    confusion = _crowd_confusion(acc, constant, float(hard.mean()), k)
    coverage = np.bincount(workers, minlength=n_workers) / n
    return _result(L, y, coverage.astype(np.float64), confusion, prior, [], difficulty=hard)


def _worker_confusion(acc: np.ndarray, spam_share: float, k: int,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy of every worker and, for constant spammers, their class (else -1).

    Random spammers get accuracy ``1 / k`` (with uniform wrong votes, that is
    a uniform answer).
    """
    n_workers = acc.shape[0]
    acc = acc.copy()
    constant = np.full(n_workers, -1, dtype=np.int64)
    n_spam = round(spam_share * n_workers)
    if n_spam == 0:
        return acc, constant
    spammers = rng.permutation(n_workers)[:n_spam]
    fixed = rng.random(n_spam) < 0.5
    acc[spammers[~fixed]] = 1.0 / k
    constant[spammers[fixed]] = rng.integers(0, k, size=int(fixed.sum()))
    return acc, constant


def _crowd_confusion(acc: np.ndarray, constant: np.ndarray, guess: float, k: int) -> np.ndarray:
    """Expected ``(W, k, k)`` confusion of the workers over item difficulty."""
    confusion = (1.0 - guess) * _independent_confusion(acc, None, k) + guess / k
    fixed = np.flatnonzero(constant >= 0)
    confusion[fixed] = 0.0
    confusion[fixed, :, constant[fixed]] = 1.0
    return confusion


def _distinct_workers(n: int, n_workers: int, v: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, v)`` workers, distinct within each row (Floyd's sampling, vectorised)."""
    chosen = np.empty((n, v), dtype=np.int64)
    for s in range(v):
        top = n_workers - v + s
        t = rng.integers(0, top + 1, size=n)
        taken = (chosen[:, :s] == t[:, None]).any(axis=1)
        chosen[:, s] = np.where(taken, top, t)
    return chosen


def _crowd_votes(y: np.ndarray, acc: np.ndarray, constant: np.ndarray,
                 difficulty: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """One vote per (item, worker) pair; all arguments are per vote."""
    u = rng.random(y.shape[0], dtype=np.float32)
    wrong = u >= acc
    if k == 2:
        labels = np.bitwise_xor(y, wrong)
    else:
        band = (u - acc) / np.maximum(1.0 - acc, 1e-12)
        offset = 1 + np.minimum((np.clip(band, 0.0, None) * (k - 1)).astype(np.int64), k - 2)
        labels = np.where(wrong, (y + offset) % k, y)
    if np.any(difficulty > 0):
        guess = rng.random(y.shape[0], dtype=np.float32) < difficulty
        labels[guess] = rng.integers(0, k, size=int(guess.sum()))
    fixed = constant >= 0
    labels[fixed] = constant[fixed]
    return labels


# ---------------------------------------------------------------------------
# label noise
# ---------------------------------------------------------------------------


def make_noise_matrix(
    n_classes: int, rate: Any, kind: str = "uniform", random_state: Any = None
) -> np.ndarray:
    """A row-stochastic noise matrix ``noise[true, given]``.

    Row ``c`` is the distribution of the observed label of an item whose true
    class is ``c``; ``noise[c, c] = 1 - rate[c]``.

    Parameters
    ----------
    n_classes : int
        Number of classes ``k >= 2``.
    rate : float or array-like of shape (k,)
        Probability that a label of each true class is flipped, in [0, 1].
    kind : {"uniform", "pair", "random"}, default="uniform"
        Where flipped labels go: uniformly to the other classes; all to the
        next class ``(c + 1) % k`` ("pair flip"); or split among the other
        classes by weights drawn from a flat Dirichlet.
    random_state : None, int or numpy.random.Generator
        Seed, used by ``kind="random"`` only.

    Returns
    -------
    ndarray of shape (k, k)
        Non-negative, rows sum to 1.
    """
    k = check_int("n_classes", n_classes, low=2)
    if not isinstance(kind, str) or kind not in _NOISE_KINDS:
        raise fail("kind", "one of 'uniform', 'pair', 'random'", kind)
    rates = _rate_vector(rate, k)
    off = 1.0 - np.eye(k)
    if kind == "uniform":
        spread = off / (k - 1)
    elif kind == "pair":
        spread = np.roll(np.eye(k), 1, axis=1)
    else:
        rng = check_random_state(random_state)
        spread = rng.dirichlet(np.ones(k - 1), size=k)
        spread = np.insert(spread.ravel(), np.arange(k) * k, 0.0).reshape(k, k)
    noise = rates[:, None] * spread
    noise[np.arange(k), np.arange(k)] = 1.0 - rates
    return noise


def _rate_vector(rate: Any, k: int) -> np.ndarray:
    if isinstance(rate, numbers.Real) and not isinstance(rate, bool):
        return np.full(k, check_float("rate", rate, low=0.0, high=1.0))
    return _probabilities("rate", rate, k, "a float or")


def corrupt_labels(y: Any, noise_matrix: Any, random_state: Any = None) -> np.ndarray:
    """Draw noisy labels: item ``i`` gets label ``g`` with ``noise[y_i, g]``.

    Parameters
    ----------
    y : array-like of shape (n,)
        True class ids in ``[0, k)``.
    noise_matrix : array-like of shape (k, k)
        Row-stochastic ``noise[true, given]`` (see :func:`make_noise_matrix`).
    random_state : None, int or numpy.random.Generator
        Seed.

    Returns
    -------
    ndarray of shape (n,) and dtype int64
        The noisy labels.
    """
    noise = np.asarray(noise_matrix) if _numeric(noise_matrix) else None
    if noise is None or noise.ndim != 2 or noise.shape[0] != noise.shape[1] or noise.shape[0] < 2:
        raise fail("noise_matrix", "a square (k, k) array with k >= 2", noise_matrix)
    k = noise.shape[0]
    noise = _stochastic_rows("noise_matrix", noise, (k, k))
    labels = _class_ids("y", y, k)
    rng = check_random_state(random_state)
    u: np.ndarray = rng.random((labels.shape[0],))
    cum = np.cumsum(noise, axis=1)
    cum[:, -1] = np.inf
    noisy = np.empty_like(labels)
    for c in range(k):
        rows = labels == c
        noisy[rows] = np.searchsorted(cum[c], u[rows], side="right")
    return noisy


def _class_ids(name: str, y: Any, k: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise fail(name, "a 1-d array of class ids", arr)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise fail(name, "integer class ids", arr)
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= k):
        raise fail(name, f"class ids in 0..{k - 1}", got_text=f"values in [{arr.min()}, {arr.max()}]")
    return arr
