"""The connection, locking and helper layer shared by the Store's parts."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from .._core.hashing import fingerprint
from .._core.state import to_jsonable
from .._core.validation import check_bool, check_float, fail
from ..errors import StoreError
from ._arrays import ArrayFolder, ArrayInfo
from ._db import connect, store_error, utcnow
from ._flock import StoreLock
from ._lease import SharedFile, shared_file
from ._sql import VERSIONS_SQL
from .paths import DEFAULT_PATH

__all__ = ["StoreConnection", "DEFAULT_PATH", "DEFAULT_TIMEOUT"]

_COUNT_CHANGE = ("INSERT INTO schema_info VALUES ('changes', '1') ON CONFLICT (key) DO UPDATE SET "
                 "value = CAST(CAST(schema_info.value AS BIGINT) + 1 AS VARCHAR)")
#: Seconds a Store waits by default for another process to let go of the file.
DEFAULT_TIMEOUT = 10.0


class StoreConnection:
    """Connection handling: short read and write leases on a connection shared by the process's Stores."""

    def __init__(self, path: Any = None, *, read_only: bool = False, timeout: float = DEFAULT_TIMEOUT) -> None:
        read_only = check_bool("read_only", read_only)
        timeout = check_float("timeout", timeout, low=0.0)
        if path is not None and not isinstance(path, (str, Path)):
            raise fail("path", "a path to the store's DuckDB file (str or Path) or None", path)
        self.path = Path(path) if path is not None else Path.cwd() / DEFAULT_PATH
        self.read_only = read_only
        self.timeout = timeout
        if not read_only:
            _make_parent(self.path)
        elif not self.path.exists():
            raise StoreError(f"store {self.path}: no such file (a read-only store must exist)")
        self._shared: SharedFile | None = shared_file(self.path, _opener)
        try:
            with self._lease(write=not read_only):
                pass  # opens (creating or migrating the file) and checks the schema now
        except BaseException:
            self.close()
            raise
        self.arrays = ArrayFolder(self.path.parent / "arrays")
        self._write_lock = self._shared.write_lock
        # facts about immutable records (array sizes, an application's sources, item keys), safe to keep
        self._cache: dict[tuple[str, Any], Any] = {}
        self._index_lock = threading.Lock()
        try:
            self._after_open()
        except BaseException:
            self.close()
            raise

    def _after_open(self) -> None:
        """Checks a subclass runs once the store is open (e.g. runs whose process died)."""

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close this Store; the file lock is released once no other Store of the process uses the file."""
        shared, self._shared = self._shared, None
        if shared is not None:
            shared.store_closed()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._shared is None

    def __enter__(self) -> StoreConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "closed" if self.closed else ("read-only" if self.read_only else "read-write")
        return f"Store({str(self.path)!r}, {mode})"

    # ------------------------------------------------------------------ leases and transactions
    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[StoreConnection]:
        """Keep the file open across several operations (one open instead of one per operation).

        The store opens its DuckDB file only while an operation runs (and
        briefly after), so other processes can read and write between
        operations. Inside ``session()`` the file stays open: other processes
        can still read it, unless ``write=True``, which holds the write lock
        for the whole block (use it for short batches of writes only).

        Parameters
        ----------
        write : bool, default=False
            Open the file for writing for the whole block.

        Examples
        --------
        >>> with Store(path).session() as store:    # doctest: +SKIP
        ...     runs = store.runs()
        ...     story = store.explain(item_id)
        """
        if write and self.read_only:
            raise StoreError(f"store {self.path}: opened read-only; open it with read_only=False to write")
        with self._lease(write=write):
            yield self

    @contextmanager
    def _lease(self, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        shared = self._shared
        if shared is None:
            raise StoreError(f"store {self.path}: closed")
        cursor = shared.acquire(write, self.timeout, writer=not self.read_only)
        committed = False
        try:
            yield cursor
            committed = write
        finally:
            shared.release(wrote=committed)

    def change_stamp(self) -> int:
        """A number that grows with every committed change of the store's records, by any process.

        Every write transaction (except review claims, which are leases and
        not records) increments it, so caches of what was read from the store
        stay valid while it is unchanged. One small query.

        Returns
        -------
        int

        Examples
        --------
        >>> before = store.change_stamp()                  # doctest: +SKIP
        >>> store.add_alert(None, "note", "checked")       # doctest: +SKIP
        >>> store.change_stamp() > before                  # doctest: +SKIP
        True
        """
        rows = self._query("SELECT value FROM schema_info WHERE key = 'changes'")
        return int(rows[0][0]) if rows else 0

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lease() as cursor:
                return cursor.execute(sql, list(params)).fetchall()
        except duckdb.Error as exc:
            raise store_error(self.path, exc) from None

    def _query_with_names(self, sql: str,
                          params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        try:
            with self._lease() as cursor:
                result = cursor.execute(sql, list(params))
                rows = result.fetchall()
                names = [d[0] for d in result.description or ()]
        except duckdb.Error as exc:
            raise store_error(self.path, exc) from None
        return names, rows

    def _frame(self, sql: str, params: Sequence[Any] = (), *, json_columns: Sequence[str] = ()) -> pd.DataFrame:
        """The query's rows as a DataFrame; ``json_columns`` (JSON text in the store) decoded with :func:`loads`."""
        try:
            with self._lease() as cursor:
                frame = cursor.execute(sql, list(params)).df()
        except duckdb.Error as exc:
            raise store_error(self.path, exc) from None
        for column in json_columns:
            frame[column] = [loads(v) for v in frame[column]]
        return frame

    def _dataset_rows(self, table: str, order: str, dataset_id: int, item_id: Any,
                      json_columns: Sequence[str]) -> pd.DataFrame:
        """Every row of ``table`` on any version of the dataset (one item's with ``item_id``), ordered by ``order``."""
        where = f"dataset_id IN ({VERSIONS_SQL})"
        params: list[Any] = [check_id("dataset_id", dataset_id)]
        if item_id is not None:
            where += " AND item_key = ?"
            params.append(str(item_id.item() if isinstance(item_id, np.generic) else item_id))
        return self._frame(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}", params, json_columns=json_columns)

    @contextmanager
    def _transaction(self, *, counted: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """Serialise writers of this process and run the block in one DuckDB transaction.

        ``counted``: the block changes records, so it increments the change stamp.
        """
        if self.read_only:
            raise StoreError(f"store {self.path}: opened read-only; open it with read_only=False to write")
        with self._lease(write=True) as cursor, self._write_lock:
            try:
                cursor.execute("BEGIN TRANSACTION")
            except duckdb.Error as exc:
                raise store_error(self.path, exc) from None
            try:
                yield cursor
                if counted:
                    cursor.execute(_COUNT_CHANGE)
                cursor.execute("COMMIT")
            except duckdb.Error as exc:
                _rollback(cursor)
                raise store_error(self.path, exc) from None
            except BaseException:
                _rollback(cursor)
                raise

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, table: str, seq: str, id_col: str,
                values: dict[str, Any]) -> int:
        """Insert one row with a fresh id from ``seq``; return the id."""
        cols = ", ".join([id_col, *values])
        marks = ", ".join(["nextval(?)", *("?" for _ in values)])
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks}) RETURNING {id_col}"  # names are constants
        rows = con.execute(sql, [f"seq_{seq}", *values.values()]).fetchall()
        return int(rows[0][0])

    # ------------------------------------------------------------------ arrays
    def _put_array(self, con: duckdb.DuckDBPyConnection, kind: str, key: str,
                   table: pa.Table | Callable[[], pa.Table], row_group_size: int | None = None) -> str:
        """Store ``table`` under a content name derived from ``key``; record it; return the name.

        An array already recorded with an intact file is kept; a missing or
        damaged one is written again (so recording the same content heals it).
        ``table`` may be a function building it, called only when it is written.
        """
        name = fingerprint("weaklab-array", kind, key)
        known = con.execute("SELECT n_bytes FROM arrays WHERE name = ?", [name]).fetchall()
        if known and self.arrays.has(name, int(known[0][0])):
            return name
        if callable(table):
            table = table()
        info: ArrayInfo = self.arrays.write(name, table, row_group_size=row_group_size)
        self._cache[("bytes", name)] = info.n_bytes
        con.execute("DELETE FROM arrays WHERE name = ?", [name])
        con.execute("INSERT INTO arrays VALUES (?, ?, ?, ?, ?)",
                    [name, kind, info.n_rows, info.n_bytes, utcnow()])
        return name

    def _array_bytes(self, name: str) -> int | None:
        cached = self._cache.get(("bytes", name))
        if cached is not None:
            return int(cached)
        rows = self._query("SELECT n_bytes FROM arrays WHERE name = ?", [name])
        if not rows:
            raise StoreError(f"store {self.path}: array {name} is named by a record but not registered")
        self._cache[("bytes", name)] = int(rows[0][0])
        return int(rows[0][0])

    def _read_array(self, name: str) -> pa.Table:
        return self.arrays.read(name, self._array_bytes(name))

    def _read_array_row(self, name: str, row: int) -> pa.Table:
        return self.arrays.read_rows(name, row, self._array_bytes(name))

    # ------------------------------------------------------------------ lookups
    def _one(self, sql: str, params: Sequence[Any], what: str, value: Any) -> tuple[Any, ...]:
        rows = self._query(sql, params)
        if not rows:
            noun = what.removesuffix("_id").replace("_", " ")
            hint = " (`weaklab runs` lists them)" if what == "run_id" else ""
            raise fail(what, f"the id of a {noun} in this store{hint}", value)
        return rows[0]


