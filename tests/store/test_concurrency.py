"""Processes share a store: an open but idle Store blocks nobody, readers read while others write,
and a writer that waits too long fails naming the holder's PID and command."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from weaklab import StoreError
from weaklab.store import Store

IDLE = textwrap.dedent("""
    import sys
    from weaklab.store import Store

    st = Store(sys.argv[1])
    st.add_dataset("idle-holder", n_items=3)
    print("ready", flush=True)
    sys.stdin.readline()
    print(len(st.datasets()), flush=True)
    st.close()
""")

BUSY_READER = textwrap.dedent("""
    import sys, time
    from weaklab.store import Store

    st = Store(sys.argv[1], read_only=True)
    print("ready", flush=True)
    end = time.monotonic() + float(sys.argv[2])
    n = 0
    while time.monotonic() < end:
        with st.session():
            st.runs()
            st.datasets()
        n += 1
    print(n, flush=True)
""")

WRITE_LOOP = textwrap.dedent("""
    import sys
    from weaklab.store import Store

    st = Store(sys.argv[1])
    ds = int(st.datasets()["dataset_id"][0])
    for i in range(int(sys.argv[2])):
        run = st.start_run(ds)
        st.finish_run(run, metrics={"i": i})
    print("done", flush=True)
""")


def _spawn(tmp_path, code, *args):
    script = tmp_path / "child.py"
    script.write_text(code)
    return subprocess.Popen([sys.executable, str(script), *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _store(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        st.add_dataset("mine", n_items=2)
    return path


def test_an_idle_open_store_blocks_neither_readers_nor_writers(tmp_path):
    """Another process with an open, idle Store lets this one read and write; both see every record."""
    path = _store(tmp_path)
    child = _spawn(tmp_path, IDLE, path)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(0.6)  # longer than the linger of its last operation
        with Store(path, read_only=True, timeout=0.5) as ro:
            assert sorted(ro.datasets()["name"]) == ["idle-holder", "mine"]
        with Store(path, timeout=0.5) as rw:
            rw.add_dataset("third", n_items=1)
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "3", child.stderr.read()
    finally:
        child.kill()
        child.wait()


def test_readers_keep_reading_while_another_process_writes(tmp_path):
    """Reads in this process never fail while another process records 30 runs."""
    path = _store(tmp_path)
    child = _spawn(tmp_path, WRITE_LOOP, path, 30)
    seen = set()
    try:
        with Store(path, read_only=True) as ro:
            while child.poll() is None:
                seen.add(len(ro.runs()))
        assert child.stdout.read().strip() == "done", child.stderr.read()
        with Store(path, read_only=True) as ro:
            assert len(ro.runs()) == 30
    finally:
        child.kill()
        child.wait()
    assert len(seen) > 1  # the reads saw the writes land


def test_a_writer_gets_in_while_another_process_reads_without_pause(tmp_path):
    """A process reading in a tight loop lets a writer in within its wait time."""
    path = _store(tmp_path)
    child = _spawn(tmp_path, BUSY_READER, path, 4.0)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(0.3)
        with Store(path, timeout=3.0) as rw:
            for _ in range(3):
                rw.start_run(int(rw.datasets()["dataset_id"][0]))
        assert int(child.stdout.readline()) > 0, child.stderr.read()
    finally:
        child.kill()
        child.wait()


def test_a_writer_waits_its_timeout_then_names_the_holder(tmp_path):
    """With the file held for writing, Store(timeout=t) waits about t seconds, then names PID and command."""
    path = _store(tmp_path)
    holder = textwrap.dedent("""
        import sys
        from weaklab.store import Store
        st = Store(sys.argv[1])
        with st.session(write=True):
            print("ready", flush=True)
            sys.stdin.readline()
    """)
    child = _spawn(tmp_path, holder, path, "--marker-arg")
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            Store(path, timeout=0.5)
        waited = time.monotonic() - started
        message = str(info.value)
        assert f"PID {child.pid}: " in message and "child.py" in message and "--marker-arg" in message, message
        assert "--wait SECONDS" in message and "timeout=" in message
        assert 0.4 <= waited < 5.0
    finally:
        child.kill()
        child.wait()


def test_one_process_reads_and_writes_from_threads(tmp_path):
    """Threads of one process share the connection: concurrent reads and writes all succeed."""
    import threading

    path = _store(tmp_path)
    errors = []
    with Store(path) as st:
        ds = int(st.datasets()["dataset_id"][0])

        def work(i):
            try:
                for _ in range(5):
                    if i % 2:
                        st.finish_run(st.start_run(ds), metrics={"t": i})
                    else:
                        st.runs()
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len(st.runs()) == 15


def _flaky_connect(monkeypatch, n_failures):
    """duckdb.connect failing as DuckDB does when it read the headers just before another process's checkpoint."""
    import duckdb

    real, calls = duckdb.connect, []

    def connect(*args, **kwargs):
        calls.append(args)
        if n_failures is None or len(calls) <= n_failures:
            raise duckdb.IOException('IO Error: Could not read enough bytes from file "s.duckdb": '
                                     "attempted to read 262144 bytes from location 3420160")
        return real(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", connect)
    return calls


def test_an_open_that_reads_the_headers_mid_checkpoint_is_retried(tmp_path, monkeypatch):
    """DuckDB reads the headers before its lock: an open that sees blocks moved by a checkpoint opens again."""
    path = _store(tmp_path)
    calls = _flaky_connect(monkeypatch, 2)
    with Store(path, read_only=True, timeout=5.0) as ro:
        assert list(ro.datasets()["name"]) == ["mine"]
    assert len(calls) == 3


def test_a_file_damaged_for_good_is_reported_after_the_retries(tmp_path, monkeypatch):
    """Damage that persists past the retry window (bounded by timeout) is a StoreError naming the file."""
    path = _store(tmp_path)
    calls = _flaky_connect(monkeypatch, None)
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        Store(path, read_only=True, timeout=0.3)
    waited = time.monotonic() - started
    message = str(info.value)
    assert str(path) in message and "damaged or cut short" in message and "still so after retrying" in message
    assert len(calls) > 1 and 0.25 <= waited < 3.0
