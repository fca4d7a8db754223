"""The frozen container of multi-label soft labels: an independent probability per item and label."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from ._matrix_inputs import row_indexer, validate_item_ids
from .hashing import fingerprint as _fingerprint
from .soft_labels import SoftLabels
from .validation import check_float, fail

__all__ = ["MultiLabelSoftLabels", "check_label_proba"]


def check_label_proba(name: str, proba: Any, n_labels: int | None = None) -> np.ndarray:
    """Check an ``(n, K)`` array of per-label probabilities in ``[0, 1]``; return it as float64."""
    try:
        arr = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail(name, "an (n_items, n_labels) array of probabilities in [0, 1]", proba) from None
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise fail(name, "an (n_items, n_labels) array of probabilities in [0, 1]", arr)
    if n_labels is not None and arr.shape[1] != n_labels:
        raise fail(name, f"{n_labels} columns (one per label)", got_text=f"{arr.shape[1]} columns")
    if not np.all(np.isfinite(arr)) or (arr.size and (arr.min() < 0.0 or arr.max() > 1.0)):
        raise fail(name, "probabilities in [0, 1] (finite)", got_text="values outside [0, 1] or NaN")
    return arr


class MultiLabelSoftLabels:
    """Probabilistic multi-label labels: ``P(label l applies to item i)``, independent per label.

    Rows need not sum to 1: an item may carry several labels or none.

    Parameters
    ----------
    proba : array-like of shape (n_items, n_labels)
        Probabilities in ``[0, 1]``.
    item_ids : array-like of shape (n_items,), optional
    label_names : sequence of str, optional
    producer : str, optional
        Fingerprint (or description) of what produced them.

    Examples
    --------
    >>> S = MultiLabelSoftLabels([[0.9, 0.2], [0.6, 0.7]], label_names=["news", "sport"])
    >>> S.hard().tolist()
    [[1, 0], [1, 1]]
    >>> S.for_label("sport").proba.tolist()
    [[0.8, 0.2], [0.30000000000000004, 0.7]]
    """

    __slots__ = ("__dict__", "_item_ids", "_label_names", "_proba", "_producer")

    _proba: np.ndarray
    _item_ids: np.ndarray | None
    _label_names: tuple[str, ...] | None
    _producer: str | None

    def __init__(self, proba: Any, *, item_ids: Any = None, label_names: Sequence[str] | None = None,
                 producer: str | None = None) -> None:
        arr = np.array(check_label_proba("proba", proba), copy=True)
        arr.flags.writeable = False
        if producer is not None and not isinstance(producer, str):
            raise fail("producer", "a string or None", producer)
        names = None
        if label_names is not None:
            names = tuple(str(x) for x in label_names)
            if len(names) != arr.shape[1] or len(set(names)) != len(names):
                raise fail("label_names", f"{arr.shape[1]} unique names", got_text=str(list(names)))
        object.__setattr__(self, "_proba", arr)
        object.__setattr__(self, "_item_ids", validate_item_ids(item_ids, arr.shape[0]))
        object.__setattr__(self, "_label_names", names)
        object.__setattr__(self, "_producer", producer)

    @property
    def proba(self) -> np.ndarray:
        """The ``(n, K)`` probabilities (read-only)."""
        return self._proba

    @property
    def item_ids(self) -> np.ndarray | None:
        """Item ids, or None."""
        return self._item_ids

    @property
    def label_names(self) -> tuple[str, ...] | None:
        """Label names, or None."""
        return self._label_names

    @property
    def producer(self) -> str | None:
        """What produced these labels, or None."""
        return self._producer

    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self._proba.shape[0])

    @property
    def n_labels(self) -> int:
        """Number of labels."""
        return int(self._proba.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_items, n_labels)``."""
        return (self.n_items, self.n_labels)

    @cached_property
    def entropy(self) -> np.ndarray:
        """Sum over labels of the binary entropy (nats) of each item, shape ``(n,)``."""
        p = self._proba
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log(p), 0.0) + np.where(p < 1, (1 - p) * np.log1p(-p), 0.0)
        out = -terms.sum(axis=1)
        out.flags.writeable = False
        return out

    @cached_property
    def fingerprint(self) -> str:
        """Content fingerprint."""
        return _fingerprint("MultiLabelSoftLabels", self._proba, self._item_ids, self._label_names, self._producer)

    def hard(self, threshold: float = 0.5) -> np.ndarray:
        """Hard labels: ``1`` where the probability is at least ``threshold``, shape ``(n, K)``, int8."""
        t = check_float("threshold", threshold, low=0.0, high=1.0)
        return (self._proba >= t).astype(np.int8)

    def for_label(self, label: str | int) -> SoftLabels:
        """One label's binary :class:`~weaklab.SoftLabels` ``[P(absent), P(present)]``."""
        j = self._position(label)
        p = self._proba[:, j]
        return SoftLabels(np.column_stack([1.0 - p, p]), item_ids=self._item_ids,
                          class_names=("absent", "present"), producer=self._producer)

    def select_items(self, indexer: Any) -> MultiLabelSoftLabels:
        """Rows selected by a boolean mask or integer positions."""
        idx = row_indexer(indexer, self.n_items)
        ids = None if self._item_ids is None else self._item_ids[idx]
        return MultiLabelSoftLabels(self._proba[idx], item_ids=ids, label_names=self._label_names,
                                    producer=self._producer)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self._proba
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __len__(self) -> int:
        return self.n_items

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"MultiLabelSoftLabels is immutable; cannot set {name!r}")

    def __repr__(self) -> str:
        return f"MultiLabelSoftLabels(n_items={self.n_items}, n_labels={self.n_labels}, producer={self._producer!r})"

    def _position(self, label: str | int) -> int:
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            if not 0 <= int(label) < self.n_labels:
                raise fail("label", f"a position in [0, {self.n_labels})", label)
            return int(label)
        if self._label_names is not None and label in self._label_names:
            return self._label_names.index(label)  # type: ignore[arg-type]
        raise fail("label", "a label name or position", label)
