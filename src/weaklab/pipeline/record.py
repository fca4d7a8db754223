"""Writing what the stages produce into the store (shared by :class:`Project` and the demo)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._core import LabelMatrix
from .._core.hashing import function_source
from .._core.state import to_jsonable
from ..labeling import LabelingFunction
from ..models import LabelModel
from ..store import Store
from .alerts import Alert, AlertThresholds, detect_alerts

__all__ = ["record_sources", "label_model_stats", "source_accuracy", "record_alerts", "record_class_alerts",
           "record_unvoted_classes", "unvoted_class_alert",
           "previous_stats", "source_code",
           "MAX_DECIDES_ITEMS", "RecordedRun", "recorded_run", "run_steps", "stats_for_store", "STAT_COLUMNS",
           "weight_share"]

#: Items sampled (deterministically) to estimate how often one source decides the label.
MAX_DECIDES_ITEMS = 20_000

#: The per-source statistics the pipeline records (names used by alerts and the dashboard).
STAT_COLUMNS = ("coverage", "overlaps", "conflicts", "emp_accuracy", "est_accuracy", "decides", "weight_share")


@dataclass
class RecordedRun:
    """A run being recorded: its id and the metrics :func:`recorded_run` finishes it with.

    Attributes
    ----------
    run_id : int
        The store's id of the run.
    metrics : dict
        Filled while the run goes on; recorded when it finishes (and, with the
        error, when it fails).
    """

    run_id: int
    metrics: dict[str, Any] = field(default_factory=dict)


@contextmanager
def recorded_run(store: Store, dataset_id: int, config: dict[str, Any],
                 metrics: dict[str, Any] | None = None) -> Iterator[RecordedRun]:
    """Start a run of ``dataset_id``; finish it as "finished" with its metrics, or "failed" with the error.

    The one way the project and the demo record a run: whatever the block
    raises marks the run failed (``{"error": "<Type>: <message>", **metrics}``)
    and propagates.

    Parameters
    ----------
    store : Store
    dataset_id : int
    config : dict
        The run's configuration (recorded with it).
    metrics : dict, optional
        The dict the run's metrics are collected in (a new one by default);
        the block may fill it, or replace ``run.metrics``.

    Yields
    ------
    RecordedRun

    Examples
    --------
    >>> with recorded_run(store, dataset_id, {"label_model": "DawidSkene"}) as run:   # doctest: +SKIP
    ...     run.metrics["accuracy"] = 0.91
    """
    run = RecordedRun(store.start_run(dataset_id, config), metrics if metrics is not None else {})
    try:
        yield run
    except BaseException as exc:
        store.finish_run(run.run_id, "failed", {"error": f"{type(exc).__name__}: {exc}", **run.metrics})
        raise
    store.finish_run(run.run_id, "finished", run.metrics)


def run_steps(run: Any, steps: Sequence[str], store: Store, result: Any,
              on_step: Callable[[str, str], None] | None, descriptions: dict[str, str]) -> None:
    """Run ``run.<step>(store, result)`` for each step in order, timing each into ``result.metrics["seconds"]``.

    ``on_step(step, description)`` is called before each step (progress display); the steps
    done are appended to ``result.steps``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> class Run:
    ...     def apply(self, store, result):
    ...         result.metrics["n_items"] = 3
    >>> result = SimpleNamespace(metrics={}, steps=[])
    >>> run_steps(Run(), ["apply"], None, result, None, {"apply": "Applying"})
    >>> result.steps, result.metrics["n_items"], sorted(result.metrics["seconds"])
    (['apply'], 3, ['apply'])
    """
    for step in steps:
        if on_step is not None:
            on_step(step, descriptions[step])
        started = time.perf_counter()
        getattr(run, step)(store, result)
        result.metrics.setdefault("seconds", {})[step] = time.perf_counter() - started
        result.steps.append(step)


def source_code(lf: LabelingFunction) -> tuple[str, dict[str, Any]]:
    """The code text and JSON-able parameters recorded for a source version."""
    template = getattr(lf, "template", None)
    if template is not None:
        params = _jsonable_params(getattr(lf, "params", {}))
        return f"{template}(name={lf.name!r}, **{json.dumps(params, sort_keys=True)})", {
            "template": template, **params}
    return function_source(lf.function), {"vectorized": lf.vectorized}


def _jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        try:
            text = to_jsonable(sorted(value) if isinstance(value, (set, frozenset)) else value)
            json.dumps(text)
            out[str(key)] = text
        except (TypeError, ValueError):
            out[str(key)] = f"<{type(value).__name__}>"
    return out


def record_sources(store: Store, lfs: Sequence[LabelingFunction]) -> dict[str, str]:
    """Record every LF as a source version (name, fingerprint, code); return ``{name: version}``."""
    versions = {}
    for lf in lfs:
        code, params = source_code(lf)
        kind = "template" if getattr(lf, "template", None) else "lf"
        store.add_source(lf.name, lf.fingerprint, kind=kind, code=code, params=params)
        versions[lf.name] = lf.fingerprint
    return versions


def source_accuracy(model: LabelModel) -> np.ndarray | None:
    """The model's estimated source accuracies (or those of the model AutoLabelModel chose), if any."""
    for candidate in (model, getattr(model, "best_model_", None)):
        if candidate is None:
            continue
        try:
            value = candidate.source_accuracy_
        except AttributeError:
            continue
        return np.asarray(value, dtype=np.float64)
    return None


