"""Back-filling class names on records written before answers carried them (schema version 2).

Older stores kept bare class ids. The name an id meant is the one recorded
with the run the record belongs to (its label matrix or soft labels); an
answer without a run takes the names of its dataset's newest run that
recorded names (the classes in force when the answers were stored). Records
for which no names were ever recorded keep a NULL name and are read by id.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["fill_class_names"]


def fill_class_names(con: Any) -> None:
    """Set ``class_name``/``old_class``/``new_class``/``given_class``/``suggested_class`` from recorded names."""
    by_run = _names_by_run(con)
    by_dataset = _names_by_dataset(con, by_run)
    rows = con.execute("SELECT annotation_id, dataset_id, run_id, label FROM annotations").fetchall()
    _update(con, "UPDATE annotations SET class_name = ? WHERE annotation_id = ?", [
        [_name(by_run.get(run) or by_dataset.get(ds), label), ann] for ann, ds, run, label in rows])
    rows = con.execute("SELECT correction_id, run_id, old_label, new_label FROM corrections").fetchall()
    _update(con, "UPDATE corrections SET old_class = ?, new_class = ? WHERE correction_id = ?", [
        [_name(by_run.get(run), old), _name(by_run.get(run), new), cid] for cid, run, old, new in rows])
    rows = con.execute("SELECT issue_id, run_id, given, suggested FROM label_issues").fetchall()
    _update(con, "UPDATE label_issues SET given_class = ?, suggested_class = ? WHERE issue_id = ?", [
        [_name(by_run.get(run), given), _name(by_run.get(run), sug), iid] for iid, run, given, sug in rows])


def _update(con: Any, sql: str, rows: list[list[Any]]) -> None:
    rows = [r for r in rows if any(v is not None for v in r[:-1])]
    if rows:
        con.executemany(sql, rows)


def _names_by_run(con: Any) -> dict[int, list[str]]:
    rows = con.execute(
        "SELECT r.run_id, a.class_names, a.application_id FROM run_applications r JOIN applications a "
        "USING (application_id) WHERE a.class_names IS NOT NULL "
        "UNION ALL SELECT run_id, class_names, soft_labels_id FROM soft_labels "
        "WHERE run_id IS NOT NULL AND class_names IS NOT NULL ORDER BY 3").fetchall()
    out: dict[int, list[str]] = {}
    for run, names, _ in rows:
        out[int(run)] = [str(n) for n in json.loads(names)]
    return out


def _names_by_dataset(con: Any, by_run: dict[int, list[str]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for run, dataset in con.execute("SELECT run_id, dataset_id FROM runs ORDER BY run_id").fetchall():
        if int(run) in by_run:
            out[int(dataset)] = by_run[int(run)]
    return out


def _name(names: list[str] | None, label: Any) -> str | None:
    if not names or label is None or not 0 <= int(label) < len(names):
        return None
    return names[int(label)]
