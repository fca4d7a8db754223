"""[data].fit_gold on the Dask engine: the label model fits on the same file gold as on the local engine, drawn from
the rows the workers list, and the run records those items by id, so review queues, `query`, `explain` and
`doctor` read them as they read a local run's."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from weaklab.pipeline import Project
from weaklab.pipeline.doctor import doctor
from weaklab.pipeline.partitioned_runs import review_candidates
from weaklab.pipeline.review import gold_items

from .conftest import renamed_project

pytest.importorskip("distributed")

N_FIT = 20
SAME = ("n_gold_for_fit", "gold_sampling", "fit_gold", "n_gold_outside_dev", "n_file_gold_for_fit",
        "n_answers_for_fit", "file_gold_sampling", "file_gold_splits", "fit_gold_random_state", "fit_gold_digest")


def _soft(store, run):
    if "soft_labels" in store.partitioned(run.run_id):
        soft = store.open_partitioned(run.run_id, "soft_labels")
        return np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])
    return store.load_soft_labels(run.metrics["soft_labels_id"]).proba


def _project(tmp_path, fit_gold):
    root = renamed_project(tmp_path / "p")
    config = root / "weaklab.toml"
    config.write_text(config.read_text().replace("# fit_gold = 50 ", f"fit_gold = {fit_gold} ")
                      + '\n[label_model]\nname = "DawidSkene"\n')
    return root


def _on_dask(root, cluster):
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + f'\n[engine]\nkind = "dask"\nscheduler = "{cluster.scheduler_address}"'
                      '\npartition_rows = 70\n')


@pytest.mark.parametrize("fit_gold", [str(N_FIT), '"all"'])
def test_fit_gold_on_dask_fits_on_the_items_the_local_engine_draws(dask_cluster, tmp_path, fit_gold):
    """The Dask run draws the same items as the local run (by id, with their gold), fits Dawid-Skene on them to the
    same soft labels of every item (which differ from a fit without them) and records the same lineage."""
    root = _project(tmp_path, fit_gold)
    local = Project(root, store_path=tmp_path / "local.duckdb").run("fit")
    _on_dask(root, dask_cluster)
    on_dask = Project(root, store_path=tmp_path / "dask.duckdb").run("fit")
    config = root / "weaklab.toml"
    config.write_text(config.read_text().replace(f"fit_gold = {fit_gold} ", 'fit_gold = "none" '))
    without = Project(root, store_path=tmp_path / "dask.duckdb").run("fit")
    with Project(root, store_path=tmp_path / "local.duckdb").open_store(read_only=True) as store:
        expected, drawn = _soft(store, local), store.fit_gold(local.run_id)
    with Project(root, store_path=tmp_path / "dask.duckdb").open_store(read_only=True) as store:
        found, recorded, plain = _soft(store, on_dask), store.fit_gold(on_dask.run_id), _soft(store, without)
        assert store.fit_gold_record(on_dask.run_id)["intact"]
    columns = ["item_id", "label", "class_name"]
    pd.testing.assert_frame_equal(recorded[columns], drawn[columns])
    assert len(drawn) == (N_FIT if fit_gold == str(N_FIT) else local.metrics["label_model"]["n_gold_outside_dev"])
    np.testing.assert_allclose(found, expected, atol=1e-6)
    assert not np.allclose(found, plain, atol=1e-3)
    for key in SAME:
        assert on_dask.metrics["label_model"].get(key) == local.metrics["label_model"].get(key), key
    assert without.metrics["label_model"]["n_file_gold_for_fit"] == 0


def test_dask_fit_gold_is_held_back_explained_and_checked_by_id(dask_cluster, tmp_path):
    """The items whose file gold fed a Dask run's fit are held back by its review queue, never asked by its `query`
    step, show their fit gold in `explain`; after their gold is edited in the data file, `doctor` names them."""
    root = _project(tmp_path, str(N_FIT))
    _on_dask(root, dask_cluster)
    run = Project(root).run("query")
    with Project(root).open_store(read_only=True) as store:
        drawn = {str(v) for v in store.fit_gold(run.run_id)["item_id"]}
        held = gold_items(store, run.dataset_id, run.run_id)
        explained = {i for i in drawn if store.explain(i, run.run_id)["fit_gold"] is not None}
        other = store.explain(str(run.query[0]), run.run_id)["fit_gold"]
    assert len(drawn) == N_FIT and drawn <= held.ids and len(held.ids) == run.metrics["n_gold_items"] + N_FIT
    assert not drawn & {str(v) for v in run.query} and len(run.query) > 0
    assert explained == drawn and other is None
    assert doctor(Project(root).store_path).fit_gold == []
    path = root / "data" / "messages.csv"
    data = pd.read_csv(path, keep_default_na=False, na_values=[""])
    flipped = sorted(drawn)[0]
    row = data.index[data["msg_key"].astype(str) == flipped][0]
    before = data.loc[row, "verdict"]
    data.loc[row, "verdict"] = "fine" if before == "junk" else "junk"
    data.to_csv(path, index=False)
    (check,) = doctor(Project(root).store_path).fit_gold
    assert check["run_id"] == run.run_id and check["status"] == "changed"
    assert [tuple(r) for r in check["relabelled"]] == [(flipped, before, data.loc[row, "verdict"])]


def test_the_review_candidates_of_a_dask_run_count_its_fit_gold_apart(dask_cluster, tmp_path):
    """With 100 items of fit gold, the 10 review candidates a Dask run keeps without gold hold no item whose gold
    fed its fit (they are counted apart, as the dev gold is), so a queue that holds them back still has 10."""
    root = _project(tmp_path, "100")
    _on_dask(root, dask_cluster)
    run = Project(root).run("fit")
    with Project(root).open_store() as store:
        held = gold_items(store, run.dataset_id, run.run_id).ids
        ids, _ = review_candidates(store, run.run_id, limit=10)
    assert len(held) == run.metrics["n_gold_items"] + 100
    assert len([i for i in ids if str(i) not in held]) == 10


def _peak_memory(call):
    """``call()`` and the peak of the memory it held: Python objects (tracemalloc) plus Arrow buffers (pandas' text
    columns), each counted from the call's start."""
    import pyarrow as pa

    pool = pa.proxy_memory_pool(pa.default_memory_pool())
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    tracemalloc.start()
    try:
        out = call()
        return out, tracemalloc.get_traced_memory()[1] + pool.max_memory()
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(previous)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_doctor_checks_a_dask_runs_fit_gold_reading_only_those_rows_and_columns(dask_cluster, tmp_path, suffix):
    """A Dask project whose data file carries a 40 kB column no check reads: `doctor` compares the run's 20 fit-gold
    items with the file holding under a quarter of the file's size in memory (it read the whole file into a frame:
    about twice its size), and still names the item whose gold was flipped, the one deleted and the one
    moved into the dev split, as it does for a local run (CSV and Parquet files)."""
    root = _project(tmp_path, str(N_FIT))
    path = root / "data" / "messages.csv"
    data = pd.read_csv(path, keep_default_na=False, na_values=[""])
    rng = np.random.default_rng(0)  # distinct random texts: no string is shared, nothing compresses
    data["attachment"] = [rng.bytes(20_000).hex() for _ in range(len(data))]
    if suffix == ".parquet":
        path.unlink()
        path = path.with_suffix(".parquet")
        config = root / "weaklab.toml"
        config.write_text(config.read_text().replace('"data/messages.csv"', '"data/messages.parquet"'))
    write = (lambda frame: frame.to_parquet(path, index=False)) if suffix == ".parquet" else \
        (lambda frame: frame.to_csv(path, index=False))
    write(data)
    _on_dask(root, dask_cluster)
    run = Project(root).run("fit")
    store_path = Project(root).store_path
    found, peak = _peak_memory(lambda: doctor(store_path).fit_gold)
    assert found == [] and peak < path.stat().st_size / 4, (peak, path.stat().st_size)
    with Project(root).open_store(read_only=True) as store:
        drawn = sorted(str(v) for v in store.fit_gold(run.run_id)["item_id"])
    flipped, gone, moved = drawn[:3]
    keys = data["msg_key"].astype(str)
    before = data.loc[keys == flipped, "verdict"].iloc[0]
    data.loc[keys == flipped, "verdict"] = "fine" if before == "junk" else "junk"
    data.loc[keys == moved, "part"] = "holdout"
    write(data[keys != gone])
    (check,) = doctor(store_path).fit_gold
    assert check["status"] == "changed" and check["gone"] == [gone] and check["now_dev"] == [moved]
    assert [tuple(r) for r in check["relabelled"]] == [(flipped, before, "fine" if before == "junk" else "junk")]


def test_doctor_reads_zero_padded_integer_ids_as_the_dask_run_did(dask_cluster, tmp_path):
    """Ids written 0000, 0001, ... are integers to the Dask engine (its item 7 is ``7``); `doctor` reads them so too:
    an unchanged file gives nothing to report, and the one item deleted since is named by the run's id."""
    root = _project(tmp_path, str(N_FIT))
    path = root / "data" / "messages.csv"
    data = pd.read_csv(path, keep_default_na=False, na_values=[""])
    data["msg_key"] = [f"{i:04d}" for i in range(len(data))]
    data.to_csv(path, index=False)
    _on_dask(root, dask_cluster)
    run = Project(root).run("fit")
    store_path = Project(root).store_path
    with Project(root).open_store(read_only=True) as store:
        drawn = sorted(store.fit_gold(run.run_id)["item_id"].astype(str), key=int)
    assert all(item == str(int(item)) for item in drawn)  # the run read 0007 as item 7
    assert doctor(store_path).fit_gold == []
    data[data["msg_key"].astype(int) != int(drawn[0])].to_csv(path, index=False)
    (check,) = doctor(store_path).fit_gold
    assert check["status"] == "changed" and check["gone"] == [drawn[0]] and not check["relabelled"]
