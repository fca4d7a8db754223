"""A multi-label project's run (``[task] kind = "multilabel"``): per-label votes → P(label applies), all recorded.

An item carries any number of the labels ``[labels].classes`` (tags of a
post, topics of an article). The steps, as one run in the store:

* ``apply`` runs the LFs (:func:`~weaklab.labeling.apply_lfs`, see
  :func:`~weaklab.pipeline.loading.load_multilabel_lfs` for the contract: an
  LF returns a label to vote it *present*, or a ``(label, lf)`` pair votes
  ``1`` present / ``0`` absent on that label) and records each LF as a
  source version and every vote as the run's ``"votes"`` label set
  (:meth:`~weaklab.store.Store.add_multilabel_votes`); the gold label sets
  of the data (``"sport|politics"``, ``"-"`` for none, an empty cell for no
  gold) are the ``"gold"`` set;
* ``analyse`` records per source its coverage, present and absent votes, and
  on the dev gold the precision of its present votes and the accuracy of all
  its votes (:func:`multilabel_source_stats`);
* ``fit`` fits the multi-label label model (``[label_model].name``:
  :class:`~weaklab.models.OneVsRestLabelModel` by default, with the
  library's default :class:`~weaklab.models.AutoLabelModel` per label, or
  :class:`~weaklab.models.MultiLabelDawidSkene`) on every item's votes
  (with the gold label sets ``[data].fit_gold`` takes from rows outside the
  dev split, :mod:`~weaklab.pipeline.multilabel_fit_gold`) and records its
  state, ``P(label applies)`` of every item and label
  (the ``"label_model"`` set), and micro/macro/per-label F1 on the dev gold
  next to one-vs-rest majority vote's;
* ``train`` (``[end_model].name = "tfidf_logreg"``) trains one logistic
  regression per label on TF-IDF features of the non-dev items with the
  label model's probabilities as soft targets (the labels people gave in the
  review queue replace them on the items they answered, the latest answer
  on an item counting) (:class:`~weaklab.endmodel.MultiLabelSoftClassifier`
  with ``calibration="cross_fit"``: each label's output is Platt-scaled to
  the targets on out-of-fold predictions, which undoes the shrinkage of a
  model that memorises its training texts), and records its probabilities on
  every item and its dev F1 (``"none"`` skips it), then the run's final
  probabilities (the ``"final"`` set, :func:`final_label_proba`): per item
  and label the label model's where a source voted on the label, the end
  model's elsewhere;
* ``issues`` flags the (item, label) cells whose weak label the item's text
  contradicts (confident learning per label on out-of-fold predictions of
  the TF-IDF features, :mod:`~weaklab.pipeline.multilabel_issues`), kept in
  the run's metrics (``label_issues``); ``query`` lists the unanswered non-dev items whose labels are least
  certain (the largest sum over labels of the binary entropy of
  ``P(label applies)``): the review queue's order.

People's answers (the dashboard's review queue) are kept by label name
(:meth:`~weaklab.store.Store.add_label_set_answer`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._core import MultiLabelMatrix, fingerprint
from .._core.hashing import function_source
from .._core.state import to_jsonable
from .._core.validation import fail
from ..errors import ValidationError
from ..store import Store
from .config import DEFAULT_LABEL_MODEL, MULTILABEL_MODELS
from .loading import check_lf_columns, data_fingerprint, item_hashes, item_ids_of, load_data, load_multilabel_lfs
from .multilabel_fit_gold import multilabel_fit_gold
from .multilabel_health import label_reliability
from .multilabel_sources import (
    label_model_source_stats,
    label_source_alerts,
    label_source_stats,
    label_source_table,
    previous_label_source_stats,
)
from .record import recorded_run, run_steps

if TYPE_CHECKING:
    from ..labeling import LabelingFunction
    from ..models import MultiLabelModel
    from .config import ProjectConfig
    from .project import Project, RunResult

__all__ = ["run_multilabel", "multilabel_final_labels", "final_label_proba", "unvoted_cells", "FINAL_RULE",
           "latest_label_answers",
           "refuse_multilabel_run",
           "refuse_multilabel_project",
           "multilabel_gold", "multilabel_dev", "multilabel_votes", "label_set_scores", "multilabel_source_stats",
           "multilabel_model", "multilabel_model_state", "label_uncertainty",
           "NO_LABELS"]

#: How a gold cell writes "none of the labels" (an empty cell means "no gold").
NO_LABELS = "-"
#: What gives a multi-label run's final P(label applies) of an item and label (the producer of its "final" set).
FINAL_RULE = "label model where a source voted on the label, end model elsewhere"


def final_label_proba(label_proba: np.ndarray, end_proba: np.ndarray, L: MultiLabelMatrix,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per item and label, the label model's probability where a source voted on the label, the end model's elsewhere.

    Where no source voted (present or absent), the label model knows only
    the label's prior, and the end model reads the item's text. Measured on
    label sets derived from WRENCH TREC and Hausa news (1-3 texts joined per
    item; label model fitted on 3000 items from the train split and 1000
    from the valid split, end model trained on the train items; scored on
    the valid items, seeds 0-2, about a quarter of their cells unvoted):
    micro F1 0.617 -> 0.621 (TREC) and 0.606 -> 0.614 (Hausa) over the
    label model's probabilities everywhere, better on each of the six; macro
    F1 0.632 -> 0.632 and 0.591 -> 0.601. On the generated example every
    label has a source voting on every item, so nothing changes there.

    Parameters
    ----------
    label_proba, end_proba : ndarray of shape (n, K)
    L : MultiLabelMatrix
        The votes the label model was fitted on.

    Returns
    -------
    proba : ndarray of shape (n, K)
    from_end : ndarray of shape (n, K) bool
        The cells whose probability is the end model's.

    Examples
    --------
    >>> L = MultiLabelMatrix(np.array([[[1, -1]], [[-1, -1]]]))
    >>> proba, from_end = final_label_proba(np.full((2, 2), 0.3), np.full((2, 2), 0.8), L)
    >>> proba.tolist(), from_end.tolist()
    ([[0.3, 0.8], [0.8, 0.8]], [[False, True], [True, True]])
    """
    from_end = unvoted_cells(L)
    return np.where(from_end, end_proba, label_proba), from_end


