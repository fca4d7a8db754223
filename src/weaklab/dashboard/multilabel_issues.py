"""The label issues page of a multi-label run (``/issues``): (item, label) cells whose weak label the text contradicts.

The run's ``issues`` step records them in its metrics (``label_issues``,
:mod:`weaklab.pipeline.multilabel_issues`); the page lists them most
suspicious first with the item's text and the sources that voted the weak
label on that label ("misled by"). A person settles an item by answering it
(the review queue, ``weaklab annotate``): the latest answer is the item's
final label set, and the next run trains on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .page import Pager
from .state import DashboardState

__all__ = ["multilabel_issues_view"]


def multilabel_issues_view(state: DashboardState, run_id: int, page: int, size: int = 50) -> dict[str, Any]:
    """One page of a multi-label run's label issues, with each item's text and the sources behind its weak label."""
    def build() -> dict[str, Any]:
        metrics = state.run_row(run_id).get("metrics") or {}
        issues = list(metrics.get("label_issues") or [])
        pager = Pager(page, size, len(issues))
        shown = [dict(row, rank=pager.offset + i + 1) for i, row in enumerate(issues[pager.offset:pager.offset + size])]
        texts = state.texts(state.dataset_id(run_id))
        voters = _voters(state, run_id)
        for row in shown:
            row["text"] = texts.get(row["item_id"])
            row["misled_by"] = voters.get((str(row["item_id"]), str(row["label"]), row["weak"]), [])
        return {"issues": shown, "pager": pager, "recorded": "label_issues" in metrics,
                "answered": _answered(state, run_id, {str(r["item_id"]) for r in shown})}

    return dict(state.fresh(("ml_issues_view", int(run_id), int(page), int(size)), build))


def _voters(state: DashboardState, run_id: int) -> dict[tuple[str, str, str], list[str]]:
    """(item id, label, "present"/"absent") -> the sources that voted it, from the run's votes."""
    sets = state.store.label_sets(run_id)
    votes_id = [int(i) for role, i in zip(sets["role"], sets["label_set_id"]) if role == "votes"]
    if not votes_id:
        return {}
    votes = state.store.load_multilabel_votes(votes_id[-1])
    ids = state.store.load_item_ids(state.dataset_id(run_id))
    items, sources, labels, values = votes.coo()
    out: dict[tuple[str, str, str], list[str]] = {}
    for i, s, j, v in zip(items.tolist(), sources.tolist(), labels.tolist(), values.tolist()):
        item = ids[i].item() if isinstance(ids[i], np.generic) else ids[i]
        key = (str(item), votes.label_names[j], "present" if v == 1 else "absent")
        out.setdefault(key, []).append(votes.source_names[s])
    return out


def _answered(state: DashboardState, run_id: int, items: set[str]) -> dict[str, list[str]]:
    """The shown items people answered since: item id -> the latest answer's labels (the run's renames read)."""
    answers = state.store.label_set_answers(state.dataset_id(run_id), renames=state.store.run_class_renames(run_id))
    given = answers[(answers["status"] == "answered") & answers["item_key"].astype(str).isin(items)]
    return {str(k): list(v) for k, v in zip(given["item_key"], given["labels"])}
