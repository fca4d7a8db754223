"""The items of a Dask run that hold gold, found on the workers so that no review queue offers them.

On the local engine the review queues leave out the items whose gold column
is set (:func:`~weaklab.pipeline.review.gold_items`, read from the data file
when a queue opens). A run on the Dask engine never reads its data file whole
on the client, so its ``apply`` step finds those items on the workers, one
task per partition (the gold and split columns of the data partition and the
ids of its votes partition), and writes their ids and global rows to one small
Parquet file beside the votes (:func:`write_gold_items`). The store records it
by reference (:meth:`~weaklab.store.Store.reduced_record`, kind ``"gold"``);
the review queues read it (:func:`read_gold_items`) and so offer no item that
holds gold, as on the local engine.

"Holds gold" is the same predicate on both engines: a gold value (a class
name or id, not empty nor -1) on a row of the dev split
(:func:`~weaklab.pipeline.loading.dev_mask`), or on any row without a split
column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._core import fingerprint
from .._core.dask_ops import import_dask, tree_reduce
from .._core.dataset_io import exists, read_frame, write_frame
from .._core.partitioned import ITEM_ID, PartitionedLabelMatrix
from .._core.validation import fail
from ..store import Store
from .config import ProjectConfig
from .dask_train import column_parts
from .loading import dev_mask, draw_fit_gold, gold_labels

__all__ = ["GOLD_KIND", "dataset_gold_record", "gold_by_partition", "gold_key", "read_gold_items",
           "drawn_fit_gold", "read_outside_gold", "run_gold_record", "wants_outside", "write_gold_items"]

#: The kind of the store's record of a Dask run's gold items.
GOLD_KIND = "gold"
_ROW, _LABEL, _DEV, _SPLIT = "row", "label", "dev", "split"
_FORMAT = 2  # the gold file's columns (2: row, label); part of the key so an older file is not reused


def gold_key(config: ProjectConfig, data_fingerprint: str) -> str:
    """What a run's gold items depend on: the data and the settings that say which rows hold gold.

    Examples
    --------
    >>> from pathlib import Path
    >>> from weaklab.pipeline.config import ProjectConfig
    >>> config = ProjectConfig(Path("weaklab.toml"), Path("."), {"data": {"path": "d.csv", "gold_column": "label"}})
    >>> gold_key(config, "data-1") == gold_key(config, "data-2")
    False
    """
    data = ("gold_column", "split_column", "dev_value")
    outside = ("outside",) if wants_outside(config) else ()  # the list of gold rows outside dev too
    return fingerprint("dask-gold", _FORMAT, data_fingerprint, [config.get("data", k) for k in data],
                       config.class_names, config.class_renames, *outside)


def wants_outside(config: ProjectConfig) -> bool:
    """Whether a run lists the rows holding gold outside the dev split too: ``[data].fit_gold`` draws from them."""
    return config.fit_gold not in ("none", 0)


def write_gold_items(plm: PartitionedLabelMatrix, frame: Any, config: ProjectConfig, key: str) -> dict[str, Any]:
    """Find the items of ``plm`` that hold gold (on the workers) and write their ids and rows beside the votes.

    Parameters
    ----------
    plm : PartitionedLabelMatrix
        The run's votes (their item ids, partition by partition).
    frame : dask.dataframe.DataFrame
        The run's data, in the partitions of ``plm``.
    config : ProjectConfig
        Its ``[data].gold_column`` (required), ``split_column`` and ``dev_value``.
    key : str
        :func:`gold_key`: the file is ``gold/<key>.parquet`` under ``plm.root``
        and is reused when it exists.

    Returns
    -------
    dict
        The record to keep in the store: ``root`` and ``file`` (relative to
        it), ``column`` (the gold column) and ``n_items``; when
        ``[data].fit_gold`` draws from them (:func:`wants_outside`), also
        ``outside_file`` and ``n_outside``: the rows that hold gold outside
        the dev split (their ids, rows, classes and split values), which
        the ``fit`` step draws its fit gold from.

    Raises
    ------
    ValidationError
        No gold column, or a data partition whose rows differ from its votes'.
    """
    column = config.get("data", "gold_column")
    if column is None:
        raise fail("data.gold_column", "a gold column to find the items that hold gold", column)
    relative, outside = f"gold/{key}.parquet", f"gold/{key}-outside.parquet"
    listed = exists(plm.root, relative, plm.storage_options) and (
        not wants_outside(config) or exists(plm.root, outside, plm.storage_options))
    if listed:
        n = len(read_frame(plm.root, relative, plm.storage_options, columns=[_ROW]))
        n_out = len(read_frame(plm.root, outside, plm.storage_options, columns=[_ROW])) if wants_outside(config) \
            else 0
    else:
        dask = import_dask()
        columns = [c for c in (column, config.get("data", "split_column")) if c]
        parts = column_parts(frame, columns)
        names = config.class_names
        offsets = [int(v) for v in plm.partition_offsets]
        k = plm.n_classes if names is None else len(names)  # a gold id >= k is an error, as on the local engine
        tasks = [dask.delayed(_partition_gold)(plm, i, parts[i], config, k, offsets[i])
                 for i in range(plm.n_partitions)]
        (found,) = dask.compute(tree_reduce(tasks, _concat))
        dev = found.pop(_DEV).to_numpy(dtype=bool)
        if wants_outside(config):
            write_frame(found[~dev].reset_index(drop=True), plm.root, outside, plm.storage_options)
        found = found[dev].drop(columns=[_SPLIT]).reset_index(drop=True)
        write_frame(found, plm.root, relative, plm.storage_options)  # written last: the pair exists once it does
        n, n_out = len(found), int((~dev).sum())
    record = {"kind": GOLD_KIND, "root": plm.root, "file": relative, "column": column, "n_items": int(n)}
    if wants_outside(config):
        record.update(outside_file=outside, n_outside=int(n_out))
    return record


def _partition_gold(plm: PartitionedLabelMatrix, i: int, data: pd.DataFrame, config: ProjectConfig,
                    n_classes: int | None, offset: int) -> pd.DataFrame:
    """Ids, global rows, classes, dev flags and split values of the items of partition ``i`` that hold gold (on a
    worker): the dev items only, unless ``[data].fit_gold`` draws from the others (:func:`wants_outside`)."""
    ids = plm.read_item_ids(i)
    if len(data) != len(ids):
        raise fail("data", f"{len(ids)} rows in partition {i} (as the votes)", got_text=f"{len(data)}")
    gold = gold_labels(config, data, n_classes)
    dev = dev_mask(config, data, gold)
    rows = np.flatnonzero(gold >= 0 if wants_outside(config) else dev)
    split = config.get("data", "split_column")
    splits = data[split].astype(str).to_numpy()[rows] if split else np.full(rows.size, "")
    return pd.DataFrame({ITEM_ID: ids[rows], _ROW: (offset + rows).astype(np.int64), _LABEL: gold[rows],
                         _DEV: dev[rows], _SPLIT: splits})


def read_outside_gold(record: dict[str, Any]) -> pd.DataFrame:
    """The rows holding gold outside the dev split that a run's ``"gold"`` record lists (``[data].fit_gold``).

    Returns
    -------
    pandas.DataFrame
        ``item_id``, ``row`` (global, in data order), ``label`` (class id)
        and ``split`` (the split column's value), one row per item; empty
        for a record without the list.
    """
    if not record.get("outside_file"):
        return pd.DataFrame({ITEM_ID: [], _ROW: np.zeros(0, dtype=np.int64), _LABEL: np.zeros(0, dtype=np.int64),
                             _SPLIT: []})
    return read_frame(str(record["root"]), str(record["outside_file"]), columns=[ITEM_ID, _ROW, _LABEL, _SPLIT])


def _concat(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([a, b], ignore_index=True)


def read_gold_items(record: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The ids and global rows of the items a run's ``"gold"`` record lists (the file :func:`write_gold_items` wrote).

    Returns
    -------
    item_ids : ndarray of shape (n,)
    rows : ndarray of shape (n,) of int64
        In data order.
    """
    found = read_frame(str(record["root"]), str(record["file"]), columns=[ITEM_ID, _ROW])
    return found[ITEM_ID].to_numpy(), found[_ROW].to_numpy(dtype=np.int64)


def gold_by_partition(plm: PartitionedLabelMatrix, record: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per partition of ``plm``, the rows (within it) of its items that hold gold and their gold class ids.

    Read on the client from the run's ``"gold"`` record (as many rows as
    items hold gold), to hand each partition's task its own few rows.
    """
    found = read_frame(str(record["root"]), str(record["file"]), columns=[_ROW, _LABEL])
    rows, labels = found[_ROW].to_numpy(dtype=np.int64), found[_LABEL].to_numpy(dtype=np.int64)
    offsets = np.asarray(plm.partition_offsets, dtype=np.int64)
    part = np.searchsorted(offsets, rows, side="right") - 1
    return [(rows[part == i] - offsets[i], labels[part == i]) for i in range(plm.n_partitions)]


def run_gold_record(store: Store, run_id: int) -> dict[str, Any] | None:
    """The ``"gold"`` record of a Dask run (None for a run without a gold column, a local run or an older one)."""
    return store.reduced_record(run_id, GOLD_KIND)


def dataset_gold_record(store: Store, dataset_id: int) -> dict[str, Any] | None:
    """The ``"gold"`` record of the newest Dask run of a dataset that made one (None when none did)."""
    runs = store.runs()
    for run_id in runs.loc[runs["dataset_id"] == int(dataset_id), "run_id"].tolist():  # newest first
        record = run_gold_record(store, int(run_id))
        if record is not None:
            return record
    return None


def drawn_fit_gold(record: dict[str, Any] | None, config: ProjectConfig, random_state: int) -> pd.DataFrame:
    """The items whose file gold a Dask run's label model fits on (``[data].fit_gold``), as the local engine draws them.

    From the rows holding gold outside the dev split that the ``apply`` step
    listed (:func:`read_outside_gold`): all of them for ``"all"``, else the
    ``N`` whose ids hash lowest under ``random_state``
    (:func:`~weaklab.pipeline.loading.draw_fit_gold`, the local engine's
    draw), so both engines fit on the same items.

    Returns
    -------
    pandas.DataFrame
        ``item_id``, ``row``, ``label``, ``split`` of the drawn items, in
        data order (empty for ``"none"`` or a record without the list).
    """
    if record is None or not wants_outside(config):
        return read_outside_gold({})
    outside = read_outside_gold(record).sort_values(_ROW, kind="stable").reset_index(drop=True)
    option = config.fit_gold
    if option == "all" or int(option) >= len(outside):
        return outside
    return outside.iloc[draw_fit_gold(outside[ITEM_ID].to_numpy(), int(option), random_state)].reset_index(drop=True)
