"""The sources pages of a multi-label run (``/sources``, ``/sources/<name>``): each source's health per label.

A multi-label run records one row per (source, label) the source voted on
(:mod:`weaklab.pipeline.multilabel_sources`): coverage, overlaps,
conflicts, the label model's estimated accuracy, the empirical accuracy on
the dev gold, how often the source decides the label and its share of the
evidence. ``/sources`` lists them, sortable, with the run's alerts (each
names its label); ``/sources/<name>`` shows one source's rows across the
dataset's runs and the items where its vote on a label disagrees with the
label model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import ValidationError
from ..pipeline.multilabel_sources import LABEL_SOURCE_COLUMNS
from . import charts
from .page import Pager, records
from .state import DashboardState, NotFound

__all__ = ["multilabel_sources_view", "multilabel_source_view", "label_source_frame"]

#: Said when a run recorded no per-label source statistics.
NO_LABEL_SOURCES = ("This run recorded no per-label source statistics (it stopped before `analyze`, or an older "
                    "weaklab recorded it): run `weaklab analyze` or `weaklab fit` again.")


def label_source_frame(run: dict[str, Any]) -> pd.DataFrame:
    """The run's per-(source, label) table from its metrics (columns of :data:`LABEL_SOURCE_COLUMNS`; may be empty).

    Examples
    --------
    >>> label_source_frame({"metrics": {"label_sources": [{"label": "a", "source": "s", "coverage": 0.5}]}}
    ...                    ).columns.tolist()[:3]
    ['source', 'label', 'coverage']
    """
    rows = (run.get("metrics") or {}).get("label_sources") or []
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=list(LABEL_SOURCE_COLUMNS[:2]))
    return frame.reindex(columns=[c for c in LABEL_SOURCE_COLUMNS if c in frame.columns])


def multilabel_sources_view(state: DashboardState, run_id: int, sort: str, direction: str, page: int,
                            size: int = 50) -> dict[str, Any]:
    """One page of a multi-label run's per-(source, label) table, sorted, its chart and the run's alerts."""
    def build() -> dict[str, Any]:
        table = label_source_frame(state.run_row(run_id))
        columns = list(table.columns)
        if sort not in columns:
            raise ValidationError(f"sort: expected one of {', '.join(columns)}; got {sort!r}")
        if direction not in ("asc", "desc"):
            raise ValidationError(f"dir: expected 'asc' or 'desc'; got {direction!r}")
        keys = [sort, *(c for c in ("label", "source") if c != sort)]
        ordered = table.sort_values(keys, ascending=[direction == "asc", True, True][: len(keys)], kind="stable",
                                    na_position="last")
        pager = Pager(page, size, len(ordered))
        shown = ordered.iloc[pager.offset:pager.offset + size]
        metrics = [c for c in ("coverage", "est_accuracy", "emp_accuracy") if c in shown.columns]
        chart = charts.bars([f"{s} · {lab}" for s, lab in zip(shown["source"], shown["label"])],
                            {c: shown[c].astype(float).tolist() for c in metrics},
                            title="Coverage and accuracy per source and label") if len(shown) else None
        return {"columns": columns, "rows": records(shown.astype(object).where(shown.notna(), None)), "sort": sort,
                "dir": direction, "pager": pager, "chart": chart, "alerts": records(state.store.alerts(run_id,
                                                                                                      limit=100)),
                "missing": None if len(table) else NO_LABEL_SOURCES}

    return dict(state.fresh(("ml_sources_view", int(run_id), str(sort), str(direction), int(page), int(size)), build))


def multilabel_source_view(state: DashboardState, run_id: int, name: str, page: int,
                           size: int = 25) -> dict[str, Any]:
    """One source of a multi-label run: its rows per label across the dataset's runs, alerts, disagreements."""
    def build() -> dict[str, Any]:
        run = state.run_row(run_id)
        sources = ((run.get("config") or {}).get("sources") or {})
        if name not in sources:
            raise NotFound(f"source: no source {name!r} in run {run_id}")
        history = _history(state, run_id, name)
        labels = list(pd.unique(history["label"])) if len(history) else []
        chart = None
        if len(history):
            runs = sorted(pd.unique(history["run_id"]).tolist())
            series = {f"{lab} {m}": [_at(history, r, lab, m) for r in runs]
                      for lab in labels[:4] for m in ("coverage", "est_accuracy") if m in history.columns}
            chart = charts.line_chart([f"run {r}" for r in runs], series, title=f"{name} across runs, per label")
        samples, total = _disagreements(state, run_id, name, page, size)
        alerts = [a for a in records(state.store.alerts(limit=2000)) if a.get("source") == name]
        current = history[history["run_id"] == run_id] if len(history) else history
        return {"name": name, "rows": records(current.astype(object).where(current.notna(), None)),
                "history": records(history.astype(object).where(history.notna(), None)), "chart": chart,
                "alerts": alerts, "samples": samples, "pager": Pager(page, size, total),
                "columns": ["run_id", *(c for c in LABEL_SOURCE_COLUMNS if c in history.columns and c != "source")]}

    return dict(state.fresh(("ml_source_view", int(run_id), str(name), int(page), int(size)), build))


def _at(history: pd.DataFrame, run: int, label: str, column: str) -> float | None:
    row = history[(history["run_id"] == run) & (history["label"] == label)]
    return None if row.empty or pd.isna(row[column].iloc[0]) else float(row[column].iloc[0])


def _history(state: DashboardState, run_id: int, name: str) -> pd.DataFrame:
    """The source's per-label rows in every finished run of the dataset up to ``run_id`` (oldest first)."""
    runs = state.store.runs()
    mine = runs[(runs["dataset_id"] == state.dataset_id(run_id)) & (runs["run_id"] <= run_id)]
    frames = []
    for _, row in mine.sort_values("run_id").iterrows():
        table = label_source_frame({"metrics": row["metrics"] if isinstance(row["metrics"], dict) else {}})
        if len(table):
            table = table[table["source"] == name]
            frames.append(table.assign(run_id=int(row["run_id"])))
    if not frames:
        return pd.DataFrame(columns=["run_id", "source", "label"])
    out = pd.concat(frames, ignore_index=True)
    return out[["run_id", *(c for c in out.columns if c != "run_id")]]


def _disagreements(state: DashboardState, run_id: int, name: str, page: int,
                   size: int) -> tuple[list[dict[str, Any]], int]:
    """The source's votes on a label that the label model (P(applies) >= 0.5) contradicts: one page, and how many."""
    sets = state.store.label_sets(run_id)
    by_role = {role: int(i) for role, i in zip(sets["role"], sets["label_set_id"])}
    if "votes" not in by_role or "label_model" not in by_role:
        return [], 0
    votes = state.store.load_multilabel_votes(by_role["votes"])
    proba = state.store.load_label_proba(by_role["label_model"])
    if name not in votes.source_names:
        return [], 0
    items, sources, labels, values = votes.coo()
    p = proba[items, labels]
    mask = (sources == list(votes.source_names).index(name)) & ((p >= 0.5).astype(np.int64) != values)
    picked = np.flatnonzero(mask)
    ids = state.store.load_item_ids(state.dataset_id(run_id))
    texts = state.texts(state.dataset_id(run_id))
    pager = Pager(page, size, len(picked))
    out = []
    for k in picked[pager.offset:pager.offset + size].tolist():
        item = ids[items[k]]
        item = item.item() if isinstance(item, np.generic) else item
        out.append({"item_id": item, "text": texts.get(item), "label": votes.label_names[labels[k]],
                    "vote": "present" if values[k] == 1 else "absent", "p": float(p[k])})
    return out, len(picked)
