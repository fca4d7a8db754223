"""Which items a Label Studio batch sends: not answered, not skipped, not pending from an earlier batch,
not gold. Label Studio does not deduplicate tasks on ``item_id``, so weaklab keeps track itself: every
exported item is recorded as pending (``Store.record_export``) until an answer or a skip for it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._core.soft_labels import SoftLabels
from ...pipeline.review import gold_items
from ...store import Store

__all__ = ["ExportSummary", "batch_rows"]


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`~weaklab.interop.labelstudio.export_label_studio` wrote, and what it left out.

    Attributes
    ----------
    path : str
        The task file.
    run_id : int
        The run whose soft labels are the predictions.
    n_tasks : int
        Tasks written (recorded as pending until answered or skipped).
    n_answered, n_skipped, n_pending, n_gold : int
        Items left out because they have a human answer, were skipped by an
        annotator, were sent in an earlier batch and are not answered yet
        (``include_pending=True`` sends them again), or have gold in the data
        file (dev items, and items whose gold fed the run's fit; ``include_gold=True`` sends them too).
    n_review_again : int
        Answered items sent again because their content changed since.

    Examples
    --------
    >>> summary = export_label_studio(store, run, "tasks.json")        # doctest: +SKIP
    >>> print(summary.describe())                                      # doctest: +SKIP
    """

    path: str
    run_id: int
    n_tasks: int
    n_answered: int = 0
    n_skipped: int = 0
    n_pending: int = 0
    n_gold: int = 0
    n_review_again: int = 0

    def __int__(self) -> int:
        return self.n_tasks

    def describe(self) -> str:
        """The summary as a sentence for a person."""
        out = f"Wrote {self.n_tasks} task(s) of run {self.run_id} to {self.path}"
        left = [f"{n} {what}" for n, what in ((self.n_answered, "already answered"),
                                              (self.n_skipped, "skipped by an annotator"),
                                              (self.n_pending, "sent in an earlier batch and not answered yet "
                                                               "(--include-pending sends them again)"),
                                              (self.n_gold, "with gold in the data file (dev items or gold "
                                                            "the fit had; --include-gold sends them too)")) if n]
        out += f"; left out: {'; '.join(left)}" if left else ""
        if self.n_review_again:
            out += f"; {self.n_review_again} answered item(s) sent again: their content changed since answered"
        return out + "."


def batch_rows(store: Store, dataset_id: int, soft: SoftLabels, all_ids: Any, *, run_id: int | None = None,
               include_pending: bool = False, include_gold: bool = False) -> tuple[np.ndarray, dict[str, int]]:
    """The rows of ``all_ids`` to send (items whose content changed since answered first, then least
    confident first) and how many items each rule left out (gold: :func:`~weaklab.pipeline.review.gold_items`
    of run ``run_id``, whose fit's file gold counts too)."""
    keys = np.array([str(v) for v in np.asarray(all_ids).tolist()], dtype=object)
    answers = store.annotations(dataset_id)
    answers = answers[answers["current"]] if len(answers) else answers
    answered = {str(v) for v in answers.loc[answers["status"] == "answered", "item_id"]} if len(answers) else set()
    skipped = ({str(v) for v in answers.loc[answers["status"] == "skipped", "item_id"]} - answered
               if len(answers) else set())
    again = {str(v) for v in store.changed_since_answered(dataset_id)} & answered
    answered -= again
    pending = {str(v) for v in store.pending_items(dataset_id)} - answered - skipped
    if include_pending:
        pending = set()
    gold = set() if include_gold else set(gold_items(store, dataset_id, run_id).ids) - answered - skipped - pending
    out = answered | skipped | pending | gold
    keep = np.array([k not in out for k in keys], dtype=bool)
    first = np.array([k in again for k in keys], dtype=bool)
    rows = np.flatnonzero(keep)
    order = np.lexsort((soft.confidence[rows], ~first[rows]))
    in_keys = set(keys.tolist())
    counts = {"n_answered": len(answered & in_keys), "n_skipped": len(skipped & in_keys),
              "n_pending": len(pending & in_keys), "n_gold": len(gold & in_keys),
              "n_review_again": int(first[rows].sum())}
    return rows[order], counts
