"""Label Studio exchange: review batches out as tasks with predictions, human answers back in.

:func:`export_label_studio` writes a run's items as Label Studio tasks (JSON,
ready for *Import*), with weaklab's soft label as a pre-annotation
(``predictions``: the most likely class, ``score`` = its probability), plus
the labeling config XML to paste into the project's *Labeling Interface*.
Label Studio shows only predictions whose ``model_version`` is the project's
(taken from the first import), so every batch carries the same model version
(``"weaklab"`` unless given) and the run it comes from is in the task's
``meta``. Items no source voted on, and exact ties, get no pre-annotation.
:func:`import_label_studio` reads the project's export (*Export* → JSON or
JSON_MIN; other formats are refused by name) and stores every answer as a
human annotation, counting skipped tasks, annotations without a choice and
unanswered tasks. Both sides are single-choice text classification::

    <View>
      <Text name="text" value="$text"/>
      <Choices name="label" toName="text" choice="single">
        <Choice value="HAM"/><Choice value="SPAM"/>
      </Choices>
    </View>

The weaklab item id travels in each task's ``data`` under ``"item_id"``, so
the answers find their items again.
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

from ..._core.soft_labels import SoftLabels
from ..._core.validation import check_int, fail
from ...pipeline.files import write_text
from ...pipeline.queue_checks import interleave_checks, queue_random_share, queue_rng
from ...pipeline.review import shows_suggestion
from ...pipeline.runs import dataset_class_names, dataset_text_field, run_coverage, run_dataset, run_soft_labels
from ...store import Store
from ._answers import name_stored_answers, new_answers, store_answers
from ._batches import ExportSummary, batch_rows
from ._items import item_texts, typed_item_ids
from ._parse import (
    FROM_NAME,
    ID_FIELD,
    READ_FORMATS,
    check_class_names,
    check_field,
    choices_config,
    parse_label_studio_export,
    read_export,
)
from ._users import name_annotators, read_user_map

__all__ = [
    "config_path",
    "ExportSummary",
    "ImportSummary",
    "MODEL_VERSION",
    "READ_FORMATS",
    "export_label_studio",
    "import_label_studio",
    "labeling_config",
    "parse_label_studio_export",
    "read_user_map",
    "to_label_studio_tasks",
]

#: Name of the ``<Text>`` object the choices refer to.
TO_NAME = "text"
#: The predictions' model version: one stable value, because Label Studio shows only predictions whose model
#: version is the project's (set by the first import). The run is in each task's ``meta`` instead.
MODEL_VERSION = "weaklab"


# ---------------------------------------------------------------------- pure helpers
def to_label_studio_tasks(items: pd.DataFrame, soft_labels: SoftLabels, *, text_field: str = "text",
                          class_names: Sequence[str], model_version: str = MODEL_VERSION,
                          id_field: str = ID_FIELD, covered: Any = None,
                          meta: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Label Studio tasks with the soft labels as predictions (pre-annotations).

    An item gets no prediction when no source voted on it (``covered``) or
    when its most likely class is tied: its soft label is then a prior or a
    coin flip, and a pre-filled choice would only bias the annotator.

    Parameters
    ----------
    items : pandas.DataFrame
        One row per soft-label row, in the same order, with a ``text_field``
        column of strings. Item ids come from ``soft_labels.item_ids``, else
        from an ``id_field`` column, else from the index.
    soft_labels : SoftLabels of shape (n, k)
        Each item's class distribution.
    text_field : str, default="text"
        The column (and task data key) holding the text to label.
    class_names : sequence of str of length k
        The choices, in class-id order.
    model_version : str, default="weaklab"
        The predictions' model version. Label Studio shows only predictions
        whose model version is the project's (the first import's), so keep
        it the same for every batch of a project.
    id_field : str, default="item_id"
        Task data key of the weaklab item id.
    covered : array-like of bool of shape (n,), optional
        Whether any source voted on each item; by default every item counts as covered.
    meta : dict, optional
        JSON-able values stored in each task's ``meta`` (e.g. the weaklab run
        the predictions come from).

    Returns
    -------
    list of dict
        ``{"data": {text_field: text, id_field: id}, "predictions":
        [{"model_version", "score", "result": [choices]}], "meta": meta}``
        per item, where the predicted choice is the most likely class and
        ``score`` its probability; ``"predictions"`` is left out for
        uncovered and tied items.

    Examples
    --------
    >>> soft = SoftLabels([[0.2, 0.8], [0.5, 0.5]], item_ids=["a", "b"])
    >>> tasks = to_label_studio_tasks(pd.DataFrame({"text": ["buy now", "hmm"]}), soft,
    ...                               class_names=["HAM", "SPAM"])
    >>> tasks[0]["predictions"][0]["result"][0]["value"], "predictions" in tasks[1]
    ({'choices': ['SPAM']}, False)
    """
    names = check_class_names(class_names)
    if not isinstance(soft_labels, SoftLabels):
        raise fail("soft_labels", "a SoftLabels object", soft_labels)
    if soft_labels.n_classes != len(names):
        raise fail("class_names", f"{soft_labels.n_classes} names (one per class of soft_labels)",
                   got_text=f"{len(names)} names")
    if not isinstance(model_version, str) or not model_version:
        raise fail("model_version", "a non-empty string", model_version)
    texts, ids = _texts_and_ids(items, soft_labels, text_field, id_field)
    proba = soft_labels.proba
    best = np.argmax(proba, axis=1)
    score = proba[np.arange(soft_labels.n_items), best]
    predict = _predictable(proba, covered)
    return [_task(text, item, names[int(b)] if ok else None, float(s), text_field, id_field, model_version, meta)
            for text, item, b, s, ok in zip(texts, ids, best, score, predict)]


