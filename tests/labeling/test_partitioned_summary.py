"""lf_summary of a PartitionedLabelMatrix equals lf_summary of the whole matrix."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from weaklab import PartitionedLabelMatrix, ValidationError
from weaklab.labeling import lf_summary
from weaklab.synthetic import make_label_matrix

dask = pytest.importorskip("dask")


def test_partitioned_summary_equals_the_local_one(tmp_path):
    """Polarity, coverage, overlaps, conflicts and est_acc match the concatenated matrix."""
    L = make_label_matrix(700, 7, 3, coverage=(0.05, 0.6), random_state=2).L
    parts = [L.select_items(np.arange(a, b)) for a, b in itertools.pairwise([0, 100, 101, 450, 700])]
    plm = PartitionedLabelMatrix.write(tmp_path, parts)
    est = np.linspace(0.5, 0.9, 7)
    with dask.config.set(scheduler="sync"):
        remote = lf_summary(plm, est_accuracy=est)
    pd.testing.assert_frame_equal(remote, lf_summary(L, est_accuracy=est))
    with pytest.raises(ValidationError, match="gold"):
        lf_summary(plm, gold=np.zeros(700, dtype=int))


def test_gold_columns_from_counts_summed_over_parts_equal_lf_summarys():
    """lf_summary's gold columns are gold_columns of gold_vote_counts, and the counts of disjoint parts of the items
    add up to the whole's (what the Dask engine sums over partitions)."""
    from weaklab import LabelMatrix
    from weaklab.labeling import gold_columns, gold_vote_counts, lf_summary
    from weaklab.synthetic import make_lf_matrix

    L = make_lf_matrix(300, 6, 3, random_state=2).L
    gold = np.where(np.arange(300) % 3 == 0, np.arange(300) % 3 + np.arange(300) % 2, -1)
    summary = lf_summary(LabelMatrix(L.to_dense(), n_classes=3, class_names=["a", "b", "c"]), gold)
    parts = [gold_vote_counts(L.select_items(np.arange(a, b)), gold[a:b]) for a, b in ((0, 100), (100, 220),
                                                                                     (220, 300))]
    columns = gold_columns(sum(c for c, _ in parts), sum(t for _, t in parts), ["a", "b", "c"])
    for name, values in columns.items():
        np.testing.assert_array_equal(np.asarray(values), summary[name].to_numpy(), err_msg=name)
