"""Bags for multiple-instance learning: validation and the flat (instances, bag index) form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._core.validation import describe, fail

__all__ = ["as_bags", "bags_from_instances", "flatten_bags", "check_bag_labels"]


def bags_from_instances(instances: Any, bag_ids: Any) -> list[np.ndarray]:
    """Group instances into bags by ``bag_ids`` (bags ordered by first appearance).

    Parameters
    ----------
    instances : array-like of shape (n_instances, ...)
        One row per instance (a feature vector or an image).
    bag_ids : array-like of shape (n_instances,)
        The bag each instance belongs to (any hashable ids).

    Returns
    -------
    list of ndarray
        One ``(n_i, ...)`` array per bag.

    Examples
    --------
    >>> import numpy as np
    >>> bags = bags_from_instances(np.arange(6.0).reshape(3, 2), ["a", "b", "a"])
    >>> [b.shape for b in bags]
    [(2, 2), (1, 2)]
    """
    X = np.asarray(instances)
    ids = np.asarray(bag_ids)
    if ids.ndim != 1 or X.ndim < 2 or len(ids) != len(X):
        raise fail("bag_ids", f"a 1-d array with one id per instance ({len(X)} instances)", ids)
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    bag_of = rank[inverse.ravel()]
    return [X[bag_of == b] for b in range(len(order))]


def as_bags(bags: Any, bag_ids: Any = None, *, name: str = "bags") -> list[np.ndarray]:
    """Validate bags and return them as a list of float32 arrays.

    Parameters
    ----------
    bags : list of array-like, or array-like of instances
        A list of ``(n_i, d)`` (or ``(n_i, h, w)``) arrays, one per bag; or, with ``bag_ids``, all
        instances stacked in one array.
    bag_ids : array-like of shape (n_instances,), optional
        Bag membership of each instance when ``bags`` is one stacked array.
    name : str, default "bags"
        Parameter name used in error messages.

    Returns
    -------
    list of ndarray
        Non-empty float32 bags whose instances all have the same shape.

    Examples
    --------
    >>> import numpy as np
    >>> [b.shape for b in as_bags([np.zeros((2, 3)), np.ones((4, 3))])]
    [(2, 3), (4, 3)]
    """
    if bag_ids is not None:
        bags = bags_from_instances(bags, bag_ids)
    if isinstance(bags, np.ndarray) or not isinstance(bags, Sequence) or len(bags) == 0:
        raise fail(name, "a non-empty list of (n_i, d) arrays (or instances with bag_ids)", bags)
    out = []
    for i, bag in enumerate(bags):
        arr = np.asarray(bag, dtype=np.float32)
        if arr.ndim < 2 or arr.shape[0] == 0:
            raise fail(f"{name}[{i}]", "a non-empty (n_i, d) or (n_i, h, w) array", got_text=f"shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise fail(f"{name}[{i}]", "finite values", got_text="NaN or infinite values")
        out.append(arr)
    shapes = {a.shape[1:] for a in out}
    if len(shapes) != 1:
        raise fail(name, "instances of one shape in every bag", got_text=f"shapes {sorted(shapes)}")
    return out


def flatten_bags(bags: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack bags into ``(instances, bag_index)``.

    Parameters
    ----------
    bags : list of ndarray
        Validated bags (see :func:`as_bags`).

    Returns
    -------
    instances : ndarray of shape (n_instances, ...)
    bag_index : ndarray of shape (n_instances,)
        Position of each instance's bag in ``bags``.

    Examples
    --------
    >>> import numpy as np
    >>> X, b = flatten_bags([np.zeros((2, 1)), np.ones((1, 1))])
    >>> b.tolist()
    [0, 0, 1]
    """
    sizes = np.array([len(b) for b in bags])
    return np.concatenate(list(bags)), np.repeat(np.arange(len(bags)), sizes)


def check_bag_labels(y: Any, n_bags: int) -> np.ndarray:
    """Validate binary bag labels: a ``(n_bags,)`` array of 0/1 holding both classes.

    Parameters
    ----------
    y : array-like of shape (n_bags,)
        Bag labels.
    n_bags : int
        Number of bags they must match.

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> check_bag_labels([0, 1, 1], 3).tolist()
    [0, 1, 1]
    """
    arr = np.asarray(y)
    if arr.ndim != 1 or len(arr) != n_bags:
        raise fail("y", f"a 1-d array of {n_bags} bag labels", arr)
    if not np.all(np.isin(arr, (0, 1))):
        raise fail("y", "bag labels 0 or 1", got_text=f"values {sorted(set(arr.tolist()))[:5]}")
    if len(np.unique(arr)) < 2:
        raise fail("y", "both negative (0) and positive (1) bags", got_text=f"only {describe(int(arr[0]))}")
    return arr.astype(np.int64)