def _predictable(proba: np.ndarray, covered: Any) -> np.ndarray:
    """Rows that get a pre-annotation: covered by a source, with one most likely class."""
    top = proba.max(axis=1, keepdims=True)
    single = np.sum(np.isclose(proba, top, rtol=0.0, atol=1e-9), axis=1) == 1
    if covered is None:
        return single
    mask = np.asarray(covered)
    if mask.shape != (proba.shape[0],) or mask.dtype != bool:
        raise fail("covered", f"a boolean array of shape ({proba.shape[0]},)", mask)
    return single & mask


def labeling_config(class_names: Sequence[str], *, text_field: str = "text") -> str:
    """The labeling config XML of a single-choice text classification project.

    Parameters
    ----------
    class_names : sequence of str
        The choices, in class-id order.
    text_field : str, default="text"
        The task data key holding the text.

    Returns
    -------
    str
        The XML, to paste into the Label Studio project's labeling interface.

    Examples
    --------
    >>> print(labeling_config(["ham", "spam"]))  # doctest: +ELLIPSIS
    <View>
      <Text name="..." value="$text"/>
      <Choices name="..." toName="..." choice="single" showInline="true">
        <Choice value="ham"/>
        <Choice value="spam"/>
      </Choices>
    </View>
    """
    names = check_class_names(class_names)
    return choices_config(names, check_field("text_field", text_field), from_name=FROM_NAME, to_name=TO_NAME,
                          choice="single")


def _texts_and_ids(items: Any, soft_labels: SoftLabels, text_field: str,
                   id_field: str) -> tuple[list[str], list[Any]]:
    check_field("text_field", text_field)
    check_field("id_field", id_field)
    if not isinstance(items, pd.DataFrame):
        raise fail("items", "a pandas DataFrame", items)
    if text_field not in items.columns:
        raise fail("items", f"a {text_field!r} column (text_field)", got_text=f"columns {list(items.columns)}")
    if len(items) != soft_labels.n_items:
        raise fail("items", f"{soft_labels.n_items} rows (one per soft-label row)", got_text=f"{len(items)} rows")
    texts = items[text_field].tolist()
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise fail(f"items[{text_field!r}]", "text (str) in every row", got_text=f"{texts[bad[0]]!r} in row {bad[0]}")
    if soft_labels.item_ids is not None:
        ids = soft_labels.item_ids.tolist()
    else:
        ids = (items[id_field] if id_field in items.columns else items.index).tolist()
    return texts, [_json_id(v) for v in ids]


def _json_id(value: Any) -> Any:
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise fail("item ids", "integer or string ids", value)
    return value


def _task(text: str, item: Any, choice: str | None, score: float, text_field: str, id_field: str,
          model_version: str, meta: dict[str, Any] | None) -> dict[str, Any]:
    task: dict[str, Any] = {"data": {text_field: text, id_field: item}}
    if choice is not None:
        region = {"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": [choice]}}
        task["predictions"] = [{"model_version": model_version, "score": score, "result": [region]}]
    if meta:
        task["meta"] = dict(meta)
    return task


