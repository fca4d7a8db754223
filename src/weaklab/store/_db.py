"""Opening the DuckDB file: error mapping, schema checks and migrations."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ..errors import SchemaVersionError, StoreError
from . import schema

__all__ = ["connect", "store_error", "utcnow"]

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock")


def utcnow() -> datetime:
    """The current UTC time as a naive datetime (what the TIMESTAMP columns hold)."""
    return datetime.now(UTC).replace(tzinfo=None)


def store_error(path: Path, exc: BaseException) -> StoreError:
    """A :class:`StoreError` naming ``path`` for a DuckDB failure ``exc``."""
    text = str(exc)
    if any(marker in text for marker in _LOCK_MARKERS):
        return StoreError(
            f"store {path}: locked by another process ({_holder(text)}). DuckDB lets one process "
            "write a store file, or several processes read it, but not both at once: close the other "
            "process's Store, or pass timeout= to wait for it"
        )
    if "not a valid DuckDB database file" in text:
        return StoreError(f"store {path}: the file is not a DuckDB database (not a weaklab store)")
    if "different configuration" in text:
        return StoreError(
            f"store {path}: already open in this process with another mode (read_only); "
            "use one Store object per file and process"
        )
    return StoreError(f"store {path}: {text}")


def _holder(text: str) -> str:
    marker = "Conflicting lock is held in "
    if marker in text:
        return "held by " + text.split(marker, 1)[1].split(".", 1)[0].strip()
    return "lock held elsewhere"


def connect(path: Path, *, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    """Open ``path`` and make sure it holds a weaklab schema this version can use.

    A missing file is created (unless ``read_only``). While another process
    holds the lock, opening is retried until ``timeout`` seconds have passed.
    """
    if read_only and not path.exists():
        raise StoreError(f"store {path}: no such file (a read-only store must exist)")
    con = _open_with_retry(path, read_only, timeout)
    try:
        _check_and_migrate(con, path, read_only)
    except BaseException:
        con.close()
        raise
    return con


def _open_with_retry(path: Path, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            locked = any(marker in str(exc) for marker in _LOCK_MARKERS)
            if not locked or time.monotonic() + delay > deadline:
                raise store_error(path, exc) from None
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def _check_and_migrate(con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
    try:
        tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        version = _read_version(con, path, tables)
    except duckdb.Error as exc:
        raise store_error(path, exc) from None
    latest = len(schema.MIGRATIONS)
    if version > latest:
        raise SchemaVersionError(
            f"store {path}: schema version {version} is newer than this weaklab supports "
            f"({latest}); upgrade weaklab to open it (the file was not modified)"
        )
    if version == latest:
        return
    if read_only:
        raise SchemaVersionError(
            f"store {path}: schema version {version} needs a migration to {latest}; "
            "open it once with read_only=False to migrate"
        )
    _migrate(con, path, version, schema.MIGRATIONS)


def _read_version(con: duckdb.DuckDBPyConnection, path: Path, tables: set[str]) -> int:
    if "schema_info" not in tables:
        if tables:
            raise SchemaVersionError(
                f"store {path}: a DuckDB file with tables {sorted(tables)[:5]} but no weaklab "
                "schema_info table (a foreign database; the file was not modified)"
            )
        return 0
    info = dict(con.execute("SELECT key, value FROM schema_info").fetchall())
    if info.get("format") != schema.FORMAT or not str(info.get("schema_version", "")).isdigit():
        raise SchemaVersionError(
            f"store {path}: schema_info does not describe a weaklab store "
            f"(format={info.get('format')!r}, schema_version={info.get('schema_version')!r}); "
            "the file was not modified"
        )
    return int(info["schema_version"])


def _migrate(con: duckdb.DuckDBPyConnection, path: Path, version: int,
             migrations: Sequence[schema.Migration]) -> None:
    try:
        con.execute("BEGIN TRANSACTION")
        if version == 0:
            con.execute("CREATE TABLE schema_info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
            _set_info(con, "format", schema.FORMAT)
            _set_info(con, "created_at", utcnow().isoformat())
        for step in migrations[version:]:
            for statement in step.statements:
                con.execute(statement)
            if step.after is not None:
                step.after(con)
        _set_info(con, "schema_version", str(len(migrations)))
        con.execute("COMMIT")
    except duckdb.Error as exc:
        _rollback(con)
        raise store_error(path, exc) from None


def _set_info(con: Any, key: str, value: str) -> None:
    con.execute("DELETE FROM schema_info WHERE key = ?", [key])
    con.execute("INSERT INTO schema_info VALUES (?, ?)", [key, value])


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass
