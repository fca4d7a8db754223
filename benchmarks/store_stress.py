"""Several processes on one store: writers that open, write and close in a loop, readers that open and read.

Two layers (``--layer``):

* ``connection`` (default): the store's connection layer, as fast as it goes -- each writer process loops
  for ``--seconds``: open the file for writing (``weaklab.store.connection``: weaklab's lock, DuckDB's
  open, the schema check), insert ``--rows`` rows tagged with its own counter, close (DuckDB checkpoints
  on close); each reader loops: open read-only, count the distinct tags, close. ``--no-lock`` turns
  weaklab's lock off (every acquire succeeds at once): the connection layer as it was before the lock.
* ``duckdb``: DuckDB alone with the same loops, retrying a refused open every 2 ms (the hazard at its
  plainest, independent of weaklab's retry pacing); with the lock (default) ``StoreLock`` is taken around
  it as the connection layer does, with ``--no-lock`` not.
* ``store``: the same through the public ``Store`` (one alert of ``--rows`` bytes per writer loop; readers
  count the alerts). Slower per loop (schema checks, the waiting protocol between processes).

Every process pauses up to ``PAUSE`` seconds between loops (a moment between two commands).

``--overhead N`` instead times, in one process with nobody else on the file, N opens + one query + close of
each kind (read-only and read-write, connection layer and public Store), alternating rounds with weaklab's
lock on and off (median per open, microseconds): the lock's own cost.

Switching the lock off (``--no-lock``, ``--overhead``) and taking it around bare DuckDB (``--layer duckdb``)
reach into ``weaklab.store._flock`` on purpose: no public API turns the lock off or hands it out, and this
script exists to show what the lock prevents and what it costs. Everything else goes through public names.

What is counted:

* **errors** by message (a reader told a sound file is damaged, a query failing after the open, a write
  failing);
* **went back**: a reader that saw fewer alerts than at its previous loop;
* **lost writes**: alerts a writer saw committed that the store does not hold at the end (a writer that
  opened on stale headers writes over blocks another one had just committed);
* loops per process, and the open + read latency of the readers (median, p95).

DuckDB (2.0) reads a file's headers before it takes its own lock, so a checkpoint by another process in
between makes the opener follow stale offsets; weaklab's lock beside the file (``<store>.lock``) closes that
gap. This script measures it under load; ``tests/store/test_stress.py`` runs a few seconds of it.

Run from the repository root::

    python benchmarks/store_stress.py --seconds 60 --writers 3 --readers 3
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KIND = "stress"
#: Longest pause (seconds, uniform) between two loops of a process (``--pause``).
PAUSE = 0.02


def _no_lock() -> None:
    """Make weaklab's lock a no-op in this process (the connection layer as before the lock)."""
    try:
        from weaklab.store import _flock
    except ImportError:  # a checkout from before the lock
        return

    _flock.StoreLock.acquire = lambda self, deadline, on_wait=None: True  # type: ignore[method-assign]


class _Connection:
    """Open / write / read / close through the store's connection layer (``weaklab.store.connection``)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def write(self, tag: int, rows: int) -> None:
        from weaklab.store import connection

        with connection(self.path, timeout=60.0) as con:
            con.execute("INSERT INTO stress SELECT ?, range FROM range(?)", [tag, rows])

    def count(self) -> int:
        from weaklab.store import connection

        with connection(self.path, read_only=True, timeout=60.0) as con:
            return int(con.execute("SELECT count(DISTINCT tag) FROM stress").fetchone()[0])  # type: ignore[index]


class _RawDuckDB:
    """DuckDB alone, retrying a refused open every 2 ms (the hazard at its plainest); with the lock,
    ``StoreLock`` around it as the connection layer takes it (exclusive through the close, shared for the open)."""

    def __init__(self, path: str, locked: bool) -> None:
        self.path, self.locked = Path(path), locked

    def _connect(self, read_only: bool) -> tuple[Any, Any]:
        import duckdb

        while True:
            lock = None
            if self.locked:
                from weaklab.store._flock import StoreLock

                lock = StoreLock(self.path, exclusive=not read_only)
                lock.acquire(time.monotonic() + 60.0)
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.Error as exc:
                if lock is not None:
                    lock.release()
                if "lock" not in str(exc):
                    raise
                time.sleep(0.002)
                continue
            if read_only and lock is not None:
                lock.release()
                lock = None
            return con, lock

    def write(self, tag: int, rows: int) -> None:
        con, lock = self._connect(False)
        try:
            con.execute("INSERT INTO stress SELECT ?, range FROM range(?)", [tag, rows])
        finally:
            con.close()
            if lock is not None:
                lock.release()

    def count(self) -> int:
        con, _ = self._connect(True)
        try:
            return int(con.execute("SELECT count(DISTINCT tag) FROM stress").fetchone()[0])
        finally:
            con.close()


class _PublicStore:
    """The same through the public Store (one alert per write)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, tag: int, rows: int) -> None:
        from weaklab.store import Store

        with Store(self.path, timeout=60.0) as st:
            st.add_alert(None, KIND, f"{tag}:" + "x" * rows)

    def count(self) -> int:
        from weaklab.store import Store

        with Store(self.path, read_only=True, timeout=60.0) as st:
            alerts = st.alerts()
            return int((alerts["kind"] == KIND).sum()) if len(alerts) else 0


