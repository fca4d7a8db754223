"""PartitionedLabelMatrix and its tree-reduced statistics equal the statistics of the whole matrix."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from weaklab import LabelMatrix, PartitionedLabelMatrix, PartitionedSoftLabels, ValidationError
from weaklab._core.partition_stats import merge_statistics, partition_statistics
from weaklab.labeling import lf_conflicts, lf_overlaps
from weaklab.synthetic import make_label_matrix

dask = pytest.importorskip("dask")


@pytest.fixture(autouse=True)
def threads():
    with dask.config.set(scheduler="threads", num_workers=2):
        yield


def split(L: LabelMatrix, sizes: list[int]) -> list[LabelMatrix]:
    bounds = np.cumsum([0, *sizes])
    return [L.select_items(np.arange(a, b)) for a, b in itertools.pairwise(bounds)]


def matrix(n=500, m=6, k=3, seed=0) -> LabelMatrix:
    return make_label_matrix(n, m, k, coverage=0.4, random_state=seed).L


def test_reduced_statistics_equal_those_of_the_whole_matrix(tmp_path):
    """Overlaps, conflicts and pattern counts (first-appearance order) match the concatenated votes."""
    L = matrix()
    plm = PartitionedLabelMatrix.write(tmp_path, split(L, [100, 50, 200, 1, 149]))
    s = plm.statistics(split_every=2)
    whole = partition_statistics(L.to_dense(), L.n_classes)
    np.testing.assert_array_equal(s.overlaps, whole.overlaps)
    np.testing.assert_array_equal(s.patterns, L.vote_patterns().patterns)
    np.testing.assert_array_equal(s.pattern_counts, L.vote_patterns().counts)
    np.testing.assert_allclose(s.source_overlaps / L.n_items, lf_overlaps(L))
    np.testing.assert_allclose(s.source_conflicts / L.n_items, lf_conflicts(L))
    np.testing.assert_array_equal(s.source_votes, L.votes_per_source())
    assert s.votes_per_item.sum() == L.n_items == s.n_items


def test_pattern_tables_beyond_the_limit_are_dropped():
    """Merging keeps patterns only while there are at most max_patterns of them."""
    rng = np.random.default_rng(1)
    a = partition_statistics(rng.integers(-1, 2, size=(40, 8)), 2, max_patterns=60)
    b = partition_statistics(rng.integers(-1, 2, size=(40, 8)), 2, max_patterns=60)
    assert a.patterns is not None and b.patterns is not None
    merged = merge_statistics(a, b, max_patterns=60)
    assert merged.patterns is None and merged.pattern_counts is None and not merged.compresses
    assert merged.n_items == 80


def test_items_without_ids_get_global_row_numbers(tmp_path):
    """write() numbers id-less items by their row over all partitions."""
    L = matrix(30)
    plm = PartitionedLabelMatrix.write(tmp_path, split(L, [10, 20]))
    assert plm.read_partition(1).item_ids.tolist() == list(range(10, 30))
    assert plm.partition_offsets.tolist() == [0, 10]


def test_containers_validate_their_fields(tmp_path):
    """Row counts must match the partitions; 'item_id' cannot name a source."""
    with pytest.raises(ValidationError, match="partition_rows"):
        PartitionedLabelMatrix(str(tmp_path), ("a", "b"), 2, ("p0",), (1, 2))
    with pytest.raises(ValidationError, match="source_names"):
        PartitionedLabelMatrix(str(tmp_path), ("item_id", "b"), 2, ("p0",), (1,))
    with pytest.raises(ValidationError, match="n_classes"):
        PartitionedSoftLabels(str(tmp_path), 1, ("p0",), (1,))


def test_opening_the_wrong_kind_of_dataset_fails(tmp_path):
    """Soft labels cannot be opened as votes."""
    PartitionedSoftLabels(str(tmp_path), 2, ("part-00000.parquet",), (0,)).save_metadata()
    with pytest.raises(ValidationError, match="votes"):
        PartitionedLabelMatrix.open(str(tmp_path))
