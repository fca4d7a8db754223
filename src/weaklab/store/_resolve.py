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
        a skip or an answer that does not count), ``status``, ``origin``,
        ``answered_at``.

    Returns
    -------
    pandas.DataFrame
        One row per item, in first-seen order: ``item_id``, ``class_key``
        (None when unresolved), ``status`` (see :data:`STATUSES`),
        ``n_annotators`` (with a vote), ``n_skipped``, ``votes`` (``{class:
        count}``).

    Notes
    -----
    A plain-loop specification of the vectorised body::

        for item, answers in frame.groupby("item_id"):
            votes = Counter(a.class_key for a in answers if a counts)
            if any adjudication: class = the latest adjudication's class, "adjudicated"
            elif no votes: None, "skipped"
            elif one top class: that class, "agreed" if len(votes) == 1 else "majority"
            else: None, "tie"
    """
    columns = ["item_id", "class_key", "status", "n_annotators", "n_skipped", "votes"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    items = pd.Index(pd.unique(frame["item_id"]))
    skipped = (frame["status"] == "skipped").groupby(frame["item_id"]).sum().reindex(items, fill_value=0)
    answered = frame[(frame["status"] != "skipped") & frame["class_key"].notna()]
    counts = answered.groupby(["item_id", "class_key"]).size().rename("n").reset_index()
    n_votes = counts.groupby("item_id")["n"].sum().reindex(items, fill_value=0)
    best = counts.groupby("item_id")["n"].transform("max")
    top = counts[counts["n"] == best]
    n_top = top.groupby("item_id").size().reindex(items, fill_value=0)
    n_classes = counts.groupby("item_id").size().reindex(items, fill_value=0)
    winner = top.drop_duplicates("item_id").set_index("item_id")["class_key"].reindex(items)
    status = np.full(len(items), "majority", dtype=object)
    status[n_classes.to_numpy() == 1] = "agreed"
    status[n_top.to_numpy() > 1] = "tie"
    status[n_votes.to_numpy() == 0] = "skipped"
    chosen = winner.to_numpy(dtype=object).copy()
    chosen[(status == "tie") | (status == "skipped")] = None
    judged = answered[answered["origin"] == ADJUDICATION]
    if len(judged):
        last = judged.sort_values(["answered_at", "class_key"], kind="stable").drop_duplicates("item_id", keep="last")
        where = items.get_indexer(pd.Index(last["item_id"]))
        chosen[where] = last["class_key"].to_numpy(dtype=object)
        status[where] = "adjudicated"
    votes: dict[Any, dict[str, int]] = {item: {} for item in items}
    for item, key, n in counts.itertuples(index=False):
        votes[item][str(key)] = int(n)
    return pd.DataFrame({"item_id": items, "class_key": chosen, "status": status,
                         "n_annotators": n_votes.to_numpy(dtype=np.int64),
                         "n_skipped": skipped.to_numpy(dtype=np.int64),
                         "votes": [votes[item] for item in items]}, columns=columns)
