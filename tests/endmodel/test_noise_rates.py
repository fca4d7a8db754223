"""Per-class noise rates by confident learning, and per-class small-loss fractions."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import ValidationError
from weaklab.cleaning import confident_joint
from weaklab.endmodel import class_noise_rates, estimate_noise_rate
from weaklab.endmodel.schedules import forget_rate_schedule, small_loss_indices


def _imbalanced(n=4000, positive=0.15, rate=0.3, seed=0):
    """True classes (15 % positive), labels flipped uniformly at ``rate``, and a sharp held-out model."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive).astype(int)
    flip = rng.random(n) < rate
    given = np.where(flip, 1 - y, y)
    p1 = np.clip(np.where(y == 1, 0.85, 0.15) + rng.normal(0, 0.05, n), 0.01, 0.99)
    return np.c_[1 - p1, p1], y, given


def test_class_noise_rates_follow_the_imbalance():
    """Most items labelled with the rare class are wrong under uniform noise; the estimate sees it."""
    proba, y, given = _imbalanced()
    rates = class_noise_rates(proba, given)
    truth = np.array([np.mean(y[given == c] != c) for c in (0, 1)])
    assert truth[1] > 0.6 > 0.15 > truth[0]  # the setting: rare class mostly wrong
    np.testing.assert_allclose(rates, truth, atol=0.08)


def test_the_overall_rate_is_the_class_size_weighted_mean_of_the_class_rates():
    proba, _, given = _imbalanced(seed=1)
    counts = np.bincount(given)
    joint = confident_joint(given, proba)  # the counts co-teaching's noise rates are read from
    np.testing.assert_allclose(joint.sum(axis=1), counts)
    assert estimate_noise_rate(proba, given) == pytest.approx(class_noise_rates(proba, given) @ counts / counts.sum())


def test_clean_labels_and_a_model_that_agrees_give_zero_rates():
    proba, y, _ = _imbalanced(seed=2)
    np.testing.assert_allclose(class_noise_rates(proba, y), 0.0, atol=1e-12)


def test_small_loss_keeps_a_different_fraction_per_group():
    rng = np.random.default_rng(0)
    losses = rng.random(200)
    groups = np.r_[np.zeros(100, int), np.ones(100, int)]
    kept = small_loss_indices(losses, np.array([0.9, 0.2]), groups)
    assert np.bincount(groups[kept]).tolist() == [90, 20]
    ones = np.flatnonzero(groups == 1)
    assert set(kept[groups[kept] == 1]) == set(ones[np.argsort(losses[ones])[:20]])
    with pytest.raises(ValidationError, match="keep_fraction"):
        small_loss_indices(losses, np.array([0.5]), groups)


def test_per_class_forget_rates_ramp_together():
    np.testing.assert_allclose(forget_rate_schedule(5, np.array([0.2, 0.8]), 10), [0.1, 0.4])


def test_prior_matched_rates_keep_the_true_shares_and_fall_back_when_unexplained():
    """The kept items follow the true prior; a prior shift uniform noise cannot cause is not used."""
    from weaklab.endmodel import prior_matched_forget_rates, uniform_noise_explains

    rng = np.random.default_rng(0)
    y = (rng.random(20000) < 0.13).astype(int)
    given = np.where(rng.random(y.shape[0]) < 0.4, 1 - y, y)
    pi, rho = np.bincount(y) / y.shape[0], np.bincount(given) / y.shape[0]
    rates = prior_matched_forget_rates(0.4, pi, rho, cap=1.0)
    kept = (1 - rates) * rho
    np.testing.assert_allclose(kept / kept.sum(), pi, atol=1e-9)
    assert uniform_noise_explains(pi, rho)
    assert not uniform_noise_explains(rho, pi)  # uniform noise never moves shares away from 1 / k
    balanced = np.full(4, 0.25)
    assert not uniform_noise_explains([0.55, 0.15, 0.15, 0.15], balanced)  # nothing to explain
    assert not uniform_noise_explains([0.1, 0.4, 0.25, 0.25], [0.3, 0.2, 0.25, 0.25])  # the wrong way
    np.testing.assert_allclose(prior_matched_forget_rates(0.3, balanced, balanced), 0.3)


def _weak_model(n=3000, k=4, rate=0.0, seed=0):
    """A held-out model that is right on only ~60 % of the items (hard items), labels flipped uniformly at ``rate``."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    easy = rng.random(n) < 0.3
    logits = rng.normal(0, 1.0, (n, k))
    logits[np.arange(n), y] += np.where(easy, 6.0, 0.8)  # easy items: sure; hard ones: often wrong
    clean = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    T = np.full((k, k), rate / (k - 1))
    np.fill_diagonal(T, 1 - rate)
    noisy_proba = clean @ T
    given = (rng.random((n, 1)) > np.cumsum(T[y], axis=1)).sum(axis=1)
    return noisy_proba, y, given


def test_anchor_rate_does_not_count_a_weak_models_errors_as_noise():
    """Clean labels, a model wrong on ~40 % of the items: the confident joint sees noise, the anchors do not."""
    from weaklab.endmodel import anchor_noise_rate

    proba, y, given = _weak_model(rate=0.0)
    assert np.all(given == y)
    assert np.mean(proba.argmax(axis=1) != y) > 0.25  # the model's own error
    assert estimate_noise_rate(proba, given) > 0.1  # the confident joint counts it
    assert anchor_noise_rate(proba, given) < 0.03


@pytest.mark.parametrize("rate", [0.2, 0.4])
def test_anchor_rate_recovers_uniform_noise(rate):
    from weaklab.endmodel import anchor_noise_rate

    proba, y, given = _weak_model(rate=rate, seed=1)
    assert anchor_noise_rate(proba, given) == pytest.approx(np.mean(given != y), abs=0.06)


def test_anchor_rate_of_one_class_or_no_item_is_zero():
    from weaklab.endmodel import anchor_noise_rate

    assert anchor_noise_rate(np.array([[0.6, 0.4], [0.7, 0.3]]), [0, 0]) == 0.0
    with pytest.raises(ValidationError, match="quantile"):
        anchor_noise_rate(np.array([[0.6, 0.4], [0.3, 0.7]]), [0, 1], quantile=0.0)


def test_uniform_noise_prior_inverts_uniform_noise():
    from weaklab.endmodel import uniform_noise_prior

    pi = np.array([0.6, 0.25, 0.1, 0.05])
    for rate in (0.0, 0.3, 0.5):
        k = pi.shape[0]
        given = (1 - rate) * pi + rate * (1 - pi) / (k - 1)
        np.testing.assert_allclose(uniform_noise_prior(rate, given), pi, atol=1e-12)
    assert uniform_noise_prior(0.75, np.full(4, 0.25)) is None  # r = (k-1)/k: nothing left to invert
    assert uniform_noise_prior(0.4, [0.9, 0.1]) is None  # no shares become these under 40 % noise
