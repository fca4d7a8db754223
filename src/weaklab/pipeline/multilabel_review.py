"""The review queue of a multi-label run outside the dashboard: which items to ask about, and what to show.

:func:`label_review_queue` orders the run's items least certain first (the
largest summed binary entropy of the label model's ``P(applies)``,
:func:`~weaklab.pipeline.multilabel.label_uncertainty`: the dashboard's and
``weaklab query``'s order), leaving out items someone answered or skipped and,
unless asked, the dev items (:func:`multilabel_dev_keys`). ``weaklab annotate``
on a multi-label run and the Label Studio export read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..store import Store
from .multilabel import label_uncertainty
from .runs import dataset_meta, dataset_table

__all__ = ["LabelQueue", "label_review_queue", "multilabel_dev_keys", "label_set_disagreements", "ADJUDICATION"]

#: The origin of an answer that settles a disagreement (``weaklab annotate adjudicate``).
ADJUDICATION = "adjudication"

_ID = "item_id"


@dataclass(frozen=True)
class LabelQueue:
    """A multi-label run's review queue.

    Attributes
    ----------
    run_id, dataset_id, label_set_id : int
        The run, its dataset and the label-model label set the order comes from.
    label_names : list of str
    item_ids : ndarray
        The items to ask about, least certain first.
    rows : ndarray of int
        Their dataset rows.
    proba : ndarray of shape (n_queued, K)
        Their ``P(label applies)``.
    n_answered, n_skipped, n_dev : int
        Items left out: answered, skipped (and not answered), dev items.
    """

    run_id: int
    dataset_id: int
    label_set_id: int
    label_names: list[str]
    item_ids: np.ndarray
    rows: np.ndarray
    proba: np.ndarray
    n_answered: int
    n_skipped: int
    n_dev: int


def multilabel_dev_keys(store: Store, run_id: int, keys: list[str]) -> set[str]:
    """The run's dev items among ``keys`` (dataset order): a gold label set, in the dev split when one was set.

    The split is read from the data file (``[data].split_column`` recorded
    with the dataset); without the column there, every item with gold counts.
    """
    sets = store.label_sets(run_id)
    gold = sets[sets["role"] == "gold"]
    if gold.empty:
        return set()
    known = ~np.isnan(store.load_label_proba(int(gold["label_set_id"].iloc[-1]))).any(axis=1)
    dataset_id = int(gold["dataset_id"].iloc[-1])
    meta = dataset_meta(store, dataset_id)
    split = meta.get("split_column")
    if isinstance(split, str):
        table = dataset_table(store, dataset_id, _ID)
        if split in table.columns:
            table_keys = (table[_ID] if _ID in table.columns else table.index).astype(str)
            dev = {k for k, v in zip(table_keys, table[split].astype(str)) if v == str(meta.get("dev_value", "dev"))}
            return {k for k, g in zip(keys, known.tolist()) if g and k in dev}
    return {k for k, g in zip(keys, known.tolist()) if g}


def label_review_queue(store: Store, run_id: int, *, include_gold: bool = False,
                       exclude: set[str] | None = None) -> LabelQueue:
    """The items of multi-label run ``run_id`` to ask about, least certain first (see the module docstring).

    Parameters
    ----------
    store : Store
    run_id : int
        A multi-label run that fitted its label model.
    include_gold : bool, default=False
        Offer the dev items too.
    exclude : set of str, optional
        Item ids (as text) to leave out as well (e.g. sent to Label Studio and not answered yet).

    Raises
    ------
    ValidationError
        The run recorded no label-model probabilities.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.demo.multilabel import init_multilabel_project
    >>> from weaklab.pipeline import Project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_multilabel_project(folder, n_items=80)
    >>> run = Project(folder).run("fit").run_id
    >>> with Project(folder).open_store(read_only=True) as store:
    ...     queue = label_review_queue(store, run)
    >>> len(queue.item_ids) + queue.n_dev
    80
    """
    from .._core.validation import fail

    sets = store.label_sets(run_id)
    fitted = sets[sets["role"] == "label_model"] if len(sets) else sets
    if fitted.empty:
        raise fail("run_id", "a multilabel run that fitted its label model (run `weaklab fit`)",
                   got_text=f"run {run_id}, which recorded no label probabilities")
    set_id, dataset_id = int(fitted["label_set_id"].iloc[-1]), int(fitted["dataset_id"].iloc[-1])
    proba = store.load_label_proba(set_id)
    ids = np.asarray(store.load_item_ids(dataset_id))
    keys = [str(v) for v in ids.tolist()]
    answers = store.label_set_answers(dataset_id)
    fitted_on = set(((store.run(int(run_id)).get("metrics") or {}).get("label_model") or {}).get("fit_gold_items")
                    or [])  # gold the fit had ([data].fit_gold): not asked again, as dev items
    answered = set(answers.loc[answers["status"] == "answered", "item_key"].astype(str))
    skipped = set(answers.loc[answers["status"] == "skipped", "item_key"].astype(str)) - answered
    dev = set() if include_gold else multilabel_dev_keys(store, int(run_id), keys) - answered - skipped
    out = answered | skipped | dev | fitted_on | (exclude or set())
    rows = np.array([i for i, k in enumerate(keys) if k not in out], dtype=np.int64)
    rows = rows[np.argsort(-label_uncertainty(proba[rows]), kind="stable")] if len(rows) else rows
    present = set(keys)
    return LabelQueue(int(run_id), dataset_id, set_id, [str(n) for n in fitted["label_names"].iloc[-1]], ids[rows],
                      rows, proba[rows], len(answered & present), len(skipped & present), len(dev & present))


def label_set_disagreements(store: Store, dataset_id: int, *, renames: dict[str, str] | None = None) -> pd.DataFrame:
    """Items of a multi-label dataset whose annotators' label sets differ, for adjudication.

    Each annotator's latest answer on an item counts (skips do not). An item
    is listed when two or more annotators answered it with different label
    sets; ``status`` is ``"adjudicated"`` when an answer with origin
    :data:`ADJUDICATION` came after all of them (it is the item's final label
    set: the latest answer counts), else ``"open"`` (the latest answer counts
    meanwhile, whoever gave it). ``renames`` (``[labels.rename]``) reads
    answers given before a rename in the new names, so an old and a new name
    of one label do not disagree.

    Returns
    -------
    pandas.DataFrame
        ``item_id`` (as text), ``status``, ``labels_differ`` (the labels some
        annotators gave and others did not), ``answers`` (per annotator:
        ``annotator``, ``labels``, ``origin``, ``answered_at``), oldest
        disagreement first.

    Examples
    --------
    >>> label_set_disagreements(store, dataset_id)[["item_id", "status"]]   # doctest: +SKIP
    """
    answers = store.label_set_answers(dataset_id, renames=renames)
    given = answers[answers["status"] == "answered"]
    rows: list[dict[str, Any]] = []
    for item, group in given.groupby("item_key", sort=False):
        people = group[group["origin"] != ADJUDICATION]
        latest = people.groupby("annotator", sort=False).tail(1)  # oldest first: the last row is the latest
        sets = [frozenset(v) for v in latest["labels"]]
        if len(set(sets)) < 2:
            continue
        settled = group[group["origin"] == ADJUDICATION]
        after = len(settled) and int(settled["label_set_answer_id"].max()) > int(latest["label_set_answer_id"].max())
        rows.append({"item_id": str(item), "status": "adjudicated" if after else "open",
                     "labels_differ": sorted(frozenset.union(*sets) - frozenset.intersection(*sets)),
                     "answers": [{"annotator": str(r["annotator"]), "labels": list(r["labels"]),
                                  "origin": r["origin"], "answered_at": str(r["created_at"])}
                                 for r in latest.to_dict("records")],
                     "_first": int(latest["label_set_answer_id"].min())})
    frame = pd.DataFrame(rows, columns=["item_id", "status", "labels_differ", "answers", "_first"])
    return frame.sort_values("_first", kind="stable").drop(columns="_first").reset_index(drop=True)
