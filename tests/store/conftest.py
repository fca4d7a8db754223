"""Shared fixtures for the store tests: a store in a temporary folder and a small labelled dataset."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab.store import Store
from weaklab.synthetic import make_label_matrix


@pytest.fixture
def store(tmp_path):
    """A fresh read-write store under ``tmp_path/.weaklab``."""
    with Store(tmp_path / ".weaklab" / "weaklab.duckdb") as st:
        yield st


@pytest.fixture
def spam():
    """200 items with string ids, 6 versioned sources and class names."""
    truth = make_label_matrix(200, 6, coverage=0.5, accuracy=0.8, random_state=0)
    ids = np.array([f"c{i:03d}" for i in range(200)], dtype=object)
    L = truth.L.replace(item_ids=ids, source_names=[f"lf_{j}" for j in range(6)],
                        source_versions=[f"v{j}a" for j in range(6)], class_names=["ham", "spam"])
    return L, truth.y
