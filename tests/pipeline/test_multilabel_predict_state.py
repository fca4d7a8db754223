"""A multilabel end model's recorded state predicts what the fitted model does (no pickle), Platt scaling included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from weaklab import ValidationError
from weaklab.endmodel import MultiLabelSoftClassifier
from weaklab.pipeline.end_model_state import text_vectorizer
from weaklab.pipeline.multilabel_predict import PLATT_CLIP, MultiLabelTextEndModel, multilabel_text_state

TEXTS = pd.Series(["goal match", "vote senate", "match vote today", "chip app", "goal chip", "senate app new"] * 6)
TARGETS = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.7, 0.6, 0.0], [0.1, 0.2, 0.0], [0.8, 0.3, 0.0],
                    [0.3, 0.7, 0.0]] * 6)
PARAMS = {"ngram_max": 2, "min_df": 1}


def _fitted() -> tuple[object, MultiLabelSoftClassifier]:
    vectorizer = text_vectorizer(PARAMS)
    X = vectorizer.fit_transform(TEXTS)
    return vectorizer, MultiLabelSoftClassifier(LogisticRegression(max_iter=500)).fit(X, TARGETS)


def test_state_predicts_the_per_label_probabilities_and_constant_labels() -> None:
    """The rebuilt model gives each label's raw probabilities; a label with all-0 targets stays at 0."""
    vectorizer, fitted = _fitted()
    model = MultiLabelTextEndModel.from_state(multilabel_text_state(vectorizer, fitted, params=PARAMS,
                                                                    label_names=["a", "b", "c"]))
    raw = np.column_stack([est.predict_proba(vectorizer.transform(TEXTS))[:, 1] for est in fitted.estimators_[:2]])
    got = model.predict_proba(TEXTS)
    assert np.allclose(got[:, :2], raw, atol=1e-12) and (got[:, 2] == 0.0).all()
    assert model.label_names == ["a", "b", "c"]


def test_platt_scaling_is_recorded_and_applied() -> None:
    """A model with calibration_ (Platt slope, intercept per label) predicts sigmoid(a * logit(clip(q)) + b)."""
    vectorizer, fitted = _fitted()
    platt = np.array([[2.0, -0.5], [0.5, 0.3], [1.0, 0.0]])
    fitted.calibration_ = platt
    state = multilabel_text_state(vectorizer, fitted, params=PARAMS, label_names=["a", "b", "c"])
    assert np.array_equal(state["arrays"]["platt"], platt)
    got = MultiLabelTextEndModel.from_state(state).predict_proba(TEXTS)
    raw = np.column_stack([est.predict_proba(vectorizer.transform(TEXTS))[:, 1] for est in fitted.estimators_[:2]])
    expected = expit(platt[:2, 0] * logit(np.clip(raw, PLATT_CLIP, 1 - PLATT_CLIP)) + platt[:2, 1])
    assert np.allclose(got[:, :2], expected, atol=1e-12) and (got[:, 2] == 0.0).all()


def test_a_state_of_another_model_is_refused() -> None:
    """from_state names the state it expected and the one it got."""
    with pytest.raises(ValidationError, match="state: expected a multilabel_tfidf_logreg end-model state"):
        MultiLabelTextEndModel.from_state({"class": "tfidf_logreg", "version": 1, "arrays": {}})
