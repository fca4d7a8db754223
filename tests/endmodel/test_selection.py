"""Clean/noisy selection and label correction functions (pure numpy, no torch)."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import ValidationError
from weaklab.endmodel import (
    CorrectionLog,
    confidence_weights,
    dynamic_class_thresholds,
    estimate_noise_rate,
    fit_gmm_1d,
    gmm_class_thresholds,
    prototype_clean_proba,
    relabel_from_predictions,
)
from weaklab.endmodel.schedules import small_loss_indices
from weaklab.endmodel.selection import class_clean_proba, prototype_proba


def _two_class_losses(rng):
    """Class 0 is easy (clean loss ~0.1, noisy ~1.5); class 1 is hard (clean ~1.0, noisy ~3.0)."""
    y = np.r_[np.zeros(200, int), np.ones(200, int)]
    noisy = rng.random(400) < 0.25
    base = np.where(y == 0, np.where(noisy, 1.5, 0.1), np.where(noisy, 3.0, 1.0))
    return base + rng.normal(0, 0.1, 400), y, noisy


def test_gmm_recovers_two_populations_deterministically():
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0.2, 0.05, 300), rng.normal(0.8, 0.1, 100)]
    gmm = fit_gmm_1d(x)
    assert gmm.means == pytest.approx((0.2, 0.8), abs=0.03)
    assert gmm.weights == pytest.approx((0.75, 0.25), abs=0.03)
    assert fit_gmm_1d(x) == gmm
    post = gmm.posterior_high(x)
    assert np.mean(post[:300] < 0.5) > 0.98 and np.mean(post[300:] >= 0.5) > 0.98


def test_class_aware_split_beats_one_mixture_for_all_classes():
    """CPC's point: a per-class mixture finds the clean items of a hard class that a global one calls noisy."""
    losses, y, noisy = _two_class_losses(np.random.default_rng(1))
    per_class = class_clean_proba(-losses, y, 2) >= 0.5
    global_ = class_clean_proba(-losses, np.zeros_like(y), 1) >= 0.5
    acc_class_aware = np.mean(per_class == ~noisy)
    assert acc_class_aware > 0.97
    assert acc_class_aware > np.mean(global_ == ~noisy) + 0.1


def test_unimodal_class_keeps_every_item():
    rng = np.random.default_rng(2)
    scores = rng.normal(0.9, 0.03, 100)
    assert np.all(class_clean_proba(scores, np.zeros(100, int), 1) == 1.0)
    assert gmm_class_thresholds(scores, np.zeros(100, int), 1).tolist() == [0.0]


def test_gmm_thresholds_follow_each_class():
    losses, y, noisy = _two_class_losses(np.random.default_rng(3))
    scores = np.exp(-losses)  # probability of the label
    tau = gmm_class_thresholds(scores, y, 2)
    assert tau[1] < tau[0]  # the hard class gets the lower threshold
    kept = scores >= tau[y]
    assert np.mean(kept == ~noisy) > 0.97


def test_cw_bass_thresholds_and_weights_by_hand():
    tau = dynamic_class_thresholds([0.9, 0.7, 0.4], [0, 0, 1], 3)
    assert tau.tolist() == pytest.approx([0.8, 0.4, 0.0])
    tau2 = dynamic_class_thresholds([0.6], [0], 3, tau, momentum=0.5)
    assert tau2.tolist() == pytest.approx([0.7, 0.4, 0.0])  # classes without items keep theirs
    w = confidence_weights([0.9, 0.3, 0.5], [0, 0, 1], [0.5, 0.6], below_scale=0.5)
    assert w.tolist() == pytest.approx([0.9, 0.15, 0.25])
    with pytest.raises(ValidationError, match="momentum"):
        dynamic_class_thresholds([0.5], [0], 1, momentum=1.0)
    with pytest.raises(ValidationError, match="below_scale"):
        confidence_weights([0.5], [0], [0.5], below_scale=2.0)


def test_prototype_split_uses_feature_space():
    """Mislabelled items sit in the other class's cluster: the prototypes flag them even with flat losses."""
    rng = np.random.default_rng(4)
    E = np.r_[rng.normal([4, 0], 1, (100, 2)), rng.normal([0, 4], 1, (100, 2))]
    y_true = np.r_[np.zeros(100, int), np.ones(100, int)]
    y = y_true.copy()
    flip = rng.choice(200, 30, replace=False)
    y[flip] = 1 - y[flip]
    assert np.mean(prototype_proba(E, y, 2).argmax(axis=1) == y_true) > 0.95
    clean = prototype_clean_proba(np.full(200, 0.5), E, y, 2) >= 0.5
    assert np.mean(clean == (y == y_true)) > 0.9


def test_noise_rate_from_held_out_probabilities():
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 3, 3000)
    P = np.full((3000, 3), 0.1)
    P[np.arange(3000), y_true] = 0.8
    for rate in (0.1, 0.3):
        y = np.where(rng.random(3000) < rate, (y_true + rng.integers(1, 3, 3000)) % 3, y_true)
        assert estimate_noise_rate(P, y) == pytest.approx(rate, abs=0.03)


def test_correct_labels_and_log():
    P = np.array([[0.95, 0.05], [0.6, 0.4], [0.02, 0.98]])
    labels = np.array([1, 1, 1])
    new, changed = relabel_from_predictions(P, labels, threshold=0.9)
    assert new.tolist() == [0, 1, 1] and changed.tolist() == [0]
    assert labels.tolist() == [1, 1, 1]
    log = CorrectionLog.empty().extended(1, [7], [1], [0], [0.95])
    assert len(log) == 1 and log.to_records() == [{"round": 1, "item": 7, "old": 1, "new": 0, "confidence": 0.95}]
    with pytest.raises(ValueError):
        log.item[0] = 3
    with pytest.raises(ValidationError, match="threshold"):
        relabel_from_predictions(P, labels, threshold=0.4)
    with pytest.raises(ValidationError, match="CorrectionLog"):
        CorrectionLog(round=[1], item=[1, 2], old=[0], new=[1], confidence=[0.9])


def test_class_aware_small_loss_selection():
    losses = np.array([0.1, 5.0, 0.2, 4.0, 6.0, 0.3])
    assert small_loss_indices(losses, 0.5).tolist() == [0, 2, 5]
    assert small_loss_indices(losses, 0.5, groups=[0, 1, 0, 1, 1, 0]).tolist() == [0, 1, 2, 3]
