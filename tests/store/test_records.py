"""Records written to the store come back exactly, and identical records deduplicate."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import LabelMatrix, SoftLabels, ValidationError
from weaklab.models import DawidSkene
from weaklab.store import Store


def test_dataset_deduplicates_and_keeps_item_ids(store, spam):
    """Recording the same dataset twice returns one id, and its item ids load back with their dtype."""
    L, _ = spam
    first = store.add_dataset("spam", L.item_ids, meta={"path": "x.csv"})
    assert store.add_dataset("spam", L.item_ids, meta={"path": "x.csv"}) == first
    assert store.add_dataset("spam", L.item_ids, fingerprint="other-content") != first
    ids = store.load_item_ids(first)
    assert ids.dtype == L.item_ids.dtype and list(ids) == list(L.item_ids)


@pytest.mark.parametrize("sparse", [False, True])
def test_matrix_round_trip_is_exact(store, spam, sparse):
    """load_matrix returns the recorded matrix: votes, names, versions, class names, item ids and form."""
    L, _ = spam
    L = L.as_sparse() if sparse else L
    ds = store.add_dataset("spam", L.item_ids)
    app = store.add_application(ds, L, report={"coverage": [0.5] * 6})
    back = store.load_matrix(app)
    assert back.equals(L) and back.is_sparse == sparse
    assert back.source_versions == L.source_versions and back.class_names == L.class_names
    assert store.add_application(ds, L) == app


def test_matrix_over_a_shuffled_subset_round_trips(store, spam):
    """A matrix over some of the dataset's items, in another order, loads back in its own order."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    order = np.random.default_rng(0).permutation(200)[:120]
    for sub in (L.select_items(order), L.select_items(order).as_sparse()):
        back = store.load_matrix(store.add_application(ds, sub))
        assert back.equals(sub)
        assert list(back.item_ids) == list(sub.item_ids)


def test_matrix_without_item_ids_and_integer_ids(store):
    """Matrices without item ids, and datasets with integer ids, round-trip too."""
    L = LabelMatrix([[0, -1], [1, 1], [-1, -1]], n_classes=3)
    ds = store.add_dataset("tiny", n_items=3)
    assert store.load_matrix(store.add_application(ds, L)).equals(L)
    ids = np.array([10, 20, 30], dtype=np.int32)
    ds2 = store.add_dataset("ints", ids)
    L2 = L.replace(item_ids=ids)
    back = store.load_matrix(store.add_application(ds2, L2))
    assert back.equals(L2) and back.item_ids.dtype == np.int32


def test_soft_labels_round_trip(store, spam):
    """Soft labels come back with their ids, class names and producer, to float32 precision."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    proba = np.random.default_rng(1).dirichlet([1, 1], size=200)
    S = SoftLabels(proba, item_ids=L.item_ids, class_names=["ham", "spam"], producer="lm-1")
    back = store.load_soft_labels(store.add_soft_labels(ds, S))
    np.testing.assert_allclose(back.proba, proba, atol=1e-6)
    assert back.producer == "lm-1" and back.class_names == ("ham", "spam")
    assert list(back.item_ids) == list(L.item_ids)
    exact = store.load_soft_labels(store.add_soft_labels(ds, S, dtype="float64"))
    np.testing.assert_allclose(exact.proba, S.proba, rtol=0, atol=1e-15)


def test_label_model_state_round_trip(store, spam):
    """A stored to_state() rebuilds a model that predicts exactly like the original."""
    L, _ = spam
    model = DawidSkene(random_state=0).fit(L)
    ds = store.add_dataset("spam", L.item_ids)
    run = store.start_run(ds)
    lm = store.add_label_model_run(run, model.to_state(), metrics={"loglik": -1.5})
    rebuilt = DawidSkene.from_state(store.load_label_model_state(lm))
    np.testing.assert_array_equal(rebuilt.predict_proba(L), model.predict_proba(L))


def test_sources_deduplicate_by_name_and_version(store):
    """A source version is recorded once; a new version gets a new id and both are listed."""
    a = store.add_source("lf_link", "fp1", code="def lf(x): ...", params={"keywords": ["http"]})
    assert store.add_source("lf_link", "fp1") == a
    b = store.add_source("lf_link", "fp2", code="def lf(x): return 1")
    assert b != a
    listed = store.sources("lf_link")
    assert list(listed["version"]) == ["fp1", "fp2"]
    assert listed["params"][0] == {"keywords": ["http"]}


def test_run_lifecycle_and_records(store, spam):
    """A run is open until finished once, and every record kind is listed for it."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    run = store.start_run(ds, {"label_model": "DawidSkene"})
    store.add_application(ds, L, run_id=run)
    store.add_end_model_run(run, "logreg", params={"C": 1.0}, metrics={"f1": 0.8},
                            calibration={"ece_before": 0.1, "ece_after": 0.03, "bins": [[0.5, 0.4, 10]]})
    store.finish_run(run, "finished", {"accuracy": 0.9, "nan_metric": float("nan")})
    with pytest.raises(ValidationError, match="run_id"):
        store.finish_run(run)
    row = store.runs().iloc[0]
    assert row["status"] == "finished" and row["metrics"]["accuracy"] == 0.9
    records = store.run_records(run)
    assert records["end_model_runs"]["calibration"][0]["ece_after"] == 0.03
    assert len(records["applications"]) == 1


def test_bad_inputs_raise_validation_errors_naming_the_parameter(store, spam):
    """Unknown ids, wrong types and unknown items raise ValidationError naming the parameter."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    with pytest.raises(ValidationError, match="dataset_id"):
        store.start_run(99)
    with pytest.raises(ValidationError, match="matrix"):
        store.add_application(ds, np.zeros((200, 2)))
    with pytest.raises(ValidationError, match=r"matrix\.item_ids"):
        store.add_application(ds, L.replace(item_ids=np.array([f"x{i}" for i in range(200)], dtype=object)))
    with pytest.raises(ValidationError, match="config"):
        store.start_run(ds, {"f": object()})
    with pytest.raises(ValidationError, match="status"):
        store.finish_run(store.start_run(ds), "done")
    with pytest.raises(ValidationError, match="item_ids"):
        store.add_dataset("floats", [0.5, 1.5])


def test_read_only_store_refuses_writes(tmp_path, spam):
    """A read-only store reads everything and refuses to write with a StoreError."""
    from weaklab import StoreError

    path = tmp_path / "s.duckdb"
    L, _ = spam
    with Store(path) as st:
        ds = st.add_dataset("spam", L.item_ids)
        app = st.add_application(ds, L)
    with Store(path, read_only=True) as ro:
        assert ro.load_matrix(app).equals(L)
        with pytest.raises(StoreError, match="read-only"):
            ro.add_dataset("other", n_items=3)
