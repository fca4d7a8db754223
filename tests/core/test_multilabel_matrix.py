"""MultiLabelMatrix and MultiLabelSoftLabels: sparse, frozen, validated multi-label containers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab import MultiLabelMatrix, MultiLabelSoftLabels, ValidationError
from weaklab.synthetic import make_multilabel_matrix


@pytest.fixture(scope="module")
def votes():
    return make_multilabel_matrix(60, 4, 3, random_state=0).L.to_dense()


def test_dense_round_trip_and_sparse_storage(votes):
    """The dense votes come back unchanged and only the non-abstain votes are stored."""
    L = MultiLabelMatrix(votes)
    assert np.array_equal(L.to_dense(), votes)
    assert L.nnz == int(np.sum(votes != -1)) == L.csr.nnz
    assert L.shape == votes.shape and L.source_names == ("s0", "s1", "s2", "s3")
    assert L.label_names == ("l0", "l1", "l2")


def test_long_format_round_trip(votes):
    """to_long / from_long give back the same votes, names and item ids."""
    L = MultiLabelMatrix(votes, item_ids=[f"i{j:02d}" for j in range(60)], label_names=["a", "b", "c"])
    back = MultiLabelMatrix.from_long(L.to_long(), item_ids=L.item_ids, source_names=L.source_names,
                                      label_names=L.label_names)
    assert np.array_equal(back.to_dense(), votes)
    assert back.fingerprint == L.fingerprint


def test_from_long_accepts_words_and_booleans():
    """Votes may be words or booleans; labels and sources are sorted when not given."""
    rows = pd.DataFrame({"item": [1, 1, 2, 2], "source": ["b", "a", "a", "b"],
                         "label": ["x", "y", "y", "x"], "vote": ["present", "absent", True, "abstain"]})
    L = MultiLabelMatrix.from_long(rows)
    assert L.source_names == ("a", "b") and L.label_names == ("x", "y")
    dense = L.to_dense()
    assert dense[0, 1, 0] == 1 and dense[0, 0, 1] == 0 and dense[1, 0, 1] == 1 and dense[1, 1, 0] == -1
    assert L.nnz == 3


def test_for_label_is_a_binary_label_matrix(votes):
    """One label's slice is a 2-class LabelMatrix with the same votes (1 = present)."""
    L = MultiLabelMatrix(votes, label_names=["a", "b", "c"])
    Lb = L.for_label("b")
    assert Lb.n_classes == 2 and Lb.class_names == ("absent", "present")
    assert np.array_equal(np.asarray(Lb), votes[:, :, 1])
    present, absent = L.vote_counts()
    assert np.array_equal(present[:, 1], np.sum(votes[:, :, 1] == 1, axis=1))
    assert np.array_equal(absent[:, 2], np.sum(votes[:, :, 2] == 0, axis=1))


def test_select_items_and_immutability(votes):
    """Selecting rows keeps the votes of those rows; the matrix cannot be changed."""
    L = MultiLabelMatrix(votes, item_ids=np.arange(60) * 10)
    sub = L.select_items([5, 2])
    assert np.array_equal(sub.to_dense(), votes[[5, 2]]) and sub.item_ids.tolist() == [50, 20]
    with pytest.raises(AttributeError):
        L.n_labels = 4  # type: ignore[misc]
    with pytest.raises(ValueError):
        L.item_ids[0] = 1


@pytest.mark.parametrize("bad, word", [
    (np.full((2, 2), 1), "3-d array"),
    (np.full((2, 2, 2), 2), "a vote of 2"),
    (np.zeros((2, 0, 2)), "n_sources"),
])
def test_invalid_votes_name_the_problem(bad, word):
    """Bad shapes and values raise ValidationError naming what was expected and what arrived."""
    with pytest.raises(ValidationError, match=word):
        MultiLabelMatrix(bad)


def test_coo_rejects_repeats_and_out_of_range():
    """A repeated (item, source, label) and positions out of range are refused."""
    with pytest.raises(ValidationError, match="at most one vote"):
        MultiLabelMatrix.from_coo([0, 0], [0, 0], [1, 1], [1, 0], n_items=1, n_sources=1, n_labels=2)
    with pytest.raises(ValidationError, match="labels: expected positions"):
        MultiLabelMatrix.from_coo([0], [0], [2], [1], n_items=1, n_sources=1, n_labels=2)
    with pytest.raises(ValidationError, match="label_names"):
        MultiLabelMatrix(np.zeros((1, 1, 2)), label_names=["a", "a"])


def test_soft_labels_are_independent_per_label():
    """Rows need not sum to 1; hard() thresholds; for_label gives binary SoftLabels."""
    S = MultiLabelSoftLabels([[0.9, 0.8, 0.1], [0.2, 0.5, 0.0]], label_names=["a", "b", "c"], item_ids=[7, 8])
    assert S.hard().tolist() == [[1, 1, 0], [0, 1, 0]]
    assert S.hard(0.85).tolist() == [[1, 0, 0], [0, 0, 0]]
    assert np.allclose(S.for_label("a").proba, [[0.1, 0.9], [0.8, 0.2]])
    assert S.entropy[0] < S.entropy[1] + np.log(2)  # certain labels add little entropy
    assert S.select_items([1]).item_ids.tolist() == [8]
    with pytest.raises(ValidationError, match=r"\[0, 1\]"):
        MultiLabelSoftLabels([[1.2, 0.0]])
    with pytest.raises(AttributeError):
        S.producer = "x"  # type: ignore[misc]
