"""Reading and writing the Parquet files of a partitioned dataset, locally or at any fsspec URL.

A dataset is a folder (a local path or a URL such as ``s3://bucket/run``)
holding Parquet files and one JSON metadata file. Every file is written to a
temporary name first and then renamed, so a reader never sees a half-written
file (a rename is atomic on local disks; object stores copy, which is still
all-or-nothing for the reader). ``fsspec`` comes with the ``dask`` extra and
is imported on first use.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..errors import missing_dependency
from .validation import fail

__all__ = ["filesystem", "join", "write_frame", "read_frame", "write_json", "read_json", "exists"]


def filesystem(root: Any, storage_options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """The fsspec filesystem of ``root`` and the path inside it.

    Parameters
    ----------
    root : str or os.PathLike
        A local path or an fsspec URL.
    storage_options : mapping, optional
        Passed to fsspec (credentials, endpoint, ...).

    Returns
    -------
    (fsspec.AbstractFileSystem, str)

    Examples
    --------
    >>> fs, path = filesystem("memory://weaklab-doc")
    >>> path
    '/weaklab-doc'
    """
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise missing_dependency("fsspec", "dask", "partitioned datasets") from None
    if not isinstance(root, str):
        try:
            root = str(root.__fspath__())
        except AttributeError:
            raise fail("output", "a path or an fsspec URL", root) from None
    return url_to_fs(root, **dict(storage_options or {}))


def join(root: str, relative: str) -> str:
    """``root`` and a relative file path joined with ``/`` (URLs and local paths alike).

    Examples
    --------
    >>> join("s3://bucket/run/", "votes/part-00000.parquet")
    's3://bucket/run/votes/part-00000.parquet'
    """
    return root.rstrip("/") + "/" + relative.lstrip("/")


def write_frame(frame: pd.DataFrame, root: str, relative: str,
                storage_options: Mapping[str, Any] | None = None) -> None:
    """Write ``frame`` (no index) as the Parquet file ``root/relative``, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    _atomic_write(root, relative, storage_options, lambda handle: pq.write_table(table, handle))


def read_frame(root: str, relative: str, storage_options: Mapping[str, Any] | None = None,
               columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read the Parquet file ``root/relative`` (optionally only ``columns``)."""
    import pyarrow.parquet as pq

    fs, base = filesystem(root, storage_options)
    with fs.open(join(base, relative), "rb") as handle:
        table = pq.read_table(handle, columns=None if columns is None else list(columns))
    return table.to_pandas()


def write_json(value: Any, root: str, relative: str, storage_options: Mapping[str, Any] | None = None) -> None:
    """Write ``value`` as JSON to ``root/relative``, atomically."""
    text = json.dumps(value, indent=1, sort_keys=True).encode("utf-8")
    _atomic_write(root, relative, storage_options, lambda handle: handle.write(text))


def read_json(root: str, relative: str, storage_options: Mapping[str, Any] | None = None) -> Any:
    """Read the JSON file ``root/relative``."""
    fs, base = filesystem(root, storage_options)
    with fs.open(join(base, relative), "rb") as handle:
        return json.loads(handle.read().decode("utf-8"))


def exists(root: str, relative: str, storage_options: Mapping[str, Any] | None = None) -> bool:
    """Whether the file ``root/relative`` exists."""
    fs, base = filesystem(root, storage_options)
    return bool(fs.exists(join(base, relative)))


def _atomic_write(root: str, relative: str, storage_options: Mapping[str, Any] | None, write: Any) -> None:
    fs, base = filesystem(root, storage_options)
    target = join(base, relative)
    parent = target.rsplit("/", 1)[0]
    if parent:
        fs.makedirs(parent, exist_ok=True)
    temporary = f"{target}.tmp-{uuid.uuid4().hex}"
    try:
        with fs.open(temporary, "wb") as handle:
            write(handle)
        fs.mv(temporary, target)
    finally:
        if fs.exists(temporary):
            fs.rm(temporary)
