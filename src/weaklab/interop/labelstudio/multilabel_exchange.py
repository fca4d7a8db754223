"""Label Studio exchange of a multi-label run: a review batch out as tasks, people's label sets back as answers.

:func:`export_label_studio_multilabel` writes the run's items that nobody
answered or skipped, that no earlier batch sent and that are not dev items
(a gold label set in the data, in the dev split), least certain first (the
review queue, :func:`~weaklab.pipeline.multilabel_review.label_review_queue`), as Label Studio
tasks whose predictions tick the labels at 0.5 or more, plus the labeling
config beside them (:mod:`.multilabel`). :func:`import_label_studio_multilabel`
reads the project's export (JSON or JSON_MIN) and stores each annotation as a
label-set answer (:meth:`~weaklab.store.Store.add_label_set_answer`: the
label names, the annotator, origin ``"label_studio"``, the label set of
probabilities the batch showed and the run), a skipped task as a skip. An
answer the same person's latest answer on the item already holds is not
stored again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..._core.validation import check_int, fail
from ...pipeline.files import write_text
from ...pipeline.multilabel_review import LabelQueue, label_review_queue
from ...pipeline.runs import dataset_text_field
from ...store import Store
from ._batches import ExportSummary
from ._items import item_texts, typed_item_ids
from ._parse import ID_FIELD, read_export
from ._users import name_annotators, read_user_map
from .exchange import MODEL_VERSION, ImportSummary, config_path
from .multilabel import multilabel_labeling_config, parse_label_studio_multilabel, to_label_studio_multilabel_tasks

__all__ = ["export_label_studio_multilabel", "import_label_studio_multilabel"]


def _label_model_set(store: Store, run_id: int) -> tuple[int, list[str], int]:
    """The run's newest label-model label set: its id, the label names and the dataset id."""
    sets = store.label_sets(run_id)
    fitted = sets[sets["role"] == "label_model"] if len(sets) else sets
    if fitted.empty:
        raise fail("run_id", "a multilabel run that fitted its label model (run `weaklab fit`)",
                   got_text=f"run {run_id}, which recorded no label probabilities")
    return (int(fitted["label_set_id"].iloc[-1]), [str(n) for n in fitted["label_names"].iloc[-1]],
            int(fitted["dataset_id"].iloc[-1]))


def export_label_studio_multilabel(store: Store, run_id: int, path: str | os.PathLike[str], *,
                                   limit: int | None = None, model_version: str = MODEL_VERSION,
                                   include_pending: bool = False, include_gold: bool = False) -> ExportSummary:
    """Write a multi-label run's review batch as Label Studio tasks, plus the labeling config beside it.

    Parameters
    ----------
    store : Store
        The lineage store, open for writing (the exported items are recorded as pending).
    run_id : int
        A multi-label run that fitted its label model.
    path : str or Path
        The task file to write (JSON); the config goes to ``<stem>.label_config.xml``.
    limit : int, optional
        Export at most this many tasks.
    model_version : str, default "weaklab"
        The predictions' model version (keep it stable across batches).
    include_pending : bool, default False
        Send again the items of earlier batches that are still unanswered.
    include_gold : bool, default False
        Send the dev items (a gold label set in the data, in the dev split) too.

    Returns
    -------
    ExportSummary

    Examples
    --------
    >>> export_label_studio_multilabel(store, run_id, "batch/tasks.json", limit=50).n_tasks   # doctest: +SKIP
    50
    """
    set_id, names, dataset_id = _label_model_set(store, int(run_id))
    queue, counts = _batch_rows(store, int(run_id), dataset_id, include_pending, include_gold)
    n = len(queue.item_ids) if limit is None else check_int("limit", limit, low=0)
    chosen, proba = queue.item_ids[:n], queue.proba[:n]
    field = dataset_text_field(store, dataset_id)
    texts = item_texts(store, dataset_id, chosen, field, None, ID_FIELD)[field].fillna("").astype(str).tolist()
    tasks = to_label_studio_multilabel_tasks(texts, proba, item_ids=chosen.tolist(), label_names=names,
                                             text_field=field, model_version=model_version)
    for task in tasks:
        task["meta"] = {"weaklab_run": int(run_id), "weaklab_label_set": set_id}
    target = Path(path)
    write_text(target, json.dumps(tasks, ensure_ascii=False, indent=1))
    write_text(config_path(target), multilabel_labeling_config(names, text_field=field))
    store.record_export(dataset_id, chosen, target="label_studio", batch=str(target), run_id=int(run_id))
    return ExportSummary(path=str(target), run_id=int(run_id), n_tasks=len(tasks), **counts)


