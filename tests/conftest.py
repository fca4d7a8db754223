"""Shared fixtures: the real benchmark data under ``WEAKLAB_DATA``.

Tests on the shared data sets find them through ``WEAKLAB_DATA`` (default
``../shared/data`` from the repository root). When a data set is missing the
test is skipped with a reason, unless ``WEAKLAB_REQUIRE_DATA=1`` (set by CI),
under which it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """Folder that holds the shared benchmark data sets."""
    return Path(os.environ.get("WEAKLAB_DATA", REPO_ROOT.parent / "shared" / "data"))


def require_dataset(name: str) -> Path:
    """Path of data set ``name``; skip (or fail under WEAKLAB_REQUIRE_DATA=1) if absent."""
    path = data_root() / name
    if not path.exists():
        message = f"shared data set {name!r} not found at {path} (set WEAKLAB_DATA)"
        if os.environ.get("WEAKLAB_REQUIRE_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def dataset():
    """Return a function that resolves a shared data set by folder name."""
    return require_dataset


def tie_split_accuracy(proba, y, mask=None) -> float:
    """Accuracy of the argmax of ``proba`` with exact ties split: a tie among t classes counts 1/t.

    The expectation under a uniform random tie-break, so a comparison of two models (or of a model with
    majority vote, which ties often) does not depend on a random seed. ``mask`` selects the scored items.
    """
    import numpy as np

    P = np.nan_to_num(np.asarray(proba, dtype=np.float64), nan=0.0)
    y = np.asarray(y)
    keep = np.ones(y.shape[0], dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    tied = P[keep] >= P[keep].max(axis=1, keepdims=True) - 1e-9
    share = tied / tied.sum(axis=1, keepdims=True)
    return float(share[np.arange(share.shape[0]), y[keep]].mean())


@pytest.fixture
def accuracy_ties_split():
    """Return :func:`tie_split_accuracy` (real-data floors compare models with it)."""
    return tie_split_accuracy


def paper_floor(figure: float, n_scored: int) -> float:
    """A published accuracy less one standard error of an accuracy measured on ``n_scored`` items.

    The tolerance comes from the reference (its figure and the number of gold items), never from the
    level the tested code happens to reach.
    """
    return figure - (figure * (1 - figure) / n_scored) ** 0.5


@pytest.fixture
def published_floor():
    """Return :func:`paper_floor`."""
    return paper_floor
