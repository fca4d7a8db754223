"""Faults on a LocalCluster with nannies: a worker killed mid-apply and mid-EM; the run equals the local engine
or fails with a clear error, and nothing half-written is left behind.

The kills are deterministic. Mid-apply: a labeling function SIGKILLs its own worker the first time it meets
one chosen partition (a marker file records that it did). Mid-EM: a worker plugin SIGKILLs its worker when an
E-step task starts after the first E-step round trips are done. The nanny restarts the worker; the scheduler
reruns the lost tasks (from the Parquet partitions). After a run that failed, a rerun reuses the partitions
already written.

Speed: the workers fork from a forkserver that has already imported weaklab, pandas, pyarrow and Dask, so a
worker the nanny restarts after a kill is ready in a fraction of a second of CPU instead of re-importing them
(each of the four kills below costs one restart on the tests' critical path).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from weaklab import ABSTAIN, LabelMatrix, PartitionedLabelMatrix
from weaklab.labeling import apply_lfs, keyword_lf, labeling_function, regex_lf
from weaklab.models import DawidSkene

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

SPAM, HAM = 1, 0
N_PARTITIONS = 6


def comments(n: int = 600) -> pd.DataFrame:
    words = ["free money now", "nice song", "check it out", "FREE prize", "love this", "why though"]
    return pd.DataFrame({"id": [f"c{i}" for i in range(n)],
                         "text": [words[i % 6] + f" {i}" for i in range(n)],
                         "n": np.arange(n)})


def killer_lf(marker: Path, at_row: int, *, armed: Path | None = None):
    """An LF that SIGKILLs its worker when it meets row ``at_row``: once, or every time while ``armed`` exists.

    Every partition it runs on is recorded as a file ``ran-<first row>`` beside ``marker``.
    """

    @labeling_function(vectorized=True, name="lf_kills_a_worker")
    def lf_kills_a_worker(df):
        (marker.parent / f"ran-{int(df['n'].iloc[0])}").touch()
        if (df["n"] == at_row).any() and ((armed is not None and armed.exists()) or
                                          (armed is None and not marker.exists())):
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return np.where(df["n"] % 7 == 0, HAM, ABSTAIN)

    return lf_kills_a_worker


LFS = [keyword_lf(["free", "prize"], SPAM), regex_lf(r"check \w+ out", SPAM), keyword_lf(["love", "song"], HAM)]


def e_step_killer(counter: Path, marker: Path, after: int):
    """A worker plugin that SIGKILLs its worker when an E-step task starts after ``after`` E-step tasks ran."""
    from distributed import WorkerPlugin

    class KillMidEM(WorkerPlugin):
        name = "kill-mid-em"

        def transition(self, key, start, finish, **kwargs):
            if finish != "executing" or "partition_sums" not in str(key):
                return
            with counter.open("a") as handle:
                handle.write(".")
            if counter.stat().st_size > after and not marker.exists():
                marker.touch()
                os.kill(os.getpid(), signal.SIGKILL)

    return KillMidEM()


#: What the forkserver imports once, so that every worker it forks (and every restart) starts warm.
PRELOAD = ["distributed", "dask", "dask.dataframe", "numpy", "pandas", "pyarrow.parquet", "scipy.sparse",
           "weaklab", "weaklab.labeling", "weaklab.models"]


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes, each under a nanny (which restarts a killed worker)."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.worker.multiprocessing-method": "forkserver"}):
        # distributed sets its own preload list the first time it asks for the context; ours replaces it
        # (it only matters before the forkserver starts, i.e. for the first cluster of this process).
        assert distributed.utils.get_mp_context() is multiprocessing.get_context("forkserver")
        multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.worker.multiprocessing-method": "forkserver"}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=":0") as running:
        yield running


@pytest.fixture()
def client(cluster):
    with distributed.Client(cluster) as c:
        c.wait_for_workers(2, timeout=120)
        yield c


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if ".tmp" in p.name)


def test_a_worker_killed_mid_apply_gives_the_local_matrix(client, tmp_path):
    """SIGKILL of the worker running one partition: it reruns elsewhere; the Parquet votes equal the local matrix."""
    data = comments()
    marker = tmp_path / "killed"
    local, _ = apply_lfs([*LFS, killer_lf(tmp_path / "never", at_row=-1)], data, item_id="id", progress=False)
    pids_before = set(client.run(os.getpid).values())
    plm, report = apply_lfs([*LFS, killer_lf(marker, at_row=350)],
                            dd.from_pandas(data, npartitions=N_PARTITIONS, sort=False), engine="dask",
                            item_id="id", output=str(tmp_path / "votes"), progress=False)
    assert marker.exists(), "the worker was not killed: the test did not test anything"
    assert set(client.run(os.getpid).values()) != pids_before, "no worker was restarted"
    parts = [plm.read_partition(i) for i in range(plm.n_partitions)]
    assert np.array_equal(np.concatenate([p.to_dense() for p in parts]), local.to_dense())
    assert list(np.concatenate([p.item_ids for p in parts])) == list(local.item_ids)
    assert report.n_items == len(data) and _leftovers(tmp_path / "votes") == []


def _wait_until_idle(client, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while sum(client.run(lambda dask_worker: dask_worker.state.executing_count).values()):
        assert time.monotonic() < deadline, "the workers kept executing tasks"
        time.sleep(0.05)


def _ran(folder: Path) -> set[int]:
    """First rows of the partitions the killer LF ran on (then forgotten)."""
    files = list(folder.glob("ran-*"))
    for f in files:
        f.unlink()
    return {int(f.name.split("-")[1]) for f in files}


def test_a_partition_that_kills_every_worker_fails_clearly_and_a_rerun_resumes(client, tmp_path):
    """A task that kills each worker it runs on: KilledWorker naming the task, no manifest, no half-written file;
    the rerun (the same LFs, the killer disarmed) recomputes only the partitions the failed run did not finish."""
    root, armed, data = tmp_path / "votes", tmp_path / "armed", comments()
    armed.touch()
    lfs = [*LFS, killer_lf(tmp_path / "killed", at_row=10, armed=armed)]

    def run():
        return apply_lfs(lfs, dd.from_pandas(data, npartitions=N_PARTITIONS, sort=False), engine="dask",
                         item_id="id", output=str(root), progress=False)

    # The error names a task of the run: the one writing the partition, or (when the dying workers held it) the
    # data partition it reads; which one reaches the scheduler's failure limit first depends on timing.
    with pytest.raises(distributed.KilledWorker, match=r"write_partition|frompandas"):
        run()
    assert not (root / "_weaklab.json").exists() and _leftovers(root) == []
    with pytest.raises(Exception, match=r"_weaklab\.json|No such file|not found"):
        PartitionedLabelMatrix.open(str(root))
    _wait_until_idle(client)  # tasks of the failed run already running on a worker finish (Dask cannot stop them)
    finished = len(list((root / "_manifest").glob("part-*.json"))) if (root / "_manifest").exists() else 0
    assert finished < N_PARTITIONS
    _ran(tmp_path)
    armed.unlink()
    plm, report = run()
    recomputed = _ran(tmp_path)
    assert 0 in recomputed and len(recomputed) == N_PARTITIONS - finished == N_PARTITIONS - report.partitions_reused
    local, _ = apply_lfs(lfs, data, item_id="id", progress=False)
    parts = [plm.read_partition(i) for i in range(plm.n_partitions)]
    assert np.array_equal(np.concatenate([p.to_dense() for p in parts]), local.to_dense())
    assert list(np.concatenate([p.item_ids for p in parts])) == list(local.item_ids)


def crowd(n: int = 480, m: int = 40, seed: int = 0) -> LabelMatrix:
    """Crowd-shaped votes (many sources, few votes each): the patterns do not compress, so EM is distributed."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    accuracy = rng.uniform(0.5, 0.9, m)
    right = rng.random((n, m)) < accuracy
    votes = np.where(right, y[:, None], (y[:, None] + rng.integers(1, 3, (n, m))) % 3)
    votes[rng.random((n, m)) > 0.25] = ABSTAIN
    return LabelMatrix(votes.astype(np.int8), n_classes=3)


