"""Temperature and vector scaling on dev splits: argmax, NLL and planted temperatures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import log_softmax, softmax

from weaklab import NotFittedError, ValidationError
from weaklab.endmodel import TemperatureScaling, VectorScaling


def _nll(proba, y):
    return float(-np.mean(np.log(np.clip(proba[np.arange(y.shape[0]), y], 1e-300, None))))


def _planted(n, k, temperature, seed):
    """Logits whose true class probabilities are softmax(logits / temperature), and labels drawn from them."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3.0, size=(n, k))
    true = softmax(logits / temperature, axis=1)
    y = (rng.random(n)[:, None] > np.cumsum(true, axis=1)).sum(axis=1)
    return logits, y


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.5])
def test_recovers_planted_temperature(temperature):
    """On 20000 items drawn from softmax(z / T0), the fitted temperature is within 5% of T0."""
    logits, y = _planted(20000, 4, temperature, seed=0)
    fitted = TemperatureScaling().fit(logits, y).temperature_
    assert abs(fitted - temperature) / temperature < 0.05


def test_never_changes_argmax_and_lowers_nll():
    """Scaling keeps each row's argmax and lowers the dev NLL of an over-confident model (T0=3)."""
    logits, y = _planted(3000, 5, 3.0, seed=1)
    dev, test = slice(0, 1500), slice(1500, None)
    ts = TemperatureScaling().fit(logits[dev], y[dev])
    calibrated = ts.transform(logits)
    np.testing.assert_array_equal(calibrated.argmax(axis=1), logits.argmax(axis=1))
    np.testing.assert_allclose(calibrated.sum(axis=1), 1.0)
    before, after = _nll(softmax(logits[dev], axis=1), y[dev]), _nll(calibrated[dev], y[dev])
    assert after < before - 0.1
    assert ts.nll_after_ == pytest.approx(after) and ts.nll_before_ == pytest.approx(before)
    assert _nll(calibrated[test], y[test]) < _nll(softmax(logits[test], axis=1), y[test])


def test_probability_input_from_a_label_model():
    """Probabilities (e.g. a label model's output) are calibrated through their logarithms; argmax is kept."""
    logits, y = _planted(2000, 3, 0.4, seed=2)  # under-confident scores
    proba = softmax(logits, axis=1)
    ts = TemperatureScaling().fit(proba, y)
    out = ts.transform(proba)
    assert ts.temperature_ == pytest.approx(0.4, rel=0.1)
    np.testing.assert_array_equal(out.argmax(axis=1), proba.argmax(axis=1))
    np.testing.assert_allclose(
        TemperatureScaling(input="logits").fit(np.log(proba), y).transform(np.log(proba)), out, atol=1e-6
    )
    assert _nll(out, y) <= _nll(proba, y)


def test_nll_never_increases_on_fit_split():
    """On any dev split the fitted NLL is at most the NLL at T = 1 (here random labels)."""
    rng = np.random.default_rng(3)
    for _ in range(5):
        logits = rng.normal(size=(50, 3))
        y = rng.integers(0, 3, 50)
        ts = TemperatureScaling().fit(logits, y)
        assert ts.nll_after_ <= ts.nll_before_ + 1e-12


def test_one_hot_probabilities_and_unknown_gold():
    """Hard one-hot probabilities stay finite after scaling, and gold -1 rows are ignored in fit."""
    proba = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    y = np.array([0, 1, 1, -1, 1, -1])
    out = TemperatureScaling().fit(proba, y).transform(proba)
    assert np.all(np.isfinite(out)) and np.all(out > 0)
    np.testing.assert_array_equal(out.argmax(axis=1), proba.argmax(axis=1))


def test_vector_scaling_lowers_nll_and_fixes_a_class_bias():
    """Vector scaling removes a planted per-class logit bias and lowers NLL below temperature scaling's."""
    logits, y = _planted(4000, 3, 1.0, seed=4)
    biased = logits + np.array([2.0, 0.0, -1.0])
    vs = VectorScaling().fit(biased, y)
    ts = TemperatureScaling().fit(biased, y)
    assert _nll(vs.transform(biased), y) < _nll(ts.transform(biased), y) - 0.05
    np.testing.assert_allclose(
        vs.intercept_ - vs.intercept_.mean(), -np.array([2.0, 0.0, -1.0]) + 1 / 3, atol=0.15
    )


