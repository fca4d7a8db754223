"""Source health of a multi-label run, label by label: the single-label statistics and alert rules per label.

A multi-label source votes a label present (1) or absent (0), or abstains,
on each label; on one label its votes form a binary
:class:`~weaklab.LabelMatrix` (:meth:`~weaklab.MultiLabelMatrix.for_label`).
Every single-label measure is then read per (source, label):

* :func:`label_source_stats`: coverage, overlaps and conflicts
  (:func:`~weaklab.labeling.lf_summary` of the label's votes), the number
  of votes and, on the dev gold, the empirical accuracy with its
  correct/incorrect counts;
* :func:`label_model_source_stats`: the estimated accuracy, how often the
  source decides the label (``decides``) and its share of the evidence
  (``weight_share``), from the label's fitted binary model of a
  :class:`~weaklab.models.OneVsRestLabelModel`
  (:func:`~weaklab.pipeline.record.label_model_stats`); for another
  multi-label model, the estimated accuracy is the mean probability the
  model gives each of the source's votes of being right
  (``P(applies)`` for a present vote, ``1 - P(applies)`` for an absent one)
  and ``decides`` is unknown (NaN);
* :func:`label_source_alerts`: the alert rules of
  :func:`~weaklab.pipeline.detect_alerts` on each label (chance is 50 %:
  one label is a yes/no question), against the previous run's table; each
  alert names its label.

The table is one row per (source, label) the source voted on, recorded in
the run's metrics (``label_sources``), where the next run finds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._core import MultiLabelMatrix
from .alerts import Alert, AlertThresholds, detect_alerts
from .record import label_model_stats, weight_share

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["LABEL_SOURCE_COLUMNS", "label_source_stats", "label_model_source_stats", "label_source_alerts",
           "previous_label_source_stats", "label_source_table"]

#: Columns of the per-(source, label) table, in display order.
LABEL_SOURCE_COLUMNS = ("source", "label", "coverage", "overlaps", "conflicts", "n_votes", "est_accuracy",
                        "emp_accuracy", "decides", "weight_share", "correct", "incorrect")


def _label_gold(gold: np.ndarray, dev: np.ndarray, j: int) -> np.ndarray | None:
    """Label ``j``'s gold as class ids (1 applies, 0 not) on the dev items, -1 elsewhere; None without any."""
    column = np.asarray(gold, dtype=np.float64)[:, j]
    known = np.asarray(dev, dtype=bool) & ~np.isnan(column)
    if not known.any():
        return None
    return np.where(known, np.nan_to_num(column), -1).astype(np.int64)


def label_source_stats(L: MultiLabelMatrix, gold: np.ndarray, dev: np.ndarray) -> pd.DataFrame:
    """One row per (source, label) with votes: coverage, overlaps, conflicts, votes; accuracy on the dev gold.

    Parameters
    ----------
    L : MultiLabelMatrix
        The run's votes.
    gold : ndarray of shape (n_items, n_labels)
        1 / 0 per item and label, NaN where unknown.
    dev : ndarray of shape (n_items,)
        True on the dev items (only their gold is read).

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``label``, ``coverage``, ``overlaps``,
        ``conflicts`` (shares of all items, as :func:`~weaklab.labeling.lf_summary`
        gives them on the label's binary votes), ``n_votes`` and, with dev
        gold on the label, ``emp_accuracy``, ``correct`` and ``incorrect``
        (NaN without).

    Examples
    --------
    >>> votes = np.array([[[1], [1]], [[1], [0]], [[0], [-1]]])     # 3 items, 2 sources, 1 label
    >>> L = MultiLabelMatrix(votes, source_names=["s", "t"], label_names=["a"])
    >>> gold = np.array([[1.0], [1.0], [np.nan]])
    >>> table = label_source_stats(L, gold, np.ones(3, dtype=bool))
    >>> table[["source", "label", "n_votes", "conflicts", "emp_accuracy"]].values.tolist()
    [['s', 'a', 3, 0.3333333333333333, 1.0], ['t', 'a', 2, 0.3333333333333333, 0.5]]
    """
    from ..labeling import lf_summary

    frames = []
    for j, label in enumerate(L.label_names):
        Lj = L.for_label(j)
        if Lj.nnz == 0:
            continue
        summary = lf_summary(Lj, _label_gold(gold, dev, j))
        n_votes = np.asarray(Lj.votes_per_source(), dtype=np.int64)
        frame = pd.DataFrame({"source": list(Lj.source_names), "label": label,
                              "coverage": summary["coverage"].to_numpy(), "overlaps": summary["overlaps"].to_numpy(),
                              "conflicts": summary["conflicts"].to_numpy(), "n_votes": n_votes})
        for column, name in (("emp_acc", "emp_accuracy"), ("correct", "correct"), ("incorrect", "incorrect")):
            frame[name] = summary[column].to_numpy(dtype=np.float64) if column in summary else np.nan
        frames.append(frame[n_votes > 0])
    if not frames:
        return pd.DataFrame(columns=[c for c in LABEL_SOURCE_COLUMNS if c not in
                                     ("est_accuracy", "decides", "weight_share")])
    return pd.concat(frames, ignore_index=True)


