"""Sharing one DuckDB file between threads and processes: short leases instead of a held lock.

DuckDB lets one process open a file for writing, or several processes open it
read-only, never both at once; the lock lasts as long as a connection is
open. So a process keeps the file open only while it uses it:

* every Store operation takes a **lease**: a read lease (any open connection
  will do; when none is open, a read-only one is opened, so other processes can
  read too) or a write lease (a read-write connection, opened when needed);
* the connection stays open while leases are held, and for ``LINGER`` seconds
  after the last one ends (a burst of operations pays for one open), then a
  reaper thread closes it and the file is free for other processes;
* a process that cannot open the file (another one holds it) touches a
  **waiting marker** beside it while it retries; a holder that sees a fresh
  marker closes its connection as soon as its current leases end, and new
  leases in the holder wait for that close, so waiting processes get their
  turn even under constant load;
* ``session()`` holds one lease across several operations (a read command's
  queries, or a batch of writes);
* opening and closing go through weaklab's own lock beside the file
  (``_flock``): a read-write connection holds it exclusively until it is
  closed (the close checkpoints), a read-only one only while it opens, so no
  process reads the file's headers while another may move its blocks.

Inside one process every Store object on the same file shares one
:class:`SharedFile` (DuckDB refuses a second connection with another mode in
the same process).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from ..errors import StoreError
from ._flock import StoreLock

__all__ = ["SharedFile", "shared_file", "marker_fresh", "touch_marker", "LINGER", "WAIT_MARKER_SUFFIX"]

#: Seconds an unused connection stays open before the reaper closes it.
LINGER = 0.25
#: A waiting marker touched within this many seconds means another process waits for the file.
MARKER_FRESH = 1.0
#: Seconds a process that just let go for a waiting process sleeps before opening again.
YIELD_SECONDS = 0.15
#: Seconds after a write during which this process opens the file read-write for reads too.
PREFER_WRITE_SECONDS = 2.0
#: Name suffix of the waiting marker beside the store file.
WAIT_MARKER_SUFFIX = ".waiting"

Opener = Callable[[Path, bool, float], tuple[duckdb.DuckDBPyConnection, StoreLock | None]]


class SharedFile:
    """This process's connection to one store file, handed out as read and write leases.

    Parameters
    ----------
    path : Path
        The DuckDB file.
    opener : callable
        ``opener(path, read_only, timeout)`` opens and checks a connection
        (retrying while another process holds the file, touching the waiting
        marker); raises StoreError when the time is up. It returns the
        connection and the lock (weaklab's, beside the file) to release once
        the connection is closed, or None.
    """

    def __init__(self, path: Path, opener: Opener) -> None:
        self.path = path
        self.marker = path.with_name(path.name + WAIT_MARKER_SUFFIX)
        self._opener = opener
        self._cond = threading.Condition(threading.RLock())
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock: StoreLock | None = None
        self._writable = False
        self._users = 0
        self._opening = False
        self._draining = False
        self._writers_waiting = 0
        self._last_used = 0.0
        self._marker_seen = (0.0, False)
        self._held = threading.local()
        self._cursors: dict[int, duckdb.DuckDBPyConnection] = {}
        self.n_stores = 0
        self.n_opens = 0
        #: Serialises this process's write transactions on the file (DuckDB would abort concurrent ones).
        self.write_lock = threading.RLock()
        self._prefer_write_until = 0.0

    # ------------------------------------------------------------------ leases
    def acquire(self, write: bool, timeout: float, *, writer: bool = False) -> duckdb.DuckDBPyConnection:
        """Take a lease; return this thread's cursor on the open connection.

        ``writer``: the asking Store may write, so a read shortly after a write
        may open the file read-write (never for a read-only Store).
        """
        held = self._held_count()
        deadline = time.monotonic() + timeout
        with self._cond:
            if held and (self._writable or not write):
                return self._join()
            if write:
                self._writers_waiting += 1
            try:
                self._wait_turn(write, held, deadline)
            finally:
                if write:
                    self._writers_waiting -= 1
            if self._con is not None:
                return self._join()
            self._opening = True
        try:
            if self._someone_waits():  # let the waiting process in first
                time.sleep(YIELD_SECONDS)
            # a process that wrote a moment ago reads through a read-write connection: reads and writes then
            # share one connection instead of closing and reopening it at every switch
            write = write or (writer and time.monotonic() < self._prefer_write_until)
            con, lock = self._opener(self.path, not write, max(0.0, deadline - time.monotonic()))
        except BaseException:
            with self._cond:
                self._opening = False
                self._cond.notify_all()
            raise
        with self._cond:
            self._con, self._lock, self._writable, self._opening = con, lock, write, False
            self.n_opens += 1
            self._cond.notify_all()
            return self._join()

    def release(self, wrote: bool = False) -> None:
        """End one lease of this thread (``wrote``: it committed a write)."""
        with self._cond:
            if wrote:
                self._prefer_write_until = time.monotonic() + PREFER_WRITE_SECONDS
            self._held.count = self._held_count() - 1
            self._users -= 1
            self._last_used = time.monotonic()
            if self._users == 0 and (self._draining or self.n_stores == 0 or self._someone_waits()):
                self._close_now()
            self._cond.notify_all()

    def _held_count(self) -> int:
        return int(getattr(self._held, "count", 0))

    def _join(self) -> duckdb.DuckDBPyConnection:
        self._users += 1
        self._held.count = self._held_count() + 1
        return self._cursor()

    def _wait_turn(self, write: bool, held: int, deadline: float) -> None:
        """Block until this thread may use (or open) the connection; close it when a writer or process waits."""
        while True:
            if self._opening or self._draining:
                pass
            elif self._con is None:
                return
            elif write and not self._writable:
                if self._users == held:  # no other thread reads: reopen for writing
                    self._close_now()
                    return
                self._draining = held == 0  # let the other threads' reads end, then close
            elif not write and self._writers_waiting and not self._writable:
                pass  # a writer of this process waits for the readers to finish
            elif self._someone_waits():  # another process waits: let it in
                if self._users == 0:
                    self._close_now()
                    return
                self._draining = True
            else:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreError(f"store {self.path}: busy in this process ({self._users} operation(s) "
                                 "still hold it); waited for the timeout")
            self._cond.wait(min(left, 0.05))

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise StoreError(f"store {self.path}: closed")
        key = threading.get_ident()
        cursor = self._cursors.get(key)
        if cursor is None:
            cursor = self._con.cursor()
            self._cursors[key] = cursor
        return cursor

    # ------------------------------------------------------------------ closing
    def _close_now(self) -> None:
        con, self._con = self._con, None
        lock, self._lock = self._lock, None
        cursors = list(self._cursors.values())
        self._cursors.clear()
        self._draining = False
        try:
            for cursor in cursors:
                _quiet_close(cursor)
            if con is not None:
                _quiet_close(con)  # a read-write close checkpoints: still under the lock
        finally:
            if lock is not None:
                lock.release()

    def close_if_idle(self, linger: float) -> None:
        """Close the connection when no lease has used it for ``linger`` seconds."""
        with self._cond:
            if self._con is not None and self._users == 0 and time.monotonic() - self._last_used >= linger:
                self._close_now()
                self._cond.notify_all()

    def store_closed(self) -> None:
        """One Store on this file was closed; the last one closes the connection (releases the lock)."""
        with self._cond:
            self.n_stores = max(0, self.n_stores - 1)
            if self.n_stores == 0 and self._users == 0:
                self._close_now()
                self._cond.notify_all()

    @property
    def is_open(self) -> bool:
        """Whether this process holds a connection (and so the file lock) right now."""
        return self._con is not None

    def _someone_waits(self) -> bool:
        """Whether another process touched the waiting marker recently (checked at most every 50 ms)."""
        now = time.monotonic()
        checked, answer = self._marker_seen
        if now - checked < 0.05:
            return answer
        answer = marker_fresh(self.marker)
        self._marker_seen = (now, answer)
        return answer


def marker_fresh(marker: Path) -> bool:
    """True when another process touched ``marker`` within ``MARKER_FRESH`` seconds."""
    try:
        stat = marker.stat()
        if time.time() - stat.st_mtime > MARKER_FRESH:
            return False
        return marker.read_text().strip() != str(os.getpid())
    except (OSError, ValueError):
        return False


def touch_marker(marker: Path) -> None:
    """Say that this process waits for the file (best effort)."""
    try:
        marker.write_text(str(os.getpid()))
    except OSError:
        pass


# ---------------------------------------------------------------------- the process-wide registry
_REGISTRY: dict[str, SharedFile] = {}
_REGISTRY_LOCK = threading.Lock()
_REAPER: threading.Thread | None = None


def shared_file(path: Path, opener: Opener) -> SharedFile:
    """The process's :class:`SharedFile` of ``path`` (one per resolved path), counting one more Store."""
    key = os.path.realpath(path)
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(key)
        if found is None:
            found = _REGISTRY[key] = SharedFile(path, opener)
        _start_reaper()
    with found._cond:
        found.n_stores += 1
    return found


def _start_reaper() -> None:
    global _REAPER
    if _REAPER is None or not _REAPER.is_alive():
        _REAPER = threading.Thread(target=_reap, name="weaklab-store-reaper", daemon=True)
        _REAPER.start()


def _reap() -> None:
    while True:
        time.sleep(LINGER / 2)
        with _REGISTRY_LOCK:
            files = list(_REGISTRY.values())
        for shared in files:
            shared.close_if_idle(LINGER)


def _quiet_close(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.close()
    except duckdb.Error:
        pass
