"""weaklab's own advisory lock beside the DuckDB file: ``<store>.lock``.

DuckDB 2.0 reads a file's headers *before* it takes its own file lock. When
another process checkpoints (or closes, which checkpoints) in between, the
opener follows headers that no longer describe the file: a reader sees a
sound file as damaged, or opens it and fails (or reads stale blocks) later; a
writer that opens that way writes over blocks the other one just committed
(writes are lost). This lock closes the gap:

* a process opening the file **for writing** holds the lock *exclusively*
  from before ``duckdb.connect`` until after the connection is closed (the
  close checkpoints), so no other process opens the file while its headers
  may move;
* a process opening the file **read-only** holds it *shared* only while
  ``duckdb.connect`` runs: once open, DuckDB's own lock keeps writers out,
  and readers never move blocks, so they need not wait for one another.

On POSIX the lock is ``fcntl.flock`` on ``<store>.lock`` (released by the
kernel when a process dies, so a crash never leaves it held). On Windows
``msvcrt.locking`` has no shared mode: readers take it exclusively too,
only for the moment of their open. An exclusive holder writes its pid and
command into the file (cleared when it lets go), so a process that times out
can name it. A read-only open where the lock file cannot be created (a
read-only folder: no writer can open the store there either) goes without it.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .._core.warn import warn
from ..errors import StoreError
from ._liveness import process_alive, process_command

__all__ = ["StoreLock", "LOCK_SUFFIX", "lock_path"]

#: Name suffix of the lock file beside the store file.
LOCK_SUFFIX = ".lock"
#: Seconds between two tries while another process holds the lock (the first tries are sooner).
_MAX_POLL = 0.05


def lock_path(path: Path) -> Path:
    """The lock file of store ``path`` (beside the resolved file, so every spelling of the path shares it)."""
    real = Path(os.path.realpath(path))
    return real.with_name(real.name + LOCK_SUFFIX)


class StoreLock:
    """One hold of the lock of a store file: shared (reading an open) or exclusive (writing).

    Parameters
    ----------
    path : Path
        The store's DuckDB file (the lock file is ``lock_path(path)``).
    exclusive : bool
        Exclusive (a writer) or shared (a reader's open).
    """

    def __init__(self, path: Path, *, exclusive: bool) -> None:
        self.store_path = path
        self.path = lock_path(path)
        self.exclusive = exclusive
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self, deadline: float, on_wait: Callable[[], None] | None = None) -> bool:
        """Take the lock, trying until ``deadline`` (``time.monotonic()``); True once held.

        ``on_wait`` is called between tries (e.g. to touch the waiting
        marker). False when the time ran out (see :meth:`holder`). Where the
        lock cannot be had at all -- a shared lock whose file cannot be
        created, a file system without locks (a warning says so) -- the
        store is opened as before this lock existed (True, nothing held).
        """
        fd = self._open()
        if fd is None:
            return True
        try:
            return self._poll(fd, deadline, on_wait)
        except BaseException:
            if self._fd is None:
                os.close(fd)
            raise

    def _poll(self, fd: int, deadline: float, on_wait: Callable[[], None] | None) -> bool:
        delay = 0.002
        while True:
            try:
                got = _try_lock(fd, self.exclusive)
            except OSError as exc:  # no locks on this file system (some network mounts)
                _warn_unlockable(self.path, exc)
                os.close(fd)
                return True
            if got:
                self._fd = fd
                if self.exclusive:
                    _write_owner(fd)
                return True
            if time.monotonic() >= deadline:
                os.close(fd)
                return False
            if on_wait is not None:
                on_wait()
            time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
            delay = min(delay * 2, _MAX_POLL)

    def release(self) -> None:
        """Let go (an exclusive holder first clears its name from the file); safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if self.exclusive:
                _clear_owner(fd)
            _unlock(fd)  # explicitly: a forked child sharing the descriptor must not keep the lock
        finally:
            os.close(fd)

    def holder(self) -> str:
        """Who holds the lock exclusively, as recorded in the lock file.

        "" when nobody is recorded, or when the recorded process is known to
        be gone (a writer killed before it could clear its name).
        """
        try:
            text = self.path.read_text(errors="replace").strip()
        except OSError:
            return ""
        line = text.splitlines()[0][:240] if text else ""
        found = re.match(r"PID (\d+): .* \(host (.*)\)$", line)
        if found is not None and not process_alive(int(found.group(1)), found.group(2), None):
            return ""
        return line

    def _open(self) -> int | None:
        flags = os.O_RDWR | os.O_CREAT
        try:
            return os.open(self.path, flags, 0o666)
        except OSError as exc:
            if self.exclusive:
                raise StoreError(f"store {self.store_path}: cannot open its lock file {self.path} for writing "
                                 f"({exc.strerror or exc}); a process that writes the store needs it") from None
        try:
            return os.open(self.path, os.O_RDONLY)  # an existing lock file we may not write (another user's)
        except OSError:
            return None  # no lock file and no right to create one: a read-only folder, no writer here


_WARNED: set[str] = set()


def _warn_unlockable(path: Path, exc: OSError) -> None:
    if str(path) not in _WARNED:
        _WARNED.add(str(path))
        warn(f"store lock {path}: the file system refuses file locks ({exc.strerror or exc}); the store "
                      "is opened without weaklab's lock, so a process opening it while another one writes may "
                      "see it as damaged", RuntimeWarning)


def _write_owner(fd: int) -> None:
    pid = os.getpid()
    command = process_command(pid) or " ".join(Path(a).name if a.startswith("/") else a for a in sys.argv)
    text = f"PID {pid}: {command} (host {socket.gethostname()})\n"
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, text.encode(errors="replace"))
    except OSError:
        pass  # the name is a courtesy to waiting processes; the lock holds without it


def _clear_owner(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
    except OSError:
        pass


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int, exclusive: bool) -> bool:
        # msvcrt.locking has no shared mode: readers lock exclusively for the moment of their open.
        # The locked byte lies far past the owner text, which stays readable by waiting processes.
        os.lseek(fd, 1 << 20, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 1 << 20, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass

else:
    import fcntl

    def _try_lock(fd: int, exclusive: bool) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:  # held by another process; any other OSError: no locks here
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
