"""The ``query`` step of a run on the Dask engine: the most uncertain items, chosen partition by partition.

Each task reads one partition of probabilities (the end model's when the run
trained one, else the label model's soft labels) and the gold and split
columns of its data partition, scores its items
(:func:`weaklab.active.uncertainty`), drops the answered and held-out ones
and keeps its ``n`` most uncertain; a tree of tasks merges the lists keeping
``n`` of at most ``split_every * n`` rows. Only the final ``n`` ids reach the
client. Ties keep data order (the local engine breaks them at random).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._core.dask_ops import import_dask, tree_reduce
from .._core.partitioned import PartitionedSoftLabels
from .._core.validation import check_int
from ..active import uncertainty
from .config import ProjectConfig
from .loading import dev_mask, gold_labels

__all__ = ["query_partitioned"]


def query_partitioned(proba: PartitionedSoftLabels, n: int, *, strategy: str = "entropy",
                      answered: Mapping[int, np.ndarray] | None = None, frame: Any = None,
                      config: ProjectConfig | None = None, split_every: int = 8) -> list[Any]:
    """The ids of the ``n`` items a human should label next, most uncertain first.

    Parameters
    ----------
    proba : PartitionedSoftLabels
        Class probabilities of every item, partition by partition.
    n : int
        At most this many items.
    strategy : {"entropy", "margin", "least_confidence"}, default="entropy"
    answered : mapping of int to ndarray, optional
        Per partition, the rows (within it) already answered: skipped.
    frame : dask.dataframe.DataFrame, optional
        The run's data (same partitions); with ``config``, its held-out rows
        (gold rows of the dev split, :func:`~weaklab.pipeline.loading.dev_mask`)
        are skipped.
    config : ProjectConfig, optional
    split_every : int, default=8

    Returns
    -------
    list
        Item ids (plain Python values).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from weaklab import LabelMatrix, PartitionedLabelMatrix
    >>> from weaklab.models import MajorityVote
    >>> votes = PartitionedLabelMatrix.write(tempfile.mkdtemp(), [LabelMatrix(np.array([[0, 0], [0, 1]])),
    ...                                                           LabelMatrix(np.array([[1, -1], [0, 1]]))])
    >>> soft = MajorityVote().fit(votes).predict_proba(votes)
    >>> query_partitioned(soft, 2, answered={0: np.array([1])})   # item 1 (a tie) was answered
    [3, 0]
    """
    dask = import_dask()
    n = check_int("query.n", n, low=1)
    answered = dict(answered or {})
    holdout = frame is not None and config is not None and config.get("data", "gold_column") is not None
    names = config.class_names if config is not None else None
    tasks = []
    for i in range(proba.n_partitions):
        data = frame.partitions[i].to_delayed()[0] if holdout else None
        tasks.append(dask.delayed(_partition_top)(proba, i, n, strategy, answered.get(i), data, config,
                                                  None if names is None else len(names)))

    def merge(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
        return _best(pd.concat([a, b], ignore_index=True), n)

    (table,) = dask.compute(tree_reduce(tasks, merge, split_every=split_every))
    return [v.item() if isinstance(v, np.generic) else v for v in table["item_id"]]


def _partition_top(proba: PartitionedSoftLabels, i: int, n: int, strategy: str, answered: np.ndarray | None,
                   data: pd.DataFrame | None, config: ProjectConfig | None, n_classes: int | None) -> pd.DataFrame:
    """The ``n`` most uncertain available items of partition ``i`` (runs on a worker)."""
    soft = proba.read_partition(i)
    available = np.ones(soft.proba.shape[0], dtype=bool)
    if answered is not None:
        available[np.asarray(answered, dtype=np.int64)] = False
    if data is not None and config is not None and len(data) == len(available):
        available &= ~dev_mask(config, data, gold_labels(config, data, n_classes))
    rows = np.flatnonzero(available)
    ids = soft.item_ids if soft.item_ids is not None else np.arange(len(available))
    table = pd.DataFrame({"item_id": ids[rows], "score": uncertainty(soft.proba[rows], measure=strategy),
                          "partition": np.full(rows.size, i, dtype=np.int64), "row": rows})
    return _best(table, n)


def _best(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` rows of highest score; ties by partition, then row (data order)."""
    order = np.lexsort((table["row"].to_numpy(), table["partition"].to_numpy(), -table["score"].to_numpy()))
    return table.iloc[order[:n]].reset_index(drop=True)
