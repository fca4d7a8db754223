"""CAMClassifier on soft labels: it trains a softmax model toward class probabilities, embeds images, and gives
maps at the feature-map resolution on request."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import ValidationError
from weaklab.vision import CAMClassifier

pytest.importorskip("torch")


def test_soft_labels_train_a_softmax_model_that_learns_the_bars(bar_images):
    """Trained on soft labels that lean 80/20 toward the truth, the model separates the two bar directions."""
    X, y = bar_images(40)
    soft = np.where(y[:, None] == np.arange(2), 0.8, 0.2)
    model = CAMClassifier((8, 16), 1, max_epochs=15, random_state=0).fit(X / 255.0, soft, soft=True)
    proba = model.predict_proba(X / 255.0)
    assert proba.shape == (40, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.mean(proba.argmax(axis=1) == y) >= 0.9
    assert model.transform(X / 255.0).shape == (40, 16)
    assert model.class_activation_maps(X[:3] / 255.0, upsample=False).shape == (3, 2, 14, 14)


def test_soft_labels_must_be_probabilities(bar_images):
    """Rows that do not sum to 1 are refused, naming the labels."""
    X, _ = bar_images(4)
    with pytest.raises(ValidationError, match="labels"):
        CAMClassifier(max_epochs=1).fit(X / 255.0, np.ones((4, 2)), soft=True)
