"""What changed between two runs (``diff``), by item id, also across versions of the dataset.

Both runs' final labels follow the rule of :mod:`._explain`. Items are matched
by their own ids, so two runs over different versions of one dataset (a data
file edited between them) compare item by item: an item only one version
holds is listed, with the reason. Labels are compared by class *name* when
both runs recorded names, so reordering the classes is not a change, and
neither is renaming one (``[labels.rename]`` of either run maps the old name).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import fail
from ._explain import FINAL_FROM, mapped_class, plurality, reason, vote_delta
from ._rows import StoreBase, typed_id

__all__ = ["DiffMixin"]


class DiffMixin(StoreBase):
    """``diff``: items whose final label differs between two runs; ``final_labels``: one run's labels."""

    def diff(self, run_a: int, run_b: int) -> pd.DataFrame:
        """Items whose final label differs between two runs of one dataset (any versions of it), and why.

        Returns
        -------
        pandas.DataFrame
            One row per changed item: ``item_id``, ``label_a``, ``label_b``
            (class ids in each run's classes, -1 = no label or no such item),
            ``class_a``, ``class_b`` (class names, None without names),
            ``from_a``, ``from_b`` (see :meth:`explain`; ``"absent"`` when
            the run's dataset version does not hold the item),
            ``votes_changed`` (sources whose vote on the item differs),
            ``versions_changed`` (those of them whose version differs between
            the runs), ``reason`` (a short sentence).
        """
        ds_a, ds_b = self._compared_datasets(run_a, run_b)
        a, b = self._run_outcome(int(run_a)), self._run_outcome(int(run_b))
        keys, ia, ib = _aligned(a["keys"], b["keys"], same=ds_a == ds_b)
        label_a, label_b = _take(a["labels"], ia), _take(b["labels"], ib)
        class_a, class_b = _names(label_a, a["class_names"]), _names(label_b, b["class_names"])
        by_name = a["class_names"] is not None and b["class_names"] is not None
        # a class renamed between the runs ([labels.rename] old = "new") is the same class under its new name
        renames = {**self.run_class_renames(run_a), **self.run_class_renames(run_b)}
        same = (_renamed(class_a, renames) == _renamed(class_b, renames)) if by_name else (label_a == label_b)
        changed = np.flatnonzero(~same | ((ia < 0) != (ib < 0)))
        sources = sorted(set(a["sources"]) | set(b["sources"]))
        delta = vote_delta(sources, (_take_rows(a["votes"], ia[changed]), a["sources"]),
                           (_take_rows(b["votes"], ib[changed]), b["sources"]))
        new_version = np.array([a["versions"].get(s) != b["versions"].get(s) for s in sources], dtype=bool)
        frame = pd.DataFrame({
            "item_id": _typed_ids(keys[changed], b["dtype"]),
            "label_a": label_a[changed], "label_b": label_b[changed],
            "class_a": class_a[changed], "class_b": class_b[changed],
            "from_a": _origins(a["origin"], ia[changed]), "from_b": _origins(b["origin"], ib[changed]),
        })
        origins = np.array([FINAL_FROM.index(f) if f in FINAL_FROM else len(FINAL_FROM)
                            for f in (*frame["from_a"], *frame["from_b"])], dtype=np.int64).reshape(2, -1).T
        # one sentence per distinct (votes changed, origins) pattern, not per item
        patterns, inverse = np.unique(np.column_stack([delta, origins]), axis=0, return_inverse=True)
        named = [[sources[j] for j in np.flatnonzero(r[: len(sources)])] for r in patterns]
        fresh = [[sources[j] for j in np.flatnonzero(r[: len(sources)] & new_version)] for r in patterns]
        said = [_reason_of(_origin_name(r[-2]), _origin_name(r[-1]), v, w, run_a, run_b)
                for r, v, w in zip(patterns, named, fresh)]
        inverse = np.asarray(inverse).ravel()
        frame["votes_changed"] = [list(named[i]) for i in inverse]
        frame["versions_changed"] = [list(fresh[i]) for i in inverse]
        frame["reason"] = [said[i] for i in inverse]
        if by_name:  # the same class id, and the same votes, under another name: the class list changed
            moved = (frame["label_a"] == frame["label_b"]) & (frame["label_a"] >= 0) & ~frame["votes_changed"].map(bool)
            rows = frame.loc[moved, ["label_a", "class_a", "class_b"]].itertuples(index=False)
            frame.loc[moved, "reason"] = [f"class id {a} names {ca!r} in run {run_a} and {cb!r} in run {run_b} "
                                          "(labels.classes changed; the votes are the same ids)" for a, ca, cb in rows]
        return frame

    def final_labels(self, run_id: int | None = None) -> pd.DataFrame:
        """Every item's final label in a run, by the rule of :meth:`explain`, with the label model's probabilities.

        Parameters
        ----------
        run_id : int, optional
            The run (default: the newest finished run).

        Returns
        -------
        pandas.DataFrame
            One row per item of the run's dataset, in data order: ``item_id``,
            ``label`` (class id, -1 = no label), ``class`` (its name, None
            without names or label), ``label_from`` (``"annotation"``,
            ``"correction"``, ``"end_model"`` (an item no source voted on, in
            a run that trained an end model), ``"label_model"``, ``"votes"``
            or ``"none"``),
            ``n_votes`` (sources that voted on the item), then one column
            ``p_<class name>`` (``p_<id>`` without names) per class with the
            label model's probability (NaN where the run has no soft label
            for the item).
        """
        run = run_id if run_id is not None else self.latest_run_id()
        if run is None:
            raise fail("run_id", "a finished run (the default is the newest)", got_text="None, and none has finished")
        self._run_row(run)
        outcome = self._run_outcome(run)
        names = outcome["class_names"]
        frame = pd.DataFrame({
            "item_id": _typed_ids(outcome["keys"], outcome["dtype"]),
            "label": outcome["labels"].astype(np.int64),
            "class": _names(outcome["labels"], names),
            "label_from": [_origin_name(code) for code in outcome["origin"]],
            "n_votes": (outcome["votes"] >= 0).sum(axis=1).astype(np.int64),
        })
        proba = self._run_proba(run, len(frame))
        columns = names if names is not None and len(names) == proba.shape[1] else range(proba.shape[1])
        for j, name in enumerate(columns):
            frame[f"p_{name}"] = proba[:, j]
        return frame

    def _run_proba(self, run_id: int, n: int) -> np.ndarray:
        """The run's label-model soft labels over the dataset's rows (NaN rows where it has none)."""
        proba = self._role_proba(run_id, "label_model", n)
        return np.full((n, 0), np.nan) if proba is None else proba

    def _role_proba(self, run_id: int, role: str, n: int) -> np.ndarray | None:
        """The run's latest soft labels of ``role`` over the dataset's ``n`` rows (NaN rows where it has none).

        None when the run recorded none of that role.
        """
        soft = self._query("SELECT soft_labels_id, rows_array FROM soft_labels WHERE run_id = ? AND role = ? "
                           "ORDER BY soft_labels_id DESC LIMIT 1", [run_id, role])
        if not soft:
            return None
        S = self.load_soft_labels(int(soft[0][0]))
        rows = self._rows_of(soft[0][1])
        out = np.full((n, S.proba.shape[1]), np.nan)
        out[np.arange(n) if rows is None else rows] = S.proba
        return out

    def _run_outcome(self, run_id: int) -> dict[str, Any]:
        """A run's final labels over its dataset's rows, with the keys, votes and class names they need."""
        dataset_id, _, _, finished = self._run_row(run_id)
        n = int(self._dataset_row(dataset_id)[1])
        votes, sources, versions = self._run_votes(run_id, n)
        names = self._run_classes(run_id)[1]
        renames = self.run_class_renames(run_id)
        labels, origin = plurality(votes)
        self._apply_posterior(run_id, n, labels, origin)
        self._apply_end_model(run_id, n, labels, origin, np.asarray(~(votes >= 0).any(axis=1), dtype=bool))
        overrides = self._overrides(run_id, int(dataset_id), finished, names, renames)
        rows = self._item_rows_of(int(dataset_id), sorted(set(overrides["item_key"])))
        for key, label, source in overrides.itertuples(index=False):
            row = rows.get(key)
            if row is not None:
                labels[row], origin[row] = label, FINAL_FROM.index(source)
        return {"keys": self._dataset_keys(int(dataset_id)), "labels": labels, "origin": origin,
                "votes": votes, "sources": sources, "versions": versions, "class_names": names,
                "dtype": str(self._dataset_row(dataset_id)[2])}

    def final_label_overrides(self, run_id: int) -> pd.DataFrame:
        """The items whose final label in a run a person gave (the rule of :meth:`explain`), by item id.

        A run that keeps its labels in Parquet partitions (the Dask engine) is
        read a partition at a time; these few labels are what is laid over
        the label model's there, as :meth:`final_labels` does for a local run.

        Returns
        -------
        pandas.DataFrame
            One row per item: ``item_id`` (as the store keys it: a string),
            ``label`` (class id in the run's classes) and ``label_from``
            (``"correction"``, or ``"annotation"``, which wins: a human answer
            recorded before the run finished).
        """
        dataset_id, _, _, finished = self._run_row(run_id)
        overrides = self._overrides(int(run_id), int(dataset_id), finished, self._run_classes(int(run_id))[1],
                                    self.run_class_renames(int(run_id)))
        return overrides.rename(columns={"item_key": "item_id"}).reset_index(drop=True)

    def _overrides(self, run_id: int, dataset_id: int, finished: Any, names: list[str] | None,
                   renames: dict[str, str]) -> pd.DataFrame:
        """``item_key, label, label_from`` of the corrections, then the answers, that apply to a run; one per item."""
        keys: list[str] = []
        labels: list[int] = []
        sources: list[str] = []
        for c in self._corrections_for(run_id, dataset_id, finished, None):
            label = mapped_class(c["new_class"], c["new_label"], names, renames)
            if label is not None:
                keys.append(str(c["item_key"]))
                labels.append(int(label))
                sources.append("correction")
        human = self._human_labels(dataset_id, names, renames, finished, "ignore", None)
        used = human[human["label"] >= 0]
        keys += [str(k.item() if isinstance(k, np.generic) else k) for k in used["item_id"]]
        labels += [int(v) for v in used["label"]]
        sources += ["annotation"] * len(used)
        frame = pd.DataFrame({"item_key": pd.Series(keys, dtype=object), "label": np.asarray(labels, dtype=np.int64),
                              "label_from": pd.Series(sources, dtype=object)})
        return frame.drop_duplicates("item_key", keep="last")  # the last word on an item: an answer over a correction

    def _item_rows_of(self, dataset_id: int, keys: list[str]) -> dict[str, int]:
        if not keys:
            return {}
        return {str(k): int(r) for k, r in self._query(
            "SELECT item_key, row FROM items WHERE dataset_id = ? AND item_key IN (SELECT unnest(?::VARCHAR[]))",
            [dataset_id, keys])}

    def _apply_posterior(self, run_id: int, n: int, labels: np.ndarray, origin: np.ndarray) -> None:
        """Give every item with a label-model soft label its arg-max."""
        self._apply_role(run_id, "label_model", n, labels, origin, np.ones(n, dtype=bool))

    def _apply_end_model(self, run_id: int, n: int, labels: np.ndarray, origin: np.ndarray,
                         unvoted: np.ndarray) -> None:
        """Give the items no source voted on the arg-max of the run's end model (role ``"end_model"``), if any."""
        if unvoted.any():
            self._apply_role(run_id, "end_model", n, labels, origin, unvoted)

    def _apply_role(self, run_id: int, role: str, n: int, labels: np.ndarray, origin: np.ndarray,
                    wanted: np.ndarray) -> None:
        """Set the ``wanted`` items that have a soft label of ``role`` to its arg-max, from ``role``."""
        proba = self._role_proba(run_id, role, n)
        if proba is None:
            return
        take = wanted & ~np.isnan(proba).any(axis=1)
        labels[take], origin[take] = np.argmax(proba[take], axis=1), FINAL_FROM.index(role)

    def _run_votes(self, run_id: int, n: int) -> tuple[np.ndarray, list[str], dict[str, str | None]]:
        """Dense votes of a run over the dataset's rows (-1 where no application covers an item)."""
        apps = [int(a) for (a,) in self._query(
            "SELECT DISTINCT application_id FROM run_applications WHERE run_id = ? ORDER BY 1", [run_id])]
        columns: dict[str, np.ndarray] = {}
        versions: dict[str, str | None] = {}
        for app_id in apps:
            L = self.load_matrix(app_id)
            rows = self._rows_of(self._application_row(app_id)[7])
            rows = np.arange(n) if rows is None else rows
            dense = L.to_dense()
            for j, name in enumerate(L.source_names):
                col = np.full(n, -1, dtype=np.int16)
                col[rows] = dense[:, j]
                columns[name] = col
                versions[name] = L.source_versions[j] if L.source_versions else None
        names = list(columns)
        stacked = np.stack([columns[s] for s in names], axis=1) if names else np.full((n, 0), -1, np.int16)
        return stacked, names, versions


