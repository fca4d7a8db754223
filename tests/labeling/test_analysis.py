"""Tests of the source-analysis functions (coverage, overlap, conflict, accuracy, summary)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weaklab import LabelMatrix, ValidationError
from weaklab.data import load_wrench
from weaklab.labeling.analysis import (
    label_conflict,
    label_coverage,
    label_overlap,
    lf_conflicts,
    lf_coverages,
    lf_empirical_accuracies,
    lf_overlaps,
    lf_polarities,
    lf_summary,
)

# Hand-checked example: 6 items x 3 sources, 2 classes.
#   item 0: [ 0,  0, -1]  overlap
#   item 1: [ 1,  0, -1]  overlap, conflict
#   item 2: [-1, -1, -1]  not covered
#   item 3: [ 1, -1,  1]  overlap
#   item 4: [-1,  0,  1]  overlap, conflict (gold unknown)
#   item 5: [ 0, -1, -1]  covered once
VOTES = np.array([[0, 0, -1], [1, 0, -1], [-1, -1, -1], [1, -1, 1], [-1, 0, 1], [0, -1, -1]])
GOLD = np.array([0, 1, 1, 0, -1, 1])


def both_forms(votes=VOTES, **meta):
    """The same matrix in dense and in sparse storage."""
    L = LabelMatrix(votes, n_classes=meta.pop("n_classes", 2), **meta)
    return [L, L.as_sparse()]


@pytest.mark.parametrize("L", both_forms())
def test_item_fractions_by_hand(L):
    """Coverage, overlap and conflict count items with >=1, >=2 and >=2 different votes."""
    assert label_coverage(L) == pytest.approx(5 / 6)
    assert label_overlap(L) == pytest.approx(4 / 6)
    assert label_conflict(L) == pytest.approx(2 / 6)


@pytest.mark.parametrize("L", both_forms())
def test_source_fractions_by_hand(L):
    """Per-source polarity, coverage, overlaps and conflicts match the hand-counted values."""
    assert lf_polarities(L) == [[0, 1], [0], [1]]
    np.testing.assert_allclose(lf_coverages(L), [4 / 6, 3 / 6, 2 / 6])
    np.testing.assert_allclose(lf_overlaps(L), [3 / 6, 3 / 6, 2 / 6])
    np.testing.assert_allclose(lf_overlaps(L, normalize_by_coverage=True), [3 / 4, 1, 1])
    np.testing.assert_allclose(lf_conflicts(L), [1 / 6, 2 / 6, 1 / 6])
    np.testing.assert_allclose(lf_conflicts(L, normalize_by_overlaps=True), [1 / 3, 2 / 3, 1 / 2])


@pytest.mark.parametrize("L", both_forms())
def test_accuracies_by_hand(L):
    """Empirical accuracy counts only gold-labelled items; -1 gold is ignored."""
    np.testing.assert_allclose(lf_empirical_accuracies(L, GOLD), [2 / 4, 1 / 2, 0 / 1])


@pytest.mark.parametrize("L", both_forms(class_names=["neg", "pos"]))
def test_summary_by_hand(L):
    """lf_summary holds every hand-counted number, per-class accuracy by voted class, and est_acc."""
    table = lf_summary(L, GOLD, est_accuracy=[0.9, 0.8, 0.7])
    assert list(table.index) == ["s0", "s1", "s2"] and table.index.name == "source"
    assert list(table.columns) == ["polarity", "coverage", "overlaps", "conflicts", "correct",
                                   "incorrect", "emp_acc", "acc_neg", "acc_pos", "est_acc"]
    assert table["polarity"].tolist() == [[0, 1], [0], [1]]
    np.testing.assert_allclose(table["coverage"], [4 / 6, 3 / 6, 2 / 6])
    np.testing.assert_array_equal(table["correct"], [2, 1, 0])
    np.testing.assert_array_equal(table["incorrect"], [2, 1, 1])
    np.testing.assert_allclose(table["emp_acc"], [0.5, 0.5, 0.0])
    # s0 votes neg on items 0 (gold neg) and 5 (gold pos); pos on items 1 (pos) and 3 (neg)
    np.testing.assert_allclose(table["acc_neg"], [0.5, 0.5, np.nan])
    np.testing.assert_allclose(table["acc_pos"], [0.5, np.nan, 0.0])
    np.testing.assert_allclose(table["est_acc"], [0.9, 0.8, 0.7])


def test_summary_without_gold_and_class_ids():
    """Without gold only the vote columns appear; without class names the columns use class ids."""
    L = LabelMatrix(VOTES, n_classes=2)
    assert list(lf_summary(L).columns) == ["polarity", "coverage", "overlaps", "conflicts"]
    assert {"acc_0", "acc_1"} <= set(lf_summary(L, GOLD).columns)


def test_arrays_accepted_and_empty_matrix():
    """A raw vote array works like a LabelMatrix; a matrix without items gives zeros, not errors."""
    assert label_coverage(VOTES) == label_coverage(LabelMatrix(VOTES))
    empty = LabelMatrix(np.empty((0, 3), dtype=np.int8), n_classes=2)
    for L in (empty, empty.as_sparse()):
        assert label_coverage(L) == label_overlap(L) == label_conflict(L) == 0.0
        np.testing.assert_array_equal(lf_conflicts(L), [0, 0, 0])
        assert lf_summary(L, np.array([], dtype=int)).shape == (3, 9)


# ------------------------------------------------------------------ properties (hypothesis)


@st.composite
def vote_arrays(draw):
    """Small random vote arrays with some abstains, plus gold with unknowns."""
    n = draw(st.integers(0, 25))
    m = draw(st.integers(1, 5))
    k = draw(st.integers(2, 4))
    votes = draw(st.lists(st.integers(-1, k - 1), min_size=n * m, max_size=n * m))
    gold = draw(st.lists(st.integers(-1, k - 1), min_size=n, max_size=n))
    return np.array(votes, dtype=np.int64).reshape(n, m), np.array(gold, dtype=np.int64), k


def naive_conflicts(votes):
    """Per source: items where it votes and another source votes a different class (loops)."""
    n, m = votes.shape
    out = np.zeros(m)
    for i in range(n):
        for j in range(m):
            if votes[i, j] >= 0 and any(votes[i, o] >= 0 and votes[i, o] != votes[i, j] for o in range(m)):
                out[j] += 1
    return out / max(n, 1)


@settings(max_examples=60, deadline=None)
@given(vote_arrays())
def test_dense_and_sparse_agree(case):
    """Every statistic is identical on the dense and the sparse form of the same matrix."""
    votes, gold, k = case
    dense = LabelMatrix(votes, n_classes=k)
    sparse = dense.as_sparse()
    pd.testing.assert_frame_equal(lf_summary(dense, gold), lf_summary(sparse, gold))
    for fn in (label_coverage, label_overlap, label_conflict):
        assert fn(dense) == fn(sparse)
    np.testing.assert_array_equal(lf_conflicts(dense, True), lf_conflicts(sparse, True))
    np.testing.assert_array_equal(lf_overlaps(dense, True), lf_overlaps(sparse, True))


@settings(max_examples=60, deadline=None)
@given(vote_arrays())
def test_invariants_and_reference(case):
    """Conflict <= overlap <= coverage, item and source level; conflicts match a brute-force count."""
    votes, gold, k = case
    L = LabelMatrix(votes, n_classes=k)
    assert 0 <= label_conflict(L) <= label_overlap(L) <= label_coverage(L) <= 1
    cov, ovl, con = lf_coverages(L), lf_overlaps(L), lf_conflicts(L)
    assert np.all((0 <= con) & (con <= ovl) & (ovl <= cov) & (cov <= 1))
    np.testing.assert_allclose(con, naive_conflicts(votes))
    np.testing.assert_allclose(cov, (votes >= 0).mean(axis=0) if len(votes) else 0)
    table = lf_summary(L, gold)
    on_gold = ((votes >= 0) & (gold[:, None] >= 0)).sum(axis=0)
    np.testing.assert_array_equal(table["correct"] + table["incorrect"], on_gold)
    np.testing.assert_array_equal(table["correct"], ((votes == gold[:, None]) & (votes >= 0)).sum(axis=0))
    assert lf_polarities(L) == [sorted(set(col[col >= 0].tolist())) for col in votes.T]


# ------------------------------------------------------------------ real data


@pytest.mark.realdata
def test_wrench_youtube_sanity(dataset):
    """On wrench_youtube the summary agrees with direct numpy counts and the README's test coverage."""
    splits = load_wrench(dataset("wrench_youtube"), split=None)
    assert round(label_coverage(splits["test"].L), 3) == 0.928
    ds = splits["train"]
    votes = np.asarray(ds.L)
    table = lf_summary(ds.L, ds.gold)
    np.testing.assert_allclose(table["coverage"], (votes >= 0).mean(axis=0))
    hits = ((votes == ds.gold[:, None]) & (votes >= 0)).sum(axis=0)
    np.testing.assert_allclose(table["emp_acc"], hits / (votes >= 0).sum(axis=0))
    # every youtube LF is single-polarity: 4 keyword rules and the check-out regex vote SPAM
    assert table["polarity"].tolist() == [[1], [1], [1], [1], [0], [1], [0], [0], [0], [0]]
    assert (table["emp_acc"] > 0.5).all()
    assert label_conflict(ds.L) <= label_overlap(ds.L) <= label_coverage(ds.L)
    pd.testing.assert_frame_equal(table, lf_summary(ds.L.as_sparse(), ds.gold))