def test_bad_inputs_and_unfitted():
    """Wrong shapes, NaN, out-of-range gold labels and use before fit raise clear errors."""
    ts = TemperatureScaling()
    with pytest.raises(NotFittedError):
        ts.transform(np.zeros((2, 2)))
    with pytest.raises(ValidationError, match="proba_or_logits: expected a 2-d array"):
        ts.fit(np.zeros(4), np.zeros(4, dtype=int))
    with pytest.raises(ValidationError, match="NaN"):
        ts.fit(np.array([[np.nan, 0.0], [0.0, 1.0]]), np.array([0, 1]))
    with pytest.raises(ValidationError, match="y: expected class ids"):
        ts.fit(np.zeros((2, 2)), np.array([0, 2]))
    with pytest.raises(ValidationError, match="y: expected length 2"):
        ts.fit(np.zeros((2, 2)), np.array([0, 1, 1]))
    with pytest.raises(ValidationError, match=r"input=\.\.\."):
        TemperatureScaling(input="odds").fit(np.zeros((2, 2)), np.array([0, 1]))
    fitted = TemperatureScaling().fit(log_softmax(np.eye(2), axis=1), np.array([0, 1]))
    with pytest.raises(ValidationError, match="2 columns as in fit"):
        fitted.transform(np.zeros((2, 3)))


def _confident_and_right(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A group of 80 items at confidence 0.99-0.99999, all right, beside 80 items at 0.5-0.9 right as often as
    that (a confident end model on the items the sources voted on, and the others)."""
    rng = np.random.default_rng(seed)
    conf = np.r_[rng.uniform(0.99, 0.99999, 80), rng.uniform(0.5, 0.9, 80)]
    proba = np.c_[conf, 1 - conf]
    right = np.r_[np.ones(80, dtype=bool), rng.random(80) < conf[80:]]
    return proba, np.where(right, 0, 1), np.arange(160) < 80


def test_grouped_calibration_never_turns_a_group_the_model_got_all_right_into_certainty():
    """Fitted to Platt's targets (the default), no calibrated probability comes within 1e-6 of 1 on a group whose dev
    items were all right (none is sharper than the model's own); fitted to the 0/1 gold (targets="hard", the old
    behaviour) a temperature below 1 or an isotonic step at 1 pushes many of them there."""
    from weaklab.endmodel import GroupedCalibration

    proba, y, groups = _confident_and_right()
    hard = GroupedCalibration(targets="hard").fit(proba, y, groups=groups).transform(proba, groups=groups)
    assert (hard.max(axis=1) >= 1 - 1e-6).mean() > 0.3
    platt = GroupedCalibration().fit(proba, y, groups=groups).transform(proba, groups=groups)
    assert not (platt.max(axis=1) >= 1 - 1e-6).any() and platt.max() <= proba.max()
    assert np.array_equal(platt.argmax(axis=1), proba.argmax(axis=1))


@pytest.mark.parametrize("targets", ["hard", "platt"])
def test_temperature_fitted_to_platt_targets_stays_finite_when_every_item_is_right(targets):
    """On items that are all right, the 0/1 targets drive T below 1 (probabilities within 1e-6 of 1); Platt's
    targets soften them instead, towards a top probability of about (n + 1) / (n + 2)."""
    proba, y, _ = _confident_and_right()
    scaler = TemperatureScaling(targets=targets).fit(proba[:80], y[:80])
    top = scaler.transform(proba[:80]).max(axis=1)
    if targets == "hard":
        assert scaler.temperature_ < 0.5 and (top >= 1 - 1e-6).mean() > 0.5
    else:
        assert scaler.temperature_ > 1.0 and 0.9 < top.mean() < 0.995 and not (top >= 1 - 1e-6).any()


def test_top_label_isotonic_with_platt_targets_tops_out_at_the_rule_of_succession():
    """With Platt's targets, a confidence range where every item was right maps to (H + 1) / (H + 2), not to 1."""
    from weaklab.endmodel.grouped_calibration import TopLabelIsotonic

    proba, y, _ = _confident_and_right()
    iso = TopLabelIsotonic(targets="platt").fit(proba, y)
    n_hit = int((proba.argmax(axis=1) == y).sum())
    assert iso.transform(proba).max() == pytest.approx((n_hit + 1) / (n_hit + 2))
    assert TopLabelIsotonic().fit(proba, y).transform(proba).max() == 1.0
