"""The frozen multi-label vote matrix: per (item, source, label) a vote of present, absent or abstain."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._matrix_inputs import long_frame, make_index, row_indexer, validate_item_ids, validate_source_names
from .constants import ABSTAIN
from .hashing import fingerprint as _fingerprint
from .label_matrix import LabelMatrix
from .validation import check_int, fail, plain_scalar

__all__ = ["MultiLabelMatrix", "PRESENT", "ABSENT"]

#: A source says the label applies to the item.
PRESENT = 1
#: A source says the label does not apply to the item.
ABSENT = 0

_VOTE_WORDS = {"present": PRESENT, "absent": ABSENT, "abstain": ABSTAIN}


class MultiLabelMatrix:
    """Votes of ``m`` sources on ``n`` items for each of ``K`` labels.

    Each entry is :data:`PRESENT` (1: the label applies), :data:`ABSENT`
    (0: it does not) or ``ABSTAIN`` (-1: no vote). A source may vote on some
    labels of an item and abstain on the others. Only the non-abstain votes
    are stored (a sparse ``(n, m * K)`` array), so a matrix with many labels
    and sources that each vote on a few of them stays small. The matrix is
    immutable and validated once, on construction.

    Parameters
    ----------
    votes : array-like of shape (n_items, n_sources, n_labels)
        Integer votes in ``{-1, 0, 1}``.
    source_names : sequence of str, optional
        Unique names, one per source; ``"s0", "s1", ...`` by default.
    label_names : sequence of str, optional
        Unique names, one per label; ``"l0", "l1", ...`` by default.
    item_ids : array-like of shape (n_items,), optional
        Unique ids of the items.

    Examples
    --------
    >>> votes = [[[1, -1], [0, 1]], [[-1, -1], [1, 0]]]   # 2 items, 2 sources, 2 labels
    >>> L = MultiLabelMatrix(votes, label_names=["sports", "politics"])
    >>> L.shape, L.nnz
    ((2, 2, 2), 5)
    >>> L.for_label("politics").to_dense().tolist()
    [[-1, 1], [-1, 0]]
    """

    __slots__ = ("__dict__", "_csr", "_item_ids", "_label_names", "_n_labels", "_source_names")

    _csr: sp.csr_array
    _n_labels: int
    _source_names: tuple[str, ...]
    _label_names: tuple[str, ...]
    _item_ids: np.ndarray | None

    def __init__(
        self,
        votes: Any,
        *,
        source_names: Sequence[str] | None = None,
        label_names: Sequence[str] | None = None,
        item_ids: Any = None,
    ) -> None:
        arr = _dense_votes(votes)
        n, m, k = arr.shape
        items, sources, labels = np.nonzero(arr != ABSTAIN)
        csr = _build_csr(items, sources * k + labels, arr[items, sources, labels], n, m * k)
        self._init(csr, k, source_names, label_names, item_ids)

    def _init(self, csr: sp.csr_array, n_labels: int, source_names: Sequence[str] | None,
              label_names: Sequence[str] | None, item_ids: Any) -> None:
        m = csr.shape[1] // n_labels
        object.__setattr__(self, "_csr", csr)
        object.__setattr__(self, "_n_labels", n_labels)
        object.__setattr__(self, "_source_names", validate_source_names(source_names, m))
        object.__setattr__(self, "_label_names", _label_names(label_names, n_labels))
        object.__setattr__(self, "_item_ids", validate_item_ids(item_ids, csr.shape[0]))

    @classmethod
    def _from_csr(cls, csr: sp.csr_array, n_labels: int, source_names: Sequence[str] | None,
                  label_names: Sequence[str] | None, item_ids: Any) -> MultiLabelMatrix:
        obj = cls.__new__(cls)
        obj._init(csr, n_labels, source_names, label_names, item_ids)
        return obj

    @classmethod
    def from_coo(
        cls,
        items: Any,
        sources: Any,
        labels: Any,
        votes: Any,
        *,
        n_items: int,
        n_sources: int,
        n_labels: int,
        source_names: Sequence[str] | None = None,
        label_names: Sequence[str] | None = None,
        item_ids: Any = None,
    ) -> MultiLabelMatrix:
        """Build a matrix from the coordinates of its votes.

        Parameters
        ----------
        items, sources, labels : array-like of int, shape (nnz,)
            Positions of the item, the source and the label of every vote.
        votes : array-like of int, shape (nnz,)
            ``1`` (present), ``0`` (absent) or ``-1`` (abstain; dropped).
            Each ``(item, source, label)`` may occur at most once.
        n_items, n_sources, n_labels : int
            The shape of the matrix.

        Examples
        --------
        >>> L = MultiLabelMatrix.from_coo([0, 1], [0, 0], [1, 1], [1, 0], n_items=2, n_sources=1, n_labels=2)
        >>> L.to_dense()[:, 0, :].tolist()
        [[-1, 1], [-1, 0]]
        """
        n = check_int("n_items", n_items, low=0)
        m = check_int("n_sources", n_sources, low=1)
        k = check_int("n_labels", n_labels, low=1)
        arrays = [_positions(name, values, bound) for name, values, bound in
                  (("items", items, n), ("sources", sources, m), ("labels", labels, k))]
        vote = _vote_values("votes", votes)
        if not arrays[0].shape == arrays[1].shape == arrays[2].shape == vote.shape:
            raise fail("items, sources, labels, votes", "arrays of equal length",
                       got_text=", ".join(str(a.size) for a in (*arrays, vote)))
        keep = vote != ABSTAIN
        rows, cols = arrays[0][keep], arrays[1][keep] * k + arrays[2][keep]
        csr = _build_csr(rows, cols, vote[keep], n, m * k)
        return cls._from_csr(csr, k, source_names, label_names, item_ids)

    @classmethod
    def from_long(
        cls,
        data: Any,
        *,
        item: str = "item",
        source: str = "source",
        label: str = "label",
        vote: str = "vote",
        item_ids: Any = None,
        source_names: Sequence[str] | None = None,
        label_names: Sequence[str] | None = None,
    ) -> MultiLabelMatrix:
        """Build a matrix from long-format rows ``(item, source, label, vote)``.

        Parameters
        ----------
        data : pandas.DataFrame or mapping of column name to array
            One row per vote.
        item, source, label, vote : str
            Column names. The vote column holds ``1``/``0``/``-1``, booleans,
            or the words ``"present"``, ``"absent"``, ``"abstain"``.
        item_ids : array-like, optional
            The items, in row order (items without votes allowed); by default
            the sorted distinct item ids of ``data``.
        source_names : sequence of str, optional
            The sources, in order; by default the sorted distinct names.
        label_names : sequence of str, optional
            The labels, in order; by default the sorted distinct labels of
            ``data`` (label names, or integer positions when numeric).

        Examples
        --------
        >>> rows = {"item": ["a", "a", "b"], "source": ["kw", "kw", "re"],
        ...         "label": ["news", "sport", "sport"], "vote": [1, 0, 1]}
        >>> L = MultiLabelMatrix.from_long(rows)
        >>> L.shape, L.label_names
        ((2, 2, 2), ('news', 'sport'))
        """
        frame = long_frame(data, item, source, label)
        if vote not in frame.columns:
            raise fail("data", f"a column {vote!r} of votes", got_text=f"columns {list(frame.columns)}")
        votes = _vote_values(f"data[{vote!r}]", frame[vote].to_numpy())
        if frame[label].isna().any():
            raise fail(f"data[{label!r}]", "no missing values", got_text=f"{int(frame[label].isna().sum())} missing")
        item_index = make_index(frame[item], item_ids, "item_ids", item)
        source_index = make_index(frame[source].astype(str), source_names, "source_names", source)
        label_index = _label_index(frame[label], label_names, label)
        positions = [_lookup(index, values, param, column) for index, values, param, column in (
            (item_index, frame[item], "item_ids", item),
            (source_index, frame[source].astype(str), "source_names", source),
            (label_index, _label_keys(frame[label], label_names), "label_names", label),
        )]
        return cls.from_coo(
            positions[0], positions[1], positions[2], votes,
            n_items=len(item_index), n_sources=len(source_index), n_labels=len(label_index),
            source_names=[str(s) for s in source_index],
            label_names=None if label_names is None and _numeric(frame[label]) else [str(x) for x in label_index],
            item_ids=item_index.to_numpy(),
        )

    # ------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple[int, int, int]:
        """``(n_items, n_sources, n_labels)``."""
        return (self.n_items, self.n_sources, self.n_labels)

    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self._csr.shape[0])

    @property
    def n_sources(self) -> int:
        """Number of sources."""
        return int(self._csr.shape[1]) // self._n_labels

    @property
    def n_labels(self) -> int:
        """Number of labels ``K``."""
        return int(self._n_labels)

    @property
    def source_names(self) -> tuple[str, ...]:
        """Unique source names."""
        return self._source_names

    @property
    def label_names(self) -> tuple[str, ...]:
        """Unique label names."""
        return self._label_names

    @property
    def item_ids(self) -> np.ndarray | None:
        """Item ids (read-only array), or None."""
        return self._item_ids

    @property
    def nnz(self) -> int:
        """Number of non-abstain votes."""
        return int(self._csr.nnz)

    @property
    def csr(self) -> sp.csr_array:
        """Votes as an ``(n, m * K)`` CSR array holding ``vote + 1`` (0 = abstain); column ``j * K + l``."""
        return self._csr

    @cached_property
    def fingerprint(self) -> str:
        """Content fingerprint of the votes and metadata."""
        items, sources, labels, votes = self.coo()
        ids = None if self.item_ids is None else np.asarray(self.item_ids.tolist())  # same ids, any dtype
        return _fingerprint("MultiLabelMatrix", self.shape, items, sources, labels, votes,
                            self.source_names, self.label_names, ids)

    # ------------------------------------------------------------ conversion
    def coo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Coordinates of the non-abstain votes: ``(items, sources, labels, votes)``, item-major."""
        csr = self._csr
        items = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
        cols = csr.indices.astype(np.int64)
        return items, cols // self._n_labels, cols % self._n_labels, (csr.data - 1).astype(np.int8)

    def to_dense(self) -> np.ndarray:
        """A new ``(n, m, K)`` int8 array of votes (``-1`` = abstain)."""
        out = np.full(self.shape, ABSTAIN, dtype=np.int8)
        items, sources, labels, votes = self.coo()
        out[items, sources, labels] = votes
        return out

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self.to_dense()
        return arr if dtype is None else arr.astype(dtype)

    def to_long(self) -> pd.DataFrame:
        """Long-format votes: columns ``item``, ``source``, ``label``, ``vote`` (no abstains)."""
        items, sources, labels, votes = self.coo()
        return pd.DataFrame({
            "item": self.item_ids[items] if self.item_ids is not None else items,
            "source": pd.Categorical.from_codes(sources, categories=pd.Index(list(self.source_names))),
            "label": pd.Categorical.from_codes(labels, categories=pd.Index(list(self.label_names))),
            "vote": votes.astype(np.int64),
        })

    def for_label(self, label: str | int) -> LabelMatrix:
        """The binary :class:`~weaklab.LabelMatrix` of one label (class 1 = present, 0 = absent).

        Stored sparse when under a quarter of its cells hold a vote. Its
        source names, item ids and class names (``("absent", "present")``)
        come from this matrix, so any binary label model can fit it.
        """
        j = self._label_position(label)
        cols = np.arange(self.n_sources) * self._n_labels + j
        block = sp.coo_array(self._csr[:, cols])
        matrix = LabelMatrix.from_coo(
            block.row, block.col, block.data.astype(np.int64) - 1, n_items=self.n_items,
            n_sources=self.n_sources, n_classes=2, source_names=self.source_names,
            class_names=("absent", "present"), item_ids=self.item_ids,
        )
        return matrix if matrix.nnz < 0.25 * max(1, self.n_items * self.n_sources) else matrix.as_dense()

    def vote_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Votes per item and label: ``(present, absent)``, each of shape ``(n, K)``, int64."""
        items, _, labels, votes = self.coo()
        flat = items * self._n_labels + labels
        size = self.n_items * self._n_labels
        present = np.bincount(flat[votes == PRESENT], minlength=size).reshape(self.n_items, self._n_labels)
        absent = np.bincount(flat[votes == ABSENT], minlength=size).reshape(self.n_items, self._n_labels)
        return present.astype(np.int64), absent.astype(np.int64)

    # ------------------------------------------------------------- selection
    def select_items(self, indexer: Any) -> MultiLabelMatrix:
        """Rows selected by a boolean mask or integer positions."""
        idx = row_indexer(indexer, self.n_items)
        ids = None if self._item_ids is None else self._item_ids[idx]
        csr = sp.csr_array(self._csr[idx])
        csr.sort_indices()
        return MultiLabelMatrix._from_csr(csr, self._n_labels, self._source_names, self._label_names, ids)

    def __len__(self) -> int:
        return self.n_items

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"MultiLabelMatrix is immutable; cannot set {name!r}")

    def __repr__(self) -> str:
        n, m, k = self.shape
        return f"MultiLabelMatrix(n_items={n}, n_sources={m}, n_labels={k}, nnz={self.nnz})"

    def _label_position(self, label: str | int) -> int:
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            if not 0 <= int(label) < self._n_labels:
                raise fail("label", f"a position in [0, {self._n_labels})", label)
            return int(label)
        if label in self._label_names:
            return self._label_names.index(label)  # type: ignore[arg-type]
        raise fail("label", f"a name among {list(self._label_names)[:10]} or a position", label)


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------


def _dense_votes(votes: Any) -> np.ndarray:
    if isinstance(votes, MultiLabelMatrix):
        raise fail("votes", "an array of votes (the matrix is already built)", votes)
    try:
        arr = np.asarray(votes)
    except ValueError:
        raise fail("votes", "a 3-d array (n_items, n_sources, n_labels)", got_text="ragged rows") from None
    if arr.ndim != 3 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise fail("votes", "a 3-d array (n_items, n_sources, n_labels) with n_sources, n_labels >= 1", arr)
    return _vote_values("votes", arr)


def _vote_values(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == object or arr.dtype.kind in "US":
        words = pd.Series(arr.ravel()).astype(str).str.lower()
        mapped = words.map(lambda w: _VOTE_WORDS.get(w, {"true": 1, "false": 0, "1": 1, "0": 0, "-1": -1}.get(w)))
        if mapped.isna().any():
            raise fail(name, "votes 1 (present), 0 (absent) or -1 (abstain)", words[mapped.isna()].iloc[0])
        return mapped.to_numpy(np.int8).reshape(arr.shape)
    if arr.dtype.kind == "b":
        return arr.astype(np.int8)
    if arr.dtype.kind not in "iuf":
        raise fail(name, "votes 1 (present), 0 (absent) or -1 (abstain)", arr)
    bad = ~np.isin(arr, (ABSTAIN, ABSENT, PRESENT))
    if bad.any():
        raise fail(name, "votes 1 (present), 0 (absent) or -1 (abstain)",
                   got_text=f"a vote of {plain_scalar(arr[bad].ravel()[0])}")
    return arr.astype(np.int8)


def _positions(name: str, values: Any, bound: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise fail(name, "a 1-d array of integer positions", arr)
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= bound):
        raise fail(name, f"positions in [0, {bound})", got_text=f"values in [{arr.min()}, {arr.max()}]")
    return arr


def _build_csr(rows: np.ndarray, cols: np.ndarray, votes: np.ndarray, n: int, width: int) -> sp.csr_array:
    data = (votes.astype(np.int8) + 1).astype(np.int8)
    csr = sp.csr_array((data, (rows, cols)), shape=(n, width))
    if csr.nnz != data.shape[0] or (csr.data > 2).any():
        raise fail("votes", "at most one vote per (item, source, label)", got_text="repeated votes")
    csr.sort_indices()
    return csr


def _label_names(names: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"l{j}" for j in range(k))
    if isinstance(names, str):
        raise fail("label_names", f"a sequence of {k} names", names)
    out = tuple(str(x) for x in names)
    if len(out) != k:
        raise fail("label_names", f"{k} names (one per label)", got_text=f"{len(out)} names")
    if len(set(out)) != k:
        raise fail("label_names", "unique names", got_text=str(list(out)))
    return out


def _numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values)) and not pd.api.types.is_bool_dtype(values)


def _label_index(values: pd.Series, label_names: Sequence[str] | None, column: str) -> pd.Index:
    if label_names is not None:
        return pd.Index([str(x) for x in label_names])
    if _numeric(values):
        top = int(values.max()) if len(values) else -1
        return pd.RangeIndex(max(1, top + 1))
    return make_index(values.astype(str), None, "label_names", column)


def _label_keys(values: pd.Series, label_names: Sequence[str] | None) -> pd.Series:
    if label_names is not None and _numeric(values):
        return values.map(lambda v: str(label_names[int(v)]) if 0 <= int(v) < len(label_names) else f"#{v}")
    return values if _numeric(values) and label_names is None else values.astype(str)


def _lookup(index: pd.Index, values: pd.Series, param: str, column: str) -> np.ndarray:
    pos = index.get_indexer(pd.Index(values))
    if (pos < 0).any():
        missing = plain_scalar(values.to_numpy()[pos < 0][0])
        raise fail(param, f"every value of column {column!r}", got_text=f"no entry for {missing!r}")
    return pos.astype(np.int64)