def label_model_source_stats(model: Any, L: MultiLabelMatrix, proba: np.ndarray, *,
                             random_state: int = 0) -> pd.DataFrame:
    """One row per (source, label) with votes: the fitted label model's ``est_accuracy``, ``decides``, ``weight_share``.

    Parameters
    ----------
    model : MultiLabelModel
        Fitted on ``L``.
    L : MultiLabelMatrix
    proba : ndarray of shape (n_items, n_labels)
        The model's ``P(applies)`` on ``L``.
    random_state : int, default=0
        Samples the items ``decides`` reads on large runs.

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``label``, ``est_accuracy``, ``decides``,
        ``weight_share`` (see the module docstring for where each comes from).

    Examples
    --------
    >>> from weaklab.models import MultiLabelDawidSkene
    >>> from weaklab.synthetic import make_multilabel_matrix
    >>> data = make_multilabel_matrix(200, 4, 2, random_state=0)
    >>> model = MultiLabelDawidSkene().fit(data.L)
    >>> table = label_model_source_stats(model, data.L, model.predict_proba(data.L))
    >>> bool(table["est_accuracy"].between(0, 1).all()), bool(table["decides"].isna().all())
    (True, True)
    """
    from ..models import OneVsRestLabelModel

    frames = []
    expected = _expected_accuracy(L, np.asarray(proba, dtype=np.float64))
    for j, label in enumerate(L.label_names):
        Lj = L.for_label(j)
        voted = np.asarray(Lj.votes_per_source()) > 0
        if not voted.any():
            continue
        fitted = model.models_[j] if isinstance(model, OneVsRestLabelModel) else None
        if fitted is not None:
            stats = label_model_stats(fitted, Lj, random_state=random_state)
            if stats["est_accuracy"].isna().all():  # a base model without source accuracies: read the posterior
                stats["est_accuracy"] = expected[:, j]
                stats["weight_share"] = weight_share(expected[:, j], Lj.votes_per_source(), 2)
        else:
            stats = pd.DataFrame({"est_accuracy": expected[:, j], "decides": np.nan,
                                  "weight_share": weight_share(expected[:, j], Lj.votes_per_source(), 2)})
        frames.append(pd.DataFrame({"source": list(L.source_names), "label": label,
                                    **{c: stats[c].to_numpy(dtype=np.float64)
                                       for c in ("est_accuracy", "decides", "weight_share")}})[voted])
    if not frames:
        return pd.DataFrame(columns=["source", "label", "est_accuracy", "decides", "weight_share"])
    return pd.concat(frames, ignore_index=True)


