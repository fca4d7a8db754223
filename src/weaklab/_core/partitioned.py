"""Votes and soft labels that stay partitioned in a Parquet dataset (the Dask engine's containers).

A :class:`PartitionedLabelMatrix` names a folder (local path or fsspec URL)
whose Parquet files hold the votes of one partition each; the client keeps
only the names, sizes and paths, never the votes. A
:class:`PartitionedSoftLabels` names the soft labels a label model wrote
beside them, partition by partition. Layout::

    ROOT/_weaklab.json              metadata, written last (a dataset without it is incomplete)
    ROOT/votes/part-00000.parquet   "item_id", then one int8/int16 column per source (-1 = abstain),
                                    or, in the long layout, one (item_id, row, source, label) row per vote
    SOFT/_weaklab.json
    SOFT/part-00000.parquet         "item_id", "proba_0" ... "proba_{k-1}" (float64)

Partition ``i`` of soft labels holds the rows of votes partition ``i`` in
the same order. Each votes partition has its own layout (``dense`` or
``long``, see :mod:`weaklab._core.votes_layout`), listed in the metadata;
a dataset with a long partition is ``format`` 2, one without is ``format`` 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .dataset_io import read_frame, read_json, write_json
from .hashing import fingerprint
from .label_matrix import LabelMatrix, vote_dtype
from .soft_labels import SoftLabels
from .validation import check_int, fail
from .votes_layout import ITEM_ID, LAYOUTS, CooVotes, choose_layout, frame_item_ids, frame_votes, layout_frame

if TYPE_CHECKING:
    from .partition_stats import PartitionStatistics

__all__ = ["PartitionedLabelMatrix", "PartitionedSoftLabels", "ITEM_ID", "METADATA", "FORMAT", "LONG_FORMAT",
           "votes_file", "soft_file", "proba_columns", "votes_frame", "partition_fingerprint", "load_votes_file"]

METADATA = "_weaklab.json"
"""Name of the metadata file at the root of a partitioned dataset."""
FORMAT = 1
"""Version of the layout (soft labels, and votes whose partitions are all dense)."""
LONG_FORMAT = 2
"""Version of a votes dataset with at least one long partition (format 1 readers cannot read it)."""


def votes_file(i: int) -> str:
    """Relative path of votes partition ``i`` (``votes/part-00000.parquet``)."""
    return f"votes/part-{i:05d}.parquet"


def soft_file(i: int) -> str:
    """Relative path of soft-label partition ``i`` (``part-00000.parquet``)."""
    return f"part-{i:05d}.parquet"


def proba_columns(k: int) -> list[str]:
    """Column names of the ``k`` class probabilities: ``proba_0``, ...."""
    return [f"proba_{c}" for c in range(k)]


def _check_partitions(partitions: Sequence[str], rows: Sequence[int]) -> None:
    if len(partitions) != len(rows):
        raise fail("partition_rows", f"one row count per partition ({len(partitions)})",
                   got_text=f"{len(rows)} counts")
    if not partitions:
        raise fail("partitions", "at least one partition", got_text="none")
    for n in rows:
        check_int("partition_rows", n, low=0)


def _check_metadata(meta: Any, kind: str, root: str) -> dict[str, Any]:
    if not isinstance(meta, dict) or meta.get("kind") != kind:
        raise fail("root", f"a partitioned {kind} dataset", got_text=f"{root!r} (metadata of another kind)")
    formats = (FORMAT, LONG_FORMAT) if kind == "votes" else (FORMAT,)
    if meta.get("format") not in formats:
        raise fail("root", f"a dataset in format {' or '.join(map(str, formats))}",
                   got_text=f"format {meta.get('format')!r}")
    return meta


@dataclass(frozen=True)
class PartitionedLabelMatrix:
    """Votes of ``m`` sources on ``n`` items, one Parquet file per partition.

    Built by ``apply_lfs(lfs, dask_df, engine="dask", output=PATH)``; label
    models fit on it from reduced statistics and predict into a
    :class:`PartitionedSoftLabels`. The client never holds the votes.

    Parameters
    ----------
    root : str
        Folder (local path or fsspec URL) of the dataset.
    source_names : tuple of str
        Names of the sources, in column order.
    n_classes : int
        Number of classes ``k``.
    partitions : tuple of str
        Paths of the partition files, relative to ``root``.
    partition_rows : tuple of int
        Number of items in each partition.
    source_versions : tuple of str, optional
        Version (fingerprint) of each source.
    class_names : tuple of str, optional
    partition_fingerprints : tuple of str, optional
        Content fingerprint of each partition's ids and votes (see
        :func:`partition_fingerprint`), computed by the task that wrote it.
    partition_layouts : tuple of str, optional
        ``"dense"`` or ``"long"`` per partition (None: all dense).
    storage_options : mapping, optional
        fsspec options for ``root`` (never written to disk).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> root = tempfile.mkdtemp()
    >>> plm = PartitionedLabelMatrix.write(root, [LabelMatrix(np.array([[0, 1], [1, -1]])),
    ...                                            LabelMatrix(np.array([[1, 1]]))])
    >>> plm.n_items, plm.n_partitions, plm.read_partition(1).to_dense().tolist()
    (3, 2, [[1, 1]])
    >>> PartitionedLabelMatrix.open(root) == plm
    True
    """

    root: str
    source_names: tuple[str, ...]
    n_classes: int
    partitions: tuple[str, ...]
    partition_rows: tuple[int, ...]
    source_versions: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None
    partition_fingerprints: tuple[str, ...] | None = field(default=None, repr=False)
    partition_layouts: tuple[str, ...] | None = field(default=None, repr=False)
    storage_options: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_partitions(self.partitions, self.partition_rows)
        check_int("n_classes", self.n_classes, low=2)
        if self.partition_fingerprints is not None and len(self.partition_fingerprints) != len(self.partitions):
            raise fail("partition_fingerprints", f"one fingerprint per partition ({len(self.partitions)})",
                       got_text=f"{len(self.partition_fingerprints)}")
        if self.partition_layouts is not None and (len(self.partition_layouts) != len(self.partitions) or
                                                   not set(self.partition_layouts) <= set(LAYOUTS)):
            raise fail("partition_layouts", f"one of {list(LAYOUTS)} per partition ({len(self.partitions)})",
                       list(self.partition_layouts))
        if ITEM_ID in self.source_names:
            raise fail("source_names", f"names other than {ITEM_ID!r} (the id column)", list(self.source_names))
        if len(set(self.source_names)) != len(self.source_names):
            raise fail("source_names", "unique names", list(self.source_names))

    @property
    def n_items(self) -> int:
        """Number of items over all partitions."""
        return int(sum(self.partition_rows))

    @property
    def n_sources(self) -> int:
        """Number of sources ``m``."""
        return len(self.source_names)

    @property
    def n_partitions(self) -> int:
        """Number of partitions."""
        return len(self.partitions)

    @property
    def partition_offsets(self) -> np.ndarray:
        """Global row of the first item of each partition, shape ``(n_partitions,)``."""
        return np.concatenate([[0], np.cumsum(self.partition_rows[:-1])]).astype(np.int64)

    @property
    def fingerprint(self) -> str:
        """Content fingerprint: sources, versions, classes and every partition's fingerprint.

        It does not depend on where the dataset is stored; without partition
        fingerprints it falls back to the root and file names.
        """
        where = (self.root, self.partitions) if self.partition_fingerprints is None else None
        return fingerprint("PartitionedLabelMatrix", self.source_names, self.source_versions, self.n_classes,
                           self.class_names, self.partition_rows, self.partition_fingerprints, where)

    def layout(self, i: int) -> str:
        """Layout of partition ``i``: ``"dense"`` or ``"long"``."""
        i = check_int("i", i, low=0, high=self.n_partitions - 1)
        return "dense" if self.partition_layouts is None else self.partition_layouts[i]

    def read_votes(self, i: int, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The raw columns of partition ``i`` (or ``columns``) in its layout (see :meth:`layout`).

        Dense: ``item_id`` and one vote column per source; long: ``item_id``,
        ``row``, ``source``, ``label``. :meth:`read_partition` reads either.
        """
        i = check_int("i", i, low=0, high=self.n_partitions - 1)
        return read_frame(self.root, self.partitions[i], self.storage_options, columns)

    def read_item_ids(self, i: int) -> np.ndarray:
        """The item ids of partition ``i``, in order (only the id columns are read)."""
        layout = self.layout(i)
        return frame_item_ids(self.read_votes(i, [ITEM_ID] if layout == "dense" else [ITEM_ID, "row"]), layout)

    def locate(self, item_id: Any) -> tuple[int, int]:
        """``(partition, row)`` of an item, reading only the id column of one partition after another.

        Raises :class:`~weaklab.errors.ValidationError` when no partition holds it.
        """
        for i in range(self.n_partitions):
            rows = np.flatnonzero(self.read_item_ids(i) == item_id)
            if rows.size:
                return i, int(rows[0])
        raise fail("item_id", "the id of an item of the dataset", item_id)

    def read_partition(self, i: int) -> LabelMatrix:
        """Partition ``i`` as a :class:`LabelMatrix` (votes, item ids and the dataset's metadata).

        A dense partition gives dense storage, a long one sparse storage.
        """
        frame = self.read_votes(i)
        if self.layout(i) == "dense":
            votes = frame[list(self.source_names)].to_numpy().astype(vote_dtype(self.n_classes), copy=False)
            return LabelMatrix(votes, n_classes=self.n_classes, source_names=self.source_names,
                               class_names=self.class_names, item_ids=frame[ITEM_ID].to_numpy(),
                               source_versions=self.source_versions)
        ids, coo = frame_votes(frame, self.source_names, "long")
        return LabelMatrix.from_coo(coo.rows, coo.cols, coo.labels, n_items=coo.n, n_sources=self.n_sources,
                                    n_classes=self.n_classes, source_names=self.source_names,
                                    class_names=self.class_names, item_ids=ids,
                                    source_versions=self.source_versions)

    def statistics(self, *, max_patterns: int = 100_000, split_every: int = 8) -> PartitionStatistics:
        """Coverage, overlaps, conflicts and vote-pattern counts, tree-reduced over partitions (Dask).

        See :func:`weaklab._core.partition_stats.reduce_statistics`.
        """
        from .partition_stats import reduce_statistics

        return reduce_statistics(self, max_patterns=max_patterns, split_every=split_every)

    def to_metadata(self) -> dict[str, Any]:
        """What ``_weaklab.json`` holds (JSON-able)."""
        long = self.partition_layouts is not None and "long" in self.partition_layouts
        return {
            "kind": "votes", "format": LONG_FORMAT if long else FORMAT, "source_names": list(self.source_names),
            "source_versions": None if self.source_versions is None else list(self.source_versions),
            "n_classes": self.n_classes,
            "class_names": None if self.class_names is None else list(self.class_names),
            "partitions": list(self.partitions), "partition_rows": list(self.partition_rows),
            "partition_fingerprints": None if self.partition_fingerprints is None
            else list(self.partition_fingerprints),
            "partition_layouts": None if self.partition_layouts is None else list(self.partition_layouts),
        }

    def save_metadata(self) -> None:
        """Write ``_weaklab.json`` (the last step of writing a dataset)."""
        write_json(self.to_metadata(), self.root, METADATA, self.storage_options)

    @classmethod
    def open(cls, root: str, *, storage_options: Mapping[str, Any] | None = None) -> PartitionedLabelMatrix:
        """The dataset at ``root`` (read from its ``_weaklab.json``)."""
        root = str(root)
        meta = _check_metadata(read_json(root, METADATA, storage_options), "votes", root)
        versions, names = meta.get("source_versions"), meta.get("class_names")
        prints, layouts = meta.get("partition_fingerprints"), meta.get("partition_layouts")
        return cls(root, tuple(meta["source_names"]), int(meta["n_classes"]), tuple(meta["partitions"]),
                   tuple(int(n) for n in meta["partition_rows"]),
                   None if versions is None else tuple(versions), None if names is None else tuple(names),
                   None if prints is None else tuple(prints), None if layouts is None else tuple(layouts),
                   storage_options)

    @classmethod
    def write(cls, root: str, parts: Sequence[LabelMatrix], *, layout: str = "auto",
              storage_options: Mapping[str, Any] | None = None) -> PartitionedLabelMatrix:
        """Write label matrices (one per partition, same sources) as a dataset at ``root``.

        Meant for tests and small data: the matrices are in the caller's
        memory. Items without ids get their global row number. ``layout``:
        ``"dense"``, ``"long"`` or ``"auto"`` (per partition, see
        :func:`~weaklab._core.votes_layout.choose_layout`).
        """
        from .dataset_io import write_frame

        if not parts:
            raise fail("parts", "at least one LabelMatrix", got_text="none")
        first, offset, files, prints, layouts = parts[0], 0, [], [], []
        for i, part in enumerate(parts):
            if part.source_names != first.source_names or part.n_classes != first.n_classes:
                raise fail("parts", "matrices with the same sources and classes",
                           got_text=f"partition {i} differs")
            ids = part.item_ids if part.item_ids is not None else np.arange(offset, offset + part.n_items)
            coo = CooVotes(part.n_items, part.n_sources, *part.coo())
            layouts.append(choose_layout(layout, part.n_items, part.n_sources, part.nnz))
            write_frame(layout_frame(ids, coo, first.source_names, layouts[-1]), str(root), votes_file(i),
                        storage_options)
            files.append(votes_file(i))
            prints.append(partition_fingerprint(ids, coo))
            offset += part.n_items
        plm = cls(str(root), first.source_names, first.n_classes, tuple(files),
                  tuple(p.n_items for p in parts),
                  None if first.source_versions is None else tuple(str(v) for v in first.source_versions),
                  first.class_names, tuple(prints), None if set(layouts) == {"dense"} else tuple(layouts),
                  storage_options)
        plm.save_metadata()
        return plm


