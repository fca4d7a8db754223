"""Random checks in the review queues, and the weights that make every queue answer evidence about the pool.

The review queues (the dashboard's, ``weaklab annotate``, Label Studio
batches) rank items by uncertainty, so their answers are a biased sample of
the items: a label model must not score itself or estimate class
frequencies on them as they are. A share of the queues' slots
(``[query].random_share``, default :data:`DEFAULT_RANDOM_SHARE`) is instead
drawn uniformly at random from the items then free (neither answered,
skipped, held as gold nor claimed), and the store records every served slot
(:meth:`~weaklab.store.Store.add_queue_slots`): its round, whether it was a
random check, and how many items were free to draw. The annotator is not
told which slots are checks (knowing could change how carefully they answer
them). The draws are reproducible: :func:`queue_rng` seeds each request
from ``[query].random_state``, the dataset, the run, the queue and the
number of rounds the store recorded, so the same store serves the same
queue. At fit time :func:`answer_gold_weights` turns those records into one
weight per answered item with :func:`weaklab.active.round_draw_weights`
(the rule of :meth:`weaklab.active.ActiveLoop.gold_weights`): weighted by
it, all answers (the ranking's picks included) are an unbiased sample of the
pool, and the label model gets them with ``gold_weight`` instead of leaving
them out as ``"active"``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_float, check_int, check_random_state
from ..active import round_draw_weights
from ..errors import WeaklabError
from ..store import Store
from .runs import RANKED_ORIGINS, dataset_config

__all__ = ["DEFAULT_QUEUE_RANDOM_STATE", "DEFAULT_RANDOM_SHARE", "GoldWeighting", "answer_gold_weights",
           "check_outcomes", "interleave_checks", "n_random_checks", "place_checks", "queue_random_share",
           "queue_random_state", "queue_rng"]

#: Share of review-queue slots drawn uniformly at random (1 in 5) when the project does not set
#: ``[query].random_share``.
DEFAULT_RANDOM_SHARE = 0.2


def queue_random_share(store: Store, dataset_id: int) -> float:
    """The project's ``[query].random_share`` for the dataset's queues (:data:`DEFAULT_RANDOM_SHARE` unset).

    Read from the project file the dataset was recorded from
    (:func:`~weaklab.pipeline.runs.dataset_config`); the default when it
    cannot be read.
    """
    try:
        value = dataset_config(store, dataset_id).get("query", "random_share", DEFAULT_RANDOM_SHARE)
    except (WeaklabError, OSError):
        return DEFAULT_RANDOM_SHARE
    return float(value)


#: ``[query].random_state`` when the project does not set it.
DEFAULT_QUEUE_RANDOM_STATE = 0


def queue_random_state(store: Store, dataset_id: int) -> int:
    """The project's ``[query].random_state`` (:data:`DEFAULT_QUEUE_RANDOM_STATE` unset or unreadable)."""
    try:
        value = dataset_config(store, dataset_id).get("query", "random_state", DEFAULT_QUEUE_RANDOM_STATE)
    except (WeaklabError, OSError):
        return DEFAULT_QUEUE_RANDOM_STATE
    return int(value)


def queue_rng(store: Store, dataset_id: int, *, run_id: int, queue: str,
              random_state: int | None = None) -> np.random.Generator:
    """The generator of one queue request's random checks, reproducible from the store.

    Seeded by ``random_state`` (by default the project's
    ``[query].random_state``, :func:`queue_random_state`), the dataset, the
    run, the queue's name and the number of rounds the store recorded for
    the dataset so far (:meth:`~weaklab.store.Store.queue_rounds`): the same
    store state serves the same queue, and every served request (a recorded
    round) moves the seed on. Nothing of it is shown to the reviewer.

    Parameters
    ----------
    store : Store
    dataset_id : int
    run_id : int
        The run whose ranking the queue serves.
    queue : str
        ``"review"``, ``"terminal"``, ``"label_studio"``, ...
    random_state : int, optional
        Overrides the project's ``[query].random_state``.

    Returns
    -------
    numpy.random.Generator
    """
    base = queue_random_state(store, dataset_id) if random_state is None else random_state
    base = check_int("random_state", base, low=0)
    n_rounds = store.queue_rounds(dataset_id)
    return np.random.default_rng([base, int(dataset_id), int(run_id), zlib.crc32(queue.encode()), n_rounds])