def _expected_accuracy(L: MultiLabelMatrix, proba: np.ndarray) -> np.ndarray:
    """``(n_sources, n_labels)``: the mean over a source's votes on a label of the model's P(the vote is right)."""
    items, sources, labels, votes = L.coo()
    p = proba[items, labels]
    right = np.where(votes == 1, p, 1.0 - p)
    keys = sources.astype(np.int64) * L.n_labels + labels
    size = L.n_sources * L.n_labels
    count = np.bincount(keys, minlength=size)
    total = np.bincount(keys, weights=right, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out.reshape(L.n_sources, L.n_labels)


def label_source_table(stats: pd.DataFrame, model_stats: pd.DataFrame | None) -> pd.DataFrame:
    """The two tables joined on (source, label), columns in :data:`LABEL_SOURCE_COLUMNS` order.

    Examples
    --------
    >>> stats = pd.DataFrame({"source": ["s"], "label": ["a"], "coverage": [0.5]})
    >>> model = pd.DataFrame({"source": ["s"], "label": ["a"], "est_accuracy": [0.8]})
    >>> label_source_table(stats, model)[["source", "coverage", "est_accuracy"]].values.tolist()
    [['s', 0.5, 0.8]]
    """
    table = stats if model_stats is None or model_stats.empty else stats.merge(
        model_stats, on=["source", "label"], how="left")
    return table.reindex(columns=[c for c in LABEL_SOURCE_COLUMNS if c in table.columns or c in
                                  ("source", "label")])


def label_source_alerts(current: pd.DataFrame, previous: pd.DataFrame | None, *,
                        thresholds: AlertThresholds | None = None,
                        sources: Sequence[str] | None = None) -> list[Alert]:
    """The alert rules of :func:`~weaklab.pipeline.detect_alerts` on each label, each alert naming its label.

    Parameters
    ----------
    current : pandas.DataFrame
        One row per (source, label) (columns ``source``, ``label`` and the
        statistics :func:`~weaklab.pipeline.detect_alerts` reads).
    previous : pandas.DataFrame, optional
        The same table of the previous run: drift (coverage, accuracy,
        conflicts) is measured per (source, label) against it; a source of
        ``current`` that no longer votes on a label it voted on has coverage 0
        there.
    thresholds : AlertThresholds, optional
    sources : sequence of str, optional
        The run's sources (default: those in ``current``); one of them
        without a row for a label it voted on in ``previous`` has coverage 0
        there (a removed source is not a drift).

    Returns
    -------
    list of Alert
        By label (in ``current``'s order), then source and kind; chance is
        50 % (whether one label applies is a yes/no question).

    Examples
    --------
    >>> now = pd.DataFrame({"source": ["s", "s"], "label": ["a", "b"], "coverage": [0.1, 0.3],
    ...                     "est_accuracy": [0.9, 0.2], "n_votes": [10, 30]})
    >>> [(a.kind, a.message[:25]) for a in label_source_alerts(now, None)]
    [('below_chance', "s on label 'b': estimated")]
    """
    out: list[Alert] = []
    current = _with_silenced(current, previous, set(current["source"]) if sources is None else set(sources))
    for label in pd.unique(current["label"]):
        now = current[current["label"] == label].drop(columns="label").set_index("source")
        before = None
        if previous is not None and not previous.empty:
            earlier = previous[previous["label"] == label].drop(columns="label").set_index("source")
            before = earlier if len(earlier) else None
        for alert in detect_alerts(now.astype(np.float64), None if before is None else before.astype(np.float64),
                                   n_classes=2, thresholds=thresholds):
            out.append(Alert(alert.kind, alert.source, alert.severity, _on_label(alert, str(label)), alert.value))
    return out


def _with_silenced(current: pd.DataFrame, previous: pd.DataFrame | None, sources: set[str]) -> pd.DataFrame:
    """``current`` with a row of coverage 0 (no votes) for each (source, label) of ``previous`` that stopped voting."""
    if previous is None or previous.empty:
        return current
    now = set(zip(current["source"], current["label"]))
    gone = [(s, lab) for s, lab in zip(previous["source"], previous["label"]) if (s, lab) not in now and s in sources]
    if not gone:
        return current
    silent = pd.DataFrame({"source": [s for s, _ in gone], "label": [lab for _, lab in gone], "coverage": 0.0,
                           "n_votes": 0.0})
    return pd.concat([current, silent], ignore_index=True)


def _on_label(alert: Alert, label: str) -> str:
    """The alert's message with its label named after the source (or first, for a run-wide alert)."""
    if alert.source is not None and alert.message.startswith(alert.source):
        return f"{alert.source} on label {label!r}{alert.message[len(alert.source):]}"
    return f"label {label!r}: {alert.message}"


def previous_label_source_stats(store: Store, dataset_id: int, run_id: int,
                                sources: Sequence[str]) -> pd.DataFrame | None:
    """The per-(source, label) table of the newest finished run of the dataset before ``run_id`` (None if none)."""
    runs = store.runs()
    earlier = runs[(runs["dataset_id"] == dataset_id) & (runs["run_id"] < run_id) & (runs["status"] == "finished")]
    for _, row in earlier.sort_values("run_id", ascending=False).iterrows():
        metrics = row["metrics"] if isinstance(row["metrics"], dict) else {}
        rows = metrics.get("label_sources")
        if rows:
            frame = pd.DataFrame(rows)
            frame = frame[frame["source"].isin(list(sources))]
            return frame if len(frame) else None
    return None
