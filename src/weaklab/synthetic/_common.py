"""Shared pieces of the generators: the result container and argument checks."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core import LabelMatrix
from .._core.validation import check_float, fail


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

    Examples
    --------
    >>> from weaklab.synthetic import make_label_matrix
    >>> data = make_label_matrix(2000, 4, coverage=0.5, accuracy=0.8, random_state=0)
    >>> type(data).__name__, data.L.shape, data.confusion.shape
    ('SyntheticLabels', (2000, 4), (4, 2, 2))
    >>> data.accuracy.tolist(), data.coverage.tolist()
    ([0.8, 0.8, 0.8, 0.8], [0.5, 0.5, 0.5, 0.5])
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


def check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise fail(name, "True or False", value)
    return bool(value)


def per_source(name: str, value: Any, m: int, rng: np.random.Generator) -> np.ndarray:
    """Expand a scalar, a (low, high) range or a per-source array to shape (m,)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return np.full(m, check_float(name, value, low=0.0, high=1.0))
    if isinstance(value, tuple) and len(value) == 2:
        low = check_float(f"{name}[0]", value[0], low=0.0, high=1.0)
        high = check_float(f"{name}[1]", value[1], low=low, high=1.0)
        return rng.uniform(low, high, size=m)
    return check_probabilities(name, value, m, "a float, a (low, high) tuple or")


def check_probabilities(name: str, value: Any, size: int, forms: str) -> np.ndarray:
    """Check an array of ``size`` values in [0, 1] and return a float64 copy."""
    expected = f"{forms} an array of shape ({size},) with values in [0, 1]"
    arr = np.asarray(value, dtype=np.float64) if is_numeric(value) else None
    if arr is None or arr.shape != (size,):
        raise fail(name, expected, value)
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
        raise fail(name, expected, got_text=f"values in [{np.nanmin(arr):.4g}, {np.nanmax(arr):.4g}]")
    return arr.copy()


def check_class_balance(class_balance: Any, k: int) -> np.ndarray:
    if class_balance is None:
        return np.full(k, 1.0 / k)
    arr = stochastic_rows("class_balance", class_balance, (k,))
    return arr / arr.sum()


def stochastic_rows(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
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


def is_numeric(value: Any) -> bool:
    try:
        np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def draw_classes(size: int, prior: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cum = np.cumsum(prior)
    cum[-1] = np.inf
    return np.searchsorted(cum, rng.random(size), side="right").astype(np.int64)


def independent_confusion(acc: np.ndarray, errors: np.ndarray | None, k: int) -> np.ndarray:
    """``(m, k, k)`` confusion of sources that vote on their own."""
    m = acc.shape[0]
    wrong = errors if errors is not None else np.broadcast_to(
        (1.0 - np.eye(k)) / (k - 1), (m, k, k))
    confusion = (1.0 - acc)[:, None, None] * wrong
    confusion[:, np.arange(k), np.arange(k)] = acc[:, None]
    return confusion


def labels_result(L: LabelMatrix, y: np.ndarray, coverage: np.ndarray, confusion: np.ndarray,
            prior: np.ndarray, pairs: list[tuple[int, int]],
            difficulty: np.ndarray | None = None) -> SyntheticLabels:
    accuracy = np.diagonal(confusion, axis1=1, axis2=2) @ prior
    for arr in (y, coverage, confusion, prior, accuracy, difficulty):
        if arr is not None:
            arr.flags.writeable = False
    return SyntheticLabels(L=L, y=y, accuracy=accuracy, coverage=coverage, dependencies=list(pairs),
                           confusion=confusion, class_balance=prior, difficulty=difficulty)
