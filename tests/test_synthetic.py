"""Known-truth generators: the data they produce matches the truth they report."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weaklab import LabelMatrix, ValidationError
from weaklab.synthetic import (
    SyntheticLabels,
    corrupt_labels,
    make_crowd,
    make_label_matrix,
    make_noise_matrix,
)

N = 50_000


def _empirical(data: SyntheticLabels) -> tuple[np.ndarray, np.ndarray]:
    """Per-source coverage and accuracy measured on the generated votes."""
    V = data.L.to_dense().astype(np.int64)
    voted = V != -1
    correct = (V == data.y[:, None]) & voted
    return voted.mean(axis=0), correct.sum(axis=0) / np.maximum(voted.sum(axis=0), 1)


def _sampling_sd(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    return np.sqrt(p * (1 - p) / np.maximum(n, 1))


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_label_matrix_coverage_and_accuracy_match_the_truth(n_classes):
    """Empirical coverage and accuracy of every source lie within 5 sampling SDs of the reported truth."""
    data = make_label_matrix(N, 8, n_classes, coverage=(0.1, 0.9), accuracy=(0.4, 0.95), random_state=1)
    coverage, accuracy = _empirical(data)
    assert np.all(np.abs(coverage - data.coverage) <= 5 * _sampling_sd(data.coverage, N))
    n_votes = data.coverage * N
    assert np.all(np.abs(accuracy - data.accuracy) <= 5 * _sampling_sd(data.accuracy, n_votes) + 1e-3)


def test_label_matrix_ranges_are_sampled_within_bounds():
    """(low, high) ranges give per-source values inside the range; scalars and arrays are kept as given."""
    data = make_label_matrix(100, 20, coverage=(0.2, 0.5), accuracy=0.8, random_state=0)
    assert np.all((data.coverage >= 0.2) & (data.coverage <= 0.5))
    assert np.unique(data.coverage).size == 20
    np.testing.assert_allclose(data.accuracy, 0.8)
    given = np.linspace(0.1, 0.9, 4)
    np.testing.assert_allclose(make_label_matrix(10, 4, coverage=given).coverage, given)


def test_label_matrix_reports_consistent_truth():
    """The returned containers have the documented shapes, dtypes and stochastic confusions."""
    data = make_label_matrix(1000, 6, 4, random_state=3)
    assert isinstance(data.L, LabelMatrix) and data.L.shape == (1000, 6) and data.L.n_classes == 4
    assert data.L.dtype == np.int8 and data.y.dtype == np.int64 and data.y.shape == (1000,)
    assert data.confusion.shape == (6, 4, 4)
    np.testing.assert_allclose(data.confusion.sum(axis=2), 1.0)
    diagonal = np.diagonal(data.confusion, axis1=1, axis2=2)
    np.testing.assert_allclose(diagonal @ data.class_balance, data.accuracy)
    assert data.dependencies == []


def test_wrong_votes_are_uniform_over_other_classes():
    """Without an error matrix, wrong votes spread evenly over the k - 1 other classes."""
    data = make_label_matrix(N, 1, 4, coverage=1.0, accuracy=0.4, random_state=2)
    V = data.L.to_dense()[:, 0].astype(np.int64)
    offsets = (V - data.y) % 4
    shares = np.bincount(offsets, minlength=4) / N
    np.testing.assert_allclose(shares, [0.4, 0.2, 0.2, 0.2], atol=0.01)


def test_error_matrix_sets_the_wrong_vote_distribution():
    """A given error matrix decides which wrong class a source votes, and the reported confusion matches."""
    errors = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float)
    data = make_label_matrix(N, 2, 3, coverage=1.0, accuracy=0.6, error_matrix=errors, random_state=4)
    V = data.L.to_dense().astype(np.int64)
    wrong = V[:, 0] != data.y
    np.testing.assert_array_equal(V[wrong, 0], (data.y[wrong] + 1) % 3)
    for c in range(3):
        counts = np.bincount(V[data.y == c, 1], minlength=3) / np.sum(data.y == c)
        np.testing.assert_allclose(counts, data.confusion[1, c], atol=0.02)


def test_class_balance_is_respected():
    """True labels follow the requested class balance."""
    data = make_label_matrix(N, 2, 3, class_balance=[0.6, 0.3, 0.1], random_state=5)
    np.testing.assert_allclose(np.bincount(data.y) / N, [0.6, 0.3, 0.1], atol=0.01)


def _agreement(V: np.ndarray, i: int, j: int) -> float:
    both = (V[:, i] != -1) & (V[:, j] != -1)
    return float(np.mean(V[both, i] == V[both, j]))


def test_planted_dependencies_agree_far_more_than_independent_pairs():
    """Planted copy pairs agree on over 90% of shared items, well above every independent pair."""
    data = make_label_matrix(N, 10, 3, coverage=0.5, accuracy=(0.55, 0.8), correlated=3,
                             correlation_strength=0.8, random_state=6)
    V = data.L.to_dense()
    assert len(data.dependencies) == 3
    used = [s for pair in data.dependencies for s in pair]
    assert len(set(used)) == 6
    planted = [_agreement(V, i, j) for i, j in data.dependencies]
    pairs = {(i, j) for i in range(10) for j in range(i + 1, 10)}
    others = [_agreement(V, i, j) for i, j in pairs if (i, j) not in data.dependencies
              and (j, i) not in data.dependencies]
    assert min(planted) > 0.9
    assert max(others) < 0.75
    coverage, accuracy = _empirical(data)
    np.testing.assert_allclose(coverage, data.coverage, atol=0.015)
    np.testing.assert_allclose(accuracy, data.accuracy, atol=0.015)


def test_sparse_and_dense_generation_agree():
    """sparse=True stores exactly the votes of the dense matrix drawn from the same seed."""
    dense = make_label_matrix(2000, 7, 3, coverage=(0.1, 0.5), correlated=2, random_state=7)
    sparse = make_label_matrix(2000, 7, 3, coverage=(0.1, 0.5), correlated=2, sparse=True, random_state=7)
    assert sparse.L.is_sparse and not dense.L.is_sparse
    np.testing.assert_array_equal(sparse.L.to_dense(), dense.L.to_dense())
    np.testing.assert_array_equal(sparse.y, dense.y)


def test_generators_are_deterministic_under_random_state():
    """The same random_state gives identical data; a different one gives different votes."""
    a = make_label_matrix(500, 5, random_state=11)
    b = make_label_matrix(500, 5, random_state=11)
    c = make_label_matrix(500, 5, random_state=12)
    assert a.L.equals(b.L) and np.array_equal(a.y, b.y) and not a.L.equals(c.L)
    crowd_a = make_crowd(300, 20, 3, spammer_fraction=0.2, random_state=3)
    crowd_b = make_crowd(300, 20, 3, spammer_fraction=0.2, random_state=3)
    assert crowd_a.L.equals(crowd_b.L) and np.array_equal(crowd_a.accuracy, crowd_b.accuracy)
    noise = make_noise_matrix(4, 0.3, kind="random", random_state=1)
    np.testing.assert_array_equal(noise, make_noise_matrix(4, 0.3, kind="random", random_state=1))
    y = np.arange(100) % 4
    first, second = corrupt_labels(y, noise, random_state=2), corrupt_labels(y, noise, random_state=2)
    np.testing.assert_array_equal(first, second)


def test_crowd_shape_and_votes_are_exact():
    """Every item gets exactly votes_per_item votes from distinct workers, stored sparsely."""
    data = make_crowd(20_000, 50, 5, n_classes=3, random_state=0)
    assert data.L.is_sparse and data.L.shape == (20_000, 50) and data.L.n_classes == 3
    assert data.L.nnz == 100_000
    np.testing.assert_array_equal(data.L.votes_per_item(), np.full(20_000, 5))
    assert data.coverage.shape == (50,) and data.confusion.shape == (50, 3, 3)
    np.testing.assert_allclose(data.coverage * 20_000, data.L.votes_per_source())


def test_crowd_assigns_all_workers_when_votes_equal_workers():
    """With votes_per_item == n_workers every worker labels every item (distinctness is exact)."""
    data = make_crowd(200, 4, 4, random_state=1)
    assert data.L.nnz == 800 and np.all(data.L.to_dense() != -1)


def test_crowd_worker_accuracy_matches_truth():
    """Honest workers' empirical accuracy matches their reported accuracy."""
    data = make_crowd(N, 20, 4, worker_accuracy=(0.6, 0.95), random_state=2)
    _, accuracy = _empirical(data)
    n_votes = data.L.votes_per_source()
    assert np.all(np.abs(accuracy - data.accuracy) <= 5 * _sampling_sd(data.accuracy, n_votes))