def unvoted_cells(L: MultiLabelMatrix) -> np.ndarray:
    """``(n, K)`` bool: the items and labels no source voted on (present or absent)."""
    present, absent = L.vote_counts()
    return np.asarray((present + absent) == 0)


def multilabel_gold(config: ProjectConfig, frame: pd.DataFrame) -> np.ndarray:
    """The gold label sets of ``[data].gold_column``: ``(n, K)`` with 1/0, NaN for an item without gold.

    A cell is ``|``-separated label names (``"sport|politics"``), ``"-"``
    for an item that carries none of the labels, or empty (no gold). A name
    ``[labels.rename]`` maps (an old name) reads as its new name.

    Raises
    ------
    ValidationError
        A cell names a label that is not in ``[labels].classes`` (the
        message names the file, column, row and value).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(class_names=["a", "b"], data_path="d.csv",
    ...                          get=lambda t, k, d=None: "gold" if k == "gold_column" else d)
    >>> multilabel_gold(config, pd.DataFrame({"gold": ["a|b", "-", None]})).tolist()
    [[1.0, 1.0], [0.0, 0.0], [nan, nan]]
    """
    names = list(config.class_names or [])
    out = np.full((len(frame), len(names)), np.nan)
    column = config.get("data", "gold_column")
    if column is None:
        return out
    if column not in frame.columns:
        raise ValidationError(f"{config.data_path}: data.gold_column: expected a column {column!r}, got columns "
                              f"{list(map(str, frame.columns))}")
    index = {n: j for j, n in enumerate(names)}
    renames = dict(getattr(config, "class_renames", None) or {})
    index.update({old: index[new] for old, new in renames.items() if new in index and old not in index})
    for row, value in enumerate(frame[column].tolist()):
        if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
            continue
        out[row] = 0.0
        text = str(value).strip()
        if text == NO_LABELS:
            continue
        for part in text.split("|"):
            j = index.get(part.strip())
            if j is None:
                raise ValidationError(f"{config.data_path}: column {column!r}, row {row}: expected label names of "
                                      f"{names} separated by '|' ('{NO_LABELS}' for none), got {value!r}")
            out[row, j] = 1.0
    return out


def multilabel_dev(config: ProjectConfig, frame: pd.DataFrame, gold: np.ndarray) -> np.ndarray:
    """The dev items: those with a gold label set (in the dev split when ``[data].split_column`` is set)."""
    mask = ~np.isnan(gold).any(axis=1) if gold.shape[1] else np.zeros(len(frame), dtype=bool)
    column = config.get("data", "split_column")
    if column is not None:
        mask &= frame[column].astype(str).to_numpy() == str(config.get("data", "dev_value", "dev"))
    return mask


