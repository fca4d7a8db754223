"""Loading a project's inputs: its data table and its labeling functions."""

from __future__ import annotations

import hashlib
import importlib
import linecache
import re
import sys
from collections.abc import Collection, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from .._core import fingerprint
from .._core.validation import check_bool, check_int
from ..data import image_content_hash, read_table, table_format
from ..errors import ValidationError
from ..labeling import LabelingFunction, source_defaults
from .config import ProjectConfig

__all__ = ["GENERATED_LFS", "generated_lfs_path", "project_source_defaults",
           "load_data", "load_lfs", "load_span_lfs", "load_multilabel_lfs",
           "check_lf_columns", "data_fingerprint", "gold_labels", "gold_class_id", "refused_gold",
           "rename_hint", "dev_mask", "run_gold", "gold_rows", "fit_gold_rows", "draw_fit_gold",
           "recorded_fit_gold_rows",
           "item_hashes", "item_ids_of", "read_item_rows"]


def load_data(config: ProjectConfig) -> pd.DataFrame:
    """The project's data table, checked for the columns the file names.

    Raises
    ------
    ValidationError
        The file cannot be read, a named column is missing, or the id column
        has missing or duplicate values.
    """
    path = config.data_path
    fmt = config.get("data", "format")
    kwargs: dict[str, Any] = {}
    if fmt in ("csv", "tsv"):
        kwargs = {"sep": "\t" if fmt == "tsv" else ",", "keep_default_na": False, "na_values": [""]}
    elif fmt is None and not path.name.lower().endswith((".parquet", ".pq")):
        kwargs = {"keep_default_na": False, "na_values": [""]}
    if fmt == "parquet":
        frame = _read_parquet(config, path)
    else:
        frame = read_table(path, **kwargs)
    for key in ("id_column", "text_field", "gold_column", "split_column", "image_column"):
        column = config.get("data", key)
        if column is not None and column not in frame.columns:
            raise ValidationError(f"{config.file}: data.{key}: expected a column of {path.name}, "
                                  f"got {column!r} (columns: {list(map(str, frame.columns))})")
    if frame.empty:
        raise ValidationError(f"{config.file}: data.path: expected a table with at least one item, got "
                              f"{path.name} with no rows (columns: {list(map(str, frame.columns))})")
    _check_ids(config, frame)
    return frame


def _read_parquet(config: ProjectConfig, path: Path) -> pd.DataFrame:
    if not path.is_file():
        return read_table(path)  # its message names the missing file
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise ValidationError(f"{config.file}: data.format: expected 'parquet' only for a Parquet file, got "
                              f"{path.name}, which is not one ({str(exc).splitlines()[0][:120]}); set format "
                              "to 'csv' or 'tsv', or leave it out to go by the suffix") from None


def _check_ids(config: ProjectConfig, frame: pd.DataFrame) -> None:
    column = config.get("data", "id_column")
    if column is None:
        return
    ids = frame[column]
    if ids.isna().any():
        raise ValidationError(f"{config.data_path}: column {column!r}: expected an id on every row, "
                              f"got {int(ids.isna().sum())} empty value(s)")
    if ids.duplicated().any():
        raise ValidationError(f"{config.data_path}: column {column!r}: expected unique item ids, "
                              f"got duplicates, e.g. {ids[ids.duplicated()].iloc[0]!r}")


#: Rows of the data file :func:`read_item_rows` holds at a time (with only the columns it reads).
ROWS_PER_BATCH = 65_536


