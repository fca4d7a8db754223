"""The data of distributed runs, recorded by reference: one ``partitioned_datasets`` row per dataset.

A run on the Dask engine never copies its items into the store (the
``items`` table holds none of them). Instead it records where the data file
is (a path or fsspec URL), its format, which columns hold the ids, texts and
pictures, how many rows it has, its content fingerprint and how it was split
into partitions, and the votes folder whose ``item_id`` columns index the
items in data order. With that record, item ids of the dataset are looked up
by reading only the partitions that may hold them
(:class:`~weaklab._core.item_locator.ItemLocator`), so human answers, claims,
corrections and label issues on such items are recorded with their row like
those of any dataset, and are never orphaned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._core.validation import check_int, fail
from ._base import check_id, check_text, dumps, loads
from ._db import utcnow
from ._rows import StoreBase

__all__ = ["PartitionedDataMixin", "DATA_FORMATS"]

#: Formats of a partitioned dataset's data file.
DATA_FORMATS = ("parquet", "csv", "tsv")

_COLUMNS = ("location", "format", "id_column", "id_dtype", "text_column", "image_column", "n_rows", "fingerprint",
            "id_index", "layout", "created_at")


class PartitionedDataMixin(StoreBase):
    """Record and read the partitioned datasets of distributed runs (see the module docstring)."""

    def add_partitioned_dataset(self, dataset_id: int, location: str, *, data_format: str, id_index: str,
                                n_rows: int, fingerprint: str, id_column: str | None = None,
                                id_dtype: str = "<i8", text_column: str | None = None,
                                image_column: str | None = None, layout: Mapping[str, Any] | None = None) -> bool:
        """Record where a dataset's items are, by reference (nothing is copied); once per dataset.

        Parameters
        ----------
        dataset_id : int
            A dataset added with ``n_items=0`` (its items stay in the file).
        location : str
            The data file: a path or an fsspec URL.
        data_format : {"parquet", "csv", "tsv"}
        id_index : str
            Root of partitioned votes over this data (``PartitionedLabelMatrix.root``): their
            ``item_id`` columns, in data order, locate an item's partition and row.
        n_rows : int
            Rows of the data file.
        fingerprint : str
            Content fingerprint of the data file.
        id_column : str, optional
            The column of item ids (None: ids are the rows ``0 .. n_rows-1``).
        id_dtype : str, default="<i8"
            Numpy dtype of the ids (``"|O"`` for text ids); ids read back from
            the store get this type.
        text_column, image_column : str, optional
            The columns a person reads or looks at.
        layout : mapping, optional
            How the file was split: ``partition_rows`` (a list), and for CSV
            ``blocksize`` (bytes per partition) and ``sep``.

        Returns
        -------
        bool
            Whether a record was added (False: the dataset already has one).

        Examples
        --------
        >>> store.add_partitioned_dataset(ds, "/data/comments.parquet", data_format="parquet",  # doctest: +SKIP
        ...     id_index=plm.root, n_rows=plm.n_items, fingerprint=fp, id_column="comment_id",
        ...     id_dtype="|O", text_column="text", layout={"partition_rows": list(plm.partition_rows)})
        True
        """
        dataset_id = check_id("dataset_id", dataset_id)
        self._dataset_row(dataset_id)
        if data_format not in DATA_FORMATS:
            raise fail("data_format", f"one of {list(DATA_FORMATS)}", data_format)
        np.dtype(check_text("id_dtype", id_dtype))
        values = [check_text("location", location), data_format, check_text("id_column", id_column, optional=True),
                  id_dtype, check_text("text_column", text_column, optional=True),
                  check_text("image_column", image_column, optional=True), check_int("n_rows", n_rows, low=0),
                  check_text("fingerprint", fingerprint), check_text("id_index", id_index),
                  dumps("layout", dict(layout or {})), utcnow()]
        with self._transaction() as con:
            if con.execute("SELECT 1 FROM partitioned_datasets WHERE dataset_id = ?", [dataset_id]).fetchall():
                return False
            con.execute(f"INSERT INTO partitioned_datasets (dataset_id, {', '.join(_COLUMNS)}) VALUES "
                        f"({', '.join('?' * (len(_COLUMNS) + 1))})", [dataset_id, *values])
        self._cache.pop(("item_locator", dataset_id), None)
        return True

    def partitioned_dataset(self, dataset_id: int) -> dict[str, Any] | None:
        """The dataset's record of :meth:`add_partitioned_dataset` (None for a dataset whose items the store holds).

        Examples
        --------
        >>> store.partitioned_dataset(ds)["text_column"]                  # doctest: +SKIP
        'text'
        """
        names, rows = self._query_with_names(f"SELECT {', '.join(_COLUMNS)} FROM partitioned_datasets "
                                             "WHERE dataset_id = ?", [check_id("dataset_id", dataset_id)])
        if not rows:
            return None
        record = dict(zip(names, rows[0]))
        record["layout"] = loads(record["layout"])
        return record

    def remember_item_rows(self, dataset_id: int, item_ids: Any, rows: Any) -> None:
        """Note the rows of items of a partitioned dataset already read with their partition.

        Looking them up later (an answer, a claim, a label issue) then reads
        no partition. Nothing is written; a dataset whose items the store
        holds ignores it.

        Examples
        --------
        >>> store.remember_item_rows(ds, ["c042"], [1_000_042])           # doctest: +SKIP
        """
        locator = self._item_locator(check_id("dataset_id", dataset_id))
        if locator is not None:
            locator.remember(list(np.asarray(item_ids).tolist()), [int(r) for r in np.asarray(rows).tolist()])

    def locate_items(self, dataset_id: int, item_ids: Any) -> np.ndarray | None:
        """Global rows of items of a partitioned dataset (-1 for ids it does not hold); None for another dataset.

        Reads the footers of the dataset's id index once, then the id columns
        of only the partitions that may hold the ids (rows found are kept).

        Examples
        --------
        >>> store.locate_items(ds, ["c042", "nope"]).tolist()             # doctest: +SKIP
        [42, -1]
        """
        locator = self._item_locator(check_id("dataset_id", dataset_id))
        return None if locator is None else locator.rows_of(list(np.asarray(item_ids, dtype=object).tolist()))
