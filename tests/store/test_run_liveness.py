"""A run whose process died is shown as interrupted, and defaults skip it (issue 11, item 6)."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from weaklab.store import Store

_START_AND_DIE = """
import os, signal, sys
from weaklab.store import Store
store = Store(sys.argv[1])
print(store.start_run(1, {"steps": ["fit"]}), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _run_and_get_killed(path) -> int:
    done = subprocess.run([sys.executable, "-c", _START_AND_DIE, str(path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == -9, done.stderr
    return int(done.stdout.strip())


def test_a_run_whose_process_was_killed_is_interrupted_and_not_the_default(tmp_path):
    """After SIGKILL the run reads as interrupted (also read-only), is persisted as such, and defaults skip it."""
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        ds = store.add_dataset("d", item_ids=["a", "b"])
        finished = store.start_run(ds)
        store.finish_run(finished)
    dead = _run_and_get_killed(path)
    with Store(path, read_only=True) as store:
        runs = store.runs().set_index("run_id")
        assert runs.loc[dead, "status"] == "interrupted"
        assert store.latest_run_id() == finished
        assert store.explain("a")["run_id"] == finished
    with Store(path) as store:
        assert store.runs().set_index("run_id").loc[dead, "status"] == "interrupted"
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT status FROM runs WHERE run_id = ?", [dead]).fetchone()[0] == "interrupted"
    con.close()


def test_a_run_of_a_live_process_stays_running(tmp_path):
    """A run started by this (live) process is not marked interrupted when the store is opened again."""
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        ds = store.add_dataset("d", n_items=2)
        run = store.start_run(ds)
    with Store(path) as store:
        assert store.runs()["status"].tolist() == ["running"]
        assert store.latest_run_id() is None
        assert store.latest_run_id(status=None) == run
        store.finish_run(run)
