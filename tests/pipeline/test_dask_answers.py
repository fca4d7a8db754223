"""A run on the Dask engine fits its label model with the human answers as gold, as the local engine does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab import ValidationError
from weaklab.pipeline import Project

from .conftest import renamed_project

pytest.importorskip("distributed")


def _soft(store, run):
    if "soft_labels" in store.partitioned(run.run_id):
        soft = store.open_partitioned(run.run_id, "soft_labels")
        return np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])
    return store.load_soft_labels(run.metrics["soft_labels_id"]).proba


def _answer(root, store_path, run, items, origin):
    with Project(root, store_path=store_path).open_store() as store:
        for item in items:
            store.add_annotation(run.dataset_id, item, "ann", "junk", origin=origin)


CASES = [("MajorityVote", "import"), ("MajorityVote", "review"), ("DawidSkene", "review"),
         ("WeightedMajorityVote", "import")]


@pytest.mark.parametrize(("model", "origin"), CASES, ids=[f"{m}-{o}" for m, o in CASES])
def test_human_answers_are_the_label_models_gold_on_both_engines(dask_cluster, tmp_path, model, origin):
    """40 answers (imported: a random sample; from the review queue: chosen by uncertainty) are the gold of the
    label model on the Dask engine as on the local one: the same soft labels of every item and the same record
    (answers counted, their sampling). Imported ones move every model (majority vote: the class balance of the
    items nobody voted on); answers from the review queue are not a sample of the items, so only Dawid-Skene,
    which clamps them in its EM, moves with them, as on the local engine."""
    root = renamed_project(tmp_path / "p")
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + f'\n[label_model]\nname = "{model}"\n')
    data = pd.read_csv(root / "data" / "messages.csv", keep_default_na=False, na_values=[""])
    items = data["msg_key"].iloc[::6].tolist()[:40]
    local, dask_store = tmp_path / "local.duckdb", tmp_path / "dask.duckdb"
    before = Project(root, store_path=local).run("fit")
    _answer(root, local, before, items, origin)
    after = Project(root, store_path=local).run("fit")
    config.write_text(config.read_text() + f'\n[engine]\nkind = "dask"\nscheduler = "{dask_cluster.scheduler_address}"'
                      '\npartition_rows = 70\n')
    applied = Project(root, store_path=dask_store).run("apply")
    _answer(root, dask_store, applied, items, origin)
    on_dask = Project(root, store_path=dask_store).run("fit")
    with Project(root, store_path=local).open_store(read_only=True) as store:
        expected, unanswered = _soft(store, after), _soft(store, before)
    with Project(root, store_path=dask_store).open_store(read_only=True) as store:
        found = _soft(store, on_dask)
    np.testing.assert_allclose(found, expected, atol=1e-9)
    assert (not np.allclose(expected, unanswered, atol=1e-3)) == (origin == "import" or model == "DawidSkene")
    for key in ("n_gold_for_fit", "gold_sampling"):
        assert on_dask.metrics["label_model"][key] == after.metrics["label_model"][key], key
    assert on_dask.metrics["label_model"]["n_gold_for_fit"] == 40


def test_a_label_model_the_dask_engine_cannot_fit_with_gold_is_refused_before_the_run(dask_cluster, tmp_path):
    """GLAD does not fit on partitioned votes (so could take no human answer there): a fit on the Dask engine stops
    before anything runs or is recorded, naming the setting, the model, the engine, the models it fits and the
    local engine; the apply step alone still runs."""
    root = renamed_project(tmp_path / "p", scheduler=dask_cluster.scheduler_address, partition_rows=70)
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "GLAD"\n')
    with pytest.raises(ValidationError, match=r"label_model.name: expected a label model the Dask engine fits with "
                       r"the human answers and \[data\].fit_gold as the local engine does \(one of AutoLabelModel, "
                       r"DawidSkene, .*WeightedMajorityVote\), got 'GLAD' .*kind = \"local\""):
        Project(root).run("fit")
    assert not (root / ".weaklab").exists() or not (root / ".weaklab" / "partitions").exists()
    assert Project(root).run("apply").metrics["n_items"] == 240


def test_answers_on_items_gone_from_the_data_file_are_counted_as_orphaned_on_dask(dask_cluster, tmp_path):
    """After the data file loses one of three answered items, the Dask run fits on the two answers it still holds
    (carried over from the earlier version of the file) and reports the third as orphaned, by id, as a local run
    does, rather than dropping it without a word."""
    root = renamed_project(tmp_path / "p", scheduler=dask_cluster.scheduler_address, partition_rows=70)
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "MajorityVote"\n')
    applied = Project(root).run("apply")
    path = root / "data" / "messages.csv"
    data = pd.read_csv(path, keep_default_na=False, na_values=[""])
    items = data["msg_key"].iloc[[3, 100, 200]].tolist()
    _answer(root, None, applied, items, "import")
    data[data["msg_key"] != items[1]].to_csv(path, index=False)
    run = Project(root).run("fit")
    answers = run.metrics["answers"]
    assert (answers["answers"], answers["carried_over"], answers["orphaned"]) == (2, 2, 1)
    assert answers["orphaned_item_ids"] == [items[1]] and answers["versions"] == 2
    assert run.metrics["label_model"]["n_gold_for_fit"] == 2