def _layer(name: str, path: str, locked: bool) -> Any:
    if name == "duckdb":
        return _RawDuckDB(path, locked)
    if not locked:
        _no_lock()
    return _Connection(path) if name == "connection" else _PublicStore(path)


def _writer(path: str, layer: str, locked: bool, seconds: float, pause: float, rows: int, index: int,
            out: Any) -> None:
    target = _layer(layer, path, locked)
    errors: collections.Counter[str] = collections.Counter()
    written = 0
    rng = random.Random(index)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(rng.uniform(0.0, pause))  # a moment between two commands: the others get their turn
        try:
            target.write(index * 10**7 + written, rows)
            written += 1
        except Exception as exc:  # the script counts every failure, whatever it is
            errors[f"write: {type(exc).__name__}: {str(exc)[:160]}"] += 1
    out.put({"role": "writer", "index": index, "loops": written, "errors": dict(errors)})


def _reader(path: str, layer: str, locked: bool, seconds: float, pause: float, index: int, out: Any) -> None:
    target = _layer(layer, path, locked)
    errors: collections.Counter[str] = collections.Counter()
    loops, last, latencies = 0, 0, []
    rng = random.Random(-1 - index)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(rng.uniform(0.0, pause))
        started = time.perf_counter()
        try:
            seen = target.count()
        except Exception as exc:
            errors[f"read: {type(exc).__name__}: {str(exc)[:160]}"] += 1
            continue
        latencies.append(time.perf_counter() - started)
        if seen < last:
            errors["went back"] += 1
        last = seen
        loops += 1
    out.put({"role": "reader", "index": index, "loops": loops, "errors": dict(errors), "latencies": latencies})


def run(path: Path, *, seconds: float, writers: int, readers: int, layer: str = "connection",
        rows: int = 20_000, locked: bool = True, pause: float = PAUSE) -> dict[str, Any]:
    """Run the writers and readers on a new store at ``path``; return the counts (see the module docstring)."""
    from weaklab.store import Store

    with Store(path) as st, st.session(write=True):
        st.add_dataset("stress", n_items=1)
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE stress (tag BIGINT, x BIGINT)")
    context = mp.get_context("spawn")  # no inherited connection or lock
    out = context.Queue()
    common = (str(path), layer, locked, seconds, pause)
    procs = [context.Process(target=_writer, args=(*common, rows, i, out)) for i in range(writers)]
    procs += [context.Process(target=_reader, args=(*common, i, out)) for i in range(readers)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=seconds + 300) for _ in procs]
    for proc in procs:
        proc.join()
    return _summary(results, _layer(layer, str(path), True).count())