def read_item_rows(config: ProjectConfig, item_ids: Collection[str], *,
                   batch_rows: int = ROWS_PER_BATCH, integer_ids: bool = False) -> pd.DataFrame:
    """The rows of the data file whose item id (as text) is in ``item_ids``, read a batch at a time.

    Only the columns a check of those items needs are read: the id, gold,
    split, text and image columns (every column when the project names
    neither a text nor an image column: a table's cells are its content),
    ``batch_rows`` rows at a time (a Parquet file by record batches with
    pyarrow, a CSV/TSV file in chunks), so a data file that does not fit in
    memory (a project of the Dask engine) is checked in bounded memory.
    Without an id column the ids are the row numbers.

    A CSV/TSV file's id column is read as text in every batch (a batch's own
    type guess read ``007`` as the number 7 in a batch of numbers only and
    as ``007`` in one holding ``x12``), so an id is the same in every batch;
    ``integer_ids`` says how the run read the column as a whole.

    Parameters
    ----------
    config : ProjectConfig
    item_ids : collection of str
        The ids wanted, as text.
    batch_rows : int, default=ROWS_PER_BATCH
        Rows read at a time.
    integer_ids : bool, default=False
        Whether the engine that recorded ``item_ids`` read the id column as
        integers (a Dask dataset's recorded ``id_dtype``): then an id cell
        that is an integer in text (``007``) is the item of that integer
        (``7``) and the returned id column holds it as an integer, as that
        engine read it; else ids are the cells' text.

    Returns
    -------
    pandas.DataFrame
        The matching rows in file order (the columns read), indexed by
        their row numbers in the file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project, load_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=40)
    >>> config = load_config(folder)
    >>> first = load_data(config)["comment_id"].iloc[[3, 30]].tolist()
    >>> found = read_item_rows(config, set(first), batch_rows=8)
    >>> found["comment_id"].tolist() == first, sorted(found.columns)
    (True, ['comment_id', 'label', 'split', 'text'])
    """
    batch_rows = check_int("batch_rows", batch_rows, low=1)
    integer_ids = check_bool("integer_ids", integer_ids)
    wanted = {str(v) for v in item_ids}
    id_column = config.get("data", "id_column")
    named = [config.get("data", key) for key in ("id_column", "gold_column", "split_column", "text_field",
                                                 "image_column")]
    shown = config.get("data", "text_field") or config.get("data", "image_column")
    columns = list(dict.fromkeys(c for c in named if c is not None)) if shown else None
    found, offset = [], 0
    for batch in _batches(config, columns, batch_rows):
        batch.index = pd.RangeIndex(offset, offset + len(batch))
        if id_column is not None and integer_ids:
            batch[id_column] = [_as_integer(v) for v in batch[id_column].tolist()]
        ids = batch[id_column].tolist() if id_column is not None else batch.index.tolist()
        keep = np.asarray([str(v) in wanted for v in ids], dtype=bool)
        offset += len(batch)
        if keep.any():
            found.append(batch[keep])
    if not found:
        return pd.DataFrame(columns=columns or [])
    return pd.concat(found)


def _batches(config: ProjectConfig, columns: list[str] | None, batch_rows: int) -> Any:
    """The data file as DataFrames of at most ``batch_rows`` rows of ``columns`` (all when None).

    The format is read as :func:`load_data` reads it (``[data].format``, else
    the suffix, ``.tsv.gz`` and ``.csv.gz`` included); a file that cannot be
    parsed is a ValidationError naming it, as in :func:`load_data`.
    """
    path = config.data_path
    if not path.is_file():
        raise ValidationError(f"{config.file}: data.path: expected a data file, got {str(path)!r} (no such file)")
    fmt = config.get("data", "format") or table_format(path)
    try:
        yield from _format_batches(config, path, fmt, columns, batch_rows)
    except ValidationError:
        raise
    except (ValueError, UnicodeDecodeError, OSError) as exc:  # pandas' ParserError, pyarrow's ArrowInvalid
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ValidationError(f"{path}: expected a readable {fmt.upper()} table, got {first}") from None


def _format_batches(config: ProjectConfig, path: Path, fmt: str, columns: list[str] | None, batch_rows: int) -> Any:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        missing = [c for c in columns or [] if c not in parquet.schema_arrow.names]
        _check_columns(config, missing, parquet.schema_arrow.names)
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
            yield batch.to_pandas()
        return
    header = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", nrows=0)
    _check_columns(config, [c for c in columns or [] if c not in header.columns], list(header.columns))
    id_column = config.get("data", "id_column")
    yield from pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", usecols=columns, chunksize=batch_rows,
                           keep_default_na=False, na_values=[""],
                           dtype=None if id_column is None else {id_column: str})


def _as_integer(value: Any) -> Any:
    """An id cell as the integer it writes (``"007"`` -> 7), else unchanged."""
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        return int(value)
    return value


def _check_columns(config: ProjectConfig, missing: list[str], present: list[Any]) -> None:
    if missing:
        raise ValidationError(f"{config.file}: data: expected the columns {missing} in {config.data_path.name}, "
                              f"got the columns {list(map(str, present))}")


