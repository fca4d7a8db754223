"""The human review queue over a recorded run: ranking items, their texts, and the run's summary data.

The dashboard (and any other front end) uses these helpers instead of
reaching into the stages: :func:`review_order` ranks a run's items with an
active-learning strategy from :mod:`weaklab.active`, :class:`TextLookup`
finds an item's text through the dataset's recorded ``meta`` (the store keeps
ids only), and :func:`run_summary` reads what the report shows.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import fail
from ..errors import WeaklabError
from ..store import Store
from ._ls_store import _dataset_table, run_dataset, run_soft_labels
from ._report_data import RunData, read_run

__all__ = ["REVIEW_STRATEGIES", "ReviewRanking", "TextLookup", "review_order", "run_summary"]

logger = logging.getLogger(__name__)

#: Strategies the review queue can rank by (uncertainty of the run's soft labels).
REVIEW_STRATEGIES = ("least_confidence", "entropy", "margin")


class ReviewRanking:
    """A run's items in review order (most useful to ask first), with their soft labels.

    Parameters
    ----------
    item_ids : ndarray of shape (n,)
        The items, in review order.
    proba : ndarray of shape (n, k)
        Their soft labels, in the same order.
    strategy : str
        The strategy that ranked them.
    """

    def __init__(self, item_ids: np.ndarray, proba: np.ndarray, strategy: str) -> None:
        self.item_ids = item_ids
        self.proba = proba
        self.strategy = strategy

    def __len__(self) -> int:
        return len(self.item_ids)

    def window(self, start: int, size: int) -> np.ndarray:
        """Item ids ``start .. start + size`` of the ranking."""
        return self.item_ids[start:start + size]


def review_order(store: Store, run_id: int, strategy: str = "least_confidence") -> ReviewRanking:
    """Rank a run's items for human review by the uncertainty of its soft labels.

    Parameters
    ----------
    store : Store
    run_id : int
        A run with recorded soft labels (the label model's, else any).
    strategy : {"least_confidence", "entropy", "margin"}, default="least_confidence"
        Scoring function of :mod:`weaklab.active` (higher = ask first); ties
        keep dataset order, so the ranking is deterministic.

    Returns
    -------
    ReviewRanking
    """
    from ..active import uncertainty

    if strategy not in REVIEW_STRATEGIES:
        raise fail("strategy", f"one of {', '.join(REVIEW_STRATEGIES)}", strategy)
    soft, _ = run_soft_labels(store, run_id)
    ids = soft.item_ids
    if ids is None:  # soft labels without ids are in dataset order
        ids = store.load_item_ids(run_dataset(store, run_id))[: soft.n_items]
    scores = uncertainty(soft.proba, measure=strategy)
    order = np.argsort(-scores, kind="stable")
    return ReviewRanking(np.asarray(ids)[order], np.asarray(soft.proba)[order], strategy)


class TextLookup:
    """The texts of a dataset's items, read once from the table its ``meta`` names (or none).

    Parameters
    ----------
    store : Store
    dataset_id : int
    text_field : str, default="text"
    """

    def __init__(self, store: Store, dataset_id: int, text_field: str = "text") -> None:
        self.reason: str | None = None
        self._texts: dict[str, str] = {}
        try:
            table = _dataset_table(store, dataset_id, "item_id")
        except (WeaklabError, OSError) as exc:
            self.reason = str(exc).splitlines()[0]
            return
        if text_field not in table.columns:
            self.reason = f"the dataset's table has no {text_field!r} column"
            return
        keys = table["item_id"] if "item_id" in table.columns else pd.Series(table.index)
        self._texts = {str(k): str(t) for k, t in zip(keys.tolist(), table[text_field].tolist())}

    def get(self, item_id: Any) -> str | None:
        """The item's text, or None when unknown."""
        return self._texts.get(str(item_id))


def run_summary(store: Store, run_id: int) -> RunData:
    """What the run report shows (sources, label model, end models, calibration, slices, issues, alerts)."""
    return read_run(store, run_id)
