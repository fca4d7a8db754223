"""Loading a project's inputs: its data table and its labeling functions."""

from __future__ import annotations

import hashlib
import importlib
import linecache
import sys
from contextlib import nullcontext
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from .._core import fingerprint
from ..data import image_content_hash, read_table
from ..errors import ValidationError
from ..labeling import LabelingFunction, default_text_field
from .config import ProjectConfig

__all__ = ["GENERATED_LFS", "generated_lfs_path", "load_data", "load_lfs", "load_span_lfs",
           "check_lf_columns", "data_fingerprint", "gold_labels", "dev_mask", "item_hashes",
           "item_ids_of"]


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
    ``[labels.rename]`` maps to one) or class ids; empty cells and -1 mean
    unknown.
    """
    column = config.get("data", "gold_column")
    gold = np.full(len(frame), -1, dtype=np.int64)
    if column is None:
        return gold
    names = config.class_names or []
    renames = config.class_renames
    for row, value in enumerate(frame[column].tolist()):
        label = _gold_value(renames.get(value, value) if isinstance(value, str) else value, names, n_classes)
        if label is None:
            expected = f"class ids 0..{n_classes - 1}" if n_classes else "class ids >= 0"
            shown = f" or names {names}" if names else ""
            hint = (f"; a class renamed since is mapped by [labels.rename] ({value} = \"NEW NAME\")"
                    if names and isinstance(value, str) and not _is_number(value) else "")
            raise ValidationError(f"{config.data_path}: column {column!r}: expected {expected}{shown} "
                                  f"(empty or -1 = unknown), got {value!r} on row {row}{hint}")
        gold[row] = label
    return gold


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _gold_value(value: Any, names: list[str], n_classes: int | None) -> int | None:
    """The class id of one gold cell, -1 for unknown, None when invalid."""
    if value is None or value is pd.NA or value == "" or (isinstance(value, float) and np.isnan(value)):
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


#: The default file name of the LF module ``weaklab generate`` writes (``[lfs].generated``).
GENERATED_LFS = "lfs_generated.py"


def generated_lfs_path(config: ProjectConfig) -> Path:
    """The generated-LF module of a project: ``[lfs].generated`` (default ``lfs_generated.py``) in its folder."""
    return config.root / config.get("lfs", "generated", GENERATED_LFS)


def load_lfs(config: ProjectConfig) -> list[LabelingFunction]:
    """The project's labeling functions (``[lfs].attribute`` of ``[lfs].module``), then the generated ones.

    The module is run inside :func:`~weaklab.labeling.default_text_field` with
    ``[data].text_field``, so text templates built there without ``field=``
    read the project's text column. When the generated-LF module
    (:func:`generated_lfs_path`, written by ``weaklab generate``) exists, its
    ``lfs`` follow.

    Raises
    ------
    ValidationError
        The module cannot be found or fails to import (the message names the
        module and the original exception), the attribute is missing, or it
        is not a non-empty list of LabelingFunction (or a function returning one);
        a generated LF has the name of another LF.
    """
    lfs = _module_lfs(config, config.get("lfs", "module"), config.get("lfs", "attribute", "lfs"))
    generated = generated_lfs_path(config)
    if generated.is_file() and generated != (config.root / config.get("lfs", "module")):
        extra = _module_lfs(config, config.get("lfs", "generated", GENERATED_LFS), "lfs")
        taken = {lf.name for lf in lfs}
        clash = [lf.name for lf in extra if lf.name in taken]
        if clash:
            raise ValidationError(f"{generated.name}: expected LF names not used in {config.get('lfs', 'module')}, "
                                  f"got {clash[0]!r} in both")
        lfs += extra
    return lfs


def _module_lfs(config: ProjectConfig, spec: str, attribute: str) -> list[LabelingFunction]:
    text_field = config.get("data", "text_field")
    with default_text_field(text_field) if text_field else nullcontext():
        value = _module_attribute(config, spec, attribute, LabelingFunction)
    return _checked_lfs(spec, attribute, value)


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
