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
