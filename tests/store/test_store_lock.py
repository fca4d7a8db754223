"""weaklab's lock beside the store file: a writer holds it from its open through its close, a reader only while
it opens; nobody opens the file (reads its headers) while a writer may move its blocks; several processes that
open, write, read and close in a loop never see a sound file as damaged and never lose a committed write; where
file locks are refused or the lock file cannot be created, the store still opens."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import time

import pytest

from weaklab import StoreError
from weaklab.store import Store

HOLD_WRITE = textwrap.dedent("""
    import sys
    from weaklab.store import Store
    st = Store(sys.argv[1])
    with st.session(write=True):
        print("ready", flush=True)
        sys.stdin.readline()
""")


def _store(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        st.add_dataset("mine", n_items=2)
    return path


def _lock_file(path):
    return path.with_name(path.name + ".lock")


def _can_lock(path, mode):
    """Whether a new descriptor gets ``mode`` (fcntl.LOCK_SH / LOCK_EX) on the store's lock file right now."""
    fd = os.open(_lock_file(path), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing the only descriptor releases a lock taken on it
    return True


def test_a_writer_holds_the_lock_exclusively_until_its_connection_is_closed(tmp_path):
    """While a read-write connection is open the lock file names this process and refuses even a shared lock."""
    path = _store(tmp_path)
    with Store(path) as st:
        with st.session(write=True):
            assert not _can_lock(path, fcntl.LOCK_SH)
            assert _lock_file(path).read_text().startswith(f"PID {os.getpid()}: ")
    assert _can_lock(path, fcntl.LOCK_EX)
    assert _lock_file(path).read_text() == ""  # the holder's name goes with the hold


def test_an_open_reader_holds_no_lock_of_weaklab(tmp_path):
    """A read-only connection lets go of the lock once open (DuckDB's own lock keeps writers out from then on)."""
    path = _store(tmp_path)
    with Store(path, read_only=True) as ro, ro.session():
        ro.runs()
        assert _can_lock(path, fcntl.LOCK_EX)


@pytest.mark.parametrize("read_only", [True, False], ids=["reader", "writer"])
def test_nobody_touches_the_file_while_a_writer_holds_it(tmp_path, monkeypatch, read_only):
    """With another process open for writing, neither a reader nor a writer calls duckdb.connect (which reads
    the headers a checkpoint may move) and each fails after its timeout naming the writer's PID, its command
    and the lock file. (Before the lock both called it every 10-100 ms while they waited.)"""
    import duckdb

    path = _store(tmp_path)
    calls = []
    real = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: calls.append(a) or real(*a, **k))
    child = subprocess.Popen([sys.executable, "-c", HOLD_WRITE, str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            Store(path, read_only=read_only, timeout=0.4)
        waited = time.monotonic() - started
    finally:
        child.kill()
        child.wait()
    message = str(info.value)
    assert calls == []
    assert f"PID {child.pid}: " in message and "s.duckdb.lock" in message and str(path) in message, message
    assert "--wait SECONDS" in message and 0.35 <= waited < 5.0


def test_a_read_only_store_opens_without_the_lock_where_it_cannot_create_it(tmp_path, monkeypatch):
    """Where the lock file cannot be created (a read-only folder: no writer there either) a reader still reads,
    and a writer says why it cannot open."""
    path = _store(tmp_path)
    _lock_file(path).unlink()
    real_open = os.open

    def refuse_lock_file(name, flags, *args):
        if str(name).endswith(".lock"):
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, flags, *args)

    monkeypatch.setattr(os, "open", refuse_lock_file)
    with Store(path, read_only=True) as ro:
        assert list(ro.datasets()["name"]) == ["mine"]
    with pytest.raises(StoreError, match=r"s\.duckdb\.lock"):
        Store(path)
    assert not _lock_file(path).exists()


STRESS_WRITER = textwrap.dedent("""
    import random, sys, time
    from pathlib import Path
    from weaklab.store import connection

    path, index, seconds = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    rng, written, failures = random.Random(index), 0, []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(rng.uniform(0, 0.02))
        try:
            with connection(path, timeout=30.0) as con:
                con.execute("INSERT INTO stress SELECT ?, range FROM range(20000)", [index * 10**6 + written])
            written += 1
        except Exception as exc:
            failures.append(repr(exc)[:200])
    print(written, len(failures), failures[:2], flush=True)
""")

STRESS_READER = textwrap.dedent("""
    import random, sys, time
    from pathlib import Path
    from weaklab.store import connection

    path, index, seconds = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    rng, loops, last, failures = random.Random(-index), 0, 0, []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(rng.uniform(0, 0.02))
        try:
            with connection(path, read_only=True, timeout=30.0) as con:
                seen = con.execute("SELECT count(DISTINCT tag) FROM stress").fetchone()[0]
        except Exception as exc:
            failures.append(repr(exc)[:200])
            continue
        if seen < last:
            failures.append(f"went back from {last} to {seen}")
        last, loops = seen, loops + 1
    print(loops, len(failures), failures[:2], flush=True)
""")


def test_writers_and_readers_in_a_loop_never_fail_and_lose_no_write(tmp_path):
    """Two writer and two reader processes open, write or read, and close for 3 s through weaklab.store.connection
    (the store's connection layer): no reader sees damage or a count going back, no write fails, and every
    committed write is there.

    (Without weaklab's lock this loses writes and reports damage; benchmarks/store_stress.py --no-lock shows it.)
    """
    import duckdb

    path = _store(tmp_path)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE stress (tag BIGINT, x BIGINT)")
    scripts = {"w": STRESS_WRITER, "r": STRESS_READER}
    procs = [(role, subprocess.Popen([sys.executable, "-c", scripts[role], str(path), str(i), "3"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
             for i, role in enumerate(("w", "w", "r", "r"))]
    results = []
    for role, proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        loops, n_failures, sample = out.split(" ", 2)
        results.append((role, int(loops), int(n_failures), sample.strip()))
    assert all(n_failures == 0 for _, _, n_failures, _ in results), results
    assert all(loops > 0 for _, loops, _, _ in results), results  # everybody got a turn
    with duckdb.connect(str(path), read_only=True) as con:
        stored = con.execute("SELECT count(DISTINCT tag) FROM stress").fetchone()[0]
    assert stored == sum(loops for role, loops, _, _ in results if role == "w")


def test_a_file_system_without_locks_opens_the_store_with_a_warning(tmp_path, monkeypatch):
    """Where flock is refused (some network mounts) the store opens as before the lock, and says so once."""
    import errno

    path = _store(tmp_path)

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.warns(RuntimeWarning, match="refuses file locks"), Store(path) as st:
        st.add_dataset("more", n_items=1)
    with Store(path, read_only=True) as ro:
        assert sorted(ro.datasets()["name"]) == ["mine", "more"]


def test_a_writer_killed_before_clearing_its_name_is_not_named_as_the_holder(tmp_path):
    """A lock file still naming a process that is gone does not name it as the holder."""
    from weaklab.store import lock_holder

    path = _store(tmp_path)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    import socket

    _lock_file(path).write_text(f"PID {gone.pid}: weaklab fit (host {socket.gethostname()})\n")
    assert lock_holder(path) == ""
    _lock_file(path).write_text(f"PID {os.getpid()}: weaklab fit (host {socket.gethostname()})\n")
    assert lock_holder(path).startswith(f"PID {os.getpid()}: weaklab fit")


def test_connection_holds_the_lock_a_store_takes(tmp_path):
    """Inside a writing weaklab.store.connection block the lock file names this process and a Store that cannot
    get the file in time says so; after the block the lock is free and the SQL's writes are in the store."""
    from weaklab.store import connection, lock_holder

    path = _store(tmp_path)
    with connection(path, timeout=5.0) as con:
        con.execute("CREATE TABLE mine (x INTEGER)")
        con.execute("INSERT INTO mine VALUES (1), (2)")
        assert lock_holder(path).startswith(f"PID {os.getpid()}: ")
        with pytest.raises(StoreError, match="locked by another process"):
            Store(path, timeout=0.2)
    assert lock_holder(path) == ""
    with connection(path, read_only=True) as con:
        assert con.execute("SELECT sum(x) FROM mine").fetchone()[0] == 3
    with Store(path, read_only=True) as ro:
        assert list(ro.datasets()["name"]) == ["mine"]
    with pytest.raises(StoreError, match="no such file"):
        with connection(tmp_path / "absent.duckdb", read_only=True):
            pass
