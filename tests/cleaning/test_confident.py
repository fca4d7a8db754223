"""Confident learning: noise-matrix recovery, exact detection with perfect probabilities, input errors."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab.cleaning import (
    ISSUE_METHODS,
    confident_joint,
    estimate_class_prior,
    estimate_joint,
    estimate_noise_matrix,
    find_label_issues,
    self_confidence_thresholds,
)
from weaklab.errors import ValidationError
from weaklab.synthetic import corrupt_labels, make_noise_matrix

NOISE = np.array(
    [
        [0.80, 0.15, 0.05, 0.00],
        [0.10, 0.85, 0.00, 0.05],
        [0.05, 0.10, 0.75, 0.10],
        [0.00, 0.05, 0.15, 0.80],
    ]
)


def _planted(n=20_000, k=4, scale=6.0, seed=0):
    """True posteriors p(y | x) (softmax of noisy logits), y drawn from them, labels drawn from NOISE."""
    rng = np.random.default_rng(seed)
    centre = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), centre] += scale
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    y = (rng.random(n)[:, None] > proba.cumsum(axis=1)).sum(axis=1).clip(max=k - 1)
    noisy = corrupt_labels(y, NOISE, random_state=seed + 1)
    return y, noisy, proba


def test_noise_matrix_recovers_planted_matrix():
    """At n = 20k the estimated p(given | true) is within 0.03 of the planted matrix in every entry."""
    _, noisy, proba = _planted()
    noise, inverse = estimate_noise_matrix(noisy, proba)
    assert np.abs(noise - NOISE).max() < 0.03
    assert np.allclose(noise.sum(axis=1), 1) and np.allclose(inverse.sum(axis=1), 1)


def test_inverse_noise_and_prior_match_the_planted_joint():
    """p(true | given) and p(true) agree with the planted joint within 0.03 per entry."""
    y, noisy, proba = _planted()
    k = NOISE.shape[0]
    joint = np.bincount(noisy * k + y, minlength=k * k).reshape(k, k) / y.size  # [given, true]
    _, inverse = estimate_noise_matrix(noisy, proba)
    assert np.abs(inverse - joint / joint.sum(axis=1, keepdims=True)).max() < 0.03
    assert np.abs(estimate_class_prior(noisy, proba) - np.bincount(y) / y.size).max() < 0.03
    assert np.abs(estimate_joint(noisy, proba) - joint).max() < 0.03


def test_calibrated_joint_rows_sum_to_given_counts():
    """Each calibrated row sums to the number of items given that label; the total is n."""
    _, noisy, proba = _planted(n=3000)
    C = confident_joint(noisy, proba)
    assert np.allclose(C.sum(axis=1), np.bincount(noisy, minlength=4))
    raw = confident_joint(noisy, proba, calibrate=False)
    assert raw.sum() <= noisy.size and np.all(raw == np.round(raw))


def test_one_hot_soft_labels_equal_hard_labels():
    """Soft given labels that are one-hot give exactly the hard-label joint, thresholds and issues."""
    _, noisy, proba = _planted(n=2000)
    onehot = np.eye(4)[noisy]
    assert np.allclose(confident_joint(onehot, proba), confident_joint(noisy, proba))
    assert np.allclose(self_confidence_thresholds(onehot, proba), self_confidence_thresholds(noisy, proba))
    for method in ISSUE_METHODS:
        assert np.array_equal(find_label_issues(onehot, proba, method=method),
                              find_label_issues(noisy, proba, method=method))


@pytest.mark.parametrize("method", ISSUE_METHODS)
@pytest.mark.parametrize("kind", ["uniform", "pair"])
def test_perfect_probabilities_find_exactly_the_flipped_items(method, kind):
    """With probabilities that put most mass on the true class, every method flags exactly the flips."""
    rng = np.random.default_rng(3)
    k, n = 5, 3000
    y = rng.integers(0, k, n)
    noisy = corrupt_labels(y, make_noise_matrix(k, 0.2, kind), random_state=4)
    proba = np.full((n, k), 0.1 / (k - 1))
    proba[np.arange(n), y] = 0.9
    assert np.array_equal(find_label_issues(noisy, proba, method=method), noisy != y)
    assert np.array_equal(find_label_issues(noisy, np.eye(k)[y], method=method), noisy != y)


def test_flags_are_never_items_whose_label_is_the_prediction():
    """The pruning methods never flag an item whose given label is its most probable class."""
    _, noisy, proba = _planted(n=3000, scale=2.0)
    agree = proba.argmax(axis=1) == noisy
    for method in ("prune_by_noise_rate", "prune_by_class", "both"):
        flagged = find_label_issues(noisy, proba, method=method)
        assert not np.any(flagged & agree)
    both = find_label_issues(noisy, proba, method="both")
    assert np.all(both <= find_label_issues(noisy, proba, method="prune_by_class"))


@pytest.mark.parametrize(
    ("labels", "proba", "match"),
    [
        ([0, 1], [[0.5, 0.6], [0.5, 0.5]], "pred_probs: expected rows that sum to 1"),
        ([0, 2], [[0.5, 0.5], [0.5, 0.5]], r"labels: expected class ids in 0\.\.1"),
        ([0, 1, 1], [[0.5, 0.5], [0.5, 0.5]], "labels: expected 2 labels"),
        ([0, 1], [0.5, 0.5], "pred_probs: expected a 2-d array"),
        ([[0.5, 0.6], [1.0, 0.0]], [[0.5, 0.5], [0.5, 0.5]], "labels: expected rows that sum to 1"),
    ],
)
def test_bad_inputs_name_the_parameter(labels, proba, match):
    """Bad probabilities, labels out of range and mismatched lengths raise ValidationError naming the input."""
    with pytest.raises(ValidationError, match=match):
        find_label_issues(labels, proba)
    with pytest.raises(ValidationError, match=match):
        estimate_noise_matrix(labels, proba)


def test_unknown_method_is_rejected():
    """An unknown method name raises ValidationError listing the known ones."""
    with pytest.raises(ValidationError, match="method: expected one of 'prune_by_noise_rate'"):
        find_label_issues([0, 1], [[0.5, 0.5], [0.5, 0.5]], method="prune")