def partition_fingerprint(ids: Any, votes: np.ndarray | CooVotes) -> str:
    """Content fingerprint of one partition: its item ids and its votes (whatever their width or layout).

    ``votes`` is the dense ``(n, m)`` array or its :class:`CooVotes`
    (row-major); both give the same fingerprint.

    Examples
    --------
    >>> import numpy as np
    >>> votes = np.array([[0, -1]], dtype=np.int8)
    >>> partition_fingerprint([7], votes) == partition_fingerprint([7], votes.astype(np.int16))
    True
    >>> partition_fingerprint([7], votes) == partition_fingerprint([7], CooVotes.from_dense(votes))
    True
    """
    coo = votes if isinstance(votes, CooVotes) else CooVotes.from_dense(votes)
    return fingerprint("votes-partition", np.asarray(ids), coo.n, coo.m, np.asarray(coo.rows, dtype=np.int64),
                       np.asarray(coo.cols, dtype=np.int64), np.asarray(coo.labels, dtype=np.int16))


def load_votes_file(root: str, relative: str, source_names: Sequence[str], layout: str = "dense",
                    storage_options: Mapping[str, Any] | None = None) -> tuple[np.ndarray, CooVotes]:
    """The item ids and the votes of one votes partition file in ``layout``."""
    return frame_votes(read_frame(root, relative, storage_options), source_names, layout)


