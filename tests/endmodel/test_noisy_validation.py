"""TorchClassifier: early stopping on a held-out noisy slice, and co-teaching's per-class forget rates."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

torch = pytest.importorskip("torch", reason="TorchClassifier needs torch (pip install 'weaklab[torch]')")

from weaklab import ValidationError  # noqa: E402
from weaklab.endmodel import TorchClassifier, make_mlp  # noqa: E402
from weaklab.evaluation import inject_noise  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def imbalanced():
    """Two classes, 15 % positives, 35 % of the training labels flipped uniformly."""
    X, y = make_classification(3000, 10, n_informative=5, n_redundant=0, weights=[0.85], class_sep=1.5,
                               flip_y=0, random_state=0)
    X = X.astype(np.float32)
    y_noisy = inject_noise(y[:2000], "uniform", 0.35, n_classes=2, random_state=0)
    return X[:2000], y[:2000], y_noisy, X[2000:], y[2000:]


def _model(**kw):
    params = dict(module=make_mlp((32,)), n_epochs=20, lr=3e-3, batch_size=128, random_state=0)
    params.update(kw)
    return TorchClassifier(**params)


def _accuracy(model, X, y):
    return float(np.mean(model.predict(X) == y))


def test_validation_fraction_holds_out_a_noisy_slice_and_stops_early(imbalanced):
    X, _, y_noisy, X_test, y_test = imbalanced
    model = _model(validation_fraction=0.2, n_epochs=60).fit(X, y_noisy)
    assert {h["n_items"] for h in model.history_} == {1600}
    assert all("dev_accuracy" in h for h in model.history_)
    assert len(model.history_) < 60  # memorising the noise lowers the noisy dev accuracy
    best = max(h["dev_accuracy"] for h in model.history_)
    assert len(model.history_) - 1 - [h["dev_accuracy"] for h in model.history_].index(best) > model.patience
    plain = _model(n_epochs=60).fit(X, y_noisy)
    majority = float(np.mean(y_test == np.bincount(y_noisy).argmax()))
    assert _accuracy(model, X_test, y_test) > max(majority, _accuracy(plain, X_test, y_test))


def test_auto_forget_rates_follow_the_imbalance_and_beat_one_rate_for_all(imbalanced):
    """Most items labelled with the rare class are wrong: co-teaching forgets more of them."""
    X, y, y_noisy, X_test, y_test = imbalanced
    auto = _model(co_teaching=True, forget_epochs=5).fit(X, y_noisy)
    truth = [np.mean(y[y_noisy == c] != c) for c in (0, 1)]
    assert truth[1] > 0.5 > truth[0]
    assert auto.class_forget_rates_[1] > auto.class_forget_rates_[0] + 0.3
    assert auto.forget_rate_ == pytest.approx(auto.class_forget_rates_ @ np.bincount(y_noisy) / y_noisy.shape[0])
    same = _model(co_teaching=True, forget_epochs=5, forget_rate=auto.forget_rate_).fit(X, y_noisy)
    np.testing.assert_allclose(same.class_forget_rates_, auto.forget_rate_)
    majority = float(np.mean(y_test == np.bincount(y_noisy).argmax()))
    assert _accuracy(auto, X_test, y_test) > max(majority, _accuracy(same, X_test, y_test) + 0.05)


def test_validation_fraction_and_validation_data_are_exclusive(imbalanced):
    X, _, y_noisy, _, _ = imbalanced
    with pytest.raises(ValidationError, match="validation_fraction"):
        _model(validation_fraction=0.1).fit(X[:100], y_noisy[:100], validation_data=(X[:10], y_noisy[:10]))
    with pytest.raises(ValidationError, match="validation_fraction"):
        _model(validation_fraction=1.0).fit(X[:100], y_noisy[:100])
