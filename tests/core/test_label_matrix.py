"""Behaviour of the frozen LabelMatrix: validation, storage forms, round trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from weaklab import ABSTAIN, LabelMatrix, ValidationError


@st.composite
def vote_arrays(draw):
    k = draw(st.integers(2, 6))
    n = draw(st.integers(0, 30))
    m = draw(st.integers(1, 8))
    votes = draw(hnp.arrays(np.int64, (n, m), elements=st.integers(-1, k - 1)))
    return votes, k


@given(vote_arrays())
@settings(max_examples=80, deadline=None)
def test_dense_sparse_long_round_trips(case):
    """Dense -> sparse -> dense and dense -> long -> matrix give back the same votes."""
    votes, k = case
    L = LabelMatrix(votes, n_classes=k, item_ids=np.arange(votes.shape[0]) * 3)
    S = L.as_sparse()
    assert S.is_sparse and not L.is_sparse
    assert np.array_equal(S.to_dense(), votes)
    assert S.nnz == L.nnz == int((votes != ABSTAIN).sum())
    assert L.equals(S)
    long = L.to_long()
    assert len(long) == L.nnz
    back = LabelMatrix.from_long(
        long, n_classes=k, item_ids=L.item_ids, source_names=L.source_names, sparse=False
    )
    assert np.array_equal(back.to_dense(), votes)


@given(vote_arrays())
@settings(max_examples=50, deadline=None)
def test_counts_agree_between_storage_forms(case):
    """class_counts, votes_per_item and votes_per_source do not depend on the storage form."""
    votes, k = case
    L = LabelMatrix(votes, n_classes=k)
    S = L.as_sparse()
    assert np.array_equal(L.class_counts(), S.class_counts())
    assert np.array_equal(L.votes_per_item(), S.votes_per_item())
    assert np.array_equal(L.votes_per_source(), S.votes_per_source())
    expected = np.stack([(votes == c).sum(axis=1) for c in range(k)], axis=1) if votes.size else None
    if expected is not None:
        assert np.array_equal(L.class_counts(), expected)


@given(vote_arrays())
@settings(max_examples=50, deadline=None)
def test_vote_patterns_reconstruct_the_matrix(case):
    """Distinct patterns indexed by the inverse give back every row, with matching counts."""
    votes, k = case
    pats = LabelMatrix(votes, n_classes=k).vote_patterns()
    assert np.array_equal(pats.patterns[pats.inverse], votes)
    assert pats.counts.sum() == votes.shape[0]
    assert pats.n_patterns == (len({tuple(r) for r in votes.tolist()}) if votes.size else 0)


def test_storage_dtype_follows_number_of_classes():
    """Votes are stored as int8 up to 127 classes and int16 beyond."""
    assert LabelMatrix([[0, 1]]).dtype == np.int8
    assert LabelMatrix([[0, 200]], n_classes=300).to_dense().dtype == np.int16


def test_matrix_is_immutable():
    """Votes cannot be written and attributes cannot be set."""
    L = LabelMatrix([[0, 1]])
    with pytest.raises(ValueError):
        L.to_dense()[0, 0] = 1
    with pytest.raises(AttributeError):
        L.n_classes = 3  # type: ignore[misc]


def test_dataframe_columns_become_source_names():
    """A DataFrame's columns name the sources."""
    L = LabelMatrix(pd.DataFrame({"kw": [0, -1], "re": [1, 1]}))
    assert L.source_names == ("kw", "re")


def test_n_classes_inferred_and_widened():
    """n_classes is max vote + 1 (at least 2) and replace() may widen it."""
    L = LabelMatrix([[0, -1]])
    assert L.n_classes == 2
    wide = L.replace(n_classes=5)
    assert wide.n_classes == 5 and np.array_equal(wide.to_dense(), L.to_dense())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"votes": [[0, 2]], "n_classes": 2}, "votes: expected votes in [-1, 2)"),
        ({"votes": [[0, -2]]}, "got a vote of -2"),
        ({"votes": [[0.5, 1]]}, "non-integral"),
        ({"votes": [[np.nan, 1]]}, "use -1, not NaN"),
        ({"votes": [0, 1]}, "expected a 2-d array"),
        ({"votes": [["a", "b"]]}, "expected integer class ids"),
        ({"votes": [[0, 1]], "source_names": ["a", "a"]}, "duplicate name 'a'"),
        ({"votes": [[0, 1]], "source_names": ["a"]}, "expected 2 names"),
        ({"votes": [[0, 1], [1, 1]], "item_ids": [1, 1]}, "duplicate id 1"),
        ({"votes": [[0, 1]], "item_ids": [1, 2]}, "expected a 1-d array of 1 ids"),
        ({"votes": [[0, 1]], "class_names": ["x"]}, "n_classes: expected an integer in [2"),
        ({"votes": [[0, 1]], "n_classes": 1}, "n_classes: expected an integer in [2"),
        ({"votes": [[-1, -1]]}, "cannot be inferred"),
        ({"votes": [[0, 1]], "source_versions": ["v1"]}, "source_versions"),
    ],
)
def test_bad_input_names_parameter_expected_and_got(kwargs, message):
    """Every invalid construction raises ValidationError naming what is wrong."""
    votes = kwargs.pop("votes")
    with pytest.raises(ValidationError) as err:
        LabelMatrix(votes, **kwargs)
    assert message in str(err.value)
    assert ": expected " in str(err.value)


