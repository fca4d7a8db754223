"""The long (item, source, label) layout of votes partitions: crowd-shaped partitions store only their votes,
and every reader (apply's resume, statistics, lf_summary, issues, explain's partition read) gives what the dense
layout gives."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from weaklab import ABSTAIN, LabelMatrix, PartitionedLabelMatrix, ValidationError
from weaklab._core.votes_layout import LONG_MIN_SOURCES, choose_layout
from weaklab.cleaning import top_label_issues
from weaklab.labeling import apply_lfs, keyword_lf, lf_summary
from weaklab.models import DawidSkene
from weaklab.synthetic import make_crowd

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="sync"):
        yield


def split(L: LabelMatrix, bounds: list[int]) -> list[LabelMatrix]:
    return [L.select_items(np.arange(a, b)) for a, b in itertools.pairwise(bounds)]


def gathered(plm: PartitionedLabelMatrix) -> np.ndarray:
    return np.concatenate([plm.read_partition(i).to_dense() for i in range(plm.n_partitions)])


def test_auto_picks_long_only_for_many_sources_that_mostly_abstain():
    """auto: long needs LONG_MIN_SOURCES sources and sparse votes; explicit layouts are kept; others refused."""
    m = LONG_MIN_SOURCES
    assert choose_layout("auto", 100, m, 10) == "long"
    assert choose_layout("auto", 100, m - 1, 10) == "dense"
    assert choose_layout("auto", 100, m, 100 * m // 2) == "dense"
    assert choose_layout("dense", 100, 5000, 1) == "dense" and choose_layout("long", 10, 2, 20) == "long"
    with pytest.raises(ValidationError, match="layout"):
        choose_layout("wide", 10, 2, 1)


def test_a_crowd_written_long_stores_votes_not_abstentions(tmp_path):
    """A crowd of 300 workers: the long file has one row per vote (or per vote-less item), no source columns,
    and reads back as the same matrix, with empty rows and the empty partition kept."""
    L = make_crowd(120, 300, 3, 3, random_state=0).L.as_dense()
    votes = L.to_dense().copy()
    votes[5] = ABSTAIN  # an item without any vote keeps its place
    L = LabelMatrix(votes, n_classes=3, item_ids=np.array([f"t{i}" for i in range(120)]))
    plm = PartitionedLabelMatrix.write(tmp_path, split(L, [0, 50, 50, 120]))
    assert plm.partition_layouts == ("long", "dense", "long")  # an empty partition has no cells to spare
    raw = plm.read_votes(0)
    assert list(raw.columns) == ["item_id", "row", "source", "label"]
    assert len(raw) == L.select_items(np.arange(50)).nnz + 1
    np.testing.assert_array_equal(gathered(plm), L.to_dense())
    assert plm.locate("t5") == (0, 5) and plm.locate("t70") == (2, 20)
    assert PartitionedLabelMatrix.open(str(tmp_path)) == plm
    empty = PartitionedLabelMatrix.write(tmp_path / "empty", split(L, [0, 0, 10]), layout="long")
    assert empty.read_partition(0).n_items == 0 and len(empty.read_item_ids(0)) == 0
    np.testing.assert_array_equal(empty.read_partition(1).to_dense(), L.to_dense()[:10])


@pytest.mark.filterwarnings("ignore:DawidSkene did not converge")
def test_lf_summary_issues_and_distributed_em_agree_across_layouts(tmp_path):
    """lf_summary, DawidSkene's distributed EM and top_label_issues give the same on long and dense partitions."""
    L = make_crowd(150, 70, 3, 3, random_state=1).L.as_dense()
    parts = split(L, [0, 40, 100, 150])
    dense = PartitionedLabelMatrix.write(tmp_path / "dense", parts, layout="dense")
    long = PartitionedLabelMatrix.write(tmp_path / "long", parts, layout="long")
    pd.testing.assert_frame_equal(lf_summary(long), lf_summary(dense))
    pd.testing.assert_frame_equal(lf_summary(long), lf_summary(L))
    model_long, model_dense = DawidSkene(max_iter=15).fit(long), DawidSkene(max_iter=15).fit(dense)
    np.testing.assert_allclose(model_long.confusion_, model_dense.confusion_, atol=1e-6)
    np.testing.assert_allclose(model_long.confusion_, DawidSkene(max_iter=15).fit(L).confusion_, atol=1e-6)
    soft = model_long.predict_proba(long, output=tmp_path / "soft")
    pd.testing.assert_frame_equal(top_label_issues(long, soft, n=20), top_label_issues(dense, soft, n=20))


def test_apply_writes_many_sparse_lfs_long_and_resumes_them(tmp_path):
    """apply_lfs(engine="dask") with 70 keyword LFs that mostly abstain writes long partitions equal to the local
    matrix; a rerun reuses every one of them."""
    words = [f"w{j}" for j in range(70)]
    lfs = [keyword_lf([w], j % 3) for j, w in enumerate(words)]
    data = pd.DataFrame({"key": [f"k{i}" for i in range(90)],
                         "text": [f"{words[i % 70]} and {words[(i * 7) % 70]}" if i % 9 else "none" for i in
                                  range(90)]})
    local, _ = apply_lfs(lfs, data, item_id="key", n_classes=3, progress=False)

    def run():
        return apply_lfs(lfs, dd.from_pandas(data, npartitions=3, sort=False), engine="dask", item_id="key",
                         n_classes=3, output=str(tmp_path), progress=False)

    plm, report = run()
    assert plm.partition_layouts == ("long",) * 3 and report.partitions_reused == 0
    np.testing.assert_array_equal(gathered(plm), local.to_dense())
    again, report = run()
    assert report.partitions_reused == 3 and again == plm
