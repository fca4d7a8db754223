"""Item-level logs: label issues, corrections, human annotations and the review queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from .._core.validation import check_float, check_int, fail
from ._base import check_id, check_text, insert_columns, loads, new_ids
from ._db import utcnow
from ._records import RecordsMixin

__all__ = ["LogsMixin"]


class LogsMixin(RecordsMixin):
    """Label issues, corrections, annotations and claims on items."""

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
        cols = dict(given=_ints("given", given, n), suggested=_ints("suggested", suggested, n),
                    score=_floats("score", score, n))
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
        run_id, key, row, given, suggested, score, method = self._one(
            "SELECT run_id, item_key, row, given, suggested, score, method FROM label_issues WHERE "
            "issue_id = ?",
            [int(issue_id)], "issue_id", issue_id)
        if accept and suggested is None:
            raise fail("accept", "False for an issue without a suggested label", accept)
        with self._transaction() as con:
            correction = None
            if accept:
                correction = int(new_ids(con, "correction", 1)[0])
                con.execute("INSERT INTO corrections VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
                            [correction, run_id, key, row, given, suggested, method, score, who, why,
                             int(issue_id), utcnow()])
            con.execute("INSERT INTO issue_decisions VALUES (?, ?, ?, ?, ?, ?)",
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
        """
        dataset_id = int(self._run_row(run_id)[0])
        keys, rows = self._item_rows(dataset_id, item_ids, "item_ids")
        n = len(keys)
        new = _ints("new_labels", new_labels, n)
        if any(v is None for v in new):
            raise fail("new_labels", "a class id for every item", new_labels)
        cols = dict(old_label=_ints("old_labels", old_labels, n), new_label=new,
                    method=_texts("method", method, n), score=_floats("score", score, n),
                    threshold=_floats("threshold", threshold, n), who=_texts("who", who, n),
                    why=_texts("why", why, n), created_at=_times("when", when, n))
        with self._transaction() as con:
            ids = new_ids(con, "correction", n)
            insert_columns(con, "corrections", dict(
                correction_id=ids, run_id=np.full(n, int(run_id)), item_key=pa.array(keys, pa.string()),
                row=rows, **cols, issue_id=pa.nulls(n, pa.int64())))
        return ids

    # ------------------------------------------------------------------ annotations
    def add_annotation(self, dataset_id: int, item_id: Any, annotator: str, label: int, *,
                       origin: str = "review", run_id: int | None = None,
                       when: datetime | None = None) -> int:
        """Record one human answer and release the annotator's claim on the item.

        Parameters
        ----------
        dataset_id : int
            The dataset of the item.
        item_id : int or str
            The item's own id.
        annotator : str
            Who answered.
        label : int
            The class id given (checked against the run's classes when ``run_id`` is given).
        origin : str, default="review"
            Where the answer came from (``"review"``, ``"label_studio"``, ``"gold"``, ...).
        run_id : int, optional
            The run whose review queue asked for it.
        when : datetime, optional
            Time of the answer (UTC); now by default.
        """
        return int(self.add_annotations(dataset_id, [item_id], annotator, label, origin=origin,
                                        run_id=run_id, when=when)[0])

    def add_annotations(self, dataset_id: int, item_ids: Any, annotators: Any, labels: Any, *,
                        origin: Any = "import", run_id: int | None = None, when: Any = None) -> np.ndarray:
        """Record many human answers at once (e.g. a Label Studio export); see :meth:`add_annotation`.

        Returns
        -------
        numpy.ndarray of int
            The annotation ids, in the order given.
        """
        self._dataset_row(dataset_id)
        keys, rows = self._item_rows(int(dataset_id), item_ids, "item_ids")
        n = len(keys)
        who = _texts("annotators", annotators, n)
        if any(not w for w in who):
            raise fail("annotators", "a non-empty annotator name for every answer", annotators)
        values = _ints("labels", labels, n)
        self._check_labels(values, run_id, int(dataset_id))
        with self._transaction() as con:
            ids = new_ids(con, "annotation", n)
            insert_columns(con, "annotations", dict(
                annotation_id=ids, dataset_id=np.full(n, int(dataset_id)),
                item_key=pa.array(keys, pa.string()), row=rows, annotator=who, label=values,
                origin=_texts("origin", origin, n), run_id=pa.array([run_id] * n, pa.int64()),
                created_at=_times("when", when, n)))
            _release_answered(con, int(dataset_id), keys, who)
        return ids

    def _check_labels(self, labels: list[Any], run_id: int | None, dataset_id: int) -> None:
        if any(v is None or v < 0 for v in labels):
            bad = next(v for v in labels if v is None or v < 0)
            raise fail("label", "a class id >= 0", got_text=str(bad))
        if run_id is None:
            return
        run_dataset = int(self._run_row(run_id)[0])
        if run_dataset != dataset_id:
            raise fail("run_id", f"a run over dataset {dataset_id}",
                       got_text=f"run {run_id} (dataset {run_dataset})")
        k, names = self._run_classes(int(run_id))
        if k is not None and max(labels) >= k:
            shown = f" ({', '.join(names)})" if names else ""
            raise fail("label", f"a class id in 0..{k - 1}{shown}", max(labels))

    def _run_classes(self, run_id: int) -> tuple[int | None, list[str] | None]:
        rows = self._query(
            "SELECT a.n_classes, a.class_names FROM run_applications r JOIN applications a USING "
            "(application_id) "
            "WHERE r.run_id = ? UNION ALL SELECT n_classes, class_names FROM soft_labels WHERE run_id = ?",
            [run_id, run_id])
        if not rows:
            return None, None
        return int(rows[0][0]), loads(rows[0][1])

    # ------------------------------------------------------------------ review queue
    def claim_items(self, run_id: int, annotator: str, candidates: Any, n: int = 10,
                    lease_seconds: float = 600.0) -> list[Any]:
        """Hand ``annotator`` up to ``n`` items to review, never one another person holds or anyone answered.

        The annotator's own unexpired claims come first (their leases are
        renewed), then the first free ``candidates`` (in the order given, e.g.
        an active-learning ranking). Claims expire after ``lease_seconds``;
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
        with self._transaction() as con:
            now = utcnow()
            con.execute("DELETE FROM claims WHERE expires_at <= ?", [now])
            con.execute("UPDATE claims SET expires_at = ? WHERE run_id = ? AND annotator = ?",
                        [now + lease, int(run_id), annotator])
            own = con.execute("SELECT item_key, row FROM claims WHERE run_id = ? AND annotator = ? "
                              "ORDER BY claimed_at, row", [int(run_id), annotator]).fetchall()[:n]
            picked = _free_candidates(con, int(run_id), dataset_id, keys, rows, n - len(own))
            if picked:
                con.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?)",
                                [[int(run_id), k, int(r), annotator, now, now + lease] for k, r in picked])
        return self._ids_of_rows(dataset_id, [int(r) for _, r in own] + [int(r) for _, r in picked])

    def release_claims(self, run_id: int, annotator: str) -> int:
        """Give back every item ``annotator`` holds in a run (e.g. on logout); return how many."""
        check_text("annotator", annotator)
        self._run_row(run_id)
        with self._transaction() as con:
            row = con.execute("DELETE FROM claims WHERE run_id = ? AND annotator = ? RETURNING row",
                              [int(run_id), annotator]).fetchall()
        return len(row)

    # ------------------------------------------------------------------ item helpers
    def _item_rows(self, dataset_id: int, item_ids: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        from ._codec import id_keys

        arr = np.asarray(item_ids)
        if arr.ndim != 1:
            raise fail(what, "a 1-d sequence of item ids", arr)
        keys = id_keys(arr, what) if arr.size else np.array([], dtype=object)
        return keys, self._lookup_rows(dataset_id, keys, what)

    def _ids_of_rows(self, dataset_id: int, rows: list[int]) -> list[Any]:
        if not rows:
            return []
        dtype = str(self._dataset_row(dataset_id)[2])
        found = dict(self._query("SELECT row, item_key FROM items WHERE dataset_id = ? AND row IN "
                                 "(SELECT unnest(?::BIGINT[]))", [dataset_id, rows]))
        return [typed_id(found[r], dtype) for r in rows]


def typed_id(key: str, dtype: str) -> Any:
    """An item key (text) back to the dataset's id type (int for integer ids)."""
    return int(key) if np.dtype(dtype).kind in "iu" else key


