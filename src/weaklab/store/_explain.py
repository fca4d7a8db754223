"""The story of an item's label (``explain``) and what changed between two runs (``diff``).

The final label of an item in a run follows one rule, in both places:

1. human annotations the run could see (made before the run finished; every
   annotation for a run still open): the most frequent label, ties going to
   the latest answer;
2. otherwise the run's latest correction of the item;
3. otherwise the arg-max of the run's label-model posterior (the latest soft
   labels with role ``"label_model"``; ties to the lowest class id);
4. otherwise the plurality of the votes (no label on a tie or without votes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from .._core.label_matrix import vote_dtype
from .._core.validation import fail
from ._base import loads
from ._codec import votes_of_row
from ._queries import QueriesMixin

__all__ = ["ExplainMixin", "FINAL_FROM"]

#: Where a final label comes from (codes used by ``diff``).
FINAL_FROM = ("none", "votes", "label_model", "correction", "annotation")


class ExplainMixin(QueriesMixin):
    """Lineage queries over items."""

    def explain(self, item_id: Any, run_id: int | None = None) -> dict[str, Any]:
        """Every vote, the posterior, corrections, human answers and the final label of one item.

        Parameters
        ----------
        item_id : int or str
            The item's own id (a string is matched against integer ids too).
        run_id : int, optional
            The run; the latest run by default.

        Returns
        -------
        dict
            ``item_id, run_id, dataset, row``; ``votes`` (``source, version,
            label, class_name, application_id``), ``label_model`` (``class,
            label_model_run_id``), ``posterior`` (``proba, label,
            soft_labels_id, producer``), ``label_issues``, ``corrections``,
            ``annotations`` (each with ``used``: whether the run could see it),
            ``final_label``, ``final_class`` and ``final_from`` (one of
            ``"annotation"``, ``"correction"``, ``"label_model"``,
            ``"votes"``, ``"none"``). Times are ISO strings, so the dict is
            JSON-able.
        """
        run_id = self._resolve_run(run_id)
        dataset_id, status, _, finished = self._run_row(run_id)
        row, key = self._item_row(int(dataset_id), item_id)
        votes, class_names = self._votes_of(run_id, row)
        posterior, model = self._posterior_of(run_id, row)
        class_names = class_names or (posterior or {}).pop("class_names", None)
        if posterior is not None:
            posterior.pop("class_names", None)
        corrections = self._rows_as_dicts(
            "SELECT correction_id, old_label, new_label, method, score, threshold, who, why, issue_id, "
            "created_at "
            "FROM corrections WHERE run_id = ? AND row = ? ORDER BY correction_id", [run_id, row])
        annotations = self._rows_as_dicts(
            "SELECT annotation_id, annotator, label, origin, run_id, created_at FROM annotations "
            "WHERE dataset_id = ? AND row = ? ORDER BY annotation_id", [int(dataset_id), row])
        for answer in annotations:
            answer["used"] = finished is None or answer["created_at"] <= finished.isoformat()
        issues = self._rows_as_dicts(
            "SELECT issue_id, rank, given, suggested, score, method FROM label_issues WHERE run_id = ? "
            "AND row = ? "
            "ORDER BY issue_id", [run_id, row])
        label, origin = _final_one(votes, posterior, corrections, annotations)
        return {
            "item_id": _typed(key, item_id), "run_id": run_id, "run_status": status,
            "dataset": {"dataset_id": int(dataset_id), "name": self._dataset_row(dataset_id)[0]}, "row": row,
            "class_names": class_names, "votes": votes, "label_model": model, "posterior": posterior,
            "label_issues": issues, "corrections": corrections, "annotations": annotations,
            "final_label": label, "final_from": origin,
            "final_class": None if label is None or not class_names else class_names[label],
        }

    def diff(self, run_a: int, run_b: int) -> pd.DataFrame:
        """Items whose final label differs between two runs of one dataset, and why.

        Returns
        -------
        pandas.DataFrame
            One row per changed item: ``item_id``, ``label_a``, ``label_b``
            (-1 = no label), ``from_a``, ``from_b`` (see :meth:`explain`),
            ``votes_changed`` (sources whose vote on the item differs),
            ``versions_changed`` (those of them whose version differs between
            the runs), ``reason`` (a short sentence).
        """
        ds_a, ds_b = int(self._run_row(run_a)[0]), int(self._run_row(run_b)[0])
        if ds_a != ds_b:
            raise fail("run_b", f"a run over the dataset of run {run_a} (dataset {ds_a})",
                       got_text=f"run {run_b} over dataset {ds_b}")
        n = int(self._dataset_row(ds_a)[1])
        votes_a, names_a, vers_a = self._run_votes(int(run_a), n)
        votes_b, names_b, vers_b = self._run_votes(int(run_b), n)
        label_a, from_a = self._final_all(int(run_a), n, votes_a)
        label_b, from_b = self._final_all(int(run_b), n, votes_b)
        changed = np.flatnonzero(label_a != label_b)
        names = sorted(set(names_a) | set(names_b))
        delta = _vote_delta(changed, names, (votes_a, names_a), (votes_b, names_b))
        new_version = np.array([vers_a.get(s) != vers_b.get(s) for s in names], dtype=bool)
        frame = pd.DataFrame({
            "item_id": self.load_item_ids(ds_a)[changed] if changed.size else np.array([], dtype=object),
            "label_a": label_a[changed], "label_b": label_b[changed],
            "from_a": [FINAL_FROM[c] for c in from_a[changed]],
            "from_b": [FINAL_FROM[c] for c in from_b[changed]],
        })
        frame["votes_changed"] = [[names[j] for j in np.flatnonzero(r)] for r in delta]
        frame["versions_changed"] = [[names[j] for j in np.flatnonzero(r & new_version)] for r in delta]
        frame["reason"] = [_reason(a, b, v, w) for a, b, v, w in zip(
            frame["from_a"], frame["from_b"], frame["votes_changed"], frame["versions_changed"])]
        return frame

    # ------------------------------------------------------------------ explain helpers
    def _resolve_run(self, run_id: int | None) -> int:
        if run_id is not None:
            self._run_row(run_id)
            return int(run_id)
        latest = self.latest_run_id()
        if latest is None:
            raise fail("run_id", "a recorded run", got_text="None, and the store has no runs yet")
        return latest

    def _item_row(self, dataset_id: int, item_id: Any) -> tuple[int, str]:
        key = str(item_id.item() if isinstance(item_id, np.generic) else item_id)
        rows = self._query("SELECT row FROM items WHERE dataset_id = ? AND item_key = ?", [dataset_id, key])
        if not rows:
            raise fail("item_id", f"the id of an item of dataset {dataset_id}", item_id)
        return int(rows[0][0]), key

    def _votes_of(self, run_id: int, row: int) -> tuple[list[dict[str, Any]], list[str] | None]:
        apps = self._query(
            "SELECT a.application_id, a.layout, a.votes_array, a.n_sources, a.class_names, a.n_classes FROM "
            "run_applications r "
            "JOIN applications a USING (application_id) WHERE r.run_id = ? GROUP BY ALL ORDER BY "
            "a.application_id",
            [run_id])
        votes: list[dict[str, Any]] = []
        class_names = None
        for app_id, layout, array, m, names_json, k in apps:
            class_names = class_names or loads(names_json)
            found = votes_of_row(self._read_array_row(array, row), layout, int(m), vote_dtype(int(k)))
            if not found:
                continue
            sources = self._application_sources(int(app_id))
            for col, label in found:
                name, version = sources[col]
                votes.append({"source": name, "version": version, "label": label,
                              "application_id": int(app_id)})
        for vote in votes:
            vote["class_name"] = class_names[vote["label"]] if class_names else None
        return votes, class_names

    def _application_sources(self, app_id: int) -> dict[int, tuple[str, str | None]]:
        """``{col: (name, version)}`` of an application (immutable, so cached)."""
        cached = self._cache.get(("sources", app_id))
        if cached is None:
            cached = {int(c): (n, v) for c, n, v in self._query(
                "SELECT col, name, version FROM application_sources WHERE application_id = ?", [app_id])}
            self._cache[("sources", app_id)] = cached
        return cached

    def _posterior_of(self, run_id: int, row: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        models = self._query("SELECT label_model_run_id, class FROM label_model_runs WHERE run_id = ? "
                             "ORDER BY label_model_run_id DESC LIMIT 1", [run_id])
        model = {"label_model_run_id": int(models[0][0]), "class": models[0][1]} if models else None
        soft = self._query(
            "SELECT soft_labels_id, producer, proba_array, n_classes, class_names FROM soft_labels "
            "WHERE run_id = ? AND role = 'label_model' ORDER BY soft_labels_id DESC LIMIT 1", [run_id])
        if not soft:
            return None, model
        soft_id, producer, array, k, names = soft[0]
        table = self._read_array_row(array, row)
        if table.num_rows == 0:
            return None, model
        proba = [float(table.column(f"p{c}")[0].as_py()) for c in range(int(k))]
        return {"soft_labels_id": int(soft_id), "producer": producer, "proba": proba,
                "label": int(np.argmax(proba)), "class_names": loads(names)}, model

    def _rows_as_dicts(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        names, rows = self._query_with_names(sql, params)
        return [{name: _plain(v) for name, v in zip(names, row)} for row in rows]

    # ------------------------------------------------------------------ diff helpers
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

    def _final_all(self, run_id: int, n: int, votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        labels, origin = _plurality(votes)
        soft = self._query("SELECT soft_labels_id FROM soft_labels WHERE run_id = ? AND role = 'label_model' "
                           "ORDER BY soft_labels_id DESC LIMIT 1", [run_id])
        if soft:
            S = self.load_soft_labels(int(soft[0][0]))
            rows = self._rows_of(self._query("SELECT rows_array FROM soft_labels WHERE soft_labels_id = ?",
                                             [int(soft[0][0])])[0][0])
            rows = np.arange(n) if rows is None else rows
            labels[rows], origin[rows] = np.argmax(S.proba, axis=1), FINAL_FROM.index("label_model")
        for row, label in self._query("SELECT row, new_label FROM corrections WHERE run_id = ? "
                                      "ORDER BY correction_id", [run_id]):
            labels[int(row)], origin[int(row)] = int(label), FINAL_FROM.index("correction")
        for row, label in self._used_annotation_labels(run_id):
            labels[row], origin[row] = label, FINAL_FROM.index("annotation")
        return labels, origin

    def _used_annotation_labels(self, run_id: int) -> list[tuple[int, int]]:
        dataset_id, _, _, finished = self._run_row(run_id)
        where, params = "dataset_id = ?", [int(dataset_id)]
        if finished is not None:
            where, params = where + " AND created_at <= ?", [*params, finished]
        rows = self._query(f"SELECT row, label, created_at FROM annotations WHERE {where} "
                           "ORDER BY annotation_id", params)
        grouped: dict[int, list[dict[str, Any]]] = {}
        for row, label, created in rows:
            grouped.setdefault(int(row), []).append({"label": int(label), "created_at": created})
        return [(row, _majority(answers)) for row, answers in grouped.items()]


Records = list[dict[str, Any]]


def _final_one(votes: Records, posterior: dict[str, Any] | None, corrections: Records,
               annotations: Records) -> tuple[int | None, str]:
    used = [a for a in annotations if a["used"]]
    if used:
        return _majority(used), "annotation"
    if corrections:
        return int(corrections[-1]["new_label"]), "correction"
    if posterior is not None:
        return int(posterior["label"]), "label_model"
    labels = [v["label"] for v in votes]
    if not labels:
        return None, "none"
    counts = np.bincount(labels)
    top = np.flatnonzero(counts == counts.max())
    return (int(top[0]), "votes") if top.size == 1 else (None, "none")


def _majority(answers: list[dict[str, Any]]) -> int:
    """Most frequent label; a tie goes to the label answered last."""
    counts: dict[int, int] = {}
    for a in answers:
        counts[int(a["label"])] = counts.get(int(a["label"]), 0) + 1
    best = max(counts.values())
    tied = {label for label, c in counts.items() if c == best}
    return next(int(a["label"]) for a in reversed(answers) if int(a["label"]) in tied)


def _plurality(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = votes.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    origin = np.zeros(n, dtype=np.int8)
    if votes.size == 0 or votes.max() < 0:
        return labels, origin
    k = int(votes.max()) + 1
    counts = np.stack([(votes == c).sum(axis=1) for c in range(k)], axis=1)
    best = counts.max(axis=1)
    unique = (counts == best[:, None]).sum(axis=1) == 1
    ok = unique & (best > 0)
    labels[ok] = np.argmax(counts[ok], axis=1)
    origin[ok] = FINAL_FROM.index("votes")
    return labels, origin


def _vote_delta(changed: np.ndarray, names: list[str], a: tuple[np.ndarray, list[str]],
                b: tuple[np.ndarray, list[str]]) -> np.ndarray:
    out = np.zeros((changed.size, len(names)), dtype=bool)
    for j, name in enumerate(names):
        va = a[0][changed, a[1].index(name)] if name in a[1] else np.full(changed.size, -1)
        vb = b[0][changed, b[1].index(name)] if name in b[1] else np.full(changed.size, -1)
        out[:, j] = va != vb
    return out


def _reason(from_a: str, from_b: str, votes: list[str], versions: list[str]) -> str:
    parts = []
    if "annotation" in (from_a, from_b):
        parts.append("human annotation")
    if "correction" in (from_a, from_b):
        parts.append("correction")
    if versions:
        parts.append("new version of " + ", ".join(versions))
    other = [v for v in votes if v not in versions]
    if other:
        parts.append("votes changed: " + ", ".join(other))
    if not parts:
        same = from_a == from_b == "label_model"
        parts.append("label model changed (same votes)" if same else f"final label from {from_a} -> {from_b}")
    return "; ".join(parts)


def _plain(value: Any) -> Any:
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _typed(key: str, given: Any) -> Any:
    return given.item() if isinstance(given, np.generic) else given