def label_model_stats(model: LabelModel, L: LabelMatrix, *, random_state: int = 0) -> pd.DataFrame:
    """Per-source ``est_accuracy``, ``decides`` and ``weight_share`` of a fitted label model.

    ``decides`` is the share of items with any vote whose hard label (arg-max
    of the posterior) changes when the source's votes are removed (on at most
    :data:`MAX_DECIDES_ITEMS` items sampled with ``random_state``).
    ``weight_share`` is the source's log-odds weight (from its estimated
    accuracy) times its number of votes, over the sum of these over sources.
    """
    accuracy = source_accuracy(model)
    names = list(L.source_names)
    frame = pd.DataFrame(index=pd.Index(names, name="source"))
    frame["est_accuracy"] = np.nan if accuracy is None else accuracy
    frame["decides"] = _decides(model, L, random_state)
    frame["weight_share"] = weight_share(accuracy, L.votes_per_source(), L.n_classes)
    return frame


def _decides(model: LabelModel, L: LabelMatrix, random_state: int) -> np.ndarray:
    """Per source: the share of the sampled voted items whose arg-max label changes without its votes.

    Only the items a source voted on can change when its votes go (a label
    model's posterior of an item reads that item's votes alone), so each
    source is scored on those rows, and the rows of many sources go through
    the model together: the cost follows the number of votes, not sources x
    items (thousands of crowd workers, each answering a few items).
    """
    covered = np.flatnonzero(L.votes_per_item() > 0)
    if covered.size > MAX_DECIDES_ITEMS:
        rng = np.random.default_rng(random_state)
        covered = np.sort(rng.choice(covered, MAX_DECIDES_ITEMS, replace=False))
    if covered.size == 0:
        return np.full(L.n_sources, np.nan)
    sub = L.select_items(covered).as_sparse().replace(item_ids=None)  # rows repeat in the batches below
    base = np.argmax(model.predict_proba(sub), axis=1)
    rows, cols, _ = sub.coo()
    order = np.argsort(cols, kind="stable")  # the rows each source voted on, source by source
    rows, cols = rows[order], cols[order]
    flips = np.zeros(L.n_sources)
    for chunk in _chunks(np.bincount(cols, minlength=L.n_sources), sub.votes_per_item()[rows]):
        owner, voted = cols[chunk], rows[chunk]
        flipped = np.argmax(model.predict_proba(_without_owner(sub, voted, owner)), axis=1) != base[voted]
        flips += np.bincount(owner, weights=flipped, minlength=L.n_sources)
    return flips / covered.size


#: Votes per batch of rows :func:`_decides` passes to the label model at once.
_DECIDES_BATCH_VOTES = 2_000_000


