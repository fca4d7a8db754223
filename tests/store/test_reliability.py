"""Crash safety, the one-writer lock, damaged array files and explain latency."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from weaklab import LabelMatrix, SoftLabels, StoreError
from weaklab.store import Store

WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from weaklab import LabelMatrix, SoftLabels
    from weaklab.store import Store

    path, n = sys.argv[1], 20_000
    rng = np.random.default_rng(0)
    with Store(path) as st:
        ds = st.add_dataset("big", n_items=n)
        while True:
            votes = rng.integers(-1, 3, size=(n, 20))
            run = st.start_run(ds)
            app = st.add_application(ds, LabelMatrix(votes, n_classes=3), run_id=run)
            st.add_soft_labels(ds, SoftLabels(rng.dirichlet([1, 1, 1], size=n)), run_id=run)
            st.finish_run(run, metrics={"i": run})
            print(run, app, flush=True)
""")

HOLDER = textwrap.dedent("""
    import sys
    from weaklab.store import Store

    st = Store(sys.argv[1])
    with st.session(write=True):
        st.add_dataset("held", n_items=3)
        print("ready", flush=True)
        sys.stdin.readline()
    st.close()
    print("closed", flush=True)
""")


def _spawn(tmp_path, code, *args):
    script = tmp_path / "child.py"
    script.write_text(code)
    return subprocess.Popen([sys.executable, str(script), *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_during_writes_keeps_every_committed_record(tmp_path):
    """A writer killed with SIGKILL mid-loop leaves a store that opens and holds every committed run."""
    path = tmp_path / ".weaklab" / "weaklab.duckdb"
    child = _spawn(tmp_path, WRITER, path)
    committed = []
    try:
        while len(committed) < 3:
            line = child.stdout.readline()
            assert line, child.stderr.read()
            committed.append(tuple(int(x) for x in line.split()))
        time.sleep(0.15)  # land inside the next iteration's writes
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    with Store(path) as st:
        runs = st.runs()
        finished = set(runs.loc[runs["status"] == "finished", "run_id"])
        for run, app in committed:
            assert run in finished
            L = st.load_matrix(app)
            assert L.shape == (20_000, 20)
            assert st.explain(0, run)["run_id"] == run
        ds = st.datasets()["dataset_id"][0]
        new_run = st.start_run(int(ds))  # the store is writable again
        assert new_run > max(runs["run_id"])


def test_a_second_writer_gets_a_clear_lock_error_and_nothing_is_lost(tmp_path):
    """While one process holds a write session, another gets StoreError naming the file and the holder."""
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        st.add_dataset("mine", n_items=2)
    child = _spawn(tmp_path, HOLDER, path)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        for read_only in (False, True):
            with pytest.raises(StoreError, match=rf"s\.duckdb.*locked by another process \(PID {child.pid}: "
                                                 r".*child\.py"):
                Store(path, read_only=read_only, timeout=0.2)
        child.stdin.write("\n")
        child.stdin.flush()
        with Store(path, timeout=30) as st:  # waits for the holder to close
            assert sorted(st.datasets()["name"]) == ["held", "mine"]
    finally:
        child.kill()
        child.wait()


def test_several_readers_share_a_store(tmp_path):
    """Two processes can read one store at the same time with read_only=True."""
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        st.add_dataset("d", n_items=4)
    reader = textwrap.dedent("""
        import sys
        from weaklab.store import Store
        with Store(sys.argv[1], read_only=True) as st:
            print(len(st.datasets()), flush=True)
            sys.stdin.readline()
    """)
    child = _spawn(tmp_path, reader, path)
    try:
        assert child.stdout.readline().strip() == "1", child.stderr.read()
        with Store(path, read_only=True) as ro:
            assert len(ro.datasets()) == 1
    finally:
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait(timeout=30)


@pytest.mark.parametrize("damage", ["garbage", "truncate", "delete"])
def test_damaged_array_files_give_a_store_error_naming_the_file(tmp_path, damage):
    """A corrupt, truncated or missing Parquet file raises StoreError naming that file."""
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        ds = st.add_dataset("d", n_items=500)
        app = st.add_application(ds, LabelMatrix(np.random.default_rng(0).integers(-1, 2, (500, 4))))
    files = [p for p in (tmp_path / "arrays").glob("*.parquet")]
    votes = max(files, key=lambda p: p.stat().st_size)
    size = votes.stat().st_size
    if damage == "garbage":
        votes.write_bytes(b"x" * size)
    elif damage == "truncate":
        votes.write_bytes(votes.read_bytes()[: size // 2])
    else:
        votes.unlink()
    with Store(path) as st, pytest.raises(StoreError, match=votes.name):
        st.load_matrix(app)


def test_explain_is_fast(tmp_path):
    """explain costs under 30 ms of CPU per item on a 50k-item, 30-source run, answered or not (target 50 ms).

    CPU time of this process (not wall time), the best median of three rounds of 20 items, so that other
    work on a shared machine does not make the test flaky. Measured at load ~31 on 2 cores: best medians
    17-21 ms since explain holds one read lease for all its queries and skips resolving the answers of
    unanswered items, 39-41 ms before; benchmarks/store.py reports wall-clock latency at 1M items.
    """
    n, m = 50_000, 30
    rng = np.random.default_rng(0)
    ids = np.array([f"item-{i}" for i in range(n)], dtype=object)
    with Store(tmp_path / "s.duckdb") as st:
        ds = st.add_dataset("d", ids)
        run = st.start_run(ds)
        st.add_application(ds, LabelMatrix(rng.integers(-1, 2, (n, m)), item_ids=ids), run_id=run)
        st.add_soft_labels(ds, SoftLabels(rng.dirichlet([1, 1], size=n), item_ids=ids), run_id=run)
        st.add_corrections(run, ids[:100], 1, who="t")
        st.add_annotations(ds, ids[:2_000], [f"a{i % 5}" for i in range(2_000)], rng.integers(0, 2, 2_000))
        st.finish_run(run)
    with Store(tmp_path / "s.duckdb", read_only=True) as st:  # as `weaklab explain` reads
        st.explain(ids[0], run)  # warm the row-group index
        medians = []
        for _ in range(3):
            times = []
            for i in [*rng.integers(0, 2_000, size=5), *rng.integers(2_000, n, size=15)]:
                t0 = time.process_time()
                story = st.explain(ids[i], run)
                times.append(time.process_time() - t0)
                assert story["row"] == i and (story["human"]["status"] is not None) == (i < 2_000)
            medians.append(float(np.median(times)))
    assert min(medians) < 0.03
