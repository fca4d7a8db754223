"""The frozen label matrix: votes of all sources on all items."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._matrix_inputs import (
    check_vote_range,
    coo_arrays,
    long_frame,
    long_labels,
    make_index,
    resolve_duplicates,
    resolve_n_classes,
    row_indexer,
    validate_class_names,
    validate_dense,
    validate_item_ids,
    validate_source_names,
    validate_versions,
    vote_dtype,
)
from .constants import ABSTAIN, MAX_CLASSES
from .hashing import fingerprint as _fingerprint
from .patterns import VotePatterns, vote_patterns
from .validation import check_choice, check_int, fail, plain_scalar

__all__ = ["LabelMatrix", "vote_dtype", "validate_item_ids"]

_DUPLICATE_POLICIES = ("error", "first", "last", "split")


class LabelMatrix:
    """Votes of ``m`` sources on ``n`` items; ``-1`` (ABSTAIN) means no vote.

    A ``LabelMatrix`` is immutable and validated once, on construction. It is
    stored either dense (an ``int8``/``int16`` array) or sparse (only the
    non-abstain votes, for crowd data where most entries abstain); both forms
    behave the same through the public API.

    Parameters
    ----------
    votes : array-like of shape (n_items, n_sources)
        Integer votes in ``[-1, n_classes)``. A pandas DataFrame's columns
        become the source names when ``source_names`` is not given. Floats are
        accepted only when every value is integral.
    n_classes : int, optional
        Number of classes ``k >= 2``; inferred as ``max vote + 1`` (at least 2)
        when omitted, or from ``class_names``.
    source_names : sequence of str, optional
        Unique names, one per column; ``"s0", "s1", ...`` by default.
    class_names : sequence of str, optional
        Names of the classes, ``n_classes`` of them.
    item_ids : array-like of shape (n_items,), optional
        Unique, stable ids of the items (the dataset's own ids).
    source_versions : sequence of str, optional
        Version (fingerprint) of each source, one per column.
    copy : bool, default=False
        Copy ``votes`` even when it already has the storage dtype. Without a
        copy, the matrix shares memory with ``votes`` (read-only through the
        matrix); do not modify ``votes`` afterwards.

    Examples
    --------
    >>> L = LabelMatrix([[0, -1], [1, 1]], source_names=["kw", "re"])
    >>> L.shape, L.n_classes
    ((2, 2), 2)
    """

    __slots__ = (
        "__dict__",
        "_class_names",
        "_csr",
        "_dense",
        "_item_ids",
        "_n_classes",
        "_source_names",
        "_source_versions",
    )

    _dense: np.ndarray | None
    _csr: sp.csr_array | None
    _n_classes: int
    _source_names: tuple[str, ...]
    _class_names: tuple[str, ...] | None
    _item_ids: np.ndarray | None
    _source_versions: tuple[str | None, ...] | None

    def __init__(
        self,
        votes: Any,
        *,
        n_classes: int | None = None,
        source_names: Sequence[str] | None = None,
        class_names: Sequence[str] | None = None,
        item_ids: Any = None,
        source_versions: Sequence[str | None] | None = None,
        copy: bool = False,
    ) -> None:
        if isinstance(votes, pd.DataFrame) and source_names is None:
            source_names = [str(c) for c in votes.columns]
        if isinstance(votes, LabelMatrix):
            raise fail("votes", "an array of votes (use LabelMatrix.replace to change metadata)", votes)
        if sp.issparse(votes):
            raise fail("votes", "a dense array (use LabelMatrix.from_coo for sparse votes)", votes)
        dense, n_classes = validate_dense(votes, n_classes, class_names, copy=copy)
        self._init(dense, None, n_classes, source_names, class_names, item_ids, source_versions)

    # ------------------------------------------------------------------ build
    def _init(
        self,
        dense: np.ndarray | None,
        csr: sp.csr_array | None,
        n_classes: int,
        source_names: Sequence[str] | None,
        class_names: Sequence[str] | None,
        item_ids: Any,
        source_versions: Sequence[str | None] | None,
    ) -> None:
        shape = dense.shape if dense is not None else csr.shape  # type: ignore[union-attr]
        object.__setattr__(self, "_dense", dense)
        object.__setattr__(self, "_csr", csr)
        object.__setattr__(self, "_n_classes", n_classes)
        object.__setattr__(self, "_source_names", validate_source_names(source_names, shape[1]))
        object.__setattr__(self, "_class_names", validate_class_names(class_names, n_classes))
        object.__setattr__(self, "_item_ids", validate_item_ids(item_ids, shape[0]))
        object.__setattr__(self, "_source_versions", validate_versions(source_versions, shape[1]))

    @classmethod
    def _from_parts(
        cls,
        dense: np.ndarray | None,
        csr: sp.csr_array | None,
        n_classes: int,
        source_names: Sequence[str] | None,
        class_names: Sequence[str] | None,
        item_ids: Any,
        source_versions: Sequence[str | None] | None,
    ) -> LabelMatrix:
        obj = cls.__new__(cls)
        obj._init(dense, csr, n_classes, source_names, class_names, item_ids, source_versions)
        return obj

    @classmethod
    def from_dense(cls, votes: Any, **metadata: Any) -> LabelMatrix:
        """Build a dense matrix; same as ``LabelMatrix(votes, **metadata)``."""
        return cls(votes, **metadata)

    @classmethod
    def from_coo(
        cls,
        rows: Any,
        cols: Any,
        labels: Any,
        *,
        n_items: int,
        n_sources: int,
        n_classes: int | None = None,
        source_names: Sequence[str] | None = None,
        class_names: Sequence[str] | None = None,
        item_ids: Any = None,
        source_versions: Sequence[str | None] | None = None,
    ) -> LabelMatrix:
        """Build a sparse matrix from coordinates of the non-abstain votes.

        Parameters
        ----------
        rows, cols, labels : array-like of shape (nnz,)
            Item position, source position and class id of every vote.
            Entries with label ``-1`` are dropped. Each ``(row, col)`` pair
            may occur at most once.
        n_items, n_sources : int
            The shape of the matrix.
        """
        n_items = check_int("n_items", n_items, low=0)
        n_sources = check_int("n_sources", n_sources, low=1)
        rows, cols, labels = coo_arrays(rows, cols, labels, n_items, n_sources)
        n_classes = resolve_n_classes(labels, n_classes, class_names)
        check_vote_range("labels", labels, n_classes)
        keep = labels != ABSTAIN
        rows, cols, labels = rows[keep], cols[keep], labels[keep]
        data = (labels + 1).astype(vote_dtype(n_classes))
        csr = sp.csr_array((data, (rows, cols)), shape=(n_items, n_sources))
        if csr.nnz != data.shape[0]:
            raise fail("rows/cols", "at most one vote per (item, source) pair",
                        got_text=f"{data.shape[0] - csr.nnz} repeated pair(s)")
        csr.sort_indices()
        return cls._from_parts(None, csr, n_classes, source_names, class_names, item_ids, source_versions)

    @classmethod
    def from_long(
        cls,
        data: Any,
        *,
        item: str = "item",
        source: str = "source",
        label: str = "label",
        n_classes: int | None = None,
        class_names: Sequence[str] | None = None,
        item_ids: Any = None,
        source_names: Sequence[str] | None = None,
        sparse: bool | None = None,
        duplicates: str = "error",
    ) -> LabelMatrix:
        """Build a matrix from long-format rows ``(item, source, label)``.

        Parameters
        ----------
        data : pandas.DataFrame or mapping of column name to array
            One row per vote.
        item, source, label : str
            Column names of the item id, the source name and the label.
        n_classes : int, optional
            Number of classes; inferred when omitted.
        class_names : sequence of str, optional
            When given and the label column holds names, labels are mapped
            to their position in ``class_names``.
        item_ids : array-like, optional
            The items, in row order (items with no vote are allowed). By
            default the sorted distinct item ids of ``data``.
        source_names : sequence of str, optional
            The sources, in column order. By default the sorted distinct names.
        sparse : bool, optional
            Storage form; by default sparse when under a quarter of the cells
            hold a vote.
        duplicates : {"error", "first", "last", "split"}, default="error"
            What to do when a source voted on an item more than once:
            raise, keep the first or the last vote, or ``"split"`` the repeats
            into extra sources named ``"<source>#2"``, ``"<source>#3"``, ...

        Returns
        -------
        LabelMatrix
        """
        check_choice("duplicates", duplicates, _DUPLICATE_POLICIES)
        frame = long_frame(data, item, source, label)
        labels = long_labels(frame[label], class_names, label)
        keep = labels != ABSTAIN
        frame, labels = frame.loc[keep], labels[keep]
        src = frame[source].astype(str).to_numpy()
        item_index = make_index(frame[item], item_ids, "item_ids", item)
        rows = item_index.get_indexer(frame[item])
        if (rows < 0).any():
            missing = plain_scalar(frame[item].to_numpy()[rows < 0][0])
            raise fail("item_ids", f"every item of column {item!r}", got_text=f"no entry for item {missing!r}")
        rows, src, labels = resolve_duplicates(rows, src, labels, duplicates)
        source_index = make_index(pd.Series(src), source_names, "source_names", source)
        cols = source_index.get_indexer(pd.Index(src))
        if (cols < 0).any():
            raise fail("source_names", f"every source of column {source!r}",
                        got_text=f"no entry for source {src[cols < 0][0]!r}")
        matrix = cls.from_coo(
            rows, cols, labels, n_items=len(item_index), n_sources=len(source_index),
            n_classes=n_classes, source_names=[str(s) for s in source_index],
            class_names=class_names, item_ids=item_index.to_numpy(),
        )
        n_cells = max(1, matrix.n_items * matrix.n_sources)
        use_sparse = sparse if sparse is not None else matrix.nnz < 0.25 * n_cells
        return matrix if use_sparse else matrix.as_dense()

    # ------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple[int, int]:
        """``(n_items, n_sources)``."""
        arr = self._dense if self._dense is not None else self._csr
        return (int(arr.shape[0]), int(arr.shape[1]))  # type: ignore[union-attr]

    @property
    def n_items(self) -> int:
        """Number of items (rows)."""
        return self.shape[0]

    @property
    def n_sources(self) -> int:
        """Number of sources (columns)."""
        return self.shape[1]

    @property
    def n_classes(self) -> int:
        """Number of classes ``k``; votes lie in ``[-1, k)``."""
        return int(self._n_classes)

    @property
    def dtype(self) -> np.dtype:
        """Storage dtype of the votes (int8, or int16 beyond 127 classes)."""
        return vote_dtype(self._n_classes)

    @property
    def source_names(self) -> tuple[str, ...]:
        """Unique source names, one per column."""
        return self._source_names

    @property
    def class_names(self) -> tuple[str, ...] | None:
        """Class names, or None."""
        return self._class_names

    @property
    def item_ids(self) -> np.ndarray | None:
        """Item ids (read-only array), or None."""
        return self._item_ids

    @property
    def source_versions(self) -> tuple[str | None, ...] | None:
        """Version of each source, or None."""
        return self._source_versions

    @property
    def is_sparse(self) -> bool:
        """True when only the non-abstain votes are stored."""
        return self._csr is not None

    @property
    def nnz(self) -> int:
        """Number of non-abstain votes."""
        if self._csr is not None:
            return int(self._csr.nnz)
        return int(np.count_nonzero(self._dense != ABSTAIN))

    @property
    def csr(self) -> sp.csr_array:
        """Votes as a ``scipy.sparse.csr_array`` holding ``label + 1`` (0 = abstain)."""
        if self._csr is not None:
            return self._csr
        rows, cols, labels = self.coo()
        return sp.csr_array(((labels + 1).astype(self.dtype), (rows, cols)), shape=self.shape)

    @cached_property
    def fingerprint(self) -> str:
        """Content fingerprint of the votes and metadata."""
        rows, cols, labels = self.coo()
        return _fingerprint(
            "LabelMatrix", self.shape, self.n_classes, rows, cols, labels,
            self.source_names, self.class_names, self.item_ids, self.source_versions,
        )

    # ------------------------------------------------------------ conversion
    def to_dense(self) -> np.ndarray:
        """The ``(n, m)`` vote array (int8/int16, ``-1`` = abstain).

        For a dense matrix this is the stored array itself, read-only; for a
        sparse matrix a new array.
        """
        if self._dense is not None:
            return self._dense
        out = np.full(self.shape, ABSTAIN, dtype=self.dtype)
        rows, cols, labels = self.coo()
        out[rows, cols] = labels
        return out

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self.to_dense()
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def coo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coordinates of the non-abstain votes: ``(rows, cols, labels)``, row-major."""
        if self._csr is not None:
            csr = self._csr
            rows = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
            return rows, csr.indices.astype(np.int64), (csr.data.astype(np.int16) - 1).astype(self.dtype)
        mask = np.not_equal(self._dense, ABSTAIN)  # type: ignore[arg-type]
        rows, cols = np.nonzero(mask)
        return rows.astype(np.int64, copy=False), cols.astype(np.int64, copy=False), self._dense[mask]  # type: ignore[index]

    def as_sparse(self) -> LabelMatrix:
        """The same matrix in sparse storage."""
        if self._csr is not None:
            return self
        csr = self.csr
        csr.sort_indices()
        return self._rebuild(dense=None, csr=csr)

    def as_dense(self) -> LabelMatrix:
        """The same matrix in dense storage."""
        if self._dense is not None:
            return self
        dense = self.to_dense()
        dense.flags.writeable = False
        return self._rebuild(dense=dense, csr=None)

    def to_long(self) -> pd.DataFrame:
        """Long-format votes: columns ``item``, ``source``, ``label`` (no abstains).

        ``item`` holds the item ids (positions when there are none), ``source``
        the source names.
        """
        rows, cols, labels = self.coo()
        items = self.item_ids[rows] if self.item_ids is not None else rows
        sources = pd.Categorical.from_codes(cols, categories=pd.Index(list(self.source_names)))
        return pd.DataFrame({"item": items, "source": sources, "label": labels.astype(np.int64)})

    # ------------------------------------------------------------- selection
    def select_items(self, indexer: Any) -> LabelMatrix:
        """Rows selected by a boolean mask or integer positions."""
        idx = row_indexer(indexer, self.n_items)
        ids = None if self.item_ids is None else self.item_ids[idx]
        if self._dense is not None:
            dense = self._dense[idx]
            dense.flags.writeable = False
            return self._rebuild(dense=dense, csr=None, item_ids=ids)
        return self._rebuild(dense=None, csr=sp.csr_array(self._csr[idx]), item_ids=ids)  # type: ignore[index]

    def select_sources(self, sources: Iterable[str | int]) -> LabelMatrix:
        """Columns selected by name or position, in the given order."""
        idx = np.array([self._source_position(s) for s in sources], dtype=np.int64)
        names = [self.source_names[i] for i in idx]
        versions = None if self.source_versions is None else [self.source_versions[i] for i in idx]
        if self._dense is not None:
            dense = np.ascontiguousarray(self._dense[:, idx])
            dense.flags.writeable = False
            return self._rebuild(dense=dense, csr=None, source_names=names, source_versions=versions)
        csr = sp.csr_array(self._csr[:, idx])  # type: ignore[index]
        csr.sort_indices()
        return self._rebuild(dense=None, csr=csr, source_names=names, source_versions=versions)

    def replace(self, **metadata: Any) -> LabelMatrix:
        """A copy with some metadata replaced.

        Accepts ``source_names``, ``class_names``, ``item_ids``,
        ``source_versions`` and ``n_classes`` (which may only grow).
        """
        allowed = {"source_names", "class_names", "item_ids", "source_versions", "n_classes"}
        unknown = set(metadata) - allowed
        if unknown:
            raise fail("replace(...)", f"keywords among {sorted(allowed)}", got_text=str(sorted(unknown)))
        if "n_classes" in metadata:
            k = check_int("n_classes", metadata["n_classes"], low=2, high=MAX_CLASSES)
            if k < self.n_classes:
                raise fail("n_classes", f"at least the current {self.n_classes}", k)
            return self._rebuild_classes(k, metadata)
        return self._rebuild(**metadata)

    @staticmethod
    def concat(matrices: Sequence[LabelMatrix], axis: int = 0) -> LabelMatrix:
        """Stack matrices by items (``axis=0``, same sources) or sources (``axis=1``)."""
        return _concat(list(matrices), axis)

    # -------------------------------------------------------------- counting
    def class_counts(self) -> np.ndarray:
        """Votes per item and class, shape ``(n, k)``, dtype int32."""
        n, k = self.n_items, self.n_classes
        if self._csr is not None:
            rows, _, labels = self.coo()
            flat = np.bincount(rows * k + labels.astype(np.int64), minlength=n * k)
            return flat.reshape(n, k).astype(np.int32)
        out = np.empty((n, k), dtype=np.int32)
        for c in range(k):
            np.sum(self._dense == c, axis=1, out=out[:, c])  # type: ignore[operator]
        return out

    def votes_per_item(self) -> np.ndarray:
        """Number of non-abstain votes on each item, shape ``(n,)``."""
        if self._csr is not None:
            return np.diff(self._csr.indptr).astype(np.int64)
        return np.count_nonzero(self._dense != ABSTAIN, axis=1).astype(np.int64)

    def votes_per_source(self) -> np.ndarray:
        """Number of non-abstain votes of each source, shape ``(m,)``."""
        if self._csr is not None:
            return np.bincount(self._csr.indices, minlength=self.n_sources).astype(np.int64)
        return np.count_nonzero(self._dense != ABSTAIN, axis=0).astype(np.int64)

    def vote_patterns(self) -> VotePatterns:
        """Distinct rows with counts (dense form; see :func:`vote_patterns`)."""
        return vote_patterns(self.to_dense())

    # --------------------------------------------------------------- dunders
    def __len__(self) -> int:
        return self.n_items

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"LabelMatrix is immutable; cannot set {name!r} (use .replace())")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("LabelMatrix is immutable")

    def __repr__(self) -> str:
        form = "sparse" if self.is_sparse else "dense"
        return (
            f"LabelMatrix(n_items={self.n_items}, n_sources={self.n_sources}, "
            f"n_classes={self.n_classes}, {form}, nnz={self.nnz})"
        )

    def equals(self, other: object) -> bool:
        """True when votes and metadata are equal (storage form ignored)."""
        return isinstance(other, LabelMatrix) and self.fingerprint == other.fingerprint

    def __eq__(self, other: object) -> bool:
        return self.equals(other)

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __reduce__(self) -> tuple[Any, ...]:
        meta = dict(
            n_classes=self.n_classes, source_names=self.source_names, class_names=self.class_names,
            item_ids=self.item_ids, source_versions=self.source_versions,
        )
        return (_unreduce, (self._dense, self._csr, meta))

    # --------------------------------------------------------------- helpers
    def _metadata(self) -> dict[str, Any]:
        return dict(
            source_names=self.source_names, class_names=self.class_names,
            item_ids=self.item_ids, source_versions=self.source_versions,
        )

    def _rebuild(self, *, dense: Any = ..., csr: Any = ..., **metadata: Any) -> LabelMatrix:
        meta = self._metadata()
        meta.update(metadata)
        d = self._dense if dense is ... else dense
        c = self._csr if csr is ... else csr
        return LabelMatrix._from_parts(d, c, self.n_classes, meta["source_names"], meta["class_names"],
                                       meta["item_ids"], meta["source_versions"])

    def _rebuild_classes(self, k: int, metadata: dict[str, Any]) -> LabelMatrix:
        meta = self._metadata()
        meta.update({key: v for key, v in metadata.items() if key != "n_classes"})
        if meta["class_names"] is not None and len(meta["class_names"]) != k:
            meta["class_names"] = None if "class_names" not in metadata else meta["class_names"]
        dense = None if self._dense is None else self._dense.astype(vote_dtype(k))
        if dense is not None:
            dense.flags.writeable = False
        csr = None if self._csr is None else self._csr.astype(vote_dtype(k))
        return LabelMatrix._from_parts(dense, csr, k, meta["source_names"], meta["class_names"],
                                       meta["item_ids"], meta["source_versions"])

    def _source_position(self, source: str | int) -> int:
        if isinstance(source, (int, np.integer)) and not isinstance(source, bool):
            if not 0 <= int(source) < self.n_sources:
                raise fail("sources", f"positions in [0, {self.n_sources})", source)
            return int(source)
        try:
            return self.source_names.index(source)  # type: ignore[arg-type]
        except ValueError:
            raise fail("sources", f"names among {list(self.source_names)[:10]}", source) from None


