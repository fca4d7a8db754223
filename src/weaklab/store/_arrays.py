"""Content-addressed Parquet files beside the DuckDB file.

Every array file is named by a fingerprint of its content
(``arrays/<fingerprint>.parquet``), written to a temporary file in the same
folder, flushed to disk and atomically renamed. A crash leaves either no file
or a whole one; a file that no record names (an orphan of a crash) is harmless
and rewritten when the same content is stored again.

Tables that hold per-item data carry an ascending ``row`` column (the item's
dataset row) and are cut into small row groups, so the rows of one item are
found from the row groups' min/max statistics and read without touching the
rest of the file.
"""

from __future__ import annotations

import bisect
import os
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import StoreError

__all__ = ["ArrayFolder", "ArrayInfo", "row_array", "rows_per_group"]

_CACHE_SIZE = 64


@dataclass(frozen=True)
class ArrayInfo:
    """Name, rows and bytes of one stored array file."""

    name: str
    n_rows: int
    n_bytes: int


@dataclass(frozen=True)
class _RowIndex:
    metadata: pq.FileMetaData
    starts: list[int]
    ends: list[int]


class ArrayFolder:
    """The ``arrays/`` folder of a store.

    Parameters
    ----------
    root : Path
        The folder (created on the first write).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._index: OrderedDict[str, _RowIndex] = OrderedDict()

    def path(self, name: str) -> Path:
        """Path of the array file ``name``."""
        return self.root / f"{name}.parquet"

    def has(self, name: str, n_bytes: int) -> bool:
        """True when the file exists with the size its record gives."""
        try:
            return self.path(name).stat().st_size == n_bytes
        except OSError:
            return False

    def write(self, name: str, table: pa.Table, *, row_group_size: int | None = None) -> ArrayInfo:
        """Write ``table`` atomically as ``name`` (zstd-compressed Parquet)."""
        target = self.path(name)
        with self._lock:
            self._index.pop(name, None)
        tmp = self.root / f".tmp-{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, tmp, compression="zstd", row_group_size=row_group_size,
                           write_statistics=["row"] if "row" in table.column_names else False)
            _fsync(tmp)
            os.replace(tmp, target)
            _fsync_dir(self.root)
            n_bytes = target.stat().st_size
        except (OSError, pa.ArrowException) as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"array file {target}: cannot be written ({exc})") from None
        return ArrayInfo(name, table.num_rows, n_bytes)

    def read(self, name: str, n_bytes: int | None = None) -> pa.Table:
        """Read the whole file ``name``, checking its size against the record."""
        path = self._checked(name, n_bytes)
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise _corrupt(path, exc) from None

    def read_rows(self, name: str, row: int, n_bytes: int | None = None) -> pa.Table:
        """The records of dataset row ``row`` (the file must have a sorted ``row`` column)."""
        path = self._checked(name, n_bytes)
        index = self._row_index(name, path)
        first = bisect.bisect_left(index.ends, row)
        groups = [g for g in range(first, len(index.starts)) if index.starts[g] <= row <= index.ends[g]]
        if not groups:
            return _empty_like(index.metadata)
        try:
            table = pq.ParquetFile(path, metadata=index.metadata).read_row_groups(groups)
        except (OSError, pa.ArrowException) as exc:
            raise _corrupt(path, exc) from None
        rows = table.column("row").to_numpy()
        return table.filter(pa.array(rows == row))

    def _checked(self, name: str, n_bytes: int | None) -> Path:
        path = self.path(name)
        try:
            size = path.stat().st_size
        except OSError:
            raise StoreError(f"array file {path}: missing (the arrays folder is incomplete)") from None
        if n_bytes is not None and size != n_bytes:
            raise StoreError(
                f"array file {path}: {size} bytes on disk, {n_bytes} recorded (truncated or modified)"
            )
        return path

    def _row_index(self, name: str, path: Path) -> _RowIndex:
        with self._lock:
            index = self._index.get(name)
            if index is not None:
                self._index.move_to_end(name)
                return index
        index = _build_row_index(path)
        with self._lock:
            self._index[name] = index
            while len(self._index) > _CACHE_SIZE:
                self._index.popitem(last=False)
        return index


def _build_row_index(path: Path) -> _RowIndex:
    try:
        metadata = pq.read_metadata(path)
        col = metadata.schema.to_arrow_schema().get_field_index("row")
        starts, ends = [], []
        for g in range(metadata.num_row_groups):
            stats = metadata.row_group(g).column(col).statistics
            if stats is None or not stats.has_min_max:
                raise StoreError(f"array file {path}: row group {g} has no row statistics")
            starts.append(int(stats.min))
            ends.append(int(stats.max))
    except (OSError, pa.ArrowException) as exc:
        raise _corrupt(path, exc) from None
    return _RowIndex(metadata, starts, ends)


def _empty_like(metadata: pq.FileMetaData) -> pa.Table:
    return metadata.schema.to_arrow_schema().empty_table()


def _corrupt(path: Path, exc: BaseException) -> StoreError:
    return StoreError(f"array file {path}: corrupt or truncated Parquet ({exc})")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def rows_per_group(n_columns: int, cells: int = 1 << 16) -> int:
    """Rows per row group so that one group holds about ``cells`` values."""
    return int(max(1024, cells // max(1, n_columns)))


def row_array(rows: np.ndarray) -> pa.Array:
    """The ``row`` column: int32 when it fits, int64 otherwise."""
    small = rows.size == 0 or int(rows.max()) < np.iinfo(np.int32).max
    return pa.array(rows.astype(np.int32 if small else np.int64, copy=False))