def _chunks(per_source: np.ndarray, row_votes: np.ndarray) -> list[slice]:
    """Slices of the (source-sorted) vote list, whole sources each, of at most about a batch of votes."""
    ends = np.cumsum(per_source)
    cost = np.concatenate([[0], np.cumsum(row_votes)])
    out, start = [], 0
    for end in ends.tolist():
        if end > start and (cost[end] - cost[start] >= _DECIDES_BATCH_VOTES or end == ends[-1]):
            out.append(slice(start, end))
            start = end
    return out


def _without_owner(sub: LabelMatrix, voted: np.ndarray, owner: np.ndarray) -> LabelMatrix:
    """Row ``voted[i]`` of ``sub`` without the vote of source ``owner[i]``, for every i (a sparse matrix)."""
    picked = sub.select_items(voted)
    rows, cols, labels = picked.coo()
    keep = cols != owner[rows]
    return LabelMatrix.from_coo(rows[keep], cols[keep], labels[keep], n_items=len(voted), n_sources=sub.n_sources,
                                n_classes=sub.n_classes, source_names=sub.source_names)


def weight_share(accuracy: np.ndarray | None, votes_per_source: np.ndarray, n_classes: int) -> np.ndarray:
    """Each source's share of the label model's evidence: its log-odds weight times its votes, over all sources'.

    The weight is ``max(0, log(acc (k - 1) / (1 - acc)))`` of the estimated
    accuracy (clipped to ``[0.001, 0.999]``); the shares are over the sources
    with an estimate, NaN for a source without one, and NaN for every source
    when no source has weight.

    Examples
    --------
    >>> weight_share(np.array([0.9, 0.5]), np.array([10, 30]), 2).tolist()
    [1.0, 0.0]
    >>> weight_share(np.array([0.9, np.nan, 0.8]), np.array([10, 30, 10]), 2).round(2).tolist()
    [0.61, nan, 0.39]
    """
    if accuracy is None:
        return np.full(len(votes_per_source), np.nan)
    acc = np.clip(np.asarray(accuracy, dtype=np.float64), 1e-3, 1 - 1e-3)
    weight = np.maximum(np.log(acc * (n_classes - 1) / (1 - acc)), 0.0) * np.asarray(votes_per_source)
    total = np.nansum(weight)
    return weight / total if total > 0 else np.full(len(votes_per_source), np.nan)


def previous_stats(store: Store, dataset_id: int, run_id: int, sources: Sequence[str]) -> pd.DataFrame | None:
    """The sources' statistics in the newest finished run of the dataset before ``run_id`` (None if none)."""
    runs = store.runs()
    earlier = runs[(runs["dataset_id"] == dataset_id) & (runs["run_id"] < run_id) & (runs["status"] == "finished")]
    if earlier.empty:
        return None
    stats = store.run_source_stats(int(earlier["run_id"].max())).drop(columns="version")
    stats = stats[stats.index.isin(list(sources))]
    return stats if len(stats) else None


def record_alerts(store: Store, run_id: int, dataset_id: int, current: pd.DataFrame, *, n_classes: int,
                  thresholds: AlertThresholds | None = None) -> list[Alert]:
    """Detect alerts for ``current`` source statistics against the previous run; store and return them."""
    before = previous_stats(store, dataset_id, run_id, list(current.index))
    alerts = detect_alerts(current, before, n_classes=n_classes, thresholds=thresholds)
    for alert in alerts:
        store.add_alert(run_id, alert.kind, alert.message, source=alert.source, severity=alert.severity,
                        value=alert.value)
    return alerts


