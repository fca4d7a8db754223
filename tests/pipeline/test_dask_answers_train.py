"""On the Dask engine too, human answers are the end model's targets on their items (voted or not), never on dev."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab.pipeline import Project

from .conftest import renamed_project

pytest.importorskip("distributed")


def test_answers_to_the_queue_train_the_dask_end_model(dask_cluster, tmp_path):
    """Every non-dev item answered (review queue) with the class the label model did not give it: the Dask end
    model trains on all of them (n_known_in_training, n_train) and its dev accuracy falls far below the run before;
    dev answers never count."""
    root = renamed_project(tmp_path / "p", n_items=200, scheduler=dask_cluster.scheduler_address)
    before = Project(root).run("train")
    data = pd.read_csv(root / "data" / "messages.csv", keep_default_na=False, na_values=[""])
    dev = (data["part"] == "holdout").to_numpy()
    with Project(root).open_store() as store:
        soft = store.open_partitioned(before.run_id, "soft_labels")
        proba = np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])
        ids = np.concatenate([soft.read_partition(i).item_ids for i in range(soft.n_partitions)]).astype(str)
        flipped = {item: ["fine", "junk"][1 - int(c)] for item, c in zip(ids, np.argmax(proba, axis=1), strict=True)}
        for item in data["msg_key"].astype(str):  # dev items answered too: they must not train
            store.add_annotation(before.dataset_id, item, "ann", flipped[item], origin="review")
    after = Project(root).run("train")
    end = after.metrics["end_model"]
    assert end["n_known_in_training"] == int((~dev).sum())
    assert end["n_train"] == int((~dev).sum())
    assert end["accuracy"] < before.metrics["end_model"]["accuracy"] - 0.2
