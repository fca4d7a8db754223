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

import numpy as np

from ..store import Store
from .multilabel import label_uncertainty
from .runs import dataset_meta, dataset_table

__all__ = ["LabelQueue", "label_review_queue", "multilabel_dev_keys"]

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
    answered = set(answers.loc[answers["status"] == "answered", "item_key"].astype(str))
    skipped = set(answers.loc[answers["status"] == "skipped", "item_key"].astype(str)) - answered
    dev = set() if include_gold else multilabel_dev_keys(store, int(run_id), keys) - answered - skipped
    out = answered | skipped | dev | (exclude or set())
    rows = np.array([i for i, k in enumerate(keys) if k not in out], dtype=np.int64)
    rows = rows[np.argsort(-label_uncertainty(proba[rows]), kind="stable")] if len(rows) else rows
    present = set(keys)
    return LabelQueue(int(run_id), dataset_id, set_id, [str(n) for n in fitted["label_names"].iloc[-1]], ids[rows],
                      rows, proba[rows], len(answered & present), len(skipped & present), len(dev & present))
