"""Human answers: written with their class NAME and identity, read per dataset *name* and item id.

An answer belongs to the dataset's name (all versions of the data file) and
its item id, not to one content fingerprint: a new version of the data sees
every answer on the items it still holds. Each answer keeps the class name it
was given as (so reordering classes never changes its meaning), its own time
(``updated_at``: a newer version of the same external answer supersedes the
old one, which stays in the history), and when the store learnt it
(``recorded_at``: what a run could see). How the answers of an item resolve
into one label is :mod:`._resolve`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._core.validation import check_choice, fail
from ._base import check_id, insert_columns, new_ids
from ._db import utcnow
from ._resolve import class_key, current_mask, resolve_answers
from ._rows import StoreBase, typed_id
from ._sql import VERSIONS_SQL
from ._values import broadcast, text_values, time_values

__all__ = ["AnswersMixin"]

_ANSWER_COLUMNS = ("annotation_id, dataset_id, item_key AS item_id, annotator, label, class_name, status, origin, "
                   "run_id, external_id, created_at, updated_at, recorded_at, "
                   "(SELECT name FROM datasets d WHERE d.dataset_id = a.dataset_id) AS dataset_name")


class AnswersMixin(StoreBase):
    """Writing human answers and reading them back per dataset name and item id."""

    # ------------------------------------------------------------------ writing
    def add_annotation(self, dataset_id: int, item_id: Any, annotator: str, label: Any, *,
                       origin: str = "review", run_id: int | None = None, when: datetime | None = None,
                       class_names: Any = None) -> int:
        """Record one human answer and release the annotator's claim on the item.

        Parameters
        ----------
        dataset_id : int
            The dataset of the item (any version of the data holding it).
        item_id : int or str
            The item's own id.
        annotator : str
            Who answered.
        label : str, int or None
            The class given: its name, or its id (read against
            ``class_names``, else the classes of ``run_id``, else those of
            the dataset's newest run). None records a skip.
        origin : str, default="review"
            Where the answer came from (``"review"``, ``"label_studio"``,
            ``"adjudication"`` settles a disagreement, ...).
        run_id : int, optional
            The run whose review queue asked for it.
        when : datetime, optional
            Time of the answer (UTC); now by default.
        class_names : sequence of str, optional
            The classes integer labels refer to.

        Returns
        -------
        int
            The annotation id.

        Examples
        --------
        >>> store.add_annotation(ds, "c042", "alice", "SPAM")             # doctest: +SKIP
        """
        return int(self.add_annotations(dataset_id, [item_id], annotator, [label], origin=origin,
                                        run_id=run_id, when=when, class_names=class_names)[0])

    def add_annotations(self, dataset_id: int, item_ids: Any, annotators: Any, labels: Any, *,
                        origin: Any = "import", run_id: int | None = None, when: Any = None,
                        updated: Any = None, external_ids: Any = None, class_names: Any = None) -> np.ndarray:
        """Record many human answers at once (e.g. a Label Studio export); see :meth:`add_annotation`.

        Every keyword takes one value for all answers or one per answer.

        Parameters
        ----------
        updated : datetime or array-like, optional
            When each answer was last changed (Label Studio's ``updated_at``);
            ``when`` by default. Of the versions of one external answer, the
            newest counts.
        external_ids : str or array-like, optional
            The answer's id in the tool it came from (e.g.
            ``"label_studio:<annotation id>"``). An answer whose external id
            and ``updated`` time are already stored for the item is not
            stored again: its existing id is returned.

        Returns
        -------
        numpy.ndarray of int
            The annotation ids, in the order given.
        """
        self._dataset_row(dataset_id)
        keys, rows = self._item_rows(int(dataset_id), item_ids, "item_ids")
        n = len(keys)
        who = text_values("annotators", annotators, n)
        if any(not w for w in who):
            raise fail("annotators", "a non-empty annotator name for every answer", annotators)
        ids, names = self._answer_labels(broadcast("labels", labels, n), run_id, int(dataset_id), class_names)
        created = time_values("when", when, n)
        changed = time_values("updated", [c if u is None else u
                                          for c, u in zip(created, broadcast("updated", updated, n))], n)
        external = [None if e is None else str(e) for e in broadcast("external_ids", external_ids, n)]
        columns = dict(dataset_id=np.full(n, int(dataset_id)), item_key=pa.array(keys, pa.string()), row=rows,
                       annotator=who, label=pa.array(ids, pa.int32()), class_name=pa.array(names, pa.string()),
                       status=["skipped" if i is None and c is None else "answered" for i, c in zip(ids, names)],
                       origin=text_values("origin", origin, n), run_id=pa.array([run_id] * n, pa.int64()),
                       external_id=pa.array(external, pa.string()), created_at=created, updated_at=changed)
        with self._transaction() as con:
            known = _known_versions(con, int(dataset_id), keys, external, changed)
            fresh = np.array([k is None for k in known], dtype=bool)
            out = np.array([0 if k is None else k for k in known], dtype=np.int64)
            out[fresh] = new_ids(con, "annotation", int(fresh.sum()))
            repeats = np.flatnonzero(out < 0)
            out[repeats] = out[-out[repeats] - 1]  # a repeat within the batch gets the id of its first
            if fresh.any():
                insert_columns(con, "annotations", {
                    "annotation_id": out[fresh], "recorded_at": [utcnow()] * int(fresh.sum()),
                    **{name: _take(values, fresh) for name, values in columns.items()}})
            _release_answered(con, int(dataset_id), keys, who)
        return out

    def reattribute_answers(self, annotation_ids: Any, annotators: Any) -> np.ndarray:
        """Record that stored answers were given by someone else than recorded (e.g. a user id, later named).

        History is not rewritten: each answer gets a new version with the
        new annotator (same item, class, times, origin and external id; a
        later ``recorded_at``), which supersedes the stored one; the stored
        one stays in the history. Only answers with an external id can be
        superseded this way.

        Parameters
        ----------
        annotation_ids : array-like of int
            Current answers to re-attribute.
        annotators : str or array-like of str
            The annotator of each (one name for all, or one per answer).

        Returns
        -------
        numpy.ndarray of int
            The ids of the new versions, in the order given.

        Raises
        ------
        ValidationError
            An unknown annotation id, one without an external id, or an empty name.

        Examples
        --------
        >>> store.reattribute_answers([12, 13], "ann@example.org")      # doctest: +SKIP
        array([41, 42])
        """
        ids = [check_id("annotation_ids", a) for a in np.asarray(annotation_ids, dtype=object).ravel()]
        who = text_values("annotators", annotators, len(ids))
        if any(not w for w in who):
            raise fail("annotators", "a non-empty annotator name for every answer", annotators)
        if not ids:
            return np.zeros(0, dtype=np.int64)
        with self._transaction() as con:
            found = dict(con.execute("SELECT annotation_id, external_id FROM annotations WHERE annotation_id IN "
                                     "(SELECT unnest(?::BIGINT[]))", [ids]).fetchall())
            bad = [a for a in ids if found.get(a) is None]
            if bad:
                raise fail("annotation_ids", "ids of stored answers that carry an external id",
                           got_text=f"{bad[0]} ({'no such answer' if bad[0] not in found else 'no external id'})")
            out = new_ids(con, "annotation", len(ids))
            now = utcnow()
            con.executemany(
                "INSERT INTO annotations (annotation_id, dataset_id, item_key, row, annotator, label, class_name, "
                "status, origin, run_id, external_id, created_at, updated_at, recorded_at) "
                "SELECT ?, dataset_id, item_key, row, ?, label, class_name, status, origin, run_id, external_id, "
                "created_at, updated_at, ? FROM annotations WHERE annotation_id = ?",
                [[int(n), w, now, a] for n, w, a in zip(out, who, ids)])
        return out

    def _answer_labels(self, labels: list[Any], run_id: int | None, dataset_id: int,
                       class_names: Any) -> tuple[list[int | None], list[str | None]]:
        """Class ids and names of the labels given (names, ids or None for a skip)."""
        names = self._label_names(run_id, dataset_id, class_names)
        ids: list[int | None] = []
        out: list[str | None] = []
        for value in labels:
            if value is None:
                ids.append(None)
                out.append(None)
            elif isinstance(value, str):
                if names is not None and value not in names:
                    raise fail("labels", f"class names of {names} or class ids", value)
                ids.append(names.index(value) if names is not None else None)
                out.append(value)
            elif isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0:
                if names is not None and value >= len(names):
                    raise fail("labels", f"a class id in 0..{len(names) - 1} ({', '.join(names)})", value)
                ids.append(int(value))
                out.append(None if names is None else names[int(value)])
            else:
                raise fail("labels", "class names, class ids >= 0, or None (a skip)", value)
        return ids, out

    def _label_names(self, run_id: int | None, dataset_id: int, class_names: Any) -> list[str] | None:
        if class_names is not None:
            names = list(class_names)
            if not names or not all(isinstance(c, str) and c for c in names) or len(set(names)) != len(names):
                raise fail("class_names", "unique non-empty class names", class_names)
            return names
        if run_id is not None:
            run_dataset = int(self._run_row(run_id)[0])
            if run_dataset != dataset_id:
                raise fail("run_id", f"a run over dataset {dataset_id}",
                           got_text=f"run {run_id} (dataset {run_dataset})")
            return self._run_classes(int(run_id))[1]
        return self.project_class_names(dataset_id)

    def project_class_names(self, dataset_id: int) -> list[str] | None:
        """The class names recorded with the newest run of the dataset (any version) that recorded names."""
        rows = self._query(
            f"SELECT run_id FROM runs WHERE dataset_id IN ({VERSIONS_SQL}) ORDER BY run_id DESC",
            [int(dataset_id)])
        for (run,) in rows:
            names = self._run_classes(int(run))[1]
            if names:
                return [str(n) for n in names]
        return None

    # ------------------------------------------------------------------ reading
    def annotations(self, dataset_id: int | None = None, *, item_id: Any = None, annotator: str | None = None,
                    run_id: int | None = None, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """Human answers (oldest first), filtered by dataset, item, annotator and/or run.

        With ``dataset_id``: the answers on that dataset's items given on any
        version of it (every dataset with its name). Columns:
        ``annotation_id, dataset_id`` (where it was given), ``item_id,
        annotator, label`` (the class id when given), ``class_name, status``
        (``"answered"`` or ``"skipped"``), ``origin, run_id, external_id,
        created_at, updated_at, recorded_at`` and ``current`` (False once
        superseded by a newer version of the answer or a later answer of the
        same annotator; superseded answers stay as history).
        """
        frame = self._answer_frame(dataset_id, None)
        for column, value in (("item_id", item_id), ("annotator", annotator), ("run_id", run_id)):
            if value is not None:
                wanted = str(value.item() if isinstance(value, np.generic) else value)
                frame = frame[frame[column].astype(str) == wanted]
        frame = frame.drop(columns=["answered_at", "class_key", "dataset_name"]).reset_index(drop=True)
        stop = None if limit is None else offset + int(limit)
        return self._typed_answer_ids(frame.iloc[int(offset):stop].reset_index(drop=True), dataset_id)

    def _answer_frame(self, dataset_id: int | None, as_of: datetime | None, item_key: str | None = None, *,
                      only_items: bool = True) -> pd.DataFrame:
        """Answer rows with ``answered_at``, ``class_key`` and ``current`` (among those recorded by ``as_of``).

        With ``dataset_id``: the answers of every version of the dataset, on
        its items (``only_items``) or on any item.
        """
        where: list[str] = []
        params: list[Any] = []
        partitioned = None
        if dataset_id is not None:
            self._dataset_row(dataset_id)
            where.append(f"dataset_id IN ({VERSIONS_SQL})")
            params.append(int(dataset_id))
            partitioned = self._item_locator(int(dataset_id)) if only_items else None
            if only_items and partitioned is None:
                where.append("item_key IN (SELECT item_key FROM items WHERE dataset_id = ?)")
                params.append(int(dataset_id))
        if as_of is not None:
            where.append("recorded_at <= ?")
            params.append(as_of)
        if item_key is not None:
            where.append("item_key = ?")
            params.append(item_key)
        sql = f"SELECT {_ANSWER_COLUMNS} FROM annotations a"
        frame = self._frame(sql + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY annotation_id",
                            params)
        if partitioned is not None and len(frame):  # items in Parquet: those the dataset's partitions hold
            frame = frame[partitioned.rows_of(frame["item_id"].tolist()) >= 0].reset_index(drop=True)
        frame["answered_at"] = frame["updated_at"].fillna(frame["created_at"])
        frame["class_key"] = [class_key(c, v) for c, v in zip(frame["class_name"], frame["label"])]
        frame["current"] = current_mask(frame)
        return frame

    def _typed_answer_ids(self, frame: pd.DataFrame, dataset_id: int | None) -> pd.DataFrame:
        if frame.empty:
            return frame
        if dataset_id is not None:
            dtype = str(self._dataset_row(dataset_id)[2])
            frame["item_id"] = [typed_id(k, dtype) for k in frame["item_id"]]
            return frame
        dtypes = {int(d): str(self._dataset_row(int(d))[2]) for d in frame["dataset_id"].unique()}
        frame["item_id"] = [typed_id(k, dtypes[int(d)]) for k, d in zip(frame["item_id"], frame["dataset_id"])]
        return frame

    def answer_classes(self, dataset_id: int) -> dict[str, int]:
        """``{class: number of current answers}`` on the dataset's items (``"#<id>"`` for nameless answers)."""
        frame = self._answer_frame(dataset_id, None)
        frame = frame[frame["current"] & frame["class_key"].notna()]
        return {str(k): int(v) for k, v in frame["class_key"].value_counts().sort_index().items()}

    def human_labels(self, dataset_id: int, *, class_names: Any = None, renames: Any = None,
                     as_of: datetime | None = None, unknown: str = "raise", item_id: Any = None) -> pd.DataFrame:
        """The label the human answers give each answered item of a dataset (the rule of :mod:`._resolve`).

        Parameters
        ----------
        dataset_id : int
            The dataset version whose items are labelled (answers given on
            any version count).
        class_names : sequence of str, optional
            The classes to map answers to, by name; by default those of the
            dataset's newest run.
        renames : dict, optional
            ``{old name: new name}`` for classes renamed since answered.
        as_of : datetime, optional
            Only answers the store had recorded by then (what a run saw).
        unknown : {"raise", "ignore"}, default="raise"
            What an answer whose class is not in ``class_names`` does: raise
            a ValidationError naming the class and the number of answers, or
            count as no answer.
        item_id : int or str, optional
            Only this item.

        Returns
        -------
        pandas.DataFrame
            One row per item with a current answer or skip, in dataset
            order: ``item_id, row, label`` (class id, -1 when unresolved or
            skipped), ``class_name, status`` (``agreed``, ``majority``,
            ``adjudicated``, ``tie``, ``skipped``), ``n_annotators,
            n_skipped, votes``.
        """
        check_choice("unknown", unknown, ("raise", "ignore"))
        names = list(class_names) if class_names is not None else self.project_class_names(dataset_id)
        key = None if item_id is None else str(item_id.item() if isinstance(item_id, np.generic) else item_id)
        return self._human_labels(int(dataset_id), names, dict(renames or {}), as_of, unknown, key)

    def _human_labels(self, dataset_id: int, names: list[str] | None, renames: dict[str, str],
                      as_of: datetime | None, unknown: str, item_key: str | None) -> pd.DataFrame:
        frame = self._mapped_answers(dataset_id, names, renames, as_of, unknown, item_key)
        return self._labelled_items(dataset_id, resolve_answers(frame), names)

    def _used_answer_ids(self, dataset_id: int, as_of: datetime | None, item_key: str | None,
                         names: list[str] | None, renames: dict[str, str]) -> set[int]:
        """Ids of the answers that count (current, recorded by ``as_of``, a class of ``names``)."""
        frame = self._mapped_answers(dataset_id, names, renames, as_of, "ignore", item_key)
        return {int(a) for a in frame.loc[frame["class_key"].notna(), "annotation_id"]}

    def _mapped_answers(self, dataset_id: int, names: list[str] | None, renames: dict[str, str],
                        as_of: datetime | None, unknown: str, item_key: str | None) -> pd.DataFrame:
        """The current answers with ``class_key`` mapped to ``names`` (None for skips and unknown classes)."""
        mapping = _class_mapping(names, renames)
        frame = self._answer_frame(dataset_id, as_of, item_key)
        frame = frame[frame["current"]].copy()
        keys = [mapping.get(k, k) if isinstance(k, str) else None for k in frame["class_key"]]
        known = set(mapping.values())
        bad = np.array([k is not None and not k.startswith("#") and k not in known for k in keys],
                       dtype=bool) if names is not None else np.zeros(len(frame), dtype=bool)
        frame["class_key"] = pd.Series(keys, index=frame.index, dtype=object)
        if bad.any():
            if unknown == "raise":
                counts = frame.loc[bad, "class_key"].value_counts()
                raise fail("class_names", f"every class the human answers use (classes {names})",
                           got_text=", ".join(f"no class {k!r} (used by {c} human answers)"
                                              for k, c in counts.items()) + "; add it back or rename it")
            frame["class_key"] = pd.Series([None if b else k for k, b in zip(keys, bad)], index=frame.index,
                                           dtype=object)
        return frame

    def _labelled_items(self, dataset_id: int, resolved: pd.DataFrame, names: list[str] | None) -> pd.DataFrame:
        locator = self._item_locator(dataset_id)
        if locator is not None:  # a partitioned dataset: rows from the items' partitions
            resolved["row"] = locator.rows_of(resolved["item_id"].tolist())
        else:
            rows = dict(self._query("SELECT item_key, row FROM items WHERE dataset_id = ? AND item_key IN "
                                    "(SELECT unnest(?::VARCHAR[]))", [dataset_id, resolved["item_id"].tolist()]))
            resolved["row"] = [int(rows[k]) for k in resolved["item_id"]]
        resolved["label"] = [_class_id(k, names) for k in resolved["class_key"]]
        resolved["class_name"] = [k if isinstance(k, str) and not k.startswith("#") else None
                                  for k in resolved["class_key"]]
        resolved = resolved.sort_values("row", kind="stable").reset_index(drop=True)
        columns = ["item_id", "row", "label", "class_name", "status", "n_annotators", "n_skipped", "votes"]
        return self._typed_answer_ids(resolved[columns], dataset_id)

    def disagreements(self, dataset_id: int, *, class_names: Any = None, renames: Any = None) -> pd.DataFrame:
        """Items whose annotators disagree (``status`` ``"tie"``: left open, or ``"majority"``), for adjudication.

        Same columns as :meth:`human_labels`. An answer with origin
        ``"adjudication"`` settles an item (it then leaves this list).
        """
        labels = self.human_labels(dataset_id, class_names=class_names, renames=renames, unknown="ignore")
        return labels[labels["status"].isin(["tie", "majority"])].reset_index(drop=True)


def _take(values: Any, mask: np.ndarray) -> Any:
    if isinstance(values, pa.Array):
        return values.filter(pa.array(mask))
    return np.asarray(values, dtype=object)[mask].tolist() if not isinstance(values, np.ndarray) else values[mask]


def _known_versions(con: Any, dataset_id: int, keys: np.ndarray, external: list[str | None],
                    updated: list[datetime]) -> list[int | None]:
    """Per answer: the stored id when its (item, external id, updated time) is already stored, a negative
    ``-(j + 1)`` when it repeats answer ``j`` of this batch, else None (new)."""
    wanted = sorted({e for e in external if e is not None})
    known: dict[tuple[str, str, datetime], int] = {}
    if wanted:
        rows = con.execute(
            f"SELECT item_key, external_id, updated_at, min(annotation_id) FROM annotations WHERE dataset_id IN "
            f"({VERSIONS_SQL}) AND external_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL",
            [dataset_id, wanted]).fetchall()
        known = {(str(k), str(e), u): int(i) for k, e, u, i in rows}
    out: list[int | None] = []
    for j, (k, e, u) in enumerate(zip(keys, external, updated)):
        key = None if e is None else (str(k), e, u)
        out.append(None if key is None else known.get(key))
        if key is not None and key not in known:
            known[key] = -(j + 1)
    return out


def _class_mapping(names: list[str] | None, renames: dict[str, str]) -> dict[str, str]:
    if names is None:
        return {}
    mapping = {n: n for n in names}
    for old, new in renames.items():
        if new not in mapping:
            raise fail(f"renames[{old!r}]", f"one of the classes {names}", new)
        mapping[str(old)] = new
    return mapping


def _class_id(key: Any, names: list[str] | None) -> int:
    if not isinstance(key, str):
        return -1
    if key.startswith("#") and key[1:].isdigit():
        return int(key[1:])
    return names.index(key) if names is not None and key in names else -1
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