def check_id(name: str, value: Any) -> int:
    """Check a record id (a non-negative integer)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 0:
        raise fail(name, "a record id (a non-negative integer)", value)
    return int(value)


def check_text(name: str, value: Any, *, optional: bool = False) -> str | None:
    """Check a non-empty string (or None when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise fail(name, "a non-empty string" + (" or None" if optional else ""), value)
    return value


def dumps(name: str, value: Any) -> str:
    """``value`` as JSON text (NaN allowed); a clear error for what JSON cannot hold."""
    if value is None:
        value = {}
    try:
        return json.dumps(to_jsonable(value), sort_keys=True, default=_refuse)
    except (TypeError, ValueError) as exc:
        raise fail(name, "JSON-able values (dicts, lists, str, numbers, numpy arrays)",
                   got_text=str(exc)) from None


def loads(text: str | None) -> Any:
    """JSON text back to Python (None stays None)."""
    return None if text is None else json.loads(text)


def finite_or_none(value: Any) -> float | None:
    """A float, with NaN mapped to None (for SQL NULL)."""
    if value is None:
        return None
    out = float(value)
    return None if math.isnan(out) else out


def _refuse(obj: Any) -> Any:
    raise TypeError(f"{type(obj).__name__} is not JSON-able")


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"store {path}: cannot create its folder ({exc})") from None


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _opener(path: Path, read_only: bool,
            timeout: float) -> tuple[duckdb.DuckDBPyConnection, StoreLock | None]:
    return connect(path, read_only=read_only, timeout=timeout)



def new_ids(con: duckdb.DuckDBPyConnection, seq: str, n: int) -> np.ndarray:
    """``n`` fresh ids from sequence ``seq``, ascending."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rows = con.execute("SELECT nextval(?) FROM range(?)", [f"seq_{seq}", int(n)]).fetchall()
    return np.sort(np.array([r[0] for r in rows], dtype=np.int64))


def insert_columns(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, Any]) -> None:
    """Insert the equal-length ``columns`` (name -> array or list) into ``table``."""
    frame = pa.table({name: pa.array(values) if not isinstance(values, pa.Array) else values
                      for name, values in columns.items()})
    con.register("_wl_batch", frame)
    try:
        names = ", ".join(columns)
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _wl_batch")  # names are constants
    finally:
        con.unregister("_wl_batch")