def multilabel_votes(votes: np.ndarray, targets: list[int | None], *, n_labels: int, source_names: list[str],
                     label_names: list[str], item_ids: Any = None) -> MultiLabelMatrix:
    """Per-label votes from the LFs' votes ``(n, m)``: a label id is "present"; a targeted LF's 1/0 is present/absent.

    Parameters
    ----------
    votes : ndarray of shape (n, m)
        What each LF returned (``-1`` abstain): for an LF without a target
        a label id, for one with target ``t`` ``1`` (present) or ``0`` (absent).
    targets : list of (int or None), length m
        The label each LF targets, or None.

    Examples
    --------
    >>> L = multilabel_votes(np.array([[1, 0], [-1, 1]]), [None, 0], n_labels=2, source_names=["a", "b"],
    ...                      label_names=["x", "y"])
    >>> L.to_dense().tolist()
    [[[-1, 1], [0, -1]], [[-1, -1], [1, -1]]]
    """
    votes = np.asarray(votes)
    rows, cols = np.nonzero(votes >= 0)
    values = votes[rows, cols].astype(np.int64)
    target = np.array([-1 if t is None else t for t in targets], dtype=np.int64)[cols]
    targeted = target >= 0
    labels = np.where(targeted, target, values)
    present = np.where(targeted, values, 1)
    if (targeted & (values > 1)).any():
        j = int(cols[targeted & (values > 1)][0])
        raise fail(f"labeling function {source_names[j]!r}", "1 (present), 0 (absent) or ABSTAIN from an LF that "
                   "targets one label", got_text=f"{int(values[targeted & (values > 1)][0])}")
    return MultiLabelMatrix.from_coo(rows, cols, labels, present, n_items=votes.shape[0], n_sources=votes.shape[1],
                                     n_labels=n_labels, source_names=source_names, label_names=label_names,
                                     item_ids=item_ids)


def label_set_scores(gold: np.ndarray, pred: np.ndarray, label_names: list[str], *,
                     proba: np.ndarray | None = None) -> dict[str, Any]:
    """Micro and macro F1, Hamming loss and each label's F1 of 0/1 predictions ``(n, K)`` against gold.

    With ``proba`` (the ``(n, K)`` probabilities ``pred`` came from), also
    each label's expected calibration error (``per_label[name]["ece"]``,
    :func:`~weaklab.evaluation.label_calibration_errors`) and their mean
    (``"mean_ece"``).

    Examples
    --------
    >>> s = label_set_scores(np.array([[1, 0], [1, 1]]), np.array([[1, 0], [0, 1]]), ["a", "b"])
    >>> round(s["micro_f1"], 3), s["per_label"]["b"]["f1"], s["n"]
    (0.8, 1.0, 2)
    >>> label_set_scores(np.array([[1], [0]]), np.array([[1], [0]]), ["a"], proba=np.array([[0.8], [0.4]]))["mean_ece"]
    0.3
    """
    from ..evaluation import hamming_loss, label_calibration_errors, label_f1_scores, macro_f1, micro_f1

    g, p = np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    f1 = label_f1_scores(g, p)
    scores: dict[str, Any] = {
        "n": len(g), "micro_f1": float(micro_f1(g, p)), "macro_f1": float(macro_f1(g, p)),
        "hamming_loss": float(hamming_loss(g, p)),
        "per_label": {name: {"f1": float(f1[j]), "support": int(g[:, j].sum()), "predicted": int(p[:, j].sum())}
                      for j, name in enumerate(label_names)}}
    if proba is not None and len(g):
        ece = label_calibration_errors(np.clip(np.asarray(proba, dtype=np.float64), 0.0, 1.0), g)
        for j, name in enumerate(label_names):
            scores["per_label"][name]["ece"] = float(ece[j])
        scores["mean_ece"] = float(np.mean(ece)) if len(ece) else float("nan")
    return scores


def multilabel_source_stats(L: MultiLabelMatrix, gold: np.ndarray, dev: np.ndarray) -> pd.DataFrame:
    """Per source: coverage, present and absent votes, labels voted on; on the dev gold, precision and accuracy.

    ``precision`` is the share of a source's present votes on dev items
    whose label is in the gold set; ``accuracy`` the share of all its votes
    (present or absent) on dev items that agree with the gold (NaN without
    such votes).

    Examples
    --------
    >>> L = MultiLabelMatrix(np.array([[[1, -1]], [[0, 1]]]), source_names=["s"])
    >>> stats = multilabel_source_stats(L, np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([True, True]))
    >>> stats.loc["s", ["coverage", "n_present", "n_absent", "precision", "accuracy"]].tolist()
    [1.0, 2.0, 1.0, 0.5, 0.6666666666666666]
    """
    items, sources, labels, votes = L.coo()
    m = L.n_sources
    covered = np.zeros((m, L.n_items), dtype=bool)
    covered[sources, items] = True
    on_dev = dev[items]
    truth = gold[items, labels]
    agree = on_dev & (truth == votes)
    hit = on_dev & (votes == 1) & (truth == 1)

    def per(mask: np.ndarray) -> np.ndarray:
        return np.bincount(sources[mask], minlength=m).astype(np.float64)

    n_dev_present, n_dev = per(on_dev & (votes == 1)), per(on_dev)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame({
            "coverage": covered.mean(axis=1) if L.n_items else np.zeros(m),
            "n_present": per(votes == 1), "n_absent": per(votes == 0),
            "n_labels": [float(len(np.unique(labels[sources == j]))) for j in range(m)],
            "precision": np.where(n_dev_present > 0, per(hit) / n_dev_present, np.nan),
            "accuracy": np.where(n_dev > 0, per(agree) / n_dev, np.nan)}, index=list(L.source_names))
    return frame


