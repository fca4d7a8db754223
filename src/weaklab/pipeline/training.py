"""The stage computations of a project: label-model metrics, end model, calibration, query scores."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .._core.soft_labels import with_known_classes
from .._core.validation import fail
from ..endmodel import GroupedCalibration, SoftLabelClassifier, WeakLabelRecipe
from ..evaluation import accuracy, expected_calibration_error, f1_score, reliability_curve
from ..features import entity_marked_texts, has_entity_spans
from ..models import LabelModel
from .end_model_state import text_model_state, text_vectorizer

__all__ = ["END_MODEL_DEFAULTS", "EndModelResult", "SoftLabelFit", "calibration", "checked_label_model",
           "label_model_class", "dev_metrics", "end_model_texts", "fit_on_soft_labels", "fitted_text_features",
           "measured_end_model", "reliability_bins", "slice_reliability", "text_features", "train_end_model",
           "with_known_labels"]

#: Parameters of the tfidf_logreg end model when weaklab.toml leaves them out.
END_MODEL_DEFAULTS: dict[str, Any] = {"C": 4.0, "max_iter": 2000, "ngram_max": 2, "min_df": 1}
#: Dev items needed before calibration is measured (half fits the calibrator, half measures it).
MIN_CALIBRATION_ITEMS = 20
#: Dev items with gold needed before the end model's options and its combination with the label model are chosen.
MIN_RECIPE_GOLD = 30


def label_model_class(name: str) -> type[LabelModel]:
    """The label-model class called ``name`` in :mod:`weaklab.models`."""
    from .. import models

    cls = getattr(models, name, None)
    if not (isinstance(cls, type) and issubclass(cls, LabelModel)) or inspect.isabstract(cls):
        known = sorted(n for n in models.__all__ if isinstance(getattr(models, n), type)
                       and issubclass(getattr(models, n), LabelModel) and not inspect.isabstract(getattr(models, n)))
        raise fail("label_model.name", f"one of {known}", name)
    return cls


def checked_label_model(name: str, params: dict[str, Any]) -> type[LabelModel]:
    """The label-model class called ``name``, once every key of ``params`` is one of its parameters.

    A project checks ``[label_model]`` with it before any work starts, so a
    misspelt parameter is named with the keys the class takes, not found
    after the sources were applied.
    """
    cls = label_model_class(name)
    accepted = list(inspect.signature(cls).parameters)
    for key in params:
        if key not in accepted:
            raise fail(f"label_model.params.{key}", f"one of the keys {accepted} of {name}",
                       got_text=f"unknown key {key!r}")
    return cls


def dev_metrics(proba: np.ndarray, gold: np.ndarray, covered: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro F1 and ECE of ``proba`` on the gold items (``gold >= 0``).

    ``accuracy_covered`` counts only items with a vote; ``accuracy`` all gold
    items (the posterior of an item without votes is the class prior).
    """
    known = gold >= 0
    out: dict[str, Any] = {"n_dev": int(known.sum())}
    if not known.any():
        return out
    pred = np.argmax(proba, axis=1)
    k = proba.shape[1]
    out["accuracy"] = accuracy(gold[known], pred[known], n_classes=k)
    out["macro_f1"] = f1_score(gold[known], pred[known], n_classes=k, average="macro")
    out["ece"] = expected_calibration_error(proba[known], gold[known], n_bins=10)
    both = known & covered
    out["coverage_dev"] = float(both.sum() / known.sum())
    if both.any():
        out["accuracy_covered"] = accuracy(gold[both], pred[both], n_classes=k)
    return out


def with_known_labels(proba: np.ndarray, train: np.ndarray, known: np.ndarray,
                      dev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The end model's training targets: soft labels, with every item of known class set to that class.

    The known classes are the human answers and the data file's gold the
    label-model fit got (``[data].fit_gold``): whatever the label model made
    of them (a model that reads answers as a biased sample leaves them out),
    the person's answer is the item's label, so the end model trains on it,
    also on items no source voted on. Dev items never train (they score).

    Parameters
    ----------
    proba : ndarray of shape (n, k)
        The label model's soft labels.
    train : ndarray of bool of shape (n,)
        The items the end model trains on without answers.
    known : ndarray of shape (n,)
        A known class id per item, -1 where none.
    dev : ndarray of bool of shape (n,)
        The dev items.

    Returns
    -------
    targets : ndarray of shape (n, k)
        ``proba`` with the known items' rows one-hot (a new array).
    train : ndarray of bool of shape (n,)
        ``train`` plus the known items outside dev.

    Examples
    --------
    >>> proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5]])
    >>> targets, train = with_known_labels(proba, np.array([True, True, False]), np.array([-1, 1, 0]),
    ...                                    np.zeros(3, dtype=bool))
    >>> targets.tolist(), train.tolist()
    ([[0.9, 0.1], [0.0, 1.0], [1.0, 0.0]], [True, True, True])
    """
    given = (np.asarray(known) >= 0) & ~np.asarray(dev, dtype=bool)
    return with_known_classes(proba, np.where(given, known, -1)), np.asarray(train, dtype=bool) | given


@dataclass
class EndModelResult:
    """A trained end model's predictions and measurements.

    ``features`` holds the model's feature matrix when it was trained now;
    a result reused from the store builds it on first use of
    :meth:`feature_matrix` (from ``features_fn``).
    """

    proba: np.ndarray
    params: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    features: Any = None
    features_fn: Callable[[], Any] | None = None
    state: dict[str, Any] | None = None  # the fitted model (JSON + arrays) for weaklab predict

    def feature_matrix(self) -> Any:
        """The end model's features of every item (built once when not kept)."""
        if self.features is None and self.features_fn is not None:
            self.features = self.features_fn()
        return self.features