def record_class_alerts(store: Store, run_id: int, dataset: str, class_names: Sequence[str] | None,
                        renames: dict[str, str], sources: dict[str, str], L: LabelMatrix, *,
                        by_name: set[str] | frozenset[str] = frozenset()) -> list[Alert]:
    """A ``class_ids_changed`` alert when a class id names another class than in the previous run (stored).

    A labeling function that votes class ids gives another meaning to its
    votes of a moved id (in ``L``) when ``[labels].classes`` is inserted
    into, removed from or reordered and its version did not change
    (``sources``: name -> version). Sources in ``by_name`` vote class names,
    which the labeling layer maps through the current list: they keep their
    meaning and fire nothing. Answers and gold
    are stored by name and keep theirs; a class renamed by ``renames`` (old ->
    new) is the same class. Appending classes moves no id and fires nothing.
    """
    runs = store.runs()
    earlier = runs[(runs["dataset"] == dataset) & (runs["run_id"] < run_id) & (runs["status"] == "finished")]
    if earlier.empty or not class_names:
        return []
    previous = earlier.sort_values("run_id").iloc[-1]
    config = previous["config"] if isinstance(previous["config"], dict) else {}
    before, before_sources = config.get("class_names") or [], config.get("sources") or {}
    moved = [(i, old, new) for i, (old, new) in enumerate(zip(before, class_names)) if renames.get(old, old) != new]
    _, columns, labels = L.coo()
    voted = {L.source_names[j] for j in np.unique(columns[np.isin(labels, [i for i, _, _ in moved])])}
    kept = sorted(name for name, version in sources.items()
                  if before_sources.get(name) == version and name in voted and name not in by_name)
    if not moved or not kept:
        return []
    ids = "; ".join(f"id {i} was {old!r}, now {new!r}" for i, old, new in moved)
    shown = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
    message = (f"labels.classes changed since run {int(previous['run_id'])} ({ids}): {len(kept)} source(s) that vote "
               f"a moved class id as a number kept their version ({shown}), so those votes now count for the new "
               "classes. Make them vote class names (return \"spam\", keyword_lf([...], \"spam\")), which follow "
               "the list, or add new classes at the end of the list (answers and gold are stored by name and keep "
               "their meaning)")
    alert = Alert("class_ids_changed", None, "warning", message, float(len(moved)))
    store.add_alert(run_id, alert.kind, alert.message, source=None, severity=alert.severity, value=alert.value)
    return [alert]


def unvoted_class_alert(L: LabelMatrix, class_names: Sequence[str] | None = None) -> Alert | None:
    """A ``class_unvoted`` warning when no source voted some class on any item (None when every class has a vote).

    The label model cannot give such a class to an item nobody answered, so
    an end model trained on its labels seldom learns it: the project's
    sources miss a class, and nothing else would say so.

    Examples
    --------
    >>> L = LabelMatrix.from_dense(np.array([[0, -1], [1, 0], [-1, 1]]), n_classes=3)
    >>> unvoted_class_alert(L, ["ham", "spam", "promo"]).message.split(":")[0]
    "no source voted 'promo' on any of the 3 items"
    >>> unvoted_class_alert(LabelMatrix.from_dense(np.array([[0, -1], [1, 0]]), n_classes=2)) is None
    True
    """
    if L.n_items == 0 or L.n_sources == 0:
        return None
    _, _, labels = L.coo()
    counts = np.bincount(labels[labels >= 0], minlength=L.n_classes)
    names = list(class_names) if class_names is not None and len(class_names) == L.n_classes \
        else [str(c) for c in range(L.n_classes)]
    missing = [names[c] for c in np.flatnonzero(counts == 0)]
    if not missing:
        return None
    shown = ", ".join(map(repr, missing[:5])) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return Alert("class_unvoted", None, "warning",
                 f"no source voted {shown} on any of the {L.n_items:,} items: the label model gives "
                 f"{'it' if len(missing) == 1 else 'them'} only to items a person answered, so an end model "
                 "trained on its labels seldom learns " + ("it" if len(missing) == 1 else "them")
                 + "; add a source that votes it (a labeling function, or `weaklab generate` from answered "
                 "items) or answer items of that class (`weaklab query`, the dashboard's review queue)",
                 float(len(missing)))


def record_unvoted_classes(store: Store, run_id: int, L: LabelMatrix,
                           class_names: Sequence[str] | None = None) -> list[Alert]:
    """Store and return :func:`unvoted_class_alert`'s warning for run ``run_id`` (an empty list when none fires)."""
    alert = unvoted_class_alert(L, class_names)
    if alert is None:
        return []
    store.add_alert(run_id, alert.kind, alert.message, source=None, severity=alert.severity, value=alert.value)
    return [alert]


def stats_for_store(frame: pd.DataFrame) -> pd.DataFrame:
    """The numeric statistic columns of ``frame`` the store keeps (coverage is recorded with the matrix)."""
    keep = [c for c in STAT_COLUMNS if c in frame.columns and c != "coverage"]
    return frame[keep].astype(np.float64)