def _aligned(keys_a: Any, keys_b: Any, *, same: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The items of both runs (run a's in its order, then those only run b has) and their rows in each run
    (-1 where a run's data does not hold the item)."""
    a, b = np.asarray(keys_a, dtype=object), np.asarray(keys_b, dtype=object)
    if same:
        rows = np.arange(len(a))
        return a, rows, rows
    index_a, index_b = pd.Index(a, dtype=object), pd.Index(b, dtype=object)
    b_in_a = index_a.get_indexer(index_b)
    keys = np.concatenate([a, b[b_in_a < 0]])
    ib = index_b.get_indexer(pd.Index(keys, dtype=object))
    ia = np.concatenate([np.arange(len(a)), np.full(int((b_in_a < 0).sum()), -1)])
    return keys, ia, ib


def _typed_ids(keys: np.ndarray, dtype: str) -> list[Any]:
    return [typed_id(k, dtype) for k in keys.tolist()]


def _origin_name(code: int) -> str:
    return FINAL_FROM[int(code)] if int(code) < len(FINAL_FROM) else "absent"


def _take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    out = np.full(len(index), -1, dtype=np.int64)
    out[index >= 0] = values[index[index >= 0]]
    return out


def _take_rows(votes: np.ndarray, index: np.ndarray) -> np.ndarray:
    out = np.full((len(index), votes.shape[1]), -1, dtype=votes.dtype)
    out[index >= 0] = votes[index[index >= 0]]
    return out


def _names(labels: np.ndarray, names: list[str] | None) -> np.ndarray:
    if names is None:
        return np.full(len(labels), None, dtype=object)
    table = np.array([*names, None], dtype=object)
    return table[np.where((labels >= 0) & (labels < len(names)), labels, len(names))]


def _renamed(names: np.ndarray, renames: dict[str, str]) -> np.ndarray:
    """Class names with each old name of ``renames`` replaced by its new one."""
    return np.array([renames.get(n, n) if isinstance(n, str) else n for n in names.tolist()], dtype=object)


def _origins(origin: np.ndarray, index: np.ndarray) -> list[str]:
    return [FINAL_FROM[int(origin[i])] if i >= 0 else "absent" for i in index]


def _reason_of(from_a: str, from_b: str, votes: list[str], versions: list[str], run_a: int, run_b: int) -> str:
    if from_a == "absent":
        return f"item not in the data of run {run_a} (added in a later version)"
    if from_b == "absent":
        return f"item not in the data of run {run_b} (removed from the data)"
    return reason(from_a, from_b, votes, versions)
