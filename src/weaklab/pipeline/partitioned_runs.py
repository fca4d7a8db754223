"""A run on the Dask engine read back a page at a time: its items, texts, posteriors and review candidates.

Such a run keeps its votes and soft labels in Parquet partitions and its data
in the project's data file (recorded by reference,
:meth:`~weaklab.store.Store.add_partitioned_dataset`). Everything here reads
only the partitions it needs, one at a time, so memory is bounded by one
partition whatever the size of the data:

* :func:`review_candidates` scores each soft-label partition in turn and
  keeps the ``limit`` most uncertain items (a bounded merge);
* :func:`partitioned_posteriors` reads the soft labels of only the partitions
  holding the items asked for;
* :class:`DataRows` reads rows of the data file: for Parquet only the row
  groups holding them, for CSV/TSV only the byte block of their partition
  (the same blocks the Dask engine read);
* :func:`final_label_pages` gives every item's final label a partition at a
  time (what ``weaklab export`` writes).
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._core.dataset_io import filesystem
from .._core.partitioned import ITEM_ID, proba_columns
from .._core.validation import check_int, fail
from ..errors import WeaklabError
from ..store import Store
from .dask_gold import read_gold_items, run_gold_record

__all__ = ["DataRows", "PartitionedTexts", "REVIEW_CANDIDATES", "draw_free_items", "final_label_pages",
           "is_partitioned_run", "partitioned_posteriors", "review_candidates"]

#: Items of a distributed run the review queue keeps (the most uncertain, merged partition by partition).
REVIEW_CANDIDATES = 4096
#: Partitions (or row groups) of the data file :class:`DataRows` keeps in memory.
KEPT_CHUNKS = 2


def is_partitioned_run(store: Store, run_id: int) -> bool:
    """Whether a run keeps its votes in Parquet partitions (a run on the Dask engine)."""
    return "votes" in store.partitioned(run_id)


def review_candidates(store: Store, run_id: int, strategy: str = "least_confidence", *,
                      limit: int = REVIEW_CANDIDATES) -> tuple[np.ndarray, np.ndarray]:
    """The ``limit`` most uncertain items of a distributed run, most uncertain first, with their soft labels.

    Each soft-label partition is read and scored in turn
    (:func:`weaklab.active.uncertainty`); the best ``limit`` so far are kept,
    so memory is one partition plus a few ``limit`` rows. Ties keep data
    order, as the local engine's ranking does. The items the run found holding
    gold (:mod:`~weaklab.pipeline.dask_gold`) and those whose gold fed its
    fit (``[data].fit_gold``, as the store recorded them) are counted apart: the ``limit``
    most uncertain items without gold and the ``limit`` most uncertain with
    gold (for the queue that offers gold items too) are kept, in ranking
    order, so a queue that leaves gold out still has ``limit`` items to offer.
    The rows of the kept items are noted in the store
    (:meth:`~weaklab.store.Store.remember_item_rows`), so claiming and
    answering them reads no partition.

    Returns
    -------
    item_ids : ndarray of shape (n,)
    proba : ndarray of shape (n, k)

    Examples
    --------
    >>> ids, proba = review_candidates(store, run_id, limit=100)    # doctest: +SKIP
    """
    from ..active import uncertainty

    limit = check_int("limit", limit, low=1)
    soft = store.open_partitioned(run_id, "soft_labels")
    gold_rows = _gold_rows(store, run_id)
    columns, offset = proba_columns(soft.n_classes), 0
    ids: np.ndarray | None = None
    proba, scores, rows = np.empty((0, soft.n_classes)), np.empty(0), np.empty(0, dtype=np.int64)
    for i in range(soft.n_partitions):
        frame = soft.read_frame(i)
        part = frame[columns].to_numpy(dtype=float)
        ids_i = frame[ITEM_ID].to_numpy()
        all_ids = ids_i if ids is None else np.concatenate([ids, ids_i])
        proba = np.concatenate([proba, part])
        scores = np.concatenate([scores, uncertainty(part, measure=strategy)])
        rows = np.concatenate([rows, offset + np.arange(len(part), dtype=np.int64)])
        keep = _best_apart(scores, rows, np.isin(rows, gold_rows), limit)
        ids, proba, scores, rows = all_ids[keep], proba[keep], scores[keep], rows[keep]
        offset += soft.partition_rows[i]
    ids = np.asarray([] if ids is None else ids)
    store.remember_item_rows(int(store.run(run_id)["dataset_id"]), ids, rows)
    return ids, proba


def _gold_rows(store: Store, run_id: int) -> np.ndarray:
    """Rows of the items a distributed run found holding dev gold, and of those whose gold fed its fit."""
    record = run_gold_record(store, run_id)
    gold_rows = read_gold_items(record)[1] if record is not None else np.empty(0, dtype=np.int64)
    return np.union1d(gold_rows, store.fit_gold(run_id)["row"].to_numpy(dtype=np.int64))  # [data].fit_gold


def draw_free_items(store: Store, run_id: int, n: int, taken: Sequence[Any],
                    random_state: Any = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Items drawn uniformly at random from every free item of a distributed run: the queues' random checks.

    Free: every item of the run's soft labels but those holding gold (dev
    gold, fit gold) and those in ``taken`` (answered, skipped or claimed).
    The client holds only the rows left out (located through the store's id
    index, :meth:`~weaklab.store.Store.locate_items`) and reads only the
    soft-label partitions of the drawn items, whose rows it notes in the
    store (:meth:`~weaklab.store.Store.remember_item_rows`).

    Plain-loop specification::

        free = [r for r in range(n_items) if r not in left_out]
        rows = rng.choice(free, size=min(n, len(free)), replace=False)

    Parameters
    ----------
    store : Store
    run_id : int
        A run on the Dask engine.
    n : int
        Items to draw (fewer when fewer are free).
    taken : sequence
        Item ids not to draw (the dataset's ids).
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    item_ids : ndarray of shape (d,)
    proba : ndarray of shape (d, k)
        Their soft labels.
    n_free : int
        How many items were free to draw from.
    """
    from .._core.validation import check_random_state

    n = check_int("n", n, low=0)
    rng = check_random_state(random_state)
    soft = store.open_partitioned(run_id, "soft_labels")
    dataset_id = int(store.run(run_id)["dataset_id"])
    located = store.locate_items(dataset_id, list(taken)) if len(taken) else None
    left_out = _gold_rows(store, run_id)
    if located is not None:
        left_out = np.union1d(left_out, located[located >= 0])
    left_out = left_out[(left_out >= 0) & (left_out < soft.n_items)]
    n_free = soft.n_items - int(left_out.size)
    ranks = np.sort(rng.choice(n_free, size=min(n, n_free), replace=False)) if n_free > 0 else np.empty(0, int)
    rows = ranks + np.searchsorted(left_out - np.arange(left_out.size), ranks, side="right")  # k-th free row
    ids, proba = _rows_of_partitions(soft, rows)
    if len(rows):
        store.remember_item_rows(dataset_id, ids, rows)
    order = rng.permutation(len(rows))  # drawn order, not row order
    return ids[order], proba[order], n_free


