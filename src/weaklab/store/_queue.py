"""Review-queue slots: which items a queue served, in which round, and which were uniformly random checks.

A review queue (the dashboard's, ``weaklab annotate``, a Label Studio batch)
ranks items by uncertainty, so the answers to its picks are a biased sample
of the pool. A share of its slots is instead drawn uniformly at random from
the items then free to draw. Each served slot is recorded here, append-only,
under a round id (one per queue request: a batch, or one dashboard claim)
with whether it was a random check and how many items were free to draw
then: what a label model needs to weight every answer into an unbiased
sample of the pool (:func:`weaklab.active.round_draw_weights`). Answers link
to slots by item: a random check is drawn only from items nobody answered,
so the answers of an item drawn at random are the answers to that draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._core.validation import fail
from ._base import check_text, insert_columns
from ._db import utcnow
from ._rows import StoreBase, typed_id
from ._sql import VERSIONS_SQL

__all__ = ["QueueMixin"]


class QueueMixin(StoreBase):
    """``add_queue_slots``, ``queue_slots`` and ``queue_rounds``: the items review queues served, random checks
    marked."""

    def add_queue_slots(self, dataset_id: int, item_ids: Any, at_random: Any, *, pool_left: int, queue: str,
                        run_id: int | None = None) -> int:
        """Record the items one queue request served (a round), which of them were random checks.

        Parameters
        ----------
        dataset_id : int
            The dataset of the items.
        item_ids : array-like of shape (n,)
            The items served, in the order shown.
        at_random : array-like of shape (n,) of bool
            Which were drawn uniformly at random from the free items (the
            others a ranking chose).
        pool_left : int
            How many items were free to draw from (neither answered, skipped,
            held as gold nor claimed), >= the number drawn; 0 when none was drawn.
        queue : str
            The queue (``"review"``, ``"terminal"``, ``"label_studio"``).
        run_id : int, optional
            The run whose ranking served them.

        Returns
        -------
        int
            The round id (grows with every request, across queues).

        Raises
        ------
        ValidationError
            An unknown dataset, run or item, mismatched lengths, or
            ``pool_left`` below the number of random checks.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from weaklab.store import Store
        >>> with Store(pathlib.Path(tempfile.mkdtemp()) / "s.duckdb") as store:
        ...     ds = store.add_dataset("d", item_ids=["a", "b", "c", "d"])
        ...     first = store.add_queue_slots(ds, ["c", "a"], [False, True], pool_left=4, queue="terminal")
        ...     store.queue_slots(ds)[["item_id", "at_random", "pool_left"]].values.tolist()
        [['c', False, 4], ['a', True, 4]]
        """
        check_text("queue", queue)
        if run_id is not None:
            self._run_row(run_id)
        keys, rows = self._item_rows(int(dataset_id), item_ids, "item_ids")
        drawn = np.asarray(at_random, dtype=bool).reshape(-1)
        if drawn.shape[0] != len(keys):
            raise fail("at_random", f"{len(keys)} flags (one per item)", got_text=f"{drawn.shape[0]}")
        if isinstance(pool_left, bool) or not isinstance(pool_left, (int, np.integer)) or pool_left < drawn.sum():
            raise fail("pool_left", f"an integer >= {int(drawn.sum())} (the random checks drawn)", pool_left)
        n = len(keys)
        with self._transaction(counted=False) as con:  # nothing shown changes: caches keyed on the stamp stay
            round_id = con.execute("SELECT nextval('seq_queue_round')").fetchall()[0][0]
            if n:
                insert_columns(con, "queue_slots", dict(
                    round_id=np.full(n, int(round_id), dtype=np.int64), dataset_id=np.full(n, int(dataset_id)),
                    item_key=pa.array(keys, pa.string()), row=np.asarray(rows, dtype=np.int64),
                    slot=np.arange(n, dtype=np.int64), queue=[queue] * n, run_id=pa.array([run_id] * n, pa.int64()),
                    at_random=drawn, pool_left=np.full(n, int(pool_left), dtype=np.int64),
                    created_at=[utcnow()] * n))
        return int(round_id)

    def queue_rounds(self, dataset_id: int) -> int:
        """How many rounds (queue requests) served slots of any version of the dataset: one count, no rows read.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from weaklab.store import Store
        >>> with Store(pathlib.Path(tempfile.mkdtemp()) / "s.duckdb") as store:
        ...     ds = store.add_dataset("d", item_ids=["a", "b"])
        ...     _ = store.add_queue_slots(ds, ["a", "b"], [False, True], pool_left=2, queue="terminal")
        ...     store.queue_rounds(ds)
        1
        """
        ds = int(dataset_id)
        self._dataset_row(ds)
        rows = self._query(f"SELECT COUNT(DISTINCT round_id) FROM queue_slots WHERE dataset_id IN ({VERSIONS_SQL})",
                           [ds])
        return int(rows[0][0])

    def queue_slots(self, dataset_id: int) -> pd.DataFrame:
        """Every slot review queues served on any version of the dataset, oldest first.

        Returns
        -------
        pandas.DataFrame
            ``round_id, dataset_id, item_id, slot`` (position in its round),
            ``queue, run_id, at_random, pool_left, created_at``; only the
            items this version holds. Empty for a store whose queues served
            no slot yet (answers given before queues recorded slots have none).
        """
        ds = int(dataset_id)
        self._dataset_row(ds)
        partitioned = self._item_locator(ds)  # items in Parquet (a Dask run's dataset): no items table
        held = "" if partitioned is not None else "AND item_key IN (SELECT item_key FROM items WHERE dataset_id = ?) "
        frame = self._frame(
            "SELECT round_id, dataset_id, item_key AS item_id, slot, queue, run_id, at_random, pool_left, created_at "
            f"FROM queue_slots WHERE dataset_id IN ({VERSIONS_SQL}) {held}ORDER BY round_id, slot",
            [ds] if partitioned is not None else [ds, ds])
        if partitioned is not None and len(frame):  # those the dataset's partitions hold
            frame = frame[partitioned.rows_of(frame["item_id"].tolist()) >= 0].reset_index(drop=True)
        if len(frame):
            dtype = str(self._dataset_row(ds)[2])
            frame["item_id"] = [typed_id(k, dtype) for k in frame["item_id"]]
        return frame
