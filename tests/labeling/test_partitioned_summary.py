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
