"""Finding items of partitioned votes by id, reading only the partitions that may hold them.

Every votes partition file carries an ``item_id`` column. Its Parquet footer
records the smallest and largest id of each row group, so an id outside that
range is known to be elsewhere without reading a row. :class:`ItemLocator`
reads the footers once, then the id column of only those partitions whose
range holds a wanted id, partition after partition, until every id is found.
Ids that follow the data's order (sequential numbers, timestamps, sorted
keys) are therefore found by reading one partition's ids; ids in no order
(hashes) may need the id columns of every partition, one at a time, never
more than one partition in memory. Rows found are kept (at most
``max_kept``) so asking again reads nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .dataset_io import filesystem, join
from .partitioned import ITEM_ID, PartitionedLabelMatrix

__all__ = ["ItemLocator", "MAX_KEPT"]

#: Item rows an :class:`ItemLocator` keeps once found.
MAX_KEPT = 1_000_000


class ItemLocator:
    """Global rows of items of a :class:`PartitionedLabelMatrix`, by id (see the module docstring).

    Parameters
    ----------
    votes : PartitionedLabelMatrix
        The votes whose ``item_id`` columns index the items (in data order).
    max_kept : int, default=MAX_KEPT
        Found rows kept for later look-ups.

    Attributes
    ----------
    partitions_read : int
        Id columns of partitions read so far (footers not counted).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from weaklab import LabelMatrix
    >>> plm = PartitionedLabelMatrix.write(tempfile.mkdtemp(), [
    ...     LabelMatrix(np.array([[0], [1]]), item_ids=np.array([10, 11])),
    ...     LabelMatrix(np.array([[1], [0]]), item_ids=np.array([12, 13]))])
    >>> locator = ItemLocator(plm)
    >>> locator.rows_of(["13", "10", "99"]).tolist(), locator.partitions_read
    ([3, 0, -1], 2)
    """

    def __init__(self, votes: PartitionedLabelMatrix, *, max_kept: int = MAX_KEPT) -> None:
        self.votes = votes
        self.max_kept = max_kept
        self.partitions_read = 0
        self._offsets = votes.partition_offsets
        self._ranges: list[tuple[Any, Any] | None] | None = None
        self._integer_ids: bool | None = None
        self._kept: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def integer_ids(self) -> bool:
        """Whether the ids are integers (else text)."""
        self._read_footers()
        return bool(self._integer_ids)

    def rows_of(self, keys: Sequence[Any] | np.ndarray) -> np.ndarray:
        """The global rows of ``keys`` (ids, or their text), -1 for ids of no item."""
        text = [str(k.item() if isinstance(k, np.generic) else k) for k in keys]
        rows = np.full(len(text), -1, dtype=np.int64)
        with self._lock:
            missing: dict[str, list[int]] = {}
            for i, key in enumerate(text):
                found = self._kept.get(key)
                if found is None:
                    missing.setdefault(key, []).append(i)
                else:
                    rows[i] = found
        if missing:
            for key, row in self._search(list(missing)).items():
                rows[missing[key]] = row
        return rows

    def partition_of(self, row: int) -> tuple[int, int]:
        """``(partition, row within it)`` of a global row."""
        i = int(np.searchsorted(self._offsets, int(row), side="right") - 1)
        return i, int(row) - int(self._offsets[i])

    def remember(self, keys: Sequence[Any], rows: Sequence[int]) -> None:
        """Keep rows already known (read with their partition), so looking them up reads nothing."""
        with self._lock:
            for key, row in zip(keys, rows):
                self._kept[str(key.item() if isinstance(key, np.generic) else key)] = int(row)
            while len(self._kept) > self.max_kept:
                self._kept.popitem(last=False)

    # ------------------------------------------------------------------ search
    def _search(self, keys: list[str]) -> dict[str, int]:
        self._read_footers()
        wanted = {key: value for key in keys if (value := self._typed(key)) is not None}
        found: dict[str, int] = {}
        for i, bounds in enumerate(self._ranges or ()):
            if not wanted:
                break
            if self.votes.partition_rows[i] == 0:
                continue
            inside = [k for k, v in wanted.items() if bounds is None or bounds[0] <= v <= bounds[1]]
            if not inside:
                continue
            ids = pd.Index(self.votes.read_item_ids(i))
            self.partitions_read += 1
            where = ids.get_indexer([wanted[k] for k in inside])
            for key, pos in zip(inside, where):
                if pos >= 0:
                    found[key] = int(self._offsets[i]) + int(pos)
                    del wanted[key]
        self.remember(list(found), list(found.values()))
        return found

    def _typed(self, key: str) -> Any:
        if not self._integer_ids:
            return key
        try:
            return int(key)
        except ValueError:
            return None

    def _read_footers(self) -> None:
        """The smallest and largest id of every partition (None where the footer does not say)."""
        if self._ranges is not None:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        fs, base = filesystem(self.votes.root, self.votes.storage_options)
        ranges: list[tuple[Any, Any] | None] = []
        integer = None
        for relative, n_rows in zip(self.votes.partitions, self.votes.partition_rows):
            with fs.open(join(base, relative), "rb") as handle:
                meta = pq.ParquetFile(handle).metadata
            schema = meta.schema.to_arrow_schema()
            if integer is None:
                integer = pa.types.is_integer(schema.field(ITEM_ID).type)
            ranges.append(None if n_rows == 0 else _id_range(meta, schema.get_field_index(ITEM_ID)))
        self._integer_ids = bool(integer)
        self._ranges = ranges


def _id_range(meta: Any, column: int) -> tuple[Any, Any] | None:
    """Smallest and largest id over a file's row groups, None when a row group has no statistics."""
    low = high = None
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(column).statistics
        if stats is None or not stats.has_min_max:
            return None
        low = stats.min if low is None else min(low, stats.min)
        high = stats.max if high is None else max(high, stats.max)
    return None if low is None else (low, high)
