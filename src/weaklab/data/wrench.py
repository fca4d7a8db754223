"""Loader for the WRENCH benchmark's JSON folder layout.

A WRENCH folder holds ``train.json``, ``valid.json`` and ``test.json``, each a
JSON object ``{"<id>": {"label": int, "weak_labels": [int, ...], "data":
{...}}}`` with one vote per labeling function (``-1`` = abstain); ``label.json``
maps class ids to names; ``labeled_ids.json`` (optional) lists the train ids
WRENCH marks as a small gold set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from .._core.constants import ABSTAIN
from .._core.label_matrix import LabelMatrix
from .._core.validation import check_bool, check_choice, fail
from ._io import PathLike, existing_dir, read_json
from .dataset import WeakLabelDataset

__all__ = ["load_wrench", "WRENCH_SPLITS"]

WRENCH_SPLITS: tuple[str, ...] = ("train", "valid", "test")
_REQUIRED_FIELDS = ("label", "weak_labels")


@overload
def load_wrench(
    path: PathLike, split: Literal["train", "valid", "test"] = ..., *,
    drop_labeled: bool = ..., source_names: Sequence[str] | None = ...,
) -> WeakLabelDataset: ...


@overload
def load_wrench(
    path: PathLike, split: None, *,
    drop_labeled: bool = ..., source_names: Sequence[str] | None = ...,
) -> dict[str, WeakLabelDataset]: ...


def load_wrench(
    path: PathLike,
    split: str | None = "train",
    *,
    drop_labeled: bool = False,
    source_names: Sequence[str] | None = None,
) -> WeakLabelDataset | dict[str, WeakLabelDataset]:
    """Load one split (or all three) of a WRENCH-format folder.

    Parameters
    ----------
    path : str or os.PathLike
        The folder holding ``train.json``, ``valid.json``, ``test.json`` and
        ``label.json``.
    split : {"train", "valid", "test"} or None, default="train"
        The split to load; None loads all three into a dict keyed by split.
    drop_labeled : bool, default=False
        Drop the train items listed in ``labeled_ids.json``. In ``wrench_trec``
        these are 68 gold items appended to the 4,965 weakly labelled ones
        (ids 4965-5032); drop them to get WRENCH's 4,965-item train set. In
        ``wrench_sms`` they are the last 69 of the 4,571 train items. Without
        ``labeled_ids.json``, or on the valid/test splits, nothing is dropped.
    source_names : sequence of str, optional
        Names of the labeling functions, one per vote column. Default
        ``"lf0"``, ``"lf1"``, ...: the folders' ``readme.txt`` files are free
        text and not reliably in column order, so they are not parsed.

    Returns
    -------
    WeakLabelDataset or dict of str to WeakLabelDataset
        ``items`` has column ``id`` (the JSON keys; integers when every key
        is a decimal number), the fields of each entry's ``data`` object
        (e.g. ``text``) and ``is_labeled`` (True for the train items listed in
        ``labeled_ids.json``); ``L`` the votes with ``class_names`` from
        ``label.json``; ``gold`` the ``label`` field (``-1`` = unknown).

    Raises
    ------
    ValidationError
        When the folder or a file is missing, a file is not valid JSON, an
        entry lacks ``label`` or ``weak_labels``, the vote lists differ in
        length, or a vote or label is outside the classes of ``label.json``.

    Examples
    --------
    >>> ds = load_wrench("../shared/data/wrench_youtube", split="test")  # doctest: +SKIP
    >>> ds.L.shape, ds.class_names  # doctest: +SKIP
    ((250, 10), ('HAM', 'SPAM'))
    """
    folder = existing_dir(path)
    check_choice("split", split, (*WRENCH_SPLITS, None))
    drop_labeled = check_bool("drop_labeled", drop_labeled)
    class_names = _read_class_names(folder / "label.json")
    labeled = _read_labeled_ids(folder / "labeled_ids.json")
    splits = WRENCH_SPLITS if split is None else (split,)
    loaded = {
        s: _load_split(folder, s, class_names, labeled if s == "train" else frozenset(),
                       drop_labeled, source_names)
        for s in splits
    }
    return loaded if split is None else loaded[str(split)]


def _load_split(
    folder: Path,
    split: str,
    class_names: tuple[str, ...],
    labeled: frozenset[str],
    drop_labeled: bool,
    source_names: Sequence[str] | None,
) -> WeakLabelDataset:
    path = folder / f"{split}.json"
    if not path.is_file():
        raise fail("path", f"a WRENCH folder holding {split}.json", got_text=f"no {str(path)!r}")
    keys, gold, votes, data = _parse_entries(read_json(path), path, len(class_names))
    is_labeled = np.array([k in labeled for k in keys], dtype=bool)
    keep = ~is_labeled if drop_labeled else np.ones(len(keys), dtype=bool)
    ids = _item_ids(keys)[keep]
    items = _items_frame(ids, [d for d, k in zip(data, keep) if k], is_labeled[keep])
    names = source_names if source_names is not None else [f"lf{j}" for j in range(votes.shape[1])]
    L = LabelMatrix(votes[keep], n_classes=len(class_names), class_names=class_names,
                    source_names=names, item_ids=ids)
    return WeakLabelDataset(name=folder.resolve().name, split=split, items=items, L=L, gold=gold[keep])


def _read_class_names(path: Path) -> tuple[str, ...]:
    if not path.is_file():
        raise fail("path", "a WRENCH folder holding label.json", got_text=f"no {str(path)!r}")
    raw = read_json(path)
    if not isinstance(raw, Mapping) or not raw:
        raise fail(str(path), "a non-empty object mapping class id to name", raw)
    try:
        mapping = {int(k): str(v) for k, v in raw.items()}
    except ValueError:
        raise fail(str(path), "integer class ids as keys", got_text=str(list(raw)[:5])) from None
    k = len(mapping)
    if sorted(mapping) != list(range(k)) or k < 2:
        raise fail(str(path), "class ids 0..k-1 with k >= 2", got_text=str(sorted(mapping)))
    return tuple(mapping[c] for c in range(k))


def _read_labeled_ids(path: Path) -> frozenset[str]:
    if not path.is_file():
        return frozenset()
    raw = read_json(path)
    ids = raw.get("labeled_ids") if isinstance(raw, Mapping) else None
    if not isinstance(ids, list):
        raise fail(f"{path}['labeled_ids']", "a list of item ids", ids if isinstance(raw, Mapping) else raw)
    return frozenset(str(i) for i in ids)


def _parse_entries(
    raw: Any, path: Path, n_classes: int
) -> tuple[list[str], np.ndarray, np.ndarray, list[Any]]:
    if not isinstance(raw, Mapping) or not raw:
        raise fail(str(path), "a non-empty JSON object mapping item id to entry", raw)
    keys = list(raw)
    entries = list(raw.values())
    for key, entry in zip(keys, entries):
        if not isinstance(entry, Mapping) or any(f not in entry for f in _REQUIRED_FIELDS):
            shown = list(entry) if isinstance(entry, Mapping) else type(entry).__name__
            raise fail(f"{path}[{key!r}]", "an entry with fields 'label' and 'weak_labels'",
                       got_text=str(shown))
    votes = _vote_array([e["weak_labels"] for e in entries], keys, path, n_classes)
    gold = _gold_array([e["label"] for e in entries], keys, path, n_classes)
    data = [e.get("data", {}) for e in entries]
    return keys, gold, votes, data


def _vote_array(rows: list[Any], keys: list[str], path: Path, n_classes: int) -> np.ndarray:
    lengths = np.array([len(r) if isinstance(r, list) else -1 for r in rows])
    width = int(lengths[0])
    bad_rows = np.flatnonzero((lengths != width) | (lengths < 1))
    if bad_rows.size:
        bad = int(bad_rows[0])
        arrived = f"a list of length {lengths[bad]}" if lengths[bad] >= 0 else f"a {type(rows[bad]).__name__}"
        raise fail(f"{path}[{keys[bad]!r}]['weak_labels']",
                   f"a non-empty list of votes as long as the first entry's ({width})", got_text=arrived)
    try:
        votes = np.asarray(rows, dtype=np.int64)
    except (TypeError, ValueError):
        raise fail(f"{path}['weak_labels']", "integer votes", got_text="non-integer values") from None
    _check_range(votes, f"{path}['weak_labels']", keys, n_classes)
    return votes


def _gold_array(values: list[Any], keys: list[str], path: Path, n_classes: int) -> np.ndarray:
    try:
        gold = np.asarray([ABSTAIN if v is None else v for v in values], dtype=np.int64)
    except (TypeError, ValueError):
        raise fail(f"{path}['label']", "integer class ids", got_text="non-integer values") from None
    _check_range(gold, f"{path}['label']", keys, n_classes)
    return gold


def _check_range(arr: np.ndarray, where: str, keys: list[str], n_classes: int) -> None:
    bad = (arr < ABSTAIN) | (arr >= n_classes)
    if bad.any():
        pos = np.argwhere(bad)[0]
        raise fail(where, f"values in [-1, {n_classes}) (classes of label.json)",
                   got_text=f"{int(arr[tuple(pos)])} in entry {keys[int(pos[0])]!r}")


def _item_ids(keys: list[str]) -> np.ndarray:
    if all(k.isdecimal() for k in keys):
        return np.array([int(k) for k in keys], dtype=np.int64)
    return np.array(keys, dtype=object)


def _items_frame(ids: np.ndarray, data: list[Any], is_labeled: np.ndarray) -> pd.DataFrame:
    records = [d if isinstance(d, Mapping) else {"data": d} for d in data]
    fields = pd.DataFrame.from_records(records, index=range(len(records))) if records else pd.DataFrame()
    fields = fields.rename(columns={c: f"data_{c}" for c in fields.columns if c in ("id", "is_labeled")})
    fields.insert(0, "id", ids)
    fields["is_labeled"] = is_labeled
    return fields
