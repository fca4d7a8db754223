"""Label sets of multi-label runs: every source's per-label votes, and per-label probabilities.

A *label set* is one producer's output over a dataset's items in a
multi-label run (``[task].kind = "multilabel"``): the sources' votes
(``role="votes"``: ``(row, source, label, vote)`` rows, ``1`` present, ``0``
absent, sorted by item row), or an ``(n_items, n_labels)`` array by dataset
row of ``P(label applies)`` from the label model (``"label_model"``), the end
model (``"end_model"``), the run's final probabilities (``"final"``: per cell
the label model's or the end model's, by the pipeline's rule, recorded when
the end model is trained), or the gold label sets of the data (``"gold"``: 1/0,
NaN where an item has no gold). One item's records are read without the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._core.hashing import fingerprint
from .._core.multilabel import MultiLabelMatrix
from .._core.validation import check_choice, fail
from ._arrays import row_array
from ._base import check_id, check_text, dumps, loads
from ._codec import decode_proba, proba_table
from ._db import utcnow
from ._rows import StoreBase

__all__ = ["MultiLabelMixin", "LABEL_SET_ROLES"]

#: What a label set holds.
LABEL_SET_ROLES = ("votes", "label_model", "end_model", "gold", "final")
#: Records per Parquet row group (one item's records are read from the groups holding its row).
_GROUP = 4096


class MultiLabelMixin(StoreBase):
    """Record and read the label sets of multi-label runs."""

    def add_multilabel_votes(self, dataset_id: int, matrix: MultiLabelMatrix, *,
                             sources: Sequence[Mapping[str, Any]], run_id: int | None = None,
                             producer: str | None = None, metrics: Mapping[str, Any] | None = None) -> int:
        """Record every source's per-label votes over a dataset's items (rows in dataset order); return the id.

        Parameters
        ----------
        dataset_id : int
        matrix : MultiLabelMatrix
            ``(n_items, n_sources, n_labels)`` votes; its rows are the dataset's rows.
        sources : sequence of dict
            ``{"name", "version"}`` of each source, in the matrix's source order.
        run_id : int, optional
        producer : str, optional
        metrics : dict, optional
            The apply report, per-source coverage, ...
        """
        if not isinstance(matrix, MultiLabelMatrix):
            raise fail("matrix", "a MultiLabelMatrix", matrix)
        if len(sources) != matrix.n_sources:
            raise fail("sources", f"one {{'name', 'version'}} per source ({matrix.n_sources})",
                       got_text=f"{len(sources)} entries")
        items, srcs, labels, votes = matrix.coo()
        order = np.lexsort((labels, srcs, items))
        table = pa.table({"row": row_array(items[order]), "source": pa.array(srcs[order].astype(np.int32)),
                          "label": pa.array(labels[order].astype(np.int32)),
                          "vote": pa.array(votes[order].astype(np.int8))})
        return self._add_label_set(dataset_id, "votes", table, matrix.n_items, list(matrix.label_names),
                                   run_id=run_id, producer=producer, sources=sources, metrics=metrics)

    def add_label_proba(self, dataset_id: int, role: str, proba: Any, *, label_names: Sequence[str],
                        run_id: int | None = None, producer: str | None = None,
                        metrics: Mapping[str, Any] | None = None) -> int:
        """Record ``P(label applies)`` of every item (dataset row order) and label; return the label set's id.

        Parameters
        ----------
        dataset_id : int
        role : {"label_model", "end_model", "gold", "final"}
        proba : array-like of shape (n_items, n_labels)
            Values in ``[0, 1]``; NaN for unknown (gold of an item without gold).
        label_names : sequence of str
        run_id, producer, metrics : optional
        """
        check_choice("role", role, LABEL_SET_ROLES[1:])
        arr = np.asarray(proba, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != len(label_names):
            raise fail("proba", f"an (n_items, {len(label_names)}) array", got_text=f"shape {arr.shape}")
        known = arr[~np.isnan(arr)]
        if known.size and (known.min() < 0 or known.max() > 1):
            raise fail("proba", "probabilities in [0, 1] (NaN for unknown)", got_text="values outside [0, 1]")
        table = proba_table(arr, None, "float32" if role != "gold" else "float64")
        return self._add_label_set(dataset_id, role, table, arr.shape[0], list(label_names), run_id=run_id,
                                   producer=producer, sources=(), metrics=metrics)

    def _add_label_set(self, dataset_id: int, role: str, table: pa.Table, n_items: int, label_names: list[str],
                       *, run_id: int | None, producer: str | None, sources: Sequence[Mapping[str, Any]],
                       metrics: Mapping[str, Any] | None) -> int:
        check_text("producer", producer, optional=True)
        if run_id is not None:
            self._run_row(run_id)
        n_dataset = int(self._dataset_row(dataset_id)[1])
        if n_items != n_dataset:
            raise fail("matrix" if role == "votes" else "proba", f"{n_dataset} rows (the dataset's items)",
                       got_text=f"{n_items} rows")
        names_text, sources_text = dumps("label_names", label_names), dumps("sources", [dict(s) for s in sources])
        key = fingerprint("label_set", role, [table.column(c).to_numpy() for c in table.column_names], names_text,
                          sources_text)
        with self._transaction() as con:
            name = self._put_array(con, f"labels-{role}", key, table, _GROUP)
            return self._insert(con, "label_sets", "label_set", "label_set_id", dict(
                run_id=run_id, dataset_id=int(dataset_id), role=role, producer=producer, fingerprint=key,
                label_names=names_text, sources=sources_text, n_items=n_items, n_labels=len(label_names),
                array_name=name, metrics=dumps("metrics", metrics), created_at=utcnow()))

    def label_sets(self, run_id: int) -> pd.DataFrame:
        """The label sets a run recorded (oldest first): ids, role, producer, label names, sources, metrics.

        Examples
        --------
        >>> store.label_sets(run_id)["role"].tolist()              # doctest: +SKIP
        ['votes', 'gold', 'label_model', 'end_model']
        """
        return self._frame("SELECT label_set_id, run_id, dataset_id, role, producer, label_names, sources, "
                           "n_items, n_labels, metrics, created_at FROM label_sets WHERE run_id = ? "
                           "ORDER BY label_set_id", [check_id("run_id", run_id)],
                           json_columns=("label_names", "sources", "metrics"))

    def is_multilabel_run(self, run_id: int) -> bool:
        """Whether the run is a multi-label run (it recorded label sets)."""
        return bool(self._query("SELECT 1 FROM label_sets WHERE run_id = ? LIMIT 1", [check_id("run_id", run_id)]))

    def load_multilabel_votes(self, label_set_id: int) -> MultiLabelMatrix:
        """The votes of a ``"votes"`` label set as a MultiLabelMatrix (source and label names, dataset item ids)."""
        role, dataset_id, n, names, sources, array = self._label_set_row(label_set_id)
        if role != "votes":
            raise fail("label_set_id", "the id of a votes label set", got_text=f"{label_set_id}, a {role} set")
        table = self._read_array(array)
        return MultiLabelMatrix.from_coo(
            table.column("row").to_numpy(), table.column("source").to_numpy(), table.column("label").to_numpy(),
            table.column("vote").to_numpy(), n_items=n, n_sources=len(sources), n_labels=len(names),
            source_names=[s["name"] for s in sources], label_names=names, item_ids=self.load_item_ids(dataset_id))

    def load_label_proba(self, label_set_id: int) -> np.ndarray:
        """The ``(n_items, n_labels)`` probabilities of a label set (NaN where unknown), in dataset row order."""
        role, _, _, names, _, array = self._label_set_row(label_set_id)
        if role == "votes":
            raise fail("label_set_id", "the id of a probability label set", got_text=f"{label_set_id}, a votes set")
        return decode_proba(self._read_array(array), len(names), None)

    def _label_set_row(self, label_set_id: int) -> tuple[str, int, int, list[str], list[dict[str, Any]], str]:
        role, dataset_id, n, names, sources, array = self._one(
            "SELECT role, dataset_id, n_items, label_names, sources, array_name FROM label_sets "
            "WHERE label_set_id = ?", [check_id("label_set_id", label_set_id)], "label_set_id", label_set_id)
        return str(role), int(dataset_id), int(n), loads(names), loads(sources), str(array)

    # ------------------------------------------------------------------ answers
    def add_label_set_answer(self, dataset_id: int, item_id: Any, annotator: str, labels: Sequence[str], *,
                             label_names: Sequence[str], status: str = "answered", label_set_id: int | None = None,
                             run_id: int | None = None, origin: str | None = "review") -> int:
        """Record the labels a person says apply to one item of a multi-label dataset (by name); return its id.

        Parameters
        ----------
        dataset_id : int
        item_id : int or str
            The item's own id.
        annotator : str
        labels : sequence of str
            The label names that apply (empty: none of them); each one of ``label_names``.
        label_names : sequence of str
            The run's labels.
        status : {"answered", "skipped"}, default "answered"
        label_set_id : int, optional
            The label set of probabilities the person was shown.
        run_id, origin : optional

        Examples
        --------
        >>> store.add_label_set_answer(ds, "a12", "ada", ["sport"], label_names=["sport", "tech"])  # doctest: +SKIP
        """
        check_text("annotator", annotator)
        check_choice("status", status, ("answered", "skipped"))
        check_text("origin", origin, optional=True)
        given = [str(v) for v in labels]
        unknown = [v for v in given if v not in label_names]
        if unknown or len(set(given)) != len(given):
            raise fail("labels", f"distinct label names among {list(label_names)}", repr(given))
        if label_set_id is not None:
            check_id("label_set_id", label_set_id)
        key = str(item_id.item() if isinstance(item_id, np.generic) else item_id)
        rows = self._query("SELECT row FROM items WHERE dataset_id = ? AND item_key = ?", [int(dataset_id), key])
        if not rows:
            raise fail("item_id", f"an item of dataset {dataset_id}", got_text=repr(key))
        ordered = [n for n in label_names if n in given]
        with self._transaction() as con:
            answer = self._insert(con, "label_set_answers", "label_set_answer", "label_set_answer_id", dict(
                dataset_id=int(dataset_id), item_key=key, row=int(rows[0][0]), annotator=annotator, status=status,
                labels=dumps("labels", ordered), label_set_id=label_set_id, run_id=run_id, origin=origin,
                created_at=utcnow()))
            con.execute("DELETE FROM claims WHERE item_key = ? AND annotator = ? AND run_id IN "
                        "(SELECT run_id FROM runs WHERE dataset_id = ?)", [key, annotator, int(dataset_id)])
        return answer

    def label_set_answers(self, dataset_id: int, *, item_id: Any = None, renames: Any = None) -> pd.DataFrame:
        """People's answers on a multi-label dataset's items (any version of it), oldest first.

        Answers are stored by label *name*, so reordering the labels keeps
        their meaning; ``renames`` (``{old name: new name}``, a project's
        ``[labels.rename]``, :meth:`run_class_renames` of a run) reads an
        answer given before a rename in the new names, as
        :meth:`human_labels` does for classes.

        Returns
        -------
        DataFrame
            ``label_set_answer_id, dataset_id, item_key, row, annotator, status, labels (list of names),
            label_set_id, run_id, origin, created_at``.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from weaklab.store import Store
        >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
        >>> ds = store.add_dataset("topics", item_ids=["a"], fingerprint="f")
        >>> _ = store.add_label_set_answer(ds, "a", "ann", ["sports", "tech"], label_names=["sports", "tech"])
        >>> store.label_set_answers(ds, renames={"sports": "sport"})["labels"].tolist()
        [['sport', 'tech']]
        """
        frame = self._dataset_rows("label_set_answers", "label_set_answer_id", dataset_id, item_id, ("labels",))
        mapping = {str(k): str(v) for k, v in dict(renames or {}).items()}
        if mapping and len(frame):
            frame["labels"] = [list(dict.fromkeys(mapping.get(n, n) for n in labels)) for labels in frame["labels"]]
        return frame

    def explain_labels(self, run_id: int, row: int, key: str) -> dict[str, Any]:
        """The label story of one item of a multi-label run (``Store.explain`` returns it for such runs).

        Every source's votes (label name and ``"present"``/``"absent"``), the
        label model's and end model's ``P(label applies)`` per label, the gold
        label set where the data gives one, people's answers (``answers``),
        and the final labels: the latest answer's (skips do not count), else
        those whose final probability is at least 0.5. A run that recorded a
        ``"final"`` set (``weaklab train``) took each label's from the label
        model where a source voted on it and from the end model elsewhere:
        ``final_cells`` names each label's producer and ``final_from`` is
        ``"label_model"``, ``"end_model"`` or ``"label_model+end_model"``; an
        older run's final probabilities are the label model's.
        """
        out: dict[str, Any] = {"kind": "multilabel", "run_id": int(run_id), "row": int(row), "votes": [],
                               "label_model": None, "end_model": None, "gold": None}
        for _, role, producer, names_text, sources_text, array in self._query(
                "SELECT label_set_id, role, producer, label_names, sources, array_name FROM label_sets "
                "WHERE run_id = ? ORDER BY label_set_id", [check_id("run_id", run_id)]):
            names, sources = loads(names_text), loads(sources_text)
            out["label_names"] = names
            found = self._read_array_row(array, int(row)).to_pylist()
            if role == "votes":
                out["votes"] = [{"source": sources[int(r["source"])]["name"],
                                 "version": sources[int(r["source"])].get("version"),
                                 "label": names[int(r["label"])], "vote": "present" if r["vote"] == 1 else "absent"}
                                for r in found]
                continue
            values = [None if not found or found[0][f"p{j}"] is None or np.isnan(found[0][f"p{j}"])
                      else float(found[0][f"p{j}"]) for j in range(len(names))]
            if role == "gold":
                out["gold"] = None if all(v is None for v in values) else [
                    n for n, v in zip(names, values) if v is not None and v >= 0.5]
            else:
                out[role] = {"producer": producer, "proba": dict(zip(names, values))}
        model = out.get("final") or out["label_model"]
        out["final_labels"] = None if model is None else [n for n, p in model["proba"].items()
                                                          if p is not None and p >= 0.5]
        out["final_from"] = "none" if model is None else "label_model"
        if out.get("final"):
            voted = {v["label"] for v in out["votes"]}
            out["final_cells"] = {n: "label_model" if n in voted else "end_model" for n in out["label_names"]}
            kinds = set(out["final_cells"].values())
            out["final_from"] = kinds.pop() if len(kinds) == 1 else "label_model+end_model"
        dataset_id = int(self._run_row(run_id)[0])
        answers = self.label_set_answers(dataset_id, item_id=key, renames=self.run_class_renames(run_id))
        out["answers"] = [{"label_set_answer_id": int(a["label_set_answer_id"]), "annotator": a["annotator"],
                           "status": a["status"], "labels": list(a["labels"]),
                           "run_id": None if pd.isna(a["run_id"]) else int(a["run_id"]), "origin": a["origin"],
                           "created_at": pd.Timestamp(a["created_at"]).isoformat()}
                          for a in answers.to_dict("records")]
        given = [a for a in out["answers"] if a["status"] == "answered"]
        if given:  # the latest answer decides
            out["final_labels"], out["final_from"] = given[-1]["labels"], "annotation"
        return out
