"""The tabular end model of a project (``[end_model] name = "tabular"``): a classifier on a table's columns.

A table project (feature columns, no text) trains its end model on the data
file's numeric and category columns, on the label model's soft labels, exactly
as the text end model is trained (:func:`~weaklab.pipeline.training.fit_on_soft_labels`:
the recipe with its choices made on the dev gold when there is enough of it,
else the soft labels as they are), and is measured the same way (dev
accuracy, macro F1, ECE, reliability and calibration, per slice of items
with and without a vote).

The columns it reads (``[end_model].params.columns``), by default: every
column of the data file except ``[data]``'s id, gold, split, text and image
columns and the columns listed in ``exclude``, of two kinds
(:mod:`weaklab.pipeline.tabular_encoding`): numeric columns, and category
columns (some value not a number, at most ``max_categories`` distinct
values, default 20), which reach the model one-hot; a category unseen in the
project's items, or a missing one, reads as none of the column's
categories. Text and id columns (more distinct values), columns with no
value at all and numeric columns holding infinity are left out of the
default (the run's metrics name them under ``skipped_columns`` and say why
under ``skipped_why``); naming one in ``columns`` is an error.

Two estimators (``estimator``):

* ``"hist_gradient_boosting"`` (default): scikit-learn's
  :class:`~sklearn.ensemble.HistGradientBoostingClassifier`; missing values
  are allowed and columns need no scaling; a column's values are first
  rounded to at most 255 quantile bins of the project's items
  (:func:`~weaklab.pipeline.tabular_state.quantile_bins`, what the booster
  does itself, but without weighing each quantile by the soft-label weights);
* ``"logistic_regression"``: missing values take the column's median and
  every column is standardised (statistics over the project's items).

The issue judge reads the standardised inputs. The fitted model is stored
as arrays (:mod:`weaklab.pipeline.tabular_state`), so ``weaklab predict``
labels a new table with the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from .._core import SoftLabels, fingerprint
from .._core.validation import fail
from ..errors import ValidationError
from ..store import Store
from .config import DEFAULT_TABULAR_ESTIMATOR, TABULAR_ESTIMATORS, ProjectConfig
from .reuse import find_previous_run, recorded_end_model
from .tabular_encoding import MAX_CATEGORIES, column_categories, column_kind, input_matrix, input_names
from .tabular_state import (
    TABULAR_STATE_VERSION,
    TabularEndModel,
    binned,
    column_stats,
    non_numeric_value,
    quantile_bins,
    standardised,
    tabular_model_state,
)
from .training import EndModelResult, fit_on_soft_labels, measured_end_model

__all__ = ["TABULAR_DEFAULTS", "TabularColumns", "tabular_columns", "tabular_params", "train_tabular_model",
           "trained_tabular_model"]

#: Parameters of the tabular end model per estimator when weaklab.toml leaves them out.
TABULAR_DEFAULTS: dict[str, dict[str, Any]] = {
    "hist_gradient_boosting": {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20,
                               "l2_regularization": 0.0},
    "logistic_regression": {"C": 1.0, "max_iter": 2000},
}
#: The largest difference allowed between the recorded model's probabilities and scikit-learn's at train time.
_REPRODUCED = 1e-6
#: The ``[data]`` keys whose columns are never features.
_RESERVED = ("id_column", "gold_column", "split_column", "text_field", "image_column")


def tabular_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the estimator and its defaults filled in (``columns`` and ``exclude`` left out).

    Examples
    --------
    >>> tabular_params({})["estimator"], tabular_params({"estimator": "hist_gradient_boosting"})["max_iter"]
    ('logistic_regression', 100)
    """
    kind = params.get("estimator", DEFAULT_TABULAR_ESTIMATOR)
    if kind not in TABULAR_ESTIMATORS:
        raise fail("end_model.params.estimator", f"one of {list(TABULAR_ESTIMATORS)}", kind)
    chosen = {k: v for k, v in params.items() if k not in ("columns", "exclude")}
    return {"estimator": kind, "max_categories": MAX_CATEGORIES, **TABULAR_DEFAULTS[kind], **chosen}


@dataclass(frozen=True)
class TabularColumns:
    """The columns the tabular end model reads and those it leaves out, with why.

    ``columns`` are in the file's order (or ``columns``' order when named);
    ``categories`` maps each category column among them to its categories
    (:func:`~weaklab.pipeline.tabular_encoding.column_categories`);
    ``skipped`` maps each column the default rule left out to the reason.
    """

    columns: list[str]
    categories: dict[str, list[str]]
    skipped: dict[str, str]