def train_end_model(texts: pd.Series, soft: np.ndarray, train: np.ndarray, gold: np.ndarray,
                    params: dict[str, Any], *, random_state: int = 0,
                    votes: np.ndarray | None = None, known: np.ndarray | None = None) -> EndModelResult:
    """TF-IDF + logistic regression trained on soft labels, measured on the gold (dev) items.

    With the votes and at least ``MIN_RECIPE_GOLD`` dev items with gold, the
    model is :class:`~weaklab.endmodel.WeakLabelRecipe`: its options (class
    balance matched to the dev gold, votes as features, vote shares as
    targets) and the choice between end model, label model and their
    combination are made on the dev items, and ``metrics["recipe"]`` records
    what was chosen and why. The recorded probabilities are the end model's
    own, so the dev metrics stay those of the end model.

    Parameters
    ----------
    texts : pandas.Series of str
        Every item's text.
    soft : ndarray of shape (n, k)
        Soft labels of every item.
    train : ndarray of bool, shape (n,)
        Items to train on (the recipe trains on the covered items without dev gold).
    gold : ndarray of shape (n,)
        Gold ids on the dev items, -1 elsewhere.
    params : dict
        ``C`` (default 4.0), ``max_iter`` (2000), ``ngram_max`` (2), ``min_df`` (1).
    random_state : int, default=0
    votes : ndarray of shape (n, m), optional
        The source votes (``-1`` = abstain); without them the plain end model is trained.
    known : ndarray of shape (n,), optional
        Class ids a person gave (-1 elsewhere; :func:`with_known_labels` already put them in ``soft`` and
        ``train``): the recipe trains on them too, with their class as the target in every configuration.
    """
    unknown = set(params) - {"C", "max_iter", "ngram_max", "min_df"}
    if unknown:
        raise fail("end_model.params", "keys among C, max_iter, ngram_max, min_df", got_text=str(sorted(unknown)))
    if train.sum() < 2:
        raise fail("train", "at least two items with a vote outside the dev set to train on",
                   got_text=f"{int(train.sum())} item(s)")
    full = {**END_MODEL_DEFAULTS, **params}
    vectorizer, X = fitted_text_features(texts, full)
    estimator = LogisticRegression(C=float(full["C"]), max_iter=int(full["max_iter"]), random_state=random_state)
    trained = fit_on_soft_labels(X, soft, train, gold, estimator, random_state=random_state, votes=votes,
                                 known=known)
    state = text_model_state(vectorizer, trained.estimator, params=full, features=trained.features,
                             n_classes=soft.shape[1], class_names=None, source_names=[], source_versions=[])
    return measured_end_model(trained, X, gold, params=full, state=state, train=train, votes=votes,
                              random_state=random_state)


@dataclass
class SoftLabelFit:
    """What :func:`fit_on_soft_labels` trained: every item's probabilities and the fitted classifier.

    ``features`` says what the classifier reads: ``"X"`` (the features alone)
    or ``"X+votes"`` (with :func:`~weaklab.endmodel.vote_features`);
    ``recipe`` records the recipe's choices (empty without the recipe).
    """

    proba: np.ndarray
    estimator: Any
    features: str
    recipe: dict[str, Any]


