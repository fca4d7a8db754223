"""``weaklab diff`` of two multi-label runs: the items whose final label set changed, and per label how many.

Each run's final labels are those of :func:`~weaklab.pipeline.multilabel.multilabel_final_labels`
*as of when the run finished*: on an item people answered before then, the
latest such answer's labels (skips do not count), else the labels whose
final ``P(applies)`` is at least 0.5 (the run's ``"final"`` set when it
trained an end model, else the label model's). Items are matched by their own
ids (two runs over different versions of one data file compare item by item;
an item only one holds is listed), and labels by name (a label only one run
has is added or removed on the items that carry it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import fail
from ..store import Store

__all__ = ["LabelSetDiff", "diff_label_sets"]


@dataclass(frozen=True)
class LabelSetDiff:
    """What changed between two multi-label runs.

    Attributes
    ----------
    items : pandas.DataFrame
        One row per item whose final label set differs: ``item_id``,
        ``labels_a``, ``labels_b`` (lists of label names), ``added`` and
        ``removed`` (the labels run b has and run a has not, and the
        reverse), ``from_a``, ``from_b`` (``"annotation"``, ``"label_model"``,
        or ``"absent"`` when the run's data does not hold the item),
        ``votes_changed`` (sources whose votes on the item differ),
        ``versions_changed`` (those of them whose version differs) and
        ``reason`` (a short sentence).
    per_label : pandas.DataFrame
        One row per label (of either run): ``label``, ``n_a`` and ``n_b``
        (items carrying it in each run), ``added`` and ``removed`` (items
        that gained or lost it).
    """

    items: pd.DataFrame
    per_label: pd.DataFrame


@dataclass(frozen=True)
class _Outcome:
    keys: np.ndarray          # item ids as text, dataset row order
    ids: np.ndarray           # the dataset's own ids
    names: list[str]
    hard: np.ndarray          # (n, K) bool final labels
    origin: np.ndarray        # "annotation" / "label_model" per row
    votes_set_id: int | None
    sources: dict[str, str | None]


def diff_label_sets(store: Store, run_a: int, run_b: int) -> LabelSetDiff:
    """The items whose final label set differs between multi-label runs ``run_a`` and ``run_b``, and why.

    A label the newer run renames (its ``[labels.rename]``) is one label in
    both runs: the older run's votes and labels under the old name count
    under the new one.

    Raises
    ------
    ValidationError
        A run is not a multi-label run, or recorded no label-model
        probabilities (stopped before ``fit``), or the runs are over
        different datasets.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.demo.multilabel import init_multilabel_project
    >>> from weaklab.pipeline import Project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_multilabel_project(folder, n_items=80)
    >>> first, second = Project(folder).run("fit").run_id, Project(folder).run("fit").run_id
    >>> with Project(folder).open_store(read_only=True) as store:
    ...     changes = diff_label_sets(store, first, second)
    >>> len(changes.items), changes.per_label["label"].tolist()
    (0, ['sport', 'politics', 'tech', 'health'])
    """
    for name, run in (("run_a", run_a), ("run_b", run_b)):
        if not store.is_multilabel_run(int(run)):
            raise fail(name, "a multilabel run (both runs of a diff must be multilabel)",
                       got_text=f"run {run}, which is not one")
    if store.run(run_a).get("dataset") != store.run(run_b).get("dataset"):
        raise fail("run_b", f"a run over the dataset of run {run_a} (or a version of it)",
                   got_text=f"run {run_b}, over another dataset")
    a, b = _outcome(store, int(run_a)), _outcome(store, int(run_b))
    renames = store.run_class_renames(max(int(run_a), int(run_b)))  # a label renamed since the older run: one label
    for outcome in (a, b):
        outcome.names[:] = [renames.get(n, n) for n in outcome.names]
    _, ia, ib = _aligned(a.keys, b.keys)
    names = [*a.names, *(n for n in b.names if n not in a.names)]
    hard_a, hard_b = _on(a, ia, names), _on(b, ib, names)
    changed = np.flatnonzero((hard_a != hard_b).any(axis=1) | ((ia < 0) != (ib < 0)))
    votes_a = _votes_by_row(store, a, ia[changed], renames)
    votes_b = _votes_by_row(store, b, ib[changed], renames)
    sources = sorted(set(a.sources) | set(b.sources))
    fresh = {s for s in sources if a.sources.get(s) != b.sources.get(s)}
    rows = []
    for k, i in enumerate(changed.tolist()):
        va, vb = votes_a[k], votes_b[k]
        moved = [s for s in sources if va.get(s, frozenset()) != vb.get(s, frozenset())]
        from_a = str(a.origin[ia[i]]) if ia[i] >= 0 else "absent"
        from_b = str(b.origin[ib[i]]) if ib[i] >= 0 else "absent"
        rows.append({"item_id": (b.ids[ib[i]] if ib[i] >= 0 else a.ids[ia[i]]),
                     "labels_a": [n for n, h in zip(names, hard_a[i]) if h],
                     "labels_b": [n for n, h in zip(names, hard_b[i]) if h],
                     "added": [n for n, x, y in zip(names, hard_a[i], hard_b[i]) if y and not x],
                     "removed": [n for n, x, y in zip(names, hard_a[i], hard_b[i]) if x and not y],
                     "from_a": from_a, "from_b": from_b, "votes_changed": moved,
                     "versions_changed": [s for s in moved if s in fresh],
                     "reason": _reason(from_a, from_b, moved, fresh, run_a, run_b)})
    columns = ["item_id", "labels_a", "labels_b", "added", "removed", "from_a", "from_b", "votes_changed",
               "versions_changed", "reason"]
    items = pd.DataFrame(rows, columns=columns)
    items["item_id"] = [v.item() if isinstance(v, np.generic) else v for v in items["item_id"]]
    per_label = pd.DataFrame({"label": names, "n_a": hard_a.sum(axis=0).astype(np.int64),
                              "n_b": hard_b.sum(axis=0).astype(np.int64),
                              "added": (~hard_a & hard_b).sum(axis=0).astype(np.int64),
                              "removed": (hard_a & ~hard_b).sum(axis=0).astype(np.int64)})
    return LabelSetDiff(items=items, per_label=per_label)


def _outcome(store: Store, run_id: int) -> _Outcome:
    """One run's final label sets (as of its finish), its votes' label set and its sources' versions."""
    sets = store.label_sets(run_id)
    roles = {role: int(i) for role, i in zip(sets["role"], sets["label_set_id"])}
    if "label_model" not in roles:
        raise fail("run", "a multilabel run that fitted its label model",
                   got_text=f"run {run_id}, which recorded no label probabilities (run `weaklab fit`)")
    names = [str(n) for n in sets["label_names"].iloc[0]]
    dataset_id = int(sets["dataset_id"].iloc[0])
    ids = np.asarray(store.load_item_ids(dataset_id))
    keys = np.array([str(v.item() if isinstance(v, np.generic) else v) for v in ids], dtype=object)
    hard = store.load_label_proba(roles.get("final", roles["label_model"])) >= 0.5  # "final": since weaklab train
    origin = np.full(len(keys), "label_model", dtype=object)
    answered = _answers_before(store, dataset_id, store.run(run_id).get("finished_at"),
                               store.run_class_renames(run_id))
    if answered:
        row_of = {k: r for r, k in enumerate(keys.tolist())}
        for key, labels in answered.items():
            if key in row_of:
                hard[row_of[key]] = [n in labels for n in names]
                origin[row_of[key]] = "annotation"
    votes_id = roles.get("votes")
    versions: dict[str, str | None] = {}
    if votes_id is not None:
        listed = sets.loc[sets["label_set_id"] == votes_id, "sources"].iloc[0] or []
        versions = {str(s["name"]): s.get("version") for s in listed}
    return _Outcome(keys, ids, names, hard, origin, votes_id, versions)


def _answers_before(store: Store, dataset_id: int, finished: Any, renames: dict[str, str]) -> dict[str, list[str]]:
    """Item id -> the labels (renamed as the run renames them) of the latest answer given before ``finished``."""
    answers = store.label_set_answers(dataset_id, renames=renames)
    given = answers[answers["status"] == "answered"]
    if finished is not None and not pd.isna(finished) and len(given):
        given = given[pd.to_datetime(given["created_at"]) <= pd.Timestamp(finished)]
    return {str(k): list(v) for k, v in zip(given["item_key"], given["labels"])}  # oldest first: later answers win


def _aligned(keys_a: np.ndarray, keys_b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The items of both runs (run a's in its order, then those only run b has) and their rows in each (-1: none)."""
    index_a, index_b = pd.Index(keys_a, dtype=object), pd.Index(keys_b, dtype=object)
    only_b = keys_b[index_a.get_indexer(index_b) < 0]
    keys = np.concatenate([keys_a, only_b])
    ia = np.concatenate([np.arange(len(keys_a)), np.full(len(only_b), -1)])
    return keys, ia, index_b.get_indexer(pd.Index(keys, dtype=object))


def _on(outcome: _Outcome, rows: np.ndarray, names: list[str]) -> np.ndarray:
    """The run's final labels on ``rows`` (-1: no such item, no labels), in the columns of ``names``."""
    out = np.zeros((len(rows), len(names)), dtype=bool)
    held = rows >= 0
    columns = np.array([names.index(n) for n in outcome.names], dtype=np.int64)
    out[np.ix_(np.flatnonzero(held), columns)] = outcome.hard[rows[held]]
    return out


def _votes_by_row(store: Store, outcome: _Outcome, rows: np.ndarray,
                  renames: dict[str, str]) -> list[dict[str, frozenset[tuple[str, int]]]]:
    """Per row of ``rows`` (-1: none), each source's votes on the item as a set of (label name, 1/0), old label
    names read through ``renames``."""
    out: list[dict[str, set[tuple[str, int]]]] = [{} for _ in rows]
    if outcome.votes_set_id is None or not len(rows):
        return [{} for _ in rows]
    L = store.load_multilabel_votes(outcome.votes_set_id)
    items, sources, labels, votes = L.coo()
    keep = np.isin(items, rows[rows >= 0])
    items, sources, labels, votes = items[keep], sources[keep], labels[keep], votes[keep]
    where = {int(r): k for k, r in enumerate(rows.tolist()) if r >= 0}
    source_names, label_names = list(L.source_names), [renames.get(n, n) for n in L.label_names]
    for i, s, j, v in zip(items.tolist(), sources.tolist(), labels.tolist(), votes.tolist()):
        k = where.get(i)
        if k is not None:
            out[k].setdefault(source_names[s], set()).add((label_names[j], int(v)))
    return [{s: frozenset(v) for s, v in row.items()} for row in out]


def _reason(from_a: str, from_b: str, moved: list[str], fresh: set[str], run_a: int, run_b: int) -> str:
    """A short sentence on why an item's final label set changed between two runs."""
    if from_a == "absent":
        return f"item not in the data of run {run_a} (added in a later version)"
    if from_b == "absent":
        return f"item not in the data of run {run_b} (removed from the data)"
    parts = ["human annotation"] if "annotation" in (from_a, from_b) else []
    versions = [s for s in moved if s in fresh]
    if versions:
        parts.append("new version of " + ", ".join(versions))
    other = [s for s in moved if s not in fresh]
    if other:
        parts.append("votes changed: " + ", ".join(other))
    if not parts:
        parts.append("label model changed (same votes)")
    return "; ".join(parts)
