"""Spans of tagging runs and people's answers on them.

A *span set* is one producer's spans over a dataset's items: every source's
(``role="sources"``, each span naming its source), the label model's proposed
spans with their confidence (``"label_model"``), the end model's
(``"end_model"``) or the gold spans of the data (``"gold"``). Its spans live
in a Parquet file sorted by item row (``row, start, end, type, source,
confidence``; token positions within the item, end exclusive), its items'
tokens and per-item score in another (``row, tokens, score``), so one item's
spans are read without the rest.

A *span answer* is what a person left on one item: the spans they kept,
fixed or added (``spans``), what they decided about each proposed span
(``decisions``: ``{"span", "decision", "fixed_to"}`` with decision one of
:data:`SPAN_DECISIONS`), and the span set they were shown (lineage). A
later answer by the same person on the same item supersedes theirs.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._core.hashing import fingerprint
from .._core.validation import check_choice, fail
from ._arrays import row_array
from ._base import check_id, check_text, dumps, loads
from ._db import utcnow
from ._rows import StoreBase

__all__ = ["SpansMixin", "SPAN_ROLES", "SPAN_DECISIONS", "check_span_list"]

#: What a span set holds.
SPAN_ROLES = ("sources", "label_model", "end_model", "gold")
#: What a person decided about one proposed span.
SPAN_DECISIONS = ("accepted", "rejected", "fixed")
#: Spans per Parquet row group (one item's spans are read from the groups holding its row).
_GROUP = 4096


def check_span_list(name: str, spans: Any, entity_types: Sequence[str] | None = None,
                    n_tokens: int | None = None) -> list[list[Any]]:
    """``spans`` as ``[[start, end, type], ...]`` sorted, checked against the types and the item's length."""
    if not isinstance(spans, (list, tuple)):
        raise fail(name, "a list of [start, end_exclusive, type] spans", spans)
    out: list[tuple[int, int, str]] = []
    for span in spans:
        if not isinstance(span, (list, tuple)) or len(span) != 3:
            raise fail(name, "spans of three values [start, end_exclusive, type]", span)
        start, end, kind = span
        if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, (int, np.integer)) \
                or not isinstance(end, (int, np.integer)) or not 0 <= int(start) < int(end):
            raise fail(name, "integer token positions with 0 <= start < end", span)
        if n_tokens is not None and int(end) > n_tokens:
            raise fail(name, f"spans within the item's {n_tokens} tokens", span)
        if not isinstance(kind, str) or (entity_types is not None and kind not in entity_types):
            expected = f"one of {list(entity_types)}" if entity_types is not None else "a type name"
            raise fail(name, f"span types {expected}", span)
        out.append((int(start), int(end), kind))
    out.sort()
    for a, b in itertools.pairwise(out):
        if b[0] < a[1]:
            raise fail(name, "spans that do not overlap", got_text=f"{list(a)} and {list(b)}")
    return [list(s) for s in out]


