"""On the Dask engine the review queues draw random checks from every item, and the answers reach the label model
weighted, as on the local engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from weaklab.pipeline import Project
from weaklab.pipeline.review import review_batch

from .conftest import renamed_project

pytest.importorskip("distributed")


def _soft(store, run) -> np.ndarray:
    if "soft_labels" in store.partitioned(run.run_id):
        soft = store.open_partitioned(run.run_id, "soft_labels")
        return np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])
    return store.load_soft_labels(run.metrics["soft_labels_id"]).proba


def test_dask_queue_checks_weight_the_answers_as_the_local_engine(dask_cluster, tmp_path: Path) -> None:
    """Three terminal batches of 10 with share 0.5 on a Dask run draw checks from the free items (never a dev gold
    item; the free count recorded), and the next Dask fit takes the answers with gold_weight ("weighted"); a local
    store given the same slots and answers in the same order weights them the same, and both engines' soft labels
    agree."""
    root = renamed_project(tmp_path / "p")
    config = root / "weaklab.toml"
    local_text = config.read_text().replace("[query]\n", "[query]\nrandom_share = 0.5\n")
    dask_text = local_text + (f'\n[engine]\nkind = "dask"\nscheduler = "{dask_cluster.scheduler_address}"'
                              '\npartition_rows = 70\n')
    data = pd.read_csv(root / "data" / "messages.csv", keep_default_na=False, na_values=[""])
    truth = dict(zip(data["msg_key"].astype(str), data["verdict"]))
    dev = set(data.loc[data["part"] == "holdout", "msg_key"].astype(str))
    local, remote = tmp_path / "local.duckdb", tmp_path / "dask.duckdb"
    config.write_text(local_text)
    Project(root, store_path=local).run("fit")
    config.write_text(dask_text)
    run = Project(root, store_path=remote).run("fit")
    for _ in range(3):
        with Project(root, store_path=remote).open_store() as store:
            review_batch(store, run.run_id, limit=10, queue="terminal")
            slots = store.queue_slots(run.dataset_id)
            batch = slots[slots["round_id"] == slots["round_id"].max()]
            for item in batch["item_id"].tolist():
                store.add_annotation(run.dataset_id, item, "oracle", truth[str(item)], origin="terminal")
        with Project(root, store_path=local).open_store() as store:
            store.add_queue_slots(run.dataset_id, batch["item_id"].tolist(), batch["at_random"].tolist(),
                                  pool_left=int(batch["pool_left"].max()), queue="terminal")
            for item in batch["item_id"].tolist():
                store.add_annotation(run.dataset_id, item, "oracle", truth[str(item)], origin="terminal")
    checks = slots[slots["at_random"]]
    assert 0 < len(checks) < 30 and not set(checks["item_id"].astype(str)) & dev
    assert checks.groupby("round_id")["pool_left"].first().tolist() == \
        sorted(checks.groupby("round_id")["pool_left"].first().tolist(), reverse=True)
    on_dask = Project(root, store_path=remote).run("fit")
    config.write_text(local_text)
    in_memory = Project(root, store_path=local).run("fit")
    found, expected = on_dask.metrics["label_model"], in_memory.metrics["label_model"]
    assert found["gold_sampling"] == expected["gold_sampling"] == "weighted"
    assert found["gold_weighting"] == expected["gold_weighting"]
    assert found["gold_weighting"]["n_random_checks"] == len(checks)
    with Project(root, store_path=remote).open_store(read_only=True) as store:
        dask_soft = _soft(store, on_dask)
    with Project(root, store_path=local).open_store(read_only=True) as store:
        local_soft = _soft(store, in_memory)
    np.testing.assert_allclose(dask_soft, local_soft, atol=1e-9)