def item_ids_of(config: ProjectConfig, frame: pd.DataFrame) -> np.ndarray:
    """The items' ids: the id column, or row numbers when the file names none."""
    column = config.get("data", "id_column")
    if column is None:
        return np.arange(len(frame), dtype=np.int64)
    values = frame[column].to_numpy()
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    return np.asarray([str(v) for v in values], dtype=object)


def data_fingerprint(config: ProjectConfig, frame: pd.DataFrame, hashes: np.ndarray | None = None) -> str:
    """The fingerprint a run records for the project's data: the table, and in an image project its pictures.

    ``hashes`` are the :func:`item_hashes` of ``frame`` when already computed.
    """
    if config.get("data", "image_column") is None:
        return fingerprint("data", frame)
    return fingerprint("data", frame, item_hashes(config, frame) if hashes is None else hashes)


def item_hashes(config: ProjectConfig, frame: pd.DataFrame) -> np.ndarray:
    """A content fingerprint per item: of what a person sees to answer it.

    That is its ``[data].text_field`` and, in an image project, the content
    of the file its ``[data].image_column`` names (a replaced picture under
    the same path changes the fingerprint); with neither, every column but
    the id, gold and split columns. A later version of the data whose
    fingerprint for an answered item differs flags the item for review again.
    """
    text, image = config.get("data", "text_field"), config.get("data", "image_column")
    skip = {config.get("data", key) for key in ("id_column", "gold_column", "split_column")}
    columns = [c for c in (text, image) if c is not None] or [c for c in frame.columns if c not in skip]
    if not columns or not len(frame):
        return np.array([""] * len(frame), dtype=object)
    shown = frame[columns].astype(str)
    if image is not None:
        shown = shown.assign(**{image: image_content_hashes(frame[image], root=config.data_path.parent)})
    hashed = pd.util.hash_pandas_object(shown, index=False).to_numpy(dtype=np.uint64)
    return np.array([f"{h:016x}" for h in hashed.tolist()], dtype=object)


def image_content_hashes(refs: pd.Series, *, root: Path) -> list[str]:
    """The content digest of each image reference (relative ones under ``root``); "" for an empty cell.

    An unreadable file is a ValidationError naming it: an answer about a
    picture must not be recorded against a picture nobody can see.
    """
    out = []
    for row, ref in enumerate(refs.tolist()):
        if ref is None or (isinstance(ref, float) and np.isnan(ref)) or str(ref).strip() == "":
            out.append("")
            continue
        try:
            out.append(image_content_hash(str(ref), root=root))
        except ValidationError as exc:
            raise ValidationError(f"data.image_column {refs.name!r}, row {row}: {exc}") from None
    return out


def gold_labels(config: ProjectConfig, frame: pd.DataFrame, n_classes: int | None) -> np.ndarray:
    """Gold class ids from ``[data].gold_column`` (-1 where unknown); all -1 without that column.

    Values are class names (``[labels].classes``, or an old name that
    ``[labels.rename]`` maps to one) or class ids; empty (or blank) cells and
    -1 mean unknown.
    """
    column = config.get("data", "gold_column")
    gold = np.full(len(frame), -1, dtype=np.int64)
    if column is None:
        return gold
    for row, value in enumerate(frame[column].tolist()):
        label = gold_class_id(value, config, n_classes)
        if label is None:
            raise ValidationError(f"{config.data_path}: column {column!r}: {refused_gold(value, config, n_classes)} "
                                  f"on row {row}{rename_hint(value, config)}")
        gold[row] = label
    return gold


def gold_class_id(value: Any, config: ProjectConfig, n_classes: int | None) -> int | None:
    """The class id a run reads from one gold cell: -1 for unknown, None for a value it refuses.

    A class name of ``[labels].classes``, an old name ``[labels.rename]``
    maps to one, or a class id (below ``n_classes`` when given) is gold; an
    empty or blank cell, a missing value and -1 are unknown.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project, load_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> config = load_config(folder)
    >>> [gold_class_id(v, config, 2) for v in ("SPAM", "0", 1.0, "", " ", -1, "EGGS", 2)]
    [1, 0, 1, -1, -1, -1, None, None]
    """
    if isinstance(value, str):
        value = config.class_renames.get(value, value)
    return _gold_value(value, config.class_names or [], n_classes)


