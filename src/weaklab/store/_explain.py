"""The story of an item's label (``explain``) and what changed between two runs (``diff``).

The final label of an item in a run follows one rule, in both places:

1. the human answers the run could see (recorded before the run finished;
   every answer while it is open), on this or any other version of the
   dataset, resolved by the rule of :mod:`._resolve` (one vote per annotator,
   edits supersede, ties left open) and mapped to the run's classes by name
   (through the class renames the run's config records);
2. otherwise the latest correction of the item: the run's own, or one made
   on an earlier run of the dataset (any version) before this run finished;
3. otherwise, on an item no source voted on, the arg-max of the run's end
   model (the latest soft labels with role ``"end_model"``, when the run
   trained one): there the label model has no evidence and gives its class
   prior or its rule for unvoted items, while the end model reads the item
   (WRENCH valid items without a vote, label model -> end model: YouTube
   0.40 -> 0.93 on 15, SMS 0.86 -> 0.91 on 304, TREC 0.56 -> 0.56 on 34);
4. otherwise the arg-max of the run's label-model posterior (the latest soft
   labels with role ``"label_model"``; ties to the lowest class id);
5. otherwise the plurality of the votes (no label on a tie or without votes).

A run of the Dask engine follows the same rule, its end-model probabilities
read from the partition that holds the item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from .._core.label_matrix import vote_dtype
from .._core.validation import fail
from ..errors import StoreError
from ._base import loads
from ._codec import id_keys, votes_of_row
from ._multilabel import MultiLabelMixin
from ._partitioned import PartitionedMixin
from ._spans import SpansMixin
from ._sql import VERSIONS_SQL

__all__ = ["ExplainMixin", "FINAL_FROM", "mapped_class", "plurality", "reason", "vote_delta"]

#: Where a final label comes from (codes used by ``diff``).
FINAL_FROM = ("none", "votes", "label_model", "end_model", "correction", "annotation")


class ExplainMixin(PartitionedMixin, SpansMixin, MultiLabelMixin):
    """Lineage queries over items (of distributed runs too: see :class:`PartitionedMixin`)."""

    def explain(self, item_id: Any, run_id: int | None = None) -> dict[str, Any]:
        """Every vote, the posterior, corrections, human answers and the final label of one item.

        Parameters
        ----------
        item_id : int or str
            The item's own id (a string is matched against integer ids too).
        run_id : int, optional
            The run; by default the newest finished run (never a running,
            failed or interrupted one).

        Returns
        -------
        dict
            ``item_id, run_id, dataset, row``; ``votes`` (``source, version,
            label, class_name, application_id``), ``label_model`` (``class,
            label_model_run_id``), ``posterior`` (``proba, label,
            soft_labels_id, producer``), ``label_issues``, ``corrections``
            (those that apply to the run; ``label`` and ``old_run_label``
            their new and old class in the run's classes, mapped by name),
            ``annotations`` (every answer on
            the item, on any version of the dataset, each with ``current``
            and ``used``: whether it counts for this run; ``label`` and
            ``class_name`` as recorded when it was given, ``run_label`` and
            ``run_class`` the same answer in the run's classes, through the
            run's class renames: None for a skip or a class the run lacks),
            ``human`` (how
            the answers resolve: ``status``, ``votes``, ``class``),
            ``end_model_posterior`` (``proba, label, soft_labels_id`` of the
            run's end model, read only for an item no source voted on; None
            otherwise or without one),
            ``final_label``, ``final_class`` and ``final_from`` (one of
            ``"annotation"``, ``"correction"``, ``"end_model"``,
            ``"label_model"``, ``"votes"``, ``"none"``); ``fit_gold``: the gold (``label``,
            ``class_name``) the item's row of the data file gave the run's
            label-model fit (``[data].fit_gold``) as recorded at fit time,
            None when it gave none (or the run predates those records). Times
            are ISO strings, so the dict is JSON-able.
        """
        with self._lease():  # one read lease for the dozen queries (the file stays open between them)
            return self._explain(item_id, run_id)

    def _explain(self, item_id: Any, run_id: int | None) -> dict[str, Any]:
        run_id = self._resolve_run(run_id)
        found = self.partitioned(run_id)
        if "votes" in found:  # a distributed run: the item's votes and posterior are in one Parquet partition
            story = self._with_human_story(self._explain_partitioned(run_id, item_id, found))
            return {**story, "fit_gold": self._fit_gold_of(run_id, id_keys(np.asarray([story["item_id"]]))[0])}
        dataset_id, status, _, finished = self._run_row(run_id)
        row, key = self._item_row(int(dataset_id), item_id)
        if self._query("SELECT 1 FROM span_sets WHERE run_id = ? LIMIT 1", [run_id]):  # a tagging run
            return {"item_id": _typed(key, item_id), **self.explain_spans(run_id, row, key)}
        if self.is_multilabel_run(run_id):
            return {"item_id": _typed(key, item_id), "run_status": status,
                    "dataset": {"dataset_id": int(dataset_id), "name": self._dataset_row(dataset_id)[0]},
                    **self.explain_labels(run_id, row, key)}
        unavailable: list[str] = []
        votes, class_names = _or_missing(lambda: self._votes_of(run_id, row), ([], None), "votes", unavailable)
        posterior, model = _or_missing(lambda: self._posterior_of(run_id, row), (None, None), "posterior",
                                       unavailable)
        class_names = class_names or (posterior or {}).pop("class_names", None)
        if posterior is not None:
            posterior.pop("class_names", None)
        renames = self.run_class_renames(run_id)
        corrections = self._run_corrections(run_id, int(dataset_id), finished, key, class_names, renames)
        annotations, human = self._answers_for(run_id, int(dataset_id), finished, key, class_names, renames)
        issues = self._rows_as_dicts(
            "SELECT issue_id, rank, given, suggested, score, method FROM label_issues WHERE run_id = ? "
            "AND row = ? "
            "ORDER BY issue_id", [run_id, row])
        end = None if votes else self._end_model_of(run_id, row)
        label, origin = _final_one(votes, posterior, corrections, human, end)
        return {
            "item_id": _typed(key, item_id), "run_id": run_id, "run_status": status,
            "dataset": {"dataset_id": int(dataset_id), "name": self._dataset_row(dataset_id)[0]}, "row": row,
            "class_names": class_names, "votes": votes, "label_model": model, "posterior": posterior,
            "end_model_posterior": end,
            "label_issues": issues, "corrections": corrections, "annotations": annotations, "human": human,
            "final_label": label, "final_from": origin,
            "final_class": None if label is None or not class_names else class_names[label],
            "fit_gold": self._fit_gold_of(run_id, key), "unavailable": unavailable,
        }

    def _fit_gold_of(self, run_id: int, key: str) -> dict[str, Any] | None:
        """The gold this item gave the run's label-model fit from the data file (``[data].fit_gold``), as recorded."""
        rows = self._query("SELECT label, class_name FROM fit_gold_items WHERE run_id = ? AND item_key = ?",
                           [int(run_id), key])
        return None if not rows else {"label": int(rows[0][0]), "class_name": rows[0][1]}

    def _with_human_story(self, story: dict[str, Any]) -> dict[str, Any]:
        """A distributed run's item story with its corrections and human answers, and the final label they give."""
        run_id, dataset_id = int(story["run_id"]), int(story["dataset"]["dataset_id"])
        finished = self._run_row(run_id)[3]
        key, names = str(story["item_id"]), story.get("class_names")
        renames = self.run_class_renames(run_id)
        corrections = self._run_corrections(run_id, dataset_id, finished, key, names, renames)
        annotations, human = self._answers_for(run_id, dataset_id, finished, key, names, renames)
        label, origin = _final_one(story["votes"], story.get("posterior"), corrections, human,
                                   story.get("end_model_posterior"))
        story.update(corrections=corrections, annotations=annotations, human=human, final_label=label,
                     final_from=origin, final_class=None if label is None or not names else names[label])
        return story

    def run_human_labels(self, run_id: int, *, seen_by_run: bool = True) -> Any:
        """:meth:`human_labels` of a run's dataset in the run's classes (through its class renames).

        Parameters
        ----------
        run_id : int
            The run.
        seen_by_run : bool, default=True
            Only the answers recorded before the run finished (what it could
            use); False for every answer recorded so far (to measure the run
            against them).

        Returns
        -------
        pandas.DataFrame
            Same columns as :meth:`human_labels`; answers whose class the
            run does not have do not count.
        """
        dataset_id, _, _, finished = self._run_row(run_id)
        return self._human_labels(int(dataset_id), self._run_classes(int(run_id))[1],
                                  self.run_class_renames(int(run_id)), finished if seen_by_run else None,
                                  "ignore", None)

    def run_class_renames(self, run_id: int) -> dict[str, str]:
        """``{old class name: new name}`` the run's config records (``config["class_renames"]``)."""
        rows = self._query("SELECT config FROM runs WHERE run_id = ?", [int(run_id)])
        config = loads(rows[0][0]) if rows else None
        renames = config.get("class_renames") if isinstance(config, dict) else None
        return {str(k): str(v) for k, v in renames.items()} if isinstance(renames, dict) else {}

    def _run_corrections(self, run_id: int, dataset_id: int, finished: Any, key: str, class_names: list[str] | None,
                         renames: dict[str, str]) -> list[dict[str, Any]]:
        """The corrections that apply to a run on one item, each with its new (``label``) and old
        (``old_run_label``) class in the run's classes, mapped by name through the run's renames."""
        corrections = self._corrections_for(run_id, dataset_id, finished, key)
        for correction in corrections:
            correction["label"] = mapped_class(correction["new_class"], correction["new_label"], class_names, renames)
            correction["old_run_label"] = mapped_class(correction["old_class"], correction["old_label"], class_names,
                                                       renames)
        return corrections

    def _corrections_for(self, run_id: int, dataset_id: int, finished: Any, key: str | None) -> list[dict[str, Any]]:
        """Corrections that apply to a run: its own, and earlier ones of the dataset (any version) made before
        it finished."""
        item = "" if key is None else " AND c.item_key = ?"
        return self._rows_as_dicts(
            "SELECT c.correction_id, c.run_id, c.item_key, c.old_label, c.new_label, c.old_class, c.new_class, "
            "c.method, c.score, c.threshold, c.who, c.why, c.issue_id, c.created_at FROM corrections c "
            f"JOIN runs r USING (run_id) WHERE r.dataset_id IN ({VERSIONS_SQL}){item} "
            "AND (c.run_id = ? OR ? IS NULL OR c.created_at <= ?) ORDER BY c.correction_id",
            [dataset_id, *([] if key is None else [key]), run_id, finished, finished])

    def _answers_for(self, run_id: int, dataset_id: int, finished: Any, key: str, class_names: list[str] | None,
                     renames: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Every answer on the item (with ``current`` and ``used``) and how the used ones resolve."""
        human: dict[str, Any] = {"status": None, "votes": {}, "label": None, "class": None}
        if not self._query(f"SELECT 1 FROM annotations WHERE item_key = ? AND dataset_id IN ({VERSIONS_SQL}) "
                           "LIMIT 1", [key, dataset_id]):
            return [], human  # most items: no answer, nothing to resolve
        rows = self._answer_frame(dataset_id, None, key)
        labels = self._human_labels(dataset_id, class_names, renames, finished, "ignore", key)
        used = self._used_answer_ids(dataset_id, finished, key, class_names, renames)
        answers: list[dict[str, Any]] = []
        for raw in rows.drop(columns=["answered_at", "class_key", "item_id", "dataset_name"]).to_dict("records"):
            record = {str(name): _plain(value) for name, value in raw.items()}
            record["used"] = record["annotation_id"] in used
            record["run_label"] = None if record["status"] != "answered" else mapped_class(
                record["class_name"], record["label"], class_names, renames)
            record["run_class"] = None if record["run_label"] is None or not class_names \
                else class_names[record["run_label"]]
            answers.append(record)
        if len(labels):
            first = labels.iloc[0]
            label = int(first["label"])
            human = {"status": first["status"], "votes": dict(first["votes"]),
                     "label": None if label < 0 else label, "class": first["class_name"]}
        return answers, human

    # ------------------------------------------------------------------ explain helpers
    def _resolve_run(self, run_id: int | None) -> int:
        if run_id is not None:
            self._run_row(run_id)
            return int(run_id)
        latest = self.latest_run_id()
        if latest is None:
            newest = self.latest_run_id(status=None)
            got = ("None, and the store has no runs yet" if newest is None else
                   f"None, and no run has finished yet (run {newest} is {self._run_row(newest)[1]})")
            raise fail("run_id", "a completed run (the default is the newest finished run)", got_text=got)
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
        found = self._soft_row(run_id, "label_model", row)
        if found is None:
            return None, model
        names = found.pop("names")
        return {**found, "class_names": loads(names)}, model

    def _end_model_of(self, run_id: int, row: int) -> dict[str, Any] | None:
        """The run's end-model probabilities of one item (role ``"end_model"``), or None without them."""
        found = self._soft_row(run_id, "end_model", row)
        if found is None:
            return None
        return {"soft_labels_id": found["soft_labels_id"], "proba": found["proba"], "label": found["label"]}

    def _soft_row(self, run_id: int, role: str, row: int) -> dict[str, Any] | None:
        """One row of the run's latest soft labels of ``role``: id, producer, probabilities, arg-max, class names.

        None when the run recorded none of that role, or none for the row.
        """
        soft = self._query(
            "SELECT soft_labels_id, producer, proba_array, n_classes, class_names FROM soft_labels "
            "WHERE run_id = ? AND role = ? ORDER BY soft_labels_id DESC LIMIT 1", [run_id, role])
        if not soft:
            return None
        soft_id, producer, array, k, names = soft[0]
        table = self._read_array_row(array, row)
        if table.num_rows == 0:
            return None
        proba = [float(table.column(f"p{c}")[0].as_py()) for c in range(int(k))]
        return {"soft_labels_id": int(soft_id), "producer": producer, "proba": proba,
                "label": int(np.argmax(proba)), "names": names}

    def _rows_as_dicts(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        names, rows = self._query_with_names(sql, params)
        return [{name: _plain(v) for name, v in zip(names, row)} for row in rows]

Records = list[dict[str, Any]]


def _final_one(votes: Records, posterior: dict[str, Any] | None, corrections: Records,
               human: dict[str, Any], end: dict[str, Any] | None = None) -> tuple[int | None, str]:
    if human.get("label") is not None:
        return int(human["label"]), "annotation"
    applied = [c for c in corrections if c["label"] is not None]
    if applied:
        return int(applied[-1]["label"]), "correction"
    if end is not None and not votes:
        return int(end["label"]), "end_model"
    if posterior is not None:
        return int(posterior["label"]), "label_model"
    labels = [v["label"] for v in votes]
    if not labels:
        return None, "none"
    counts = np.bincount(labels)
    top = np.flatnonzero(counts == counts.max())
    return (int(top[0]), "votes") if top.size == 1 else (None, "none")


def mapped_class(name: Any, label: Any, class_names: list[str] | None, renames: dict[str, str]) -> int | None:
    """A recorded class (name, else id) as a class id of a run (None when the run has no such class)."""
    if isinstance(name, str) and class_names:
        name = renames.get(name, name)
        return class_names.index(name) if name in class_names else None
    return None if label is None or pd.isna(label) else int(label)


def plurality(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the unique most voted class and origin ``"votes"``, else -1 and ``"none"``."""
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


def vote_delta(names: list[str], a: tuple[np.ndarray, list[str]], b: tuple[np.ndarray, list[str]]) -> np.ndarray:
    """``(n, len(names))``: whether each source's vote differs between two aligned vote blocks."""
    n = a[0].shape[0]
    out = np.zeros((n, len(names)), dtype=bool)
    for j, name in enumerate(names):
        va = a[0][:, a[1].index(name)] if name in a[1] else np.full(n, -1)
        vb = b[0][:, b[1].index(name)] if name in b[1] else np.full(n, -1)
        out[:, j] = va != vb
    return out


def reason(from_a: str, from_b: str, votes: list[str], versions: list[str]) -> str:
    """A short sentence on why an item's final label changed between two runs."""
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


def _or_missing(read: Any, empty: Any, what: str, unavailable: list[str]) -> Any:
    """``read()``, or ``empty`` with a note in ``unavailable`` when its array file is missing or damaged."""
    try:
        return read()
    except StoreError as exc:
        unavailable.append(f"{what}: {str(exc).splitlines()[0]} (run `weaklab doctor`)")
        return empty