# ------------------------------------------------------------------ bad inputs


def test_bad_inputs():
    """Wrong gold length or range, bad est_accuracy, non-bool flags and non-matrices raise by name."""
    L = LabelMatrix(VOTES, n_classes=2)
    with pytest.raises(ValidationError, match="gold: expected length 6"):
        lf_summary(L, GOLD[:4])
    with pytest.raises(ValidationError, match=r"gold: expected class ids in -1 \(unknown\) or 0..1"):
        lf_empirical_accuracies(L, np.array([0, 1, 2, 0, 0, 0]))
    with pytest.raises(ValidationError, match="gold"):
        lf_empirical_accuracies(L, np.array([0, 1, -2, 0, 0, 0]))
    with pytest.raises(ValidationError, match="gold"):
        lf_empirical_accuracies(L, None)
    with pytest.raises(ValidationError, match="est_accuracy: expected a 1-d array of 3"):
        lf_summary(L, est_accuracy=[0.5, 0.5])
    with pytest.raises(ValidationError, match=r"est_accuracy: expected finite accuracies in \[0, 1\]"):
        lf_summary(L, est_accuracy=[0.5, 1.5, 0.5])
    with pytest.raises(ValidationError, match="normalize_by_coverage"):
        lf_overlaps(L, normalize_by_coverage="yes")
    with pytest.raises(ValidationError, match="normalize_by_overlaps"):
        lf_conflicts(L, normalize_by_overlaps=1)
    with pytest.raises(ValidationError, match="L"):
        label_coverage(None)
    with pytest.raises(ValidationError, match="L"):
        lf_coverages(np.array([[0, 5]]).astype(float) + 0.5)


def test_crowd_scale_sparse_is_not_densified():
    """A 200,000 x 5,000 sparse matrix (1 GB if dense) is summarised from its votes alone, quickly."""
    rng = np.random.default_rng(0)
    n, m = 200_000, 5_000
    rows = np.repeat(np.arange(n), 2)
    cols = np.stack([rng.integers(0, m // 2, n), rng.integers(m // 2, m, n)], axis=1).ravel()
    L = LabelMatrix.from_coo(rows, cols, rng.integers(0, 3, 2 * n), n_items=n, n_sources=m, n_classes=3)
    table = lf_summary(L, rng.integers(-1, 3, n))
    assert table.shape == (m, 4 + 3 + 3)
    assert table["coverage"].sum() == pytest.approx(2.0)
    assert label_overlap(L) == 1.0
    assert label_conflict(L) == pytest.approx(2 / 3, abs=0.01)
