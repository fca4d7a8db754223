"""The block-stored one-hot with implicit ones: products equal a dense one-hot's, from every builder."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab._core import LabelMatrix
from weaklab.models._onehot import one_hot_from_csr, one_hot_from_dense, one_hot_from_triples


def _votes(n, m, k, seed, coverage=0.4):
    rng = np.random.default_rng(seed)
    votes = rng.integers(0, k, (n, m)).astype(np.int8)
    votes[rng.random((n, m)) > coverage] = -1
    votes[: n // 5] = -1  # rows without votes, at the start
    return votes


def _dense(votes, k):
    n, m = votes.shape
    out = np.zeros((n, m * k))
    rows, cols = np.nonzero(votes >= 0)
    out[rows, cols * k + votes[rows, cols]] = 1.0
    return out


def _builders(votes, k):
    L = LabelMatrix(votes, n_classes=k)
    rows, cols, labels = L.coo()
    order = np.random.default_rng(1).permutation(rows.shape[0])  # triples in any order
    return {
        "dense": one_hot_from_dense(votes, k),
        "csr": one_hot_from_csr(L.as_sparse().csr, k),
        "triples": one_hot_from_triples(rows[order], cols[order], labels[order], votes.shape[0],
                                        votes.shape[1], k),
    }


@pytest.mark.parametrize("block_votes", [None, 1, 29])
@pytest.mark.parametrize("k", [2, 3])
def test_products_match_a_dense_one_hot(k, block_votes, monkeypatch):
    if block_votes is not None:
        monkeypatch.setattr("weaklab.models._onehot._BLOCK_VOTES", block_votes)
    votes = _votes(120, 7, k, seed=k)
    expected = _dense(votes, k)
    rng = np.random.default_rng(0)
    right, right_2d = rng.random(7 * k), rng.random((7 * k, k - 1))
    left, left_2d = rng.random(120), rng.random((120, k))
    for name, X in _builders(votes, k).items():
        assert X.shape == expected.shape and X.nnz == int(expected.sum()), name
        np.testing.assert_allclose(X @ right, expected @ right, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(X @ right_2d, expected @ right_2d, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(X.T @ left, expected.T @ left, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(X.T @ left[:, None], expected.T @ left[:, None], rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(X.T @ left_2d, expected.T @ left_2d, rtol=1e-12, err_msg=name)
        np.testing.assert_array_equal(X.to_csr().toarray(), expected, err_msg=name)
        rows, cols = X.rows_and_columns()
        np.testing.assert_array_equal(expected[rows, cols], 1.0, err_msg=name)
        assert rows.shape[0] == X.nnz and np.all(np.diff(rows) >= 0), name


def test_no_float_ones_are_stored():
    """The stored arrays are int32 columns and row pointers plus one block of ones, not 8 bytes per vote."""
    votes = _votes(20_000, 30, 2, seed=0)
    X = one_hot_from_dense(votes, 2)
    blocks = -(-X.nnz // 2**18) + 1
    columns, row_pointers, ones = 4 * X.nnz, 4 * (votes.shape[0] + blocks), 8 * min(X.nnz, 2**18)
    assert X.nbytes <= columns + row_pointers + ones


def test_empty_matrix():
    X = one_hot_from_dense(np.zeros((0, 3), dtype=np.int8), 2)
    assert (X @ np.ones(6)).shape == (0,)
    np.testing.assert_array_equal(X.T @ np.ones(0), np.zeros(6))
    assert X.to_csr().shape == (0, 6)