def n_random_checks(n: int, share: float, random_state: Any = None) -> int:
    """How many of ``n`` slots are random checks: ``floor(n share)``, plus one with the fraction's probability.

    The expected count is exactly ``n * share`` for any ``n``, a single
    dashboard slot included (a check with probability ``share``).

    Examples
    --------
    >>> n_random_checks(10, 0.2), n_random_checks(10, 0.0), n_random_checks(3, 1.0)
    (2, 0, 3)
    """
    n = check_int("n", n, low=0)
    share = check_float("random_share", share, low=0.0, high=1.0)
    whole = int(np.floor(n * share))
    frac = n * share - whole
    extra = frac > 0 and check_random_state(random_state).random() < frac
    return whole + int(extra)


def interleave_checks(ranked: Sequence[Any], free: Sequence[Any], n: int, share: float,
                      random_state: Any = None) -> tuple[list[Any], np.ndarray]:
    """A batch of ``n`` slots: random checks drawn uniformly from ``free``, the rest from ``ranked`` in order.

    Parameters
    ----------
    ranked : sequence
        The candidates in queue order (most useful first).
    free : sequence
        The items a check may draw from (every item the queue could offer;
        usually ``ranked`` itself, in any order).
    n : int
        Slots in the batch.
    share : float in [0, 1]
        Expected share of checks (:func:`n_random_checks`).
    random_state : None, int or numpy.random.Generator
        Seeds the count, the draws and their places in the batch.

    Returns
    -------
    items : list
        At most ``n`` distinct items; the checks at random places.
    at_random : ndarray of shape (len(items),) of bool
        Which were drawn at random.

    Examples
    --------
    >>> items, checks = interleave_checks(list("abcdefghij"), list("abcdefghij"), 5, 0.4, random_state=0)
    >>> len(items), int(checks.sum()), len(set(items))
    (5, 2, 5)
    """
    n = check_int("n", n, low=0)
    rng = check_random_state(random_state)
    pool = list(dict.fromkeys(free))
    d = min(n_random_checks(n, share, rng), len(pool))
    drawn = [pool[i] for i in rng.choice(len(pool), size=d, replace=False)] if d else []
    return place_checks(ranked, drawn, n, rng)


def place_checks(ranked: Sequence[Any], drawn: Sequence[Any], n: int,
                 random_state: Any = None) -> tuple[list[Any], np.ndarray]:
    """A batch of ``n`` slots: the ``drawn`` checks at random places, the rest from ``ranked`` in order.

    The second half of :func:`interleave_checks`, for checks drawn elsewhere
    (a Dask run's, :func:`~weaklab.pipeline.partitioned_runs.draw_free_items`).

    Examples
    --------
    >>> items, checks = place_checks(list("abcd"), ["x"], 3, random_state=0)
    >>> sorted(items), int(checks.sum())
    (['a', 'b', 'x'], 1)
    """
    n = check_int("n", n, low=0)
    rng = check_random_state(random_state)
    drawn = list(drawn)[:n]
    d = len(drawn)
    taken = {str(v) for v in drawn}
    picks = [v for v in ranked if str(v) not in taken][: n - d]
    slots = np.zeros(len(picks) + d, dtype=bool)
    slots[rng.choice(slots.size, size=d, replace=False)] = True
    order_drawn, order_picks = iter(drawn), iter(picks)
    items = [next(order_drawn) if flag else next(order_picks) for flag in slots]
    return items, slots


@dataclass(frozen=True)
class GoldWeighting:
    """What :func:`answer_gold_weights` found: the weights and what the run's metrics say of them.

    Attributes
    ----------
    weights : ndarray of shape (n_items,) or None
        ``gold_weight`` for the label model's fit; None when no answered
        random check exists (the answers then stay ``"active"``).
    n_random_checks : int
        Answered items that a queue drew uniformly at random.
    n_rounds : int
        Rounds those draws came from.
    n_weighted : int
        Gold items with a positive weight.
    effective_n : float
        Kish's effective sample size of the weighted gold,
        ``(sum w)^2 / sum w^2``.
    n_skipped_checks : int
        Random checks a reviewer skipped (:func:`check_outcomes`).
    check_skip_rate : float
        Skipped checks over the checks answered or skipped (0 without any):
        about the share of the pool reviewers skip, which the weighted
        answers do not stand for.
    """

    weights: np.ndarray | None
    n_random_checks: int = 0
    n_rounds: int = 0
    n_weighted: int = 0
    effective_n: float = 0.0
    n_skipped_checks: int = 0
    check_skip_rate: float = 0.0

    def metrics(self) -> dict[str, Any]:
        """The run's record of the weighting (``label_model.gold_weighting``)."""
        return {"n_random_checks": self.n_random_checks, "n_rounds": self.n_rounds, "n_weighted": self.n_weighted,
                "effective_n": round(self.effective_n, 2), "n_skipped_checks": self.n_skipped_checks,
                "check_skip_rate": round(self.check_skip_rate, 4)}


