"""Label-noise matrices ``noise[true, given]`` and drawing noisy labels from them."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._core.validation import check_float, check_int, check_random_state, fail
from ._common import check_probabilities, is_numeric, stochastic_rows

__all__ = ["make_noise_matrix", "corrupt_labels"]

_NOISE_KINDS = ("uniform", "pair", "random")


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

    Examples
    --------
    >>> from weaklab.synthetic import make_noise_matrix
    >>> make_noise_matrix(3, 0.2).round(2).tolist()
    [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
    >>> make_noise_matrix(3, 0.4, kind="pair").round(2).tolist()
    [[0.6, 0.4, 0.0], [0.0, 0.6, 0.4], [0.4, 0.0, 0.6]]
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
    return check_probabilities("rate", rate, k, "a float or")


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

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.synthetic import corrupt_labels, make_noise_matrix
    >>> y = np.repeat([0, 1], 500)
    >>> noisy = corrupt_labels(y, make_noise_matrix(2, [0.1, 0.3]), random_state=0)
    >>> [round(float(np.mean(noisy[y == c] != c)), 2) for c in (0, 1)]
    [0.12, 0.3]
    """
    noise = np.asarray(noise_matrix) if is_numeric(noise_matrix) else None
    if noise is None or noise.ndim != 2 or noise.shape[0] != noise.shape[1] or noise.shape[0] < 2:
        raise fail("noise_matrix", "a square (k, k) array with k >= 2", noise_matrix)
    k = noise.shape[0]
    noise = stochastic_rows("noise_matrix", noise, (k, k))
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
