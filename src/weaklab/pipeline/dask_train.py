"""The ``train`` step of a run on the Dask engine: an end model trained out of core on the partitioned soft labels.

``[end_model] name = "tfidf_logreg"`` (the default) trains its out-of-core
counterpart, :class:`~weaklab.endmodel.PartitionedTextClassifier` (hashed
word n-grams with TF-IDF weights, logistic loss by SGD; per epoch one
``partial_fit`` task per partition in parallel, then their average), on the items with a vote outside the dev
split's gold rows (each task computes its partition's weights from its votes
and data partitions). Its probabilities are written per partition beside the
soft labels, and the dev metrics (accuracy, macro F1, ECE on the dev split's
gold rows) are reduced from per-partition counts; calibration is measured as
on the local engine on a bounded, seeded sample of the dev rows (the dev rows
are never trained on), gathered in the same tree. ``"cnn"`` (a network over
pictures) is not trained on the Dask engine; ``"none"`` trains nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core.dask_ops import import_dask, keep_on_workers, tree_reduce
from .._core.dataset_io import write_frame
from .._core.partitioned import PartitionedLabelMatrix, PartitionedSoftLabels, proba_columns
from .._core.soft_labels import with_known_classes
from ..endmodel import GroupedCalibration, PartitionedTextClassifier
from ..errors import ValidationError
from .calibrated import AppliedCalibration, fit_end_calibrator
from .config import ProjectConfig
from .loading import dev_mask, gold_labels
from .training import calibration

__all__ = ["DASK_END_MODEL", "ECE_BINS", "MAX_CALIBRATION_SAMPLE", "PartitionedTraining", "column_parts",
           "confidence_bins", "dev_metrics_from_counts", "train_partitioned"]

#: The name a Dask run records for its end model.
DASK_END_MODEL = "partitioned_tfidf_sgd"
#: Equal-width confidence bins of the dev ECE.
ECE_BINS = 10
#: Dev rows (a seeded uniform sample of them) gathered on the client to fit and measure calibration.
MAX_CALIBRATION_SAMPLE = 20_000


@dataclass(frozen=True)
class PartitionedTraining:
    """What :func:`train_partitioned` gives back.

    Attributes
    ----------
    proba : PartitionedSoftLabels
        The end model's probabilities of every item, through the calibrator
        fitted on the gathered dev rows (the raw ones when too few dev rows
        have gold).
    raw : PartitionedSoftLabels
        The end model's own probabilities (what the query step ranks).
    params : dict
        The parameters used.
    metrics : dict
        ``n_train`` and, with dev gold, ``n_dev``, ``accuracy``, ``macro_f1``, ``ece``.
    calibration : dict
        The calibration measured on the dev sample, with ``applied`` (the
        applied calibrator's lineage).
    state : dict
        The fitted :meth:`~weaklab.endmodel.PartitionedTextClassifier.to_state`
        (``weaklab predict`` rebuilds the model from it).
    calibrator : dict or None
        The applied calibrator's :meth:`~weaklab.endmodel.GroupedCalibration.to_state`
        (None when none was fitted).

    Examples
    --------
    >>> PartitionedTraining.__dataclass_fields__.keys()  # doctest: +ELLIPSIS
    dict_keys(['proba', 'raw', 'params', 'metrics', 'calibration', 'state', 'calibrator'])
    """

    proba: PartitionedSoftLabels
    raw: PartitionedSoftLabels
    params: dict[str, Any]
    metrics: dict[str, Any]
    calibration: dict[str, Any]
    state: dict[str, Any]
    calibrator: dict[str, Any] | None


def train_partitioned(config: ProjectConfig, plm: PartitionedLabelMatrix, soft: PartitionedSoftLabels, frame: Any,
                      output: str, *, random_state: int = 0, known: np.ndarray | None = None) -> PartitionedTraining:
    """Train the project's end model on the Dask engine and write its probabilities to ``output``.

    Parameters
    ----------
    config : ProjectConfig
    plm : PartitionedLabelMatrix
        The run's votes (items without a vote are not trained on).
    soft : PartitionedSoftLabels
        The label model's soft labels of ``plm``.
    frame : dask.dataframe.DataFrame
        The run's data, in the partitions of ``plm``.
    output : str
        Folder or URL of the end model's probabilities.
    random_state : int, default=0
    known : ndarray of shape (n_items,), optional
        Class ids a person gave (human answers, the file gold the fit got), -1 elsewhere, in the partitions' order:
        those items outside dev train on their class (one-hot targets written to ``output + "-targets"``), also
        without a vote, as on the local engine (:func:`~weaklab.pipeline.training.with_known_labels`);
        ``metrics["n_known_in_training"]`` counts them.

    Returns
    -------
    PartitionedTraining
        ``proba``: the end model's probabilities of every item, through the
        calibrator fitted on the gathered dev rows (as on the local engine,
        :func:`~weaklab.pipeline.calibrated.fit_end_calibrator`; written to
        ``output + "-calibrated"``), or the raw ones (``raw``, at ``output``)
        when fewer than 20 dev rows have gold; ``params``; ``metrics``;
        ``state`` (the fitted model's); and ``calibration``, as
        :func:`~weaklab.pipeline.training.calibration` on the local engine
        (reliability bins, ``ece_before`` / ``ece_after`` of a calibrator
        fitted on half the dev rows and measured on the other half, or a
        ``note`` when there are too few), computed on a seeded uniform sample of
        at most ``MAX_CALIBRATION_SAMPLE`` dev rows gathered from the
        partitions, plus ``n_sample``, ``n_dev`` and ``applied`` (the
        applied calibrator's lineage, with ``raw_root`` and ``calibrated_root``).

    Raises
    ------
    ValidationError
        No text column to read, or a parameter the end model does not take.
    """
    dask = import_dask()
    text = config.get("data", "text_field")
    if text is None or text not in frame.columns:
        raise ValidationError(f"{config.file}: data.text_field: expected the text column the end model reads, got "
                              f"{text!r} (columns: {list(map(str, frame.columns))})")
    params = dict(config.get("end_model", "params", {}))
    unknown = set(params) - {"C", "max_iter", "ngram_max", "min_df"}
    if unknown:
        raise ValidationError(f"{config.file}: end_model.params: expected keys among C, max_iter, ngram_max, min_df "
                              f"on the dask engine, got {sorted(unknown)}")
    used: dict[str, Any] = {"C": float(params.get("C", 4.0)), "ngram_max": int(params.get("ngram_max", 2)),
                            "min_df": params.get("min_df", 1)}  # max_iter: LogisticRegression's, unused by SGD
    n_classes = None if config.class_names is None else len(config.class_names)
    columns = [c for c in (config.get("data", "gold_column"), config.get("data", "split_column")) if c]
    data = column_parts(frame, columns) if columns else [None] * plm.n_partitions
    texts = column_parts(frame, text)
    parts = _known_parts(known, plm)
    weights = keep_on_workers([dask.delayed(_train_weights)(plm, i, data[i], config, n_classes, parts[i])
                               for i in range(plm.n_partitions)])  # once, for the targets and the fit
    targets, n_known = _known_targets(soft, parts, weights, output)
    model = PartitionedTextClassifier(**used, random_state=random_state).fit(texts, targets, sample_weight=weights)
    proba = model.predict_partitions(texts, soft, output)
    tasks = [dask.delayed(_dev_summary)(proba, plm, i, data[i], config, n_classes, random_state)
             for i in range(proba.n_partitions)]
    (reduced,) = dask.compute(tree_reduce(tasks, _merge_summaries))
    params_used = {**used, "n_features": model.n_features, "schedule": model.schedule}
    metrics = {"n_train": int(model.n_train_), **dev_metrics_from_counts(reduced.confusion, reduced.binned),
               "n_known_in_training": n_known}
    calibrated, applied = _applied(proba, plm, reduced, output, random_state)
    return PartitionedTraining(calibrated, proba, params_used, metrics,
                               {**_calibration(reduced, metrics, random_state), "applied": applied.lineage},
                               model.to_state(), applied.state)


def column_parts(frame: Any, columns: Any) -> list[Any]:
    """One delayed pandas object per partition of ``frame``: ``frame[columns]`` of that partition.

    Selecting the columns of the whole collection first would let Dask fuse
    partitions of a Parquet file; selecting them per partition keeps the
    partitions the votes were written in.

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> frame = dd.from_pandas(pd.DataFrame({"text": list("abcd"), "x": range(4)}), npartitions=2)
    >>> [part.tolist() for part in dask.compute(*column_parts(frame, "text"))]
    [['a', 'b'], ['c', 'd']]
    """
    return [frame.partitions[i][columns].to_delayed()[0] for i in range(frame.npartitions)]


def _dev(config: ProjectConfig, data: Any, n_classes: int | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gold ids and the held-out mask of a data partition (none without a gold column)."""
    if data is None:
        return np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=bool)
    if len(data) != n:
        raise ValidationError(f"data: expected {n} rows in the partition (as the votes), got {len(data)}")
    gold = gold_labels(config, data, n_classes)
    return gold, dev_mask(config, data, gold)


def _train_weights(plm: PartitionedLabelMatrix, i: int, data: Any, config: ProjectConfig,
                   n_classes: int | None, known: np.ndarray | None = None) -> np.ndarray:
    """1 for the items of partition ``i`` with a vote or a known class outside the dev gold, else 0 (on a worker)."""
    covered = plm.read_partition(i).votes_per_item() > 0
    if known is not None:
        covered = covered | (known >= 0)
    return (covered & ~_dev(config, data, n_classes, len(covered))[1]).astype(np.float64)


def _known_parts(known: np.ndarray | None, plm: PartitionedLabelMatrix) -> list[np.ndarray | None]:
    """``known`` cut into the partitions of ``plm`` (all None when no item has a known class)."""
    if known is None or not (np.asarray(known) >= 0).any():
        return [None] * plm.n_partitions
    known = np.asarray(known, dtype=np.int64)
    if known.shape != (plm.n_items,):
        raise ValidationError(f"known: expected {plm.n_items} class ids (one per item), got shape {known.shape}")
    bounds = np.cumsum([0, *plm.partition_rows])
    return [known[bounds[i]:bounds[i + 1]] for i in range(plm.n_partitions)]


def _known_targets(soft: PartitionedSoftLabels, parts: list[np.ndarray | None], weights: list[Any],
                   output: str) -> tuple[PartitionedSoftLabels, int]:
    """The training targets (``soft`` with each known item one-hot, written beside ``output``) and how many known
    items train (outside dev); ``soft`` itself and 0 without known items."""
    if all(part is None for part in parts):
        return soft, 0
    dask = import_dask()
    root = output + "-targets"
    tasks = [dask.delayed(_write_targets)(soft, i, parts[i], weights[i], root) for i in range(soft.n_partitions)]
    written = dask.compute(*tasks)
    targets = PartitionedSoftLabels(root, soft.n_classes, tuple(f for f, _ in written), soft.partition_rows,
                                    soft.class_names, soft.producer, soft.votes_root, soft.storage_options)
    targets.save_metadata()
    return targets, int(sum(n for _, n in written))


def _write_targets(soft: PartitionedSoftLabels, i: int, known: np.ndarray | None, weights: np.ndarray,
                   root: str) -> tuple[str, int]:
    """Partition ``i``'s targets (on a worker): its soft labels, known items one-hot; and how many of them train."""
    part = soft.read_partition(i)
    if known is None:
        proba, n_known = part.proba, 0
    else:
        proba, n_known = with_known_classes(part.proba, known), int((weights[known >= 0] > 0).sum())
    name = PartitionedSoftLabels.write_partition(root, i, proba, part.item_ids, storage_options=soft.storage_options)
    return name, n_known


@dataclass(frozen=True)
class _DevSummary:
    """Dev counts of some partitions, and a bounded random sample of their dev rows (for calibration).

    ``confusion`` ``(k, k)`` and ``binned`` ``(3, ECE_BINS)`` (count, confidence sum,
    correct per confidence bin) are sums; the sample keeps the rows of the
    ``MAX_CALIBRATION_SAMPLE`` smallest seeded random ``keys``, so merging in any
    grouping gives the same uniform sample.
    """

    confusion: np.ndarray
    binned: np.ndarray
    keys: np.ndarray
    proba: np.ndarray
    gold: np.ndarray
    covered: np.ndarray


def _dev_summary(proba: PartitionedSoftLabels, plm: PartitionedLabelMatrix, i: int, data: Any,
                 config: ProjectConfig, n_classes: int | None, random_state: int) -> _DevSummary:
    """The dev counts and sample of partition ``i`` (on a worker)."""
    p = proba.read_partition(i).proba
    gold, dev = _dev(config, data, n_classes, p.shape[0])
    k = p.shape[1]
    rows = np.flatnonzero(dev & (gold < k))
    y, q = gold[rows], p[rows]
    pred, conf = np.argmax(q, axis=1), q.max(axis=1)
    confusion = np.bincount(y * k + pred, minlength=k * k).reshape(k, k).astype(np.float64)
    bins = confidence_bins(conf)
    binned = np.stack([np.bincount(bins, minlength=ECE_BINS), np.bincount(bins, weights=conf, minlength=ECE_BINS),
                       np.bincount(bins, weights=(pred == y), minlength=ECE_BINS)]).astype(np.float64)
    keys = np.asarray(np.random.default_rng([random_state, i]).random(size=(p.shape[0],)))[rows]
    covered = plm.read_partition(i).votes_per_item()[rows] > 0 if rows.size else np.zeros(0, dtype=bool)
    return _smallest(_DevSummary(confusion, binned, keys, q, y, covered))


def _smallest(summary: _DevSummary) -> _DevSummary:
    """The summary with its sample cut to the ``MAX_CALIBRATION_SAMPLE`` smallest keys (ties: first rows)."""
    keep = np.argsort(summary.keys, kind="stable")[:MAX_CALIBRATION_SAMPLE]
    return _DevSummary(summary.confusion, summary.binned, summary.keys[keep], summary.proba[keep],
                       summary.gold[keep], summary.covered[keep])


def _merge_summaries(a: _DevSummary, b: _DevSummary) -> _DevSummary:
    return _smallest(_DevSummary(a.confusion + b.confusion, a.binned + b.binned, np.concatenate([a.keys, b.keys]),
                                 np.concatenate([a.proba, b.proba]), np.concatenate([a.gold, b.gold]),
                                 np.concatenate([a.covered, b.covered])))


def _calibration(reduced: _DevSummary, metrics: dict[str, Any], random_state: int) -> dict[str, Any]:
    """Calibration measured as on the local engine, on the gathered sample of dev rows (``n_sample`` of
    ``n_dev``)."""
    out = calibration(reduced.proba, reduced.gold, random_state=random_state, covered=reduced.covered)
    return {**out, "n_sample": int(reduced.gold.size), "n_dev": int(metrics.get("n_dev", 0))}


def _applied(raw: PartitionedSoftLabels, plm: PartitionedLabelMatrix, reduced: _DevSummary, output: str,
             random_state: int) -> tuple[PartitionedSoftLabels, AppliedCalibration]:
    """The calibrator fitted on the gathered dev rows, applied partition by partition (written beside the raw
    probabilities, ``output + "-calibrated"``); the raw ones are returned when too few dev rows have gold. The
    calibration's ``proba`` are those of the gathered rows; its lineage names both folders."""
    applied = fit_end_calibrator(reduced.proba, reduced.gold, reduced.covered, random_state=random_state,
                                 split="dev (sample gathered from the partitions)")
    lineage = {**applied.lineage, "raw_root": raw.root}
    if applied.state is None:
        return raw, AppliedCalibration(applied.proba, None, lineage)
    dask = import_dask()
    root = f"{output}-calibrated"
    tasks = [dask.delayed(_calibrate_partition)(raw, plm, i, applied.state, root) for i in range(raw.n_partitions)]
    dask.compute(*tasks)
    out = PartitionedSoftLabels(root, raw.n_classes, raw.partitions, raw.partition_rows, raw.class_names,
                                "PartitionedTextClassifier+GroupedCalibration", raw.votes_root, raw.storage_options)
    out.save_metadata()
    return out, AppliedCalibration(applied.proba, applied.state, {**lineage, "calibrated_root": root})


def _calibrate_partition(raw: PartitionedSoftLabels, plm: PartitionedLabelMatrix, i: int,
                         calibrator: dict[str, Any], root: str) -> int:
    """Write partition ``i`` of ``raw`` through the calibrator (on a worker); its row count."""
    frame = raw.read_frame(i)
    columns = proba_columns(raw.n_classes)
    covered = plm.read_partition(i).votes_per_item() > 0
    proba = GroupedCalibration.from_state(calibrator).transform(frame[columns].to_numpy(), groups=covered)
    frame[columns] = proba
    write_frame(frame, root, raw.partitions[i], raw.storage_options)
    return len(frame)


def confidence_bins(conf: np.ndarray) -> np.ndarray:
    """The ``ECE_BINS`` equal-width bin of each confidence, right edges included (as
    :func:`~weaklab.evaluation.expected_calibration_error` bins them: 0.5 is in the bin of (0.4, 0.5]).

    Examples
    --------
    >>> confidence_bins(np.array([0.5, 0.55, 1.0])).tolist()
    [4, 5, 9]
    """
    edges = np.linspace(0.0, 1.0, ECE_BINS + 1)[1:-1]
    return np.clip(np.searchsorted(edges, conf, side="left"), 0, ECE_BINS - 1)


def dev_metrics_from_counts(confusion: np.ndarray, binned: np.ndarray) -> dict[str, Any]:
    """Dev accuracy, macro F1 (over classes with gold or predictions) and ECE from reduced counts.

    Parameters
    ----------
    confusion : ndarray of shape (k, k)
        Dev items by gold class (rows) and predicted class (columns).
    binned : ndarray of shape (3, ECE_BINS)
        Per equal-width confidence bin: items, summed confidence, correct items.

    Returns
    -------
    dict
        ``n_dev`` and, with dev items, ``accuracy``, ``macro_f1`` and ``ece``
        (as :func:`~weaklab.pipeline.training.dev_metrics` on the same items).

    Examples
    --------
    >>> import numpy as np
    >>> binned = np.zeros((3, ECE_BINS)); binned[:, 9] = [2, 1.9, 1]
    >>> dev_metrics_from_counts(np.array([[1, 0], [1, 0]]), binned)["accuracy"]
    0.5
    """
    n = float(confusion.sum())
    if n == 0:
        return {"n_dev": 0}
    tp = np.diag(confusion)
    support, predicted = confusion.sum(axis=1), confusion.sum(axis=0)
    present = (support + predicted) > 0
    f1 = np.where(present, 2 * tp / np.maximum(support + predicted, 1), 0.0)
    count, conf, correct = binned
    used = count > 0
    ece = float(np.sum(np.abs(correct[used] - conf[used])) / n)
    return {"n_dev": int(n), "accuracy": float(tp.sum() / n), "macro_f1": float(f1[present].mean()), "ece": ece}