def _release_answered(con: Any, dataset_id: int, keys: np.ndarray, who: list[str | None]) -> None:
    """Drop the claims the answering annotators held on the answered items."""
    if not len(keys) or con.execute("SELECT count(*) FROM claims").fetchall()[0][0] == 0:
        return
    frame = pa.table({"item_key": pa.array(keys, pa.string()), "annotator": pa.array(who, pa.string())})
    con.register("_wl_answered", frame)
    try:
        con.execute(
            "DELETE FROM claims c USING _wl_answered a WHERE c.item_key = a.item_key "
            "AND c.annotator = a.annotator AND c.run_id IN (SELECT run_id FROM runs WHERE dataset_id = ?)",
            [dataset_id])
    finally:
        con.unregister("_wl_answered")


def _free_candidates(con: Any, run_id: int, dataset_id: int, keys: np.ndarray, rows: np.ndarray,
                     n: int) -> list[tuple[str, int]]:
    if n <= 0 or len(keys) == 0:
        return []
    frame = pa.table({"pos": pa.array(np.arange(len(keys))), "item_key": pa.array(keys, pa.string()),
                      "row": pa.array(rows)})
    con.register("_wl_candidates", frame)
    try:
        return con.execute(
            "SELECT c.item_key, c.row FROM _wl_candidates c "
            "WHERE NOT EXISTS (SELECT 1 FROM claims k WHERE k.run_id = ? AND k.row = c.row) "
            "AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.dataset_id = ? AND a.row = c.row) "
            "ORDER BY c.pos LIMIT ?", [run_id, dataset_id, n]).fetchall()
    finally:
        con.unregister("_wl_candidates")


