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