def multilabel_model(name: str, params: dict[str, Any]) -> MultiLabelModel:
    """The unfitted multi-label label model ``[label_model].name`` with its ``params``.

    ``OneVsRestLabelModel`` reads ``base`` (a label model class of
    :mod:`weaklab.models`; default ``"AutoLabelModel"``, the library's
    default, with ``random_state = 0`` unless ``base_params`` are given)
    and ``base_params``.
    """
    from .. import models
    from .training import checked_label_model

    try:
        if name == "OneVsRestLabelModel":
            rest = dict(params)
            base_name = str(rest.pop("base", DEFAULT_LABEL_MODEL))
            default = {"random_state": 0} if base_name == DEFAULT_LABEL_MODEL else {}
            base_params = dict(rest.pop("base_params", default))
            if rest:
                raise fail("label_model.params", "base and base_params for OneVsRestLabelModel",
                           got_text=str(sorted(rest)))
            base = checked_label_model(base_name, base_params)(**base_params)
            return models.OneVsRestLabelModel(base)
        return models.MultiLabelDawidSkene(**params)
    except TypeError as exc:
        raise fail("label_model.params", f"parameters of {name}", got_text=str(exc)) from None


def multilabel_model_state(model: MultiLabelModel) -> dict[str, Any]:
    """``to_state()`` of a fitted multi-label label model (OneVsRestLabelModel: each label's model's state)."""
    if hasattr(model, "to_state"):
        return dict(model.to_state())
    arrays: dict[str, Any] = {"label_prior_": np.asarray(model.label_prior_)}
    labels = []
    for j, sub in enumerate(model.models_):
        state = None if sub is None else sub.to_state()
        if state is not None:
            arrays.update({f"{j}.{k}": v for k, v in state["arrays"].items()})
        labels.append(None if state is None else {k: v for k, v in state.items() if k != "arrays"})
    return {"class": type(model).__name__, "module": type(model).__module__,
            "params": {"base": type(model.base).__name__, "base_params": model.base.get_params(deep=False)},
            "labels": labels, "label_names": model.label_names_, "arrays": arrays}


