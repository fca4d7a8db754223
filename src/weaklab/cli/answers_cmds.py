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
    from ..pipeline.multilabel import refuse_multilabel_run

    refuse_multilabel_run(store, run, "annotate disagreements/adjudicate")
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
    """
    with open_store(store_path) as store:
        dataset_id, run = _dataset(store, dataset_id)
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
    """Settle ITEM_ID's disagreement: CLASS_NAME becomes its human label (an answer with origin adjudication)."""
    with open_store(store_path, read_only=False) as store:
        dataset_id, run = _dataset(store, dataset_id)
        names, _ = _classes(store, run)
        typed = store.explain(item_id, run)["item_id"] if run is not None else item_id
        store.add_annotation(dataset_id, typed, who, class_name, origin="adjudication", class_names=names)
    click.echo(f"Item {item_id} adjudicated as {class_name} by {who}; the next `weaklab fit` uses it as gold.")
