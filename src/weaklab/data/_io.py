"""File helpers shared by the loaders: path checks, JSON and tables.

Every failure raises :class:`~weaklab.errors.ValidationError` naming the file
(and the field, where one is at fault), never a bare ``OSError``,
``json.JSONDecodeError`` or pandas ``KeyError``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._core.validation import describe, fail

__all__ = ["read_table", "PathLike"]

PathLike = str | os.PathLike[str]

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".txt")
_TSV_SUFFIXES = (".tsv", ".tsv.gz", ".tab")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def as_path(path: Any, name: str = "path") -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`, rejecting non-path values."""
    if not isinstance(path, (str, os.PathLike)) or (isinstance(path, str) and not path):
        raise fail(name, "a file or folder path (str or os.PathLike)", path)
    return Path(path)


def existing_file(path: Any, name: str = "path") -> Path:
    """Return ``path`` as a Path, checking that it is an existing file."""
    p = as_path(path, name)
    if not p.is_file():
        what = "a folder" if p.is_dir() else "no such file"
        raise fail(name, "an existing file", got_text=f"{str(p)!r} ({what})")
    return p


def existing_dir(path: Any, name: str = "path") -> Path:
    """Return ``path`` as a Path, checking that it is an existing folder."""
    p = as_path(path, name)
    if not p.is_dir():
        what = "a file" if p.is_file() else "no such folder"
        raise fail(name, "an existing folder", got_text=f"{str(p)!r} ({what})")
    return p


def file_in(folder_or_file: Any, default_name: str, name: str = "path") -> Path:
    """Resolve a file given either itself or the folder that holds ``default_name``."""
    p = as_path(folder_or_file, name)
    if p.is_dir():
        p = p / default_name
        if not p.is_file():
            raise fail(name, f"a folder holding {default_name!r}", got_text=f"no {str(p)!r}")
        return p
    return existing_file(p, name)


def read_json(path: Path) -> Any:
    """Parse a JSON file, naming the file and the position of a syntax error."""
    try:
        with path.open("r", encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        arrived = f"a syntax error at line {exc.lineno}: {exc.msg}"
        raise fail(str(path), "valid JSON", got_text=arrived) from None
    except UnicodeDecodeError as exc:
        raise fail(str(path), "UTF-8 text", got_text=f"undecodable bytes ({exc.reason})") from None


def table_format(path: Path) -> str:
    """The format (``"csv"``, ``"tsv"`` or ``"parquet"``) implied by a file's suffix, as :func:`read_table` reads it.

    Parameters
    ----------
    path : pathlib.Path
        The file (only its name is looked at).

    Returns
    -------
    str

    Raises
    ------
    ValidationError
        A suffix :func:`read_table` does not read.

    Examples
    --------
    >>> from pathlib import Path
    >>> table_format(Path("items.csv.gz")), table_format(Path("votes.tab")), table_format(Path("data.pq"))
    ('csv', 'tsv', 'parquet')
    """
    lower = path.name.lower()
    for fmt, suffixes in (("csv", _CSV_SUFFIXES), ("tsv", _TSV_SUFFIXES), ("parquet", _PARQUET_SUFFIXES)):
        if lower.endswith(suffixes):
            return fmt
    known = ", ".join(_CSV_SUFFIXES + _TSV_SUFFIXES + _PARQUET_SUFFIXES)
    raise fail("path", f"a table file ending in one of {known}", got_text=repr(path.name))


def read_table(path: PathLike, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV, TSV or Parquet file into a DataFrame, chosen by suffix.

    Parameters
    ----------
    path : str or os.PathLike
        The file. ``.csv`` (optionally compressed: ``.csv.gz``, ``.csv.bz2``,
        ``.csv.zip``, ``.csv.xz``) and ``.txt`` are read as CSV, ``.tsv`` and
        ``.tab`` as tab-separated, ``.parquet`` and ``.pq`` with pyarrow.
    **kwargs
        Passed on to :func:`pandas.read_csv` or :func:`pandas.read_parquet`
        (e.g. ``sep=";"``, ``columns=[...]``).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValidationError
        If the file does not exist, its suffix is not a known table format, or
        it cannot be parsed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from weaklab.data import read_table
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"id": [1, 2], "text": ["free money", "hi"]}).to_parquet(folder / "items.parquet")
    >>> _ = (folder / "items.tsv").write_text("id\\ttext\\n1\\tfree money\\n2\\thi\\n")
    >>> read_table(folder / "items.parquet").equals(read_table(folder / "items.tsv"))
    True
    """
    p = existing_file(path)
    fmt = table_format(p)
    try:
        if fmt == "parquet":
            return pd.read_parquet(p, engine="pyarrow", **kwargs)
        if fmt == "tsv":
            kwargs.setdefault("sep", "\t")
        return pd.read_csv(p, **kwargs)
    except pd.errors.EmptyDataError:
        raise fail(str(p), f"a readable {fmt.upper()} table", got_text="an empty file (no header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise fail(str(p), f"a readable {fmt.upper()} table", got_text=_first_line(exc)) from None
    except ValueError as exc:  # pyarrow raises ArrowInvalid (a ValueError) on corrupt Parquet
        raise fail(str(p), f"a readable {fmt.upper()} table", got_text=_first_line(exc)) from None


def require_columns(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    """Raise naming ``where`` when ``frame`` lacks any of ``columns``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise fail(where, f"columns {list(columns)}",
                   got_text=f"columns {list(map(str, frame.columns))} (missing {missing})")


def require_min_columns(frame: pd.DataFrame, count: int, where: str, meaning: str) -> None:
    """Raise naming ``where`` when ``frame`` has fewer than ``count`` columns."""
    if frame.shape[1] < count:
        raise fail(where, f"at least {count} columns ({meaning})",
                   got_text=f"columns {list(map(str, frame.columns))}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else describe(exc)
