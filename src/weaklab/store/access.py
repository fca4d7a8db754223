"""SQL on a store's DuckDB file under weaklab's lock, and who holds that lock.

A :class:`~weaklab.store.Store` is the way to read and write weaklab's own
records. These two functions are for what it does not cover: a script that
runs its own SQL on the file (an export, an ad-hoc query, a table of its own)
while weaklab commands use the same store. They take the lock a Store takes
(the DuckDB command line does not), so neither side opens the file while the
other moves its blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._core.validation import check_bool, check_float, fail
from ._base import DEFAULT_TIMEOUT
from ._db import connect, disconnect
from ._flock import StoreLock

if TYPE_CHECKING:
    import duckdb

__all__ = ["connection", "lock_holder"]


def _store_path(path: Any) -> Path:
    if not isinstance(path, (str, Path)):
        raise fail("path", "a path to the store's DuckDB file (str or Path)", path)
    return Path(path)


@contextmanager
def connection(path: str | Path, *, read_only: bool = False,
               timeout: float = DEFAULT_TIMEOUT) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection to the store file ``path``, held under weaklab's lock for the ``with`` block.

    The file is opened as a :class:`Store` opens it: weaklab's lock beside
    it (exclusive for writing, for the open only when reading), the schema
    checked (and a missing file created, an older one migrated, unless
    ``read_only``). On leaving the block the connection is closed (a writer's
    close checkpoints) and then the lock released. Keep the block short: a
    writer holds the file for all of it. Within one process, use it between
    a Store's operations, not inside :meth:`Store.session` (a Store lets go
    of the file a quarter of a second after its last operation).

    Parameters
    ----------
    path : str or Path
        The store's DuckDB file.
    read_only : bool, default=False
        Open for reading only; several processes may read at once.
    timeout : float, default=10.0
        Seconds to wait while another process holds the file.

    Yields
    ------
    duckdb.DuckDBPyConnection
        Run SQL on it; weaklab's tables are described in :mod:`weaklab.store.schema`.

    Raises
    ------
    StoreError
        Another process held the file longer than ``timeout`` (the message
        names it), the file is not a DuckDB database, is damaged, or is
        missing while ``read_only``.
    SchemaVersionError
        The file was written by a newer weaklab, or is not a weaklab store.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from weaklab.store import Store, connection
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "weaklab.duckdb"
    ...     with Store(path) as store:
    ...         _ = store.add_dataset("spam", n_items=3)
    ...     with connection(path, read_only=True) as con:
    ...         names = con.execute("SELECT name FROM datasets").fetchall()
    >>> names
    [('spam',)]
    """
    store_path = _store_path(path)
    read_only = check_bool("read_only", read_only)
    timeout = check_float("timeout", timeout, low=0.0)
    if not read_only:
        store_path.parent.mkdir(parents=True, exist_ok=True)
    con, lock = connect(store_path, read_only=read_only, timeout=timeout)
    try:
        yield con
    finally:
        disconnect(con, lock)


def lock_holder(path: str | Path) -> str:
    """Who holds the store's write lock, as its lock file names it (``""`` when nobody is named).

    A process writing the store records ``"PID <pid>: <command> (host
    <host>)"`` in the lock file beside it (``<store>.lock``) while it holds
    the lock; a name left there by a process that is gone (killed before it
    could clear it) is not returned.

    Parameters
    ----------
    path : str or Path
        The store's DuckDB file.

    Returns
    -------
    str
        The holder's line, or ``""``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from weaklab.store import Store, lock_holder
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "weaklab.duckdb"
    ...     Store(path).close()
    ...     holder = lock_holder(path)
    >>> holder
    ''
    """
    return StoreLock(_store_path(path), exclusive=False).holder()
