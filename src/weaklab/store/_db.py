"""Opening the DuckDB file: error mapping, schema checks and migrations."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ..errors import SchemaVersionError, StoreError
from . import schema
from ._flock import StoreLock
from ._lease import WAIT_MARKER_SUFFIX, touch_marker
from ._liveness import process_command

__all__ = ["connect", "disconnect", "holder", "store_error", "utcnow"]

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock")
#: Seconds (at most; never beyond the open's timeout) an open keeps retrying when DuckDB reports damage.
DAMAGE_RETRY_SECONDS = 1.0
#: DuckDB's words for a file that is truncated or whose blocks are damaged.
_DAMAGE_MARKERS = ("Could not read enough bytes", "Corrupt database file", "does not match stored checksum")


def utcnow() -> datetime:
    """The current UTC time as a naive datetime (what the TIMESTAMP columns hold)."""
    return datetime.now(UTC).replace(tzinfo=None)


def store_error(path: Path, exc: BaseException, waited: float | None = None,
                retried: float | None = None) -> StoreError:
    """A :class:`StoreError` naming ``path`` for a DuckDB failure ``exc``.

    ``waited``: seconds spent waiting for a lock; ``retried``: seconds an open kept failing as damaged.
    """
    text = str(exc)
    if any(marker in text for marker in _LOCK_MARKERS):
        wait = f"waited {waited:.1f} s; " if waited is not None else ""
        return StoreError(
            f"store {path}: locked by another process ({holder(text)}); {wait}it holds the file while it "
            "writes (or, a reader, while it reads). Retry when it is done, or wait longer: --wait SECONDS on "
            "the command line, Store(..., timeout=SECONDS) in Python"
        )
    if "not a valid DuckDB database file" in text:
        return StoreError(f"store {path}: the file is not a DuckDB database (not a weaklab store)")
    if any(marker in text for marker in _DAMAGE_MARKERS):
        return StoreError(
            f"store {path}: the file is damaged or cut short (DuckDB: {text.splitlines()[0][:160]}"
            + (f"; still so after retrying for {retried:.1f} s" if retried else "") + "). "
            f"Recovery: restore it from a backup if you have one; otherwise move it aside "
            f"(mv {path.name} {path.name}.damaged) and run `weaklab fit` again, which rebuilds the runs, "
            "matrices and models from the data and the LFs (the arrays/ folder is reused); human answers, "
            "corrections and decisions kept only in this file are lost unless imported again "
            "(`weaklab annotate import`). `weaklab doctor` checks a store and its arrays"
        )
    if "different configuration" in text:
        return StoreError(
            f"store {path}: already open in this process with another mode (read_only); "
            "use one Store object per file and process"
        )
    return StoreError(f"store {path}: {text}")


class _DamagedOnOpen(Exception):
    """DuckDB reported damage while opening the file or reading its catalog (possibly a passing race)."""

    def __init__(self, original: duckdb.Error) -> None:
        super().__init__(str(original))
        self.original = original


def _open_error(path: Path, exc: duckdb.Error) -> Exception:
    """The error for a DuckDB failure while opening: damage is marked for a retry, the rest is final."""
    if any(marker in str(exc) for marker in _DAMAGE_MARKERS):
        return _DamagedOnOpen(exc)
    return store_error(path, exc)


def holder(text: str) -> str:
    """``"PID 123: weaklab fit"`` from DuckDB's lock message (the command from /proc when readable)."""
    found = re.search(r"Conflicting lock is held in (.*?) \(PID (\d+)\)", text)
    if found is None:
        return "the holder is not named by DuckDB"
    program, pid = found.group(1), int(found.group(2))
    command = process_command(pid) or program
    return f"PID {pid}: {command}"