def fit_on_soft_labels(X: Any, soft: np.ndarray, train: np.ndarray, gold: np.ndarray, estimator: Any, *,
                       random_state: int = 0, votes: np.ndarray | None = None,
                       known: np.ndarray | None = None) -> SoftLabelFit:
    """Train ``estimator`` on soft labels the way every local end model of a project is trained.

    With the votes and at least ``MIN_RECIPE_GOLD`` dev items with gold, the
    model is :class:`~weaklab.endmodel.WeakLabelRecipe` (options and the
    choice between end model, label model and their combination made on the
    dev items); otherwise :class:`~weaklab.endmodel.SoftLabelClassifier` on
    the ``train`` items. The probabilities are the end model's own.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, d)
        Every item's features (dense ``X`` stays dense when votes are added).
    soft : ndarray of shape (n, k)
    train : ndarray of bool, shape (n,)
    gold : ndarray of shape (n,)
        Gold ids on the dev items, -1 elsewhere.
    estimator : scikit-learn classifier
        Its ``fit`` takes ``sample_weight``.
    random_state : int, default=0
    votes : ndarray of shape (n, m), optional
    known : ndarray of shape (n,), optional
        Class ids a person gave, -1 elsewhere (the recipe's ``known``).

    Returns
    -------
    SoftLabelFit
    """
    if votes is not None and int((gold >= 0).sum()) >= MIN_RECIPE_GOLD:
        model = WeakLabelRecipe(estimator=estimator, random_state=random_state).fit(X, votes, soft, gold,
                                                                                    known=known)
        recipe = {"choice": model.choice_, "reason": model.reason_, "config": model.config_,
                  "candidates": model.candidates_, "n_train": model.n_train_}
        if model.combiner_ is not None:
            recipe.update(scores=model.combiner_.scores_, threshold=model.combiner_.threshold_,
                          fell_back=model.combiner_.fell_back_)
        return SoftLabelFit(model.end_model_proba(X, votes), model.end_model_.estimator_,
                            str(model.config_["features"]), recipe)
    clf = SoftLabelClassifier(estimator, classes=np.arange(soft.shape[1]))
    clf.fit(X[train], soft[train])
    return SoftLabelFit(clf.predict_proba(X), clf.estimator_, "X", {})


def measured_end_model(trained: SoftLabelFit, X: Any, gold: np.ndarray, *, params: dict[str, Any],
                       state: dict[str, Any] | None, train: np.ndarray, votes: np.ndarray | None,
                       random_state: int = 0) -> EndModelResult:
    """The :class:`EndModelResult` of a trained end model: dev metrics, recipe, calibration and slices.

    ``X`` becomes the result's ``features`` (what the issue judge reads); the
    calibration's slices are the items with and without a vote (given the votes).
    """
    proba = trained.proba
    result = EndModelResult(proba=proba, params=params, features=X, state=state)
    result.metrics = {**dev_metrics(proba, gold, np.ones(len(gold), dtype=bool)),
                      "n_train": int(trained.recipe.get("n_train", train.sum()))}
    if trained.recipe:
        result.metrics["recipe"] = trained.recipe
    result.metrics.pop("coverage_dev", None)
    result.metrics.pop("accuracy_covered", None)
    covered = None if votes is None else np.asarray((np.asarray(votes) >= 0).any(axis=1), dtype=bool)
    result.calibration = calibration(proba, gold, random_state=random_state, covered=covered)
    return result


def end_model_texts(frame: pd.DataFrame, text_field: str) -> pd.Series:
    """The texts the end model reads: ``frame[text_field]``, with the entity pair marked in relation tasks.

    When the items carry WRENCH-style entity spans (``span1``, ``span2``),
    each text is followed by tokens for the words between the entities, their
    order and their words (:func:`~weaklab.features.entity_marked_texts`), so
    that TF-IDF sees what relation labeling functions read.

    Examples
    --------
    >>> frame = pd.DataFrame({"t": ["Smoking causes cancer"], "span1": [[0, 7]], "span2": [[15, 21]]})
    >>> end_model_texts(frame, "t").iloc[0]
    'Smoking causes cancer e1_first btw_causes btwlen_1 e1_smoking e2_cancer'
    """
    if not has_entity_spans(frame):
        return frame[text_field]
    return pd.Series(entity_marked_texts(frame, text=text_field), index=frame.index, name=text_field)


def text_features(texts: pd.Series, params: dict[str, Any]) -> Any:
    """The TF-IDF features the end model reads (word 1..``ngram_max``-grams, ``min_df``, sublinear tf).

    Parameters
    ----------
    texts : pandas.Series of str
        Every item's text (missing values read as empty texts).
    params : dict
        ``ngram_max`` and ``min_df`` (defaults 2 and 1).

    Returns
    -------
    scipy.sparse matrix of shape (n, n_terms)

    Raises
    ------
    ValidationError
        ``min_df`` leaves no words to learn from.

    Examples
    --------
    >>> X = text_features(pd.Series(["free money", "hello there", "free hello"]), {})
    >>> X.shape[0]
    3
    """
    return fitted_text_features(texts, params)[1]


