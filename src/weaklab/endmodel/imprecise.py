"""Imprecise labels: targets that are not one class per item.

Four small frozen containers, each validated at construction and accepted as
``y`` by :meth:`weaklab.endmodel.TorchClassifier.fit`, which then trains with
the loss that fits the form:

- :class:`LabelProportions`: bags of items with known class proportions
  (DLLP bag loss, Ardehaly & Culotta 2017);
- :class:`CandidateLabels`: a set of candidate classes per item (PRODEN
  progressive identification, Lv et al. 2020);
- :class:`ComplementaryLabels`: one class per item that it is *not*
  (unbiased risk estimator with non-negative correction, Ishida et al. 2019);
- :class:`CoarseLabels`: a superclass per item and a fine -> coarse hierarchy
  (negative log of the summed fine probabilities of the superclass).

Classes are the integers ``0 .. n_classes - 1``. This module is pure numpy;
the torch losses live in :mod:`weaklab.endmodel.imprecise_losses`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core.validation import fail

__all__ = [
    "LabelProportions",
    "CandidateLabels",
    "ComplementaryLabels",
    "CoarseLabels",
    "IMPRECISE_TYPES",
]


def _int_vector(name: str, values: Any, low: int, high: int | None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise fail(name, "a non-empty 1-d array of integers", arr)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise fail(name, "a non-empty 1-d array of integers", arr)
    arr = arr.astype(np.int64)
    top = "" if high is None else f" and < {high}"
    bad = (arr < low) | (arr >= high if high is not None else False)
    if np.any(bad):
        raise fail(name, f"integers >= {low}{top}", got_text=f"value {arr[np.flatnonzero(bad)[0]]}")
    return arr


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr = np.array(arr, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class LabelProportions:
    """Bags of items with known class proportions.

    Parameters
    ----------
    bag_ids : array-like of int, shape (n,)
        The bag of each item, in ``0 .. n_bags - 1``; every bag holds at least
        one item.
    proportions : array-like of shape (n_bags, k)
        Row ``b`` is the class distribution of bag ``b`` (non-negative, sums
        to 1).

    Examples
    --------
    >>> lp = LabelProportions([0, 0, 1, 1], [[0.5, 0.5], [1.0, 0.0]])
    >>> lp.n_items, lp.n_bags, lp.n_classes
    (4, 2, 2)
    """

    bag_ids: np.ndarray
    proportions: np.ndarray

    def __post_init__(self) -> None:
        props = np.asarray(self.proportions, dtype=float) if _is_numeric(self.proportions) else None
        if props is None or props.ndim != 2 or props.shape[0] == 0 or props.shape[1] < 2:
            raise fail("proportions", "a 2-d numeric array (n_bags, k) with k >= 2", self.proportions)
        if not np.all(np.isfinite(props)) or np.any(props < 0) or not np.allclose(props.sum(axis=1), 1.0):
            raise fail("proportions", "finite non-negative rows that sum to 1", props)
        bags = _int_vector("bag_ids", self.bag_ids, 0, props.shape[0])
        empty = np.flatnonzero(np.bincount(bags, minlength=props.shape[0]) == 0)
        if empty.size:
            raise fail("bag_ids", "every bag of proportions to hold an item", got_text=f"bag {empty[0]} empty")
        object.__setattr__(self, "bag_ids", _frozen(bags))
        object.__setattr__(self, "proportions", _frozen(props))

    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self.bag_ids.shape[0])

    @property
    def n_bags(self) -> int:
        """Number of bags."""
        return int(self.proportions.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return int(self.proportions.shape[1])


@dataclass(frozen=True, eq=False)
class CandidateLabels:
    """A set of candidate classes per item, one of which is the true class.

    Parameters
    ----------
    mask : array-like of bool, shape (n, k)
        ``mask[i, c]`` is True when class ``c`` is a candidate for item ``i``;
        every row holds at least one candidate.

    Examples
    --------
    >>> cl = CandidateLabels([[True, True, False], [False, False, True]])
    >>> cl.n_items, cl.n_classes
    (2, 3)
    """

    mask: np.ndarray

    def __post_init__(self) -> None:
        arr = np.asarray(self.mask)
        if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < 2 or arr.dtype.kind != "b":
            raise fail("mask", "a 2-d boolean array (n, k) with k >= 2", arr)
        empty = np.flatnonzero(~arr.any(axis=1))
        if empty.size:
            raise fail("mask", "at least one candidate per row", got_text=f"row {empty[0]} with none")
        object.__setattr__(self, "mask", _frozen(arr))

    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self.mask.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return int(self.mask.shape[1])


@dataclass(frozen=True, eq=False)
class ComplementaryLabels:
    """One class per item that the item does *not* belong to.

    Parameters
    ----------
    labels : array-like of int, shape (n,)
        The complementary class of each item, in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes (>= 2; it cannot be read from the labels).

    Examples
    --------
    >>> cl = ComplementaryLabels([0, 2, 1], n_classes=3)
    >>> cl.n_items, cl.n_classes
    (3, 3)
    """

    labels: np.ndarray
    n_classes: int

    def __post_init__(self) -> None:
        k = self.n_classes
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 2:
            raise fail("n_classes", "an integer >= 2", k)
        object.__setattr__(self, "n_classes", int(k))
        object.__setattr__(self, "labels", _frozen(_int_vector("labels", self.labels, 0, int(k))))

    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self.labels.shape[0])


@dataclass(frozen=True, eq=False)
class CoarseLabels:
    """A superclass per item, with the hierarchy that maps fine classes to superclasses.

    Fine classes that share a superclass cannot be told apart from these
    labels alone; the model learns the superclasses and spreads each
    superclass's probability over its fine classes.

    Parameters
    ----------
    labels : array-like of int, shape (n,)
        The superclass of each item, in ``0 .. n_coarse - 1``.
    hierarchy : array-like of int, shape (k,)
        ``hierarchy[c]`` is the superclass of fine class ``c``; every
        superclass ``0 .. n_coarse - 1`` has at least one fine class.

    Examples
    --------
    >>> cl = CoarseLabels([0, 1, 1], hierarchy=[0, 0, 1])
    >>> cl.n_items, cl.n_classes, cl.n_coarse
    (3, 3, 2)
    """

    labels: np.ndarray
    hierarchy: np.ndarray

    def __post_init__(self) -> None:
        hier = _int_vector("hierarchy", self.hierarchy, 0, None)
        if hier.shape[0] < 2:
            raise fail("hierarchy", "at least 2 fine classes", hier)
        missing = np.flatnonzero(np.bincount(hier) == 0)
        if missing.size:
            raise fail(
                "hierarchy", "superclasses numbered 0 .. n_coarse - 1 without gaps",
                got_text=f"no fine class in superclass {missing[0]}",
            )
        labels = _int_vector("labels", self.labels, 0, int(hier.max()) + 1)
        object.__setattr__(self, "hierarchy", _frozen(hier))
        object.__setattr__(self, "labels", _frozen(labels))

    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self.labels.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of fine classes."""
        return int(self.hierarchy.shape[0])

    @property
    def n_coarse(self) -> int:
        """Number of superclasses."""
        return int(self.hierarchy.max()) + 1


def _is_numeric(values: Any) -> bool:
    try:
        return np.asarray(values).dtype.kind in "biuf"
    except (TypeError, ValueError):
        return False


IMPRECISE_TYPES = (LabelProportions, CandidateLabels, ComplementaryLabels, CoarseLabels)