def test_from_long_maps_names_and_sorts_items():
    """Long rows become a matrix whose rows are sorted item ids and columns sorted sources."""
    df = pd.DataFrame({"q": [3, 1, 3], "w": ["b", "a", "a"], "ans": ["pos", "neg", "neg"]})
    L = LabelMatrix.from_long(df, item="q", source="w", label="ans", class_names=["neg", "pos"])
    assert list(L.item_ids) == [1, 3]
    assert L.source_names == ("a", "b")
    assert np.array_equal(L.to_dense(), [[0, -1], [0, 1]])


def test_from_long_duplicates_policies():
    """Repeated votes raise by default, and first/last/split resolve them as documented."""
    df = pd.DataFrame({"item": [1, 1, 1], "source": ["w", "w", "v"], "label": [0, 1, 1]})
    with pytest.raises(ValidationError, match="at most one vote per"):
        LabelMatrix.from_long(df)
    assert LabelMatrix.from_long(df, duplicates="first").to_dense().tolist() == [[1, 0]]
    assert LabelMatrix.from_long(df, duplicates="last").to_dense().tolist() == [[1, 1]]
    split = LabelMatrix.from_long(df, duplicates="split")
    assert split.source_names == ("v", "w", "w#2")
    assert split.to_dense().tolist() == [[1, 0, 1]]


def test_from_long_missing_column_is_clear():
    """A missing column names the expected columns and what arrived."""
    with pytest.raises(ValidationError, match="missing"):
        LabelMatrix.from_long(pd.DataFrame({"item": [1], "label": [0]}))


def test_from_coo_rejects_repeated_pairs():
    """Two votes of one source on one item are rejected in the COO constructor."""
    with pytest.raises(ValidationError, match="repeated"):
        LabelMatrix.from_coo([0, 0], [0, 0], [1, 0], n_items=1, n_sources=1)


def test_select_items_and_sources_keep_metadata():
    """Selecting rows and columns keeps ids, names and versions aligned."""
    L = LabelMatrix([[0, 1, -1], [1, -1, 0]], source_names=["a", "b", "c"],
                    item_ids=["x", "y"], source_versions=["1", "2", "3"])
    for M in (L, L.as_sparse()):
        sub = M.select_items([1]).select_sources(["c", "a"])
        assert list(sub.item_ids) == ["y"]
        assert sub.source_names == ("c", "a") and sub.source_versions == ("3", "1")
        assert sub.to_dense().tolist() == [[0, 1]]


def test_concat_by_items_and_sources():
    """concat stacks rows with the same sources and columns with the same items."""
    a = LabelMatrix([[0, 1]], source_names=["p", "q"], item_ids=[1])
    b = LabelMatrix([[1, -1]], source_names=["p", "q"], item_ids=[2])
    rows = LabelMatrix.concat([a, b])
    assert rows.to_dense().tolist() == [[0, 1], [1, -1]] and list(rows.item_ids) == [1, 2]
    c = LabelMatrix([[1]], source_names=["r"], item_ids=[1])
    cols = LabelMatrix.concat([a, c], axis=1)
    assert cols.source_names == ("p", "q", "r") and cols.to_dense().tolist() == [[0, 1, 1]]
    with pytest.raises(ValidationError):
        LabelMatrix.concat([a, c])


def test_fingerprint_tracks_content():
    """Equal content gives equal fingerprints; a changed vote or name changes it."""
    a = LabelMatrix([[0, 1]], source_names=["p", "q"])
    assert a.fingerprint == LabelMatrix(np.array([[0, 1]], np.int32), source_names=["p", "q"]).fingerprint
    assert a.fingerprint != LabelMatrix([[1, 1]], source_names=["p", "q"]).fingerprint
    assert a.fingerprint != LabelMatrix([[0, 1]], source_names=["p", "r"]).fingerprint


def test_array_protocol_returns_votes():
    """np.asarray(L) gives the same array as L.to_dense()."""
    L = LabelMatrix([[0, -1], [1, 1]]).as_sparse()
    assert np.array_equal(np.asarray(L), L.to_dense())
