"""``weaklab predict``: a run's end model on new items, written with its class probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._common import handled, open_store, store_option
from .export_cmd import FORMATS, write_table

if TYPE_CHECKING:
    import pandas as pd


@click.command("predict")
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--run", "run_id", type=int, default=None,
              help="The run whose end model predicts (default: the newest finished run with one).")
@click.option("--raw", is_flag=True,
              help="The end model's own probabilities, not passed through the calibrator the run fitted on its "
                   "dev gold (the default; the predicted class is the same either way).")
@store_option
@handled
def predict(data: Path, output: Path, run_id: int | None, raw: bool, store_path: Path | None) -> None:
    """Apply a run's end model to the items of DATA and write its predictions to OUTPUT.

    DATA is a .csv, .tsv or .parquet table with the project's text column
    ([data].text_field), or, for a tabular end model, the columns it reads,
    or, for the image CNN, the picture column ([data].image_column; paths
    relative to DATA's folder); OUTPUT is .csv, .tsv, .parquet or .jsonl. Columns:
    the id column (when DATA has it), label (class id), class (its name) and
    p_<class> per class (the end model's probabilities, calibrated on the
    run's dev gold unless --raw is given). For a multilabel run: labels (the
    predicted label set, '|'-separated, '-' for none; a label is predicted
    at probability 0.5 or more), n_labels and p_<label> per label (raw:
    multilabel runs fit no calibrator on the dev gold). An end model that reads the
    sources' votes, or whose calibrator treats items with and without a vote
    apart, runs the project's labeling functions on DATA.
    """
    from ..data import read_table
    from ..pipeline.predict import predict_items, run_with_end_model

    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise click.ClickException(f"OUTPUT: expected a file name ending in one of {', '.join(FORMATS)}, "
                                   f"got {output.name!r}")
    if not data.is_file():
        raise click.ClickException(f"DATA: expected an existing table file (.csv, .tsv or .parquet), got {data}")
    table = read_table(data)
    with open_store(store_path) as store:
        run = run_id if run_id is not None else run_with_end_model(store)
        frame = predict_items(store, run, table, calibrated=not raw, root=data.resolve().parent)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_table(frame, output, suffix)
    shown = _counts(frame) or "no items"
    note = frame.attrs.get("calibration_note")
    how = f"raw probabilities, not calibrated: {note}" if note else f"{frame.attrs.get('calibration')} probabilities"
    click.echo(f"Wrote {len(frame)} prediction(s) of run {run}'s end model ({frame.attrs.get('end_model')}, "
               f"{how}) to {output} ({shown})")
    unseen = frame.attrs.get("unseen_categories") or {}
    if unseen:
        told = ", ".join(f"{n} in {column!r}" for column, n in unseen.items())
        click.echo(f"Categories the end model never saw (read as none of the column's categories): {told}")


def _counts(frame: pd.DataFrame) -> str:
    """How many items got each class, or (a multilabel run) each label and none."""
    if "class" in frame.columns:
        return ", ".join(f"{int(n)} {name}" for name, n in frame["class"].value_counts().items())
    labels = [c[2:] for c in frame.columns if str(c).startswith("p_")]
    sets = frame["labels"].astype(str).str.split("|")
    counts = {label: int(sets.map(lambda s, label=label: label in s).sum()) for label in labels}
    parts = [f"{n} {label}" for label, n in counts.items()]
    return ", ".join([*parts, f"{int((frame['n_labels'] == 0).sum())} with none"]) if len(frame) else ""