def test_crowd_spammers_answer_randomly_or_constantly():
    """Spammers are either uniform (accuracy 1/k) or always give one class; their count is rounded."""
    data = make_crowd(N, 40, 5, n_classes=2, spammer_fraction=0.25, random_state=4)
    V = data.L.to_dense()
    _, accuracy = _empirical(data)
    constant = [j for j in range(40) if np.unique(V[V[:, j] != -1, j]).size == 1]
    random = np.flatnonzero(np.isclose(data.accuracy, 0.5))
    assert len(constant) + len(set(random) - set(constant)) == 10
    assert np.all(np.abs(accuracy[random] - 0.5) < 0.03)
    for j in constant:
        assert np.allclose(data.confusion[j, :, V[V[:, j] != -1, j][0]], 1.0)


def test_crowd_difficulty_lowers_accuracy_toward_chance():
    """Items of difficulty d are answered correctly with (1 - d) * accuracy + d / k."""
    data = make_crowd(N, 10, 3, worker_accuracy=0.9, difficulty=0.5, random_state=5)
    _, accuracy = _empirical(data)
    np.testing.assert_allclose(data.accuracy, 0.5 * 0.9 + 0.25)
    np.testing.assert_allclose(accuracy, data.accuracy, atol=0.015)
    assert data.difficulty is not None and data.difficulty.shape == (N,)


