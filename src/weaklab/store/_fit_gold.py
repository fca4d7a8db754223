"""Fit gold: the items whose gold in the data file fed a run's label-model fit, recorded at fit time.

A run's fit may take gold from the data file outside the dev split
(``[data].fit_gold``). Which items those were is recorded here by item key,
with the gold each gave (class id and, when the run has class names, the
name) and the item's content fingerprint in the run's dataset, under one set
per run with the digest of its ``(item key, gold)`` pairs. What reads them
(the review queues, ``weaklab doctor``) needs neither the data file nor the
option and seed again, so editing the file later changes none of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._core.hashing import fingerprint
from .._core.validation import fail
from ._base import check_text, dumps, insert_columns, loads
from ._db import utcnow
from ._rows import StoreBase, typed_id

__all__ = ["FitGoldMixin", "fit_gold_digest"]


def fit_gold_digest(item_keys: Any, gold: Any) -> str:
    """The digest of a fit-gold set: of its ``(item key, gold)`` pairs in key order (any input order).

    ``gold`` is each item's class name, or its class id where the run has no names.

    Examples
    --------
    >>> fit_gold_digest(["b", "a"], ["SPAM", "HAM"]) == fit_gold_digest(["a", "b"], ["HAM", "SPAM"])
    True
    >>> fit_gold_digest(["a", "b"], ["HAM", "SPAM"]) == fit_gold_digest(["a", "b"], ["SPAM", "SPAM"])
    False
    """
    pairs = sorted(zip((str(k) for k in item_keys), (str(g) for g in gold)))
    return fingerprint("fit_gold", pairs)


class FitGoldMixin(StoreBase):
    """``add_fit_gold``, ``fit_gold`` and ``fit_gold_record``: the items whose file gold fed a run's fit."""

    def add_fit_gold(self, run_id: int, item_ids: Any, labels: Any, *, class_names: Any = None,
                     option: Any = None, random_state: int | None = None, origin: str = "fit") -> str:
        """Record the items whose gold in the data file fed a run's label-model fit, and the gold each gave.

        Once per run (records are append-only). Each item's content
        fingerprint in the run's dataset (:meth:`add_dataset`'s
        ``item_hashes``) is kept beside it, to tell later whether its text changed.

        Parameters
        ----------
        run_id : int
            The run whose fit took the gold.
        item_ids : array-like of shape (n,)
            The items (ids of the run's dataset), at least one.
        labels : array-like of shape (n,) of int
            The gold class id each gave the fit (>= 0).
        class_names : sequence of str, optional
            The run's class names: each item's gold is kept by name too.
        option : "all" or int, optional
            The ``[data].fit_gold`` value that chose them.
        random_state : int, optional
            The seed of the draw (a sample of at most N).
        origin : str, default="fit"
            What recorded the set: ``"fit"``, or ``"repair"`` (``weaklab doctor --repair`` of a run recorded
            before fit gold was kept, from a data file unchanged since the run).

        Returns
        -------
        str
            The set's digest (:func:`fit_gold_digest`).

        Raises
        ------
        ValidationError
            An unknown run, an id not of the run's dataset, a label below 0 or
            beyond the class names, no items, or a run that has a set already.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from weaklab.store import Store
        >>> with Store(pathlib.Path(tempfile.mkdtemp()) / "s.duckdb") as store:
        ...     ds = store.add_dataset("d", item_ids=["a", "b", "c"])
        ...     run = store.start_run(ds)
        ...     digest = store.add_fit_gold(run, ["c", "a"], [1, 0], class_names=["HAM", "SPAM"], option=2)
        ...     store.fit_gold(run)[["item_id", "label", "class_name"]].values.tolist()
        [['a', 0, 'HAM'], ['c', 1, 'SPAM']]
        """
        dataset_id = int(self._run_row(run_id)[0])
        check_text("origin", origin)
        keys, rows = self._item_rows(dataset_id, item_ids, "item_ids")
        ids = _labels(labels, len(keys))
        names = None if class_names is None else [str(n) for n in class_names]
        if names is not None and ids.size and int(ids.max()) >= len(names):
            raise fail("labels", f"class ids below {len(names)} (the class names {names})", int(ids.max()))
        if not len(keys) or len(set(keys.tolist())) != len(keys):
            raise fail("item_ids", "at least one item, each once", got_text=f"{len(keys)} ids, "
                       f"{len(keys) - len(set(keys.tolist()))} repeated")
        given = [names[i] for i in ids.tolist()] if names is not None else None
        digest = fit_gold_digest(keys, given if given is not None else ids.tolist())
        with self._transaction() as con:
            if con.execute("SELECT 1 FROM fit_gold_sets WHERE run_id = ?", [int(run_id)]).fetchall():
                raise fail("run_id", "a run whose fit gold is not recorded yet",
                           got_text=f"run {run_id}, which has its set already")
            con.execute("INSERT INTO fit_gold_sets VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                int(run_id), dataset_id, len(keys), digest, None if option is None else dumps("option", option),
                None if random_state is None else int(random_state), origin, utcnow()])
            insert_columns(con, "fit_gold_items", {
                "run_id": np.full(len(keys), int(run_id), dtype=np.int64), "item_key": pa.array(keys, pa.string()),
                "row": np.asarray(rows, dtype=np.int64), "label": pa.array(ids, pa.int32()),
                "class_name": pa.array(given if given is not None else [None] * len(keys), pa.string())})
            con.execute("UPDATE fit_gold_items f SET content = i.content FROM items i WHERE f.run_id = ? AND "
                        "i.dataset_id = ? AND i.item_key = f.item_key", [int(run_id), dataset_id])
        return digest

    def fit_gold(self, run_id: int) -> pd.DataFrame:
        """The items whose gold in the data file fed a run's fit, as recorded (:meth:`add_fit_gold`).

        Returns
        -------
        pandas.DataFrame
            One row per item, in dataset order: ``item_id`` (the dataset's own
            id), ``row`` (in the run's dataset), ``label`` (class id),
            ``class_name`` (None without names), ``content`` (the item's
            content fingerprint then, None when unknown). Empty for a run
            whose fit took no file gold, or recorded before fit gold was kept
            (:meth:`fit_gold_record` tells the two apart with the run's metrics).
        """
        dataset_id = int(self._run_row(run_id)[0])
        frame = self._frame("SELECT item_key AS item_id, row, label, class_name, content FROM fit_gold_items "
                            "WHERE run_id = ? ORDER BY row", [int(run_id)])
        if len(frame):
            dtype = str(self._dataset_row(dataset_id)[2])
            frame["item_id"] = [typed_id(k, dtype) for k in frame["item_id"]]
        return frame

    def fit_gold_record(self, run_id: int) -> dict[str, Any] | None:
        """A run's fit-gold set (None when it recorded none): what chose it, and whether its items are intact.

        Returns
        -------
        dict or None
            ``n_items, digest, option, random_state, origin, created_at`` and
            ``intact``: the items kept give the recorded count and digest.
        """
        self._run_row(run_id)
        rows = self._query("SELECT n_items, digest, option, random_state, origin, created_at FROM fit_gold_sets "
                           "WHERE run_id = ?", [int(run_id)])
        if not rows:
            return None
        n_items, digest, option, seed, origin, created = rows[0]
        items = self._query("SELECT item_key, coalesce(class_name, CAST(label AS VARCHAR)) FROM fit_gold_items "
                            "WHERE run_id = ?", [int(run_id)])
        intact = len(items) == int(n_items) and fit_gold_digest(*zip(*items)) == digest if items else False
        return {"n_items": int(n_items), "digest": str(digest), "option": loads(option), "random_state": seed,
                "origin": str(origin), "created_at": created, "intact": bool(intact)}


def _labels(labels: Any, n: int) -> np.ndarray:
    values = np.asarray(labels)
    if values.shape != (n,) or (n and values.dtype.kind not in "iu"):
        raise fail("labels", f"{n} integer class ids (one per item)", labels)
    if n and int(values.min()) < 0:
        raise fail("labels", "class ids >= 0 (gold the fit took)", int(values.min()))
    return values.astype(np.int64)
