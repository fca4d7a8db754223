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
                   "whose label is only the end model's guess, or the label model's prior without one).")
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
    (annotation, correction, end_model (an item no source voted on, in a run
    that trained an end model), label_model, votes or none: the rule of
    `weaklab explain`), n_votes, and p_<class> per class (the label model's
    probabilities: soft labels to train on); with an end model, end_p_<class>
    (its probabilities, calibrated on the run's dev gold when the run applied
    a calibrator, else raw, and the output line says which and why).

    The labels are the run's, from the store; the text column comes from the
    data file, so when that file changed since the run the export stops and
    says so (run `weaklab fit` to label the current data, or pass --no-text).
    A multilabel run writes, instead of label and class, ``labels`` (the label
    names whose P(applies) is at least 0.5, separated by "|", "-" for none)
    and p_<label> (and end_p_<label>) per label of the project.
    A run of the Dask engine is read and written a partition at a time, so
    memory stays one partition whatever the size of the data. The file
    appears whole or not at all.
    """
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise click.ClickException(f"OUTPUT: expected a file name ending in one of {', '.join(FORMATS)}, "
                                   f"got {output.name!r}")
    with open_store(store_path) as store:
        run = run_id if run_id is not None else store.latest_run_id()
        if run is not None and _is_partitioned(store, int(run)):
            _export_partitioned(store, int(run), output, labelled_only, no_text, raw)
            return
        if run is not None and store.is_multilabel_run(int(run)):
            _export_multilabel(store, int(run), output, labelled_only, no_text)
            return
        frame = store.final_labels(run)
        run = int(run if run is not None else store.latest_run_id())
        text_note = "" if no_text else _with_text(store, run, frame)
        text_note += _with_end_model(store, run, frame, raw)
        frame = _named_ids(frame, _id_column(store, run))
    if labelled_only:
        frame = _labelled(frame)
    with PageWriter(output) as writer:
        writer.write(frame)
    counts = frame["label_from"].value_counts()
    shown = ", ".join(f"{int(n)} from {origin}" for origin, n in counts.items())
    click.echo(f"Wrote {len(frame)} item(s) of run {run} to {output} ({shown}){text_note}")


def _export_multilabel(store: Any, run: int, output: Path, labelled_only: bool, no_text: bool) -> None:
    """Export a multi-label run: each item's label set and P(label applies) per label (label and end model)."""
    from ..pipeline.multilabel import multilabel_final_labels

    frame = multilabel_final_labels(store, run)
    note = "" if no_text else _with_text(store, run, frame)
    frame = _named_ids(frame, _id_column(store, run))
    if labelled_only:
        frame = _labelled(frame)
    with PageWriter(output) as writer:
        writer.write(frame)
    n_labelled = int((frame["labels"] != "-").sum())
    click.echo(f"Wrote {len(frame)} item(s) of multilabel run {run} to {output} ({n_labelled} with at least one "
               f"label; labels, p_<label> and end_p_<label> columns){note}")


def _is_partitioned(store: Any, run: int) -> bool:
    from ..pipeline.partitioned_runs import is_partitioned_run

    return is_partitioned_run(store, run)  # an unknown run is not: final_labels then says so, with the way out


def _export_partitioned(store: Any, run: int, output: Path, labelled_only: bool, no_text: bool, raw: bool) -> None:
    """Export a Dask run a partition at a time (its labels stay in Parquet partitions; memory is one page)."""
    from ..pipeline.partitioned_runs import DataRows, final_label_pages
    from ..pipeline.runs import run_dataset

    dataset_id = run_dataset(store, run)
    record = store.partitioned_dataset(dataset_id) or {}
    field = record.get("text_column") if not no_text else None
    rows = DataRows(record) if field else None
    end, end_note = _partitioned_end_model(store, run, raw)
    id_column = _id_column(store, run)
    counts: dict[str, int] = {}
    written, offset = 0, 0
    with PageWriter(output) as writer:
        for i, page in enumerate(final_label_pages(store, run)):
            if rows is not None:
                page.insert(1, str(field), _page_texts(rows, offset, len(page), str(field)))
            if end is not None:
                _add_end_model(page, end, i)
            offset += len(page)
            if labelled_only:
                page = _labelled(page)
            page = _named_ids(page, id_column)
            writer.write(page)
            written += len(page)
            for origin, n in page["label_from"].value_counts().items():
                counts[str(origin)] = counts.get(str(origin), 0) + int(n)
    shown = ", ".join(f"{n} from {origin}" for origin, n in sorted(counts.items(), key=lambda c: -c[1]))
    click.echo(f"Wrote {written} item(s) of run {run} (Dask engine, {offset} item(s) read a partition at a time) "
               f"to {output} ({shown}){end_note}")


def _page_texts(rows: Any, start: int, n: int, field: str) -> list[Any]:
    """The texts of one page from the data file; a file that changed since the run stops the export, clearly."""
    from ..errors import WeaklabError

    try:
        return rows.column_range(start, start + n, field)
    except (WeaklabError, OSError, KeyError, ValueError) as exc:
        raise click.ClickException(f"{str(exc).splitlines()[0]}: the texts cannot be read as the run labelled them. "
                                   "Run `weaklab fit` to label the current data, or pass --no-text to export the "
                                   "run's labels without the text column") from exc


