"""Commands that read the store: runs, explain, diff, alerts, report, annotate."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import click

from . import render
from ._common import echo_json, handled, json_option, make_console, open_store, records, store_option


@click.command()
@store_option
@click.option("--limit", default=20, show_default=True, help="Show at most this many runs (newest first).")
@json_option
@handled
def runs(store_path: Path | None, limit: int, as_json: bool) -> None:
    """List the recorded runs, newest first (id, time, dataset, status, metrics)."""
    with open_store(store_path) as store:
        frame = store.runs(limit=limit)
        rows = [_run_row(store, row) for row in records(frame)]
    if as_json:
        echo_json(rows)
    else:
        make_console().print(render.runs_table(rows))


def _run_row(store: Any, row: dict[str, Any]) -> dict[str, Any]:
    from ..errors import StoreError

    try:
        ids = store.load_item_ids(int(row["dataset_id"]))[:5]
    except StoreError:  # a missing or damaged item-id file: the listing does not need it (`weaklab doctor`)
        ids = []
    if not len(ids):  # a run on the Dask engine: its items stay in Parquet; the run records a sample of ids
        ids = list((row.get("metrics") or {}).get("item_ids") or [])
    return {"run_id": row["run_id"], "created_at": row["created_at"], "finished_at": row["finished_at"],
            "dataset": row["dataset"], "dataset_id": row["dataset_id"], "status": row["status"],
            "steps": (row.get("config") or {}).get("steps"), "metrics": row.get("metrics") or {},
            "label_model": (row.get("config") or {}).get("label_model") or None,
            "item_ids": [v.item() if hasattr(v, "item") else v for v in ids]}


@click.command()
@click.argument("item_id")
@click.option("--run", "run_id", type=int, default=None, help="The run (default: the newest).")
@store_option
@json_option
@handled
def explain(item_id: str, run_id: int | None, store_path: Path | None, as_json: bool) -> None:
    """Show the whole story of one item's label: votes, posterior, corrections, human answers.

    ITEM_ID is the dataset's own id of the item (for the demo: a comment id;
    `weaklab runs --json` lists a few).
    """
    with open_store(store_path) as store:
        story = store.explain(item_id, run_id=run_id)
    if as_json:
        echo_json(story)
    else:
        render.explain(make_console(), story)


@click.command()
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@click.option("--limit", default=50, show_default=True, help="Rows shown in the table (JSON lists all).")
@store_option
@json_option
@handled
def diff(run_a: int, run_b: int, limit: int, store_path: Path | None, as_json: bool) -> None:
    """List the items whose final label differs between RUN_A and RUN_B, and why.

    For two tagging runs: the items whose final spans differ (spans added and
    removed, and the sources whose spans changed). For two multilabel runs:
    per label the items carrying it in each run and how many gained or lost
    it, then the items whose final label set differs (labels added and
    removed, and why).
    """
    from ..pipeline.review import run_class_names

    with open_store(store_path) as store:
        if store.is_multilabel_run(run_a) or store.is_multilabel_run(run_b):
            _diff_label_sets(store, run_a, run_b, limit, as_json)
            return
        tagging = len(store.span_sets(run_a)) > 0 and len(store.span_sets(run_b)) > 0
        if tagging:
            frame = store.diff_spans(run_a, run_b)
        else:
            frame = store.diff(run_a, run_b)
            names = run_class_names(store, run_b) or run_class_names(store, run_a)
    if tagging:
        if as_json:
            echo_json({"run_a": run_a, "run_b": run_b, "kind": "tagging", "n_changed": len(frame),
                       "items": records(frame)})
        else:
            make_console().print(render.span_diff_table(frame, run_a, run_b, limit))
        return
    if as_json:
        echo_json({"run_a": run_a, "run_b": run_b, "n_changed": len(frame), "class_names": names,
                   "items": records(frame)})
    else:
        make_console().print(render.diff_table(frame, run_a, run_b, limit))


def _diff_label_sets(store: Any, run_a: int, run_b: int, limit: int, as_json: bool) -> None:
    """``weaklab diff`` of two multilabel runs (:func:`~weaklab.pipeline.multilabel_diff.diff_label_sets`)."""
    from ..pipeline.multilabel_diff import diff_label_sets
    from .render_multilabel import label_set_diff_tables

    found = diff_label_sets(store, run_a, run_b)
    if as_json:
        echo_json({"run_a": run_a, "run_b": run_b, "kind": "multilabel", "n_changed": len(found.items),
                   "per_label": records(found.per_label), "items": records(found.items)})
        return
    console = make_console()
    for table in label_set_diff_tables(found.items, found.per_label, run_a, run_b, limit):
        console.print(table)


@click.command()
@click.option("--run", "run_id", type=int, default=None, help="Alerts of this run only (default: all).")
@click.option("--limit", default=50, show_default=True, help="Show at most this many alerts (newest first).")
@store_option
@json_option
@handled
def alerts(run_id: int | None, limit: int, store_path: Path | None, as_json: bool) -> None:
    """List alerts on sources (coverage or accuracy shifts, dominance, conflicts, below-chance accuracy)."""
    with open_store(store_path) as store:
        frame = store.alerts(run_id, limit=limit)
    if as_json:
        echo_json(records(frame))
    else:
        make_console().print(render.alerts_table(records(frame)))


@click.command()
@click.option("--run", "run_id", type=int, default=None, help="The run (default: the newest).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The HTML file to write (default: weaklab-report-run<ID>.html).")
@store_option
@handled
def report(run_id: int | None, output: Path | None, store_path: Path | None) -> None:
    """Write one self-contained offline HTML report of a run (sources, models, calibration, issues, alerts)."""
    if importlib.util.find_spec("weaklab.report") is None:
        raise click.ClickException("the HTML report is not part of this weaklab build yet")
    from ..report import write_report

    with open_store(store_path) as store:
        run = run_id if run_id is not None else _latest(store)
        target = output or Path(f"weaklab-report-run{run}.html")
        missing = _missing_folder(target)
        path = write_report(store, run, target)
    made = f" (created the folder {missing}, which did not exist)" if missing is not None else ""
    click.echo(f"Wrote {path}{made}")


def _missing_folder(target: Path) -> Path | None:
    """The outermost folder of ``target`` that does not exist yet (None when its folder exists)."""
    missing = None
    for parent in target.parents:
        if parent.exists():
            break
        missing = parent
    return missing


def _latest(store: Any) -> int:
    latest = store.latest_run_id()
    if latest is None:
        raise click.ClickException(f"the store {store.path} has no runs yet: run `weaklab fit` or `weaklab demo`")
    return int(latest)


@click.group(invoke_without_command=True)
@click.option("--run", "run_id", type=int, default=None, help="The run whose review queue to answer (default: newest).")
@click.option("--annotator", default=None, help="Your name, stored with every answer (default: your login name).")
@click.option("--limit", default=20, show_default=True, help="Items in this session.")
@click.option("--strategy", type=click.Choice(["least_confidence", "entropy", "margin"]),
              default="least_confidence", show_default=True, help="Which uncertain items come first.")
@click.option("--include-gold", is_flag=True,
              help="Offer the items that hold gold in the data file too (to re-check their gold).")
@store_option
@click.pass_context
@handled
def annotate(ctx: click.Context, run_id: int | None, annotator: str | None, limit: int, strategy: str,
             include_gold: bool, store_path: Path | None) -> None:
    """Answer the review queue in the terminal, or exchange batches with Label Studio (export / import).

    \b
    Without a subcommand: each item shows its text, the sources' votes and
    the soft label; keys 1..k answer, s skips, u undoes, q quits. Answers are
    stored as annotations under your name; the next `weaklab fit` uses them.
    Items that hold gold in the data file (dev items, and items whose gold fed
    the run's fit: [data].fit_gold) are not offered unless --include-gold is given.
    On a multilabel run each answer is a line: the numbers or names of the
    labels that apply ('1 3', 'sport tech'), '-' for none, Enter for the
    marked ones (P >= 0.5); s skips, b goes back, q quits (--strategy is not used).
    """
    if ctx.invoked_subcommand is not None:
        return
    import getpass

    from ..pipeline.review import check_annotator
    from .terminal_review import review_session

    name = check_annotator(annotator if annotator is not None else getpass.getuser())
    review_session(store_path, run_id, name, limit, strategy, include_gold)


@annotate.command("export")
@click.option("--run", "run_id", type=int, default=None, help="The run whose labels are predictions (default: newest).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("tasks.json"),
              show_default=True, help="The Label Studio task file to write (the labeling config goes beside it).")
@click.option("--limit", type=int, default=None, help="Export at most this many tasks.")
@click.option("--text-field", default=None,
              help="The column holding each item's text (default: the project's [data].text_field).")
@click.option("--model-version", default="weaklab", show_default=True,
              help="The predictions' model version. Label Studio shows only predictions of the project's model "
                   "version (the first import's): keep it the same for every batch.")
@click.option("--include-pending", is_flag=True,
              help="Send again the items of earlier batches that nobody answered or skipped yet.")
@click.option("--include-gold", is_flag=True,
              help="Send the items that hold gold in the data file too (to re-check their gold).")
@store_option
@handled
def annotate_export(run_id: int | None, output: Path, limit: int | None, text_field: str | None,
                    model_version: str, include_pending: bool, include_gold: bool, store_path: Path | None) -> None:
    """Write a review batch as Label Studio tasks with weaklab's soft labels as predictions.

    For a tagging run the tasks are NER tasks (a ``Labels`` config over the
    item's tokens) whose predictions are the label model's proposed spans.
    For a multilabel run they are multiple-choice tasks (``Choices`` with
    choice="multiple") whose predictions tick the labels at P(applies) >= 0.5,
    least certain label sets first.

    By default the run's items that nobody answered or skipped, that no
    earlier batch sent, and that have no gold in the data file (dev items, or
    gold the run's fit had; --include-gold sends them too), least confident
    first (the review queue); answered items whose text changed since come
    first. Items no source voted on get no pre-filled label. The run is
    recorded in each task's meta, and the exported items as pending until
    their answers are imported (Label Studio does not deduplicate tasks).
    """
    from ..interop.labelstudio import (
        export_label_studio,
        export_label_studio_multilabel,
        export_label_studio_ner,
        is_tagging_run,
    )

    with open_store(store_path, read_only=False) as store:
        run = run_id if run_id is not None else _latest(store)
        if store.is_multilabel_run(run):
            summary = export_label_studio_multilabel(store, run, output, limit=limit, model_version=model_version,
                                                     include_pending=include_pending, include_gold=include_gold)
        elif is_tagging_run(store, run):
            summary = export_label_studio_ner(store, run, output, limit=limit, model_version=model_version,
                                              include_pending=include_pending, include_gold=include_gold)
        else:
            summary = export_label_studio(store, run, output, text_field=text_field, limit=limit,
                                          model_version=model_version, include_pending=include_pending,
                                          include_gold=include_gold)
    click.echo(f"{summary.describe()} In Label Studio: create a project with the labeling config beside it, "
               f"import {output.name}, label, then export JSON and run `weaklab annotate import EXPORT.json`.")


@annotate.command("import")
@click.argument("export_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dataset", "dataset_id", type=int, default=None,
              help="The dataset the tasks belong to (default: the newest run's dataset).")
@click.option("--users", "users_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Names for Label Studio's user ids: its users export (GET /api/users, JSON), an "
                   "{\"id\": \"name\"} JSON object, or a CSV with id and email columns.")
@click.option("--annotator", default=None,
              help="A name for answers the export does not attribute, or for the one user of a "
                   "single-annotator export (refused when the export names several people: use --users).")
@store_option
@handled
def annotate_import(export_file: Path, dataset_id: int | None, users_file: Path | None, annotator: str | None,
                    store_path: Path | None) -> None:
    """Store the answers of a Label Studio export (JSON or JSON_MIN) as human annotations.

    Skipped tasks, annotations submitted without a choice and tasks nobody
    answered are counted and reported, not stored. Answers stored by an
    earlier import are not stored again. The next `weaklab fit` uses the
    answers as gold. For a tagging dataset (a NER export) each annotation is
    stored as a span answer, with what it did to every proposed span. For a
    multilabel dataset each annotation is stored as a label-set answer (the
    ticked labels; none ticked: none applies).
    """
    from ..interop.labelstudio import (
        import_label_studio,
        import_label_studio_multilabel,
        import_label_studio_ner,
        is_tagging_run,
    )

    with open_store(store_path, read_only=False) as store:
        runs_frame = store.runs()
        if dataset_id is None:
            if runs_frame.empty:
                raise click.ClickException("the store has no runs yet; pass --dataset ID")
            dataset_id = int(runs_frame["dataset_id"].iloc[0])
        mine = runs_frame[runs_frame["dataset_id"] == dataset_id]
        multilabel = next((int(r) for r in mine["run_id"] if store.is_multilabel_run(int(r))), None)
        tagging = next((int(r) for r in mine["run_id"] if is_tagging_run(store, int(r))), None)
        if multilabel is not None:  # the dataset's newest multilabel run: its labels check the answers
            summary = import_label_studio_multilabel(store, export_file, run_id=multilabel, annotator=annotator,
                                                     users=users_file)
        elif tagging is not None:
            summary = import_label_studio_ner(store, export_file, run_id=tagging, annotator=annotator,
                                              users=users_file)
        else:
            summary = import_label_studio(store, export_file, dataset_id=dataset_id, annotator=annotator,
                                          users=users_file)
    click.echo(summary.describe())