def _summary(results: list[dict[str, Any]], stored: int) -> dict[str, Any]:
    errors: collections.Counter[str] = collections.Counter()
    for res in results:
        errors.update(res["errors"])
    latencies = sorted(x for res in results for x in res.get("latencies", ()))
    written = sum(res["loops"] for res in results if res["role"] == "writer")
    return {
        "written": written, "stored": stored, "lost_writes": max(0, written - stored),
        "writer_loops": [res["loops"] for res in results if res["role"] == "writer"],
        "reader_loops": [res["loops"] for res in results if res["role"] == "reader"],
        "errors": dict(errors), "n_errors": sum(errors.values()),
        "read_ms_median": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "read_ms_p95": 1000 * latencies[int(len(latencies) * 0.95)] if latencies else None,
    }


def overhead(path: Path, n: int) -> dict[str, Any]:
    """Median seconds per open + query + close, by kind, with weaklab's lock on and off (one process)."""
    from weaklab.store import Store, _flock, connection

    with Store(path) as st:
        st.add_dataset("overhead", n_items=1)
    real = _flock.StoreLock.acquire
    times: dict[str, list[float]] = collections.defaultdict(list)
    for round_ in range(2 * n):
        locked = round_ % 2 == 0
        _flock.StoreLock.acquire = real if locked else (lambda self, deadline, on_wait=None: True)  # type: ignore[method-assign]
        for read_only in (True, False):
            started = time.perf_counter()
            with connection(path, read_only=read_only, timeout=10.0) as con:
                con.execute("SELECT count(*) FROM runs").fetchall()
            times[f"connection {'ro' if read_only else 'rw'} lock={locked}"].append(time.perf_counter() - started)
            started = time.perf_counter()
            with Store(path, read_only=read_only) as st:
                st.runs()
            times[f"Store {'ro' if read_only else 'rw'} lock={locked}"].append(time.perf_counter() - started)
    _flock.StoreLock.acquire = real  # type: ignore[method-assign]
    for exclusive in (False, True):
        for _ in range(n):
            started = time.perf_counter()
            hold = _flock.StoreLock(path, exclusive=exclusive)
            hold.acquire(time.monotonic() + 10.0)
            hold.release()
            times[f"lock alone {'exclusive' if exclusive else 'shared'}"].append(time.perf_counter() - started)
    return {key: round(1e6 * sorted(v)[len(v) // 2], 1) for key, v in sorted(times.items())}


def _locked(args: argparse.Namespace) -> bool:
    """Whether the run took weaklab's lock (not with --no-lock, nor on a checkout from before it)."""
    if args.no_lock:
        return False
    try:
        from weaklab.store import _flock  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=30.0, help="how long every process loops")
    p.add_argument("--writers", type=int, default=3)
    p.add_argument("--readers", type=int, default=3)
    p.add_argument("--layer", choices=("connection", "store", "duckdb"), default="connection")
    p.add_argument("--rows", type=int, default=20_000, help="rows per write (bytes of the alert with --layer store)")
    p.add_argument("--pause", type=float, default=PAUSE, help="longest pause between two loops (seconds)")
    p.add_argument("--no-lock", action="store_true", help="weaklab's lock off: the connection layer before it")
    p.add_argument("--repeat", type=int, default=1, help="runs, each on a new store")
    p.add_argument("--overhead", type=int, default=0, metavar="N", help="time the lock's own cost instead")
    args = p.parse_args(argv)
    if args.overhead:
        with tempfile.TemporaryDirectory(prefix="weaklab-lock-") as tmp:
            res = overhead(Path(tmp) / "s.duckdb", args.overhead)
        print(json.dumps({"overhead_us_median": res, "n": args.overhead, "load": os.getloadavg()}, indent=1))
        return 0
    total: collections.Counter[str] = collections.Counter()
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="weaklab-stress-") as tmp:
            res = run(Path(tmp) / "s.duckdb", seconds=args.seconds, writers=args.writers, readers=args.readers,
                      layer=args.layer, rows=args.rows, locked=not args.no_lock, pause=args.pause)
        print(json.dumps({"repeat": i, "layer": args.layer, "locked": _locked(args), "pause": args.pause,
                          "load": os.getloadavg(),
                          **res}), flush=True)
        total.update({"written": res["written"], "lost_writes": res["lost_writes"], "errors": res["n_errors"],
                      "reader_loops": sum(res["reader_loops"])})
    print("TOTAL", json.dumps({"layer": args.layer, "locked": _locked(args), **total}), flush=True)
    return 1 if total["lost_writes"] or total["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