def refused_gold(value: Any, config: ProjectConfig, n_classes: int | None) -> str:
    """What a run says of a gold cell it refuses (:func:`gold_class_id` None): what it expected and what arrived.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project, load_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> config = load_config(folder)
    >>> refused_gold("EGGS", config, 2)
    "expected class ids 0..1 or names ['HAM', 'SPAM'] (empty or -1 = unknown), got 'EGGS'"
    """
    names = config.class_names or []
    expected = f"class ids 0..{n_classes - 1}" if n_classes else "class ids >= 0"
    shown = f" or names {names}" if names else ""
    return f"expected {expected}{shown} (empty or -1 = unknown), got {value!r}"


def rename_hint(value: Any, config: ProjectConfig) -> str:
    """The hint a refused gold name gets: a class renamed since is mapped by ``[labels.rename]`` ("" otherwise)."""
    if config.class_names and isinstance(value, str) and not _is_number(value):
        return f"; a class renamed since is mapped by [labels.rename] ({value} = \"NEW NAME\")"
    return ""


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _gold_value(value: Any, names: list[str], n_classes: int | None) -> int | None:
    """The class id of one gold cell, -1 for unknown, None when invalid."""
    if value is None or value is pd.NA or (isinstance(value, str) and not value.strip()) \
            or (isinstance(value, float) and np.isnan(value)):
        return -1  # pd.NA: an empty cell of a string column (as Dask reads the partitions of a table)
    if isinstance(value, str) and value in names:
        return names.index(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not number.is_integer() or number < -1 or (n_classes is not None and number >= n_classes):
        return None
    return int(number)


def dev_mask(config: ProjectConfig, frame: pd.DataFrame, gold: np.ndarray) -> np.ndarray:
    """Rows held out for evaluation: gold rows (in the dev split when a split column is set)."""
    mask = gold >= 0
    column = config.get("data", "split_column")
    if column is not None:
        mask &= frame[column].astype(str).to_numpy() == str(config.get("data", "dev_value", "dev"))
    return mask


def run_gold(config: ProjectConfig, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The gold class ids and the dev mask a classification run of ``config`` reads from ``frame``.

    :func:`gold_labels` with ``[labels].classes`` (their number bounds the
    class ids when set), then :func:`dev_mask`.

    Returns
    -------
    gold : ndarray of shape (n,) of int64
        Class ids, -1 where unknown.
    dev : ndarray of shape (n,) of bool
        The rows that hold gold for the run (in the dev split when a split
        column is set).

    Raises
    ------
    ValidationError
        A gold cell is neither empty, -1, a class name, an old name
        ``[labels.rename]`` maps, nor a class id (the message names the file,
        column, row and value).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project, load_config
    >>> from weaklab.pipeline.loading import load_data
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> config = load_config(folder)
    >>> gold, dev = run_gold(config, load_data(config))
    >>> bool(dev.any()), bool((gold[dev] >= 0).all()), gold.shape == dev.shape
    (True, True, True)
    """
    names = config.class_names
    gold = gold_labels(config, frame, None if names is None else len(names))
    return gold, dev_mask(config, frame, gold)


def gold_rows(config: ProjectConfig, frame: pd.DataFrame, recorded: Mapping[str, Any] | None = None, *,
              fit_ids: Collection[Any] | None = None) -> np.ndarray:
    """The rows of ``frame`` that hold gold for a run of ``config``: the one test of "this item holds gold".

    A classification project's dev mask (:func:`run_gold`), a tagging
    project's items with gold spans in the dev split
    (:func:`~weaklab.pipeline.tagging_data.tagging_items`). The runs, the
    review queues, the dashboard and the Label Studio batches all decide with it.
    Given a run's record, the rows whose gold fed that run's fit
    (:func:`recorded_fit_gold_rows`, ``[data].fit_gold``) hold gold too: no
    queue asks a person about an item whose label the model already took.

    Parameters
    ----------
    config : ProjectConfig
    frame : pandas.DataFrame
        The project's data.
    recorded : mapping, optional
        The label-model metrics a run recorded (``metrics["label_model"]``).
    fit_ids : collection, optional
        The ids of the items whose gold fed that run's fit, as the store
        recorded them (:meth:`~weaklab.store.Store.fit_gold`): read as they
        are, never drawn again (see :func:`recorded_fit_gold_rows`).

    Returns
    -------
    ndarray of shape (n,) of bool

    Raises
    ------
    ValidationError
        A gold cell the run refuses (the run's own message).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project, load_config
    >>> from weaklab.pipeline.loading import load_data
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> config = load_config(folder)
    >>> frame = load_data(config)
    >>> bool((gold_rows(config, frame) == run_gold(config, frame)[1]).all())
    True
    """
    if config.is_tagging:
        from .tagging_data import tagging_items

        return np.asarray(tagging_items(config, frame).dev, dtype=bool)
    if config.is_multilabel:
        from .multilabel import multilabel_dev, multilabel_gold

        return multilabel_dev(config, frame, multilabel_gold(config, frame))
    gold, dev = run_gold(config, frame)
    return dev | recorded_fit_gold_rows(config, frame, gold, dev, recorded or {}, fit_ids=fit_ids)


def recorded_fit_gold_rows(config: ProjectConfig, frame: pd.DataFrame, gold: np.ndarray, dev: np.ndarray,
                           recorded: Mapping[str, Any], *, fit_ids: Collection[Any] | None = None) -> np.ndarray:
    """The rows whose gold in the data file a recorded run's label model fitted on.

    With ``fit_ids`` (the items the store recorded at fit time,
    :meth:`~weaklab.store.Store.fit_gold`), the rows of ``frame`` holding
    those ids, whatever the file holds now: editing the data file (adding,
    removing or reordering rows, changing gold) changes none of them, and an
    id no longer in the file has no row. Without (a run recorded before fit
    gold was kept), drawn again (:func:`fit_gold_rows`) by the
    ``[data].fit_gold`` value and seed the run recorded, not by the config as
    it is now: editing the option later changes none of them, but an edit of
    the data file since the run may (``weaklab doctor`` says so). None for a
    run whose fit got no file gold (or recorded before ``fit_gold``).

    Parameters
    ----------
    config : ProjectConfig
    frame : pandas.DataFrame
        The project's data.
    gold, dev : ndarray of shape (n,)
        Its gold class ids and dev mask (:func:`run_gold`).
    recorded : mapping
        The run's label-model metrics: ``n_file_gold_for_fit``, ``fit_gold``
        and ``fit_gold_random_state`` (:func:`~weaklab.pipeline.fit_gold.fit_gold_lineage`).
    fit_ids : collection, optional
        The recorded ids (compared as text).

    Returns
    -------
    ndarray of shape (n,) of bool

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project, load_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> config = load_config(folder)
    >>> frame = load_data(config)
    >>> gold, dev = run_gold(config, frame)
    >>> recorded = {"fit_gold": 20, "n_file_gold_for_fit": 20, "fit_gold_random_state": 0}
    >>> int(recorded_fit_gold_rows(config, frame, gold, dev, recorded).sum())  # the config says "none"
    20
    >>> ids = item_ids_of(config, frame)
    >>> int(recorded_fit_gold_rows(config, frame, gold, dev, recorded, fit_ids=[ids[3], ids[7], "gone"]).sum())
    2
    """
    if not recorded.get("n_file_gold_for_fit"):
        return np.zeros(len(frame), dtype=bool)
    if fit_ids is not None:
        keys = pd.Series([str(v) for v in item_ids_of(config, frame).tolist()], dtype=object)
        return keys.isin({str(v) for v in fit_ids}).to_numpy(dtype=bool)
    return fit_gold_rows(config, frame, gold, dev, random_state=int(recorded.get("fit_gold_random_state") or 0),
                         option=recorded.get("fit_gold"))


def fit_gold_rows(config: ProjectConfig, frame: pd.DataFrame, gold: np.ndarray, dev: np.ndarray, *,
                  random_state: int = 0, option: str | int | None = None) -> np.ndarray:
    """The rows whose gold in the data file the label model fits on (``[data].fit_gold``).

    Of the rows that hold gold outside the dev split: none (``"none"``, the
    default), all (``"all"``), or at most ``N`` drawn at random: the ``N``
    whose item ids hash lowest under ``random_state``, so the draw does not
    depend on the order of the rows, adding rows keeps the drawn ones unless
    a new one hashes lower, and a larger ``N`` draws a superset. Dev rows are
    never among them.

    Parameters
    ----------
    config : ProjectConfig
    frame : pandas.DataFrame
        The project's data.
    gold, dev : ndarray of shape (n,)
        The run's gold class ids (-1 where unknown) and dev mask (:func:`run_gold`).
    random_state : int, default=0
        Salts the draw (the project's seed).
    option : "none", "all" or int, optional
        The value of ``[data].fit_gold`` to draw by (default: the config's;
        ``weaklab doctor`` passes the one a run recorded).

    Returns
    -------
    ndarray of shape (n,) of bool

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project, load_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> config = load_config(folder)
    >>> frame = load_data(config)
    >>> gold, dev = run_gold(config, frame)
    >>> int(fit_gold_rows(config, frame, gold, dev).sum())  # fit_gold = "none" by default
    0
    """
    outside = (np.asarray(gold) >= 0) & ~np.asarray(dev, dtype=bool)
    option = config.fit_gold if option is None else option
    if option == "none" or not outside.any():
        return np.zeros(len(frame), dtype=bool)
    if option == "all" or int(option) >= int(outside.sum()):
        return outside
    rows = np.flatnonzero(outside)
    chosen = np.zeros(len(frame), dtype=bool)
    chosen[rows[draw_fit_gold(item_ids_of(config, frame)[rows], int(option), random_state)]] = True
    return chosen


def draw_fit_gold(item_ids: Any, n: int, random_state: int) -> np.ndarray:
    """Positions in ``item_ids`` of the at most ``n`` items ``[data].fit_gold = n`` draws: those whose ids hash lowest.

    The draw of :func:`fit_gold_rows`, on the ids of the rows that hold gold
    outside the dev split (in any order: the draw depends on the ids only),
    so the Dask engine, which lists those rows on its workers, draws the
    same items.

    Examples
    --------
    >>> a = draw_fit_gold(["x", "y", "z", "w"], 2, random_state=0)
    >>> b = draw_fit_gold(["w", "z", "y", "x"], 2, random_state=0)
    >>> sorted(["x", "y", "z", "w"][i] for i in a) == sorted(["w", "z", "y", "x"][i] for i in b)
    True
    """
    ids = pd.Series([str(v) for v in np.asarray(item_ids).tolist()])
    salt = f"fitgold{int(random_state) % 10**9:09d}"  # hash_pandas_object takes a 16-character key
    ranks = pd.util.hash_pandas_object(ids, index=False, hash_key=salt).to_numpy(dtype=np.uint64)
    return np.sort(np.argsort(ranks, kind="stable")[: int(n)])


#: The default file name of the LF module ``weaklab generate`` writes (``[lfs].generated``).
GENERATED_LFS = "lfs_generated.py"


def generated_lfs_path(config: ProjectConfig) -> Path:
    """The generated-LF module of a project: ``[lfs].generated`` (default ``lfs_generated.py``) in its folder."""
    return config.root / config.get("lfs", "generated", GENERATED_LFS)


def load_lfs(config: ProjectConfig) -> list[LabelingFunction]:
    """The project's labeling functions (``[lfs].attribute`` of ``[lfs].module``), then the generated ones.

    The module is run inside :func:`~weaklab.labeling.source_defaults` with
    ``[data].text_field``, ``[data].image_column`` and the data table's folder,
    so text templates and image sources built there without ``field=`` read
    the project's columns (and image sources without ``root=`` its folder). When the generated-LF module
    (:func:`generated_lfs_path`, written by ``weaklab generate``) exists, its
    ``lfs`` follow. A project of crowd answers without ``[lfs]`` has only
    those (``[]`` before ``weaklab generate`` runs).

    Raises
    ------
    ValidationError
        The module cannot be found or fails to import (the message names the
        module and the original exception), the attribute is missing, or it
        is not a non-empty list of LabelingFunction (or a function returning one);
        a generated LF has the name of another LF.
    """
    module = config.get("lfs", "module")  # None in a project of crowd answers without [lfs]
    lfs = [] if module is None else _module_lfs(config, module, config.get("lfs", "attribute", "lfs"))
    generated = generated_lfs_path(config)
    if generated.is_file() and (module is None or generated != config.root / module):
        extra = _module_lfs(config, config.get("lfs", "generated", GENERATED_LFS), "lfs")
        taken = {lf.name for lf in lfs}
        clash = [lf.name for lf in extra if lf.name in taken]
        if clash:
            raise ValidationError(f"{generated.name}: expected LF names not used in {config.get('lfs', 'module')}, "
                                  f"got {clash[0]!r} in both")
        lfs += extra
    return lfs


def _module_lfs(config: ProjectConfig, spec: str, attribute: str) -> list[LabelingFunction]:
    with project_source_defaults(config):
        value = _module_attribute(config, spec, attribute, LabelingFunction)
    return _checked_lfs(spec, attribute, value)


def project_source_defaults(config: ProjectConfig) -> AbstractContextManager[None]:
    """:func:`~weaklab.labeling.source_defaults` with the project's text column, picture column and data folder."""
    return source_defaults(config.get("data", "text_field"), config.get("data", "image_column"),
                           config.data_path.parent)


def _module_attribute(config: ProjectConfig, spec: str, attribute: str, lf_type: type) -> Any:
    """``attribute`` of the LF module ``spec``: a value, or what the function of that name returns.

    An attribute that is an ``lf_type`` itself is returned as is (LFs are callables too).
    """
    module = _import(config, spec)
    if not hasattr(module, attribute):
        raise ValidationError(f"{config.file}: lfs.attribute: expected a name defined in {spec}, "
                              f"got {attribute!r} (not found)")
    value = getattr(module, attribute)
    if callable(value) and not isinstance(value, lf_type):
        try:
            value = value()
        except Exception as exc:  # the user's code: report any failure with its type
            raise ValidationError(f"{spec}: {attribute}() raised {type(exc).__name__}: {exc}") from exc
    return value


def check_lf_columns(config: ProjectConfig, lfs: list[LabelingFunction], frame: pd.DataFrame) -> None:
    """Check that every column the LFs read is in the data, naming the project's text column when one is not.

    Raises
    ------
    ValidationError
        An LF (without preprocessors, which may add columns) reads a column the data lacks.
    """
    for lf in lfs:
        missing = [f for f in (lf.fields or ()) if f not in frame.columns and not lf.pre]
        if not missing:
            continue
        text_field = config.get("data", "text_field")
        hint = (f"; this project's text column is {text_field!r} ([data].text_field): text templates built in "
                f"{config.get('lfs', 'module')} without field= read it, or pass field={text_field!r}; "
                "functions you wrote must read it themselves" if text_field else "")
        raise ValidationError(f"{config.get('lfs', 'module')}: labeling function {lf.name!r}: expected a column "
                              f"{missing[0]!r} in {config.data_path.name}, got columns "
                              f"{', '.join(map(repr, map(str, frame.columns)))}{hint}")


def load_span_lfs(config: ProjectConfig) -> list[Any]:
    """A tagging project's span labeling functions (``[lfs].attribute`` of ``[lfs].module``).

    Raises
    ------
    ValidationError
        The module cannot be imported, the attribute is missing, or it is not
        a non-empty list of :class:`~weaklab.sequence.SpanLF` with unique names
        (or a function returning one).
    """
    from ..sequence import SpanLF

    spec, attribute = config.get("lfs", "module"), config.get("lfs", "attribute", "lfs")
    value = _module_attribute(config, spec, attribute, SpanLF)
    value = [value] if isinstance(value, SpanLF) else value
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, SpanLF) for v in value):
        bad = value if not isinstance(value, (list, tuple)) else next((v for v in value if not isinstance(v, SpanLF)),
                                                                       "an empty list")
        raise ValidationError(f"{spec}: {attribute}: expected a non-empty list of span labeling functions "
                              f"(gazetteer_lf, regex_span_lf, shape_lf, model_span_lf), got {type(bad).__name__} "
                              f"{bad!r}"[:300])
    names = [lf.name for lf in value]
    if len(set(names)) != len(names):
        raise ValidationError(f"{spec}: {attribute}: expected span LFs with unique names, got {names}")
    return list(value)


def load_multilabel_lfs(config: ProjectConfig) -> tuple[list[LabelingFunction], list[str | None]]:
    """A multi-label project's labeling functions and the label each one targets (None: it names the label).

    ``[lfs].attribute`` of ``[lfs].module`` is a list (or a function
    returning one) whose entries are either

    * a labeling function that returns a label (its name or its position in
      ``[labels].classes``) to vote that the label is *present*, or
      ``ABSTAIN``: ``keyword_lf(["goal", "match"], "sport")``; or
    * a pair ``(label, lf)``: ``lf`` votes on that one label and returns
      ``1`` (present), ``0`` (absent) or ``ABSTAIN``:
      ``("politics", keyword_lf(["recipe"], 0))`` says "not politics".

    Raises
    ------
    ValidationError
        The module cannot be imported, the attribute is missing, an entry is
        neither, a pair names a label not in ``[labels].classes``, or two
        LFs share a name.
    """
    spec, attribute = config.get("lfs", "module"), config.get("lfs", "attribute", "lfs")
    with project_source_defaults(config):
        value = _module_attribute(config, spec, attribute, LabelingFunction)
    value = [value] if isinstance(value, LabelingFunction) else value
    if not isinstance(value, (list, tuple)) or not value:
        raise ValidationError(f"{spec}: {attribute}: expected a non-empty list of labeling functions and "
                              f"(label, labeling function) pairs, got {type(value).__name__}")
    labels = config.class_names or []
    renames = config.class_renames  # a pair may name a label by its old name
    lfs: list[LabelingFunction] = []
    targets: list[str | None] = []
    for entry in value:
        if isinstance(entry, LabelingFunction):
            lfs.append(entry)
            targets.append(None)
            continue
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], LabelingFunction)):
            raise ValidationError(f"{spec}: {attribute}: expected labeling functions and (label, labeling function) "
                                  f"pairs, got {type(entry).__name__} {entry!r}"[:300])
        target = renames.get(str(entry[0]), entry[0])
        if target not in labels:
            raise ValidationError(f"{spec}: {attribute}: expected pairs whose label is one of {labels} "
                                  f"([labels].classes, or an old name in [labels.rename]), got {entry[0]!r} for "
                                  f"{entry[1].name!r}")
        lfs.append(entry[1])
        targets.append(str(target))
    names = [lf.name for lf in lfs]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ValidationError(f"{spec}: {attribute}: expected labeling functions with unique names, got {twice!r} "
                              "twice")
    return lfs, targets


