"""Storing the answers of a Label Studio export: by annotation identity, skips included."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..store import Store

__all__ = ["new_answers", "store_answers"]


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