def _batch_rows(store: Store, run_id: int, dataset_id: int, include_pending: bool,
                include_gold: bool) -> tuple[LabelQueue, dict[str, int]]:
    """The review queue without the items sent in earlier batches, and how many items each rule left out."""
    answers = store.label_set_answers(dataset_id)
    done = set(answers["item_key"].astype(str))
    pending = set() if include_pending else {str(v) for v in store.pending_items(dataset_id)} - done
    queue = label_review_queue(store, run_id, include_gold=include_gold, exclude=pending)
    return queue, {"n_answered": queue.n_answered, "n_skipped": queue.n_skipped, "n_pending": len(pending),
                   "n_gold": queue.n_dev}


def import_label_studio_multilabel(store: Store, path: str | os.PathLike[str], *, run_id: int,
                                   annotator: str | None = None,
                                   users: Mapping[str, str] | str | os.PathLike[str] | None = None,
                                   origin: str = "label_studio") -> ImportSummary:
    """Store the annotations of a multi-label Label Studio export (JSON or JSON_MIN) as label-set answers.

    Everything is checked before anything is written (unknown items, labels
    that are not the run's, annotators the export does not name). A label
    ticked under an old name the run renames (``[labels.rename]``: a batch
    sent before the rename) is stored under its new name.

    Parameters
    ----------
    store : Store
        The lineage store (open for writing).
    path : str or Path
        The export file.
    run_id : int
        A multi-label run of the dataset the tasks came from (its labels and
        label-model label set are recorded with each answer).
    annotator : str, optional
        A name for annotations the export does not attribute, or for the one
        user of a single-person export (refused when it names several: use ``users``).
    users : mapping or path, optional
        Label Studio user id -> name (see :func:`~weaklab.interop.labelstudio.read_user_map`).
    origin : str, default "label_studio"

    Returns
    -------
    ImportSummary

    Examples
    --------
    >>> import_label_studio_multilabel(store, "export.json", run_id=run_id, annotator="ada").n_stored  # doctest: +SKIP
    3
    """
    file = Path(path)
    set_id, names, dataset_id = _label_model_set(store, int(run_id))
    renames = {old: new for old, new in store.run_class_renames(int(run_id)).items() if new in names and
               old not in names}  # a batch sent before [labels.rename] ticks the old names
    parsed = parse_label_studio_multilabel(read_export(file), label_names=[*names, *renames], source=str(file))
    frame = pd.DataFrame({"item_id": [a.item_id for a in parsed], "annotator": [a.annotator for a in parsed],
                          "status": [a.status for a in parsed],
                          "labels": [[n for n in names if n in {renames.get(x, x) for x in a.labels}] for a in parsed]})
    mapping = read_user_map(users) if isinstance(users, (str, os.PathLike)) else users
    frame = name_annotators(frame, users=mapping, annotator=annotator, source=str(file)) if len(frame) else frame
    if len(frame) and frame["annotator"].isna().any():
        row = int(np.flatnonzero(frame["annotator"].isna().to_numpy())[0])
        raise fail(f"{file}: annotation {row}", "the annotator (completed_by / annotator), or pass annotator=",
                   got_text="none in the export")
    ids = typed_item_ids(store, dataset_id, frame["item_id"].tolist(), f"{file}: item_id")
    stored = _store(store, dataset_id, frame, ids, names, set_id, int(run_id), origin, renames)
    answers = (frame["status"] == "answer").to_numpy() if len(frame) else np.zeros(0, dtype=bool)
    n_answers, n_stored = int(answers.sum()), int((stored & answers).sum())
    return ImportSummary(path=str(file), dataset_id=dataset_id, n_answers=n_answers, n_stored=n_stored,
                         n_already_stored=n_answers - n_stored, n_skipped=int((~answers).sum()),
                         n_skips_recorded=int((stored & ~answers).sum()),
                         annotators=tuple(sorted({str(a) for a, s in zip(frame["annotator"], stored) if s})),
                         next_step="the next `weaklab train` trains the end model on the answered label sets, "
                                   "and `weaklab explain` and `export` take them as the items' final labels")


def _store(store: Store, dataset_id: int, frame: pd.DataFrame, ids: list[Any], names: list[str], set_id: int,
           run_id: int, origin: str, renames: dict[str, str]) -> np.ndarray:
    """Record every new answer or skip (answers already stored read through the run's renames); True where one was
    recorded."""
    current = store.label_set_answers(dataset_id, renames=renames)
    held = {(str(k), str(a)): (s, frozenset(labels), o) for k, a, s, labels, o in
            zip(current["item_key"], current["annotator"], current["status"], current["labels"], current["origin"])}
    out = np.zeros(len(frame), dtype=bool)
    for k, (item, who, status, labels) in enumerate(zip(ids, frame["annotator"], frame["status"], frame["labels"])):
        kind = "answered" if status == "answer" else "skipped"
        given = list(labels) if kind == "answered" else []
        if held.get((str(item), str(who))) == (kind, frozenset(given), origin):
            continue
        store.add_label_set_answer(dataset_id, item, str(who), given, label_names=names, status=kind,
                                   label_set_id=set_id, run_id=run_id, origin=origin)
        held[(str(item), str(who))] = (kind, frozenset(given), origin)
        out[k] = True
    return out