def check_outcomes(store: Store, dataset_id: int) -> tuple[int, int]:
    """How many random checks of the ranked queues were answered, and how many skipped.

    A check's outcome is its item's first answer or skip after the draw (a
    check is drawn only from items nobody answered or skipped); checks not
    answered yet count in neither.

    Returns
    -------
    n_answered, n_skipped : int
    """
    slots = store.queue_slots(dataset_id)
    slots = slots[slots["at_random"] & slots["queue"].isin(RANKED_ORIGINS)] if len(slots) else slots
    frame = store.annotations(dataset_id) if len(slots) else pd.DataFrame()
    if slots.empty or frame.empty:
        return 0, 0
    frame = frame.assign(key=frame["item_id"].astype(str)).sort_values("recorded_at", kind="stable")
    first = frame.groupby("key")[["status", "recorded_at"]].first()
    drawn = slots.assign(key=slots["item_id"].astype(str)).drop_duplicates("key", keep="last").set_index("key")
    joined = drawn.join(first, how="inner")
    joined = joined[joined["recorded_at"] >= joined["created_at"]]
    skipped = int((joined["status"] == "skipped").sum())
    return len(joined) - skipped, skipped


def answer_gold_weights(store: Store, dataset_id: int, item_ids: Any, gold: np.ndarray,
                        file_rows: np.ndarray, n_pool: int) -> GoldWeighting:
    """One weight per gold item that makes all of them, queue answers included, a sample of the pool.

    Rounds are the queues' recorded requests that drew random checks, in
    order. An answered item a round drew at random is that round's draw
    (``pool_left`` items were free); any other answered item (a ranked pick,
    an import, an answer given before queues recorded slots) is counted
    once by the rounds drawn after its first answer (or skip: it left the
    pool then), and by none before
    (:func:`weaklab.active.round_draw_weights`). The file's gold on
    ``file_rows`` (``[data].fit_gold``, a uniform sample of the ``n_pool``
    items outside dev) is round 0's draw.

    Skipped checks: a round's answered checks stand for its free items, so
    the checks a reviewer skipped are made up for by those of the round
    that were answered (a non-response adjustment within the round, valid
    when skipping does not depend on the item's class); a round whose
    checks were all skipped drops out (the dashboard's rounds hold one
    slot: it replaces a skipped check with a fresh draw). Skipped items
    leave the pool, so the weighted answers stand for the items reviewers
    answer; the result counts the skipped checks and their rate
    (:func:`check_outcomes`), which says how much of the pool that leaves
    out.

    Parameters
    ----------
    store : Store
    dataset_id : int
    item_ids : array-like of shape (n_items,) or mapping
        The fit's items (the dataset's ids, in row order), or a mapping from
        item id to row holding at least the answered items (the Dask
        engine's client holds no id list).
    gold : ndarray of shape (n_items,)
        The fit's gold (answers and file gold), -1 where unknown.
    file_rows : ndarray of shape (n_items,) of bool
        The rows whose file gold the fit takes.
    n_pool : int
        Items outside the dev split (what the file's gold was drawn from).

    Returns
    -------
    GoldWeighting
        ``weights`` None when no answered item was a random check.
    """
    known = gold >= 0
    answered = known & ~file_rows
    keys = _answered_rows(item_ids, answered)
    first = _first_answers(store, dataset_id, keys, answered)
    checks = _answered_checks(store, dataset_id, keys, answered, first)
    if checks.empty:
        return GoldWeighting(None)
    rounds_at = checks.groupby("round_id")["created_at"].min().sort_index()
    rows = np.flatnonzero(known)
    rounds, drawn, left = _draw_records(rows, file_rows, checks, rounds_at, first, n_pool)
    weights = np.zeros(gold.shape[0])
    weights[rows] = round_draw_weights(rounds, drawn, left)
    w = weights[rows]
    ess = float(w.sum() ** 2 / (w ** 2).sum()) if (w > 0).any() else 0.0
    n_answered, n_skipped = check_outcomes(store, dataset_id)
    return GoldWeighting(weights, n_random_checks=len(checks), n_rounds=len(rounds_at),
                         n_weighted=int((w > 0).sum()), effective_n=ess, n_skipped_checks=n_skipped,
                         check_skip_rate=n_skipped / max(n_answered + n_skipped, 1))


