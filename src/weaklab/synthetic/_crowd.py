"""``make_crowd``: items labelled by a few distinct workers out of many."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core import LabelMatrix
from .._core.validation import check_float, check_int, check_random_state
from ._common import (
    SyntheticLabels,
    check_class_balance,
    draw_classes,
    independent_confusion,
    labels_result,
    per_source,
)

__all__ = ["make_crowd"]


def make_crowd(
    n_items: int,
    n_workers: int,
    votes_per_item: int,
    n_classes: int = 2,
    *,
    worker_accuracy: Any = (0.55, 0.95),
    spammer_fraction: float = 0.0,
    adversarial_fraction: float = 0.0,
    difficulty: Any = None,
    class_balance: Any = None,
    random_state: Any = None,
) -> SyntheticLabels:
    """A crowd: each item labelled by ``votes_per_item`` distinct random workers.

    A worker answers correctly with its accuracy, otherwise uniformly among
    the other classes. Spammers answer uniformly at random (half of them, on
    average) or always the same class. Adversarial workers answer like honest
    ones, then shift every answer by a fixed class offset of their own
    (``(answer + s) mod k``, ``s`` in ``1..k-1``; with two classes they flip
    every answer): they carry as much information as honest workers, but a
    model that trusts them as voters is misled. On an item of difficulty
    ``d`` every worker guesses uniformly at random with probability ``d``.

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
    adversarial_fraction : float, default=0.0
        Share of workers (rounded) who are adversarial, in [0, 1], drawn
        among the workers who are not spammers (at most all of them).
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
        the items' difficulty; ``coverage`` is the share of items each worker
        labelled; ``difficulty`` holds the per-item values.

    Examples
    --------
    >>> from weaklab import DawidSkene, MajorityVote
    >>> from weaklab.synthetic import make_crowd
    >>> crowd = make_crowd(500, 20, 3, n_classes=3, spammer_fraction=0.3, random_state=0)
    >>> crowd.L.shape, int((crowd.L.to_dense() >= 0).sum(axis=1).max())
    ((500, 20), 3)
    >>> mv = float((MajorityVote().fit(crowd.L).predict(crowd.L) == crowd.y).mean())
    >>> ds = float((DawidSkene(random_state=0).fit(crowd.L).predict(crowd.L) == crowd.y).mean())
    >>> ds >= mv
    True
    """
    n = check_int("n_items", n_items, low=1)
    n_workers = check_int("n_workers", n_workers, low=1)
    v = check_int("votes_per_item", votes_per_item, low=1, high=n_workers)
    k = check_int("n_classes", n_classes, low=2, high=127)
    spam_share = check_float("spammer_fraction", spammer_fraction, low=0.0, high=1.0)
    adversarial = check_float("adversarial_fraction", adversarial_fraction, low=0.0, high=1.0)
    rng = check_random_state(random_state)
    prior = check_class_balance(class_balance, k)
    acc = per_source("worker_accuracy", worker_accuracy, n_workers, rng)
    hard = np.zeros(n) if difficulty is None else per_source("difficulty", difficulty, n, rng)
    acc, constant = _worker_confusion(acc, spam_share, k, rng)
    y = draw_classes(n, prior, rng)
    workers = _distinct_workers(n, n_workers, v, rng).ravel()
    items = np.repeat(np.arange(n, dtype=np.int64), v)
    labels = _crowd_votes(y[items], acc[workers], constant[workers], hard[items], k, rng)
    confusion = _crowd_confusion(acc, constant, float(hard.mean()), k)
    if adversarial > 0:
        shift = _adversaries(constant, acc, adversarial, k, rng)
        labels = (labels + shift[workers]) % k
        confusion = _shifted(confusion, shift)
    L = LabelMatrix.from_coo(items, workers, labels, n_items=n, n_sources=n_workers, n_classes=k)
    coverage = np.bincount(workers, minlength=n_workers) / n
    return labels_result(L, y, coverage.astype(np.float64), confusion, prior, [], difficulty=hard)


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


def _adversaries(constant: np.ndarray, acc: np.ndarray, share: float, k: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Each worker's class shift: ``1..k-1`` for the adversarial ones (drawn among non-spammers), else 0."""
    honest = np.flatnonzero((constant < 0) & (acc != 1.0 / k))
    n_adv = min(round(share * acc.shape[0]), honest.size)
    shift = np.zeros(acc.shape[0], dtype=np.int64)
    chosen = rng.permutation(honest)[:n_adv]
    shift[chosen] = rng.integers(1, k, size=n_adv)
    return shift


def _shifted(confusion: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``confusion`` with the voted class of worker ``w`` moved by ``shift[w]`` (mod k)."""
    out = confusion.copy()
    for w in np.flatnonzero(shift):
        out[w] = np.roll(confusion[w], int(shift[w]), axis=1)
    return out


def _crowd_confusion(acc: np.ndarray, constant: np.ndarray, guess: float, k: int) -> np.ndarray:
    """Expected ``(W, k, k)`` confusion of the workers over item difficulty."""
    confusion = (1.0 - guess) * independent_confusion(acc, None, k) + guess / k
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
