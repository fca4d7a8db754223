"""Loaders for crowdsourced answers: long format, Zheng et al. (2017), Dawid & Skene (1979).

A crowd worker is a source like any other: one row of long-format answers
``(item, worker, label)`` becomes one vote in a :class:`LabelMatrix`, stored
sparse when most workers did not see most items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core.label_matrix import LabelMatrix
from .._core.validation import check_choice, describe, fail
from ._io import (
    PathLike,
    existing_dir,
    existing_file,
    file_in,
    read_table,
    require_columns,
    require_min_columns,
)
from .dataset import WeakLabelDataset

__all__ = ["load_crowd", "load_zheng", "load_zheng_numeric", "load_dawid_skene_1979"]

_DUPLICATES = ("error", "first", "last", "split")


def load_crowd(
    data: pd.DataFrame | PathLike,
    *,
    item: str = "item",
    worker: str = "worker",
    label: str = "label",
    n_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    item_ids: Any = None,
    sparse: bool | None = None,
    duplicates: str = "error",
    read_kwargs: Mapping[str, Any] | None = None,
) -> LabelMatrix:
    """Build a label matrix from crowd answers in long format.

    Parameters
    ----------
    data : pandas.DataFrame or str or os.PathLike
        One row per answer, or a CSV/TSV/Parquet file of them (read with
        :func:`read_table`).
    item, worker, label : str, default="item", "worker", "label"
        Names of the item-id, worker-id and answer columns. Answers are class
        ids ``0..k-1`` (``-1`` = no answer, dropped), or class names when
        ``class_names`` is given.
    n_classes : int, optional
        Number of classes; by default ``len(class_names)`` or the largest
        answer + 1.
    class_names : sequence of str, optional
        Names of the classes; answers given as names are mapped to positions.
    item_ids : array-like, optional
        All items in row order (items nobody answered are allowed); by
        default the sorted distinct items of ``data``.
    sparse : bool, optional
        Storage form; by default sparse when under a quarter of the cells hold
        an answer (typical for crowds).
    duplicates : {"error", "first", "last", "split"}, default="error"
        What to do when a worker answered an item more than once; ``"split"``
        makes the repeats extra sources ``"<worker>#2"``, ``"<worker>#3"``, ...
    read_kwargs : mapping, optional
        Options for reading a file (e.g. ``{"sep": ";"}``).

    Returns
    -------
    LabelMatrix of shape (n_items, n_workers)
        Sources are the worker ids as strings, in sorted order.

    Raises
    ------
    ValidationError
        When the file is missing or unreadable, a column is missing, or an
        answer is not a valid class.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab.data import load_crowd
    >>> answers = pd.DataFrame({"tweet": [1, 1, 2, 2, 3], "annotator": ["ann", "bo", "ann", "cy", "bo"],
    ...                         "answer": ["pos", "pos", "neg", "pos", "neg"]})
    >>> L = load_crowd(answers, item="tweet", worker="annotator", label="answer", class_names=["neg", "pos"])
    >>> L.shape, L.source_names, L.to_dense().tolist()
    ((3, 3), ('ann', 'bo', 'cy'), [[1, 1, -1], [0, -1, 1], [-1, 0, -1]])
    """
    frame, where = _as_frame(data, read_kwargs)
    require_columns(frame, [item, worker, label], where)
    check_choice("duplicates", duplicates, _DUPLICATES)
    return LabelMatrix.from_long(
        frame, item=item, source=worker, label=label, n_classes=n_classes, class_names=class_names,
        item_ids=item_ids, sparse=sparse, duplicates=duplicates,
    )


def load_zheng(
    path: PathLike,
    *,
    answers: str = "answer.csv",
    truth: str | None = "truth.csv",
    duplicates: str = "split",
    sparse: bool | None = None,
) -> WeakLabelDataset:
    """Load a categorical data set of Zheng et al. (2017), *Truth Inference in Crowdsourcing*.

    The folder holds ``answer.csv`` (item, worker, answer; one row per
    answer) and ``truth.csv`` (item, truth). Columns are taken by position,
    since the published files name them differently (``question``/``id``,
    ``truth``/``q``). Answers are 0-based class ids.

    Parameters
    ----------
    path : str or os.PathLike
        The data set's folder (e.g. ``crowd_zheng2017/d_jn-product``).
    answers : str, default="answer.csv"
        File name of the answers inside the folder (``"quali.csv"`` loads
        the qualification test of ``d_sentiment``).
    truth : str or None, default="truth.csv"
        File name of the gold answers; None for none.
    duplicates : {"split", "error", "first", "last"}, default="split"
        Repeated answers of one worker on one item (``s4_Relevance`` has
        1,570 such rows): by default each repeat becomes an extra source
        ``"<worker>#2"``, so every published answer is kept as a vote.
    sparse : bool, optional
        Storage form of the matrix (default: sparse when under a quarter of
        the cells hold an answer).

    Returns
    -------
    WeakLabelDataset
        ``L`` has one row per item (the sorted union of answered and gold
        items) and one source per worker; ``gold`` is aligned to its rows,
        ``-1`` where the item has no gold answer; ``items`` has column ``id``.

    Raises
    ------
    ValidationError
        When a file is missing or has too few columns, or the answers are
        not 0-based class ids (e.g. the numeric ``f201_Emotion_FULL``, for
        which use :func:`load_zheng_numeric`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.data import load_zheng
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "answer.csv").write_text("question,worker,answer\\n1,w1,0\\n1,w2,1\\n2,w1,1\\n2,w2,1\\n")
    >>> _ = (folder / "truth.csv").write_text("question,truth\\n1,0\\n2,1\\n")
    >>> data = load_zheng(folder)
    >>> data.L.shape, data.L.source_names, data.gold.tolist()
    ((2, 2), ('w1', 'w2'), [0, 1])
    """
    folder = existing_dir(path)
    check_choice("duplicates", duplicates, _DUPLICATES)
    votes = _zheng_answers(folder / answers)
    gold_series = _zheng_truth(folder / truth) if truth is not None else pd.Series(dtype=np.int64)
    _check_classification(votes["label"], folder / answers)
    _check_classification(gold_series, folder / str(truth))
    k = max(2, int(max(votes["label"].max(), gold_series.max() if len(gold_series) else 0)) + 1)
    ids = _sorted_union(votes["item"], pd.Series(gold_series.index))
    L = LabelMatrix.from_long(votes, item="item", source="worker", label="label", n_classes=k,
                              item_ids=ids, sparse=sparse, duplicates=duplicates)
    gold = gold_series.reindex(ids).fillna(-1).to_numpy(np.int64)
    items = pd.DataFrame({"id": ids})
    return WeakLabelDataset(name=folder.resolve().name, split=None, items=items, L=L, gold=gold)


def load_zheng_numeric(
    path: PathLike, *, answers: str = "answer.csv", truth: str | None = "truth.csv"
) -> pd.DataFrame:
    """Load a numeric-answer data set of Zheng et al. (2017) as a long table.

    For sets such as ``f201_Emotion_FULL`` whose answers are numbers (there
    in -100..100), not classes, so that a label matrix does not apply.

    Parameters
    ----------
    path : str or os.PathLike
        The data set's folder.
    answers, truth : str
        File names as in :func:`load_zheng`.

    Returns
    -------
    pandas.DataFrame
        Columns ``item``, ``worker``, ``answer`` (float) and ``truth`` (float,
        NaN where the item has no gold value), one row per answer.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.data import load_zheng_numeric
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "answer.csv").write_text("question,worker,answer\\n1,w1,-20\\n1,w2,-35\\n2,w1,60\\n")
    >>> _ = (folder / "truth.csv").write_text("question,truth\\n1,-30\\n")
    >>> load_zheng_numeric(folder)
       item worker  answer  truth
    0     1     w1   -20.0  -30.0
    1     1     w2   -35.0  -30.0
    2     2     w1    60.0    NaN
    """
    folder = existing_dir(path)
    votes = _zheng_answers(folder / answers).rename(columns={"label": "answer"})
    votes["answer"] = _numeric(votes["answer"], folder / answers)
    if truth is None:
        return votes.assign(truth=np.nan)
    gold = _numeric(_zheng_truth(folder / truth), folder / truth)
    votes["truth"] = gold.reindex(votes["item"]).to_numpy(np.float64)
    return votes


def load_dawid_skene_1979(path: PathLike) -> WeakLabelDataset:
    """Load the anaesthetists' ratings of Dawid & Skene (1979).

    ``data.csv`` is semicolon-separated with columns ``patient``,
    ``observer``, ``response``: 45 patients rated by 5 observers on classes
    1-4, observer 1 three times per patient. The repeats become separate
    sources, so the matrix has 7: ``"1"``, ``"1#2"``, ``"1#3"``, ``"2"``..``"5"``.

    Parameters
    ----------
    path : str or os.PathLike
        ``data.csv`` or the folder holding it.

    Returns
    -------
    WeakLabelDataset
        ``L`` dense ``(45, 7)`` with classes 1..4 mapped to ids 0..3 and
        ``class_names`` ``("1", "2", "3", "4")``; item ids are the patient
        numbers; ``gold`` is all ``-1`` (the data set has no gold truth).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.data import load_dawid_skene_1979
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "data.csv"
    >>> observers = (1, 1, 1, 2, 3, 4, 5)  # observer 1 rated every patient three times
    >>> rows = ["patient;observer;response"] + [f"{p};{o};{(p + o) % 4 + 1}" for p in (1, 2) for o in observers]
    >>> _ = path.write_text("\\n".join(rows) + "\\n")
    >>> data = load_dawid_skene_1979(path)
    >>> data.L.shape, data.L.source_names
    ((2, 7), ('1', '1#2', '1#3', '2', '3', '4', '5'))
    """
    file = file_in(path, "data.csv")
    frame = read_table(file, sep=";")
    require_columns(frame, ["patient", "observer", "response"], str(file))
    response = pd.to_numeric(frame["response"], errors="coerce")
    if response.isna().any() or not response.isin([1, 2, 3, 4]).all():
        bad = frame["response"][response.isna() | ~response.isin([1, 2, 3, 4])].iloc[0]
        raise fail(f"{file}['response']", "classes 1, 2, 3 or 4", bad)
    frame = frame.assign(label=response.astype(np.int64) - 1)
    L = LabelMatrix.from_long(frame, item="patient", source="observer", label="label", n_classes=4,
                              class_names=("1", "2", "3", "4"), sparse=False, duplicates="split")
    items = pd.DataFrame({"id": L.item_ids})
    return WeakLabelDataset(name="dawid_skene_1979", split=None, items=items, L=L,
                            gold=np.full(L.n_items, -1, dtype=np.int64))


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _as_frame(data: Any, read_kwargs: Mapping[str, Any] | None) -> tuple[pd.DataFrame, str]:
    if isinstance(data, pd.DataFrame):
        return data, "data"
    if isinstance(data, (str, Path)) or hasattr(data, "__fspath__"):
        file = existing_file(data, "data")
        return read_table(file, **dict(read_kwargs or {})), str(file)
    raise fail("data", "a pandas DataFrame or the path of a CSV/Parquet file", data)


def _zheng_answers(file: Path) -> pd.DataFrame:
    frame = read_table(existing_file(file, "answers"))
    require_min_columns(frame, 3, str(file), "item, worker, answer")
    frame = frame.iloc[:, :3].copy()
    frame.columns = ["item", "worker", "label"]
    if frame.empty:
        raise fail(str(file), "at least one answer", got_text="no rows")
    return frame


def _zheng_truth(file: Path) -> pd.Series:
    frame = read_table(existing_file(file, "truth"))
    require_min_columns(frame, 2, str(file), "item, truth")
    item, value = frame.columns[0], frame.columns[1]
    if frame[item].duplicated().any():
        dupe = frame[item][frame[item].duplicated()].iloc[0]
        raise fail(f"{file}[{item!r}]", "one gold answer per item", got_text=f"item {dupe!r} repeated")
    return pd.Series(frame[value].to_numpy(), index=pd.Index(frame[item].to_numpy()), name="truth")


def _check_classification(values: pd.Series, file: Path) -> None:
    if values.empty:
        return
    numbers = pd.to_numeric(values, errors="coerce")
    ok = numbers.notna().all() and bool(((numbers >= 0) & (numbers == np.round(numbers))).all())
    if not ok:
        shown = (f"answers in [{numbers.min():g}, {numbers.max():g}]" if numbers.notna().all()
                 else f"non-numeric answers such as {values[numbers.isna()].iloc[0]!r}")
        raise fail(str(file), "0-based integer class ids (a classification set; "
                   "load numeric answers with load_zheng_numeric)", got_text=shown)


def _numeric(values: pd.Series, file: Path) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any():
        raise fail(str(file), "numeric answers", got_text=describe(values[numbers.isna()].iloc[0]))
    return numbers.astype(np.float64)


def _sorted_union(a: pd.Series, b: pd.Series) -> np.ndarray:
    uniques = np.asarray(pd.unique(pd.concat([a, b], ignore_index=True)))
    try:
        return np.sort(uniques)
    except TypeError:
        return np.asarray(uniques)
