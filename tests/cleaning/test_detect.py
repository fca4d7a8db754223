"""detect_label_issues / method="auto": the method is picked from the estimated noise structure and recorded."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from weaklab.cleaning import LabelIssues, detect_label_issues, find_label_issues
from weaklab.errors import ValidationError
from weaklab.synthetic import corrupt_labels

PAIR = np.array([[0.75, 0.25, 0.0], [0.0, 0.75, 0.25], [0.25, 0.0, 0.75]])


def _class_conditional(n=3000, seed=0):
    """True posteriors, true labels drawn from them, given labels flipped by the pair matrix PAIR."""
    rng = np.random.default_rng(seed)
    centre = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), centre] += 4.0
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = (rng.random(n)[:, None] > proba.cumsum(axis=1)).sum(axis=1).clip(max=2)
    return y, corrupt_labels(y, PAIR, random_state=seed + 1), proba


def _feature_dependent(n=2000, seed=0):
    """Labels wrong on a group the model is unsure about (p(other) = 0.55): below every threshold, above 0.5."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    group = rng.random(n) < 0.3
    given = np.where(group, 1 - y, y)
    p_true = np.where(group, 0.55, 0.95)
    proba = np.stack([np.where(y == 0, p_true, 1 - p_true), np.where(y == 1, p_true, 1 - p_true)], axis=1)
    return y, given, proba


def test_auto_mask_is_the_default_of_find_label_issues():
    """find_label_issues without a method returns the mask detect_label_issues reports."""
    _, given, proba = _class_conditional()
    found = detect_label_issues(given, proba)
    assert np.array_equal(found.mask, find_label_issues(given, proba))
    assert np.array_equal(found.mask, find_label_issues(given, proba, method=found.method))
    assert found.requested == "auto" and found.n_issues == int(found.mask.sum())


def test_class_conditional_noise_gets_the_posterior_ranking_and_finds_most_flips():
    """Under class-conditional pair noise auto picks ranked_posterior, precise and at least as good as pbnr."""
    y, given, proba = _class_conditional()
    found = detect_label_issues(given, proba)
    wrong = given != y
    assert found.method == "ranked_posterior"
    assert abs(found.noise_rate - wrong.mean()) < 0.05
    f1 = 2 * np.sum(found.mask & wrong) / (found.mask.sum() + wrong.sum())
    pbnr = find_label_issues(given, proba, method="prune_by_noise_rate")
    assert f1 >= 2 * np.sum(pbnr & wrong) / (pbnr.sum() + wrong.sum()) - 0.01
    assert np.mean(wrong[found.mask]) > 0.8


def test_feature_dependent_noise_falls_back_to_every_disagreement():
    """When the model disagrees with far more labels than the confident joint counts, auto flags every disagreement."""
    y, given, proba = _feature_dependent()
    found = detect_label_issues(given, proba)
    assert found.method == "predicted_neq_given"
    assert found.disagreement_rate > 2 * found.noise_rate
    assert "disagree" in found.reason
    assert np.array_equal(found.mask, given != y)
    assert not find_label_issues(given, proba, method="ranked_posterior").all()


def test_result_is_frozen_and_an_explicit_method_is_recorded():
    """The result cannot be changed; asking for a method records that method and the reason says so."""
    _, given, proba = _class_conditional(n=600)
    found = detect_label_issues(given, proba, method="prune_by_class")
    assert isinstance(found, LabelIssues) and found.method == found.requested == "prune_by_class"
    assert "asked for" in found.reason
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.method = "x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        found.mask[0] = not found.mask[0]


def test_unknown_method_names_the_parameter():
    """An unknown method is refused with a message naming method and the accepted values."""
    _, given, proba = _class_conditional(n=300)
    with pytest.raises(ValidationError, match="method: expected one of"):
        detect_label_issues(given, proba, method="nope")
