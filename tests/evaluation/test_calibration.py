"""Calibration metrics: analytic values, agreement with scikit-learn, reliability data and the plot."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from sklearn import metrics as skm

from weaklab.errors import ValidationError
from weaklab.evaluation import (
    brier_score,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    plot_reliability,
    reliability_curve,
)


def _calibrated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Binary predictor whose confidence c ~ U(0.5, 1) is right with probability exactly c."""
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0.5, 1.0, n)
    pred = rng.integers(0, 2, n)
    correct = rng.random(n) < conf
    y = np.where(correct, pred, 1 - pred)
    proba = np.where(pred[:, None] == np.arange(2), conf[:, None], 1 - conf[:, None])
    return proba, y


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_perfectly_calibrated_predictor_has_ece_near_zero(strategy):
    """A predictor right with probability equal to its confidence has ECE below 0.01 on 100k items."""
    proba, y = _calibrated(100_000, seed=0)
    assert expected_calibration_error(proba, y, strategy=strategy) < 0.01


def test_overconfident_predictor_matches_analytic_ece():
    """Confidence 0.9 with accuracy exactly 0.7 gives ECE = MCE = 0.2."""
    n = 1000
    y = np.zeros(n, dtype=int)
    y[:300] = 1
    proba = np.tile([0.9, 0.1], (n, 1))
    for strategy in ("uniform", "quantile"):
        assert expected_calibration_error(proba, y, strategy=strategy) == pytest.approx(0.2)
        assert maximum_calibration_error(proba, y, strategy=strategy) == pytest.approx(0.2)


def test_ece_of_known_two_level_predictor():
    """Two confidence levels with known accuracies give the weighted mean of their gaps."""
    n1, n2 = 400, 600
    proba = np.vstack([np.tile([0.95, 0.05], (n1, 1)), np.tile([0.6, 0.4], (n2, 1))])
    y = np.r_[np.zeros(340), np.ones(60), np.zeros(360), np.ones(240)].astype(int)  # acc 0.85 and 0.6
    expected = (n1 * abs(0.85 - 0.95) + n2 * abs(0.6 - 0.6)) / (n1 + n2)
    assert expected_calibration_error(proba, y, n_bins=10) == pytest.approx(expected)
    assert maximum_calibration_error(proba, y, n_bins=10) == pytest.approx(0.1)


@pytest.mark.parametrize("seed", range(3))
def test_brier_and_nll_agree_with_sklearn(seed):
    """NLL equals sklearn's log_loss and the binary Brier score is twice sklearn's brier_score_loss."""
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(4), 300)
    y = rng.integers(0, 4, 300)
    assert negative_log_likelihood(proba, y) == pytest.approx(skm.log_loss(y, proba, labels=range(4)))
    onehot = np.eye(4)[y]
    assert brier_score(proba, y) == pytest.approx(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    p2 = rng.dirichlet(np.ones(2), 300)
    y2 = rng.integers(0, 2, 300)
    assert brier_score(p2, y2) == pytest.approx(2 * skm.brier_score_loss(y2, p2[:, 1]))


def test_reliability_curve_counts_and_ece_consistency():
    """Bin counts sum to n, quantile bins hold equal counts, and the curve reproduces the ECE."""
    rng = np.random.default_rng(3)
    proba = rng.dirichlet(np.ones(3) * 0.5, 1000)
    y = rng.integers(0, 3, 1000)
    curve = reliability_curve(proba, y, n_bins=10)
    assert len(curve) == 10 and curve["count"].sum() == 1000
    used = curve[curve["count"] > 0]
    ece = float(np.sum(used["count"] * np.abs(used["gap"])) / 1000)
    assert ece == pytest.approx(expected_calibration_error(proba, y, n_bins=10))
    quant = reliability_curve(proba, y, n_bins=8, strategy="quantile")
    assert set(quant["count"]) == {125}
    assert np.all(np.diff(quant["lower"]) >= 0)


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="matplotlib is not installed")
def test_plot_reliability_writes_a_png(tmp_path):
    """plot_reliability returns a figure and saves a PNG file."""
    proba, y = _calibrated(500, seed=1)
    path = tmp_path / "rel.png"
    fig = plot_reliability(proba, y, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fig.axes


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: expected_calibration_error([[0.5, 0.6]], [0]), "proba: expected rows that sum to 1"),
        (lambda: expected_calibration_error([[np.nan, 1.0]], [0]), "proba: expected finite"),
        (lambda: expected_calibration_error([0.5, 0.5], [0]), "proba: expected a 2-d array"),
        (lambda: expected_calibration_error([[0.5, 0.5]], [2]), "y_true: expected class ids in 0..1"),
        (lambda: expected_calibration_error([[0.5, 0.5]], [0, 1]), "y_true: expected length 1"),
        (lambda: expected_calibration_error([[0.5, 0.5]], [0], n_bins=0), "n_bins"),
        (lambda: expected_calibration_error([[0.5, 0.5]], [0], strategy="kmeans"), "strategy"),
        (lambda: negative_log_likelihood([[0.5, 0.5]], [0], eps=0), "eps"),
    ],
)
def test_bad_inputs_raise_validation_errors(call, message):
    """Bad probabilities, labels or options raise ValidationError naming the parameter."""
    with pytest.raises(ValidationError, match=message):
        call()


def test_probability_metrics_name_swapped_arguments():
    """Labels passed as proba and probabilities as y_true raise a ValidationError saying the arguments look
    swapped; by keyword, either order scores the same."""
    from weaklab.evaluation import brier_score, expected_calibration_error

    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    y = np.array([0, 1, 1])
    assert expected_calibration_error(y_true=y, proba=proba) == expected_calibration_error(proba, y)
    for metric in (expected_calibration_error, brier_score):
        with pytest.raises(ValidationError, match=r"^proba: .*take \(proba, y_true\).*arguments swapped"):
            metric(y, proba)