def test_crowd_adversarial_workers_shift_their_answers():
    """Adversarial workers answer (truth + their own fixed shift) mod k at their accuracy; the truth agrees."""
    data = make_crowd(N, 30, 4, n_classes=3, adversarial_fraction=0.2, worker_accuracy=0.9, random_state=6)
    _, accuracy = _empirical(data)
    V, y = data.L.to_dense(), data.y
    shifted = np.flatnonzero(data.accuracy < 0.5)
    assert shifted.size == 6
    np.testing.assert_allclose(accuracy, data.accuracy, atol=0.03)
    for j in shifted:
        voted = V[:, j] != -1
        shift = np.bincount((V[voted, j] - y[voted]) % 3, minlength=3)
        assert shift.argmax() != 0 and shift.max() > 0.85 * voted.sum()
    assert np.array_equal(make_crowd(200, 10, 3, random_state=1).L.to_dense(),
                          make_crowd(200, 10, 3, adversarial_fraction=0.0, random_state=1).L.to_dense())


@pytest.mark.parametrize("kind", ["uniform", "pair", "random"])
@pytest.mark.parametrize("n_classes", [2, 3, 6])
def test_noise_matrices_are_row_stochastic(kind, n_classes):
    """noise[true, given] rows sum to 1, with 1 - rate on the diagonal."""
    noise = make_noise_matrix(n_classes, 0.3, kind=kind, random_state=0)
    assert noise.shape == (n_classes, n_classes) and noise.min() >= 0
    np.testing.assert_allclose(noise.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.diag(noise), 0.7)


def test_pair_noise_flips_to_the_next_class_and_rates_can_differ():
    """Pair noise sends every flip of class c to class (c + 1) % k, at a per-class rate."""
    noise = make_noise_matrix(3, [0.1, 0.2, 0.3], kind="pair")
    expected = np.array([[0.9, 0.1, 0.0], [0.0, 0.8, 0.2], [0.3, 0.0, 0.7]])
    np.testing.assert_allclose(noise, expected)


