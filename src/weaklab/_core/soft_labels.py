"""The frozen container of probabilistic (soft) labels."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from ._matrix_inputs import validate_class_names, validate_item_ids
from .hashing import fingerprint as _fingerprint
from .ties import break_ties
from .validation import check_proba, fail

__all__ = ["SoftLabels", "with_known_classes"]


def with_known_classes(proba: Any, known: Any) -> np.ndarray:
    """A copy of ``proba`` with the row of every item of known class set to that class, one-hot.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Probabilities (or any per-class targets) of ``n`` items.
    known : array-like of int, shape (n,)
        A class id per item, -1 where none is known.

    Returns
    -------
    ndarray of shape (n, k), float64

    Examples
    --------
    >>> with_known_classes([[0.9, 0.1], [0.6, 0.4]], [-1, 1]).tolist()
    [[0.9, 0.1], [0.0, 1.0]]
    """
    targets = np.array(proba, dtype=np.float64, copy=True)
    classes = np.asarray(known)
    rows = np.flatnonzero(classes >= 0)
    targets[rows] = 0.0
    targets[rows, classes[rows]] = 1.0
    return targets


class SoftLabels:
    """Probabilistic labels: one distribution over ``k`` classes per item.

    Parameters
    ----------
    proba : array-like of shape (n_items, n_classes)
        Non-negative rows that sum to 1.
    item_ids : array-like of shape (n_items,), optional
        Ids of the items, in row order.
    class_names : sequence of str, optional
        Names of the classes.
    producer : str, optional
        Fingerprint (or description) of what produced the labels, e.g. a
        label-model run.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import SoftLabels
    >>> soft = SoftLabels(np.array([[0.9, 0.1], [0.4, 0.6], [0.5, 0.5]]), item_ids=["a", "b", "c"],
    ...                   class_names=["ham", "spam"], producer="DawidSkene")
    >>> soft.shape, soft.class_names
    ((3, 2), ('ham', 'spam'))
    >>> soft.hard("abstain").tolist(), soft.confidence.round(2).tolist()
    ([0, 1, -1], [0.9, 0.6, 0.5])
    """

    __slots__ = ("__dict__", "_class_names", "_item_ids", "_proba", "_producer")

    _proba: np.ndarray
    _item_ids: np.ndarray | None
    _class_names: tuple[str, ...] | None
    _producer: str | None

    def __init__(
        self,
        proba: Any,
        *,
        item_ids: Any = None,
        class_names: Sequence[str] | None = None,
        producer: str | None = None,
    ) -> None:
        arr = check_proba("proba", proba)
        arr = np.array(arr, dtype=np.float64, copy=True)
        np.clip(arr, 0.0, 1.0, out=arr)
        arr /= arr.sum(axis=1, keepdims=True)
        arr.flags.writeable = False
        if producer is not None and not isinstance(producer, str):
            raise fail("producer", "a string or None", producer)
        object.__setattr__(self, "_proba", arr)
        object.__setattr__(self, "_item_ids", validate_item_ids(item_ids, arr.shape[0]))
        object.__setattr__(self, "_class_names", validate_class_names(class_names, arr.shape[1]))
        object.__setattr__(self, "_producer", producer)

    @property
    def proba(self) -> np.ndarray:
        """The ``(n, k)`` probabilities (read-only)."""
        return self._proba

    @property
    def item_ids(self) -> np.ndarray | None:
        """Item ids, or None."""
        return self._item_ids

    @property
    def class_names(self) -> tuple[str, ...] | None:
        """Class names, or None."""
        return self._class_names

    @property
    def producer(self) -> str | None:
        """Fingerprint of what produced these labels, or None."""
        return self._producer

    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self._proba.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return int(self._proba.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_items, n_classes)``."""
        return (self.n_items, self.n_classes)

    @cached_property
    def confidence(self) -> np.ndarray:
        """Largest class probability of each item, shape ``(n,)``."""
        out = self._proba.max(axis=1)
        out.flags.writeable = False
        return out

    @cached_property
    def entropy(self) -> np.ndarray:
        """Shannon entropy (nats) of each item's distribution, shape ``(n,)``."""
        p = self._proba
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log(p), 0.0)
        out = -terms.sum(axis=1)
        out.flags.writeable = False
        return out

    @cached_property
    def fingerprint(self) -> str:
        """Content fingerprint."""
        return _fingerprint("SoftLabels", self._proba, self._item_ids, self._class_names, self._producer)

    def hard(self, tie_break: str = "random", *, prior: Any = None, random_state: Any = None) -> np.ndarray:
        """Hard labels (argmax), ties resolved by ``tie_break``.

        Parameters
        ----------
        tie_break : {"random", "abstain", "prior"}, default="random"
            See :func:`weaklab.break_ties`; ``"abstain"`` gives ``-1``.
        prior : array-like of shape (k,), optional
            Class prior for ``"prior"``.
        random_state : None, int or Generator
            Seed for ``"random"``.
        """
        return break_ties(self._proba, tie_break, prior=prior, random_state=random_state)

    def select_items(self, indexer: Any) -> SoftLabels:
        """Rows selected by a boolean mask or integer positions."""
        from ._matrix_inputs import row_indexer

        idx = row_indexer(indexer, self.n_items)
        ids = None if self._item_ids is None else self._item_ids[idx]
        return SoftLabels(self._proba[idx], item_ids=ids, class_names=self._class_names, producer=self._producer)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self._proba
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __len__(self) -> int:
        return self.n_items

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"SoftLabels is immutable; cannot set {name!r}")

    def __repr__(self) -> str:
        return f"SoftLabels(n_items={self.n_items}, n_classes={self.n_classes}, producer={self._producer!r})"