class SpansMixin(StoreBase):
    """Record and read span sets and span answers."""

    def add_span_set(self, dataset_id: int, role: str, *, rows: Any, starts: Any, ends: Any, types: Any,
                     entity_types: Sequence[str], run_id: int | None = None, source: Any = None,
                     sources: Sequence[Mapping[str, Any]] | None = None, confidence: Any = None,
                     tokens: Sequence[Sequence[str]] | None = None, scores: Any = None,
                     producer: str | None = None, metrics: Mapping[str, Any] | None = None) -> int:
        """Record one producer's spans over a dataset's items; return the span set's id.

        Parameters
        ----------
        dataset_id : int
        role : {"sources", "label_model", "end_model", "gold"}
        rows, starts, ends, types : array-like of shape (n_spans,)
            The item's dataset row, token start and end (exclusive, within the
            item) and type index (into ``entity_types``) of every span.
        entity_types : sequence of str
        run_id : int, optional
            The run that produced them.
        source : array-like of shape (n_spans,), optional
            Index (into ``sources``) of the source of each span (``role="sources"``).
        sources : sequence of dict, optional
            ``{"name", "version"}`` of each source.
        confidence : array-like of shape (n_spans,), optional
            The producer's confidence in each span (NaN where none).
        tokens : sequence of list of str, optional
            Every item's tokens, in dataset row order.
        scores : array-like of shape (n_items,), optional
            A per-item score (e.g. the least token confidence), in dataset row order.
        producer : str, optional
        metrics : dict, optional

        Examples
        --------
        >>> store.add_span_set(ds, "label_model", rows=[0], starts=[1], ends=[3], types=[0],
        ...                    entity_types=["Disease"], confidence=[0.9], run_id=run)   # doctest: +SKIP
        """
        check_choice("role", role, SPAN_ROLES)
        check_text("producer", producer, optional=True)
        if run_id is not None:
            self._run_row(run_id)
        n_items = int(self._dataset_row(dataset_id)[1])
        table = _spans_table(rows, starts, ends, types, source, confidence, n_items, len(entity_types))
        items = None if tokens is None else _items_table(tokens, scores, n_items)
        types_text, sources_text = dumps("entity_types", list(entity_types)), dumps("sources", list(sources or []))
        key = fingerprint("span_set", _table_key(table), types_text, sources_text)
        with self._transaction() as con:
            spans_name = self._put_array(con, "spans", key, table, _GROUP)
            items_name = None if items is None else self._put_array(
                con, "span_items", _table_key(items), items, 512)
            return self._insert(con, "span_sets", "span_set", "span_set_id", dict(
                run_id=run_id, dataset_id=int(dataset_id), role=role, producer=producer, fingerprint=key,
                entity_types=types_text, sources=sources_text, n_items=n_items, n_spans=table.num_rows,
                spans_array=spans_name, items_array=items_name, metrics=dumps("metrics", metrics),
                created_at=utcnow()))

    def span_sets(self, run_id: int) -> pd.DataFrame:
        """The span sets a run recorded (oldest first): ids, role, producer, types, sources, counts, metrics.

        Examples
        --------
        >>> store.span_sets(run_id)["role"].tolist()              # doctest: +SKIP
        ['gold', 'sources', 'label_model', 'end_model']
        """
        return self._frame("SELECT span_set_id, run_id, dataset_id, role, producer, entity_types, sources, "
                           "n_items, n_spans, metrics, created_at FROM span_sets WHERE run_id = ? "
                           "ORDER BY span_set_id", [check_id("run_id", run_id)],
                           json_columns=("entity_types", "sources", "metrics"))

    def load_span_set(self, span_set_id: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """All spans of a span set (``row, start, end, type, source, confidence``; type as its name) and its items."""
        spans_name, items_name, types = self._one(
            "SELECT spans_array, items_array, entity_types FROM span_sets WHERE span_set_id = ?",
            [check_id("span_set_id", span_set_id)], "span_set_id", span_set_id)
        spans = self._read_array(spans_name).to_pandas()
        spans["type"] = np.asarray(loads(types), dtype=object)[spans["type"].to_numpy(dtype=np.int64)] \
            if len(spans) else pd.Series([], dtype=object)
        items = None if items_name is None else self._read_array(items_name).to_pandas()
        return spans, items

    def item_span_sets(self, run_id: int, row: int) -> list[dict[str, Any]]:
        """Every span set of a run on one item (dataset row): role, producer, spans, tokens and score."""
        out = []
        for set_id, role, producer, types_text, sources_text, spans_name, items_name in self._query(
                "SELECT span_set_id, role, producer, entity_types, sources, spans_array, items_array FROM span_sets "
                "WHERE run_id = ? ORDER BY span_set_id", [check_id("run_id", run_id)]):
            types, sources = loads(types_text), loads(sources_text)
            found = self._read_array_row(spans_name, int(row)).to_pylist()
            spans = [{"start": int(s["start"]), "end": int(s["end"]), "type": types[int(s["type"])],
                      "source": None if int(s["source"]) < 0 else sources[int(s["source"])]["name"],
                      "confidence": None if s["confidence"] is None or np.isnan(s["confidence"])
                      else float(s["confidence"])} for s in found]
            item: dict[str, Any] = {}
            if items_name is not None:
                item = next(iter(self._read_array_row(items_name, int(row)).to_pylist()), {})
            out.append({"span_set_id": int(set_id), "role": role, "producer": producer, "entity_types": types,
                        "sources": sources, "spans": spans, "tokens": item.get("tokens"),
                        "score": item.get("score")})
        return out

    def explain_spans(self, run_id: int, row: int, key: str) -> dict[str, Any]:
        """The span story of one item of a tagging run (``Store.explain`` returns it for such runs).

        The final spans are the latest answer a person gave on the item
        (skips do not count), else the label model's proposed spans.
        """
        sets = self.item_span_sets(run_id, row)
        by_role = {s["role"]: s for s in sets}
        tokens: list[str] = next((s["tokens"] for s in sets if s["tokens"] is not None), [])
        sources = by_role.get("sources")
        listed = []
        if sources is not None:
            listed = [{"source": src["name"], "version": src.get("version"),
                       "spans": [_plain(s) for s in sources["spans"] if s["source"] == src["name"]]}
                      for src in sources["sources"]]
        proposed = by_role.get("label_model")
        dataset_id = int(self._run_row(run_id)[0])
        answers = self.span_answers(dataset_id, item_id=key)
        given = answers[answers["status"] == "answered"]
        final, final_from = ([], "none") if proposed is None else (
            [_plain(s) for s in proposed["spans"]], "label_model")
        if len(given):
            final, final_from = [list(s) for s in given["spans"].iloc[-1]], "annotation"
        return {
            "kind": "tagging", "run_id": int(run_id), "dataset": dataset_id, "row": int(row), "tokens": tokens,
            "entity_types": next((s["entity_types"] for s in sets), []), "sources": listed,
            "proposed": None if proposed is None else {
                "span_set_id": proposed["span_set_id"], "producer": proposed["producer"], "score": proposed["score"],
                "spans": [{**_plain_dict(s), "confidence": s["confidence"]} for s in proposed["spans"]]},
            "end_model": None if "end_model" not in by_role else [_plain(s) for s in by_role["end_model"]["spans"]],
            "gold": None if "gold" not in by_role else [_plain(s) for s in by_role["gold"]["spans"]],
            "answers": [{"span_answer_id": int(a["span_answer_id"]), "annotator": a["annotator"],
                         "status": a["status"], "spans": a["spans"], "decisions": a["decisions"],
                         "span_set_id": None if pd.isna(a["span_set_id"]) else int(a["span_set_id"]),
                         "run_id": None if pd.isna(a["run_id"]) else int(a["run_id"]), "origin": a["origin"],
                         "created_at": pd.Timestamp(a["created_at"]).isoformat()}
                        for a in answers.to_dict("records")],
            "final_spans": final, "final_from": final_from,
        }

    # ------------------------------------------------------------------ answers
    def add_span_answer(self, dataset_id: int, item_id: Any, annotator: str, spans: Any, *,
                        decisions: Sequence[Mapping[str, Any]] | None = None, status: str = "answered",
                        span_set_id: int | None = None, run_id: int | None = None,
                        origin: str | None = "review") -> int:
        """Record a person's spans on one item (with what they decided about each proposed span).

        Parameters
        ----------
        dataset_id : int
        item_id : int or str
            The item's own id.
        annotator : str
        spans : list of [start, end_exclusive, type]
            The item's spans as the person left them (non-overlapping; empty = no entity).
        decisions : list of dict, optional
            Per proposed span: ``{"span": [s, e, t], "decision": "accepted" | "rejected" | "fixed",
            "fixed_to": [s, e, t] or None}``.
        status : {"answered", "skipped"}, default "answered"
        span_set_id : int, optional
            The span set whose proposals the person saw.
        run_id : int, optional
        origin : str, optional

        Returns
        -------
        int
            The answer's id. The annotator's claims on the item are released.

        Examples
        --------
        >>> store.add_span_answer(ds, "s12", "ada", [[0, 2, "Disease"]],
        ...                       decisions=[{"span": [0, 2, "Disease"], "decision": "accepted"}])  # doctest: +SKIP
        """
        check_text("annotator", annotator)
        check_choice("status", status, ("answered", "skipped"))
        check_text("origin", origin, optional=True)
        types = self._dataset_types(dataset_id, span_set_id)
        kept = check_span_list("spans", spans, types)
        checked = [_decision(d, types) for d in (decisions or [])]
        if span_set_id is not None:
            check_id("span_set_id", span_set_id)
        row, key = self._answer_row(int(dataset_id), item_id)
        with self._transaction() as con:
            answer = self._insert(con, "span_answers", "span_answer", "span_answer_id", dict(
                dataset_id=int(dataset_id), item_key=key, row=row, annotator=annotator, status=status,
                spans=dumps("spans", kept), decisions=dumps("decisions", checked), span_set_id=span_set_id,
                run_id=run_id, origin=origin, created_at=utcnow()))
            con.execute("DELETE FROM claims WHERE item_key = ? AND annotator = ? AND run_id IN "
                        "(SELECT run_id FROM runs WHERE dataset_id = ?)", [key, annotator, int(dataset_id)])
        return answer

    def span_answers(self, dataset_id: int, *, item_id: Any = None, current: bool = False) -> pd.DataFrame:
        """People's span answers on a dataset's items (any version of it), oldest first.

        Parameters
        ----------
        dataset_id : int
        item_id : optional
            Only this item's answers.
        current : bool, default False
            Only each annotator's latest answer per item.

        Returns
        -------
        DataFrame
            ``span_answer_id, dataset_id, item_key, row, annotator, status, spans, decisions, span_set_id,
            run_id, origin, created_at`` (spans and decisions decoded).
        """
        frame = self._dataset_rows("span_answers", "span_answer_id", dataset_id, item_id, ("spans", "decisions"))
        if current and len(frame):
            frame = frame.drop_duplicates(["item_key", "annotator"], keep="last").reset_index(drop=True)
        return frame

    def _answer_row(self, dataset_id: int, item_id: Any) -> tuple[int, str]:
        key = str(item_id.item() if isinstance(item_id, np.generic) else item_id)
        rows = self._query("SELECT row FROM items WHERE dataset_id = ? AND item_key = ?", [dataset_id, key])
        if not rows:
            raise fail("item_id", f"the id of an item of dataset {dataset_id}", item_id)
        return int(rows[0][0]), key

    def _dataset_types(self, dataset_id: int, span_set_id: int | None) -> list[str] | None:
        self._dataset_row(dataset_id)
        sql, params = "SELECT entity_types FROM span_sets WHERE dataset_id = ?", [int(dataset_id)]
        if span_set_id is not None:
            sql, params = "SELECT entity_types FROM span_sets WHERE span_set_id = ?", [int(span_set_id)]
        rows = self._query(sql + " ORDER BY span_set_id DESC LIMIT 1", params)
        if span_set_id is not None and not rows:
            raise fail("span_set_id", "the id of a span set in this store", span_set_id)
        return None if not rows else list(loads(rows[0][0]))


def _plain(span: Mapping[str, Any]) -> list[Any]:
    return [span["start"], span["end"], span["type"]]


def _plain_dict(span: Mapping[str, Any]) -> dict[str, Any]:
    return {"start": span["start"], "end": span["end"], "type": span["type"]}


def _table_key(table: pa.Table) -> str:
    """Content fingerprint of an Arrow table (column by column)."""
    return fingerprint([(name, table.column(name).to_pylist() if pa.types.is_list(table.column(name).type)
                         else table.column(name).to_numpy(zero_copy_only=False)) for name in table.column_names])


def _decision(value: Any, types: list[str] | None) -> dict[str, Any]:
    if not isinstance(value, Mapping) or value.get("decision") not in SPAN_DECISIONS:
        raise fail("decisions", f"dicts with a 'decision' among {list(SPAN_DECISIONS)}", value)
    span = check_span_list("decisions.span", [value.get("span")], types)[0]
    fixed = value.get("fixed_to")
    if value["decision"] == "fixed":
        fixed = check_span_list("decisions.fixed_to", [fixed], types)[0]
    elif fixed is not None:
        raise fail("decisions.fixed_to", "None unless the decision is 'fixed'", fixed)
    return {"span": span, "decision": value["decision"], "fixed_to": fixed}


def _int_column(name: str, values: Any, n: int, low: int, high: int | None) -> np.ndarray:
    arr = np.asarray(values if values is not None else np.zeros(0), dtype=np.int64).reshape(-1)
    if arr.size != n:
        raise fail(name, f"{n} values (one per span)", got_text=f"{arr.size}")
    if arr.size and (arr.min() < low or (high is not None and arr.max() >= high)):
        raise fail(name, f"integers in [{low}, {high if high is not None else 'inf'})",
                   got_text=f"[{arr.min()}, {arr.max()}]")
    return arr


def _spans_table(rows: Any, starts: Any, ends: Any, types: Any, source: Any, confidence: Any, n_items: int,
                 n_types: int) -> pa.Table:
    r = np.asarray(rows, dtype=np.int64).reshape(-1)
    n = r.size
    r = _int_column("rows", r, n, 0, n_items)
    s = _int_column("starts", starts, n, 0, None)
    e = _int_column("ends", ends, n, 1, None)
    if n and (e <= s).any():
        raise fail("ends", "ends greater than starts", got_text="a span with end <= start")
    t = _int_column("types", types, n, 0, n_types)
    src = np.full(n, -1, dtype=np.int64) if source is None else _int_column("source", source, n, -1, None)
    conf = np.full(n, np.nan) if confidence is None else np.asarray(confidence, dtype=np.float64).reshape(-1)
    if conf.size != n:
        raise fail("confidence", f"{n} values (one per span)", got_text=f"{conf.size}")
    order = np.lexsort((src, s, r))
    return pa.table({"row": row_array(r[order]), "start": pa.array(s[order].astype(np.int32)),
                     "end": pa.array(e[order].astype(np.int32)), "type": pa.array(t[order].astype(np.int16)),
                     "source": pa.array(src[order].astype(np.int32)),
                     "confidence": pa.array(conf[order].astype(np.float32))})


def _items_table(tokens: Sequence[Sequence[str]], scores: Any, n_items: int) -> pa.Table:
    if len(tokens) != n_items:
        raise fail("tokens", f"the tokens of each of the dataset's {n_items} items", got_text=f"{len(tokens)}")
    score = np.full(n_items, np.nan) if scores is None else np.asarray(scores, dtype=np.float64).reshape(-1)
    if score.size != n_items:
        raise fail("scores", f"{n_items} values (one per item)", got_text=f"{score.size}")
    return pa.table({"row": row_array(np.arange(n_items)),
                     "tokens": pa.array([[str(t) for t in toks] for toks in tokens], type=pa.list_(pa.string())),
                     "score": pa.array(score)})
