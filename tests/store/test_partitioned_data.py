"""Partitioned datasets in the store (migration 4): a distributed run's data by reference, its items found by id
in their partition, and human answers on them recorded like any other (never orphaned)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from weaklab import LabelMatrix, PartitionedLabelMatrix
from weaklab._core import partitioned as partitioned_module
from weaklab.errors import ValidationError
from weaklab.store import SCHEMA_VERSION, Store

pytest.importorskip("fsspec", reason="partitioned datasets need the [dask] extra (fsspec)")

ROWS = (4, 3, 5)


def _votes(root: Path, ids: list[object]) -> PartitionedLabelMatrix:
    parts, start = [], 0
    for n in ROWS:
        votes = np.tile(np.array([[0, 1], [1, -1]]), (n, 1))[:n]
        parts.append(LabelMatrix(votes, item_ids=np.array(ids[start:start + n])))
        start += n
    return PartitionedLabelMatrix.write(str(root), parts)


def _store(tmp_path: Path, ids: list[object], dtype: str) -> tuple[Store, int, PartitionedLabelMatrix]:
    plm = _votes(tmp_path / "votes", ids)
    store = Store(tmp_path / "s.duckdb")
    dataset = store.add_dataset("big", n_items=0, fingerprint="f" * 32)
    assert store.add_partitioned_dataset(dataset, str(tmp_path / "data.parquet"), data_format="parquet",
                                         id_index=plm.root, n_rows=plm.n_items, fingerprint="f" * 32,
                                         id_column="id", id_dtype=dtype, text_column="text",
                                         layout={"partition_rows": list(ROWS)})
    return store, dataset, plm


def test_the_record_round_trips_once_per_dataset(tmp_path: Path) -> None:
    """Migration 4 adds partitioned_datasets; a record reads back as written and a second one is refused."""
    store, dataset, plm = _store(tmp_path, list(range(100, 112)), "<i8")
    assert SCHEMA_VERSION >= 4
    record = store.partitioned_dataset(dataset)
    assert record is not None and record["id_index"] == plm.root and record["n_rows"] == 12
    assert record["layout"] == {"partition_rows": [4, 3, 5]} and record["text_column"] == "text"
    assert not store.add_partitioned_dataset(dataset, "elsewhere", data_format="csv", id_index=plm.root,
                                             n_rows=12, fingerprint="g" * 32)
    assert store.partitioned_dataset(store.add_dataset("small", ["a", "b"])) is None
    with pytest.raises(ValidationError, match="data_format: expected one of"):
        store.add_partitioned_dataset(dataset, "x", data_format="xlsx", id_index=plm.root, n_rows=1,
                                      fingerprint="h")


def test_answers_on_items_of_a_partitioned_dataset_are_recorded_and_not_orphaned(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer on an item of the last partition gets its global row, reading only that partition's ids;
    the dataset counts it (not orphaned) and an id the data does not hold is refused by name."""
    store, dataset, _ = _store(tmp_path, list(range(100, 112)), "<i8")
    reads: list[str] = []
    real = partitioned_module.read_frame

    def spy(root: str, relative: str, *args: object, **kwargs: object) -> pd.DataFrame:
        reads.append(relative)
        return real(root, relative, *args, **kwargs)

    monkeypatch.setattr(partitioned_module, "read_frame", spy)
    store.add_annotation(dataset, 110, "ann", 1, class_names=["A", "B"])
    assert reads == ["votes/part-00002.parquet"]
    assert store.human_labels(dataset, class_names=["A", "B"])[["item_id", "row", "label"]].values.tolist() == \
        [[110, 10, 1]]
    carried = store.carry_over(dataset)
    assert carried["answers"] == 1 and carried["orphaned"] == 0
    with pytest.raises(ValidationError, match="unknown id"):
        store.add_annotation(dataset, 999, "ann", 0, class_names=["A", "B"])
    assert store.locate_items(dataset, ["100", "111", "nope"]).tolist() == [0, 11, -1]


def test_text_ids_come_back_as_text_and_known_rows_read_nothing(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """With text ids (id_dtype '|O') answers read back as text; rows remembered from a partition read are
    looked up without reading any partition."""
    ids = [f"c{i:03d}" for i in range(12)]
    store, dataset, _ = _store(tmp_path, ids, "|O")
    store.remember_item_rows(dataset, ["c007"], [7])
    monkeypatch.setattr(partitioned_module, "read_frame", lambda *a, **k: pytest.fail("read a partition"))
    store.add_annotation(dataset, "c007", "ann", "B", class_names=["A", "B"])
    assert store.annotations(dataset)["item_id"].tolist() == ["c007"]


def test_csv_rows_are_read_from_the_same_blocks_as_the_dask_engine(tmp_path: Path) -> None:
    """DataRows reads the text of any row of a CSV from the one byte block Dask read it in, and it equals the
    file's row; a row group at a time for Parquet."""
    dd = pytest.importorskip("dask.dataframe")
    from weaklab.pipeline.partitioned_runs import DataRows

    table = pd.DataFrame({"id": np.arange(500), "text": [f"text, number {i}" * (1 + i % 7) for i in range(500)]})
    csv = tmp_path / "d.csv"
    table.to_csv(csv, index=False)
    frame = dd.read_csv(str(csv), blocksize=3000)
    sizes = [len(frame.get_partition(i).compute(scheduler="sync")) for i in range(frame.npartitions)]
    assert len(sizes) > 3
    rows = DataRows({"location": str(csv), "format": "csv", "text_column": "text",
                     "layout": {"partition_rows": sizes, "blocksize": 3000, "sep": ","}})
    wanted = [0, sizes[0], 499, 250]
    assert rows.column(wanted, "text") == table["text"].iloc[wanted].tolist()
    touched = {int(np.searchsorted(np.cumsum(sizes), r, side="right")) for r in wanted}
    assert rows.chunks_read == len(touched) < len(sizes) and rows.column([500], "text") == [None]
    parquet = tmp_path / "d.parquet"
    table.to_parquet(parquet, row_group_size=100, index=False)
    groups = DataRows({"location": str(parquet), "format": "parquet", "text_column": "text", "layout": {}})
    assert groups.column([499, 450], "text") == table["text"].iloc[[499, 450]].tolist()
    assert groups.chunks_read == 1
