"""``weaklab doctor``'s check of fit gold: does the data file still hold the gold each run's fit took?

A run whose label model fitted on gold of the data file outside the dev split
(``[data].fit_gold``) recorded those items by id with the gold each gave
(:meth:`~weaklab.store.Store.fit_gold`). The review queues read the record,
so an edit of the data file since changes none of what they hold back; this
check says what changed in the file (items gone, gold labels changed, items
moved into the dev split, texts edited), so a person knows the run's fit no
longer matches the file and a new fit would differ.

A run recorded before the items were kept re-derives them from the file by
its recorded option and seed: exact while the file is unchanged since the
run (its data fingerprint), and then ``--repair`` records them; after an edit
nobody can tell what the fit had, and the check says the set is re-derived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import WeaklabError
from ..store import Store
from .fit_gold import RunFitGold, run_fit_gold
from .loading import (
    data_fingerprint,
    item_hashes,
    item_ids_of,
    load_data,
    read_item_rows,
    recorded_fit_gold_rows,
    run_gold,
)
from .runs import dataset_config

__all__ = ["FitGoldCheck", "check_fit_gold"]

#: Item ids a message names at most per kind of change.
SHOWN = 3


@dataclass
class FitGoldCheck:
    """What ``doctor`` found of one run's fit gold against the data file as it is now.

    Attributes
    ----------
    run_id : int
    status : str
        ``"changed"`` (recorded; the file no longer matches), ``"re-derived"``
        (not recorded; the file is unchanged since the run, so the re-derived
        set is exact), ``"re-derived, file changed"`` (not recorded; nobody can
        tell what the fit had), ``"recorded by --repair"``, ``"damaged"`` (the
        store's items do not give the recorded digest) or ``"unreadable"``
        (the data file cannot be read).
    n_items : int
        The items whose gold fed the fit.
    gone, relabelled, now_dev, text_changed : list
        Recorded items no longer in the file; ``(item, gold then, gold now)``
        of those whose gold changed; those now in the dev split; those whose
        text changed.
    message : str
        The sentence ``doctor`` prints, with what ``--repair`` does.
    """

    run_id: int
    status: str
    n_items: int
    message: str
    gone: list[str] = field(default_factory=list)
    relabelled: list[tuple[str, str, str]] = field(default_factory=list)
    now_dev: list[str] = field(default_factory=list)
    text_changed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The check as JSON-able values (``weaklab doctor --json``)."""
        return {"run_id": self.run_id, "status": self.status, "n_items": self.n_items, "message": self.message,
                "gone": self.gone, "relabelled": [list(r) for r in self.relabelled], "now_dev": self.now_dev,
                "text_changed": self.text_changed}


@dataclass
class _File:
    """The data file of a dataset as a run of its project reads it now."""

    config: Any
    frame: pd.DataFrame
    gold: np.ndarray
    dev: np.ndarray
    ids: list[str]
    fingerprint: str
    hashes: np.ndarray


def check_fit_gold(store: Store, *, repair: bool = False) -> list[FitGoldCheck]:
    """Check every run whose fit took gold of the data file against the file as it is now.

    Runs whose recorded items still match the file give nothing. With
    ``repair`` (a writable store), a run recorded before the items were kept
    whose data file is unchanged since gets them recorded (exactly what its
    fit had); nothing else is written.

    Returns
    -------
    list of FitGoldCheck
        One per run that needs saying, oldest run first.
    """
    runs = store.runs()
    fits = []
    for run_id, dataset_id, metrics in sorted(zip(runs["run_id"], runs["dataset_id"], runs["metrics"])):
        lm = metrics.get("label_model") if isinstance(metrics, dict) else None
        if isinstance(lm, dict) and lm.get("n_file_gold_for_fit"):
            fits.append((int(dataset_id), run_fit_gold(store, int(run_id))))
    files: dict[tuple[int, bool], _File | str] = {}
    out = []
    for dataset_id, fit in fits:
        # a Dask dataset's file may not fit in memory: read the rows of the recorded items only (a run recorded
        # before its items were kept is re-derived from the whole file, as on the local engine)
        rows_only = fit.ids is not None and store.partitioned_dataset(dataset_id) is not None
        if (dataset_id, rows_only) not in files:
            wanted = set().union(*(f.ids or () for d, f in fits if d == dataset_id))
            files[dataset_id, rows_only] = _read_rows(store, dataset_id, wanted) if rows_only else \
                _read(store, dataset_id)
        found = _check(store, fit, dataset_id, files[dataset_id, rows_only], repair)
        if found is not None:
            out.append(found)
    return out


def _read(store: Store, dataset_id: int) -> _File | str:
    try:
        config = dataset_config(store, dataset_id)
        frame = load_data(config)
        gold, dev = run_gold(config, frame)
        hashes = item_hashes(config, frame)
    except (WeaklabError, OSError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return _File(config, frame, gold, dev, [str(v) for v in item_ids_of(config, frame).tolist()],
                 data_fingerprint(config, frame, hashes), hashes)


def _read_rows(store: Store, dataset_id: int, wanted: set[str]) -> _File | str:
    """The data file's rows of the ``wanted`` items only (:func:`~weaklab.pipeline.loading.read_item_rows`: the
    columns the check reads, a batch at a time, ids read as the run read them: integers or text); its
    ``fingerprint`` is not computed (the comparison by id does not read it)."""
    record = store.partitioned_dataset(dataset_id) or {}
    integer_ids = np.dtype(str(record.get("id_dtype", "|O"))).kind in "iu"
    try:
        config = dataset_config(store, dataset_id)
        frame = read_item_rows(config, wanted, integer_ids=integer_ids)
        gold, dev = run_gold(config, frame)
        hashes = item_hashes(config, frame)
    except (WeaklabError, OSError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    ids = item_ids_of(config, frame) if config.get("data", "id_column") else frame.index  # without ids: row numbers
    return _File(config, frame, gold, dev, [str(v) for v in ids.tolist()], "", hashes)


def _check(store: Store, fit: RunFitGold, dataset_id: int, file: _File | str, repair: bool) -> FitGoldCheck | None:
    head = f"run {fit.run_id}: its label model fitted on the gold of {fit.n_items} item(s) of the data file"
    if fit.ids is not None:
        record = store.fit_gold_record(fit.run_id) or {}
        if not record.get("intact"):
            return FitGoldCheck(fit.run_id, "damaged", fit.n_items, f"{head}; the store's record of them does not "
                                "give its digest (damaged): the review queues read it as it is; `weaklab fit` "
                                "records a new run")
    if isinstance(file, str):
        return FitGoldCheck(fit.run_id, "unreadable", fit.n_items, f"{head}; its data file cannot be read ({file}), "
                            "so it is not compared" + ("" if fit.ids is not None else " and the review queues "
                                                       "cannot re-derive them (they offer them)"))
    if fit.ids is None:
        return _rederived(store, fit, dataset_id, file, head, repair)
    return _compared(store, fit, file, head)


def _compared(store: Store, fit: RunFitGold, file: _File, head: str) -> FitGoldCheck | None:
    recorded = store.fit_gold(fit.run_id)
    position = {item: row for row, item in enumerate(file.ids)}
    names = file.config.class_names or []
    check = FitGoldCheck(fit.run_id, "changed", fit.n_items, "")
    for item, label, name, content in zip(recorded["item_id"].tolist(), recorded["label"].tolist(),
                                          recorded["class_name"].tolist(), recorded["content"].tolist()):
        row = position.get(str(item))
        if row is None:
            check.gone.append(str(item))
            continue
        then = str(name) if isinstance(name, str) else str(label)
        value = int(file.gold[row])
        now = "(none)" if value < 0 else names[value] if value < len(names) and isinstance(name, str) else str(value)
        if now != then:
            check.relabelled.append((str(item), then, now))
        if file.dev[row]:
            check.now_dev.append(str(item))
        if isinstance(content, str) and content != str(file.hashes[row]):
            check.text_changed.append(str(item))
    if not (check.gone or check.relabelled or check.now_dev or check.text_changed):
        return None
    check.message = (f"{head} (recorded by id); the data file no longer matches them: {_changes(check)}. The "
                     f"review queues keep holding back the {fit.n_items} recorded items, and a damaged label-model "
                     "state is refitted on the recorded gold; --repair changes nothing here. `weaklab fit` fits "
                     "on the file as it is now")
    return check


def _changes(check: FitGoldCheck) -> str:
    parts = []
    if check.gone:
        parts.append(f"{len(check.gone)} gone from the file ({_some(check.gone)})")
    if check.relabelled:
        shown = ", ".join(f"{i}: {a} -> {b}" for i, a, b in check.relabelled[:SHOWN])
        more = f", ... {len(check.relabelled) - SHOWN} more" if len(check.relabelled) > SHOWN else ""
        parts.append(f"{len(check.relabelled)} gold label(s) changed ({shown}{more})")
    if check.now_dev:
        parts.append(f"{len(check.now_dev)} now in the dev split, which scores runs ({_some(check.now_dev)})")
    if check.text_changed:
        parts.append(f"{len(check.text_changed)} with another text ({_some(check.text_changed)})")
    return "; ".join(parts)


def _some(items: list[str]) -> str:
    more = f", ... {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def _rederived(store: Store, fit: RunFitGold, dataset_id: int, file: _File, head: str,
               repair: bool) -> FitGoldCheck:
    head = f"{head}, not recorded by id (the run was recorded before weaklab kept them)"
    if store.dataset(dataset_id)["fingerprint"] != file.fingerprint:
        return FitGoldCheck(fit.run_id, "re-derived, file changed", fit.n_items, (
            f"{head}; the review queues re-derive them from the data file by the run's recorded [data].fit_gold "
            "and seed, and the file changed since the run, so they may hold back other items than the fit had "
            "(nobody can tell which); --repair cannot record them. `weaklab fit` records a new run whose items "
            "are kept"))
    rows = recorded_fit_gold_rows(file.config, file.frame, file.gold, file.dev, fit.metrics)
    if int(rows.sum()) != fit.n_items:  # the project's classes or split changed: the draw is not the fit's
        return FitGoldCheck(fit.run_id, "re-derived, file changed", fit.n_items, (
            f"{head}; re-deriving them from the data file, unchanged since the run, gives {int(rows.sum())} items "
            "under the project's settings as they are now (its classes or dev split changed), so the review "
            "queues may hold back other items than the fit had; --repair cannot record them"))
    if not repair or store.read_only:
        return FitGoldCheck(fit.run_id, "re-derived", fit.n_items, (
            f"{head}; the review queues re-derive them from the data file by the run's recorded [data].fit_gold "
            f"and seed; the file is unchanged since the run, so the {int(rows.sum())} re-derived items are "
            "exact: `weaklab doctor --repair` records them, so a later edit of the file cannot change them"))
    ids = np.asarray(file.ids, dtype=object)[rows]
    store.add_fit_gold(fit.run_id, ids, file.gold[rows], class_names=file.config.class_names,
                       option=fit.metrics.get("fit_gold"), random_state=fit.metrics.get("fit_gold_random_state"),
                       origin="repair")
    return FitGoldCheck(fit.run_id, "recorded by --repair", fit.n_items, (
        f"{head}; recorded the {len(ids)} items re-derived from the data file, unchanged since the run: the "
        "review queues read them from now on"))
