"""Fitting a clone of an estimator on soft or hard labels, and placing its probability columns."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import clone

__all__ = ["fit_clone", "proba_columns"]

logger = logging.getLogger("weaklab.cleaning.oof")


def fit_clone(estimator: Any, X: Any, targets: np.ndarray, hard: np.ndarray, soft: bool | None) -> tuple[Any, bool]:
    """Fit a clone on soft ``targets`` (when 2-d and allowed) or on ``hard``; returns (model, used soft)."""
    model = clone(estimator)
    if targets.ndim != 2 or soft is False:
        return model.fit(X, hard), False
    try:
        return model.fit(X, targets), True
    except (ValueError, TypeError):
        if soft is True:
            raise
        logger.debug("estimator rejected soft labels; using their argmax")
        return clone(estimator).fit(X, hard), False


def proba_columns(model: Any, raw: np.ndarray, k: int) -> np.ndarray:
    """Place the fold model's probability columns at their class ids."""
    if raw.shape[1] == k:
        return raw
    classes = np.asarray(getattr(model, "classes_", np.arange(raw.shape[1])), dtype=np.int64)
    full = np.zeros((raw.shape[0], k))
    full[:, classes] = raw
    return full
