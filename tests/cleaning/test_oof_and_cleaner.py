"""Out-of-fold probabilities and the LabelCleaner estimator."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from weaklab.cleaning import LabelCleaner, find_label_issues, out_of_fold_proba
from weaklab.endmodel import SoftLabelClassifier
from weaklab.errors import ValidationError
from weaklab.evaluation import inject_noise


def _data(n=900, seed=0, rate=0.3):
    X, y = make_classification(n_samples=2 * n, n_features=10, n_informative=6, n_classes=3,
                               n_clusters_per_class=1, class_sep=1.5, random_state=seed)
    noisy = inject_noise(y[:n], "uniform", rate, random_state=seed)
    return X[:n], y[:n], noisy, X[n:], y[n:]


def test_oof_proba_rows_sum_to_one_and_are_seeded():
    """Out-of-fold probabilities have one row per item summing to 1 and repeat under a seed."""
    X, _, noisy, _, _ = _data(n=300)
    a = out_of_fold_proba(LogisticRegression(), X, noisy, cv=3, random_state=0)
    assert a.shape == (300, 3) and np.allclose(a.sum(axis=1), 1)
    assert np.array_equal(a, out_of_fold_proba(LogisticRegression(), X, noisy, cv=3, random_state=0))


def test_oof_proba_predicts_each_item_without_its_label():
    """A prior-only model predicts each item with the class frequencies of the other folds."""
    labels = np.repeat([0, 1], [60, 40])
    proba = out_of_fold_proba(DummyClassifier(strategy="prior"), np.zeros((100, 1)), labels, cv=5,
                              random_state=1)
    assert np.allclose(proba, [0.6, 0.4])  # stratified folds keep the 60/40 split in every fold


def test_soft_labels_reach_soft_estimators_and_fall_back_to_argmax():
    """SoftLabelClassifier trains on soft labels; LogisticRegression gets their argmax, as if given hard."""
    X, _, noisy, _, _ = _data(n=300)
    soft = np.eye(3)[noisy] * 0.7 + 0.1
    plain = out_of_fold_proba(LogisticRegression(), X, soft, cv=3, random_state=2)
    hard = out_of_fold_proba(LogisticRegression(), X, noisy, cv=3, random_state=2)
    assert np.allclose(plain, hard)
    wrapped = out_of_fold_proba(SoftLabelClassifier(LogisticRegression()), X, soft, cv=3, random_state=2)
    assert wrapped.shape == (300, 3) and not np.allclose(wrapped, hard)
    with pytest.raises(ValueError):
        out_of_fold_proba(LogisticRegression(), X, soft, cv=3, soft=True)


def test_oof_rejects_mismatched_rows_and_bad_cv():
    """A feature matrix of the wrong length or cv < 2 raises ValidationError."""
    X, _, noisy, _, _ = _data(n=100)
    with pytest.raises(ValidationError, match="X: expected 99 rows"):
        out_of_fold_proba(LogisticRegression(), X, noisy[:99])
    with pytest.raises(ValidationError, match="cv: expected an integer"):
        out_of_fold_proba(LogisticRegression(), X, noisy, cv=1)


def test_cleaner_finds_noise_and_trains_at_least_as_well():
    """On 30 % uniform noise the cleaner flags mostly flipped items and its model is no worse on clean data."""
    X, y, noisy, Xt, yt = _data()
    cleaner = LabelCleaner(LogisticRegression(), cv=5, random_state=0).fit(X, noisy)
    flipped = noisy != y
    flagged = cleaner.label_issues_
    assert np.mean(flipped[flagged]) > 0.8 and np.mean(flagged[flipped]) > 0.6
    baseline = LogisticRegression().fit(X, noisy)
    assert cleaner.score(Xt, yt) >= baseline.score(Xt, yt) - 0.01
    log = cleaner.correction_log_
    assert np.array_equal(np.sort(log.item), np.flatnonzero(flagged)) and np.all(log.new_label == -1)
    assert np.array_equal(flagged, find_label_issues(noisy, cleaner.pred_probs_))


@pytest.mark.parametrize("action", ["relabel", "relabel_or_prune"])
def test_cleaner_relabel_logs_every_change_above_threshold(action):
    """Relabelling changes only flagged items whose out-of-fold confidence reaches the threshold."""
    X, _, noisy, _, _ = _data(seed=1)
    cleaner = LabelCleaner(LogisticRegression(), action=action, threshold=0.7, random_state=0).fit(X, noisy)
    log = cleaner.correction_log_
    relabelled = log.new_label >= 0
    items = log.item[relabelled].astype(int)
    assert np.all(cleaner.label_issues_[items])
    assert np.allclose(cleaner.pred_probs_[items, log.new_label[relabelled]], log.score[relabelled])
    assert np.all(log.score[relabelled] >= 0.7)
    if action == "relabel":
        assert np.all(relabelled)
    else:
        assert np.array_equal(np.sort(log.item), np.flatnonzero(cleaner.label_issues_))


def test_cleaner_is_a_scikit_learn_estimator():
    """LabelCleaner clones, exposes its parameters and validates them in fit."""
    cleaner = LabelCleaner(LogisticRegression(), method="both", threshold=0.8)
    copy = clone(cleaner)
    assert copy.get_params()["method"] == "both" and copy.get_params()["threshold"] == 0.8
    X, _, noisy, _, _ = _data(n=200)
    with pytest.raises(ValidationError, match=r"LabelCleaner\(action=...\): expected one of"):
        LabelCleaner(LogisticRegression(), action="drop").fit(X, noisy)
    proba = LabelCleaner(SoftLabelClassifier(LogisticRegression()), random_state=0).fit(
        X, np.eye(3)[noisy] * 0.9 + 0.1 / 3).predict_proba(X)
    assert proba.shape == (200, 3) and np.allclose(proba.sum(axis=1), 1)