def votes_frame(votes: np.ndarray, ids: Any, source_names: Sequence[str]) -> pd.DataFrame:
    """The columns of one dense votes partition file."""
    return layout_frame(ids, votes, source_names, "dense")


@dataclass(frozen=True)
class PartitionedSoftLabels:
    """Soft labels written partition by partition beside partitioned votes.

    Built by ``model.predict_proba(partitioned_label_matrix, output=PATH)``.

    Parameters
    ----------
    root : str
        Folder (local path or fsspec URL) of the soft labels.
    n_classes : int
    partitions : tuple of str
        Paths of the partition files, relative to ``root``.
    partition_rows : tuple of int
    class_names : tuple of str, optional
    producer : str, optional
        Fingerprint of the model that produced them.
    votes_root : str, optional
        Root of the votes they were predicted from.
    storage_options : mapping, optional
        fsspec options for ``root`` (never written to disk).

    Examples
    --------
    >>> import tempfile
    >>> psl = PartitionedSoftLabels(tempfile.mkdtemp(), 2, ("part-00000.parquet",), (3,))
    >>> psl.n_items, psl.n_partitions
    (3, 1)
    """

    root: str
    n_classes: int
    partitions: tuple[str, ...]
    partition_rows: tuple[int, ...]
    class_names: tuple[str, ...] | None = None
    producer: str | None = None
    votes_root: str | None = None
    storage_options: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_partitions(self.partitions, self.partition_rows)
        check_int("n_classes", self.n_classes, low=2)

    @property
    def n_items(self) -> int:
        """Number of items over all partitions."""
        return int(sum(self.partition_rows))

    @property
    def n_partitions(self) -> int:
        """Number of partitions."""
        return len(self.partitions)

    def read_frame(self, i: int) -> pd.DataFrame:
        """The raw columns of partition ``i``: ``item_id``, ``proba_0`` ... ``proba_{k-1}``."""
        i = check_int("i", i, low=0, high=self.n_partitions - 1)
        return read_frame(self.root, self.partitions[i], self.storage_options)

    def read_partition(self, i: int) -> SoftLabels:
        """Partition ``i`` as :class:`SoftLabels`."""
        frame = self.read_frame(i)
        return SoftLabels(frame[proba_columns(self.n_classes)].to_numpy(), item_ids=frame[ITEM_ID].to_numpy(),
                          class_names=self.class_names, producer=self.producer)

    def to_metadata(self) -> dict[str, Any]:
        """What ``_weaklab.json`` holds (JSON-able)."""
        return {
            "kind": "soft_labels", "format": FORMAT, "n_classes": self.n_classes,
            "class_names": None if self.class_names is None else list(self.class_names),
            "producer": self.producer, "votes_root": self.votes_root,
            "partitions": list(self.partitions), "partition_rows": list(self.partition_rows),
        }

    @staticmethod
    def write_partition(root: str, i: int, proba: Any, item_ids: Any, *,
                        storage_options: Mapping[str, Any] | None = None) -> str:
        """Write partition ``i``'s probabilities in the layout (a worker's part of writing soft labels).

        Parameters
        ----------
        root : str
            Folder or fsspec URL of the soft labels.
        i : int
            The partition number.
        proba : array-like of shape (n, k)
        item_ids : array-like of shape (n,)
        storage_options : mapping, optional

        Returns
        -------
        str
            The file written, relative to ``root``: list them (with the
            rows of each) in a ``PartitionedSoftLabels`` and call
            :meth:`save_metadata` once every partition is written.

        Examples
        --------
        >>> import tempfile
        >>> root = tempfile.mkdtemp()
        >>> files = [PartitionedSoftLabels.write_partition(root, i, np.full((2, 2), 0.5), [2 * i, 2 * i + 1])
        ...          for i in range(2)]
        >>> soft = PartitionedSoftLabels(root, 2, tuple(files), (2, 2))
        >>> soft.save_metadata()
        >>> PartitionedSoftLabels.open(root).read_partition(1).item_ids.tolist()
        [2, 3]
        """
        from .dataset_io import write_frame

        i = check_int("i", i, low=0)
        p = np.asarray(proba, dtype=np.float64)
        ids = np.asarray(item_ids)
        if p.ndim != 2 or ids.shape != (p.shape[0],):
            raise fail("proba", "an (n, k) array with one item id per row", got_text=f"shape {p.shape} and "
                       f"{ids.shape[0] if ids.ndim else 0} item ids")
        write_frame(pd.DataFrame({ITEM_ID: ids, **dict(zip(proba_columns(p.shape[1]), p.T, strict=True))}),
                    str(root), soft_file(i), storage_options)
        return soft_file(i)

    def save_metadata(self) -> None:
        """Write ``_weaklab.json`` (the last step of writing soft labels)."""
        write_json(self.to_metadata(), self.root, METADATA, self.storage_options)

    @classmethod
    def open(cls, root: str, *, storage_options: Mapping[str, Any] | None = None) -> PartitionedSoftLabels:
        """The soft labels at ``root`` (read from its ``_weaklab.json``)."""
        root = str(root)
        meta = _check_metadata(read_json(root, METADATA, storage_options), "soft_labels", root)
        names = meta.get("class_names")
        return cls(root, int(meta["n_classes"]), tuple(meta["partitions"]),
                   tuple(int(n) for n in meta["partition_rows"]), None if names is None else tuple(names),
                   meta.get("producer"), meta.get("votes_root"), storage_options)
