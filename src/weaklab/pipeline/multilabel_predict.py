"""``weaklab predict`` on a multi-label run: the trained end model's ``P(label applies)`` on new items.

A multi-label run's ``train`` step (``tfidf_logreg``) trains one logistic
regression per label on TF-IDF features
(:class:`~weaklab.endmodel.MultiLabelSoftClassifier`). :func:`multilabel_text_state`
takes it apart into plain arrays (the vocabulary in column order, the IDF
weights, one coefficient row and intercept per label, the constant
probability of a label whose targets were all 0 or all 1, and each label's
Platt scaling when the classifier was calibrated), recorded with
the end model (no pickle); :class:`MultiLabelTextEndModel` puts it back
together, and :func:`predict_multilabel_items` writes every label's
probability and the predicted label set of new items: the probabilities the
run recorded for its own items, on the same texts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.feature_extraction.text import TfidfVectorizer

from .._core.validation import fail
from ..store import Store
from .end_model_state import vectorizer_arrays, vectorizer_from_arrays
from .runs import dataset_meta, dataset_text_field, run_dataset
from .training import end_model_texts

__all__ = ["MULTILABEL_STATE_CLASS", "PLATT_CLIP", "MultiLabelTextEndModel", "multilabel_text_state",
           "predict_multilabel_items", "label_set_names"]

#: The ``"class"`` of a multi-label tfidf_logreg end-model state (and its layout version).
MULTILABEL_STATE_CLASS = "multilabel_tfidf_logreg"
_STATE_VERSION = 1
#: How far from 0 and 1 a label's probability is kept before the Platt scaling of
#: ``MultiLabelSoftClassifier(calibration="cross_fit")`` (its own constant; recorded with the state).
PLATT_CLIP = 1e-6
#: How a predicted label set writes "none of the labels" (as ``weaklab export`` and gold cells do).
_NONE = "-"


def multilabel_text_state(vectorizer: TfidfVectorizer, model: Any, *, params: Mapping[str, Any],
                          label_names: Sequence[str]) -> dict[str, Any] | None:
    """A fitted per-label TF-IDF + logistic-regression end model as JSON-able keys plus ``"arrays"``.

    Parameters
    ----------
    vectorizer : TfidfVectorizer
        Fitted on the project's texts.
    model : MultiLabelSoftClassifier
        Fitted; each label's estimator is a
        :class:`~weaklab.endmodel.SoftLabelClassifier` of a binary
        :class:`~sklearn.linear_model.LogisticRegression`, or a float (the
        constant probability of a label whose targets were all 0 or all 1).
        A model fitted with ``calibration="cross_fit"`` also has
        ``calibration_``, each label's Platt slope and intercept, recorded
        as ``"platt"`` and applied by :class:`MultiLabelTextEndModel`.
    params : dict
        The end model's parameters (``ngram_max``, ``min_df``, ...).
    label_names : sequence of str

    Returns
    -------
    dict or None
        None when a label's estimator is not a binary linear model (its state
        cannot be kept as arrays; ``weaklab predict`` then says so).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.endmodel import MultiLabelSoftClassifier
    >>> from weaklab.pipeline.end_model_state import text_vectorizer
    >>> texts = pd.Series(["goal match", "vote senate", "match vote", "chip app"] * 5)
    >>> vec = text_vectorizer({"ngram_max": 1, "min_df": 1})
    >>> y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]] * 5, dtype=float)
    >>> fitted = MultiLabelSoftClassifier(LogisticRegression()).fit(vec.fit_transform(texts), y)
    >>> state = multilabel_text_state(vec, fitted, params={"ngram_max": 1, "min_df": 1}, label_names=["a", "b"])
    >>> model = MultiLabelTextEndModel.from_state(state)
    >>> (model.predict_proba(pd.Series(["goal"])) >= 0.5).tolist()
    [[True, False]]
    """
    words = vectorizer_arrays(vectorizer)
    terms = words["terms"]
    n_labels = len(label_names)
    coef, intercept = np.zeros((n_labels, len(terms))), np.zeros(n_labels)
    constant = np.full(n_labels, np.nan)
    for j, estimator in enumerate(model.estimators_):
        if isinstance(estimator, float):
            constant[j] = estimator
            continue
        inner: Any = getattr(estimator, "estimator_", None)
        classes = np.asarray(getattr(inner, "classes_", []), dtype=np.int64).tolist()
        if classes == [0] or classes == [1]:  # trained on one class: that class always
            constant[j] = float(classes[0])
            continue
        if classes != [0, 1] or np.shape(getattr(inner, "coef_", ())) != (1, len(terms)):
            return None
        coef[j], intercept[j] = np.asarray(inner.coef_)[0], float(np.asarray(inner.intercept_)[0])
    arrays = {**words, "coef": coef, "intercept": intercept, "constant": constant}
    platt = getattr(model, "calibration_", None)  # Platt slope and intercept per label (calibration="cross_fit")
    if platt is not None:
        arrays["platt"] = np.asarray(platt, dtype=np.float64).reshape(n_labels, 2)
    return {"class": MULTILABEL_STATE_CLASS, "version": _STATE_VERSION, "params": dict(params),
            "label_names": [str(n) for n in label_names], "platt_clip": PLATT_CLIP, "arrays": arrays}


@dataclass(frozen=True)
class MultiLabelTextEndModel:
    """A recorded multi-label tfidf_logreg end model, rebuilt from its state (see :func:`multilabel_text_state`)."""

    state: dict[str, Any]
    vectorizer: TfidfVectorizer

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> MultiLabelTextEndModel:
        """Rebuild the vectorizer (a ValidationError names the state when it is another model's)."""
        if state.get("class") != MULTILABEL_STATE_CLASS or state.get("version") != _STATE_VERSION:
            raise fail("state", f"a {MULTILABEL_STATE_CLASS} end-model state of version {_STATE_VERSION}",
                       got_text=f"{state.get('class')!r} version {state.get('version')!r}")
        return cls(dict(state), vectorizer_from_arrays(state["params"], state["arrays"]))

    @property
    def label_names(self) -> list[str]:
        """The labels, in the column order of :meth:`predict_proba`."""
        return list(self.state["label_names"])

    def predict_proba(self, texts: pd.Series) -> np.ndarray:
        """``P(label applies)`` ``(n, K)`` of ``texts`` (missing texts read as empty ones)."""
        arrays = self.state["arrays"]
        X = self.vectorizer.transform(texts.fillna("").astype(str))
        coef = np.asarray(arrays["coef"], dtype=np.float64)
        proba = np.asarray(expit(X @ coef.T + np.asarray(arrays["intercept"], dtype=np.float64)))
        if "platt" in arrays:  # sigmoid(a * logit(q) + b), q kept platt_clip away from 0 and 1
            clip = float(self.state.get("platt_clip", PLATT_CLIP))
            platt = np.asarray(arrays["platt"], dtype=np.float64)
            proba = expit(platt[:, 0] * logit(np.clip(proba, clip, 1.0 - clip)) + platt[:, 1])
        constant = np.asarray(arrays["constant"], dtype=np.float64)
        fixed = ~np.isnan(constant)
        proba[:, fixed] = constant[fixed]
        return proba


def label_set_names(hard: np.ndarray, names: Sequence[str]) -> list[str]:
    """Each row's labels ``|``-separated (``"-"`` for none) from 0/1 (or bool) rows ``(n, K)``.

    Examples
    --------
    >>> label_set_names(np.array([[1, 0, 1], [0, 0, 0]]), ["a", "b", "c"])
    ['a|c', '-']
    """
    return ["|".join(n for n, h in zip(names, row) if h) or _NONE for row in np.asarray(hard, dtype=bool).tolist()]


def predict_multilabel_items(store: Store, run_id: int, data: pd.DataFrame, *,
                             threshold: float = 0.5) -> pd.DataFrame:
    """The predictions of multi-label run ``run_id``'s end model on the items of ``data``.

    Parameters
    ----------
    store : Store
    run_id : int
        A multi-label run that trained its end model (``weaklab train``).
    data : pandas.DataFrame
        New items with the project's text column (``[data].text_field``);
        other columns are ignored; the id column, when present, is kept.
    threshold : float, default=0.5
        A label is predicted when its probability is at least this value
        (the rule of ``weaklab export`` and ``weaklab explain``).

    Returns
    -------
    pandas.DataFrame
        One row per item of ``data``, in order: the id column (when ``data``
        has it), ``labels`` (the predicted label set, ``|``-separated,
        ``"-"`` for none), ``n_labels`` and ``p_<label>`` per label (the end
        model's probabilities, their own Platt scaling included; multi-label
        runs fit no calibrator on the dev gold, so ``attrs["calibration"]``
        is ``"raw"`` and ``attrs["calibration_note"]`` says so).

    Raises
    ------
    ValidationError
        The run has no end model, or one recorded without its state (trained
        before weaklab kept it), or ``data`` lacks the text column, or
        ``threshold`` is not in (0, 1).
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
        raise fail("threshold", "a number in (0, 1)", threshold)
    model, name = _end_model(store, run_id)
    dataset_id = run_dataset(store, run_id)
    field = dataset_text_field(store, dataset_id)
    if field not in data.columns:
        raise fail("data", f"a column {field!r} (the text column the end model of run {run_id} reads, "
                   "[data].text_field)", got_text=f"columns {[str(c) for c in data.columns]}")
    proba = model.predict_proba(end_model_texts(data, field))
    hard = proba >= threshold
    out = pd.DataFrame(index=range(len(data)))
    id_column = dataset_meta(store, dataset_id).get("id_column")
    if isinstance(id_column, str) and id_column in data.columns:
        out[id_column] = data[id_column].to_numpy()
    out["labels"] = label_set_names(hard, model.label_names)
    out["n_labels"] = hard.sum(axis=1).astype(np.int64)
    for j, label in enumerate(model.label_names):
        out[f"p_{label}"] = proba[:, j]
    out.attrs.update(end_model=name, calibration="raw",
                     calibration_note="multilabel runs fit no calibrator on the dev gold")
    return out


def _end_model(store: Store, run_id: int) -> tuple[MultiLabelTextEndModel, str]:
    models = store.run_records(run_id)["end_model_runs"]
    if models.empty:
        raise fail("run", "a run with an end model (`weaklab train` trains one)",
                   got_text=f"run {run_id}, which has none")
    last = models.iloc[-1]
    state = store.load_end_model_state(int(last["end_model_run_id"]))
    if state is None or state.get("class") != MULTILABEL_STATE_CLASS:
        raise fail("run", f"a multilabel run whose end model was recorded with its fitted state "
                   f"({MULTILABEL_STATE_CLASS})", got_text=f"run {run_id}, whose end model {str(last['name'])!r} "
                   "was recorded without it (trained before weaklab kept multilabel end models); "
                   "`weaklab train` trains and records it again")
    return MultiLabelTextEndModel.from_state(state), str(last["name"])
