"""The store keeps the items whose data-file gold fed a run's fit (once per run, by item id, with the gold by
name and the item's content fingerprint), and one rule gives a run's class names to every reader."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import LabelMatrix, SoftLabels, ValidationError
from weaklab.pipeline.review import run_class_names
from weaklab.store import Store, connection


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        yield st


def test_fit_gold_round_trips_by_id_with_names_contents_and_an_order_free_digest(store):
    """Recorded in any order, the set reads back in dataset order with each item's gold name and content
    fingerprint; its record is intact and its digest is the one add_fit_gold returned."""
    ds = store.add_dataset("d", item_ids=[10, 20, 30, 40], item_hashes=["h1", "h2", "h3", "h4"])
    run = store.start_run(ds)
    digest = store.add_fit_gold(run, [40, 10], [0, 1], class_names=["HAM", "SPAM"], option=2, random_state=5)
    got = store.fit_gold(run)
    assert got["item_id"].tolist() == [10, 40] and got["row"].tolist() == [0, 3]
    assert got["class_name"].tolist() == ["SPAM", "HAM"] and got["content"].tolist() == ["h1", "h4"]
    record = store.fit_gold_record(run)
    assert record["digest"] == digest and record["intact"] and record["n_items"] == 2
    assert record["option"] == 2 and record["random_state"] == 5 and record["origin"] == "fit"
    other = store.start_run(ds)
    assert store.add_fit_gold(other, [10, 40], [1, 0], class_names=["HAM", "SPAM"]) == digest
    third = store.start_run(ds)
    assert store.add_fit_gold(third, [10, 40], [1, 1], class_names=["HAM", "SPAM"]) != digest


def test_a_runs_fit_gold_is_recorded_once_and_only_for_its_own_items(store):
    """A second set for a run, an id outside the run's dataset, a negative label or a label beyond the class
    names are refused with a ValidationError naming the parameter."""
    ds = store.add_dataset("d", item_ids=["a", "b"])
    run = store.start_run(ds)
    with pytest.raises(ValidationError, match="item_ids"):
        store.add_fit_gold(run, ["a", "zz"], [0, 1])
    with pytest.raises(ValidationError, match="labels"):
        store.add_fit_gold(run, ["a"], [-1])
    with pytest.raises(ValidationError, match="labels"):
        store.add_fit_gold(run, ["a"], [2], class_names=["x", "y"])
    store.add_fit_gold(run, ["a"], [1])
    with pytest.raises(ValidationError, match="run_id"):
        store.add_fit_gold(run, ["b"], [0])
    assert store.fit_gold(run)["class_name"].tolist() == [None]


def test_a_damaged_fit_gold_record_is_not_intact(store):
    """Items removed behind the store's back leave a record whose items no longer give its digest."""
    ds = store.add_dataset("d", item_ids=["a", "b"])
    run = store.start_run(ds)
    store.add_fit_gold(run, ["a", "b"], [0, 1])
    store.close()
    with connection(store.path) as con:
        con.execute("DELETE FROM fit_gold_items WHERE item_key = 'a'")
    with Store(store.path, read_only=True) as again:
        assert again.fit_gold_record(run)["intact"] is False


def test_a_runs_class_names_are_those_of_its_newest_named_soft_labels_for_every_reader(store):
    """A run whose matrix and soft labels name the classes differently: the store and the review helpers both
    give the soft labels' names (the columns a queue shows); with unnamed soft labels, the matrix's."""
    ds = store.add_dataset("d", item_ids=["a", "b"])
    votes = np.array([[0, 1], [1, -1]])
    for soft_names, expected in ((["x", "y"], ["x", "y"]), (None, ["p", "q"])):
        run = store.start_run(ds)
        store.add_application(ds, LabelMatrix(votes, n_classes=2, class_names=["p", "q"], item_ids=["a", "b"]),
                              run_id=run)
        store.add_soft_labels(ds, SoftLabels(np.full((2, 2), 0.5), item_ids=["a", "b"], class_names=soft_names),
                              run_id=run)
        assert store.run_class_names(run) == run_class_names(store, run) == expected
