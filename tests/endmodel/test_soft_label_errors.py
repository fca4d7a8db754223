"""SoftLabelClassifier refuses targets that leave a single class to train on, with a weaklab error."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from weaklab import ValidationError
from weaklab.endmodel import SoftLabelClassifier

X = np.random.default_rng(0).random((12, 3))


@pytest.mark.parametrize("y", [
    np.tile([[1.0, 0.0]], (12, 1)),   # soft labels, all mass on class 0
    np.tile([[0.9, 0.1]], (12, 1)),   # class 1 only below min_proba
    np.zeros(12, dtype=int),          # hard labels of one of the two classes
], ids=["soft-one-class", "soft-below-min-proba", "hard-one-class"])
def test_one_class_to_train_on_is_a_validation_error(y):
    """Soft or hard labels that give the estimator one class raise ValidationError naming y."""
    clf = SoftLabelClassifier(LogisticRegression(), classes=[0, 1], min_proba=0.2)
    with pytest.raises(ValidationError, match=r"^y: expected"):
        clf.fit(X, y)
