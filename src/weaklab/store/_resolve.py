"""Which label the human answers of an item give: one rule, independent of storage order and format.

Rule (the same for ``fit`` gold, ``explain``, ``diff``, the report and the dashboard):

1. An answer superseded by a newer version of itself (the same external id,
   e.g. a Label Studio annotation edited in place, with a later
   ``updated_at``) or by a later answer of the same annotator on the same
   item no longer counts; it stays in the history.
2. Skips count as "seen, no answer": they give no vote.
3. An answer with origin ``"adjudication"`` decides the item (the latest one
   when there are several): status ``"adjudicated"``.
4. Otherwise every annotator's current answer is one vote: one class for all
   votes is ``"agreed"``; a unique plurality among different classes is
   ``"majority"`` (a disagreement, resolved, still flagged); a tie for the top
   is ``"tie"``: left open, no label, not used as gold, flagged for
   adjudication.

Times order answers by when they were *given* (``updated_at``, else
``created_at``), ties broken by the class name, never by the order in which
rows were stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ADJUDICATION", "STATUSES", "class_key", "current_mask", "resolve_answers"]

#: The origin of an answer that settles a disagreement.
ADJUDICATION = "adjudication"
#: Resolution statuses of an answered item.
STATUSES = ("agreed", "majority", "adjudicated", "tie", "skipped")


def class_key(class_name: Any, label: Any) -> str | None:
    """The identity of an answer's class: its name, else ``"#<id>"`` (answers stored before names were)."""
    if isinstance(class_name, str):
        return class_name
    if label is None or pd.isna(label):
        return None
    return f"#{int(label)}"


def current_mask(frame: pd.DataFrame) -> np.ndarray:
    """Which rows still count: the newest per (item, external id) and per (item, annotator).

    ``frame`` needs ``item_id, annotator, external_id, answered_at, annotation_id``
    (and ``dataset_name``, when it mixes datasets: items are per dataset name).
    """
    if frame.empty:
        return np.zeros(0, dtype=bool)
    item = ["dataset_name", "item_id"] if "dataset_name" in frame.columns else ["item_id"]
    order = frame.sort_values(["answered_at", "annotation_id"], ascending=False, kind="stable")
    latest_by_person = ~order.duplicated([*item, "annotator"], keep="first")
    has_external = order["external_id"].notna()
    latest_by_id = ~order.duplicated([*item, "external_id"], keep="first") | ~has_external
    keep = (latest_by_person & latest_by_id).reindex(frame.index)
    return keep.to_numpy(dtype=bool)


def resolve_answers(frame: pd.DataFrame) -> pd.DataFrame:
    """Resolve the *current* answers of each item by the module's rule.

    Parameters
    ----------
    frame : pandas.DataFrame
        Current answers: ``item_id``, ``annotator``, ``class_key`` (None for
        a skip), ``status``, ``origin``, ``answered_at``.

    Returns
    -------
    pandas.DataFrame
        One row per item, in first-seen order: ``item_id``, ``class_key``
        (None when unresolved), ``status`` (see :data:`STATUSES`),
        ``n_annotators`` (with a vote), ``n_skipped``, ``votes`` (``{class:
        count}``).
    """
    rows = []
    for item, group in frame.groupby("item_id", sort=False):
        rows.append(_resolve_item(item, group))
    return pd.DataFrame(rows, columns=["item_id", "class_key", "status", "n_annotators", "n_skipped", "votes"])


def _resolve_item(item: Any, group: pd.DataFrame) -> tuple[Any, ...]:
    answered = group[group["status"] != "skipped"]
    answered = answered[answered["class_key"].notna()]
    n_skipped = int((group["status"] == "skipped").sum())
    votes = answered["class_key"].value_counts()
    counts = {str(k): int(v) for k, v in sorted(votes.items())}
    if answered.empty:
        return item, None, "skipped", 0, n_skipped, counts
    judged = answered[answered["origin"] == ADJUDICATION]
    if len(judged):
        last = judged.sort_values(["answered_at", "class_key"], kind="stable").iloc[-1]
        return item, str(last["class_key"]), "adjudicated", len(answered), n_skipped, counts
    top = _top(votes.index.tolist(), votes.to_numpy())
    if len(top) > 1:
        return item, None, "tie", len(answered), n_skipped, counts
    status = "agreed" if len(votes) == 1 else "majority"
    return item, top[0], status, len(answered), n_skipped, counts


def _top(keys: Sequence[Any], counts: np.ndarray) -> list[str]:
    best = counts.max()
    return sorted(str(k) for k, c in zip(keys, counts) if c == best)