def tabular_columns(config: ProjectConfig, frame: pd.DataFrame) -> TabularColumns:
    """The columns the tabular end model reads (numeric, and categories one-hot), and the ones it leaves out.

    Raises
    ------
    ValidationError
        A named column (``columns`` or ``exclude``) is not in the data file,
        a ``columns`` entry is one of ``[data]``'s id, gold, split, text or
        image columns, holds no value at all, infinity, or text with more
        distinct values than ``max_categories``, or no column is left (the
        message names the file, the key and the columns).
    """
    params = dict(config.get("end_model", "params", {}))
    most = int(params.get("max_categories", MAX_CATEGORIES))
    reserved = {config.get("data", key): key for key in _RESERVED if config.get("data", key) is not None}
    names = [str(c) for c in frame.columns]
    named: list[str] = list(params.get("columns") or params.get("exclude") or [])
    key = "columns" if "columns" in params else "exclude"
    unknown = [c for c in named if c not in names]
    if unknown:
        raise _error(config, key, f"columns of {config.data_path.name}", f"no column {unknown[0]!r} (columns: "
                     f"{names})")
    kinds = {c: column_kind(frame[c], non_numeric_value(frame[c]), most) for c in names
             if c not in reserved and ("columns" not in params or c in named)}
    if "columns" in params:
        for column in params["columns"]:
            if column in reserved:
                raise _error(config, key, "feature columns", f"{column!r}, the project's [data].{reserved[column]} "
                             "(an end model does not read the ids, the gold or the splits)")
            if kinds[column][0] == "skipped":
                raise _error(config, key, f"numeric columns or columns of at most {most} categories (max_categories)",
                             f"{column!r}, {kinds[column][1]} (dtype {frame[column].dtype}); fix the values or "
                             "leave the column out")
        return _chosen(frame, list(params["columns"]), kinds, most, {})
    candidates = [c for c in names if c not in reserved and c not in named]
    skipped = {c: kinds[c][1] for c in candidates if kinds[c][0] == "skipped"}
    columns = [c for c in candidates if c not in skipped]
    if not columns:
        raise _error(config, "columns", f"at least one numeric or category column of {config.data_path.name} "
                     "besides the id, gold, split, text and image columns",
                     f"none (left out: {sorted(set(names) - set(candidates))}; "
                     f"not read: {'; '.join(f'{c!r}, {why}' for c, why in skipped.items()) or 'none'})")
    return _chosen(frame, columns, kinds, most, skipped)


def _chosen(frame: pd.DataFrame, columns: list[str], kinds: dict[str, tuple[str, str]], most: int,
            skipped: dict[str, str]) -> TabularColumns:
    categories = {c: column_categories(frame[c], most) or [] for c in columns if kinds[c][0] == "categorical"}
    return TabularColumns(columns, categories, skipped)


def _error(config: ProjectConfig, key: str, expected: str, got: str) -> ValidationError:
    return ValidationError(f"{config.file}: end_model.params.{key}: expected {expected}, got {got}")


def _estimator(params: dict[str, Any], random_state: int) -> Any:
    if params["estimator"] == "logistic_regression":
        return LogisticRegression(C=float(params["C"]), max_iter=int(params["max_iter"]), random_state=random_state)
    return HistGradientBoostingClassifier(
        max_iter=int(params["max_iter"]), learning_rate=float(params["learning_rate"]),
        max_leaf_nodes=int(params["max_leaf_nodes"]), min_samples_leaf=int(params["min_samples_leaf"]),
        l2_regularization=float(params["l2_regularization"]), early_stopping=False, random_state=random_state)


def train_tabular_model(X: np.ndarray, columns: list[str], soft: np.ndarray, train: np.ndarray, gold: np.ndarray,
                        params: dict[str, Any], *, random_state: int = 0, votes: np.ndarray | None = None,
                        categories: dict[str, list[str]] | None = None,
                        known: np.ndarray | None = None) -> EndModelResult:
    """The tabular end model trained on soft labels, measured on the gold (dev) items.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Every item's inputs (:func:`~weaklab.pipeline.tabular_encoding.input_matrix`: the numeric
        columns, NaN = missing, then the category columns one-hot).
    columns : list of str
        The columns they come from.
    soft : ndarray of shape (n, k)
    train : ndarray of bool, shape (n,)
    gold : ndarray of shape (n,)
        Gold ids on the dev items, -1 elsewhere.
    params : dict
        Completed by :func:`tabular_params`.
    random_state : int, default=0
    votes : ndarray of shape (n, m), optional
        The sources' votes (with enough dev gold the recipe may read them).
    categories : dict, optional
        Category column -> its categories (the one-hot inputs of ``X``).
    known : ndarray of shape (n,), optional
        Class ids a person gave, -1 elsewhere (trained on with their class in every recipe configuration).

    Returns
    -------
    EndModelResult
        ``features`` are the standardised columns (what the issue judge reads).
    """
    if train.sum() < 2:
        raise fail("train", "at least two items with a vote outside the dev set to train on",
                   got_text=f"{int(train.sum())} item(s)")
    categories = dict(categories or {})
    _check_train_values(X, input_names(columns, categories), train)
    stats = column_stats(X)
    scaled = standardised(X, stats)
    bins = quantile_bins(X) if params["estimator"] == "hist_gradient_boosting" else None
    trained = fit_on_soft_labels(scaled if bins is None else binned(X, bins), soft, train, gold,
                                 _estimator(params, random_state), random_state=random_state, votes=votes,
                                 known=known)
    state = tabular_model_state(trained.estimator, kind=params["estimator"], columns=columns, stats=stats,
                                params=params, features=trained.features, n_classes=soft.shape[1], bins=bins,
                                categories=categories)
    _check_reproduced(state, X, columns, votes, trained.proba)
    result = measured_end_model(trained, scaled, gold, params=params, state=state, train=train, votes=votes,
                                random_state=random_state)
    result.metrics.update(estimator=params["estimator"], columns=list(columns))
    if categories:
        result.metrics["categories"] = {c: len(v) for c, v in categories.items()}
    return result