def fitted_text_features(texts: pd.Series, params: dict[str, Any]) -> tuple[TfidfVectorizer, Any]:
    """The fitted TF-IDF vectorizer of :func:`text_features` and the features it gives ``texts``."""
    full = {**END_MODEL_DEFAULTS, **params}
    vectorizer = text_vectorizer(full)
    try:
        return vectorizer, vectorizer.fit_transform(texts.fillna("").astype(str))
    except ValueError as exc:  # sklearn: "max_df corresponds to < documents than min_df", "no terms remain"
        raise fail("end_model.params.min_df", f"a value that leaves words to learn from in {len(texts)} texts",
                   got_text=f"{full['min_df']!r} ({exc})") from None


def calibration(proba: np.ndarray, gold: np.ndarray, *, random_state: int = 0,
                covered: np.ndarray | None = None) -> dict[str, Any]:
    """Reliability bins on the dev items and ECE before/after calibration fitted on half of them.

    With ``covered``, ``"slices"`` holds the same measurement on the held-out
    half for the items with and without a vote (:func:`slice_reliability`).
    The calibrator is :class:`~weaklab.endmodel.GroupedCalibration`: items
    with and without a vote (``covered``) are calibrated separately when each
    part has enough dev items, with the method of lowest out-of-fold ECE.
    """
    known = np.flatnonzero(gold >= 0)
    if known.size < MIN_CALIBRATION_ITEMS:
        return {"note": f"calibration needs at least {MIN_CALIBRATION_ITEMS} dev items with gold; "
                        f"got {known.size}"}
    bins = reliability_bins(proba[known], gold[known])
    rng = np.random.default_rng(random_state)
    shuffled = rng.permutation(known)
    fit_rows, eval_rows = shuffled[: known.size // 2], shuffled[known.size // 2:]
    groups = np.zeros(len(gold), dtype=bool) if covered is None else np.asarray(covered, dtype=bool)
    scaler = GroupedCalibration(random_state=random_state).fit(proba[fit_rows], gold[fit_rows],
                                                               groups=groups[fit_rows])
    after = scaler.transform(proba[eval_rows], groups=groups[eval_rows])
    return {
        "bins": bins,
        "ece": expected_calibration_error(proba[known], gold[known], n_bins=10),
        "ece_before": expected_calibration_error(proba[eval_rows], gold[eval_rows], n_bins=10),
        "ece_after": expected_calibration_error(after, gold[eval_rows], n_bins=10),
        "calibration_methods": {str(k): v for k, v in scaler.methods_.items()},
        "n_fit": int(fit_rows.size), "n_eval": int(eval_rows.size),
        "slices": {} if covered is None else slice_reliability(
            proba[eval_rows], after, gold[eval_rows],
            {"with a vote": groups[eval_rows], "without a vote": ~groups[eval_rows]}),
    }


def reliability_bins(proba: np.ndarray, gold: np.ndarray) -> list[dict[str, float | None]]:
    """The 10 equal-width reliability bins of ``proba`` ``(n, k)`` against ``gold`` ``(n,)`` as JSON-able dicts.

    Examples
    --------
    >>> bins = reliability_bins(np.array([[0.95, 0.05], [0.75, 0.25]]), np.array([0, 1]))
    >>> [(b["confidence"], b["accuracy"], b["count"]) for b in bins if b["count"]]
    [(0.75, 0.0, 1.0), (0.95, 1.0, 1.0)]
    """
    curve = reliability_curve(proba, gold, n_bins=10)
    return [{str(k): (None if pd.isna(v) else float(v)) for k, v in row.items()}
            for row in curve[["lower", "upper", "confidence", "accuracy", "count"]].to_dict("records")]


def slice_reliability(before: np.ndarray, after: np.ndarray, gold: np.ndarray,
                      slices: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """Per slice of held-out items: accuracy, ECE and reliability bins before and after calibration.

    Parameters
    ----------
    before, after : ndarray of shape (n, k)
        Raw and calibrated probabilities of held-out items (the calibrator never saw their gold).
    gold : ndarray of shape (n,)
    slices : dict
        Slice name -> boolean mask ``(n,)``; empty slices are left out.

    Returns
    -------
    dict
        Slice name -> ``n``, ``accuracy``, ``ece_before``, ``ece_after``,
        ``bins_before``, ``bins_after``.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    >>> out = slice_reliability(p, p, np.array([0, 1, 1]), {"first two": np.array([True, True, False])})
    >>> out["first two"]["n"], out["first two"]["accuracy"]
    (2, 0.5)
    """
    out: dict[str, dict[str, Any]] = {}
    for name, mask in slices.items():
        rows = np.asarray(mask, dtype=bool)
        if not rows.any():
            continue
        y = gold[rows]
        out[name] = {"n": int(rows.sum()), "accuracy": float(np.mean(before[rows].argmax(axis=1) == y)),
                     "ece_before": expected_calibration_error(before[rows], y, n_bins=10),
                     "ece_after": expected_calibration_error(after[rows], y, n_bins=10),
                     "bins_before": reliability_bins(before[rows], y), "bins_after": reliability_bins(after[rows], y)}
    return out
