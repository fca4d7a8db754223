"""Validation of the inputs every cleaning function shares: given labels and predicted probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core.confident_joint import membership
from .._core.soft_labels import SoftLabels
from .._core.validation import check_labels, check_proba, fail

__all__ = ["Given", "check_given", "check_mask_or_indices"]


@dataclass(frozen=True)
class Given:
    """Validated inputs: hard given labels, the soft given labels (if any) and ``pred_probs``."""

    hard: np.ndarray  # (n,) int64: the given label (argmax of soft labels, lowest class on ties)
    soft: np.ndarray | None  # (n, k) float64 when the labels arrived soft
    proba: np.ndarray  # (n, k) float64

    @property
    def n(self) -> int:
        return int(self.proba.shape[0])

    @property
    def k(self) -> int:
        return int(self.proba.shape[1])

    @property
    def weights(self) -> np.ndarray:
        """``(n, k)`` membership of each item in each given class (one-hot for hard labels)."""
        return membership(self.hard, self.soft, self.k)


def check_given(labels: Any, pred_probs: Any, *, labels_name: str = "labels") -> Given:
    """Check ``labels`` (hard ``(n,)`` or soft ``(n, k)``) against ``pred_probs`` ``(n, k)``."""
    if isinstance(pred_probs, SoftLabels):
        pred_probs = pred_probs.proba
    proba = check_proba("pred_probs", pred_probs)
    n, k = proba.shape
    if k < 2:
        raise fail("pred_probs", "at least 2 columns (one per class)", got_text=f"{k} column")
    if isinstance(labels, SoftLabels):
        labels = labels.proba
    arr = np.asarray(labels)
    if arr.ndim == 2:
        soft = check_proba(labels_name, arr, n_classes=k)
        if soft.shape[0] != n:
            raise fail(labels_name, f"{n} rows (one per row of pred_probs)", got_text=f"{soft.shape[0]} rows")
        return Given(hard=soft.argmax(axis=1).astype(np.int64), soft=soft, proba=proba)
    if arr.ndim != 1:
        raise fail(labels_name, "a 1-d array of class ids or an (n, k) array of soft labels", arr)
    if arr.shape[0] != n:
        raise fail(labels_name, f"{n} labels (one per row of pred_probs)", got_text=f"{arr.shape[0]} labels")
    return Given(hard=check_labels(labels_name, arr, k), soft=None, proba=proba)


def check_mask_or_indices(name: str, value: Any, n: int) -> np.ndarray:
    """A boolean ``(n,)`` mask from a boolean mask or an array of integer positions."""
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise fail(name, f"a boolean mask of length {n} or a 1-d array of positions", arr)
    if arr.dtype == np.bool_:
        if arr.shape[0] != n:
            raise fail(name, f"a boolean mask of length {n}", got_text=f"length {arr.shape[0]}")
        return arr.copy()
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise fail(name, "a boolean mask or integer positions", arr)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise fail(name, f"positions in 0..{n - 1}", got_text=f"values in [{arr.min()}, {arr.max()}]")
    mask = np.zeros(n, dtype=bool)
    mask[arr.astype(np.int64)] = True
    return mask
