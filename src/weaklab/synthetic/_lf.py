"""``make_lf_matrix``: labeling functions shaped like WRENCH's, one-class and multi-class."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core import ABSTAIN, LabelMatrix, vote_dtype
from .._core.validation import check_float, check_int, check_random_state
from ._common import SyntheticLabels, check_class_balance, draw_classes, labels_result, per_source

__all__ = ["make_lf_matrix"]


def make_lf_matrix(
    n_items: int,
    n_sources: int,
    n_classes: int = 2,
    *,
    one_class: float = 1.0,
    coverage: Any = (0.005, 0.2),
    accuracy: Any = (0.3, 0.95),
    class_balance: Any = None,
    copies: int = 0,
    copy_strength: float = 1.0,
    random_state: Any = None,
) -> SyntheticLabels:
    """Votes of labeling functions: sparse, mostly one-class, some copied.

    A *one-class* LF (a keyword or pattern rule) has a target class ``t_j``
    and only ever votes ``t_j``: it fires on an item of class ``t_j`` with
    probability ``alpha_j`` and on any other item with probability ``beta_j``,
    chosen so that it fires on a share ``coverage[j]`` of the items and its
    *precision* (the share of its votes that are right) is ``accuracy[j]``.
    A precision below ``class_balance[t_j]`` makes the LF misleading. A
    *multi-class* LF fires with probability ``coverage[j]`` whatever the
    class, and then votes the true class with probability ``accuracy[j]``,
    else a uniformly drawn other class.

    Parameters
    ----------
    n_items, n_sources : int
        ``n >= 1`` items and ``m >= 1`` LFs.
    n_classes : int, default=2
        ``k >= 2``.
    one_class : float, default=1.0
        Share of the LFs (rounded) that are one-class, in [0, 1]. Targets are
        dealt round-robin over the classes from a random start.
    coverage, accuracy : float, tuple (low, high) or array-like of shape (m,)
        As in :func:`make_label_matrix`. Defaults: coverage 0.5-20 %,
        accuracy (precision) 0.3-0.95.
    class_balance : array-like of shape (k,), optional
        Prior of the true classes; uniform when omitted.
    copies : int, default=0
        Number of LFs (at most ``m // 2``) that are copies of another LF:
        with probability ``copy_strength`` a copy repeats the original's
        output on an item (abstain included), else it votes on its own.
    copy_strength : float, default=1.0
        In [0, 1]; 1 gives exact duplicate columns.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    SyntheticLabels
        ``confusion`` and ``coverage`` are those of each LF's own rule (a
        copy's are its own, not the mixture), ``dependencies`` the copied
        pairs ``(original, copy)``; ``accuracy`` is recomputed from the votes
        (the realised precision of every LF, NaN for an LF without votes).

    Examples
    --------
    >>> data = make_lf_matrix(2000, 20, 4, copies=2, random_state=0)
    >>> data.L.shape, sorted(set(data.L.to_dense().ravel()) - {-1}) == [0, 1, 2, 3]
    ((2000, 20), True)
    """
    n = check_int("n_items", n_items, low=1)
    m = check_int("n_sources", n_sources, low=1)
    k = check_int("n_classes", n_classes, low=2, high=127)
    share = check_float("one_class", one_class, low=0.0, high=1.0)
    n_copies = check_int("copies", copies, low=0, high=m // 2)
    strength = check_float("copy_strength", copy_strength, low=0.0, high=1.0)
    rng = check_random_state(random_state)
    prior = check_class_balance(class_balance, k)
    cov = per_source("coverage", coverage, m, rng)
    acc = per_source("accuracy", accuracy, m, rng)
    unipolar = np.zeros(m, dtype=bool)
    unipolar[rng.permutation(m)[: round(share * m)]] = True
    target = (rng.integers(k) + np.arange(m)) % k
    y = draw_classes(n, prior, rng)
    fire = _firing_rates(cov, acc, target, prior, unipolar)  # (m, k) P(fires | class)
    votes = _votes(y, fire, acc, target, unipolar, k, rng)
    pairs = _copy(votes, n_copies, strength, rng)
    L = LabelMatrix(votes, n_classes=k)
    confusion = _confusion(acc, target, unipolar, k)
    result = labels_result(L, y, fire @ prior, confusion, prior, pairs)
    return _with_realised_precision(result, votes, y)


def _firing_rates(cov: np.ndarray, acc: np.ndarray, target: np.ndarray, prior: np.ndarray,
                  unipolar: np.ndarray) -> np.ndarray:
    """``P(LF j fires | y = c)``, shape ``(m, k)``; clipped to [0, 1] where the wanted precision is unreachable."""
    k = prior.shape[0]
    fire = np.repeat(cov[:, None], k, axis=1)
    own = prior[target]
    alpha = np.clip(cov * acc / own, 0.0, 1.0)
    beta = np.clip(cov * (1.0 - acc) / np.maximum(1.0 - own, 1e-12), 0.0, 1.0)
    one = np.where(np.arange(k)[None, :] == target[:, None], alpha[:, None], beta[:, None])
    fire[unipolar] = one[unipolar]
    return fire


def _votes(y: np.ndarray, fire: np.ndarray, acc: np.ndarray, target: np.ndarray, unipolar: np.ndarray,
           k: int, rng: np.random.Generator) -> np.ndarray:
    n, m = y.shape[0], fire.shape[0]
    fires = rng.random((n, m)) < fire[:, y].T
    right = rng.random((n, m)) < acc[None, :]
    wrong = (y[:, None] + rng.integers(1, k, size=(n, m))) % k
    own = np.where(right, y[:, None], wrong)
    chosen = np.where(unipolar[None, :], target[None, :], own)
    return np.where(fires, chosen, ABSTAIN).astype(vote_dtype(k))


def _copy(votes: np.ndarray, n_copies: int, strength: float, rng: np.random.Generator) -> list[tuple[int, int]]:
    if n_copies == 0:
        return []
    chosen = rng.permutation(votes.shape[1])[: 2 * n_copies].reshape(n_copies, 2)
    pairs = sorted((int(i), int(j)) for i, j in chosen)
    for i, j in pairs:
        take = rng.random(votes.shape[0]) < strength
        votes[take, j] = votes[take, i]
    return pairs


def _confusion(acc: np.ndarray, target: np.ndarray, unipolar: np.ndarray, k: int) -> np.ndarray:
    """``P(vote v | y = c, LF votes)``: one-hot on the target for one-class LFs, one-coin otherwise."""
    confusion = np.repeat(((1.0 - acc) / (k - 1))[:, None, None], k, axis=1).repeat(k, axis=2)
    confusion[:, np.arange(k), np.arange(k)] = acc[:, None]
    confusion[unipolar] = 0.0
    rows = np.flatnonzero(unipolar)
    confusion[rows, :, target[rows]] = 1.0
    return confusion


def _with_realised_precision(result: SyntheticLabels, votes: np.ndarray, y: np.ndarray) -> SyntheticLabels:
    voted = votes != ABSTAIN
    right = (votes == y[:, None]) & voted
    n_votes = voted.sum(axis=0)
    precision = np.divide(right.sum(axis=0), n_votes, out=np.full(votes.shape[1], np.nan), where=n_votes > 0)
    precision.flags.writeable = False
    return SyntheticLabels(L=result.L, y=result.y, accuracy=precision, coverage=result.coverage,
                           dependencies=result.dependencies, confusion=result.confusion,
                           class_balance=result.class_balance, difficulty=None)