# ---------------------------------------------------------------------------
# helpers that need the class
# ---------------------------------------------------------------------------


def _unreduce(dense: np.ndarray | None, csr: sp.csr_array | None, meta: dict[str, Any]) -> LabelMatrix:
    if dense is not None:
        dense = np.array(dense)
        dense.flags.writeable = False
    return LabelMatrix._from_parts(dense, csr, meta.pop("n_classes"), meta["source_names"],
                                   meta["class_names"], meta["item_ids"], meta["source_versions"])


def _concat(matrices: list[LabelMatrix], axis: int) -> LabelMatrix:
    if not matrices:
        raise fail("matrices", "at least one LabelMatrix", matrices)
    bad = [m for m in matrices if not isinstance(m, LabelMatrix)]
    if bad:
        raise fail("matrices", "LabelMatrix objects", bad[0])
    check_choice("axis", axis, (0, 1))
    k = max(m.n_classes for m in matrices)
    first = matrices[0]
    if axis == 0:
        if any(m.source_names != first.source_names for m in matrices):
            raise fail("matrices", "the same source_names in every matrix (axis=0)", got_text="different sources")
        ids = [m.item_ids for m in matrices]
        item_ids: np.ndarray | None = (
            None if any(i is None for i in ids) else np.concatenate(ids)  # type: ignore[arg-type]
        )
        meta: dict[str, Any] = dict(
            source_names=first.source_names, item_ids=item_ids, source_versions=first.source_versions
        )
    else:
        if any(m.n_items != first.n_items for m in matrices):
            raise fail("matrices", "the same number of items in every matrix (axis=1)", got_text="different")
        names = [n for m in matrices for n in m.source_names]
        versions = [m.source_versions or (None,) * m.n_sources for m in matrices]
        flat_versions = [v for vs in versions for v in vs]
        meta = dict(source_names=names, item_ids=first.item_ids,
                    source_versions=None if all(v is None for v in flat_versions) else flat_versions)
    class_names = first.class_names if all(m.class_names == first.class_names for m in matrices) else None
    if all(m.is_sparse for m in matrices):
        csrs = [m.csr.astype(vote_dtype(k)) for m in matrices]
        stacked = sp.csr_array(sp.vstack(csrs) if axis == 0 else sp.hstack(csrs, format="csr"))
        stacked.sort_indices()
        return LabelMatrix._from_parts(None, stacked, k, meta["source_names"], class_names,
                                       meta["item_ids"], meta["source_versions"])
    dense = np.concatenate([m.to_dense().astype(vote_dtype(k)) for m in matrices], axis=axis)
    dense.flags.writeable = False
    return LabelMatrix._from_parts(dense, None, k, meta["source_names"], class_names,
                                   meta["item_ids"], meta["source_versions"])
