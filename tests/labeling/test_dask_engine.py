"""apply_lfs(engine="dask"): the same matrix and report as the local engine."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import pytest

from weaklab import ABSTAIN, LFExecutionError, ValidationError
from weaklab.labeling import apply_lfs, keyword_lf, labeling_function, regex_lf, threshold_lf

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")

SPAM, HAM = 1, 0


@labeling_function()
def lf_question(x):
    return HAM if x.text.endswith("?") else ABSTAIN


@labeling_function()
def lf_fails_on_seven(x):
    if x.n == 7:
        raise ValueError("seven")
    return SPAM if x.n > 20 else ABSTAIN


def frame(n=120):
    words = ["free money", "nice song?", "check it out", "FREE!", "love this", "why?"]
    return pd.DataFrame(
        {"text": [words[i % 6] + f" {i}" * (i % 3) for i in range(n)], "n": np.arange(n) % 37},
        index=pd.Index([f"id{i}" for i in range(n)]),
    )


LFS = [lf_question, keyword_lf("free", SPAM), regex_lf(r"check \w+ out", SPAM),
       threshold_lf("n", above=30, label=1)]


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


def test_dask_engine_equals_local_on_a_local_cluster(client):
    """On a LocalCluster the dask engine returns the local matrix, ids and coverage."""
    df = frame()
    local, local_report = apply_lfs(LFS, df, progress=False)
    distributed_L, report = apply_lfs(LFS, dd.from_pandas(df, npartitions=4, sort=False), engine="dask")
    assert distributed_L.equals(local)
    assert list(distributed_L.item_ids) == list(df.index)
    assert report.coverage == pytest.approx(local_report.coverage)
    assert report.engine == "dask" and report.n_items == len(df)


def test_dask_engine_faults_use_global_rows():
    """Faults recorded in partitions carry the same item ids and global rows as the local engine's."""
    df = frame()
    with dask.config.set(scheduler="synchronous"):
        with pytest.warns(RuntimeWarning):
            L, report = apply_lfs([lf_fails_on_seven, *LFS], dd.from_pandas(df, npartitions=3, sort=False),
                                  engine="dask", on_error="abstain")
    with pytest.warns(RuntimeWarning):
        local, local_report = apply_lfs([lf_fails_on_seven, *LFS], df, on_error="abstain", progress=False)
    assert L.equals(local)
    assert report.faults == local_report.faults and report.n_faults == local_report.n_faults
    assert report.n_faults[0] == int((df["n"] == 7).sum())


def test_dask_engine_raise_names_item_and_partition():
    """In raise mode a worker fault becomes LFExecutionError naming the LF, item and partition."""
    with dask.config.set(scheduler="synchronous"), pytest.raises(LFExecutionError, match="partition") as info:
        apply_lfs([lf_fails_on_seven], dd.from_pandas(frame(), npartitions=3, sort=False), engine="dask")
    failing = {f"id{i}" for i in range(120) if i % 37 == 7}  # whichever partition fails first
    assert info.value.lf_name == "lf_fails_on_seven" and info.value.item_id in failing
    assert isinstance(info.value.__cause__, ValueError)


@labeling_function()
def lf_fails_on_row_100(x):
    if x.text.endswith(" 100"):
        raise ValueError("one hundred")
    return ABSTAIN


@labeling_function(vectorized=True)
def lf_fails_on_a_batch_with_row_100(df):
    if df["text"].str.endswith(" 100").any():
        raise RuntimeError("batch with one hundred")
    return np.full(len(df), ABSTAIN)


@pytest.mark.parametrize("lf", [lf_fails_on_row_100, lf_fails_on_a_batch_with_row_100])
@pytest.mark.parametrize(("where", "npartitions"), [("synchronous", 3), ("cluster", 3), ("output", 3),
                                                    ("synchronous", 4), ("output", 7)])
def test_dask_engine_raises_the_local_engines_error_with_rows_of_the_whole_data(lf, where, npartitions, request,
                                                                                 tmp_path):
    """An LF that raises on item id100 gives the local engine's message (LF, item id, row 100 of the whole data --
    a vectorized LF's too, narrowed down from its batch) plus the partition: the same on the synchronous scheduler,
    on a cluster and with the votes written to Parquet, whether or not the partitions (30 or about 17 rows) line up
    with the local engine's batches (40 rows)."""
    df = frame()
    with pytest.raises(LFExecutionError) as local:
        apply_lfs([lf], df, progress=False, batch_size=40)
    assert "item 'id100' (row 100)" in str(local.value) and local.value.row == 100
    ddf = dd.from_pandas(df, npartitions=npartitions, sort=False)
    partition = int(np.searchsorted(np.cumsum(ddf.map_partitions(len).compute()), 100, side="right"))
    output = {"output": str(tmp_path / "votes")} if where == "output" else {}
    if where == "cluster":
        request.getfixturevalue("client")
    with dask.config.set(scheduler="synchronous") if where != "cluster" else contextlib.nullcontext():
        with pytest.raises(LFExecutionError) as info:
            apply_lfs([lf], ddf, engine="dask", **output)
    assert str(info.value) == f"{local.value} (partition {partition})"
    assert (info.value.lf_name, info.value.item_id, info.value.row, info.value.partition) == (
        lf.name, local.value.item_id, local.value.row, partition)


@labeling_function(vectorized=True)
def lf_fails_on_batches_of_ten_or_more(df):
    if len(df) >= 10:
        raise RuntimeError("too many at once")
    return np.full(len(df), ABSTAIN)


def test_a_vectorized_lf_that_fails_only_on_a_whole_batch_keeps_the_batch_rows():
    """No half of the batch fails alone: the error names the batch's rows (no item), as before."""
    with pytest.raises(LFExecutionError, match=r"on the batch of rows 0\.\.39$") as info:
        apply_lfs([lf_fails_on_batches_of_ten_or_more], frame(), progress=False, batch_size=40)
    assert info.value.item_id is None and info.value.row is None


def test_dask_engine_accepts_pandas_and_checks_columns():
    """A pandas DataFrame is split into partitions; a missing column fails before computing."""
    df = frame(50)
    with dask.config.set(scheduler="synchronous"):
        L, _ = apply_lfs(LFS, df, engine="dask", batch_size=16)
        with pytest.raises(ValidationError, match="'author'"):
            apply_lfs([keyword_lf("a", 1, field="author")], dd.from_pandas(df, npartitions=2, sort=False),
                      engine="dask")
    local, _ = apply_lfs(LFS, df, progress=False)
    assert L.equals(local)
    np.testing.assert_array_equal(L.to_dense()[:, 0] == HAM, df["text"].str.endswith("?").to_numpy())