def _checked_lfs(spec: str, attribute: str, value: Any) -> list[LabelingFunction]:
    if isinstance(value, LabelingFunction):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ValidationError(f"{spec}: {attribute}: expected a non-empty list of labeling functions, "
                              f"got {type(value).__name__}")
    bad = [v for v in value if not isinstance(v, LabelingFunction)]
    if bad:
        hint = (" (decorate it with @labeling_function() from weaklab, or build it with a template such as "
                "keyword_lf)") if callable(bad[0]) else ""
        raise ValidationError(f"{spec}: {attribute}: expected labeling functions only, got "
                              f"{type(bad[0]).__name__} {getattr(bad[0], '__name__', None) or repr(bad[0])!r}"
                              f"{hint}")
    return list(value)


def _import(config: ProjectConfig, spec: str) -> ModuleType:
    path = config.root / spec
    if spec.endswith(".py") or path.is_file():
        if not path.is_file():
            raise ValidationError(f"{config.file}: lfs.module: expected a Python file, got {spec!r} (no such file)")
        return _import_file(path)
    try:
        if str(config.root) not in sys.path:
            sys.path.insert(0, str(config.root))
        return importlib.import_module(spec)
    except Exception as exc:  # the user's module: report any failure with its type
        raise ValidationError(f"LF module {spec!r} failed to import: {type(exc).__name__}: {exc}") from exc


def _import_file(path: Path) -> ModuleType:
    """Run a .py file as a fresh module (compiled from its current text: no stale bytecode cache)."""
    name = "weaklab_project_lfs_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    module = ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    linecache.checkcache(str(path))
    try:
        code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        exec(code, module.__dict__)  # running the user's LF module is the point
    except Exception as exc:  # the user's file: report any failure with its type and line
        sys.modules.pop(name, None)
        line = _error_line(exc, path)
        raise ValidationError(f"LF module {path} failed to import{line}: {type(exc).__name__}: {exc}") from exc
    return module


def _error_line(exc: BaseException, path: Path) -> str:
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f" (line {exc.lineno})"
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" (line {line})" if line else ""