def _draw_records(rows: np.ndarray, file_rows: np.ndarray, checks: pd.DataFrame, rounds_at: pd.Series,
                  first: dict[int, Any], n_pool: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Round, drawn-at-random flag and free-pool size of each gold row, for :func:`round_draw_weights`.

    File gold: round 0's draw from ``n_pool``. A random check: its round's
    draw (rounds numbered 1.. in order). Any other answer: the number of
    rounds drawn before its first answer.
    """
    number = dict(zip(rounds_at.index.tolist(), range(1, len(rounds_at) + 1)))
    check_round = {int(r): number[k] for r, k in zip(checks["row"], checks["round_id"])}
    check_left = {int(r): int(v) for r, v in zip(checks["row"], checks["pool_left"])}
    times = rounds_at.to_numpy()
    rounds = np.array([check_round.get(r, int(np.searchsorted(times, first.get(r, times[-1]), side="right")))
                       for r in rows.tolist()], dtype=np.int64)
    from_file = file_rows[rows]
    rounds[from_file] = 0
    drawn = from_file | np.isin(rows, list(check_round))
    left = np.where(from_file, n_pool, [check_left.get(r, 0) for r in rows.tolist()])
    return rounds, drawn, left


def _answered_rows(item_ids: Any, answered: np.ndarray) -> pd.Series:
    """The answered items' rows by item key (text), from the fit's ids or an id -> row mapping."""
    if isinstance(item_ids, Mapping):
        pairs = {str(k): int(r) for k, r in item_ids.items() if 0 <= int(r) < answered.shape[0] and answered[int(r)]}
    else:
        ids, rows = np.asarray(item_ids), np.flatnonzero(answered)
        pairs = {str(v): int(r) for v, r in zip(ids[rows].tolist(), rows.tolist())}
    return pd.Series(list(pairs.values()), index=pd.Index(list(pairs), dtype=object), dtype=np.int64)


def _rows_of(keys: pd.Series, items: Any) -> np.ndarray:
    """Rows of ``items`` among the answered ones (-1 for the others)."""
    pos = keys.index.get_indexer(pd.Index([str(v) for v in items], dtype=object))
    return np.where(pos >= 0, keys.to_numpy()[pos], -1) if len(keys) else np.full(len(pos), -1)


def _first_answers(store: Store, dataset_id: int, keys: pd.Series, answered: np.ndarray) -> dict[int, Any]:
    """Row -> when the item's first answer or skip (superseded ones too) reached the store: when it left the pool."""
    frame = store.annotations(dataset_id)
    if frame.empty:
        return {}
    firsts = frame.assign(key=frame["item_id"].astype(str)).groupby("key")["recorded_at"].min()
    pos = _rows_of(keys, firsts.index)
    return {int(p): t for p, t in zip(pos, firsts.to_numpy()) if p >= 0 and answered[p]}


def _answered_checks(store: Store, dataset_id: int, keys: pd.Series, answered: np.ndarray,
                     first: dict[int, Any]) -> pd.DataFrame:
    """The random checks whose item was answered after the draw (of a ranked queue), one per row."""
    slots = store.queue_slots(dataset_id)
    slots = slots[slots["at_random"] & slots["queue"].isin(RANKED_ORIGINS)] if len(slots) else slots
    if slots.empty:
        return slots
    slots = slots.assign(row=_rows_of(keys, slots["item_id"]))
    slots = slots[slots["row"] >= 0]
    ok = [answered[r] and r in first and first[r] >= t for r, t in zip(slots["row"], slots["created_at"])]
    slots = slots[np.asarray(ok, dtype=bool)]
    return slots.sort_values("round_id").drop_duplicates("row", keep="last")
