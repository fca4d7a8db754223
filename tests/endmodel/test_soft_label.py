"""SoftLabelClassifier: scikit-learn contract, equivalences and input errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from weaklab import SoftLabels, ValidationError
from weaklab.endmodel import SoftLabelClassifier

# Checks that conflict with weaklab's label conventions on purpose.
EXPECTED_FAILED = {
    "check_supervised_y_2d": "a 2-d y is read as soft labels (n, k), not as a column of hard labels",
    "check_classifiers_classes": "hard label -1 marks an unlabelled item (weaklab's ABSTAIN, sklearn's "
    "semi-supervised convention), so the check's {-1, 1} labels leave one class",
}


@parametrize_with_checks(
    [SoftLabelClassifier(LogisticRegression())],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_estimator_checks(estimator, check):
    """SoftLabelClassifier passes scikit-learn's estimator checks except the two documented conflicts."""
    check(estimator)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)
    return X, y


def _soft(y, k, rng, sharpness=3.0):
    logits = rng.normal(size=(y.shape[0], k))
    logits[np.arange(y.shape[0]), y] += sharpness
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def test_one_hot_labels_equal_plain_training(data):
    """With one-hot soft labels the wrapper learns exactly the estimator trained on hard labels."""
    X, y = data
    onehot = np.eye(3)[y]
    wrapped = SoftLabelClassifier(LogisticRegression(max_iter=500)).fit(X, onehot)
    plain = LogisticRegression(max_iter=500).fit(X, y)
    np.testing.assert_allclose(wrapped.estimator_.coef_, plain.coef_, atol=1e-8)
    np.testing.assert_allclose(wrapped.predict_proba(X), plain.predict_proba(X), atol=1e-10)


def test_hard_labels_equal_one_hot_labels(data):
    """Hard labels and their one-hot soft labels give the same model."""
    X, y = data
    a = SoftLabelClassifier(LogisticRegression(max_iter=500)).fit(X, y).predict_proba(X)
    b = SoftLabelClassifier(LogisticRegression(max_iter=500)).fit(X, np.eye(3)[y]).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_soft_labels_equal_weighted_copies(data):
    """Soft labels train like one copy per class weighted by its probability (times sample_weight)."""
    X, y = data
    rng = np.random.default_rng(1)
    P = _soft(y, 3, rng)
    w = rng.uniform(0.5, 2.0, size=y.shape[0])
    model = SoftLabelClassifier(LogisticRegression(max_iter=1000)).fit(X, P, sample_weight=w)
    rows = np.repeat(np.arange(X.shape[0]), 3)
    cols = np.tile(np.arange(3), X.shape[0])
    ref = LogisticRegression(max_iter=1000).fit(X[rows], cols, sample_weight=P.ravel() * w[rows])
    np.testing.assert_allclose(model.estimator_.coef_, ref.coef_, atol=1e-6)


def test_unlabelled_rows_are_skipped(data):
    """All-NaN soft rows and hard -1 labels are left out, as if the rows were dropped."""
    X, y = data
    y_missing = y.copy()
    y_missing[::4] = -1
    keep = y_missing >= 0
    P = np.eye(3)[y].astype(float)
    P[~keep] = np.nan
    ref = SoftLabelClassifier(LogisticRegression(max_iter=500)).fit(X[keep], y[keep]).predict_proba(X)
    hard = SoftLabelClassifier(LogisticRegression(max_iter=500)).fit(X, y_missing)
    soft = SoftLabelClassifier(LogisticRegression(max_iter=500)).fit(X, P)
    assert hard.n_train_items_ == soft.n_train_items_ == int(keep.sum())
    np.testing.assert_allclose(hard.predict_proba(X), ref, atol=1e-10)
    np.testing.assert_allclose(soft.predict_proba(X), ref, atol=1e-10)


def test_confidence_threshold_and_softlabels_container(data):
    """A SoftLabels container is accepted, and confidence_threshold drops the uncertain items."""
    X, y = data
    P = _soft(y, 3, np.random.default_rng(2), sharpness=1.5)
    model = SoftLabelClassifier(LogisticRegression(), confidence_threshold=0.6).fit(X, SoftLabels(P))
    assert model.n_train_items_ == int((P.max(axis=1) >= 0.6).sum())
    assert 0 < model.n_train_items_ < X.shape[0]