def connect(path: Path, *, read_only: bool,
            timeout: float) -> tuple[duckdb.DuckDBPyConnection, StoreLock | None]:
    """Open ``path`` and make sure it holds a weaklab schema this version can use.

    Returns the connection and, for a read-write one, the exclusive
    :class:`StoreLock` to release *after* closing it (see :func:`disconnect`).
    A missing file is created (unless ``read_only``). While another process
    holds the file (weaklab's lock beside it, or DuckDB's own), opening is
    retried until ``timeout`` seconds have passed, and the waiting marker
    beside the file tells the holder to let go. An open (or its first catalog
    read) that DuckDB reports as damaged is retried for up to
    ``DAMAGE_RETRY_SECONDS`` (within ``timeout``): a process that does not
    take weaklab's lock (the duckdb command line, an older weaklab) can still
    checkpoint between DuckDB's header read and its lock; a file still
    failing after that is reported as damaged.
    """
    if read_only and not path.exists():
        raise StoreError(f"store {path}: no such file (a read-only store must exist)")
    started = time.monotonic()
    deadline = started + timeout
    delay = 0.01
    while True:
        try:
            return _connect_once(path, read_only, max(0.0, deadline - time.monotonic()))
        except _DamagedOnOpen as damaged:
            now = time.monotonic()
            if now >= min(deadline, started + DAMAGE_RETRY_SECONDS):
                raise store_error(path, damaged.original, retried=now - started) from None
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.1)


def disconnect(con: duckdb.DuckDBPyConnection, lock: StoreLock | None) -> None:
    """Close ``con`` (a read-write close checkpoints), then release its lock."""
    try:
        con.close()
    except duckdb.Error:
        pass
    finally:
        if lock is not None:
            lock.release()


def _connect_once(path: Path, read_only: bool,
                  timeout: float) -> tuple[duckdb.DuckDBPyConnection, StoreLock | None]:
    con, lock = _open_with_retry(path, read_only, timeout)
    try:
        if read_only and _needs_migration(con, path) and os.access(path, os.W_OK):
            con.close()  # an older store read by a read-only command: migrate once, then read
            migrating, migrating_lock = _open_with_retry(path, False, timeout)
            try:
                _check_and_migrate(migrating, path, False)
            finally:
                disconnect(migrating, migrating_lock)
            con, lock = _open_with_retry(path, True, timeout)
        _check_and_migrate(con, path, read_only)
    except BaseException:
        disconnect(con, lock)
        raise
    return con, lock


def _needs_migration(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    try:
        tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        version = _read_version(con, path, tables)
    except duckdb.Error as exc:
        raise _open_error(path, exc) from None
    return version < len(schema.MIGRATIONS)


def _open_with_retry(path: Path, read_only: bool,
                     timeout: float) -> tuple[duckdb.DuckDBPyConnection, StoreLock | None]:
    """``duckdb.connect`` under weaklab's lock: kept (exclusive) by a writer, let go (shared) once a reader is in."""
    started = time.monotonic()
    deadline = started + timeout
    delay = 0.01
    marker = path.with_name(path.name + WAIT_MARKER_SUFFIX)
    lock = StoreLock(path, exclusive=not read_only)
    while True:
        if not lock.acquire(deadline, on_wait=lambda: touch_marker(marker)):
            raise _lock_timeout(path, lock, time.monotonic() - started)
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            lock.release()
            locked = any(marker_text in str(exc) for marker_text in _LOCK_MARKERS)
            now = time.monotonic()
            if not locked or now >= deadline:
                raise (_open_error(path, exc) if not locked else store_error(path, exc, now - started)) from None
        except BaseException:
            lock.release()
            raise
        else:
            if read_only:  # once open, DuckDB's own lock keeps writers out
                lock.release()
                return con, None
            return con, lock
        touch_marker(marker)
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.1)


def _lock_timeout(path: Path, lock: StoreLock, waited: float) -> StoreError:
    holder = lock.holder() or "not named in the lock file: a process opening the store to read"
    return StoreError(
        f"store {path}: locked by another process ({holder}); waited {waited:.1f} s for {lock.path.name}; "
        "it holds the file while it writes (or, a reader, while it opens it). Retry when it is done, or "
        "wait longer: --wait SECONDS on the command line, Store(..., timeout=SECONDS) in Python"
    )


def _check_and_migrate(con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
    try:
        tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        version = _read_version(con, path, tables)
    except duckdb.Error as exc:
        raise _open_error(path, exc) from None
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
            "open it once with read_only=False (or run any writing weaklab command) to migrate"
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
