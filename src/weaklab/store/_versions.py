"""Dataset versions: what a new version of the data carries over, and items sent out for labelling.

Datasets with one name are versions of one dataset. Human answers and
corrections stay with the name and the item ids: :meth:`carry_over` says how
many a version carries over from the others, how many are orphaned (their
item is gone) and which answered items changed content since they were
answered (:meth:`changed_since_answered`, to review again). Items exported
for labelling (e.g. a Label Studio task file) are *pending* until an answer
or a skip for them arrives (:meth:`pending_items`), so a second export does
not send them again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from ._base import check_text, insert_columns
from ._db import utcnow
from ._rows import StoreBase, typed_id
from ._sql import VERSIONS_SQL

__all__ = ["VersionsMixin"]


class VersionsMixin(StoreBase):
    """Carry-over between dataset versions and the pending list of exported items."""

    def dataset_versions(self, dataset_id: int) -> list[int]:
        """Ids of every version of the dataset (the datasets with its name), oldest first."""
        self._dataset_row(dataset_id)
        return [int(d) for (d,) in self._query(f"{VERSIONS_SQL} ORDER BY dataset_id", [int(dataset_id)])]

    def carry_over(self, dataset_id: int) -> dict[str, Any]:
        """What this version of a dataset carries over from the other versions.

        Returns
        -------
        dict
            ``versions`` (how many versions the dataset has), ``answers``
            (current human answers and skips on this version's items),
            ``skipped`` (how many of those are skips),
            ``carried_over`` (those given on another version),
            ``orphaned`` (current answers whose item this version no longer
            holds; kept in the store), ``changed`` (answered items whose
            content changed since they were answered) and
            ``changed_item_ids``, ``orphaned_item_ids`` (at most 20 each),
            ``corrections_carried_over``, ``corrections_orphaned``.

        Examples
        --------
        >>> store.carry_over(ds)["carried_over"]                        # doctest: +SKIP
        7
        """
        ds = int(dataset_id)
        answers = self._answer_frame(ds, None, only_items=False)
        answers = answers[answers["current"]]
        here = self._present_keys(ds, sorted({str(k) for k in answers["item_id"]}))
        on_items = answers["item_id"].isin(here).to_numpy()
        orphans = sorted(set(answers.loc[~on_items, "item_id"]))
        changed = self.changed_since_answered(ds)
        fixes = self._query(
            "SELECT count(*) FILTER (WHERE i.item_key IS NOT NULL AND r.dataset_id <> ?), "
            "count(*) FILTER (WHERE i.item_key IS NULL) FROM corrections c JOIN runs r USING (run_id) "
            "LEFT JOIN items i ON i.dataset_id = ? AND i.item_key = c.item_key "
            f"WHERE r.dataset_id IN ({VERSIONS_SQL})", [ds, ds, ds])[0]
        dtype = str(self._dataset_row(ds)[2])
        return {
            "versions": len(self.dataset_versions(ds)), "answers": int(on_items.sum()),
            "skipped": int((on_items & (answers["status"] == "skipped").to_numpy()).sum()),
            "carried_over": int((on_items & (answers["dataset_id"] != ds).to_numpy()).sum()),
            "orphaned": int((~on_items).sum()), "changed": len(changed), "changed_item_ids": changed[:20],
            "orphaned_item_ids": [typed_id(k, dtype) for k in orphans[:20]],
            "corrections_carried_over": int(fixes[0]), "corrections_orphaned": int(fixes[1]),
        }

    def changed_since_answered(self, dataset_id: int) -> list[Any]:
        """Answered items of this version whose content differs from every version they were answered on.

        Needs content fingerprints (``add_dataset(..., item_hashes=)``) on
        both versions; items answered again on this content leave the list.
        """
        ds = int(dataset_id)
        rows = self._query(
            "WITH answered AS (SELECT DISTINCT item_key, dataset_id FROM annotations "
            f"WHERE dataset_id IN ({VERSIONS_SQL})) "
            "SELECT i.item_key, min(i.row) FROM answered a "
            "JOIN items i ON i.dataset_id = ? AND i.item_key = a.item_key "
            "JOIN items o ON o.dataset_id = a.dataset_id AND o.item_key = a.item_key "
            "WHERE i.content IS NOT NULL AND o.content IS NOT NULL "
            "GROUP BY i.item_key HAVING bool_and(o.content <> i.content) ORDER BY 2", [ds, ds])
        dtype = str(self._dataset_row(ds)[2])
        return [typed_id(k, dtype) for k, _ in rows]

    def record_export(self, dataset_id: int, item_ids: Any, *, target: str = "label_studio",
                      batch: str | None = None, run_id: int | None = None) -> int:
        """Note that items were sent out for labelling; they are pending until answered or skipped.

        Parameters
        ----------
        dataset_id : int
            The dataset of the items.
        item_ids : array-like
            The items sent.
        target : str, default="label_studio"
            Where they went.
        batch : str, optional
            A name of the batch (e.g. the task file).
        run_id : int, optional
            The run whose predictions went with them.

        Returns
        -------
        int
            Number of items recorded.
        """
        check_text("target", target)
        check_text("batch", batch, optional=True)
        if run_id is not None:
            self._run_row(run_id)
        keys, _ = self._item_rows(int(dataset_id), item_ids, "item_ids")
        n = len(keys)
        with self._transaction() as con:
            if n:
                insert_columns(con, "exports", dict(
                    dataset_id=np.full(n, int(dataset_id)), item_key=pa.array(keys, pa.string()),
                    target=[target] * n, batch=pa.array([batch] * n, pa.string()),
                    run_id=pa.array([run_id] * n, pa.int64()), created_at=[utcnow()] * n))
        return n

    def pending_items(self, dataset_id: int, *, target: str | None = None) -> list[Any]:
        """Items of this version sent out for labelling (on any version) with no answer or skip recorded since.

        Answers and skips count whether they label the item (annotations) or its spans (span answers).

        In dataset order.
        """
        ds = int(dataset_id)
        where, params = "", [ds, ds, ds]  # type: tuple[str, list[Any]]
        if target is not None:
            where, params = " AND e.target = ?", [ds, check_text("target", target), ds, ds]
        rows = self._query(
            "WITH sent AS (SELECT e.item_key, max(e.created_at) AS sent_at FROM exports e "
            f"WHERE e.dataset_id IN ({VERSIONS_SQL}){where} GROUP BY e.item_key) "
            "SELECT s.item_key FROM sent s JOIN items i ON i.dataset_id = ? AND i.item_key = s.item_key "
            "WHERE NOT EXISTS (SELECT 1 FROM annotations a WHERE a.item_key = s.item_key AND a.recorded_at >= "
            f"s.sent_at AND a.dataset_id IN ({VERSIONS_SQL})) "
            "AND NOT EXISTS (SELECT 1 FROM span_answers p WHERE p.item_key = s.item_key AND p.created_at >= "
            f"s.sent_at AND p.dataset_id IN ({VERSIONS_SQL})) ORDER BY i.row", [*params, ds])
        dtype = str(self._dataset_row(ds)[2])
        return [typed_id(k, dtype) for (k,) in rows]

    def _present_keys(self, dataset_id: int, keys: list[str]) -> set[str]:
        """Which of ``keys`` are items of the dataset."""
        if not keys:
            return set()
        locator = self._item_locator(dataset_id)
        if locator is not None:  # a partitioned dataset: its items are found in their partitions
            return {k for k, row in zip(keys, locator.rows_of(keys)) if row >= 0}
        return {str(k) for (k,) in self._query(
            "SELECT item_key FROM items WHERE dataset_id = ? AND item_key IN (SELECT unnest(?::VARCHAR[]))",
            [dataset_id, keys])}
