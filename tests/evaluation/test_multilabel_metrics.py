"""Multi-label metrics agree with their definitions and with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score as sk_f1
from sklearn.metrics import hamming_loss as sk_hamming

from weaklab import ValidationError
from weaklab.evaluation import hamming_loss, label_calibration_errors, macro_f1, micro_f1


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(0)
    y = (rng.random((300, 5)) < 0.3).astype(int)
    flip = rng.random(y.shape) < 0.2
    return y, np.where(flip, 1 - y, y)


def test_f1_and_hamming_match_scikit_learn(pair):
    """micro/macro F1 and Hamming loss equal scikit-learn's on the same indicators."""
    y, p = pair
    assert micro_f1(y, p) == pytest.approx(sk_f1(y, p, average="micro"))
    assert macro_f1(y, p) == pytest.approx(sk_f1(y, p, average="macro"))
    assert hamming_loss(y, p) == pytest.approx(sk_hamming(y, p))
    assert micro_f1(y, y) == 1.0 and hamming_loss(y, y) == 0.0


def test_calibration_is_small_for_calibrated_and_large_for_overconfident():
    """Probabilities drawn as the truth's own rates score near 0; a constant 0.99 scores near 1 - rate."""
    rng = np.random.default_rng(1)
    proba = rng.random((20000, 3))
    y = (rng.random(proba.shape) < proba).astype(int)
    assert label_calibration_errors(proba, y).max() < 0.03
    over = label_calibration_errors(np.full(proba.shape, 0.99), y)
    assert np.allclose(over, 0.99 - y.mean(axis=0), atol=1e-9)


def test_metrics_refuse_mismatched_inputs(pair):
    """Different shapes or non-indicator values raise ValidationError naming the argument."""
    y, p = pair
    with pytest.raises(ValidationError, match="y_pred"):
        micro_f1(y, p[:, :3])
    with pytest.raises(ValidationError, match="y_true"):
        hamming_loss(y * 2, p)
    with pytest.raises(ValidationError, match="proba"):
        label_calibration_errors(np.full(y.shape, 1.5), y)


def test_calibration_arguments_by_keyword_and_swapped(pair):
    """label_calibration_errors takes (proba, y_true) like every probability metric: keywords give the same
    result in any order, and indicators passed where the probabilities go are named as swapped."""
    rng = np.random.default_rng(2)
    proba = rng.random((200, 3))
    y = (rng.random(proba.shape) < proba).astype(int)
    expected = label_calibration_errors(proba, y)
    assert np.array_equal(label_calibration_errors(y_true=y, proba=proba), expected)
    with pytest.raises(ValidationError, match=r"^y_true: .*takes the probabilities first.*arguments swapped"):
        label_calibration_errors(y, proba)