def test_a_worker_killed_mid_em_gives_the_local_fit(client, tmp_path):
    """SIGKILL of a worker during an E-step of distributed EM: the fit still equals the local one to 1e-6."""
    L = crowd()
    rows = np.array_split(np.arange(L.n_items), N_PARTITIONS)
    plm = PartitionedLabelMatrix.write(str(tmp_path / "crowd"),
                                       [LabelMatrix(L.to_dense()[r], n_classes=3) for r in rows])
    assert not plm.statistics().compresses, "the votes compress: EM would not be distributed"
    counter, marker = tmp_path / "e-steps", tmp_path / "killed"
    client.register_plugin(e_step_killer(counter, marker, after=2 * N_PARTITIONS))
    try:
        model = DawidSkene(random_state=0, max_iter=30).fit(plm)
    finally:
        client.unregister_worker_plugin("kill-mid-em")
    assert marker.exists(), "no worker was killed during EM: the test did not test anything"
    local = DawidSkene(random_state=0, max_iter=30).fit(L)
    soft = model.predict_proba(plm, output=str(tmp_path / "soft"))
    proba = np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])
    np.testing.assert_allclose(proba, local.predict_proba(L), atol=1e-6)
    np.testing.assert_allclose(model.class_balance_, local.class_balance_, atol=1e-6)