def test_corrupt_labels_flip_rates_match_the_noise_matrix():
    """Empirical transition frequencies of corrupt_labels match noise[true, given]."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=N)
    noise = make_noise_matrix(4, [0.1, 0.2, 0.3, 0.4], kind="random", random_state=3)
    noisy = corrupt_labels(y, noise, random_state=1)
    assert noisy.shape == y.shape and noisy.dtype == np.int64
    observed = np.zeros((4, 4))
    np.add.at(observed, (y, noisy), 1)
    observed /= observed.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(observed, noise, atol=0.015)


def test_corrupt_labels_with_identity_changes_nothing():
    """An identity noise matrix returns the labels unchanged."""
    y = np.arange(1000) % 3
    np.testing.assert_array_equal(corrupt_labels(y, np.eye(3), random_state=0), y)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        (dict(n_items=0, n_sources=3), "n_items"),
        (dict(n_items=10, n_sources=3, n_classes=1), "n_classes"),
        (dict(n_items=10, n_sources=3, coverage=1.5), "coverage"),
        (dict(n_items=10, n_sources=3, coverage=(0.5, 0.2)), "coverage[1]"),
        (dict(n_items=10, n_sources=3, accuracy=[0.5, 0.6]), "accuracy"),
        (dict(n_items=10, n_sources=3, accuracy="high"), "accuracy"),
        (dict(n_items=10, n_sources=3, class_balance=[0.5, 0.6]), "class_balance"),
        (dict(n_items=10, n_sources=3, correlated=2), "correlated"),
        (dict(n_items=10, n_sources=4, correlated=1, correlation_strength=2.0), "correlation_strength"),
        (dict(n_items=10, n_sources=3, error_matrix=np.full((2, 2), 0.5)), "error_matrix"),
        (dict(n_items=10, n_sources=3, sparse="yes"), "sparse"),
        (dict(n_items=10, n_sources=3, random_state=-1), "random_state"),
    ],
)
def test_make_label_matrix_rejects_bad_input(kwargs, param):
    """Bad arguments raise ValidationError naming the parameter."""
    with pytest.raises(ValidationError, match=rf"^{re.escape(param)}: expected"):
        make_label_matrix(**kwargs)


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: make_crowd(10, 3, 4), "votes_per_item"),
        (lambda: make_crowd(10, 5, 2, spammer_fraction=-0.1), "spammer_fraction"),
        (lambda: make_crowd(10, 5, 2, adversarial_fraction=1.5), "adversarial_fraction"),
        (lambda: make_crowd(10, 5, 2, difficulty=[0.1] * 3), "difficulty"),
        (lambda: make_crowd(10, 5, 2, worker_accuracy=2.0), "worker_accuracy"),
        (lambda: make_noise_matrix(3, 0.2, kind="swap"), "kind"),
        (lambda: make_noise_matrix(3, 1.2), "rate"),
        (lambda: make_noise_matrix(3, [0.1, 0.2]), "rate"),
        (lambda: corrupt_labels([0, 1], np.ones((2, 3)) / 3), "noise_matrix"),
        (lambda: corrupt_labels([0, 1], [[0.5, 0.6], [0.5, 0.5]]), "noise_matrix"),
        (lambda: corrupt_labels([0, 2], np.eye(2)), "y"),
        (lambda: corrupt_labels([0.5, 1], np.eye(2)), "y"),
    ],
)
def test_crowd_and_noise_reject_bad_input(call, param):
    """Bad arguments raise ValidationError naming the parameter."""
    with pytest.raises(ValidationError, match=rf"^{param}: expected"):
        call()


@pytest.mark.slow
def test_crowd_scale_is_exact():
    """A 1M-item, 6k-worker crowd with 6 votes per item has exactly 6M votes, 6 distinct workers per item."""
    data = make_crowd(1_000_000, 6_000, 6, random_state=0)
    assert data.L.is_sparse and data.L.shape == (1_000_000, 6_000) and data.L.nnz == 6_000_000
    assert np.all(data.L.votes_per_item() == 6)
    assert data.L.votes_per_source().sum() == 6_000_000


@pytest.mark.slow
def test_large_dense_matrix_is_int8():
    """A 1e6 x 50 binary matrix is stored dense as int8 with the requested overall coverage."""
    data = make_label_matrix(1_000_000, 50, coverage=0.3, random_state=0)
    assert data.L.dtype == np.int8 and not data.L.is_sparse
    assert abs(data.L.nnz / (1_000_000 * 50) - 0.3) < 1e-3


@pytest.mark.parametrize("n_classes", [2, 4])
def test_extreme_parameters_give_exact_votes(n_classes):
    """Coverage 0 gives no votes, accuracy 1 only correct votes, accuracy 0 only wrong votes."""
    assert make_label_matrix(300, 4, n_classes, coverage=0.0, random_state=0).L.nnz == 0
    perfect = make_label_matrix(300, 4, n_classes, coverage=1.0, accuracy=1.0, random_state=0)
    np.testing.assert_array_equal(perfect.L.to_dense(), np.repeat(perfect.y[:, None], 4, axis=1))
    wrong = make_label_matrix(300, 4, n_classes, coverage=1.0, accuracy=0.0, random_state=0)
    assert np.all(wrong.L.to_dense() != wrong.y[:, None])


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 60),
    m=st.integers(1, 8),
    k=st.integers(2, 6),
    coverage=st.floats(0, 1),
    accuracy=st.floats(0, 1),
    seed=st.integers(0, 2**16),
)
def test_votes_are_always_valid(n, m, k, coverage, accuracy, seed):
    """For any sizes and rates, votes lie in [-1, k), labels in [0, k) and truth arrays are well shaped."""
    data = make_label_matrix(n, m, k, coverage=coverage, accuracy=accuracy, correlated=m // 2,
                             random_state=seed)
    V = data.L.to_dense()
    assert V.shape == (n, m) and V.min() >= -1 and V.max() < k
    assert data.y.min() >= 0 and data.y.max() < k
    assert data.accuracy.shape == data.coverage.shape == (m,)
    np.testing.assert_allclose(data.confusion.sum(axis=2), 1.0)


def test_copies_of_sources_with_subnormal_coverage_keep_stochastic_confusions():
    """Copying sources whose coverage underflows (5e-324) still have confusion rows that sum to 1."""
    data = make_label_matrix(1, 3, 3, coverage=5e-324, accuracy=0.0, correlated=1, random_state=0)
    np.testing.assert_allclose(data.confusion.sum(axis=2), 1.0)


def test_lf_matrix_one_class_lfs_vote_their_target_with_the_planted_precision():
    """One-class LFs vote one class each, at about the planted coverage and precision."""
    from weaklab.synthetic import make_lf_matrix

    data = make_lf_matrix(20000, 12, 4, coverage=0.1, accuracy=0.7, random_state=0)
    dense = data.L.to_dense()
    for j in range(12):
        votes = dense[:, j][dense[:, j] >= 0]
        assert np.unique(votes).size == 1
        assert abs(votes.size / 20000 - 0.1) < 0.01
        assert abs(data.accuracy[j] - 0.7) < 0.03


def test_lf_matrix_exact_copies_duplicate_columns():
    """With copy_strength=1 every planted copy repeats its original's column."""
    from weaklab.synthetic import make_lf_matrix

    data = make_lf_matrix(2000, 10, 3, one_class=0.5, copies=3, copy_strength=1.0, random_state=1)
    dense = data.L.to_dense()
    assert len(data.dependencies) == 3
    for i, j in data.dependencies:
        np.testing.assert_array_equal(dense[:, i], dense[:, j])


def test_captions_plant_missing_and_wrong_rates():
    """Missing and wrong captions appear at their rates; wrong captions name another class."""
    from weaklab.synthetic import FASHION_MNIST_SYNONYMS, make_captions

    y = np.arange(20_000) % 10
    caps = make_captions(y, FASHION_MNIST_SYNONYMS, missing_rate=0.3, wrong_rate=0.2, random_state=0)
    missing = caps.caption_class < 0
    assert np.array_equal(missing, np.array([c is None for c in caps.captions]))
    assert abs(missing.mean() - 0.3) < 0.02
    assert abs(caps.wrong[~missing].mean() - 0.2) < 0.02
    assert np.array_equal(caps.caption_class[~missing] != y[~missing], caps.wrong[~missing])
    first = caps.captions[np.flatnonzero(~missing)[0]]
    cls = caps.caption_class[np.flatnonzero(~missing)[0]]
    assert any(w in first for w in FASHION_MNIST_SYNONYMS[cls])
    again = make_captions(y, FASHION_MNIST_SYNONYMS, missing_rate=0.3, wrong_rate=0.2, random_state=0)
    assert np.array_equal(again.captions, caps.captions)
