"""Label-quality scores, ranking invariance, confidence-gated correction and its log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab.cleaning import (
    QUALITY_SCORES,
    CorrectionLog,
    correct_labels,
    find_label_issues,
    label_quality_scores,
    rank_label_issues,
)
from weaklab.errors import ValidationError


def _noisy_case(n=600, k=4, seed=0):
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.full(k, 0.4), size=n)
    labels = rng.integers(0, k, n)
    return labels, proba


@pytest.mark.parametrize("score", QUALITY_SCORES)
def test_scores_lie_in_unit_interval_and_rank_worst_first(score):
    """Scores are in [0, 1] and rank_label_issues orders items by ascending score."""
    labels, proba = _noisy_case()
    s = label_quality_scores(labels, proba, score=score)
    assert s.shape == labels.shape and s.min() >= 0 and s.max() <= 1
    order = rank_label_issues(labels, proba, score=score)
    assert sorted(order.tolist()) == list(range(labels.size))
    assert np.all(np.diff(s[order]) >= 0)


@pytest.mark.parametrize("score", QUALITY_SCORES)
def test_ranking_is_invariant_to_row_order(score):
    """Permuting the rows and mapping the ranking back gives the same ranking."""
    labels, proba = _noisy_case(seed=1)
    perm = np.random.default_rng(2).permutation(labels.size)
    ranked = rank_label_issues(labels, proba, score=score)
    ranked_perm = rank_label_issues(labels[perm], proba[perm], score=score)
    assert np.array_equal(perm[ranked_perm], ranked)
    assert np.allclose(label_quality_scores(labels[perm], proba[perm], score=score),
                       label_quality_scores(labels, proba, score=score)[perm])


def test_rank_with_mask_returns_only_flagged_items():
    """A mask restricts the ranking to the flagged items, still worst first."""
    labels, proba = _noisy_case(seed=3)
    mask = find_label_issues(labels, proba)
    ranked = rank_label_issues(labels, proba, mask=mask)
    assert set(ranked.tolist()) == set(np.flatnonzero(mask).tolist())
    full = rank_label_issues(labels, proba)
    assert np.array_equal(ranked, full[mask[full]])


def test_score_values_on_a_hand_made_row():
    """Self-confidence, normalized margin and confidence-weighted entropy of a known row."""
    proba = np.array([[0.7, 0.2, 0.1]])
    assert label_quality_scores([1], proba)[0] == pytest.approx(0.2)
    assert label_quality_scores([1], proba, score="normalized_margin")[0] == pytest.approx(0.25)
    h = -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)) / np.log(3)
    assert label_quality_scores([1], proba, score="confidence_weighted_entropy")[0] == pytest.approx(
        1 / (1 + h / 0.2))


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9])
def test_correction_never_changes_items_below_threshold_and_logs_every_change(threshold):
    """Only flagged items with another class at or above the threshold change, each with a log row."""
    labels, proba = _noisy_case(n=2000, seed=4)
    issues = find_label_issues(labels, proba, method="predicted_neq_given")
    new, log = correct_labels(labels, proba, issues=issues, threshold=threshold)
    changed = np.flatnonzero(new != labels)
    assert np.array_equal(np.sort(log.item), changed)
    assert np.all(issues[changed])
    assert np.all(proba[changed, new[changed]] >= threshold)
    others = proba.copy()
    others[np.arange(labels.size), labels] = -1
    eligible = issues & (others.max(axis=1) >= threshold)
    assert np.array_equal(new != labels, eligible)
    assert np.array_equal(log.old_label, labels[changed]) and np.array_equal(log.new_label, new[changed])
    assert np.allclose(log.score, proba[changed, new[changed]]) and np.all(log.threshold == threshold)
    assert set(log.method) <= {"provided"}


def test_soft_correction_replaces_changed_rows_by_the_prediction():
    """Soft mode keeps unchanged rows as given and puts the model's row in each changed one."""
    labels, proba = _noisy_case(seed=5)
    soft = np.eye(4)[labels] * 0.8 + 0.05
    new, log = correct_labels(soft, proba, threshold=0.6, mode="soft", method="predicted_neq_given")
    rows = log.item.astype(int)
    keep = np.setdiff1d(np.arange(labels.size), rows)
    assert np.allclose(new[keep], soft[keep]) and np.allclose(new[rows], proba[rows])
    assert np.all(log.method == "predicted_neq_given")


def test_correction_log_is_frozen_and_converts_to_a_frame():
    """The log cannot be modified, uses the given item ids and converts to a DataFrame."""
    labels, proba = _noisy_case(seed=6)
    ids = np.array([f"item-{i}" for i in range(labels.size)])
    _, log = correct_labels(labels, proba, threshold=0.5, item_ids=ids, method="predicted_neq_given")
    assert isinstance(log, CorrectionLog) and len(log) > 0
    frame = log.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(log)
    assert list(frame.columns) == ["item", "old_label", "new_label", "method", "score", "threshold"]
    assert frame["item"].str.startswith("item-").all()
    with pytest.raises(ValueError):
        log.score[0] = 1.0
    with pytest.raises(AttributeError):
        log.item = np.zeros(1)  # type: ignore[misc]


def test_correction_rejects_bad_threshold_and_issue_positions():
    """A threshold outside (0, 1] and issue positions out of range raise ValidationError."""
    labels, proba = _noisy_case(n=10)
    with pytest.raises(ValidationError, match="threshold"):
        correct_labels(labels, proba, threshold=1.5)
    with pytest.raises(ValidationError, match=r"issues: expected positions in 0\.\.9"):
        correct_labels(labels, proba, issues=[3, 12])