def test_classes_param_keeps_a_missing_class(data):
    """With classes=, a class absent from hard labels still gets a (zero) probability column."""
    X, y = data
    y2 = np.where(y == 1, 0, y)
    model = SoftLabelClassifier(LogisticRegression(), classes=[0, 1, 2]).fit(X, y2)
    proba = model.predict_proba(X)
    assert proba.shape == (X.shape[0], 3)
    np.testing.assert_array_equal(proba[:, 1], 0.0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_string_labels_round_trip(data):
    """Hard string labels are predicted back as the same strings."""
    X, y = data
    names = np.array(["ham", "spam", "eggs"])[y]
    model = SoftLabelClassifier(LogisticRegression(max_iter=500)).fit(X, names)
    assert list(model.classes_) == ["eggs", "ham", "spam"]
    assert np.mean(model.predict(X) == names) > 0.7


def test_clone_pipeline_and_cross_val_predict(data):
    """get_params/clone round-trip, the wrapper works inside a pipeline and under cross_val_predict."""
    X, y = data
    P = _soft(y, 3, np.random.default_rng(3))
    model = SoftLabelClassifier(LogisticRegression(C=0.5), min_proba=0.05)
    twin = clone(model)
    assert twin.get_params()["min_proba"] == 0.05 and twin.estimator.C == 0.5
    pipe = make_pipeline(StandardScaler(), model).fit(X, P)
    assert np.mean(pipe.predict(X) == y) > 0.7
    pred = cross_val_predict(model, X, P, cv=3)
    assert pred.shape == y.shape and np.mean(pred == y) > 0.6
    proba = cross_val_predict(model, X, y, cv=3, method="predict_proba")
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_inner_pipeline_on_texts_gets_weights():
    """An inner Pipeline (TF-IDF + logistic regression) on raw texts receives the weights on its last step."""
    texts = ["cheap pills buy now", "meeting at noon", "buy cheap now", "lunch at noon today"] * 10
    y = np.array([1, 0, 1, 0] * 10)
    P = np.eye(2)[y] * 0.8 + 0.1
    model = SoftLabelClassifier(make_pipeline(TfidfVectorizer(), LogisticRegression())).fit(texts, P)
    assert list(model.predict(["buy pills", "noon meeting"])) == [1, 0]


def test_sparse_features(data):
    """Sparse features give the same model as the dense ones."""
    X, y = data
    P = _soft(y, 3, np.random.default_rng(4))
    dense = SoftLabelClassifier(LogisticRegression(max_iter=500)).fit(X, P).predict_proba(X)
    sparse = SoftLabelClassifier(LogisticRegression(max_iter=500)).fit(sp.csr_matrix(X), P)
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense, atol=1e-6)


@pytest.mark.parametrize(
    ("y", "fragment"),
    [
        (np.full((300, 3), 0.5), "rows that sum to 1"),
        (np.full((200, 3), 1 / 3), "300 rows"),
        (np.concatenate([[[np.nan, 0.5, 0.5]], np.full((299, 3), 1 / 3)]), "partly-NaN"),
        (np.zeros((300, 2, 2)), "soft labels of shape"),
        (np.linspace(0, 1, 300), "continuous"),
        (np.zeros(300, dtype=int), "at least 2 classes"),
        (None, "requires y to be passed"),
    ],
    ids=["not-summing", "wrong-rows", "partial-nan", "3d", "continuous", "one-class", "none"],
)
def test_bad_labels_raise_validation_error(data, y, fragment):
    """Bad labels raise a ValidationError naming y, what was expected and what arrived."""
    X, _ = data
    with pytest.raises(ValidationError, match=r"^y[ :(]") as info:
        SoftLabelClassifier(LogisticRegression()).fit(X, y)
    assert fragment in str(info.value)


def test_bad_parameters_and_estimator(data):
    """Out-of-range parameters and an estimator without sample_weight raise ValidationError."""
    X, y = data
    with pytest.raises(ValidationError, match=r"min_proba=...\): expected"):
        SoftLabelClassifier(LogisticRegression(), min_proba=1.5).fit(X, y)
    with pytest.raises(ValidationError, match="sample_weight"):
        SoftLabelClassifier(KNeighborsClassifier()).fit(X, y)
    with pytest.raises(ValidationError, match="sample_weight: expected 300 finite non-negative"):
        SoftLabelClassifier(LogisticRegression()).fit(X, y, sample_weight=-np.ones(300))


def test_unsorted_classes_and_score_on_soft_labels(data):
    """With classes in any order, hard labels map to their columns; score takes soft or hard labels."""
    X, y = data
    names = np.array(["c", "a", "b"])
    model = SoftLabelClassifier(LogisticRegression(max_iter=500), classes=names).fit(X, names[y])
    np.testing.assert_array_equal(model.classes_, names)
    assert model.score(X, names[y]) == pytest.approx(np.mean(model.predict(X) == names[y]))
    assert model.score(X, np.eye(3)[y]) == pytest.approx(model.score(X, names[y]))
