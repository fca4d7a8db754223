"""Noise-transition estimation and the item-selection schedules (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import ValidationError
from weaklab.endmodel import class_adaptive_thresholds, estimate_transition_matrix
from weaklab.endmodel.schedules import (
    curriculum_order,
    curriculum_size,
    forget_rate_schedule,
    select_pseudo_labels,
    small_loss_indices,
)


def test_anchor_points_recover_the_transition_matrix():
    """With exact noisy posteriors P(noisy|x) = P(true|x) T and some sure items per class, T is recovered."""
    rng = np.random.default_rng(0)
    T = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.25, 0.05, 0.7]])
    clean = rng.dirichlet(np.full(3, 0.3), size=3000)
    clean[:30] = np.eye(3)[np.arange(30) % 3]  # anchor points
    noisy = clean @ T
    np.testing.assert_allclose(estimate_transition_matrix(noisy, quantile=1.0), T, atol=1e-9)
    np.testing.assert_allclose(estimate_transition_matrix(noisy, quantile=0.97), T, atol=0.05)


def test_identity_for_clean_confident_posteriors():
    """Confident clean posteriors give a transition matrix near the identity with rows summing to 1."""
    rng = np.random.default_rng(1)
    P = rng.dirichlet(np.full(4, 0.05), size=500)
    est = estimate_transition_matrix(P)
    np.testing.assert_allclose(est.sum(axis=1), 1.0)
    assert np.all(np.diag(est) > 0.95)


def test_transition_bad_input():
    """Non-stochastic input and a bad quantile raise ValidationError."""
    with pytest.raises(ValidationError, match="noisy_proba: expected rows that sum to 1"):
        estimate_transition_matrix(np.ones((3, 2)))
    with pytest.raises(ValidationError, match="quantile"):
        estimate_transition_matrix(np.eye(2), quantile=0.0)


def test_flexmatch_thresholds_by_hand():
    """Adaptive thresholds are tau * beta / (2 - beta), beta = sigma / max(max sigma, n_unused)."""
    proba = np.array([[0.97, 0.03], [0.96, 0.04], [0.98, 0.02], [0.6, 0.4], [0.02, 0.98], [0.5, 0.5]])
    # sigma = [3, 1], unused = 2 -> beta = [1, 1/3]; warm-up denominator max(3, 2) = 3
    got = class_adaptive_thresholds(proba, 0.95)
    np.testing.assert_allclose(got, [0.95 * 1 / 1, 0.95 * (1 / 3) / (2 - 1 / 3)])
    # with no confident items at all every class gets threshold 0 (FlexMatch's start)
    np.testing.assert_allclose(class_adaptive_thresholds(np.full((4, 2), 0.5), 0.95), [0.0, 0.0])
    rows, labels = select_pseudo_labels(proba, got)
    np.testing.assert_array_equal(rows, [0, 1, 2, 4])
    np.testing.assert_array_equal(labels, [0, 0, 0, 1])


def test_schedules():
    """Curriculum pools grow to all items by n_epochs // 2; co-teaching's forget rate ramps linearly."""
    sizes = [curriculum_size(100, e, 10, 0.2) for e in range(10)]
    assert sizes[0] == 20 and sizes[5:] == [100] * 5 and sizes == sorted(sizes)
    assert [forget_rate_schedule(e, 0.4, 4) for e in (0, 2, 4, 9)] == [0.0, 0.2, 0.4, 0.4]
    np.testing.assert_array_equal(small_loss_indices([3.0, 1.0, 2.0, 0.5], 0.5), [3, 1])
    order = curriculum_order([0.9, 0.5, 1.0, 0.7], np.random.default_rng(0))
    np.testing.assert_array_equal(order, [2, 0, 3, 1])
