"""`weaklab annotate disagreements` and `weaklab annotate adjudicate`: human answers that disagree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ._common import echo_json, handled, json_option, make_console, open_store, records, store_option


def _dataset(store: Any, dataset_id: int | None) -> tuple[int, int | None]:
    """The dataset (default: that of the newest finished run) and that run (for its classes)."""
    run = store.latest_run_id(dataset_id)
    if dataset_id is None:
        if run is None:
            raise click.ClickException("the store has no finished run yet; pass --dataset ID")
        dataset_id = int(store.run(run)["dataset_id"])
    return int(dataset_id), run


def _classes(store: Any, run: int | None) -> tuple[list[str] | None, dict[str, str]]:
    if run is None:
        return None, {}
    return store.run_class_names(run), store.run_class_renames(run)


@click.command("disagreements")
@click.option("--dataset", "dataset_id", type=int, default=None,
              help="The dataset (default: that of the newest finished run).")
@store_option
@json_option
@handled
def disagreements(dataset_id: int | None, store_path: Path | None, as_json: bool) -> None:
    """List items whose annotators disagree, for adjudication.

    A tie (e.g. one annotator against one) is left open: it is not used as
    gold. A majority is used, and listed so it can be checked. Settle an item
    with `weaklab annotate adjudicate ITEM_ID CLASS --by NAME`.

    For a multilabel dataset: the items whose annotators' latest label sets
    differ (open, or adjudicated when an adjudication came after them);
    settle one with `weaklab annotate adjudicate ITEM_ID 'sport|tech' --by NAME`.
    """
    with open_store(store_path) as store:
        dataset_id, run = _dataset(store, dataset_id)
        if run is not None and store.is_multilabel_run(run):
            _label_set_disagreements(store, dataset_id, as_json, store.run_class_renames(run))
            return
        names, renames = _classes(store, run)
        frame = store.disagreements(dataset_id, class_names=names, renames=renames)
        answers = {str(item): _answers(store, dataset_id, item) for item in frame["item_id"]}
    rows = [{**row, "answers": answers[str(row["item_id"])]} for row in records(frame)]
    if as_json:
        echo_json({"dataset_id": dataset_id, "n": len(rows), "items": rows})
        return
    table = Table(title=f"Disagreements in dataset {dataset_id} ({len(rows)})")
    for column in ("item", "status", "answers"):
        table.add_column(column)
    for row in rows:
        given = ", ".join(f"{a['annotator']}: {a['class_name']}" for a in row["answers"])
        table.add_row(str(row["item_id"]), row["status"], given)
    make_console().print(table if rows else "No disagreements between annotators.")


def _answers(store: Any, dataset_id: int, item: Any) -> list[dict[str, Any]]:
    frame = store.annotations(dataset_id, item_id=item)
    frame = frame[frame["current"] & (frame["status"] == "answered")]
    return [{"annotator": r["annotator"], "class_name": r["class_name"], "origin": r["origin"],
             "answered_at": r["updated_at"]} for r in records(frame)]


@click.command("adjudicate")
@click.argument("item_id")
@click.argument("class_name")
@click.option("--by", "who", required=True, help="Who decides (recorded with the answer).")
@click.option("--dataset", "dataset_id", type=int, default=None,
              help="The dataset (default: that of the newest finished run).")
@store_option
@handled
def adjudicate(item_id: str, class_name: str, who: str, dataset_id: int | None, store_path: Path | None) -> None:
    """Settle ITEM_ID's disagreement: CLASS_NAME becomes its human label (an answer with origin adjudication).

    For a multilabel dataset CLASS_NAME is the label set: names separated by
    '|' ("sport|tech"), '-' for none of the labels.
    """
    with open_store(store_path, read_only=False) as store:
        dataset_id, run = _dataset(store, dataset_id)
        if run is not None and store.is_multilabel_run(run):
            labels = _adjudicate_labels(store, dataset_id, run, item_id, class_name, who)
            click.echo(f"Item {item_id} adjudicated as {'|'.join(labels) or 'none of the labels'} by {who}; it is "
                       "the item's final label set (`weaklab explain`, `export`, the next `weaklab train`).")
            return
        names, _ = _classes(store, run)
        typed = store.explain(item_id, run)["item_id"] if run is not None else item_id
        store.add_annotation(dataset_id, typed, who, class_name, origin="adjudication", class_names=names)
    click.echo(f"Item {item_id} adjudicated as {class_name} by {who}; the next `weaklab fit` uses it as gold.")


def _label_set_disagreements(store: Any, dataset_id: int, as_json: bool, renames: dict[str, str]) -> None:
    from ..pipeline.multilabel_review import label_set_disagreements

    frame = label_set_disagreements(store, dataset_id, renames=renames)
    rows = records(frame)
    if as_json:
        echo_json({"dataset_id": dataset_id, "kind": "multilabel", "n": len(rows), "items": rows})
        return
    table = Table(title=f"Label-set disagreements in dataset {dataset_id} ({len(rows)})")
    for column in ("item", "status", "labels that differ", "answers"):
        table.add_column(column)
    for row in rows:
        given = "; ".join(f"{a['annotator']}: {'|'.join(a['labels']) or '-'}" for a in row["answers"])
        table.add_row(str(row["item_id"]), row["status"], ", ".join(row["labels_differ"]), given)
    make_console().print(table if rows else "No disagreements between annotators.")


def _adjudicate_labels(store: Any, dataset_id: int, run: int, item_id: str, text: str, who: str) -> list[str]:
    """Record ``who``'s label set ``text`` ('a|b', '-' for none) on the item as an adjudication; return it."""
    from ..pipeline.multilabel_review import ADJUDICATION

    names = [str(n) for n in store.label_sets(run)["label_names"].iloc[0]]
    labels = [] if text.strip() == "-" else [part.strip() for part in text.split("|")]
    unknown = [x for x in labels if x not in names]
    if unknown:
        raise click.ClickException(f"CLASS_NAME: expected label names of {names} separated by '|' ('-' for none), "
                                   f"got {text!r}")
    typed = store.explain(item_id, run)["item_id"]
    store.add_label_set_answer(dataset_id, typed, who, labels, label_names=names, run_id=run, origin=ADJUDICATION)
    return [n for n in names if n in labels]
