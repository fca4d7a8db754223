"""Store.run and Store.dataset: one record by id, as runs() and datasets() list it."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import ValidationError


def test_run_is_the_row_runs_lists(store, spam):
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids, meta={"path": "x.csv"})
    first = store.start_run(ds, {"label_model": "MajorityVote"})
    second = store.start_run(ds, {"label_model": "DawidSkene"})
    store.finish_run(second, metrics={"accuracy": 0.5})
    listed = store.runs().set_index("run_id")
    for run_id in (first, second):
        row = store.run(run_id)
        assert row["run_id"] == run_id and type(row["run_id"]) is int
        assert row["dataset_id"] == ds and row["dataset"] == "spam"
        assert row["status"] == listed.loc[run_id, "status"]
        assert row["config"] == listed.loc[run_id, "config"]
    assert store.run(np.int64(second))["metrics"] == {"accuracy": 0.5}


def test_dataset_is_the_row_datasets_lists(store, spam):
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids, meta={"path": "x.csv"})
    row = store.dataset(ds)
    assert row["name"] == "spam" and row["n_items"] == L.n_items and row["meta"] == {"path": "x.csv"}


@pytest.mark.parametrize("bad", [99, -1, True, "1", 1.0])
def test_unknown_ids_are_validation_errors_naming_the_parameter(store, spam, bad):
    L, _ = spam
    store.add_dataset("spam", L.item_ids)
    with pytest.raises(ValidationError, match=r"run_id: .*the id of a run in this store"):
        store.run(bad)
    with pytest.raises(ValidationError, match=r"dataset_id: .*the id of a dataset in this store"):
        store.dataset(bad)
