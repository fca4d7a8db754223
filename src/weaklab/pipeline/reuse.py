"""Reusing the end model and the label-issue judge of an earlier run whose inputs are unchanged.

``train`` and ``issues`` are the slow steps of a project run (a logistic
regression on TF-IDF features, then five more for out-of-fold
probabilities). Like the label matrix and the label model, they are keyed by
a fingerprint of everything they depend on; a later run with the same key
takes their recorded outputs from the store instead of training again:

* the end model: its own (raw) probabilities (soft labels of role ``"end_model_raw"``;
  ``"end_model"`` in runs recorded before the calibrated ones were stored),
  parameters, metrics and calibration;
* the issue judge: its out-of-fold probabilities over the covered items
  (soft labels of role ``"issues_judge"``); finding and ranking issues from
  them is cheap, so ``[issues].method`` and ``max_issues`` are not part of
  the key.

Nothing is pickled: the store holds the probabilities and the fitted text
model (vocabulary, IDF weights, coefficients) as arrays and the rest as JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from .._core import SoftLabels, fingerprint
from ..errors import StoreError
from ..store import Store
from .calibrated import CALIBRATED_ROLE, RAW_ROLE
from .training import EndModelResult, text_features, train_end_model

__all__ = ["JUDGE_ROLE", "recorded", "find_previous_run", "end_model_key", "trained_end_model", "recorded_end_model",
           "judge_key", "issue_judge", "record_judge"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Role of the recorded out-of-fold probabilities of the issue judge.
JUDGE_ROLE = "issues_judge"


def recorded(load: Callable[[int], T], record_id: int) -> T | None:
    """``load(record_id)``, or None when its array file is missing or damaged (the caller recomputes it).

    Recording the recomputed result writes the file again (the store's
    arrays are named by content), so a damaged store heals as it is used.
    """
    try:
        return load(record_id)
    except StoreError as exc:
        logger.warning("recomputing a recorded result: %s", str(exc).splitlines()[0])
        return None


def find_previous_run(store: Store, dataset_id: int, key_name: str, key: str) -> tuple[int, dict[str, Any]] | None:
    """``(run_id, metrics)`` of the newest finished run of the dataset that recorded ``key_name == key``."""
    runs = store.runs()
    runs = runs[(runs["dataset_id"] == dataset_id) & (runs["status"] == "finished")]
    for run_id, metrics in zip(runs["run_id"], runs["metrics"]):
        if isinstance(metrics, dict) and metrics.get(key_name) == key:
            return int(run_id), metrics
    return None


def end_model_key(name: str, params: dict[str, Any], texts: pd.Series, soft: SoftLabels, train: np.ndarray,
                  gold: np.ndarray, random_state: int, votes: np.ndarray | None = None) -> str:
    """Fingerprint of the end model's inputs: model, parameters, texts, soft labels, items, dev gold, votes."""
    extra = () if votes is None else ("recipe-1", np.asarray(votes))
    return fingerprint("end_model", name, params, texts.fillna("").astype(str).to_numpy(), soft.fingerprint,
                       np.asarray(train, dtype=bool), np.asarray(gold), int(random_state), *extra)


def trained_end_model(store: Store, dataset_id: int, key: str, texts: pd.Series, soft: SoftLabels,
                      train: np.ndarray, gold: np.ndarray, params: dict[str, Any], *,
                      random_state: int, votes: np.ndarray | None = None,
                      known: np.ndarray | None = None) -> tuple[EndModelResult, int | None]:
    """The end model of the run that recorded ``end_model_key == key`` (reused), else a newly trained one.

    Returns
    -------
    (EndModelResult, int or None)
        The result (its ``features`` are built on first use when reused) and
        the run it was reused from (None when trained now).
    """
    found = find_previous_run(store, dataset_id, "end_model_key", key)
    if found is not None:
        reused = recorded_end_model(store, found[0], lambda: text_features(texts, params))
        if reused is not None and reused.proba.shape == soft.proba.shape and reused.state is not None:
            return reused, found[0]  # (a model recorded without its state is trained again, for predict)
    return train_end_model(texts, soft.proba, train, gold, params, random_state=random_state, votes=votes,
                           known=known), None


def recorded_end_model(store: Store, run_id: int, features_fn: Callable[[], Any]) -> EndModelResult | None:
    """The end model a run recorded (probabilities, parameters, metrics, calibration), None when it has none.

    Its features are built by ``features_fn`` on first use.
    """
    records = store.run_records(run_id)
    softs, models = records["soft_labels"], records["end_model_runs"]
    raw = softs[softs["role"] == RAW_ROLE]  # the end model's own probabilities (runs before it: role "end_model")
    softs = raw if len(raw) else softs[softs["role"] == CALIBRATED_ROLE]
    if softs.empty or models.empty:
        return None
    soft = recorded(store.load_soft_labels, int(softs["soft_labels_id"].iloc[-1]))
    if soft is None:
        return None
    proba = soft.proba
    model = models.iloc[-1]
    result = EndModelResult(proba=proba, params=dict(model["params"] or {}),
                            metrics=dict(model["metrics"] or {}), calibration=dict(model["calibration"] or {}),
                            state=recorded(store.load_end_model_state, int(model["end_model_run_id"])))
    result.features_fn = features_fn
    return result


def judge_key(end_key: str, covered: np.ndarray, given: np.ndarray, random_state: int) -> str:
    """Fingerprint of the issue judge's inputs: the end model's features (via its key), items and labels."""
    return fingerprint("issues_judge", end_key, np.asarray(covered, dtype=bool), np.asarray(given),
                       int(random_state))


def issue_judge(store: Store, dataset_id: int, key: str, n_classes: int, ids: np.ndarray,
                compute: Callable[[], np.ndarray]) -> tuple[np.ndarray, int | None]:
    """The judge's out-of-fold probabilities of the covered items ``ids``: recorded under ``key``, else computed.

    Returns
    -------
    (ndarray of shape (len(ids), n_classes), int or None)
        The probabilities and the run they were reused from.
    """
    found = find_previous_run(store, dataset_id, "issues_judge_key", key)
    if found is not None:
        softs = store.run_records(found[0])["soft_labels"]
        softs = softs[softs["role"] == JUDGE_ROLE]
        if len(softs):
            judged = recorded(store.load_soft_labels, int(softs["soft_labels_id"].iloc[-1]))
            if judged is not None and judged.proba.shape == (len(ids), n_classes):
                return judged.proba, found[0]
    return compute(), None


def record_judge(store: Store, dataset_id: int, run_id: int, proba: np.ndarray, ids: np.ndarray) -> int:
    """Record the judge's out-of-fold probabilities of the covered items as soft labels of the run."""
    soft = SoftLabels(proba, item_ids=ids, producer="issues_judge")
    return store.add_soft_labels(dataset_id, soft, run_id=run_id, role=JUDGE_ROLE, dtype="float64")
