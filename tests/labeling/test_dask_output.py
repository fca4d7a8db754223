"""apply_lfs(engine="dask", output=...): votes written per partition equal the local engine's matrix."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from weaklab import ABSTAIN, LabelMatrix, PartitionedLabelMatrix, ValidationError
from weaklab.labeling import apply_lfs, keyword_lf, labeling_function, regex_lf, threshold_lf

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")

SPAM, HAM = 1, 0


@labeling_function()
def lf_fails_on_seven(x):
    if x.n == 7:
        raise ValueError("seven")
    return SPAM if x.n > 20 else ABSTAIN


LFS = [keyword_lf("free", SPAM), regex_lf(r"check \w+ out", SPAM), keyword_lf("love", HAM),
       threshold_lf("n", above=30, label=1)]


def frame(n=150):
    words = ["free money", "nice song?", "check it out", "FREE!", "love this", "why?", "love free stuff"]
    return pd.DataFrame({"text": [words[i % 7] for i in range(n)], "n": np.arange(n) % 37,
                         "key": [f"k{i}" for i in range(n)]})


def gathered(plm: PartitionedLabelMatrix) -> LabelMatrix:
    """All partitions concatenated (tests only: real runs never do this)."""
    return LabelMatrix.concat([plm.read_partition(i) for i in range(plm.n_partitions)])


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="sync"):
        yield


def test_partitioned_votes_equal_the_local_matrix(tmp_path):
    """Votes, ids, sources, versions and coverage written per partition equal the local engine's."""
    df = frame()
    local, local_report = apply_lfs(LFS, df, item_id="key", progress=False)
    plm, report = apply_lfs(LFS, dd.from_pandas(df, npartitions=3, sort=False), engine="dask",
                            output=tmp_path / "votes", item_id="key")
    assert isinstance(plm, PartitionedLabelMatrix)
    assert plm.n_partitions == 3 and plm.n_items == len(df) and sum(plm.partition_rows) == len(df)
    assert gathered(plm).equals(local)
    assert plm.source_versions == local.source_versions and plm.source_names == local.source_names
    assert report.coverage == pytest.approx(local_report.coverage) and report.n_items == len(df)
    assert sorted(p.name for p in (tmp_path / "votes" / "votes").iterdir()) == [
        "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]


def test_a_partitioned_matrix_reopens_from_its_metadata_and_is_frozen(tmp_path):
    """open(root) rebuilds the same matrix from _weaklab.json; fields cannot be assigned."""
    plm, _ = apply_lfs(LFS, dd.from_pandas(frame(), npartitions=2), engine="dask", output=str(tmp_path),
                       class_names=["ham", "spam"])
    again = PartitionedLabelMatrix.open(str(tmp_path))
    assert again == plm and again.class_names == ("ham", "spam")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plm.n_classes = 3  # type: ignore[misc]


def test_votes_columns_are_small_integers_named_by_source(tmp_path):
    """Each partition file holds item_id then one int8 column per LF."""
    plm, _ = apply_lfs(LFS, dd.from_pandas(frame(), npartitions=2), engine="dask", output=tmp_path)
    raw = plm.read_votes(0)
    assert list(raw.columns) == ["item_id", *plm.source_names]
    assert all(raw[name].dtype == np.int8 for name in plm.source_names)


def test_an_fsspec_url_works(tmp_path):
    """A memory:// URL is written and read through fsspec like a local path."""
    df = frame(40)
    local, _ = apply_lfs(LFS, df, progress=False)
    plm, _ = apply_lfs(LFS, dd.from_pandas(df, npartitions=2), engine="dask", output="memory://weaklab-test/v")
    assert plm.root == "memory://weaklab-test/v"
    assert gathered(plm).equals(local)
    assert PartitionedLabelMatrix.open("memory://weaklab-test/v") == plm


def test_faults_are_recorded_with_rows_of_the_whole_data(tmp_path):
    """on_error='abstain' records the same faults (global rows) as the local engine."""
    df = frame(80)
    with pytest.warns(RuntimeWarning):
        local, local_report = apply_lfs([lf_fails_on_seven, *LFS], df, on_error="abstain", progress=False)
    with pytest.warns(RuntimeWarning):
        plm, report = apply_lfs([lf_fails_on_seven, *LFS], dd.from_pandas(df, npartitions=3), engine="dask",
                                output=tmp_path, on_error="abstain")
    assert report.n_faults == local_report.n_faults
    assert [f.row for f in report.faults] == [f.row for f in local_report.faults]
    assert gathered(plm).equals(local)


def test_output_needs_the_dask_engine(tmp_path):
    """output= with the local engine is refused, naming the parameter."""
    with pytest.raises(ValidationError, match="output"):
        apply_lfs(LFS, frame(), output=tmp_path)


def test_inferred_classes_come_from_the_largest_vote_of_any_partition(tmp_path):
    """Without n_classes, k is the largest vote over all partitions plus one."""
    df = frame(60)
    lf_five = threshold_lf("n", above=35, label=4)
    plm, _ = apply_lfs([*LFS, lf_five], dd.from_pandas(df, npartitions=4), engine="dask", output=tmp_path)
    local, _ = apply_lfs([*LFS, lf_five], df, progress=False)
    assert plm.n_classes == local.n_classes == 5


def test_on_a_local_cluster(tmp_path):
    """On a distributed LocalCluster the written votes equal the local engine's."""
    distributed = pytest.importorskip("distributed")
    df = frame()
    local, _ = apply_lfs(LFS, df, item_id="key", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster):
        plm, report = apply_lfs(LFS, dd.from_pandas(df, npartitions=4), engine="dask", output=tmp_path,
                                item_id="key")
    assert gathered(plm).equals(local) and report.engine == "dask"


def test_fingerprints_follow_content_not_location(tmp_path):
    """The same votes at two roots share a fingerprint; other votes do not."""
    df = frame(60)
    a, _ = apply_lfs(LFS, dd.from_pandas(df, npartitions=2), engine="dask", output=tmp_path / "a", item_id="key")
    b, _ = apply_lfs(LFS, dd.from_pandas(df, npartitions=2), engine="dask", output=tmp_path / "b", item_id="key")
    c, _ = apply_lfs([*LFS[:3], keyword_lf("song", HAM)], dd.from_pandas(df, npartitions=2), engine="dask",
                     output=tmp_path / "c", item_id="key")
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert a.partition_fingerprints == PartitionedLabelMatrix.open(str(tmp_path / "a")).partition_fingerprints


def test_an_item_is_located_by_its_id(tmp_path):
    """locate(id) gives the partition and row holding the item; an unknown id is refused."""
    plm, _ = apply_lfs(LFS, dd.from_pandas(frame(60), npartitions=3), engine="dask", output=tmp_path,
                       item_id="key")
    part, row = plm.locate("k45")
    assert plm.read_partition(part).item_ids[row] == "k45"
    with pytest.raises(ValidationError, match="item_id"):
        plm.locate("nope")
