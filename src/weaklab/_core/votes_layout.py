"""The two layouts of a votes partition file: dense columns, or long ``(item, source, label)`` rows.

``dense``: ``item_id``, then one ``int8``/``int16`` column per source (``-1`` = abstain), one row per item.
Right for labeling functions: a few dozen sources, each row a few bytes, abstain runs compressed by Parquet.

``long``: one row per vote, columns ``item_id``, ``row`` (``int32``, the item's position in the partition),
``source`` (``int32``, the source's column number) and ``label``; an item without any vote gets one row with
``source = label = -1``, so every item keeps its place. Right for crowd-shaped partitions (thousands of
sources, a handful of votes per item), where a dense file would hold ``n x m`` abstentions. Rows are sorted by
``(row, source)``.

``auto`` (what the Dask engine writes) picks ``long`` when the partition has at least ``LONG_MIN_SOURCES``
sources and its votes fill under ``LONG_MAX_DENSITY`` of the cells, ``dense`` otherwise. Readers get the
same :class:`~weaklab.LabelMatrix` votes from either (sparse storage from ``long``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .constants import ABSTAIN
from .validation import check_choice

__all__ = ["ITEM_ID", "LAYOUTS", "LONG_COLUMNS", "LONG_MAX_DENSITY", "LONG_MIN_SOURCES", "CooVotes",
           "choose_layout", "layout_frame", "frame_votes", "frame_item_ids"]

ITEM_ID = "item_id"
"""Name of the item-id column of every partition file."""
LAYOUTS = ("dense", "long")
"""The layouts a votes partition file can have."""
LONG_COLUMNS = (ITEM_ID, "row", "source", "label")
"""Columns of a ``long`` partition file."""
LONG_MAX_DENSITY = 0.125
"""``auto`` writes ``long`` only when votes fill under this share of the ``n x m`` cells ..."""
LONG_MIN_SOURCES = 64
"""... and there are at least this many sources (below, a dense row is at most a few dozen bytes)."""


@dataclass(frozen=True)
class CooVotes:
    """The votes of one partition as coordinates: ``n`` items, ``m`` sources, one entry per non-abstain vote.

    Examples
    --------
    >>> import numpy as np
    >>> CooVotes.from_dense(np.array([[0, -1], [-1, 1]])).labels.tolist()
    [0, 1]
    """

    n: int
    m: int
    rows: np.ndarray
    cols: np.ndarray
    labels: np.ndarray

    @classmethod
    def from_dense(cls, votes: np.ndarray) -> CooVotes:
        """The coordinates of a dense ``(n, m)`` array, row-major."""
        votes = np.asarray(votes)
        rows, cols = np.nonzero(votes != ABSTAIN)
        return cls(int(votes.shape[0]), int(votes.shape[1]), rows.astype(np.int64), cols.astype(np.int64),
                   votes[rows, cols])

    def to_dense(self, dtype: Any = np.int8) -> np.ndarray:
        """The ``(n, m)`` array (``-1`` = abstain)."""
        out = np.full((self.n, self.m), ABSTAIN, dtype=dtype)
        out[self.rows, self.cols] = self.labels
        return out


def choose_layout(layout: str, n: int, m: int, nnz: int) -> str:
    """The layout to write: ``layout`` itself, or for ``"auto"`` the rule in the module docstring.

    Examples
    --------
    >>> choose_layout("auto", 1000, 20, 500), choose_layout("auto", 1000, 6000, 5000)
    ('dense', 'long')
    """
    check_choice("layout", layout, (*LAYOUTS, "auto"))
    if layout != "auto":
        return layout
    return "long" if m >= LONG_MIN_SOURCES and nnz < LONG_MAX_DENSITY * n * m else "dense"


def layout_frame(ids: Any, votes: np.ndarray | CooVotes, source_names: Sequence[str], layout: str) -> pd.DataFrame:
    """The columns of one partition file in ``layout`` (``"dense"`` or ``"long"``).

    Examples
    --------
    >>> import numpy as np
    >>> layout_frame(["a", "b"], np.array([[0, -1], [-1, -1]]), ["s", "t"], "long").values.tolist()
    [['a', 0, 0, 0], ['b', 1, -1, -1]]
    """
    ids = np.asarray(ids)
    if layout == "dense":
        dense = votes.to_dense(_dtype(votes.labels)) if isinstance(votes, CooVotes) else np.asarray(votes)
        columns: dict[str, Any] = {ITEM_ID: ids}
        columns.update({name: dense[:, j] for j, name in enumerate(source_names)})
        return pd.DataFrame(columns)
    coo = votes if isinstance(votes, CooVotes) else CooVotes.from_dense(votes)
    empty = np.setdiff1d(np.arange(coo.n), coo.rows)
    rows = np.concatenate([coo.rows, empty])
    cols = np.concatenate([coo.cols, np.full(empty.shape, ABSTAIN, dtype=np.int64)])
    labels = np.concatenate([np.asarray(coo.labels, dtype=np.int64), np.full(empty.shape, ABSTAIN, np.int64)])
    order = np.lexsort((cols, rows))
    return pd.DataFrame({ITEM_ID: ids[rows[order]], "row": rows[order].astype(np.int32),
                         "source": cols[order].astype(np.int32), "label": labels[order].astype(_dtype(labels))})


def frame_votes(frame: pd.DataFrame, source_names: Sequence[str], layout: str) -> tuple[np.ndarray, CooVotes]:
    """The item ids and the votes of a partition file's columns, read back from ``layout``."""
    if layout == "dense":
        return frame[ITEM_ID].to_numpy(), CooVotes.from_dense(frame[list(source_names)].to_numpy())
    rows, cols, labels = (frame[c].to_numpy() for c in ("row", "source", "label"))
    voted = cols >= 0
    return (_first_ids(frame[ITEM_ID].to_numpy(), rows),
            CooVotes(_n_rows(rows), len(source_names), rows[voted].astype(np.int64), cols[voted].astype(np.int64),
                     labels[voted]))


def frame_item_ids(frame: pd.DataFrame, layout: str) -> np.ndarray:
    """The item ids, one per item in order, from a frame holding ``item_id`` (and ``row`` when ``long``)."""
    ids = frame[ITEM_ID].to_numpy()
    return ids if layout == "dense" else _first_ids(ids, frame["row"].to_numpy())


def _first_ids(ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return ids[np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])] if rows.size else ids[:0]


def _n_rows(rows: np.ndarray) -> int:
    return int(rows[-1]) + 1 if rows.size else 0


def _dtype(labels: np.ndarray) -> type:
    return np.int16 if labels.size and int(np.max(labels)) > np.iinfo(np.int8).max else np.int8
