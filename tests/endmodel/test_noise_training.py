"""TorchClassifier under label noise: sample selection, estimated forget rate, alternating correction."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

torch = pytest.importorskip("torch", reason="TorchClassifier needs torch (pip install 'weaklab[torch]')")

from weaklab import ValidationError  # noqa: E402
from weaklab.endmodel import TorchClassifier, make_mlp  # noqa: E402
from weaklab.evaluation import inject_noise  # noqa: E402

torch.set_num_threads(1)
RATE = 0.3


@pytest.fixture(scope="module")
def noisy():
    X, y = make_classification(900, 10, n_informative=6, n_redundant=0, n_classes=3, class_sep=1.5,
                               random_state=0)
    X = X.astype(np.float32)
    y_noisy = inject_noise(y[:600], "uniform", RATE, n_classes=3, random_state=0)
    return X[:600], y[:600], y_noisy, X[600:], y[600:]


def _model(**kw):
    params = dict(module=make_mlp((32,)), n_epochs=12, lr=3e-3, batch_size=64, random_state=0)
    params.update(kw)
    return TorchClassifier(**params)


def _majority(y_noisy, y_test):
    return float(np.mean(y_test == np.bincount(y_noisy).argmax()))


@pytest.mark.parametrize("selection", ["cw_bass", "gmm", "cpc"])
def test_sample_selection_down_weights_items_and_learns(noisy, selection):
    X, _, y_noisy, X_test, y_test = noisy
    model = _model(sample_selection=selection, warmup_epochs=3).fit(X, y_noisy)
    selected = [h["n_selected"] for h in model.history_]
    assert selected[:3] == [600, 600, 600]
    if selection != "cw_bass":  # cw_bass weights items by confidence; below-threshold weights decay to 0 later
        assert min(selected[3:]) < 600
    assert min(selected[3:]) > 600 * (1 - 2 * RATE)  # not a collapse onto a few items
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    assert accuracy > _majority(y_noisy, y_test) + 0.35


def test_cw_bass_drops_items_below_the_class_thresholds_late(noisy):
    X, _, y_noisy, _, _ = noisy
    model = _model(sample_selection="cw_bass", warmup_epochs=2, n_epochs=14).fit(X, y_noisy)
    assert model.history_[-1]["n_selected"] < 600


def test_auto_forget_rate_estimates_the_noise_rate(noisy):
    X, y, y_noisy, X_test, y_test = noisy
    model = _model(co_teaching=True, forget_epochs=4).fit(X, y_noisy)
    assert model.forget_rate_ == pytest.approx(np.mean(y != y_noisy), abs=0.1)
    fixed = _model(co_teaching=True, forget_rate=0.1).fit(X, y_noisy)
    assert fixed.forget_rate_ == 0.1
    assert np.mean(model.predict(X_test) == y_test) > _majority(y_noisy, y_test) + 0.35


def test_auto_forget_rate_is_near_zero_on_clean_labels(noisy):
    """Clean labels: the held-out networks' own errors are not taken for noise (hausa forgot 36 % before)."""
    X, y, _, X_test, y_test = noisy
    model = _model(co_teaching=True, forget_epochs=4).fit(X, y)
    assert model.forget_rate_ < 0.05
    plain = _model().fit(X, y)
    assert np.mean(model.predict(X_test) == y_test) >= np.mean(plain.predict(X_test) == y_test) - 0.03


def test_alternating_correction_fixes_more_labels_than_it_breaks(noisy):
    X, y, y_noisy, _, _ = noisy
    y_fit = y_noisy.astype(float)
    y_fit[::10] = np.nan  # unlabelled rows: log items must still be rows of X
    model = _model(correction_rounds=2).fit(X, y_fit)
    log = model.correction_log_
    assert len(log) > 50
    assert set(np.unique(log.round)) <= {1, 2}
    current = y_noisy.copy()  # replaying the log: each change starts from the label of the previous round
    for record in log.to_records():
        assert current[record["item"]] == model.classes_[record["old"]]
        current[record["item"]] = model.classes_[record["new"]]
    assert np.mean(current == y) > np.mean(y_noisy == y) + 0.05
    assert np.all(log.item % 10 != 0)
    precision = np.mean(model.classes_[log.new] == y[log.item])
    assert precision > 0.65  # a random relabelling of this data is right about 15 % of the time
    fixed = _model(correction_rounds=1, correction_threshold=0.95).fit(X, y_noisy).correction_log_
    assert np.all(fixed.confidence >= 0.95) and len(fixed) < len(log)
    assert len(_model().fit(X, y_noisy).correction_log_) == 0


def test_correction_log_survives_to_state(noisy):
    X, _, y_noisy, X_test, _ = noisy
    model = _model(correction_rounds=1, n_epochs=6).fit(X, y_noisy)
    again = TorchClassifier.from_state(model.to_state())
    assert again.correction_log_.to_records() == model.correction_log_.to_records()
    np.testing.assert_allclose(again.predict_proba(X_test), model.predict_proba(X_test), atol=1e-6)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"sample_selection": "dividemix"}, "sample_selection"),
        ({"correction_rounds": -1}, "correction_rounds"),
        ({"correction_threshold": 0.3}, "correction_threshold"),
        ({"forget_rate": "estimated"}, "forget_rate"),
    ],
)
def test_bad_noise_options_name_the_parameter(noisy, params, name):
    X, _, y_noisy, _, _ = noisy
    with pytest.raises(ValidationError, match=name):
        _model(**params).fit(X[:50], y_noisy[:50])