# ---------------------------------------------------------------------- store-bound
def export_label_studio(store: Store, run_id: int, path: str | os.PathLike[str], *, item_ids: Any = None,
                        text_field: str | None = None, limit: int | None = None, items: pd.DataFrame | None = None,
                        id_field: str = ID_FIELD, model_version: str = MODEL_VERSION,
                        include_pending: bool = False, include_gold: bool = False, random_share: float | None = None,
                        random_state: Any = None) -> ExportSummary:
    """Write a run's review batch as a Label Studio task file, plus the labeling config beside it.

    The exported items are recorded in the store as pending (Label Studio
    does not deduplicate tasks on ``item_id``): the next batch leaves them
    out until an answer or a skip for them is imported. The store must be
    open for writing. In blind review (the project's
    ``[review].show_suggestion = false``,
    :func:`~weaklab.pipeline.review.shows_suggestion`) the tasks carry no
    predictions: nothing is pre-filled.

    Parameters
    ----------
    store : Store
        The lineage store.
    run_id : int
        The run whose soft labels become predictions (its latest
        ``"label_model"`` soft labels, else its latest soft labels of any role).
    path : str or Path
        The task file to write (JSON). The labeling config goes to
        ``<stem>.label_config.xml`` in the same folder.
    item_ids : array-like, optional
        The items to export, in this order. By default the run's items that
        nobody answered or skipped, that no earlier batch sent (unless
        ``include_pending``) and that have no gold in the data file (dev
        items), least confident prediction first; answered items whose
        content changed since come first. Items no source voted on get no
        pre-annotation.
    text_field : str, optional
        Column of the items' text (in ``items`` or the dataset's table); by
        default the project's ``[data].text_field`` recorded with the dataset, else ``"text"``.
    limit : int, optional
        Export at most this many tasks.
    items : pandas.DataFrame, optional
        The items' texts (the store keeps ids, not texts): a ``text_field``
        column and the ids in an ``id_field`` column or the index. By default
        read from the dataset's recorded table (``meta["path"]``, ids in
        ``meta["id_column"]``), or the bundled demo data (``meta["bundled"]``).
    id_field : str, default="item_id"
        Task data key of the weaklab item id.
    model_version : str, default="weaklab"
        The predictions' model version: keep it stable across batches (Label
        Studio shows only the project's model version). The run and soft
        labels the predictions come from are in each task's ``meta``.
    include_pending : bool, default=False
        Send again the items of earlier batches that are still unanswered.
    include_gold : bool, default=False
        Send the items that hold gold in the data file too (to re-check their gold).
    random_share : float in [0, 1], optional
        With ``limit`` and the default choice of items: the expected share
        of the batch drawn uniformly at random from every item it could
        send, at random places, instead of least confident first (random
        checks; the tasks do not say which). By default the project's
        ``[query].random_share``. The store records the batch's slots
        (:meth:`~weaklab.store.Store.add_queue_slots`), so the imported
        answers reach the label model weighted
        (:func:`~weaklab.pipeline.queue_checks.answer_gold_weights`).
    random_state : None, int or numpy.random.Generator
        Seeds the random checks; by default a seed from the store
        (:func:`~weaklab.pipeline.queue_checks.queue_rng`: the same store
        state draws the same batch).

    Returns
    -------
    ExportSummary
        The number of tasks written (``n_tasks``, also ``int(summary)``) and
        how many items each rule left out.

    Examples
    --------
    A store with one run (the bundled demo), and a batch of three tasks:

    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from weaklab.demo import SpamDemo
    >>> folder = Path(tempfile.mkdtemp())
    >>> run_id = SpamDemo(store=folder / "weaklab.duckdb").run().run_id
    >>> with Store(folder / "weaklab.duckdb") as store:
    ...     summary = export_label_studio(store, run_id, folder / "tasks.json", limit=3)
    >>> int(summary), sorted(json.loads((folder / "tasks.json").read_text())[0]["data"])
    (3, ['item_id', 'text'])
    >>> config_path(folder / "tasks.json").is_file()
    True
    """
    soft, soft_id = run_soft_labels(store, run_id)
    dataset_id = run_dataset(store, run_id)
    all_ids = soft.item_ids if soft.item_ids is not None else store.load_item_ids(dataset_id)
    counts: dict[str, int] = {}
    if item_ids is None:
        rows, counts = batch_rows(store, dataset_id, soft, all_ids, run_id=int(run_id),
                                  include_pending=include_pending, include_gold=include_gold)
    else:
        rows = _export_rows(all_ids, item_ids)
    at_random, n_free = np.zeros(len(rows), dtype=bool), 0
    if limit is not None:
        rows, at_random, n_free = _limited(store, dataset_id, all_ids, rows, check_int("limit", limit, low=0),
                                   random_share if item_ids is None else 0.0, random_state if random_state is not None
                                   else queue_rng(store, dataset_id, run_id=int(run_id), queue="label_studio"))
    chosen = soft.select_items(rows)
    chosen_ids = np.asarray(all_ids)[rows]
    field = text_field if text_field is not None else dataset_text_field(store, dataset_id)
    frame = item_texts(store, dataset_id, chosen_ids, field, items, id_field)
    names = list(soft.class_names) if soft.class_names else dataset_class_names(store, dataset_id, soft.n_classes)
    meta = {"weaklab_run": int(run_id), "weaklab_soft_labels": int(soft_id)}
    tasks = to_label_studio_tasks(frame, SoftLabels(chosen.proba, item_ids=chosen_ids), text_field=field,
                                  class_names=names, model_version=model_version, id_field=id_field,
                                  covered=run_coverage(store, run_id, chosen_ids), meta=meta)
    if not shows_suggestion(store, dataset_id):  # blind review: no pre-filled choice
        for task in tasks:
            task.pop("predictions", None)
    target = Path(path)
    write_text(target, json.dumps(tasks, ensure_ascii=False, indent=1))
    write_text(config_path(target), labeling_config(names, text_field=field))
    store.record_export(dataset_id, chosen_ids, target="label_studio", batch=str(target), run_id=int(run_id))
    if len(chosen_ids):
        store.add_queue_slots(dataset_id, chosen_ids, at_random, pool_left=n_free if at_random.any() else 0,
                              queue="label_studio", run_id=int(run_id))
    return ExportSummary(path=str(target), run_id=int(run_id), n_tasks=len(tasks), **counts)


