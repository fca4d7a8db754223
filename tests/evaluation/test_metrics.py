"""Classification metrics: agreement with scikit-learn, abstentions, coverage and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from weaklab.errors import ValidationError
from weaklab.evaluation import (
    accuracy,
    confusion_matrix,
    coverage,
    covered_scores,
    f1_score,
    precision_recall_f1,
)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [2, 3, 7])
def test_metrics_equal_sklearn_without_abstentions(seed, k):
    """Accuracy, every F1 average and per-class precision/recall equal scikit-learn's on random labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, 300)
    p = np.where(rng.random(300) < 0.6, y, rng.integers(0, k, 300))
    assert accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p))
    for avg in ("macro", "micro", "weighted"):
        assert f1_score(y, p, average=avg) == pytest.approx(skm.f1_score(y, p, average=avg, zero_division=0))
    if k == 2:
        assert f1_score(y, p, average="binary") == pytest.approx(skm.f1_score(y, p))
    table = precision_recall_f1(y, p, n_classes=k)
    pr, rc, f1, sup = skm.precision_recall_fscore_support(y, p, labels=np.arange(k), zero_division=0)
    np.testing.assert_allclose(table["precision"], pr)
    np.testing.assert_allclose(table["recall"], rc)
    np.testing.assert_allclose(table["f1"], f1)
    np.testing.assert_array_equal(table["support"], sup)


def test_abstentions_count_against_recall_not_precision():
    """An abstention lowers accuracy and recall but adds no false positive."""
    y = np.array([0, 0, 1, 1])
    p = np.array([0, -1, 1, -1])
    assert accuracy(y, p) == 0.5
    table = precision_recall_f1(y, p)
    np.testing.assert_allclose(table["precision"], [1.0, 1.0])
    np.testing.assert_allclose(table["recall"], [0.5, 0.5])
    assert f1_score(y, p, average="micro") == pytest.approx(2 * 1.0 * 0.5 / 1.5)


def test_confusion_matrix_matches_sklearn_and_counts_abstentions():
    """The first k columns equal scikit-learn's on covered items; the last column counts abstentions."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 200)
    p = rng.integers(-1, 4, 200)
    conf = confusion_matrix(y, p, n_classes=4)
    covered = p >= 0
    np.testing.assert_array_equal(conf[:, :4], skm.confusion_matrix(y[covered], p[covered], labels=range(4)))
    np.testing.assert_array_equal(conf[:, 4], np.bincount(y[~covered], minlength=4))
    assert conf.sum() == 200


def test_coverage_and_covered_scores():
    """Coverage is the share of non-abstentions and covered scores equal the scores on those items."""
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 500)
    p = np.where(rng.random(500) < 0.3, -1, np.where(rng.random(500) < 0.7, y, rng.integers(0, 3, 500)))
    covered = p >= 0
    scores = covered_scores(y, p)
    assert coverage(p) == pytest.approx(covered.mean())
    assert scores["coverage"] == pytest.approx(covered.mean())
    assert scores["n_covered"] == covered.sum()
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(y[covered], p[covered]))
    assert scores["macro_f1"] == pytest.approx(skm.f1_score(y[covered], p[covered], average="macro"))
    assert np.isnan(covered_scores(y, np.full(500, -1))["accuracy"])


def test_class_names_label_the_table():
    """precision_recall_f1 names each class when class names are given."""
    table = precision_recall_f1([0, 1, 1], [0, 1, 0], class_names=["ham", "spam"])
    assert list(table["name"]) == ["ham", "spam"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: accuracy([0, 1], [0]), "y_pred: expected length 2"),
        (lambda: accuracy([0, 1.5], [0, 1]), "y_true: expected integer class ids"),
        (lambda: accuracy([0, -1], [0, 1]), "y_true: expected class ids in 0..1"),
        (lambda: accuracy([0, 1], [0, 3], n_classes=2), "y_pred: expected class ids in -1"),
        (lambda: accuracy([], []), "y_true: expected at least one item"),
        (lambda: f1_score([0, 1], [0, 1], average="samples"), "average: expected one of"),
        (lambda: f1_score([0, 1], [0, 1], average="binary", pos_label=5), "pos_label"),
        (lambda: precision_recall_f1([0, 1], [0, 1], class_names=["a"]), "class_names: expected 2"),
        (lambda: accuracy(np.zeros((2, 2), int), [0, 1]), "y_true: expected a 1-d array"),
    ],
)
def test_bad_inputs_raise_validation_errors(call, message):
    """Bad inputs raise ValidationError naming the parameter and what was expected."""
    with pytest.raises(ValidationError, match=message):
        call()
