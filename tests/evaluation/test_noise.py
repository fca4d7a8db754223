"""Synthetic label noise: rates, structure of the flips, determinism and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab.errors import ValidationError
from weaklab.evaluation import inject_noise

N = 40_000


@pytest.mark.parametrize("rate", [0.0, 0.2, 0.4, 0.6])
def test_uniform_noise_rate_and_spread(rate):
    """Uniform noise flips the expected share of labels, evenly to the other classes."""
    y = np.random.default_rng(0).integers(0, 4, N)
    noisy = inject_noise(y, "uniform", rate, random_state=1)
    flipped = noisy != y
    assert flipped.mean() == pytest.approx(rate, abs=0.01)
    if rate:
        offsets = (noisy[flipped] - y[flipped]) % 4
        np.testing.assert_allclose(np.bincount(offsets, minlength=4)[1:] / flipped.sum(), 1 / 3, atol=0.02)


def test_pair_noise_goes_to_the_next_class():
    """Pair noise flips the expected share, always to class (c + 1) % k."""
    y = np.random.default_rng(0).integers(0, 5, N)
    noisy = inject_noise(y, "pair", 0.4, random_state=2)
    flipped = noisy != y
    assert flipped.mean() == pytest.approx(0.4, abs=0.01)
    np.testing.assert_array_equal(noisy[flipped], (y[flipped] + 1) % 5)


def test_class_conditional_noise_follows_rates_and_transition():
    """Per-class rates are matched, and a given transition matrix is followed row by row."""
    y = np.random.default_rng(0).integers(0, 3, N)
    noisy = inject_noise(y, "class_conditional", [0.1, 0.3, 0.5], random_state=3)
    for c, r in enumerate([0.1, 0.3, 0.5]):
        assert np.mean(noisy[y == c] != c) == pytest.approx(r, abs=0.015)
    T = np.array([[0.8, 0.2, 0.0], [0.0, 1.0, 0.0], [0.25, 0.25, 0.5]])
    noisy = inject_noise(y, "class_conditional", transition=T, random_state=4)
    for c in range(3):
        np.testing.assert_allclose(np.bincount(noisy[y == c], minlength=3) / np.sum(y == c), T[c], atol=0.015)


def test_instance_noise_rate_and_boundary_dependence():
    """Instance noise matches the rate and flips items near the class boundary far more often."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, N)
    X = rng.normal(size=(N, 3)) + 2.0 * y[:, None]
    noisy = inject_noise(y, "instance", 0.2, features=X, random_state=5)
    flipped = noisy != y
    assert flipped.mean() == pytest.approx(0.2, abs=0.01)
    dist = np.abs(X.sum(axis=1) - 3.0)  # distance to the midpoint between the two centres (up to scale)
    near = dist < np.quantile(dist, 0.25)
    far = dist > np.quantile(dist, 0.75)
    assert flipped[near].mean() > 3 * flipped[far].mean()


def test_noise_is_deterministic_under_random_state():
    """The same random_state gives the same noisy labels; another gives different ones."""
    y = np.random.default_rng(0).integers(0, 3, 1000)
    a = inject_noise(y, "uniform", 0.3, random_state=7)
    np.testing.assert_array_equal(a, inject_noise(y, "uniform", 0.3, random_state=7))
    assert np.any(a != inject_noise(y, "uniform", 0.3, random_state=8))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(kind="gaussian", rate=0.1), "kind: expected one of"),
        (dict(kind="uniform", rate=1.5), "rate"),
        (dict(kind="uniform"), "rate: expected a flip probability"),
        (dict(kind="instance", rate=0.2), "features: expected an \\(n, d\\) feature array"),
        (dict(kind="instance", rate=0.2, features=np.zeros((3, 2))), "features: expected a 2-d array with 4"),
        (dict(kind="pair", rate=0.2, transition=np.eye(2)), "transition: expected None"),
        (dict(kind="uniform", rate=0.2, n_classes=1), "n_classes"),
    ],
)
def test_bad_inputs_raise_validation_errors(kwargs, message):
    """Unknown kinds, bad rates, missing features and misplaced transitions raise ValidationError."""
    with pytest.raises(ValidationError, match=message):
        inject_noise(np.array([0, 1, 1, 0]), **kwargs)
