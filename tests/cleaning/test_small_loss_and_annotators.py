"""Small-loss split per class, and multi-annotator consensus and annotator quality."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab.cleaning import (
    MIXTURES,
    annotator_quality,
    consensus_labels,
    consensus_quality,
    small_loss_clean_proba,
)
from weaklab.errors import ValidationError


def _imbalanced_losses(seed=0):
    """An easy large class and a hard small class; 20 % noisy items in each with larger losses."""
    rng = np.random.default_rng(seed)
    sizes, clean_mu, noisy_mu = (3000, 400), (0.2, 1.6), (2.0, 3.6)
    losses, labels, noisy = [], [], []
    for c, (m, mc, mn) in enumerate(zip(sizes, clean_mu, noisy_mu)):
        flip = rng.random(m) < 0.2
        losses.append(np.where(flip, rng.normal(mn, 0.35, m), rng.normal(mc, 0.2, m)))
        labels.append(np.full(m, c))
        noisy.append(flip)
    return np.concatenate(losses), np.concatenate(labels), np.concatenate(noisy)


def _f1(pred, truth):
    tp = np.sum(pred & truth)
    return 2 * tp / max(pred.sum() + truth.sum(), 1)


@pytest.mark.parametrize("mixture", MIXTURES)
def test_per_class_split_beats_one_global_threshold(mixture):
    """On an imbalanced easy/hard pair of classes the per-class split finds the noisy items far better."""
    losses, labels, noisy = _imbalanced_losses()
    per_class = small_loss_clean_proba(losses, labels, mixture=mixture, random_state=0)
    single = small_loss_clean_proba(losses, np.zeros_like(labels), mixture=mixture, random_state=0)
    f1_class, f1_global = _f1(per_class < 0.5, noisy), _f1(single < 0.5, noisy)
    assert f1_class > 0.9
    assert f1_class > f1_global + 0.1
    hard = labels == 1
    assert _f1(per_class[hard] < 0.5, noisy[hard]) > _f1(single[hard] < 0.5, noisy[hard]) + 0.2


def test_small_loss_probabilities_are_valid_and_deterministic():
    """P(clean) is in [0, 1], repeatable under a seed and order-equivariant."""
    losses, labels, _ = _imbalanced_losses(seed=1)
    a = small_loss_clean_proba(losses, labels, random_state=3)
    assert a.min() >= 0 and a.max() <= 1
    assert np.array_equal(a, small_loss_clean_proba(losses, labels, random_state=3))
    perm = np.random.default_rng(0).permutation(losses.size)
    b = small_loss_clean_proba(losses[perm], labels[perm], random_state=3)
    assert np.allclose(b, a[perm], atol=1e-6)


def test_small_loss_rejects_bad_input():
    """NaN losses and mismatched lengths raise ValidationError naming the parameter."""
    with pytest.raises(ValidationError, match="losses: expected finite values"):
        small_loss_clean_proba([0.1, np.nan], [0, 1])
    with pytest.raises(ValidationError, match="labels: expected length 3"):
        small_loss_clean_proba([0.1, 0.2, 0.3], [0, 1])


def _crowd(seed=0, n=1500, k=3):
    """Five annotators of accuracy 0.9, 0.85, 0.8, 0.6 and 0.4 voting 70 % of the time."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    acc = np.array([0.9, 0.85, 0.8, 0.6, 0.4])
    right = rng.random((n, acc.size)) < acc
    wrong = (y[:, None] + rng.integers(1, k, (n, acc.size))) % k
    votes = np.where(right, y[:, None], wrong)
    votes[rng.random(votes.shape) > 0.7] = -1
    proba = np.full((n, k), 0.3 / (k - 1))
    proba[np.arange(n), np.where(rng.random(n) < 0.75, y, (y + 1) % k)] = 0.7
    return votes, proba, y, acc


def test_annotator_quality_orders_annotators_by_accuracy():
    """Estimated annotator quality follows the planted accuracies and is close to them."""
    votes, proba, _, acc = _crowd()
    q = annotator_quality(votes, proba)
    assert np.array_equal(np.argsort(q), np.argsort(acc))
    assert np.abs(q - acc).max() < 0.08


def test_consensus_beats_majority_vote_and_quality_tracks_correctness():
    """The consensus is more accurate than majority vote, and low-quality items are wrong more often."""
    votes, proba, y, _ = _crowd(seed=1)
    cons = consensus_labels(votes, proba)
    counts = np.stack([(votes == c).sum(axis=1) for c in range(3)], axis=1)
    assert np.mean(cons == y) > np.mean(counts.argmax(axis=1) == y)
    q = consensus_quality(votes, proba)
    low = q < np.median(q)
    assert np.mean(cons[low] != y[low]) > 3 * np.mean(cons[~low] != y[~low])


def test_multiannotator_rejects_mismatched_inputs():
    """Votes out of range or with a different number of rows raise ValidationError."""
    proba = np.full((3, 2), 0.5)
    with pytest.raises(ValidationError, match="votes"):
        consensus_quality(np.array([[0, 1], [2, -1], [1, 1]]), proba)
    with pytest.raises(ValidationError, match="votes: expected 3 rows"):
        annotator_quality(np.array([[0, 1], [1, -1]]), proba)