def _partitioned_end_model(store: Any, run: int, raw: bool) -> tuple[Any, str]:
    """The Dask run's end-model probabilities to append (partitioned, or None) and what the output line says."""
    from ..pipeline.calibrated import run_calibration

    parts = store.partitioned(run)
    if "end_model" not in parts:
        return None, ""
    if raw and "end_model_raw" in parts:
        return store.open_partitioned(run, "end_model_raw"), "; end model probabilities raw"
    calibration = run_calibration(store, run)
    if raw:  # no raw folder: what the run stored is what there is; say whether it was calibrated
        return store.open_partitioned(run, "end_model"), "; --raw: the run recorded no raw end-model probabilities"
    said = "raw, not calibrated: the run recorded no end model run" if calibration is None else calibration.describe()
    return store.open_partitioned(run, "end_model"), "; end model probabilities " + said


def _add_end_model(page: Any, end: Any, i: int) -> None:
    """Append ``end_p_<class>`` of partition ``i`` of the end model's partitioned probabilities to a page."""
    import numpy as np

    soft = end.read_partition(i)
    ids = np.asarray([] if soft.item_ids is None else soft.item_ids)
    if len(ids) != len(page) or not np.array_equal(ids.astype(str), page["item_id"].to_numpy().astype(str)):
        raise click.ClickException(f"partition {i} of the end model's probabilities ({end.root}) does not hold the "
                                   "items of the run's soft labels in the same order: the folder changed since "
                                   "the run; run `weaklab train` again")
    names = end.class_names if end.class_names is not None else range(end.n_classes)
    proba = soft.proba
    for j, name in enumerate(names):
        page[f"end_p_{name}"] = proba[:, j]


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


def _id_column(store: Any, run: int) -> str | None:
    """The project's name for the id column (``[data].id_column``), as the run's dataset recorded it."""
    from ..pipeline.runs import run_dataset

    column = (store.dataset(run_dataset(store, run)).get("meta") or {}).get("id_column")
    return column if isinstance(column, str) and column else None


def _named_ids(frame: Any, column: str | None) -> Any:
    """``frame`` with its id column called by the project's name for it, so the file joins back onto the data."""
    if column is None or column in frame.columns:
        return frame
    return frame.rename(columns={"item_id": column})


def _labelled(frame: Any) -> Any:
    """The rows a person labelled (an answer or a correction) or at least one source voted on."""
    return frame[(frame["n_votes"] > 0) | frame["label_from"].isin(["annotation", "correction"])]


def write_table(frame: Any, output: Path, suffix: str) -> None:
    """Write ``frame`` to ``output`` in the format of ``suffix`` (one of :data:`FORMATS`)."""
    if suffix == ".parquet":
        frame.to_parquet(output, index=False)
    elif suffix == ".jsonl":
        frame.to_json(output, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_csv(output, index=False, sep="\t" if suffix == ".tsv" else ",")


class PageWriter:
    """Write a table page by page to ``output`` (format by suffix); the file appears whole or not at all.

    The pages go to a temporary file beside ``output``, renamed onto it when
    the ``with`` block ends without an error (so an export that stops halfway
    leaves no half file). Parquet pages must have the columns of the first;
    a column that is empty on one page keeps the first page's type.

    Examples
    --------
    >>> import pandas as pd, pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> with PageWriter(out) as w:
    ...     w.write(pd.DataFrame({"a": [1]})); w.write(pd.DataFrame({"a": [2]}))
    >>> out.read_text().split()
    ['a', '1', '2']
    """

    def __init__(self, output: Path) -> None:
        self.output, self.suffix = Path(output), Path(output).suffix.lower()
        self._tmp = self.output.with_name(f".{self.output.name}.partial")
        self._pages = 0
        self._parquet: Any = None
        self._schema: Any = None

    def __enter__(self) -> PageWriter:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self._tmp.unlink(missing_ok=True)
        return self

    def write(self, page: Any) -> None:
        """Append one page (a pandas DataFrame)."""
        if self.suffix == ".parquet":
            self._write_parquet(page)
        elif self.suffix == ".jsonl":
            if len(page):
                page.to_json(self._tmp, orient="records", lines=True, force_ascii=False, mode="a")
            else:
                self._tmp.touch()
        else:
            page.to_csv(self._tmp, index=False, sep="\t" if self.suffix == ".tsv" else ",", mode="a",
                        header=self._pages == 0)
        self._pages += 1

    def _write_parquet(self, page: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._parquet is None:
            table = pa.Table.from_pandas(page, preserve_index=False)
            self._schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f
                                      for f in table.schema]).remove_metadata()
            self._parquet = pq.ParquetWriter(self._tmp, self._schema)
        self._parquet.write_table(pa.Table.from_pandas(page, schema=self._schema, preserve_index=False))

    def __exit__(self, kind: Any, *rest: Any) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if kind is None:
            if not self._tmp.exists():
                self._tmp.touch()
            self._tmp.replace(self.output)
        else:
            self._tmp.unlink(missing_ok=True)
