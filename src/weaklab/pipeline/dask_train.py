"""The ``train`` step of a run on the Dask engine: an end model trained out of core on the partitioned soft labels.

``[end_model] name = "tfidf_logreg"`` (the default) trains its out-of-core
counterpart, :class:`~weaklab.endmodel.PartitionedTextClassifier` (hashed
word n-grams with TF-IDF weights, logistic loss by SGD; per epoch one
``partial_fit`` task per partition in parallel, then their average), on the items with a vote outside the dev
split's gold rows (each task computes its partition's weights from its votes
and data partitions). Its probabilities are written per partition beside the
soft labels, and the dev metrics (accuracy, macro F1, ECE on the dev split's
gold rows) are reduced from per-partition counts. ``"cnn"`` (a network over
pictures) is not trained on the Dask engine; ``"none"`` trains nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.dask_ops import import_dask, tree_reduce
from .._core.partitioned import PartitionedLabelMatrix, PartitionedSoftLabels
from ..endmodel import PartitionedTextClassifier
from ..errors import ValidationError
from .config import ProjectConfig
from .loading import dev_mask, gold_labels

__all__ = ["DASK_END_MODEL", "ECE_BINS", "column_parts", "train_partitioned"]

#: The name a Dask run records for its end model.
DASK_END_MODEL = "partitioned_tfidf_sgd"
#: Equal-width confidence bins of the dev ECE.
ECE_BINS = 10


def train_partitioned(config: ProjectConfig, plm: PartitionedLabelMatrix, soft: PartitionedSoftLabels, frame: Any,
                      output: str, *, random_state: int = 0) -> tuple[PartitionedSoftLabels, dict[str, Any],
                                                                      dict[str, Any]]:
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

    Returns
    -------
    proba : PartitionedSoftLabels
        The end model's probabilities of every item.
    params : dict
        The parameters used.
    metrics : dict
        ``n_train`` and, with dev gold, ``n_dev``, ``accuracy``, ``macro_f1``, ``ece``.

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
    weights = [dask.delayed(_train_weights)(plm, i, data[i], config, n_classes) for i in range(plm.n_partitions)]
    model = PartitionedTextClassifier(**used, random_state=random_state).fit(texts, soft, sample_weight=weights)
    proba = model.predict_partitions(texts, soft, output)
    counts = [dask.delayed(_dev_counts)(proba, i, data[i], config, n_classes) for i in range(proba.n_partitions)]
    (reduced,) = dask.compute(tree_reduce(counts, _add))
    return proba, {**used, "n_features": model.n_features, "schedule": model.schedule}, {"n_train": int(model.n_train_), **_metrics(*reduced)}


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
                   n_classes: int | None) -> np.ndarray:
    """1 for the items of partition ``i`` with a vote outside the dev gold, else 0 (on a worker)."""
    covered = plm.read_partition(i).votes_per_item() > 0
    return (covered & ~_dev(config, data, n_classes, len(covered))[1]).astype(np.float64)


def _dev_counts(proba: PartitionedSoftLabels, i: int, data: Any, config: ProjectConfig,
                n_classes: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Confusion counts ``(k, k)`` and per-bin ``(count, confidence sum, correct)`` ``(3, ECE_BINS)`` of the
    dev gold rows of partition ``i`` (on a worker)."""
    p = proba.read_partition(i).proba
    gold, dev = _dev(config, data, n_classes, p.shape[0])
    k = p.shape[1]
    y, q = gold[dev & (gold < k)], p[dev & (gold < k)]
    pred, conf = np.argmax(q, axis=1), q.max(axis=1)
    confusion = np.bincount(y * k + pred, minlength=k * k).reshape(k, k).astype(np.float64)
    bins = np.minimum((conf * ECE_BINS).astype(np.int64), ECE_BINS - 1)
    binned = np.stack([np.bincount(bins, minlength=ECE_BINS), np.bincount(bins, weights=conf, minlength=ECE_BINS),
                       np.bincount(bins, weights=(pred == y), minlength=ECE_BINS)]).astype(np.float64)
    return confusion, binned


def _add(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return a[0] + b[0], a[1] + b[1]


def _metrics(confusion: np.ndarray, binned: np.ndarray) -> dict[str, Any]:
    """Dev accuracy, macro F1 (over classes with gold or predictions) and ECE from the reduced counts."""
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
