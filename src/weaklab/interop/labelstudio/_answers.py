"""Storing the answers of a Label Studio export: by annotation identity, skips included."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from ...store import Store

__all__ = ["name_stored_answers", "new_answers", "store_answers"]


def store_answers(store: Store, dataset_id: int, rows: pd.DataFrame, names: list[str], origin: str,
                  known: set[int]) -> np.ndarray:
    """Store answers (class names) and skips (None) with their Label Studio identity; which were new."""
    if rows.empty:
        return np.zeros(0, dtype=bool)
    ids = store.add_annotations(
        dataset_id, np.asarray(rows["item_id"].tolist(), dtype=object), rows["annotator"].tolist(),
        [c if s == "answer" else None for c, s in zip(rows["choice"], rows["status"])], origin=origin,
        when=_times(rows["created_at"]), updated=_times(rows["updated_at"]), class_names=names,
        external_ids=[None if a is None or pd.isna(a) else f"label_studio:{a}" for a in rows["annotation_id"]])
    first = ~pd.Index(ids).duplicated()
    return np.array([int(i) not in known for i in ids], dtype=bool) & first


def _times(values: pd.Series) -> list[Any]:
    return [None if v is None or pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in values]


def _answer_key(item: Any, label: Any, when: Any) -> tuple[str, int, Any]:
    moment = None if when is None or pd.isna(when) else pd.Timestamp(when).to_pydatetime()
    return str(item), int(label), moment


def new_answers(store: Store, dataset_id: int, frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Drop answers without a Label Studio annotation id that were stored before (same item, label, creation
    time, origin) or repeat within the file. Answers with an id are matched by the store on the id and
    ``updated_at`` (an edit is a new version, a repeat is not stored again)."""
    known = store.annotations(dataset_id)
    known = known[(known["origin"] == origin) & known["external_id"].isna()]
    seen = {_answer_key(*r) for r in zip(known["item_id"], known["label"].fillna(-1), known["created_at"])}
    keep = []
    for row in zip(frame["item_id"], frame["label"], frame["created_at"], frame["annotation_id"]):
        if row[3] is not None and not pd.isna(row[3]):
            keep.append(True)
            continue
        key = _answer_key(*row[:3])
        keep.append(row[2] is None or key not in seen)
        if row[2] is not None:
            seen.add(key)
    return frame[np.asarray(keep, dtype=bool)].reset_index(drop=True)


def name_stored_answers(store: Store, stored: pd.DataFrame, frame: pd.DataFrame) -> tuple[tuple[str, str, int], ...]:
    """Attribute to a name the current answers an earlier import stored under the bare Label Studio user id.

    ``stored``: the dataset's answers (``store.annotations``); ``frame``: this
    export's answers with ``user_id`` (as exported) and ``annotator`` (the
    name given). Recorded with :meth:`~weaklab.store.Store.reattribute_answers`
    (new versions; the stored ones stay in the history). Returns ``(user id,
    name, answers)`` per renamed user.
    """
    rows = frame[frame["annotation_id"].notna() & frame["user_id"].notna()]
    rows = rows[rows["user_id"].astype(str) != rows["annotator"].astype(str)]
    if rows.empty or stored.empty:
        return ()
    current = stored[stored["current"] & stored["external_id"].notna()]
    by_answer = {(str(i), str(e)): (int(a), str(w)) for i, e, a, w in
                 zip(current["item_id"], current["external_id"], current["annotation_id"], current["annotator"])}
    ids: dict[int, str] = {}
    counts: Counter[tuple[str, str]] = Counter()
    for item, answer, user, name in zip(rows["item_id"], rows["annotation_id"], rows["user_id"], rows["annotator"]):
        hit = by_answer.get((str(item), f"label_studio:{answer}"))
        if hit is not None and hit[1] == str(user) and hit[0] not in ids:
            ids[hit[0]] = str(name)
            counts[(str(user), str(name))] += 1
    if ids:
        store.reattribute_answers(list(ids), list(ids.values()))
    return tuple((user, name, n) for (user, name), n in sorted(counts.items()))
