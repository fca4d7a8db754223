"""``weaklab export``: every item's final label of a run, as a table to train on elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ._common import handled, open_store, store_option

#: Table formats by suffix.
FORMATS = (".csv", ".tsv", ".parquet", ".jsonl")


@click.command("export")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--run", "run_id", type=int, default=None, help="The run (default: the newest finished one).")
@click.option("--labelled-only", is_flag=True,
              help="Only items labelled by a person, a correction or at least one source (leave out the items "
                   "whose label is only the label model's prior).")
@click.option("--no-text", is_flag=True,
              help="Leave out the text column (it is read from the data file, which must be the version the run "
                   "labelled unless this is given).")
@click.option("--raw", is_flag=True,
              help="Give the end model's own probabilities in the end_p_<class> columns, not the ones calibrated "
                   "on the run's dev gold (the default; a run that applied no calibrator stored raw ones, and the "
                   "export says so).")
@store_option
@handled
def export(output: Path, run_id: int | None, labelled_only: bool, no_text: bool, raw: bool,
           store_path: Path | None) -> None:
    """Write every item's final label of a run to OUTPUT (.csv, .tsv, .parquet or .jsonl, by its suffix).

    Columns: the item id (named as the project's id column), the project's
    text column (when the data file is still there), label (class id, -1 =
    none), class (its name), label_from
    (annotation, correction, label_model, votes or none: the rule of
    `weaklab explain`), n_votes, and p_<class> per class (the label model's
    probabilities: soft labels to train on); with an end model, end_p_<class>
    (its probabilities, calibrated on the run's dev gold when the run applied
    a calibrator, else raw, and the output line says which and why).

    The labels are the run's, from the store; the text column comes from the
    data file, so when that file changed since the run the export stops and
    says so (run `weaklab fit` to label the current data, or pass --no-text).
    """
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise click.ClickException(f"OUTPUT: expected a file name ending in one of {', '.join(FORMATS)}, "
                                   f"got {output.name!r}")
    with open_store(store_path) as store:
        run = run_id if run_id is not None else store.latest_run_id()
        if run is not None:
            _refuse_partitioned(store, int(run))
        frame = store.final_labels(run)
        run = int(run if run is not None else store.latest_run_id())
        text_note = "" if no_text else _with_text(store, run, frame)
        text_note += _with_end_model(store, run, frame, raw)
        _named_ids(store, run, frame)
    if labelled_only:
        frame = frame[(frame["n_votes"] > 0) | frame["label_from"].isin(["annotation", "correction"])]
    output.parent.mkdir(parents=True, exist_ok=True)
    write_table(frame, output, suffix)
    counts = frame["label_from"].value_counts()
    shown = ", ".join(f"{int(n)} from {origin}" for origin, n in counts.items())
    click.echo(f"Wrote {len(frame)} item(s) of run {run} to {output} ({shown}){text_note}")


def _refuse_partitioned(store: Any, run: int) -> None:
    """Stop with a clear message on a Dask run: its labels stay in Parquet partitions the export does not read."""
    from ..pipeline.partitioned_runs import is_partitioned_run

    if not is_partitioned_run(store, run):
        return
    soft = store.partitioned(run).get("soft_labels", {}).get("root", "the run's [engine].output folder")
    raise click.ClickException(
        f"RUN {run}: expected a run of the local engine, got a Dask run: its labels stay in Parquet partitions "
        f"({soft}), which `weaklab export` does not read yet. Read them with "
        f"weaklab.PartitionedSoftLabels.open({str(soft)!r}) (one partition at a time), or label a table with "
        "`weaklab predict DATA OUTPUT`.")


def _with_text(store: Any, run: int, frame: Any) -> str:
    """Insert the project's text column after the ids; say why when the data file cannot give it."""
    from ..errors import WeaklabError
    from ..pipeline.runs import dataset_table, dataset_text_field, run_data_change, run_dataset

    change = run_data_change(store, run)
    if change is not None:
        raise click.ClickException(f"{change.message()}: its texts are not the ones the run labelled. Run "
                                   "`weaklab fit` to label the current data, or pass --no-text to export the "
                                   "run's labels without the text column")
    dataset_id = run_dataset(store, run)
    field = dataset_text_field(store, dataset_id)
    try:
        table = dataset_table(store, dataset_id, "item_id")
    except (WeaklabError, OSError) as exc:
        return f"; no text column ({str(exc)[:120]})"
    if field not in table.columns:
        return f"; no text column ({field!r} is not a column of the data file)"
    ids = table["item_id"] if "item_id" in table.columns else table.index.to_series()
    texts = dict(zip((str(v) for v in ids), table[field].tolist()))
    frame.insert(1, field, [texts.get(str(v)) for v in frame["item_id"]])
    return ""


def _with_end_model(store: Any, run: int, frame: Any, raw: bool) -> str:
    """Append the run's end-model probabilities (``end_p_<class>``); say which ones, or nothing without them.

    A run that applied no calibrator (trained before weaklab calibrated end models, or with too few dev items
    with gold) stored its end model's raw probabilities: they are given and called raw, with the reason.
    """
    from ..pipeline.calibrated import CALIBRATED_ROLE, RAW_ROLE, run_calibration

    softs = store.run_records(run)["soft_labels"]
    calibration = run_calibration(store, run)
    as_stored, own = softs[softs["role"] == CALIBRATED_ROLE], softs[softs["role"] == RAW_ROLE]
    uncalibrated = calibration is None or not calibration.applied  # what the run stored is the raw output
    wanted = (own if len(own) or not uncalibrated else as_stored) if raw else as_stored
    if wanted.empty:
        return "; --raw: the run recorded no raw end-model probabilities" if raw and len(as_stored) else ""
    soft = store.load_soft_labels(int(wanted["soft_labels_id"].iloc[-1]))
    if soft.item_ids is None:
        return ""
    rows = {str(v): i for i, v in enumerate(soft.item_ids)}
    where = [rows.get(str(v), -1) for v in frame["item_id"]]
    names = soft.class_names if soft.class_names is not None else range(soft.proba.shape[1])
    for j, name in enumerate(names):
        frame[f"end_p_{name}"] = [soft.proba[i, j] if i >= 0 else float("nan") for i in where]
    if raw:
        return "; end model probabilities raw"
    if calibration is None:
        return "; end model probabilities raw, not calibrated: the run recorded no end model run"
    return "; end model probabilities " + calibration.describe()


def _named_ids(store: Any, run: int, frame: Any) -> None:
    """Call the id column by the project's name for it (``[data].id_column``), so the file joins back onto the data."""
    from ..pipeline.runs import run_dataset

    column = (store.dataset(run_dataset(store, run)).get("meta") or {}).get("id_column")
    if isinstance(column, str) and column and column not in frame.columns:
        frame.columns = [column if c == "item_id" else c for c in frame.columns]


def write_table(frame: Any, output: Path, suffix: str) -> None:
    """Write ``frame`` to ``output`` in the format of ``suffix`` (one of :data:`FORMATS`)."""
    if suffix == ".parquet":
        frame.to_parquet(output, index=False)
    elif suffix == ".jsonl":
        frame.to_json(output, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_csv(output, index=False, sep="\t" if suffix == ".tsv" else ",")
