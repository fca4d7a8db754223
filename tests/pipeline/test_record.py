"""recorded_run: the one way a run is started and finished (project and demo)."""

from __future__ import annotations

import pytest

from weaklab.pipeline.record import recorded_run
from weaklab.store import Store


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.duckdb") as s:
        yield s


def test_a_finished_block_records_its_metrics(store):
    dataset = store.add_dataset("d", item_ids=[1, 2, 3])
    with recorded_run(store, dataset, {"label_model": "MajorityVote"}) as run:
        run.metrics["accuracy"] = 0.75
    row = store.runs().set_index("run_id").loc[run.run_id]
    assert row["status"] == "finished"
    assert row["metrics"] == {"accuracy": 0.75}


def test_a_failing_block_marks_the_run_failed_with_the_error_and_reraises(store):
    dataset = store.add_dataset("d", item_ids=[1, 2, 3])
    metrics = {"answers": 0}
    with pytest.raises(KeyError):
        with recorded_run(store, dataset, {}, metrics) as run:
            assert run.metrics is metrics
            raise KeyError("boom")
    row = store.runs().set_index("run_id").loc[run.run_id]
    assert row["status"] == "failed"
    assert row["metrics"] == {"error": "KeyError: 'boom'", "answers": 0}


@pytest.mark.parametrize("sparse", [True, False])
def test_decides_is_the_share_of_voted_items_whose_label_flips_without_the_source(sparse):
    """label_model_stats' decides equals removing each source from the whole matrix and counting flips."""
    import numpy as np

    from weaklab import LabelMatrix
    from weaklab.models import DawidSkene
    from weaklab.pipeline.record import label_model_stats
    from weaklab.synthetic import make_crowd

    crowd = make_crowd(300, 25, 3, n_classes=3, worker_accuracy=(0.4, 0.95), random_state=1)
    L = crowd.L.as_sparse() if sparse else crowd.L.as_dense()
    model = DawidSkene(random_state=0).fit(L)
    dense = L.to_dense()
    voted = dense.max(axis=1) >= 0
    base = model.predict_proba(L).argmax(axis=1)
    expected = []
    for j in range(L.n_sources):
        without = dense.copy()
        without[:, j] = -1
        flipped = model.predict_proba(LabelMatrix(without, n_classes=L.n_classes)).argmax(axis=1) != base
        expected.append(flipped[voted].mean())
    decides = label_model_stats(model, L)["decides"].to_numpy()
    assert np.allclose(decides, expected) and decides.max() > 0