def _check_train_values(X: np.ndarray, columns: list[str], train: np.ndarray) -> None:
    """Every column holds a value on some training item (else a ValidationError naming those that hold none).

    A column empty on the training items (its values only on dev rows, say)
    teaches the model nothing and stops scikit-learn's binning with an
    unrelated error; the default column rule leaves out only columns empty
    in the whole file.
    """
    empty = [name for name, has in zip(columns, ~np.isnan(X[train]).all(axis=0)) if not has]
    if empty:
        raise fail("end_model.params", "columns with a value on at least one training item (outside the dev split "
                   "and voted on)", got_text=f"no value there in {empty} (list them in exclude, or name the "
                   "columns to read in columns)")


def _check_reproduced(state: dict[str, Any], X: np.ndarray, columns: list[str], votes: np.ndarray | None,
                      proba: np.ndarray) -> None:
    """The recorded model, rebuilt from its state, gives the probabilities scikit-learn gave (else an error).

    The trees are copied out of scikit-learn's private predictors: a version
    that lays them out or walks them differently is caught here, at train
    time, rather than recorded as a model that predicts something else.
    """
    model = TabularEndModel.from_state(state)
    copy = model.predict_proba(_frame_of(X, columns, model.categories), votes)
    gap = float(np.abs(copy - proba).max()) if proba.size else 0.0
    if not gap <= _REPRODUCED:
        import sklearn

        raise fail("end_model.params.estimator", f"a {state['estimator']} end model weaklab records faithfully "
                   f"(its stored copy within {_REPRODUCED:g} of scikit-learn's probabilities)",
                   got_text=f"a largest difference of {gap:.3g} under scikit-learn {sklearn.__version__} (set "
                   'estimator = "logistic_regression", or use a scikit-learn version whose trees weaklab reads)')


def _frame_of(X: np.ndarray, columns: list[str], categories: dict[str, list[str]]) -> pd.DataFrame:
    """A table whose inputs are ``X`` again (each one-hot row back to its category, or None)."""
    numeric = [c for c in columns if c not in categories]
    frame = pd.DataFrame(X[:, :len(numeric)], columns=numeric)
    at = len(numeric)
    for column in (c for c in columns if c in categories):
        known = np.asarray(categories[column] + [None], dtype=object)
        block = X[:, at:at + len(categories[column])]
        frame[column] = known[np.where(block.any(axis=1), block.argmax(axis=1), len(categories[column]))]
        at += len(categories[column])
    return frame


def trained_tabular_model(store: Store, dataset_id: int, config: ProjectConfig, frame: pd.DataFrame,
                          soft: SoftLabels, train: np.ndarray, gold: np.ndarray, *, random_state: int,
                          votes: np.ndarray | None = None,
                          known: np.ndarray | None = None) -> tuple[EndModelResult, str, int | None]:
    """The project's tabular end model: reused from the run that recorded the same key, else trained now.

    The key covers the parameters, the columns and their values, the soft
    labels, the training items, the dev gold, the seed and the votes.

    Returns
    -------
    (EndModelResult, str, int or None)
        The result, the key, and the run it was reused from.
    """
    chosen = tabular_columns(config, frame)
    columns = chosen.columns
    params = tabular_params(dict(config.get("end_model", "params", {})))
    X = input_matrix(frame, columns, chosen.categories, where="data")
    key = fingerprint("end_model", "tabular", TABULAR_STATE_VERSION, params, columns, chosen.categories, X,
                      soft.fingerprint,
                      np.asarray(train, dtype=bool), np.asarray(gold), int(random_state),
                      *(() if votes is None else (np.asarray(votes),)))
    found = find_previous_run(store, dataset_id, "end_model_key", key)
    if found is not None:
        reused = recorded_end_model(store, found[0], lambda: standardised(X, column_stats(X)))
        if reused is not None and reused.proba.shape == soft.proba.shape and reused.state is not None:
            return reused, key, found[0]
    fitted = train_tabular_model(X, columns, soft.proba, train, gold, params, random_state=random_state,
                                 votes=votes, categories=chosen.categories, known=known)
    if chosen.skipped:
        fitted.metrics["skipped_columns"] = list(chosen.skipped)
        fitted.metrics["skipped_why"] = dict(chosen.skipped)
    return fitted, key, None
