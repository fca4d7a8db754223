"""Review decisions on items: label issues (and their resolution), corrections, and review-queue claims."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from .._core.validation import check_float, check_int, fail
from ._base import check_id, check_text, insert_columns, new_ids
from ._db import utcnow
from ._rows import StoreBase, typed_id
from ._sql import VERSIONS_SQL
from ._values import float_values, int_values, text_values, time_values

__all__ = ["ReviewMixin"]


class ReviewMixin(StoreBase):
    """Label issues, corrections and claims on items."""

    # ------------------------------------------------------------------ label issues
    def add_label_issues(self, run_id: int, item_ids: Any, *, method: str, given: Any = None,
                         suggested: Any = None, score: Any = None) -> np.ndarray:
        """Record ranked label issues of a run (pass the items best-first; their order is the rank).

        Parameters
        ----------
        run_id : int
            The run whose labels were checked.
        item_ids : array-like of shape (n,)
            The flagged items, most likely issue first.
        method : str
            Detection method (e.g. ``"confident_learning"``).
        given, suggested : array-like of shape (n,) or int, optional
            The current label and the suggested one.
        score : array-like of shape (n,) or float, optional
            Label-quality score (lower = more suspicious, or as the method defines).

        Returns
        -------
        numpy.ndarray of int
            The issue ids, in the order given.
        """
        check_text("method", method)
        dataset_id = int(self._run_row(run_id)[0])
        keys, rows = self._item_rows(dataset_id, item_ids, "item_ids")
        n = len(keys)
        given_ids, suggested_ids = int_values("given", given, n), int_values("suggested", suggested, n)
        names = self._run_classes(int(run_id))[1]
        cols = dict(given=given_ids, suggested=suggested_ids, score=float_values("score", score, n),
                    given_class=_class_names(names, given_ids), suggested_class=_class_names(names, suggested_ids))
        with self._transaction() as con:
            ids = new_ids(con, "label_issue", n)
            insert_columns(con, "label_issues", dict(
                issue_id=ids, run_id=np.full(n, int(run_id)), item_key=pa.array(keys, pa.string()), row=rows,
                **cols, method=[method] * n, rank=np.arange(1, n + 1), created_at=[utcnow()] * n))
        return ids

    def resolve_issue(self, issue_id: int, accept: bool, *, who: str, why: str | None = None) -> int | None:
        """Accept (record the suggested label as a correction) or reject a label issue.

        Returns
        -------
        int or None
            The correction id when accepted, else None.
        """
        check_id("issue_id", issue_id)
        check_text("who", who)
        check_text("why", why, optional=True)
        run_id, key, row, given, suggested, score, method, given_class, suggested_class = self._one(
            "SELECT run_id, item_key, row, given, suggested, score, method, given_class, suggested_class "
            "FROM label_issues WHERE issue_id = ?",
            [int(issue_id)], "issue_id", issue_id)
        if accept and suggested is None:
            raise fail("accept", "False for an issue without a suggested label", accept)
        with self._transaction() as con:
            correction = None
            if accept:
                correction = int(new_ids(con, "correction", 1)[0])
                con.execute("INSERT INTO corrections (correction_id, run_id, item_key, row, old_label, new_label, "
                            "method, score, who, why, issue_id, created_at, old_class, new_class) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [correction, run_id, key, row, given, suggested, method, score, who, why,
                             int(issue_id), utcnow(), given_class, suggested_class])
            con.execute("INSERT INTO issue_decisions (issue_id, decision, who, why, correction_id, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [int(issue_id), "accepted" if accept else "rejected", who, why, correction, utcnow()])
        return correction

    # ------------------------------------------------------------------ corrections
    def add_corrections(self, run_id: int, item_ids: Any, new_labels: Any, *, old_labels: Any = None,
                        method: Any = None, score: Any = None, threshold: Any = None, who: Any = None,
                        why: Any = None, when: Any = None) -> np.ndarray:
        """Record correction-log rows: which item's label changed from what to what, how, by whom, why.

        Every keyword takes one value for all rows or an array of ``n`` values.

        Parameters
        ----------
        run_id : int
            The run whose labels were corrected.
        item_ids : array-like of shape (n,)
            The corrected items.
        new_labels : array-like of shape (n,) or int
            The labels after correction.
        old_labels : array-like of shape (n,) or int, optional
            The labels before.
        method, who, why : str or array-like of str, optional
            What made the change (e.g. ``"confident_learning"``), who approved
            it, and why.
        score, threshold : float or array-like, optional
            The score that triggered the change and the threshold it crossed.
        when : datetime or array-like of datetime, optional
            When the change was made (UTC); now by default.

        Returns
        -------
        numpy.ndarray of int
            The correction ids, in the order given.

        Notes
        -----
        The class names of the labels (from the run's recorded classes) are
        kept with them, so a correction keeps its meaning when the project's
        classes are reordered, and it applies to later runs of the dataset
        (and of its later versions, by item id).
        """
        dataset_id = int(self._run_row(run_id)[0])
        keys, rows = self._item_rows(dataset_id, item_ids, "item_ids")
        n = len(keys)
        new = int_values("new_labels", new_labels, n)
        if any(v is None for v in new):
            raise fail("new_labels", "a class id for every item", new_labels)
        names = self._run_classes(int(run_id))[1]
        old = int_values("old_labels", old_labels, n)
        cols = dict(old_label=old, new_label=new, old_class=_class_names(names, old),
                    new_class=_class_names(names, new),
                    method=text_values("method", method, n), score=float_values("score", score, n),
                    threshold=float_values("threshold", threshold, n), who=text_values("who", who, n),
                    why=text_values("why", why, n), created_at=time_values("when", when, n))
        with self._transaction() as con:
            ids = new_ids(con, "correction", n)
            insert_columns(con, "corrections", dict(
                correction_id=ids, run_id=np.full(n, int(run_id)), item_key=pa.array(keys, pa.string()),
                row=rows, **cols, issue_id=pa.nulls(n, pa.int64())))
        return ids

    # ------------------------------------------------------------------ review queue
    def claim_items(self, run_id: int, annotator: str, candidates: Any, n: int = 10,
                    lease_seconds: float = 600.0) -> list[Any]:
        """Hand ``annotator`` up to ``n`` items to review, never one another person holds or anyone answered.

        The annotator's own unexpired claims come first (their leases are
        renewed), then the first free ``candidates`` (in the order given, e.g.
        an active-learning ranking). An answered item is free again when its
        content changed since every answer it has (a new version of the data
        file; see ``changed_since_answered``): it is flagged for re-review.
        Claims expire after ``lease_seconds``;
        :meth:`add_annotation` releases them. Runs as one transaction under the
        store's write lock, so concurrent reviewers in one process (threads of
        a web server) never get the same item at the same time.

        Returns
        -------
        list
            Item ids (the dataset's own ids and types).
        """
        check_text("annotator", annotator)
        n = check_int("n", n, low=0)
        lease = timedelta(seconds=check_float("lease_seconds", lease_seconds, low=0.0, low_open=True))
        dataset_id = int(self._run_row(run_id)[0])
        keys, rows = self._item_rows(dataset_id, candidates, "candidates")
        again = self._answered_before_change(dataset_id, keys, rows)
        with self._transaction(counted=False) as con:
            now = utcnow()
            con.execute("DELETE FROM claims WHERE expires_at <= ?", [now])
            con.execute("UPDATE claims SET expires_at = ? WHERE run_id = ? AND annotator = ?",
                        [now + lease, int(run_id), annotator])
            own = con.execute("SELECT item_key, row FROM claims WHERE run_id = ? AND annotator = ? "
                              "ORDER BY claimed_at, row", [int(run_id), annotator]).fetchall()[:n]
            picked = _free_candidates(con, int(run_id), dataset_id, keys, rows, n - len(own), again)
            if picked:
                con.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?)",
                                [[int(run_id), k, int(r), annotator, now, now + lease] for k, r in picked])
        dtype = str(self._dataset_row(dataset_id)[2])  # the claims' own keys (a partitioned dataset has no items rows)
        return [typed_id(str(k), dtype) for k, _ in [*own, *picked]]

    def release_claims(self, run_id: int, annotator: str) -> int:
        """Give back every item ``annotator`` holds in a run (e.g. on logout); return how many."""
        check_text("annotator", annotator)
        self._run_row(run_id)
        with self._transaction(counted=False) as con:
            row = con.execute("DELETE FROM claims WHERE run_id = ? AND annotator = ? RETURNING row",
                              [int(run_id), annotator]).fetchall()
        return len(row)

    def _answered_before_change(self, dataset_id: int, keys: np.ndarray, rows: np.ndarray) -> list[str]:
        """Keys among ``keys`` answered only on other versions of the dataset, whose content differed there.

        Only items with known content on both sides count (as in
        ``changed_since_answered``); reads the candidates' rows only.
        """
        if len(keys) == 0:
            return []
        found = self._query(f"SELECT item_key, dataset_id, row FROM annotations WHERE dataset_id IN ({VERSIONS_SQL}) "
                            "AND item_key IN (SELECT unnest(?::VARCHAR[]))", [int(dataset_id), keys.tolist()])
        if not found or all(int(d) == int(dataset_id) for _, d, _ in found):
            return []
        position = {str(k): int(r) for k, r in zip(keys.tolist(), rows.tolist())}
        wanted: dict[int, set[int]] = {int(dataset_id): {position[str(k)] for k, _, _ in found}}
        for _, d, r in found:
            wanted.setdefault(int(d), set()).add(int(r))
        content = {(d, r): c for d, want in wanted.items()
                   for r, c in self._query("SELECT row, content FROM items WHERE dataset_id = ? AND row IN "
                                           "(SELECT unnest(?::BIGINT[]))", [d, sorted(want)])}
        changed: dict[str, bool] = {}
        for key, d, r in found:
            now, then = content.get((int(dataset_id), position[str(key)])), content.get((int(d), int(r)))
            differs = int(d) != int(dataset_id) and now is not None and then is not None and now != then
            changed[str(key)] = changed.get(str(key), True) and differs
        return [k for k, differs in changed.items() if differs]

def _class_names(names: list[str] | None, labels: list[int | None]) -> list[str | None]:
    """The name of each class id (None without names or for an id out of range)."""
    if not names:
        return [None] * len(labels)
    return [names[v] if v is not None and 0 <= v < len(names) else None for v in labels]


def _free_candidates(con: Any, run_id: int, dataset_id: int, keys: np.ndarray, rows: np.ndarray,
                     n: int, again: list[str]) -> list[tuple[str, int]]:
    """The first ``n`` candidates nobody holds and nobody answered (``again``: answered before their content
    changed; free unless answered on this version since)."""
    if n <= 0 or len(keys) == 0:
        return []
    frame = pa.table({"pos": pa.array(np.arange(len(keys))), "item_key": pa.array(keys, pa.string()),
                      "row": pa.array(rows), "again": pa.array(np.isin(keys, np.asarray(again, dtype=object)))})
    con.register("_wl_candidates", frame)
    try:
        return con.execute(
            "SELECT c.item_key, c.row FROM _wl_candidates c "
            "WHERE NOT EXISTS (SELECT 1 FROM claims k WHERE k.run_id = ? AND k.row = c.row) "
            "AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.item_key = c.item_key AND a.dataset_id IN "
            f"({VERSIONS_SQL}) AND (NOT c.again OR a.dataset_id = ?)) "
            "ORDER BY c.pos LIMIT ?", [run_id, dataset_id, dataset_id, n]).fetchall()
    finally:
        con.unregister("_wl_candidates")