def label_uncertainty(proba: np.ndarray) -> np.ndarray:
    """Per item, the sum over labels of the binary entropy (bits) of ``P(label applies)``.

    Examples
    --------
    >>> label_uncertainty(np.array([[0.5, 1.0], [0.0, 0.0]])).round(6).tolist()
    [1.0, 0.0]
    """
    p = np.clip(np.asarray(proba, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.asarray((-(p * np.log2(p) + (1 - p) * np.log2(1 - p))).sum(axis=1))


#: What works on a multi-label run, for the messages of what does not yet.
MULTILABEL_WORKS = ("apply, analyze, fit, train, issues, query, runs, explain, alerts, export, predict, report, "
                    "diff and annotate (terminal, Label Studio export/import, disagreements, adjudicate) work on "
                    "them, and the dashboard's sources, health and issues pages")


def refuse_multilabel_run(store: Store, run_id: int | None, what: str) -> None:
    """Raise a one-line ValidationError naming ``what`` when ``run_id`` is a multi-label run (else nothing)."""
    if run_id is not None and store.is_multilabel_run(int(run_id)):
        raise ValidationError(f"{what}: not supported for multilabel runs yet (run {run_id} is one; "
                              f"{MULTILABEL_WORKS})")


def refuse_multilabel_project(config: ProjectConfig, what: str) -> None:
    """Raise a one-line ValidationError naming ``what`` for a multi-label project (else nothing)."""
    if config.is_multilabel:
        raise ValidationError(f"{what}: not supported for multilabel projects yet ({config.file.name} sets "
                              f'[task].kind = "multilabel"; {MULTILABEL_WORKS})')


def multilabel_final_labels(store: Store, run_id: int) -> pd.DataFrame:
    """Every item's labels in a multi-label run: the table ``weaklab export`` writes.

    Columns: ``item_id``; ``labels`` (``|``-separated, ``"-"`` for none: on
    an item people answered, the latest answer's labels, skips not counting,
    else the label names whose final ``P(applies)`` is at least 0.5: with a
    trained end model the label model's where a source voted on the label and
    the end model's elsewhere (the run's ``"final"`` set,
    :func:`final_label_proba`), else the label model's; the rule of
    ``weaklab explain``, :meth:`~weaklab.store.Store.explain_labels`);
    ``label_from`` (``"annotation"``, ``"label_model"``, ``"end_model"`` or
    ``"label_model+end_model"``: what gave the item's labels);
    ``end_model_labels`` (with a ``"final"`` set: the labels whose value is
    the end model's, ``|``-separated, ``"-"`` for none); ``n_votes``
    (non-abstain votes on the item); ``p_<label>`` (the label model's
    probabilities: soft targets to train on); with an end model,
    ``end_p_<label>``.

    Raises
    ------
    ValidationError
        The run recorded no label-model probabilities (it stopped before ``fit``).
    """
    sets = store.label_sets(run_id)
    by_role = {role: int(i) for role, i in zip(sets["role"], sets["label_set_id"])}  # the latest of each role
    if "label_model" not in by_role:
        raise ValidationError(f"run: expected a multilabel run that fitted its label model, got run {run_id}, "
                              "which recorded no label probabilities (run `weaklab fit`)")
    names = list(sets["label_names"].iloc[0])
    proba = store.load_label_proba(by_role["label_model"])
    votes = store.load_multilabel_votes(by_role["votes"]) if "votes" in by_role else None
    ids = store.load_item_ids(int(sets["dataset_id"].iloc[0]))
    final = store.load_label_proba(by_role["final"]) if "final" in by_role and votes is not None else None
    hard = (proba if final is None else final) >= 0.5
    frame = pd.DataFrame({"item_id": ids, "labels": ["|".join(n for n, h in zip(names, row) if h) or NO_LABELS
                                                     for row in hard.tolist()],
                          "label_from": "label_model",
                          "n_votes": np.zeros(len(ids), dtype=np.int64) if votes is None
                          else np.bincount(votes.coo()[0], minlength=len(ids))})
    if final is not None:
        _cell_producers(frame, unvoted_cells(votes), names)  # type: ignore[arg-type]
    _answered_labels(store, int(sets["dataset_id"].iloc[0]), frame, names, store.run_class_renames(run_id))
    for j, name in enumerate(names):
        frame[f"p_{name}"] = proba[:, j]
    if "end_model" in by_role:
        end = store.load_label_proba(by_role["end_model"])
        for j, name in enumerate(names):
            frame[f"end_p_{name}"] = end[:, j]
    return frame


def _cell_producers(frame: pd.DataFrame, from_end: np.ndarray, names: list[str]) -> None:
    """Set ``label_from`` and ``end_model_labels`` of ``frame`` from the cells the end model gave (``from_end``)."""
    some, every = from_end.any(axis=1), from_end.all(axis=1)
    frame["label_from"] = np.where(every, "end_model", np.where(some, "label_model+end_model", "label_model"))
    frame["end_model_labels"] = ["|".join(n for n, e in zip(names, row) if e) or NO_LABELS
                                 for row in from_end.tolist()]


def latest_label_answers(store: Store, dataset_id: int, renames: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Item id (as text) -> the labels of the latest answer people gave on it (skips do not count).

    The rule of :meth:`~weaklab.store.Store.explain_labels`' final labels, shared by ``weaklab export`` and the
    end model's targets. ``renames`` (``[labels.rename]``) reads answers given before a rename in the new names.
    """
    answers = store.label_set_answers(dataset_id, renames=renames)
    given = answers[answers["status"] == "answered"]
    return {str(k): list(v) for k, v in zip(given["item_key"], given["labels"])}  # oldest first: later answers win


def _answered_labels(store: Store, dataset_id: int, frame: pd.DataFrame, names: list[str],
                     renames: dict[str, str]) -> None:
    """Set ``labels`` and ``label_from`` of the items people answered to their latest answer (skips do not count).

    The answer's labels are read through the run's renames, in the run's label order.
    """
    latest = latest_label_answers(store, dataset_id, renames)
    rows = [i for i, item in enumerate(frame["item_id"].tolist()) if str(item) in latest]
    if rows:
        frame.loc[rows, "labels"] = ["|".join(n for n in names if n in latest[str(frame["item_id"].iat[i])])
                                     or NO_LABELS for i in rows]
        frame.loc[rows, "label_from"] = "annotation"


def run_multilabel(project: Project, steps: list[str], on_step: Callable[[str, str], None] | None,
                   descriptions: dict[str, str]) -> RunResult:
    """Run ``steps`` of a multi-label ``project`` as one recorded run (see the module docstring)."""
    from .project import RunResult

    config = project.config
    if "issues" in steps and config.get("end_model", "name", "tfidf_logreg") == "none":
        raise ValidationError(f"{config.file}: end_model.name: expected an end model (its TF-IDF features judge the "
                              "labels) for the issues step, got 'none'")
    frame = load_data(config)
    lfs, targets = load_multilabel_lfs(config)
    check_lf_columns(config, lfs, frame)
    run = _MultiLabelRun(project, frame, lfs, targets)
    with project.open_store() as store:
        run.dataset_id = store.add_dataset(
            config.dataset_name, item_ids=run.ids, fingerprint=run.data_fp,
            item_hashes=list(item_hashes(config, frame)),
            meta={"path": str(config.data_path), "project": str(config.file), "kind": "multilabel",
                  "id_column": config.get("data", "id_column"), "text_field": config.get("data", "text_field"),
                  "gold_column": config.get("data", "gold_column"),
                  "split_column": config.get("data", "split_column"),
                  "dev_value": config.get("data", "dev_value", "dev") if config.get("data", "split_column") else None,
                  "label_names": run.labels})
        with recorded_run(store, run.dataset_id, run.run_config(steps)) as recorded:
            result = RunResult(run_id=recorded.run_id, dataset_id=run.dataset_id, metrics=recorded.metrics)
            result.metrics["task"] = "multilabel"
            run_steps(run, steps, store, result, on_step, descriptions)
            run.alerts(store, result)
    result.item_ids = [v.item() if isinstance(v, np.generic) else v for v in run.ids[:5]]
    return result


class _MultiLabelRun:
    """The steps of one multi-label run and what they pass to each other."""

    def __init__(self, project: Project, frame: pd.DataFrame, lfs: list[LabelingFunction],
                 targets: list[str | None]) -> None:
        self.project, self.config, self.frame, self.lfs = project, project.config, frame, lfs
        self.labels = list(self.config.class_names or [])
        self.targets = [None if t is None else self.labels.index(t) for t in targets]
        self.ids = item_ids_of(self.config, frame)
        self.gold = multilabel_gold(self.config, frame)
        self.dev = multilabel_dev(self.config, frame, self.gold)
        self.data_fp = data_fingerprint(self.config, frame)
        self.versions = [fingerprint("multilabel-lf", lf.fingerprint, t) for lf, t in zip(lfs, targets)]
        self.dataset_id = -1
        self.L: MultiLabelMatrix | None = None
        self.proba: np.ndarray | None = None
        self.label_stats: pd.DataFrame | None = None  # per (source, label): see multilabel_sources
        self.fit_rows = np.zeros(len(frame), dtype=bool)  # the file gold the fit got ([data].fit_gold)
        self.features: Any = None  # TF-IDF of every item (train), for the issues step
        self.end_params: dict[str, Any] = {}

    def run_config(self, steps: list[str]) -> dict[str, Any]:
        config = self.config
        return {"project": str(config.file), "steps": steps, "task": config.values.get("task", {}),
                "data_fingerprint": self.data_fp, "class_names": self.labels,
                "label_model": {"name": config.get("label_model", "name", MULTILABEL_MODELS[0]),
                                "params": dict(config.get("label_model", "params", {}))},
                "end_model": {"name": config.get("end_model", "name", "tfidf_logreg"),
                              "params": dict(config.get("end_model", "params", {}))},
                "sources": {lf.name: v for lf, v in zip(self.lfs, self.versions)},
                "class_renames": config.class_renames,
                "targets": {lf.name: t for lf, t in zip(self.lfs, self.targets)}}

    @property
    def matrix(self) -> MultiLabelMatrix:
        if self.L is None:
            raise ValidationError("until: expected a run that applies the labeling functions first, got none")
        return self.L

    def _dev_scores(self, proba: np.ndarray) -> dict[str, Any] | None:
        rows = np.flatnonzero(self.dev)
        if not len(rows):
            return None
        scores = label_set_scores(self.gold[rows], proba[rows] >= 0.5, self.labels, proba=proba[rows])
        scores["reliability"] = label_reliability(proba[rows], self.gold[rows], self.labels)  # the health page
        return scores

    # ------------------------------------------------------------------ steps
    def apply(self, store: Store, result: RunResult) -> None:
        from ..labeling import apply_lfs

        sources = []
        for lf, version, target in zip(self.lfs, self.versions, self.targets):
            code = function_source(lf.function) if lf.function is not None else None
            store.add_source(lf.name, version, kind="lf", code=code,
                             params={"target": None if target is None else self.labels[target]})
            sources.append({"name": lf.name, "version": version})
        on_error = self.config.get("lfs", "on_error", "raise")
        votes = np.full((len(self.frame), len(self.lfs)), -1, dtype=np.int64)
        report: dict[str, Any] = {"n_faults": 0, "total_seconds": 0.0}
        for targeted in (False, True):
            cols = [j for j, t in enumerate(self.targets) if (t is not None) == targeted]
            if not cols:
                continue
            names = None if targeted else self.labels
            L, rep = apply_lfs([self.lfs[j] for j in cols], self.frame, progress=self.project.progress,
                               on_error=on_error, n_classes=2 if targeted else len(self.labels), class_names=names,
                               class_renames=None if targeted else self.config.class_renames)
            votes[:, cols] = L.to_dense()
            report["n_faults"] += int(sum(rep.n_faults))
            report["total_seconds"] += float(rep.total_seconds)
        self.L = multilabel_votes(votes, self.targets, n_labels=len(self.labels),
                                  source_names=[lf.name for lf in self.lfs], label_names=self.labels,
                                  item_ids=self.ids)
        set_id = store.add_multilabel_votes(self.dataset_id, self.L, sources=sources, run_id=result.run_id,
                                            producer="LFs", metrics={"apply_report": report})
        if self.config.get("data", "gold_column") is not None:
            store.add_label_proba(self.dataset_id, "gold", self.gold, label_names=self.labels,
                                  run_id=result.run_id, producer="data")
        result.metrics.update(votes_label_set_id=set_id, n_items=self.L.n_items, n_sources=self.L.n_sources,
                              n_labels=self.L.n_labels, n_votes=self.L.nnz, apply_report=report)

    def analyse(self, store: Store, result: RunResult) -> None:
        stats = multilabel_source_stats(self.matrix, self.gold, self.dev)
        store.add_source_stats(result.run_id, stats, versions=dict(zip(stats.index, self.versions)))
        result.summary = stats
        self.label_stats = label_source_stats(self.matrix, self.gold, self.dev)
        result.metrics["n_dev"] = int(self.dev.sum())

    def fit(self, store: Store, result: RunResult) -> None:
        from ..models import MajorityVote, OneVsRestLabelModel

        L = self.matrix
        if L.nnz == 0:
            raise ValidationError(f"{self.config.file.name}: lfs: expected labeling functions that vote on some "
                                  f"items, got {L.n_sources} source(s) that abstained on all {L.n_items} items")
        name = str(self.config.get("label_model", "name", MULTILABEL_MODELS[0]))
        given = multilabel_fit_gold(self.config, self.frame, self.gold, self.dev, self.ids,
                                    random_state=self.project.random_state)  # [data].fit_gold: rows outside dev
        self.fit_rows = given.rows
        model = multilabel_model(name, dict(self.config.get("label_model", "params", {}))).fit(L, gold=given.gold)
        proba = model.predict_proba(L)
        self.proba = proba
        metrics: dict[str, Any] = {"class": name, "mean_labels": float((proba >= 0.5).sum(axis=1).mean()),
                                   **given.metrics}
        scores = self._dev_scores(proba)
        if scores is not None:
            metrics["dev"] = scores
            mv = OneVsRestLabelModel(MajorityVote()).fit(L).predict_proba(L)
            metrics["majority_vote"] = {k: v for k, v in (self._dev_scores(mv) or {}).items()
                                        if k not in ("per_label", "reliability")}
        if self.label_stats is not None:
            self.label_stats = label_source_table(self.label_stats, label_model_source_stats(
                model, L, proba, random_state=self.project.random_state))
        lm_id = store.add_label_model_run(result.run_id, multilabel_model_state(model), metrics=metrics)
        set_id = store.add_label_proba(self.dataset_id, "label_model", proba, label_names=self.labels,
                                       run_id=result.run_id, producer=name, metrics=metrics)
        result.metrics.update(label_model=metrics, label_model_run_id=lm_id, label_model_set_id=set_id)

    def train(self, store: Store, result: RunResult) -> None:
        from sklearn.linear_model import LogisticRegression

        from ..endmodel import MultiLabelSoftClassifier
        from .multilabel_predict import multilabel_text_state
        from .training import END_MODEL_DEFAULTS, end_model_texts, fitted_text_features

        name = self.config.get("end_model", "name", "tfidf_logreg")
        if name == "none":
            result.metrics["end_model"] = {"name": "none"}
            return
        if self.proba is None:
            raise ValidationError("until: expected a run that fits the label model first, got none")
        params = {**END_MODEL_DEFAULTS, **dict(self.config.get("end_model", "params", {}))}
        train = np.flatnonzero(~self.dev)
        if len(train) < 2:
            raise fail("train", "at least two items outside the dev set to train on", got_text=f"{len(train)}")
        vectorizer, X = fitted_text_features(end_model_texts(self.frame, self.config.get("data", "text_field", "text")),
                                             params)
        self.features, self.end_params = X, params  # the issues step's judge reads them
        estimator = LogisticRegression(C=float(params["C"]), max_iter=int(params["max_iter"]),
                                       random_state=self.project.random_state)
        targets, n_answered = self._with_answers(store, self.proba, train)
        model = MultiLabelSoftClassifier(estimator, calibration="cross_fit",
                                         random_state=self.project.random_state).fit(X[train], targets[train])
        proba = model.predict_proba(X)
        metrics: dict[str, Any] = {"name": name, "n_train": len(train), "n_answered_used": n_answered,
                                   "params": params, "calibration": {
                                       label: {"slope": float(a), "intercept": float(b)}
                                       for label, (a, b) in zip(self.labels, model.calibration_)}}
        scores = self._dev_scores(proba)
        if scores is not None:
            metrics["dev"] = scores
        metrics["final"] = self._record_final(store, result, proba)
        state = multilabel_text_state(vectorizer, model, params=params, label_names=self.labels)  # for predict
        end_id = store.add_end_model_run(result.run_id, name, params=params, metrics=metrics, state=state)
        store.add_label_proba(self.dataset_id, "end_model", proba, label_names=self.labels, run_id=result.run_id,
                              producer=name, metrics=metrics)
        result.metrics["end_model"] = {**metrics, "end_model_run_id": end_id}

    def alerts(self, store: Store, result: RunResult) -> None:
        """Record the per-label source table in the run's metrics, and the alerts its rules fire (per label)."""
        if self.label_stats is None:
            return
        table = self.label_stats
        result.metrics["label_sources"] = [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                                           for row in to_jsonable(table.to_dict("records"))]
        names = [lf.name for lf in self.lfs]
        before = previous_label_source_stats(store, self.dataset_id, result.run_id, names)
        result.alerts = label_source_alerts(table, before, thresholds=self.project.thresholds, sources=names)
        for alert in result.alerts:
            store.add_alert(result.run_id, alert.kind, alert.message, source=alert.source, severity=alert.severity,
                            value=alert.value)
        result.metrics["n_alerts"] = len(result.alerts)

    def _record_final(self, store: Store, result: RunResult, end_proba: np.ndarray) -> dict[str, Any]:
        """Record the run's final probabilities (:func:`final_label_proba`); return what produced the cells."""
        final, from_end = final_label_proba(self.proba, end_proba, self.matrix)  # type: ignore[arg-type]
        metrics: dict[str, Any] = {"rule": FINAL_RULE, "n_cells": int(from_end.size),
                                   "n_cells_end_model": int(from_end.sum()),
                                   "per_label_end_model": dict(zip(self.labels, from_end.sum(axis=0).tolist()))}
        scores = self._dev_scores(final)
        if scores is not None:
            metrics["dev"] = scores
        store.add_label_proba(self.dataset_id, "final", final, label_names=self.labels, run_id=result.run_id,
                              producer=FINAL_RULE, metrics=metrics)
        return metrics

    def _with_answers(self, store: Store, proba: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, int]:
        """The label model's probabilities, with the training items people answered set to their labels (0/1).

        On an item several people answered, the latest answer counts (skips do not).
        """
        latest = latest_label_answers(store, self.dataset_id, self.config.class_renames)
        out, used = proba.copy(), 0
        for row in train.tolist():
            labels = latest.get(str(self.ids[row]))
            if labels is not None:
                out[row] = [1.0 if name in labels else 0.0 for name in self.labels]
                used += 1
        return out, used

    def issues(self, store: Store, result: RunResult) -> None:
        """Flag the (item, label) cells whose weak label the text contradicts (:mod:`.multilabel_issues`)."""
        from .multilabel_issues import label_cell_issues
        from .steps_late import DEFAULT_MAX_ISSUES

        if self.features is None or self.proba is None:
            raise ValidationError(f"{self.config.file}: end_model.name: expected an end model (its TF-IDF features "
                                  "judge the labels) for the issues step, got 'none'")
        method = str(self.config.get("issues", "method", "auto"))
        table = label_cell_issues(
            self.features, self.proba, self.matrix, self.ids, ~self.dev, method="auto" if method == "votes" else method,
            C=float(self.end_params["C"]), max_iter=int(self.end_params["max_iter"]),
            random_state=self.project.random_state,
            max_issues=int(self.config.get("issues", "max_issues", DEFAULT_MAX_ISSUES)))
        result.issues = table
        result.metrics["label_issues"] = to_jsonable(table.to_dict("records"))
        result.metrics["n_label_issues"] = len(table)

    def query(self, store: Store, result: RunResult) -> None:
        if self.proba is None:
            raise ValidationError("until: expected a run that fits the label model first, got none")
        scores = label_uncertainty(self.proba)
        done = set(store.label_set_answers(self.dataset_id)["item_key"].astype(str))
        order = [r for r in np.argsort(-scores, kind="stable").tolist()
                 if not self.dev[r] and not self.fit_rows[r] and str(self.ids[r]) not in done]
        picked = self.ids[order[: int(self.config.get("query", "n", 20))]]
        result.query = [v.item() if isinstance(v, np.generic) else v for v in picked]
        result.metrics["query"] = result.query
