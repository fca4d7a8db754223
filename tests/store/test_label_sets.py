"""Label sets of multi-label runs: votes and per-label probabilities round-trip through the store."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import MultiLabelMatrix, ValidationError
from weaklab.store import Store


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.duckdb") as s:
        yield s


def test_votes_and_probabilities_come_back_as_recorded(store: Store) -> None:
    """A MultiLabelMatrix and (n, K) probabilities (NaN kept) load back equal, with names and item ids."""
    rng = np.random.default_rng(0)
    dense = rng.choice([-1, 0, 1], size=(7, 3, 2), p=[0.5, 0.25, 0.25])
    L = MultiLabelMatrix(dense, source_names=["a", "b", "c"], label_names=["x", "y"])
    ds = store.add_dataset("d", item_ids=[f"i{k}" for k in range(7)])
    run = store.start_run(ds)
    votes_id = store.add_multilabel_votes(ds, L, sources=[{"name": n, "version": "v1"} for n in "abc"], run_id=run)
    proba = rng.random((7, 2))
    gold = np.where(rng.random((7, 2)) < 0.3, np.nan, (proba > 0.5).astype(float))
    lm_id = store.add_label_proba(ds, "label_model", proba, label_names=["x", "y"], run_id=run)
    gold_id = store.add_label_proba(ds, "gold", gold, label_names=["x", "y"], run_id=run)
    back = store.load_multilabel_votes(votes_id)
    assert np.array_equal(back.to_dense(), dense) and back.source_names == ("a", "b", "c")
    assert list(back.item_ids) == [f"i{k}" for k in range(7)] and back.label_names == ("x", "y")
    np.testing.assert_allclose(store.load_label_proba(lm_id), proba, atol=1e-6)
    np.testing.assert_array_equal(store.load_label_proba(gold_id), gold)
    assert store.label_sets(run)["role"].tolist() == ["votes", "label_model", "gold"]
    assert store.is_multilabel_run(run) and not store.is_multilabel_run(run + 1)


def test_bad_label_sets_are_refused_naming_the_parameter(store: Store) -> None:
    """Probabilities outside [0, 1], the wrong shape or row count, and an unknown role are refused."""
    ds = store.add_dataset("d", n_items=2)
    with pytest.raises(ValidationError, match="proba"):
        store.add_label_proba(ds, "label_model", [[0.2, 1.5], [0.1, 0.1]], label_names=["x", "y"])
    with pytest.raises(ValidationError, match="proba"):
        store.add_label_proba(ds, "label_model", [[0.2], [0.1]], label_names=["x", "y"])
    with pytest.raises(ValidationError, match="2 rows"):
        store.add_label_proba(ds, "label_model", [[0.2, 0.1]], label_names=["x", "y"])
    with pytest.raises(ValidationError, match="role"):
        store.add_label_proba(ds, "votes", [[0.2, 0.1], [0.1, 0.1]], label_names=["x", "y"])
    ok = store.add_label_proba(ds, "end_model", [[0.2, 0.1], [0.1, 0.1]], label_names=["x", "y"])
    with pytest.raises(ValidationError, match="votes label set"):
        store.load_multilabel_votes(ok)
