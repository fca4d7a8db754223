"""Multi-label end models learn independent labels from soft binary targets."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from weaklab import MultiLabelSoftLabels, NotFittedError, ValidationError
from weaklab.endmodel import (
    MultiLabelSoftClassifier,
    MultiLabelTorchClassifier,
    SoftLabelClassifier,
    TorchClassifier,
    make_mlp,
)
from weaklab.evaluation import micro_f1


def _task(n: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8)).astype(np.float32)
    W = rng.normal(size=(8, 4))
    y = (X @ W > 0.3).astype(np.int8)
    return X, y


@pytest.fixture(scope="module")
def task():
    X, y = _task(1400, 0)
    rng = np.random.default_rng(1)
    # soft targets as a label model gives them: right label with confidence 0.8, 15 % of them flipped
    flipped = np.where(rng.random(y[:1000].shape) < 0.15, 1 - y[:1000], y[:1000])
    soft = MultiLabelSoftLabels(np.where(flipped == 1, 0.8, 0.2))
    return X[:1000], y[:1000], soft, X[1000:], y[1000:]


def test_torch_model_on_soft_targets_is_close_to_supervised(task):
    """Sigmoid outputs trained on noisy soft targets reach >= 0.8 micro F1 and within 0.08 of gold training."""
    X, y, soft, Xte, yte = task
    params = {"module": make_mlp((32,)), "n_epochs": 30, "lr": 0.01, "random_state": 0}
    noisy = MultiLabelTorchClassifier(**params).fit(X, soft)
    clean = MultiLabelTorchClassifier(**params).fit(X, y)
    proba = noisy.predict_proba(Xte)
    assert proba.shape == yte.shape and ((proba >= 0) & (proba <= 1)).all()
    assert micro_f1(yte, noisy.predict(Xte)) >= 0.8
    assert micro_f1(yte, noisy.predict(Xte)) >= micro_f1(yte, clean.predict(Xte)) - 0.08
    again = MultiLabelTorchClassifier(**params).fit(X, soft)
    assert np.allclose(again.predict_proba(Xte), proba)  # same seed, same model


def test_unknown_targets_are_left_out(task):
    """NaN targets do not count: a label known on half the items is still learned."""
    X, y, _, Xte, yte = task
    targets = y.astype(float)
    targets[::2, 0] = np.nan
    model = MultiLabelTorchClassifier(make_mlp((32,)), n_epochs=30, lr=0.01, random_state=0).fit(X, targets)
    assert np.mean(model.predict(Xte)[:, 0] == yte[:, 0]) > 0.85


def test_sklearn_per_label_model(task):
    """One logistic regression per label on soft targets reaches >= 0.8 micro F1; constant labels stay constant."""
    X, y, soft, Xte, yte = task
    model = MultiLabelSoftClassifier(LogisticRegression(max_iter=500)).fit(X, soft)
    assert micro_f1(yte, model.predict(Xte)) >= 0.8
    const = np.column_stack([y[:, 0], np.zeros(len(y))])
    fitted = MultiLabelSoftClassifier(LogisticRegression()).fit(X, const)
    assert np.all(fitted.predict_proba(Xte)[:, 1] == 0.0)


def test_errors_name_the_argument(task):
    """Wrong targets and unfitted use raise errors naming what is wrong."""
    X, y, *_ = task
    with pytest.raises(ValidationError, match="rows of X"):
        MultiLabelTorchClassifier().fit(X, y[:10])
    with pytest.raises(ValidationError, match=r"\[0, 1\]"):
        MultiLabelSoftClassifier(LogisticRegression()).fit(X, y * 2.0)
    with pytest.raises(NotFittedError):
        MultiLabelTorchClassifier().predict_proba(X)


def test_single_label_models_point_to_the_multi_label_ones(task):
    """SoftLabelClassifier and TorchClassifier refuse multi-label soft labels and name the models that take them."""
    X, _, soft, *_ = task
    for model in (SoftLabelClassifier(LogisticRegression()), TorchClassifier(n_epochs=1)):
        with pytest.raises(ValidationError, match="MultiLabelTorchClassifier"):
            model.fit(X, soft)


def _memorisable(n: int, seed: int):
    """Items with 6 informative features and one feature of their own (as a rare bigram is), a rare label.

    Returns train features, soft targets, test features and the test truth.
    """
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    informative = rng.normal(size=(2 * n, 6))
    y = (informative[:, 0] + 0.5 * informative[:, 1] > 1.0).astype(np.int8)  # ~20 % of the items
    own = sp.identity(2 * n, format="csr") * 3.0
    X = sp.hstack([sp.csr_matrix(informative), own]).tocsr()
    soft = np.where(y[:n] == 1, 0.9, 0.05)[:, None]
    return X[:n], soft, X[n:], y[n:, None]


def test_cross_fit_calibration_undoes_the_shrinkage_of_a_model_that_memorises_its_items():
    """A model that can fit each training item by its own feature under-predicts a rare label on new items;
    calibration="cross_fit" brings its recall on them back (F1 up by at least 0.1), with no gold."""
    X, soft, Xte, yte = _memorisable(300, 0)
    plain = MultiLabelSoftClassifier(LogisticRegression(C=4.0, max_iter=2000)).fit(X, soft)
    cal = MultiLabelSoftClassifier(LogisticRegression(C=4.0, max_iter=2000), calibration="cross_fit",
                                   random_state=0).fit(X, soft)
    assert plain.calibration_.tolist() == [[1.0, 0.0]]  # identity without calibration
    assert plain.predict(Xte).mean() < 0.5 * yte.mean()  # the shrinkage: far fewer positives than there are
    assert micro_f1(yte, cal.predict(Xte)) >= micro_f1(yte, plain.predict(Xte)) + 0.1
    a, _ = cal.calibration_[0]
    assert a > 1.0  # the held-out outputs are stretched, not just shifted
    again = MultiLabelSoftClassifier(LogisticRegression(C=4.0, max_iter=2000), calibration="cross_fit",
                                     random_state=0).fit(X, soft)
    np.testing.assert_array_equal(again.predict_proba(Xte), cal.predict_proba(Xte))  # same seed, same folds


def test_cross_fit_keeps_constant_labels_and_checks_its_parameters(task):
    """A label with constant targets stays constant under calibration; bad calibration/cv values are named."""
    X, y, _, Xte, _ = task
    const = np.column_stack([y[:, 0], np.ones(len(y))])
    fitted = MultiLabelSoftClassifier(LogisticRegression(), calibration="cross_fit", random_state=0).fit(X, const)
    assert np.all(fitted.predict_proba(Xte)[:, 1] == 1.0) and fitted.calibration_[1].tolist() == [1.0, 0.0]
    with pytest.raises(ValidationError, match="calibration"):
        MultiLabelSoftClassifier(LogisticRegression(), calibration="platt").fit(X, y)
    with pytest.raises(ValidationError, match="cv"):
        MultiLabelSoftClassifier(LogisticRegression(), calibration="cross_fit", cv=1).fit(X, y)


def test_cross_fit_on_a_label_known_on_one_item_leaves_it_uncalibrated(task):
    """A label with a single known (soft) target cannot be cross-fitted: it keeps the identity, no NaN."""
    X, y, _, Xte, _ = task
    targets = np.column_stack([y[:, 0], np.full(len(y), np.nan)])
    targets[0, 1] = 0.7
    model = MultiLabelSoftClassifier(LogisticRegression(), calibration="cross_fit", random_state=0).fit(X, targets)
    assert model.calibration_[1].tolist() == [1.0, 0.0] and model.calibration_[0, 0] != 1.0
    assert np.isfinite(model.predict_proba(Xte)).all()
