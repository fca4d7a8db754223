"""Item ids and texts for the Label Studio exchange: ids read from a file, texts for exported tasks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..._core.validation import fail
from ...pipeline.runs import dataset_table
from ...store import Store

__all__ = ["item_texts", "typed_item_ids"]


def typed_item_ids(store: Store, dataset_id: int, values: list[Any], what: str) -> list[Any]:
    """The dataset's own ids (and types) for ids read from a file; unknown ids raise naming ``what``."""
    ids = store.load_item_ids(dataset_id).tolist()
    by_key = {str(v): v for v in ids}
    unknown = [v for v in values if str(v) not in by_key]
    if unknown:
        raise fail(what, f"ids of items of dataset {dataset_id}",
                   got_text=f"{len(unknown)} unknown id(s), e.g. {unknown[0]!r}")
    return [by_key[str(v)] for v in values]


def item_texts(store: Store, dataset_id: int, item_ids: np.ndarray, text_field: str,
               items: pd.DataFrame | None, id_field: str) -> pd.DataFrame:
    """A frame with the ``text_field`` of ``item_ids`` (in that order), from ``items`` or the dataset's table."""
    table = items if items is not None else dataset_table(store, dataset_id, id_field)
    if not isinstance(table, pd.DataFrame):
        raise fail("items", "a pandas DataFrame", table)
    if text_field not in table.columns:
        raise fail("items", f"a {text_field!r} column (text_field)", got_text=f"columns {list(table.columns)}")
    keys = pd.Index([str(v) for v in (table[id_field] if id_field in table.columns else table.index)])
    if keys.has_duplicates:
        raise fail("items", "unique item ids", got_text=f"repeated id {keys[keys.duplicated()][0]!r}")
    position = keys.get_indexer(pd.Index([str(v) for v in item_ids.tolist()]))
    if (position < 0).any():
        missing = item_ids[np.flatnonzero(position < 0)[0]]
        raise fail("items", "a row for every exported item", got_text=f"no row for item {missing!r}")
    return pd.DataFrame({text_field: table[text_field].to_numpy()[position]})