def _rows_of_partitions(soft: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ids and soft labels of sorted global ``rows``, reading only their partitions."""
    columns, offsets = proba_columns(soft.n_classes), np.cumsum([0, *soft.partition_rows])
    ids: list[Any] = []
    proba = np.empty((0, soft.n_classes))
    parts = np.searchsorted(offsets, rows, side="right") - 1
    for i in np.unique(parts).tolist():
        frame = soft.read_frame(int(i))
        local = rows[parts == i] - offsets[i]
        ids.extend(frame[ITEM_ID].to_numpy()[local].tolist())
        proba = np.concatenate([proba, frame[columns].to_numpy(dtype=float)[local]])
    return np.asarray(ids), proba


def _best_apart(scores: np.ndarray, rows: np.ndarray, gold: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the ``limit`` best items without gold and the ``limit`` best with gold, in ranking order."""
    order = np.lexsort((rows, -scores))
    if not gold.any():
        return order[:limit]
    held = gold[order]
    return order[np.where(held, np.cumsum(held), np.cumsum(~held)) <= limit]


def partitioned_posteriors(store: Store, run_id: int, item_ids: Any) -> np.ndarray:
    """Soft labels of some items of a distributed run, reading only the partitions that hold them.

    Returns
    -------
    ndarray of shape (n, k)
        NaN rows for ids the run's dataset does not hold.
    """
    soft = store.open_partitioned(run_id, "soft_labels")
    ids = np.asarray(item_ids, dtype=object)
    out = np.full((len(ids), soft.n_classes), np.nan)
    rows = store.locate_items(int(store.run(run_id)["dataset_id"]), ids)
    if rows is None or not len(ids):
        return out
    offsets = np.concatenate([[0], np.cumsum(soft.partition_rows)])
    part = np.searchsorted(offsets, rows, side="right") - 1
    for i in np.unique(part[rows >= 0]):
        frame = soft.read_frame(int(i))[proba_columns(soft.n_classes)].to_numpy(dtype=float)
        mine = np.flatnonzero((part == i) & (rows >= 0))
        out[mine] = frame[rows[mine] - offsets[i]]
    return out


def final_label_pages(store: Store, run_id: int) -> Iterator[pd.DataFrame]:
    """Every item's final label in a Dask run, one page per partition, in data order.

    Each page has the columns of :meth:`~weaklab.store.Store.final_labels`
    (``item_id, label, class, label_from, n_votes, p_<class>``) by the same
    rule: the label model's class, or on an item no source voted on the end
    model's (when the run trained one, its ``"end_model"`` partitions), unless
    a person gave the item one (a correction, or a human answer, which wins;
    :meth:`~weaklab.store.Store.final_label_overrides`). Only one partition
    of soft labels and votes is in memory at a time.

    Raises
    ------
    ValidationError
        When the run keeps no soft labels, or its soft labels and votes are not
        partitioned alike (their folders were edited since the run).

    Examples
    --------
    >>> for page in final_label_pages(store, run_id):      # doctest: +SKIP
    ...     page.to_csv("labels.csv", mode="a", index=False)
    """
    parts = store.partitioned(run_id)
    if "soft_labels" not in parts:
        raise fail("run_id", "a Dask run that labelled its items (its soft labels)",
                   got_text=f"run {run_id}, which recorded none (it stopped before the label model)")
    soft, votes = store.open_partitioned(run_id, "soft_labels"), store.open_partitioned(run_id, "votes")
    if tuple(soft.partition_rows) != tuple(votes.partition_rows):
        raise fail("run_id", "a run whose soft labels and votes have the same partitions",
                   got_text=f"run {run_id}: {soft.n_partitions} soft-label partitions of {sum(soft.partition_rows)} "
                            f"items, {votes.n_partitions} vote partitions of {sum(votes.partition_rows)} items")
    end = store.open_partitioned(run_id, "end_model") if "end_model" in parts else None
    if end is not None and tuple(end.partition_rows) != tuple(soft.partition_rows):
        end = None  # edited since the run: the label model's class stands (the export's end_p columns say why)
    names = store.run_class_names(run_id)
    overrides = store.final_label_overrides(run_id)
    by_key = pd.Index(overrides["item_id"].astype(str))
    table = np.array([*(names or []), None], dtype=object)  # class names, None for no label or no names
    headers = names if names is not None and len(names) == soft.n_classes else range(soft.n_classes)
    for i in range(soft.n_partitions):
        frame = soft.read_frame(i)
        proba = frame[proba_columns(soft.n_classes)].to_numpy(dtype=float)
        labels = np.argmax(proba, axis=1).astype(np.int64)
        origin = np.full(len(labels), "label_model", dtype=object)
        n_votes = votes.read_partition(i).votes_per_item().astype(np.int64)
        if end is not None and (n_votes == 0).any():  # the end model reads the items no source voted on
            unvoted = n_votes == 0
            labels[unvoted] = np.argmax(end.read_partition(i).proba[unvoted], axis=1)
            origin[unvoted] = "end_model"
        if len(by_key):  # the few items a person labelled, found by their store keys (strings)
            at = by_key.get_indexer(frame[ITEM_ID].astype(str))
            hit = at >= 0
            labels[hit] = overrides["label"].to_numpy()[at[hit]]
            origin[hit] = overrides["label_from"].to_numpy()[at[hit]]
        page = pd.DataFrame({"item_id": frame[ITEM_ID].to_numpy(), "label": labels,
                             "class": table[np.where((labels >= 0) & (labels < len(table) - 1), labels, -1)],
                             "label_from": origin, "n_votes": n_votes})
        for j, name in enumerate(headers):
            page[f"p_{name}"] = proba[:, j]
        yield page


class DataRows:
    """Rows of a partitioned dataset's data file, read a partition (CSV) or a row group (Parquet) at a time.

    Parameters
    ----------
    record : dict
        The dataset's :meth:`~weaklab.store.Store.partitioned_dataset` record.

    Attributes
    ----------
    chunks_read : int
        Partitions or row groups read so far.
    """

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record
        self.chunks_read = 0
        self._kept: OrderedDict[int, pd.DataFrame] = OrderedDict()
        self._bounds: np.ndarray | None = None
        self._file: Any = None

    def column(self, rows: Sequence[int], name: str) -> list[Any]:
        """The values of column ``name`` on global ``rows`` (None where a row is outside the file)."""
        bounds = self._chunk_bounds()
        out: list[Any] = [None] * len(rows)
        wanted = np.asarray(rows, dtype=np.int64)
        chunk = np.searchsorted(bounds, wanted, side="right") - 1
        for c in np.unique(chunk[(wanted >= 0) & (wanted < bounds[-1])]):
            frame = self._chunk(int(c))
            for pos in np.flatnonzero(chunk == c):
                value = frame[name].iloc[int(wanted[pos] - bounds[c])]
                out[pos] = None if _empty(value) else value
        return out

    def column_range(self, start: int, stop: int, name: str) -> list[Any]:
        """The values of column ``name`` on the global rows ``start`` to ``stop`` (a whole page, read by chunk)."""
        bounds = self._chunk_bounds()
        if start < 0 or stop > bounds[-1] or start > stop:
            raise fail("rows", f"a range within the data file's {int(bounds[-1])} rows", got_text=f"{start}..{stop}")
        out: list[Any] = []
        for c in range(int(np.searchsorted(bounds, start, side="right") - 1), len(bounds) - 1):
            if bounds[c] >= stop:
                break
            values = self._chunk(c)[name].iloc[max(start - bounds[c], 0): stop - bounds[c]]
            out += [None if _empty(v) else v for v in values.tolist()]
        return out

    def _chunk_bounds(self) -> np.ndarray:
        if self._bounds is None:
            if self.record["format"] == "parquet":
                sizes = [self._parquet().metadata.row_group(g).num_rows
                         for g in range(self._parquet().metadata.num_row_groups)]
            else:
                sizes = list(self.record["layout"]["partition_rows"])
            self._bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return self._bounds

    def _chunk(self, c: int) -> pd.DataFrame:
        if c in self._kept:
            self._kept.move_to_end(c)
            return self._kept[c]
        columns = [n for n in (self.record.get("text_column"), self.record.get("image_column")) if n]
        frame = self._parquet().read_row_group(c, columns=columns).to_pandas() \
            if self.record["format"] == "parquet" else self._csv_block(c, columns)
        self.chunks_read += 1
        self._kept[c] = frame
        while len(self._kept) > KEPT_CHUNKS:
            self._kept.popitem(last=False)
        return frame

    def _parquet(self) -> Any:
        import pyarrow.parquet as pq

        if self._file is None:  # the footer is read once; row groups are read from the open file when asked
            fs, path = filesystem(self.record["location"])
            self._file = pq.ParquetFile(fs.open(path, "rb"))
        return self._file

    def _csv_block(self, c: int, columns: list[str]) -> pd.DataFrame:
        """Partition ``c`` of a CSV/TSV file: the Dask engine's byte block ``c`` (whole lines)."""
        from dask.bytes import read_bytes

        layout = self.record["layout"]
        size, sep = int(layout["blocksize"]), str(layout.get("sep", ","))
        fs, path = filesystem(self.record["location"])
        with fs.open(path, "rb") as handle:
            header = handle.readline()
        # the blocks exactly as dd.read_csv split the file (dask's own offsets), then only block c is read
        _, blocks = read_bytes(self.record["location"], delimiter=b"\n", blocksize=size, sample=False)
        block = blocks[0][c].compute(scheduler="sync")
        names = list(pd.read_csv(io.BytesIO(header), sep=sep, nrows=0).columns)
        frame = pd.read_csv(io.BytesIO(block), sep=sep, header=0 if c == 0 else None, names=None if c == 0 else names,
                            usecols=columns, keep_default_na=False, na_values=[""], dtype=object)
        expected = int(layout["partition_rows"][c])
        if len(frame) != expected:
            raise fail("location", f"the data file the run read ({expected} rows in partition {c})",
                       got_text=f"{len(frame)} rows there (the file changed since the run)")
        return frame


def _empty(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


class PartitionedTexts:
    """The texts of a partitioned dataset's items, read from their partition of the data file when asked.

    Parameters
    ----------
    store : Store
    dataset_id : int
        A dataset with a :meth:`~weaklab.store.Store.partitioned_dataset` record.

    Attributes
    ----------
    reason : str or None
        Why no texts are available (no text column, the file cannot be read).
    """

    def __init__(self, store: Store, dataset_id: int) -> None:
        self.store, self.dataset_id = store, int(dataset_id)
        record = store.partitioned_dataset(self.dataset_id)
        if record is None:
            raise fail("dataset_id", "a partitioned dataset", dataset_id)
        self.rows = DataRows(record)
        self.column = record.get("text_column")
        self.reason: str | None = None if self.column else "the dataset records no text column"

    def get(self, item_id: Any) -> str | None:
        """The item's text, or None when unknown."""
        if not self.column or self.reason is not None:
            return None
        found = self.store.locate_items(self.dataset_id, [item_id])
        if found is None or found[0] < 0:
            return None
        try:
            value = self.rows.column([int(found[0])], self.column)[0]
        except (WeaklabError, OSError, ValueError, KeyError) as exc:
            self.reason = str(exc).splitlines()[0]
            return None
        return None if value is None else str(value)
