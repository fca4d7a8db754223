"""top_label_issues over partitions equals rank_label_issues on the concatenated data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from weaklab import PartitionedLabelMatrix, ValidationError
from weaklab.cleaning import label_quality_scores, rank_label_issues, top_label_issues
from weaklab.models import DawidSkene, MajorityVote
from weaklab.synthetic import make_lf_matrix

dask = pytest.importorskip("dask")


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="sync"):
        yield


@pytest.fixture(scope="module")
def votes(tmp_path_factory):
    L = make_lf_matrix(900, 10, 3, one_class=0.5, random_state=3).L
    bounds = [0, 250, 260, 600, 900]
    parts = [L.select_items(np.arange(a, b)) for a, b in itertools.pairwise(bounds)]
    return L, PartitionedLabelMatrix.write(tmp_path_factory.mktemp("votes"), parts)


def majority_given(L):
    counts = L.class_counts()
    return np.argmax(counts, axis=1), counts.sum(axis=1) > 0


@pytest.mark.parametrize("score", ["self_confidence", "normalized_margin", "confidence_weighted_entropy"])
@pytest.mark.parametrize("n", [1, 7, 5000])
def test_partitioned_top_n_equals_the_local_ranking(votes, tmp_path, score, n):
    """The worst n items (ids, given, suggested, score) equal the local ranking of the covered items."""
    L, plm = votes
    model = DawidSkene().fit(plm)
    soft = model.predict_proba(plm, output=tmp_path)
    proba = model.predict_proba(L)
    given, covered = majority_given(L)
    order = rank_label_issues(given, proba, score=score, mask=covered)[:n]
    table = top_label_issues(plm, soft, n=n, score=score, split_every=2)
    assert len(table) == min(n, int(covered.sum()))
    np.testing.assert_array_equal(table["item_id"].to_numpy(), L.item_ids[order] if L.item_ids is not None
                                  else order)
    np.testing.assert_array_equal(table["given"].to_numpy(), given[order])
    np.testing.assert_array_equal(table["suggested"].to_numpy(), np.argmax(proba[order], axis=1))
    np.testing.assert_allclose(table["score"].to_numpy(),
                               label_quality_scores(given[order], proba[order], score=score), atol=1e-9)
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    offsets = np.asarray(plm.partition_offsets)
    np.testing.assert_array_equal(offsets[table["partition"].to_numpy()] + table["row"].to_numpy(), order)


def test_soft_labels_can_be_the_given_labels(votes, tmp_path):
    """Given soft labels are judged at their most probable class."""
    L, plm = votes
    given_soft = MajorityVote().fit(plm).predict_proba(plm, output=tmp_path / "mv")
    pred = DawidSkene().fit(plm).predict_proba(plm, output=tmp_path / "ds")
    mv = MajorityVote().fit(L).predict_proba(L)
    order = rank_label_issues(mv, DawidSkene().fit(L).predict_proba(L))[:20]
    table = top_label_issues(given_soft, pred, n=20)
    np.testing.assert_array_equal(table["item_id"].to_numpy(), order)


def test_misaligned_partitions_are_refused(votes, tmp_path, tmp_path_factory):
    """Predictions with other partition sizes are refused, naming pred."""
    L, plm = votes
    other = PartitionedLabelMatrix.write(tmp_path_factory.mktemp("other"), [L])
    soft = MajorityVote().fit(other).predict_proba(other, output=tmp_path)
    with pytest.raises(ValidationError, match="pred"):
        top_label_issues(plm, soft)
    with pytest.raises(ValidationError, match="n"):
        top_label_issues(plm, soft, n=0)
