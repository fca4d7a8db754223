"""The human review queue over a recorded run: ranking items, their texts, and the run's summary data.

The dashboard (and any other front end) uses these helpers instead of
reaching into the stages: :func:`review_order` ranks a run's items with an
active-learning strategy from :mod:`weaklab.active`, :class:`TextLookup`
finds an item's text through the dataset's recorded ``meta`` (the store keeps
ids only), and :func:`run_summary` reads what the report shows.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_float, check_int, check_random_state, fail
from ..errors import ValidationError, WeaklabError
from ..store import Store
from .dask_gold import dataset_gold_record, read_gold_items
from .fit_gold import run_fit_gold
from .partitioned_runs import PartitionedTexts, draw_free_items, review_candidates
from .queue_checks import interleave_checks, n_random_checks, place_checks, queue_random_share, queue_rng
from .runs import (
    dataset_config,
    dataset_frame,
    dataset_gold_items,
    dataset_meta,
    dataset_table,
    dataset_text_field,
    run_dataset,
    run_soft_labels,
)
from .summary import RunData, read_run

__all__ = ["REVIEW_STRATEGIES", "GoldItems", "ReviewItem", "ReviewRanking", "TextLookup", "check_annotator",
           "gold_items", "review_batch", "review_order", "run_class_names", "run_summary", "shows_suggestion"]

logger = logging.getLogger(__name__)

#: Strategies the review queue can rank by (uncertainty of the run's soft labels).
REVIEW_STRATEGIES = ("least_confidence", "entropy", "margin")


class ReviewRanking:
    """A run's items in review order (most useful to ask first), with their soft labels.

    Parameters
    ----------
    item_ids : ndarray of shape (n,)
        The items, in review order.
    proba : ndarray of shape (n, k)
        Their soft labels, in the same order.
    strategy : str
        The strategy that ranked them.
    """

    def __init__(self, item_ids: np.ndarray, proba: np.ndarray, strategy: str) -> None:
        self.item_ids = item_ids
        self.proba = proba
        self.strategy = strategy

    def __len__(self) -> int:
        return len(self.item_ids)

    def window(self, start: int, size: int) -> np.ndarray:
        """Item ids ``start .. start + size`` of the ranking."""
        return self.item_ids[start:start + size]


def review_order(store: Store, run_id: int, strategy: str = "least_confidence") -> ReviewRanking:
    """Rank a run's items for human review by the uncertainty of its soft labels.

    Parameters
    ----------
    store : Store
    run_id : int
        A run with recorded soft labels (the label model's, else any).
    strategy : {"least_confidence", "entropy", "margin"}, default="least_confidence"
        Scoring function of :mod:`weaklab.active` (higher = ask first); ties
        keep dataset order, so the ranking is deterministic.

    Returns
    -------
    ReviewRanking
        Every item; for a run on the Dask engine, the
        :data:`~weaklab.pipeline.partitioned_runs.REVIEW_CANDIDATES` most
        uncertain (:func:`~weaklab.pipeline.partitioned_runs.review_candidates`).
    """
    from ..active import uncertainty

    if strategy not in REVIEW_STRATEGIES:
        raise fail("strategy", f"one of {', '.join(REVIEW_STRATEGIES)}", strategy)
    if "soft_labels" in store.partitioned(run_id):  # a distributed run: the most uncertain, partition by partition
        return ReviewRanking(*review_candidates(store, run_id, strategy), strategy)
    soft, _ = run_soft_labels(store, run_id)
    ids = soft.item_ids
    if ids is None:  # soft labels without ids are in dataset order
        ids = store.load_item_ids(run_dataset(store, run_id))[: soft.n_items]
    scores = uncertainty(soft.proba, measure=strategy)
    order = np.argsort(-scores, kind="stable")
    return ReviewRanking(np.asarray(ids)[order], np.asarray(soft.proba)[order], strategy)


@dataclass(frozen=True)
class GoldItems:
    """The items of a dataset that hold gold in its data file: no review queue offers them unless asked to.

    Asking a person about an item whose label is already trusted spends their
    time and invites an answer that contradicts the gold. Every queue (the
    dashboard's class and span review, ``weaklab annotate``, the Label Studio
    batches) leaves these items out by default, through this one predicate
    (:func:`~weaklab.pipeline.runs.dataset_gold_items`): the dev items, and
    the items whose gold fed the run's label-model fit (``[data].fit_gold``).

    Attributes
    ----------
    ids : frozenset of str
        The items' ids, as text.
    column : str or None
        The data file's gold column (``[data].gold_column``), None without one.
    note : str or None
        What a queue adds to :meth:`describe`: that the items whose gold fed
        the run's fit are re-derived from the data file (a run recorded before
        weaklab kept them, :meth:`~weaklab.pipeline.fit_gold.RunFitGold.note`), None otherwise.

    Examples
    --------
    >>> gold = GoldItems(frozenset({"m1", "m7"}), "truth")
    >>> "m7" in gold, 7 in gold, len(gold)
    (True, False, 2)
    >>> gold.describe("pass --include-gold to offer them too")
    "2 items hold gold (column 'truth') and are not offered: pass --include-gold to offer them too."
    >>> GoldItems(frozenset({"m1"})).describe()
    '1 item holds gold and is not offered.'
    """

    ids: frozenset[str]
    column: str | None = None
    note: str | None = None

    def __contains__(self, item_id: object) -> bool:
        return str(item_id) in self.ids

    def __len__(self) -> int:
        return len(self.ids)

    def describe(self, opt_in: str | None = None) -> str:
        """The sentence a queue shows: how many items hold gold and are not offered (and ``opt_in``: how to)."""
        where = f" (column {self.column!r})" if self.column else ""
        noun, verb = ("item holds", "is") if len(self) == 1 else ("items hold", "are")
        said = f"{len(self)} {noun} gold{where} and {verb} not offered{': ' + opt_in if opt_in else ''}."
        return said if self.note is None else f"{said} {self.note}"


def gold_items(store: Store, dataset_id: int, run_id: int | None = None) -> GoldItems:
    """The dataset's items that hold gold in its data file (dev items), read once from the file.

    With ``run_id`` (the run whose queue it is), also the items whose gold
    fed that run's label-model fit (``[data].fit_gold``): the ids the store
    recorded at fit time, so editing the data file later neither offers one
    of them nor holds back another item; for a run recorded before weaklab
    kept them, drawn again by the value and seed the run recorded, and the
    result's ``note`` says so.

    For a dataset of runs on the Dask engine, the list its newest run made on
    the workers (:mod:`~weaklab.pipeline.dask_gold`; the file is never read
    whole on the client). Otherwise the items a run of the dataset's project
    counts as gold (:func:`~weaklab.pipeline.runs.dataset_gold_items`, the
    run's own test). Empty when the dataset records no gold column, or when
    its data file (or list) cannot be read (logged: nothing is left out then).

    Raises
    ------
    ValidationError
        A gold cell the run refuses (an unknown class name, a class id out of
        range), with the run's message: the queue cannot tell which items hold
        gold, as the run cannot.

    Examples
    --------
    >>> gold_items(store, dataset_id).describe("--include-gold offers them")   # doctest: +SKIP
    "97 items hold gold (column 'truth') and are not offered: --include-gold offers them."
    """
    meta = store.dataset(dataset_id)["meta"]
    dask = isinstance(meta, dict) and meta.get("engine") == "dask"
    record = dataset_gold_record(store, dataset_id) if dask else None
    column = record.get("column") if record is not None else meta.get("gold_column") if isinstance(meta, dict) \
        else None
    if not isinstance(column, str) or (dask and record is None):
        return GoldItems(frozenset(), None)
    fit = run_fit_gold(store, run_id) if run_id is not None else None  # by id in the store, on both engines
    recorded = frozenset(fit.ids or ()) if fit is not None else frozenset()  # held back without the file too
    try:
        ids = read_gold_items(record)[0].tolist() if record is not None else None
        frame = dataset_frame(store, dataset_id) if record is None else None
    except (WeaklabError, OSError) as exc:
        logger.warning("gold items of dataset %s not read (review queues offer every item but the %d whose gold "
                       "fed the run's fit): %s", dataset_id, len(recorded),
                       str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return GoldItems(recorded, column if recorded else None)
    if ids is None:  # a gold cell the run refuses stops the queue too, with the run's message
        ids = list(dataset_gold_items(store, dataset_id, frame=frame, run_id=run_id)) if frame is not None else []
    return GoldItems(frozenset(str(v) for v in ids) | recorded, column, None if fit is None else fit.note())


class TextLookup:
    """The texts of a dataset's items, read once from the table its ``meta`` names (or none).

    Parameters
    ----------
    store : Store
    dataset_id : int
    text_field : str, optional
        The text column; by default the project's ``[data].text_field``
        recorded with the dataset, else ``"text"``.
    """

    def __init__(self, store: Store, dataset_id: int, text_field: str | None = None) -> None:
        self.reason: str | None = None
        self._texts: dict[str, str] = {}
        self._partitioned: PartitionedTexts | None = None
        if store.partitioned_dataset(dataset_id) is not None:  # read from the item's partition when asked
            self._partitioned = PartitionedTexts(store, dataset_id)
            self.reason = self._partitioned.reason
            return
        try:
            meta = dataset_meta(store, dataset_id)
            if text_field is None:
                text_field = dataset_text_field(store, dataset_id)
            table = dataset_table(store, dataset_id, "item_id")
        except (WeaklabError, OSError) as exc:
            self.reason = str(exc).splitlines()[0]
            return
        keys = table["item_id"] if "item_id" in table.columns else pd.Series(table.index)
        if text_field not in table.columns and meta.get("text_field") is None and meta.get("image_column") is None:
            texts = row_descriptions(table, meta)  # a table project: a row is its columns
        elif text_field not in table.columns:
            self.reason = f"the dataset's table has no {text_field!r} column"
            return
        else:
            texts = table[text_field]
        self._texts = {str(k): str(t) for k, t in zip(keys.tolist(), texts.tolist()) if not _empty(t)}

    def get(self, item_id: Any) -> str | None:
        """The item's text, or None when unknown."""
        if self._partitioned is not None:
            return self._partitioned.get(item_id)
        return self._texts.get(str(item_id))


def row_descriptions(table: pd.DataFrame, meta: dict[str, Any]) -> pd.Series:
    """Each row of a table project shown as text: ``column: value`` of its filled cells, joined by `` · ``.

    The id, gold and split columns (``meta``'s ``id_column``, ``gold_column``,
    ``split_column``) and the ``item_id`` key are left out: a reviewer sees
    what the labeling functions and the end model read, not the answer.

    Examples
    --------
    >>> table = pd.DataFrame({"item_id": ["a"], "size": [2.5], "colour": [None], "verdict": ["big"]})
    >>> row_descriptions(table, {"gold_column": "verdict"}).tolist()
    ['size: 2.5']
    """
    hidden = {"item_id", *(meta.get(k) for k in ("id_column", "gold_column", "split_column"))}
    shown = [c for c in table.columns if c not in hidden]
    rows = table[shown].astype(object).to_numpy()
    return pd.Series([" · ".join(f"{c}: {v}" for c, v in zip(shown, row) if not _empty(v)) or None for row in rows],
                     index=table.index, dtype=object)


def _empty(value: Any) -> bool:
    """An empty cell (NaN, None, pandas NA): no text, rather than the text "nan"."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


_ANNOTATOR = re.compile(r"^[\w .@+-]{1,64}$")


def check_annotator(name: Any) -> str:
    """An annotator name (dashboard, terminal): 1-64 letters, digits, spaces or ``. @ + - _``, stripped.

    Examples
    --------
    >>> check_annotator(" ann@example.org ")
    'ann@example.org'
    """
    if not isinstance(name, str) or not _ANNOTATOR.match(name.strip() or "-") or not name.strip():
        raise ValidationError(f"annotator: expected a name of 1-64 letters, digits, spaces or . @ + - _; "
                              f"got {str(name)[:80]!r}")
    return name.strip()


@dataclass(frozen=True)
class ReviewItem:
    """One item to show a reviewer: its text, the sources' votes and the run's soft label.

    Attributes
    ----------
    item_id : int or str
        The dataset's own id of the item.
    text : str or None
        The item's text (the project's text column), None when unknown.
    votes : tuple of (str, str)
        ``(source, class name)`` of every source that voted.
    proba : tuple of float
        The run's soft label, one probability per class.
    """

    item_id: Any
    text: str | None
    votes: tuple[tuple[str, str], ...]
    proba: tuple[float, ...]


def shows_suggestion(store: Store, dataset_id: int) -> bool:
    """The project's ``[review].show_suggestion``: whether review queues show the votes and the soft label.

    True (the default) when unset or when the project file cannot be read;
    False for blind review (the item alone).
    """
    try:
        return bool(dataset_config(store, dataset_id).get("review", "show_suggestion", True))
    except (WeaklabError, OSError):
        return True


def review_batch(store: Store, run_id: int, *, limit: int = 20, strategy: str = "least_confidence",
                 gold: GoldItems | None = None, random_share: float | None = None, queue: str | None = None,
                 random_state: Any = None) -> tuple[list[ReviewItem], list[str]]:
    """The next items a person should answer in a run, with what they need to see, and the class names.

    Left out: the items that hold gold in the data file (:func:`gold_items`)
    and those with a human answer (or skip) on the dataset, except answered
    items whose content changed since (a new version of the data file;
    :meth:`~weaklab.store.Store.changed_since_answered`), which come first to
    be answered again; the rest come in review order (:func:`review_order`),
    at most ``limit`` of them, except that a share ``random_share`` of the
    slots holds items drawn uniformly at random from every item the queue
    could offer (random checks, at random places; on a run of the Dask
    engine, whose ranking holds only its most uncertain items, drawn from
    all its items, :func:`~weaklab.pipeline.partitioned_runs.draw_free_items`). With
    ``queue``, the served slots are recorded in the store
    (:meth:`~weaklab.store.Store.add_queue_slots`, one round): the random
    checks make every answer to the batch usable by the label model,
    weighted (:func:`~weaklab.pipeline.queue_checks.answer_gold_weights`).
    Which items are checks is not returned: the reviewer is not told.

    Parameters
    ----------
    store : Store
        Opened for writing when ``queue`` is given.
    run_id : int
    limit : int, default=20
    strategy : {"least_confidence", "entropy", "margin"}, default="least_confidence"
    gold : GoldItems, optional
        The items to leave out as gold: by default :func:`gold_items` of the
        run (its dataset's dev items and the items whose gold fed its fit);
        ``GoldItems(frozenset())`` offers gold items too (to re-check them).
    random_share : float in [0, 1], optional
        Expected share of random checks; by default the project's
        ``[query].random_share`` (:func:`~weaklab.pipeline.queue_checks.queue_random_share`).
    queue : str, optional
        The queue's name for the record (``"terminal"``); None records nothing.
    random_state : None, int or numpy.random.Generator
        Seeds the random checks; by default a seed from the store
        (:func:`~weaklab.pipeline.queue_checks.queue_rng`: the same store
        state serves the same batch).

    Returns
    -------
    items : list of ReviewItem
    class_names : list of str
        The run's class names (``"0"``, ``"1"``, ... when it recorded none).

    Examples
    --------
    >>> items, names = review_batch(store, run_id, limit=5)   # doctest: +SKIP
    >>> items[0].text, names                                  # doctest: +SKIP
    ('Check out my channel', ['HAM', 'SPAM'])
    """
    limit = check_int("limit", limit, low=1)
    ranking = review_order(store, run_id, strategy)
    dataset_id = run_dataset(store, run_id)
    share = queue_random_share(store, dataset_id) if random_share is None else random_share
    share = check_float("random_share", share, low=0.0, high=1.0)
    ranked, free = _queue_candidates(store, ranking, dataset_id, run_id, gold)
    if random_state is None and share > 0:
        random_state = queue_rng(store, dataset_id, run_id=int(run_id), queue=queue or "unrecorded")
    proba = dict(zip((str(v) for v in ranking.item_ids.tolist()), ranking.proba))
    if "soft_labels" in store.partitioned(run_id):  # the ranking holds only the most uncertain items: draw from all
        chosen, at_random, n_free = _partitioned_batch(store, run_id, dataset_id, ranked, limit, share,
                                                       random_state, proba)
    else:
        chosen, at_random = interleave_checks(ranked, free, limit, share, random_state)
        n_free = len(free)
    if queue is not None and chosen:
        store.add_queue_slots(dataset_id, chosen, at_random, pool_left=n_free if at_random.any() else 0,
                              queue=queue, run_id=int(run_id))
    names = run_class_names(store, run_id) or [str(c) for c in range(ranking.proba.shape[1])]
    texts = TextLookup(store, dataset_id)
    items = []
    for item in chosen:
        story = store.explain(item, run_id)
        votes = tuple((str(v["source"]), str(v.get("class_name") or _name(names, v["label"])))
                      for v in story["votes"])
        items.append(ReviewItem(item, texts.get(item), votes, tuple(float(p) for p in proba[str(item)])))
    return items, names


def _partitioned_batch(store: Store, run_id: int, dataset_id: int, ranked: list[Any], limit: int, share: float,
                       random_state: Any, proba: dict[str, np.ndarray]) -> tuple[list[Any], np.ndarray, int]:
    """A Dask run's batch: checks drawn from all its free items (their soft labels added to ``proba``) placed among
    the ranked candidates; and how many items were free to draw."""
    rng = check_random_state(random_state)
    d = n_random_checks(limit, share, rng)
    if d == 0:
        return ranked[:limit], np.zeros(min(limit, len(ranked)), dtype=bool), 0
    taken = store.annotations(dataset_id)["item_id"].tolist()
    ids, drawn_proba, n_free = draw_free_items(store, run_id, d, taken, rng)
    proba.update(zip((str(v) for v in ids.tolist()), drawn_proba))
    chosen, at_random = place_checks(ranked, ids.tolist(), limit, rng)
    return chosen, at_random, n_free


def _queue_candidates(store: Store, ranking: ReviewRanking, dataset_id: int, run_id: int,
                      gold: GoldItems | None) -> tuple[list[Any], list[Any]]:
    """The queue's candidates in order (changed answered items first), and those free to draw (never answered)."""
    again = {str(v) for v in store.changed_since_answered(dataset_id)}
    left_out = {str(v) for v in store.annotations(dataset_id)["item_id"].tolist()} - again
    left_out |= (gold if gold is not None else gold_items(store, dataset_id, run_id)).ids
    ids = ranking.item_ids.tolist()
    keys = [str(v) for v in ids]
    first = [v for v, k in zip(ids, keys) if k in again and k not in left_out]
    rest = [v for v, k in zip(ids, keys) if k not in again and k not in left_out]
    return first + rest, rest


def _name(names: list[str], label: Any) -> str:
    value = int(label)
    return names[value] if 0 <= value < len(names) else str(value)


def run_class_names(store: Store, run_id: int) -> list[str] | None:
    """The class names a run recorded, or None: :meth:`weaklab.store.Store.run_class_names`, the one source.

    Those of its newest named soft labels, else of its newest named label
    matrix, else (a Dask run) of its partitioned votes.

    Examples
    --------
    >>> run_class_names(store, run_id)                       # doctest: +SKIP
    ['HAM', 'SPAM']
    """
    return store.run_class_names(int(run_id))


def run_summary(store: Store, run_id: int) -> RunData:
    """What the run report shows (sources, label model, end models, calibration, slices, issues, alerts)."""
    return read_run(store, run_id)
