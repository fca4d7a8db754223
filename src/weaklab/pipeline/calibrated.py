"""The end model's calibrated probabilities: the calibrator a run applies, where it was fitted, and its state.

:func:`~weaklab.pipeline.training.calibration` *measures* calibration (a
calibrator fitted on half the dev items, scored on the other half). The
probabilities a run stores and ``weaklab export`` / ``weaklab predict``
give are those of the calibrator fitted here on *every* dev item with gold:
items the end model never trained on (it trains on the items with a vote
outside the dev split). The calibrator is
:class:`~weaklab.endmodel.GroupedCalibration` with items with and without a
vote as its groups, as in the measurement; every method it picks keeps each
item's predicted class, so calibration never changes a label.

The raw probabilities stay recorded beside the calibrated ones (soft labels
of role :data:`RAW_ROLE`), and the lineage (:func:`fit_end_calibrator`) says
which calibrator was applied, per group, fitted on which split and how many
items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..endmodel import GroupedCalibration
from ..store import Store

__all__ = ["CALIBRATED_ROLE", "MIN_APPLIED_ITEMS", "RAW_ROLE", "AppliedCalibration", "RunCalibration",
           "apply_calibrator_state", "fit_end_calibrator", "needs_groups", "run_calibration", "with_calibrator"]

#: Soft-label role of the end model's probabilities as given (calibrated when a calibrator was fitted).
CALIBRATED_ROLE = "end_model"
#: Soft-label role of the end model's own (raw) probabilities.
RAW_ROLE = "end_model_raw"
#: Dev items with gold needed before a calibrator is fitted and applied.
MIN_APPLIED_ITEMS = 20
#: Prefix of the calibrator's arrays inside an end model's state.
_ARRAY_PREFIX = "calibrator/"


@dataclass(frozen=True)
class AppliedCalibration:
    """The calibrated probabilities of every item, the calibrator's state and its lineage.

    ``state`` is None when no calibrator was fitted (too few dev items); the
    probabilities are then the raw ones and ``lineage["applied"]`` is False.
    """

    proba: np.ndarray
    state: dict[str, Any] | None
    lineage: dict[str, Any]


def fit_end_calibrator(proba: np.ndarray, gold: np.ndarray, covered: np.ndarray | None, *,
                       random_state: int = 0, split: str = "dev") -> AppliedCalibration:
    """Fit the calibrator on every item with gold and apply it to every item.

    Parameters
    ----------
    proba : ndarray of shape (n, k)
        The end model's raw probabilities of every item.
    gold : ndarray of shape (n,)
        Gold class ids of the held-out (dev) items the end model did not
        train on, ``-1`` elsewhere.
    covered : ndarray of bool, shape (n,), optional
        Items with at least one vote (calibrated apart from the others when
        both parts have enough gold).
    random_state : int, default=0
        Deals the gold items into the folds that choose each group's method.
    split : str, default="dev"
        The name of the split ``gold`` comes from, for the lineage.

    Returns
    -------
    AppliedCalibration

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> p1 = np.clip(np.where(y == 1, 0.7, 0.3) + rng.normal(0, 0.2, 400), 0.01, 0.99)
    >>> proba = np.c_[1 - p1, p1] ** 4 / (np.c_[1 - p1, p1] ** 4).sum(axis=1, keepdims=True)  # overconfident
    >>> gold = np.where(np.arange(400) < 200, y, -1)
    >>> out = fit_end_calibrator(proba, gold, None)
    >>> out.lineage["applied"], out.lineage["fitted_on"], out.lineage["n_fit"]
    (True, 'dev', 200)
    >>> bool((out.proba.argmax(axis=1) == proba.argmax(axis=1)).all())
    True
    """
    known = np.asarray(gold) >= 0
    n_fit = int(known.sum())
    if n_fit < MIN_APPLIED_ITEMS:
        return AppliedCalibration(np.asarray(proba), None, {
            "applied": False, "fitted_on": split, "n_fit": n_fit,
            "note": f"no calibrator applied: it needs at least {MIN_APPLIED_ITEMS} {split} items with gold, "
                    f"got {n_fit}"})
    groups = np.zeros(len(gold), dtype=bool) if covered is None else np.asarray(covered, dtype=bool)
    calibrator = GroupedCalibration(random_state=random_state).fit(proba[known], gold[known], groups=groups[known])
    lineage = {"applied": True, "calibrator": "GroupedCalibration", "fitted_on": split, "n_fit": n_fit,
               "groups": "covered (items with a vote) / uncovered" if covered is not None else "all items",
               "methods": {str(k): v for k, v in calibrator.methods_.items()},
               "n_fit_per_group": {str(k): v for k, v in calibrator.n_items_.items()},
               "keeps_predicted_class": True, "random_state": int(random_state)}
    return AppliedCalibration(np.asarray(calibrator.transform(proba, groups=groups)), calibrator.to_state(),
                              lineage)


def with_calibrator(model_state: dict[str, Any], calibrator_state: dict[str, Any] | None) -> dict[str, Any]:
    """An end model's state with the calibrator's state in it (replacing any earlier one)."""
    arrays = {k: v for k, v in model_state.get("arrays", {}).items() if not k.startswith(_ARRAY_PREFIX)}
    out = {k: v for k, v in model_state.items() if k not in ("arrays", "calibrator")}
    if calibrator_state is not None:
        out["calibrator"] = {k: v for k, v in calibrator_state.items() if k != "arrays"}
        arrays.update({_ARRAY_PREFIX + k: v for k, v in calibrator_state["arrays"].items()})
    out["arrays"] = arrays
    return out


def apply_calibrator_state(model_state: dict[str, Any], proba: np.ndarray,
                           covered: np.ndarray | None) -> np.ndarray:
    """Calibrate ``proba`` ``(n, k)`` with the calibrator saved in an end model's state (as given without one).

    ``covered`` (items with a vote) picks each item's group; without it every
    item goes through the calibrator fitted on all gold items (the pooled one).
    """
    saved = model_state.get("calibrator")
    if not saved:
        return proba
    arrays = {k[len(_ARRAY_PREFIX):]: v for k, v in model_state.get("arrays", {}).items()
              if k.startswith(_ARRAY_PREFIX)}
    calibrator = GroupedCalibration.from_state({**saved, "arrays": arrays})
    if covered is None:
        groups = np.full(proba.shape[0], "pooled")  # a key no group has: the pooled calibrator
        return np.asarray(calibrator.transform(proba, groups=groups))
    return np.asarray(calibrator.transform(proba, groups=np.asarray(covered, dtype=bool)))


def needs_groups(model_state: dict[str, Any]) -> bool:
    """Whether the saved calibrator treats items with and without a vote differently."""
    saved = model_state.get("calibrator") or {}
    groups = (saved.get("attributes") or {}).get("groups", saved.get("groups", []))  # or the layout before
    methods = {entry["key"]: entry["method"] for entry in groups}
    return any(key is not None and method != "pooled" for key, method in methods.items())


@dataclass(frozen=True)
class RunCalibration:
    """Whether the end-model probabilities a run stored (role :data:`CALIBRATED_ROLE`) went through a calibrator.

    Attributes
    ----------
    applied : bool
        True when the run fitted and applied a calibrator; False when the
        stored probabilities are the end model's raw ones.
    note : str
        Why no calibrator was applied ("" when one was): too few dev items
        with gold, or a run trained before weaklab calibrated end models.

    Examples
    --------
    >>> RunCalibration(False, "run 3 stored no calibrator").describe()
    'raw, not calibrated: run 3 stored no calibrator'
    >>> RunCalibration(True).describe()
    'calibrated'
    """

    applied: bool
    note: str = ""

    def describe(self) -> str:
        """"calibrated", or "raw, not calibrated: <why>"."""
        return "calibrated" if self.applied else f"raw, not calibrated: {self.note}"


def run_calibration(store: Store, run_id: int) -> RunCalibration | None:
    """What the run's newest end-model record says about the calibrator its stored probabilities went through.

    A run trained before weaklab calibrated end models recorded no
    ``calibration["applied"]`` lineage and no calibrator: its stored
    probabilities are raw. None for a run without an end model.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import Project, init_project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> run = Project(folder).run(until="train").run_id
    >>> with Project(folder).open_store(read_only=True) as store:
    ...     print(run_calibration(store, run).describe())
    calibrated
    """
    models = store.run_records(run_id)["end_model_runs"]
    if models.empty:
        return None
    calibration = models.iloc[-1]["calibration"]
    lineage = calibration.get("applied") if isinstance(calibration, dict) else None
    if isinstance(lineage, dict):
        note = str(lineage.get("note") or "the run applied no calibrator").removeprefix("no calibrator applied: ")
        return RunCalibration(bool(lineage.get("applied")), "" if lineage.get("applied") else note)
    return RunCalibration(False, f"run {run_id} stored no calibrator (its end model was trained before weaklab "
                                 "calibrated end models; `weaklab train` trains and calibrates it again)")