def _limited(store: Store, dataset_id: int, all_ids: Any, rows: np.ndarray, limit: int, share: float | None,
             random_state: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """At most ``limit`` of the ranked ``rows``, a share of them random checks, and how many rows they were drawn
    from (every candidate but answered items whose content changed, sent again)."""
    share = queue_random_share(store, dataset_id) if share is None else share
    again = {str(v) for v in store.changed_since_answered(dataset_id)}
    ids = np.asarray(all_ids)
    free = [int(r) for r in rows.tolist() if str(ids[r]) not in again]
    chosen, at_random = interleave_checks(rows.tolist(), free, limit, share, random_state)
    return np.asarray(chosen, dtype=np.int64), at_random, len(free)


def config_path(tasks_path: str | os.PathLike[str]) -> Path:
    """Where :func:`export_label_studio` writes the labeling config for a task file.

    Parameters
    ----------
    tasks_path : str or Path
        The task file (JSON).

    Returns
    -------
    Path
        ``<stem>.label_config.xml`` in the task file's folder.

    Examples
    --------
    >>> config_path("batches/tasks.json").as_posix()
    'batches/tasks.label_config.xml'
    """
    p = Path(tasks_path)
    return p.with_name(f"{p.stem}.label_config.xml")


def _export_rows(all_ids: Any, item_ids: Any) -> np.ndarray:
    keys = [str(v) for v in np.asarray(all_ids).tolist()]
    position = {k: i for i, k in enumerate(keys)}
    wanted = [str(v.item() if isinstance(v, np.generic) else v) for v in np.atleast_1d(np.asarray(item_ids))]
    unknown = [w for w in wanted if w not in position]
    if unknown:
        raise fail("item_ids", "ids of items with soft labels in this run",
                   got_text=f"{len(unknown)} unknown id(s), e.g. {unknown[0]!r}")
    return np.array([position[w] for w in wanted], dtype=np.int64)


@dataclass(frozen=True)
class ImportSummary:
    """What :func:`import_label_studio` found in an export and stored.

    Attributes
    ----------
    path : str
        The export file.
    dataset_id : int
        The dataset the answers belong to.
    n_answers : int
        Answers in the file (annotations with a choice).
    n_stored : int
        Answers stored by this import (an edited answer is stored as its new version).
    n_already_stored : int
        Answers stored by an earlier import of the same answer (or repeated in the file).
    n_superseded : int
        Stored answers that an edited answer of this export replaced: kept in the history, no longer used.
    n_skipped : int
        Skipped (cancelled) annotations: no answer; recorded as skips (the item is not sent again).
    n_skips_recorded : int
        Skips recorded by this import (the others were recorded before).
    n_no_choice : int
        Annotations submitted without a choice: no answer.
    n_unanswered : int
        Tasks nobody annotated (snapshot and "all tasks" exports list them): no answer.
    annotators : tuple of str
        Who gave the stored answers.
    reattributed : tuple of (str, str, int)
        ``(user id, name, answers)``: current answers (and skips) an earlier
        import stored under the bare user id, now attributed to the name
        this import's user map gives it. Recorded as new versions of those
        answers (:meth:`~weaklab.store.Store.reattribute_answers`); the
        earlier versions stay in the history. Answers already stored under
        a name keep it.
    next_step : str, default="the next `weaklab fit` uses the new answers as gold"
        What uses the stored answers (a tagging run's span answers train the
        next tagger: ``weaklab train``).

    Examples
    --------
    >>> summary = ImportSummary(path="export.json", dataset_id=1, n_answers=2, n_stored=2, annotators=("ann",))
    >>> summary.n_stored, summary.next_step
    (2, 'the next `weaklab fit` uses the new answers as gold')
    """

    path: str
    dataset_id: int
    n_answers: int
    n_stored: int
    n_already_stored: int = 0
    n_superseded: int = 0
    n_skipped: int = 0
    n_no_choice: int = 0
    n_unanswered: int = 0
    annotators: tuple[str, ...] = ()
    n_skips_recorded: int = 0
    reattributed: tuple[tuple[str, str, int], ...] = ()
    next_step: str = "the next `weaklab fit` uses the new answers as gold"

    @property
    def n_no_answer(self) -> int:
        """Tasks and annotations that carry no answer (skipped, without a choice, unanswered)."""
        return self.n_skipped + self.n_no_choice + self.n_unanswered

    def describe(self) -> str:
        """The summary as sentences for a person: what was stored, what was not, and why."""
        who = f" from annotator(s) {', '.join(self.annotators)}" if self.annotators else ""
        parts = [f"Stored {self.n_stored} new answer(s){who} of the {self.n_answers} in {self.path} "
                 f"(dataset {self.dataset_id})."]
        if self.n_already_stored:
            parts.append(f"Not stored again: {self.n_already_stored} already stored.")
        if self.n_superseded:
            parts.append(f"{self.n_superseded} stored answer(s) replaced by an edit made in Label Studio "
                         "(kept in the history, no longer used).")
        if self.reattributed:
            moved = ", ".join(f"{n} of user {u} to {name}" for u, name, n in self.reattributed)
            parts.append(f"Answers stored earlier under a bare user id now attributed by name: {moved} "
                         "(recorded as new versions; the earlier ones stay in the history).")
        none = [f"{n} {what}" for n, what in ((self.n_skipped, "skipped task(s)"),
                                              (self.n_no_choice, "annotation(s) submitted without a choice"),
                                              (self.n_unanswered, "task(s) nobody answered yet")) if n]
        if none:
            parts.append(f"No answer in {', '.join(none)}"
                         + (f" ({self.n_skips_recorded} skip(s) recorded)." if self.n_skips_recorded else "."))
        if self.n_stored:
            parts.append(f"{self.next_step[:1].upper()}{self.next_step[1:]}.")
        return " ".join(parts)


def import_label_studio(store: Store, path: str | os.PathLike[str], *, dataset_id: int,
                        annotator: str | None = None, users: Mapping[str, str] | str | os.PathLike[str] | None = None,
                        origin: str = "label_studio", class_names: Sequence[str] | None = None,
                        id_field: str = ID_FIELD, from_name: str | None = None) -> ImportSummary:
    """Store the answers of a Label Studio export (JSON or JSON_MIN) as human annotations.

    Everything is checked before anything is written, and all answers are
    written in one transaction: a bad file stores nothing. Tasks and
    annotations without an answer (submitted without a choice, not annotated
    yet) are counted, not stored; skipped (cancelled) annotations are
    recorded as skips. Answers are stored by their Label Studio identity
    (annotation id and ``updated_at``): importing one again, in either
    format, with or without ``annotator``, stores nothing; an annotation
    edited in place (same id, newer ``updated_at``) is stored as a new
    version that supersedes the old one, which stays in the history. Answers
    of exports without annotation ids are matched on item, label, creation
    time and origin instead.

    Parameters
    ----------
    store : Store
        The lineage store (open for writing).
    path : str or Path
        The export file.
    dataset_id : int
        The dataset whose items the tasks are (ids in ``data[id_field]``).
    annotator : str, optional
        A name for answers the export does not attribute, and for the one
        user of an export answered by a single person. Refused for an export
        of several people (use ``users``): one name never merges people.
    users : mapping or path, optional
        User id → name (or e-mail): a mapping, or a file read by
        :func:`read_user_map` (Label Studio's users export, ``{id: name}``
        JSON, or CSV with ``id`` and ``email``). Without it, annotators are
        the export's user ids; a map given on a later import attributes the
        answers stored under a bare user id to the name (see
        ``ImportSummary.reattributed``).
    origin : str, default="label_studio"
        Origin recorded with each annotation.
    class_names : sequence of str, optional
        The choices in class-id order; by default the class names recorded
        with the dataset's newest run.
    id_field : str, default="item_id"
        Key of the weaklab item id.
    from_name : str, optional
        The ``<Choices>`` control to read (see :func:`parse_label_studio_export`).

    Returns
    -------
    ImportSummary
        Counts of what was stored, what was already stored, and what carried no answer.

    Examples
    --------
    Export a batch of the bundled demo's run, answer its first task (a JSON_MIN record), import it:

    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from weaklab.demo import SpamDemo
    >>> folder = Path(tempfile.mkdtemp())
    >>> run_id = SpamDemo(store=folder / "weaklab.duckdb").run().run_id
    >>> with Store(folder / "weaklab.duckdb") as store:
    ...     _ = export_label_studio(store, run_id, folder / "tasks.json", limit=2)
    ...     dataset_id = store.run(run_id)["dataset_id"]
    >>> first = json.loads((folder / "tasks.json").read_text())[0]["data"]["item_id"]
    >>> answers = [{"item_id": first, "label": "SPAM", "annotator": 7, "annotation_id": 1}]
    >>> _ = (folder / "export.json").write_text(json.dumps(answers))
    >>> with Store(folder / "weaklab.duckdb") as store:
    ...     summary = import_label_studio(store, folder / "export.json", dataset_id=dataset_id, annotator="ann")
    >>> summary.n_answers, summary.n_stored, summary.annotators
    (1, 1, ('ann',))
    """
    file = Path(path)
    data = read_export(file)
    names = check_class_names(class_names) if class_names is not None else dataset_class_names(store, dataset_id)
    parsed = parse_label_studio_export(data, class_names=names, id_field=id_field, from_name=from_name,
                                       source=str(file))
    mapping = read_user_map(users) if isinstance(users, (str, os.PathLike)) else users
    user_ids = parsed["annotator"]
    parsed = name_annotators(parsed, users=mapping, annotator=annotator, source=str(file))
    parsed["user_id"] = user_ids
    counts = parsed["status"].value_counts()
    frame = parsed[parsed["status"].isin(["answer", "skipped"])].reset_index(drop=True)
    if frame["annotator"].isna().any():
        row = int(np.flatnonzero(frame["annotator"].isna().to_numpy())[0])
        raise fail(f"{file}: answer {row}", "the annotator (completed_by / annotator), or pass annotator=",
                   got_text="none in the export")
    typed_item_ids(store, dataset_id, parsed["item_id"].tolist(), f"{file}: {id_field}")
    frame["item_id"] = typed_item_ids(store, dataset_id, frame["item_id"].tolist(), f"{file}: {id_field}")
    origin = check_field("origin", origin)
    new = new_answers(store, dataset_id, frame, origin)
    before = store.annotations(dataset_id)
    fresh = store_answers(store, dataset_id, new, names, origin, set(before["annotation_id"].tolist()))
    answers = (new["status"] == "answer").to_numpy(dtype=bool)
    n_answers = int((frame["status"] == "answer").sum())
    stored = int((fresh & answers).sum())
    after = store.annotations(dataset_id)
    superseded = set(before.loc[before["current"], "annotation_id"]) - set(after.loc[after["current"],
                                                                                   "annotation_id"])
    reattributed = name_stored_answers(store, after, frame) if mapping is not None else ()
    return ImportSummary(path=str(file), dataset_id=int(dataset_id), n_answers=n_answers, n_stored=stored,
                         n_already_stored=n_answers - stored, n_superseded=len(superseded),
                         n_skipped=int(counts.get("skipped", 0)), n_no_choice=int(counts.get("no_choice", 0)),
                         n_unanswered=int(counts.get("unanswered", 0)),
                         n_skips_recorded=int((fresh & ~answers).sum()),
                         annotators=tuple(sorted({str(a) for a in new.loc[fresh & answers, "annotator"]})),
                         reattributed=reattributed)