def _broadcast(name: str, value: Any, n: int) -> list[Any]:
    if value is None or np.ndim(value) == 0:
        return [None if value is None else _py(value)] * n
    arr = list(np.asarray(value, dtype=object))
    if len(arr) != n:
        raise fail(name, f"one value or {n} values (one per item)", got_text=f"{len(arr)} values")
    return [_py(v) for v in arr]


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _ints(name: str, value: Any, n: int) -> list[int | None]:
    out = _broadcast(name, value, n)
    for v in out:
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise fail(name, "integer class ids", v)
    return out


def _floats(name: str, value: Any, n: int) -> list[float | None]:
    out = _broadcast(name, value, n)
    try:
        return [None if v is None or v != v else float(v) for v in out]
    except (TypeError, ValueError):
        raise fail(name, "real numbers", value) from None


def _texts(name: str, value: Any, n: int) -> list[str | None]:
    out = _broadcast(name, value, n)
    bad = [v for v in out if v is not None and not isinstance(v, str)]
    if bad:
        raise fail(name, "strings", bad[0])
    return out


def _times(name: str, value: Any, n: int) -> list[datetime]:
    out = _broadcast(name, value, n)
    now = utcnow()
    result = []
    for v in out:
        if v is None:
            result.append(now)
        elif isinstance(v, datetime):
            result.append(v if v.tzinfo is None else v.astimezone(UTC).replace(tzinfo=None))
        else:
            raise fail(name, "a datetime (UTC) or None", v)
    return result
