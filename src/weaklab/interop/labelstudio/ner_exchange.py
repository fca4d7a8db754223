"""Label Studio exchange of a tagging run: proposed spans out as NER tasks, people's spans back as span answers.

:func:`export_label_studio_ner` writes a review batch of a tagging run (the
items nobody answered or skipped, that no earlier batch sent and that have no
gold in the data file, least certain first) as Label Studio tasks whose
pre-annotations are the label model's proposed spans (``Labels`` regions over
the tokens joined by spaces; :func:`~weaklab.interop.labelstudio.ner.to_label_studio_ner_tasks`),
plus the NER labeling config beside it. :func:`import_label_studio_ner` reads
the project's export (JSON or JSON_MIN) and stores each annotation as a span
answer (:meth:`~weaklab.store.Store.add_span_answer`), with what the person
did to every proposed span of the item: ``accepted`` (kept as it was),
``fixed`` (an overlapping span with other bounds or type took its place;
``fixed_to``) or ``rejected``. Skipped tasks are recorded as skips, so the
item leaves the queue. The same answer imported twice is stored once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..._core.validation import check_int, fail
from ...pipeline.files import write_text
from ...pipeline.review import gold_items
from ...pipeline.runs import run_dataset
from ...store import Store
from ._batches import ExportSummary
from ._items import typed_item_ids
from ._parse import read_export
from ._users import name_annotators, read_user_map
from .exchange import MODEL_VERSION, ImportSummary, config_path
from .ner import ner_labeling_config, parse_label_studio_ner, to_label_studio_ner_tasks

__all__ = ["ProposedSpans", "proposed_spans", "span_decisions", "export_label_studio_ner",
           "import_label_studio_ner", "is_tagging_run"]

Span = tuple[int, int, str]


@dataclass(frozen=True)
class ProposedSpans:
    """A tagging run's proposed spans (its newest ``"label_model"`` span set), per dataset row.

    Attributes
    ----------
    run_id, dataset_id, span_set_id : int
    entity_types : tuple of str
    item_ids : ndarray
        The dataset's item ids, in row order.
    tokens : list of list of str
        Every item's tokens, in row order.
    scores : ndarray of shape (n_items,)
        The label model's least token confidence per item (lower = less certain; NaN where none).
    spans : list of list of (int, int, str)
        The proposed spans of every item, in row order.

    Examples
    --------
    >>> proposed = proposed_spans(store, run_id)          # doctest: +SKIP
    >>> proposed.spans[0], proposed.tokens[0]             # doctest: +SKIP
    """

    run_id: int
    dataset_id: int
    span_set_id: int
    entity_types: tuple[str, ...]
    item_ids: np.ndarray
    tokens: list[list[str]]
    scores: np.ndarray
    spans: list[list[Span]]


def is_tagging_run(store: Store, run_id: int) -> bool:
    """Whether the run recorded span sets (a tagging run).

    Parameters
    ----------
    store : Store
        The lineage store.
    run_id : int
        The run.

    Returns
    -------
    bool
        True for a run of a tagging project.

    Examples
    --------
    >>> is_tagging_run(store, run_id)                     # doctest: +SKIP
    True
    """
    return len(store.span_sets(run_id)) > 0


def proposed_spans(store: Store, run_id: int) -> ProposedSpans:
    """The proposed spans, tokens and scores of a tagging run's items.

    Parameters
    ----------
    store : Store
    run_id : int

    Returns
    -------
    ProposedSpans

    Raises
    ------
    ValidationError
        The run recorded no label-model span set (not a tagging run, or not fitted).

    Examples
    --------
    >>> proposed_spans(store, run_id).entity_types        # doctest: +SKIP
    ('Chemical', 'Disease')
    """
    sets = store.span_sets(run_id)
    chosen = sets[sets["role"] == "label_model"] if len(sets) else sets
    if chosen.empty:
        raise fail("run_id", "a tagging run with proposed spans (run `weaklab fit` on the tagging project)",
                   got_text=f"run {run_id}, which recorded none")
    set_id = int(chosen["span_set_id"].iloc[-1])
    dataset_id = run_dataset(store, run_id)
    table, items = store.load_span_set(set_id)
    ids = np.asarray(store.load_item_ids(dataset_id))
    n = len(ids)
    tokens: list[list[str]] = [[] for _ in range(n)]
    scores = np.full(n, np.nan)
    if items is not None:
        for row, toks, score in zip(items["row"].tolist(), items["tokens"].tolist(), items["score"].tolist()):
            tokens[int(row)] = [str(t) for t in toks]
            scores[int(row)] = np.nan if score is None else float(score)
    spans: list[list[Span]] = [[] for _ in range(n)]
    for row, start, end, kind in zip(table["row"].tolist(), table["start"].tolist(), table["end"].tolist(),
                                     table["type"].tolist()):
        spans[int(row)].append((int(start), int(end), str(kind)))
    return ProposedSpans(int(run_id), dataset_id, set_id, tuple(chosen["entity_types"].iloc[-1]), ids, tokens,
                         scores, [sorted(s) for s in spans])


def span_decisions(proposed: Sequence[Sequence[Any]], answer: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """What a person's spans did to each proposed span: accepted, fixed (to the overlapping span) or rejected.

    Parameters
    ----------
    proposed : sequence of (start, end, type)
    answer : sequence of (start, end, type)
        The spans the person left (non-overlapping).

    Returns
    -------
    list of dict
        ``{"span": [s, e, t], "decision": ..., "fixed_to": [s, e, t] or None}`` per proposed span.

    Examples
    --------
    >>> span_decisions([(0, 1, "A"), (3, 4, "A"), (6, 7, "A")], [(0, 1, "A"), (3, 5, "B")])
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'span': [0, 1, 'A'], 'decision': 'accepted', 'fixed_to': None},
     {'span': [3, 4, 'A'], 'decision': 'fixed', 'fixed_to': [3, 5, 'B']},
     {'span': [6, 7, 'A'], 'decision': 'rejected', 'fixed_to': None}]
    """
    given = [list(s) for s in answer]
    out = []
    for span in proposed:
        p = [int(span[0]), int(span[1]), str(span[2])]
        over = [a for a in given if a[0] < p[1] and p[0] < a[1]]
        if p in given:
            out.append({"span": p, "decision": "accepted", "fixed_to": None})
        elif over:
            out.append({"span": p, "decision": "fixed", "fixed_to": over[0]})
        else:
            out.append({"span": p, "decision": "rejected", "fixed_to": None})
    return out


def export_label_studio_ner(store: Store, run_id: int, path: str | os.PathLike[str], *, item_ids: Any = None,
                            limit: int | None = None, model_version: str = MODEL_VERSION,
                            include_pending: bool = False, include_gold: bool = False) -> ExportSummary:
    """Write a tagging run's review batch as Label Studio NER tasks, plus the labeling config beside it.

    Parameters
    ----------
    store : Store
        The lineage store, open for writing (the exported items are recorded as pending).
    run_id : int
        A tagging run; its label model's proposed spans become the tasks' predictions.
    path : str or Path
        The task file to write (JSON); the config goes to ``<stem>.label_config.xml``.
    item_ids : array-like, optional
        The items to export, in this order. By default the items nobody answered or skipped, that no
        earlier batch sent (unless ``include_pending``) and that have no gold in the data file, least
        certain first (the label model's least token confidence).
    limit : int, optional
        Export at most this many tasks.
    model_version : str, default "weaklab"
        The predictions' model version (keep it stable across batches).
    include_pending : bool, default False
        Send again the items of earlier batches that are still unanswered.
    include_gold : bool, default False
        Send the items that hold gold in the data file too (to re-check their gold).

    Returns
    -------
    ExportSummary

    Examples
    --------
    >>> export_label_studio_ner(store, run_id, "tasks.json", limit=20).n_tasks   # doctest: +SKIP
    20
    """
    proposed = proposed_spans(store, run_id)
    counts: dict[str, int] = {}
    if item_ids is None:
        rows, counts = _batch_rows(store, proposed, include_pending, include_gold)
    else:
        rows = _rows_of(proposed.item_ids, item_ids)
    if limit is not None:
        rows = rows[: check_int("limit", limit, low=0)]
    chosen = proposed.item_ids[rows]
    tasks = to_label_studio_ner_tasks([proposed.tokens[r] for r in rows], [proposed.spans[r] for r in rows],
                                      item_ids=chosen.tolist(), entity_types=proposed.entity_types,
                                      scores=[float(np.nan_to_num(proposed.scores[r], nan=1.0)) for r in rows],
                                      model_version=model_version)
    for task in tasks:
        task["meta"] = {"weaklab_run": int(run_id), "weaklab_span_set": proposed.span_set_id}
    target = Path(path)
    write_text(target, json.dumps(tasks, ensure_ascii=False, indent=1))
    write_text(config_path(target), ner_labeling_config(proposed.entity_types))
    store.record_export(proposed.dataset_id, chosen, target="label_studio", batch=str(target), run_id=int(run_id))
    return ExportSummary(path=str(target), run_id=int(run_id), n_tasks=len(tasks), **counts)


def _batch_rows(store: Store, proposed: ProposedSpans, include_pending: bool,
                include_gold: bool) -> tuple[np.ndarray, dict[str, int]]:
    """Rows to send, least certain first, and how many items each rule left out."""
    keys = [str(v) for v in proposed.item_ids.tolist()]
    answers = store.span_answers(proposed.dataset_id, current=True)
    answered = set(answers.loc[answers["status"] == "answered", "item_key"].astype(str))
    skipped = set(answers.loc[answers["status"] == "skipped", "item_key"].astype(str)) - answered
    pending = set() if include_pending else \
        {str(v) for v in store.pending_items(proposed.dataset_id)} - answered - skipped
    gold = set() if include_gold else \
        set(gold_items(store, proposed.dataset_id).ids) - answered - skipped - pending
    out = answered | skipped | pending | gold
    rows = np.array([i for i, k in enumerate(keys) if k not in out], dtype=np.int64)
    order = np.argsort(np.nan_to_num(proposed.scores[rows], nan=1.0), kind="stable")
    present = set(keys)
    counts = {"n_answered": len(answered & present), "n_skipped": len(skipped & present),
              "n_pending": len(pending & present), "n_gold": len(gold & present)}
    return rows[order], counts


def _rows_of(all_ids: np.ndarray, item_ids: Any) -> np.ndarray:
    position = {str(v): i for i, v in enumerate(all_ids.tolist())}
    wanted = [str(v.item() if isinstance(v, np.generic) else v) for v in np.atleast_1d(np.asarray(item_ids))]
    unknown = [w for w in wanted if w not in position]
    if unknown:
        raise fail("item_ids", "ids of items of this run",
                   got_text=f"{len(unknown)} unknown id(s), e.g. {unknown[0]!r}")
    return np.array([position[w] for w in wanted], dtype=np.int64)


def import_label_studio_ner(store: Store, path: str | os.PathLike[str], *, run_id: int,
                            annotator: str | None = None,
                            users: Mapping[str, str] | str | os.PathLike[str] | None = None,
                            origin: str = "label_studio", snap: str = "expand") -> ImportSummary:
    """Store the annotations of a Label Studio NER export (JSON or JSON_MIN) as span answers.

    Everything is checked before anything is written. Each annotation becomes
    one span answer on its item, with a decision on every span the run
    proposed there (:func:`span_decisions`); a skipped (cancelled) annotation
    is recorded as a skip. An annotation whose spans the same person's
    current answer on the item already holds (from a Label Studio import) is
    not stored again.

    Parameters
    ----------
    store : Store
        The lineage store (open for writing).
    path : str or Path
        The export file.
    run_id : int
        The tagging run whose proposed spans were exported (its dataset holds the items).
    annotator : str, optional
        A name for annotations the export does not attribute, or for the one user of a single-person
        export (refused when the export names several people: use ``users``).
    users : mapping or path, optional
        Label Studio user id -> name (see :func:`~weaklab.interop.labelstudio.read_user_map`).
    origin : str, default "label_studio"
    snap : {"expand", "strict"}, default "expand"
        How a region's characters map to tokens (``"expand"``: every token the region touches).

    Returns
    -------
    ImportSummary

    Examples
    --------
    >>> import_label_studio_ner(store, "export.json", run_id=run_id, annotator="ada").n_stored   # doctest: +SKIP
    3
    """
    file = Path(path)
    proposed = proposed_spans(store, run_id)
    parsed = parse_label_studio_ner(read_export(file), entity_types=proposed.entity_types, snap=snap,
                                    source=str(file))
    frame = pd.DataFrame({"item_id": [a.item_id for a in parsed], "annotator": [a.annotator for a in parsed],
                          "status": [a.status for a in parsed], "spans": [[list(s) for s in a.spans] for a in parsed]})
    mapping = read_user_map(users) if isinstance(users, (str, os.PathLike)) else users
    frame = name_annotators(frame, users=mapping, annotator=annotator, source=str(file)) if len(frame) else frame
    if len(frame) and frame["annotator"].isna().any():
        row = int(np.flatnonzero(frame["annotator"].isna().to_numpy())[0])
        raise fail(f"{file}: annotation {row}", "the annotator (completed_by / annotator), or pass annotator=",
                   got_text="none in the export")
    ids = typed_item_ids(store, proposed.dataset_id, frame["item_id"].tolist(), f"{file}: item_id")
    rows = _rows_of(proposed.item_ids, ids) if ids else np.zeros(0, dtype=np.int64)
    for k, (row, spans) in enumerate(zip(rows.tolist(), frame["spans"].tolist())):
        n = len(proposed.tokens[row])
        if any(e > n for _, e, _ in spans):
            raise fail(f"{file}: annotation {k}", f"spans within item {ids[k]!r}'s {n} tokens", spans)
    stored = _store(store, proposed, frame, ids, rows, origin)
    answers = frame["status"] == "answer"
    n_answers = int(answers.sum())
    n_stored = int((stored & answers.to_numpy()).sum())
    return ImportSummary(path=str(file), dataset_id=proposed.dataset_id, n_answers=n_answers, n_stored=n_stored,
                         n_already_stored=n_answers - n_stored, n_skipped=int((~answers).sum()),
                         n_skips_recorded=int((stored & ~answers.to_numpy()).sum()),
                         annotators=tuple(sorted({str(a) for a, s in zip(frame["annotator"], stored) if s})),
                         next_step="the next `weaklab train` trains the tagger on the new span answers")


def _store(store: Store, proposed: ProposedSpans, frame: pd.DataFrame, ids: list[Any], rows: np.ndarray,
           origin: str) -> np.ndarray:
    """Record every new answer or skip; True where one was recorded."""
    current = store.span_answers(proposed.dataset_id, current=True)
    held = {(str(k), str(a)): (s, spans, o) for k, a, s, spans, o in
            zip(current["item_key"], current["annotator"], current["status"], current["spans"], current["origin"])}
    out = np.zeros(len(frame), dtype=bool)
    for k, (item, row, who, status, spans) in enumerate(zip(ids, rows.tolist(), frame["annotator"],
                                                            frame["status"], frame["spans"])):
        kind = "answered" if status == "answer" else "skipped"
        if held.get((str(item), str(who))) == (kind, spans, origin):
            continue
        decisions = span_decisions(proposed.spans[row], spans) if kind == "answered" else None
        store.add_span_answer(proposed.dataset_id, item, str(who), spans if kind == "answered" else [],
                              decisions=decisions, status=kind, span_set_id=proposed.span_set_id,
                              run_id=proposed.run_id, origin=origin)
        held[(str(item), str(who))] = (kind, spans if kind == "answered" else [], origin)
        out[k] = True
    return out
