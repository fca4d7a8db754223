"""The container every loader returns: items, their votes and their gold labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._core.label_matrix import LabelMatrix
from .._core.validation import check_labels, fail

__all__ = ["WeakLabelDataset"]


@dataclass(frozen=True, repr=False, eq=False)
class WeakLabelDataset:
    """Items, a label matrix over them and gold labels, row-aligned.

    Parameters
    ----------
    name : str
        Name of the data set (usually its folder name).
    split : str or None
        ``"train"``, ``"valid"``, ``"test"``, or None for sets without splits.
    items : pandas.DataFrame of n_items rows
        One row per item, in the order of the matrix rows. Column ``id``
        holds the item ids (the same as ``L.item_ids``); the other columns are
        the item's data (e.g. ``text``).
    L : LabelMatrix of shape (n_items, n_sources)
        Votes of the sources (labeling functions or crowd workers).
    gold : numpy.ndarray of shape (n_items,)
        Gold class ids, ``-1`` where unknown. Stored read-only as ``int64``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from weaklab import LabelMatrix
    >>> from weaklab.data import WeakLabelDataset
    >>> items = pd.DataFrame({"id": ["a", "b", "c"], "text": ["free money", "hi mum", "win a prize"]})
    >>> L = LabelMatrix(np.array([[1, -1], [0, 0], [1, 1]]), n_classes=2, item_ids=items["id"])
    >>> data = WeakLabelDataset("toy", "train", items, L, np.array([1, 0, -1]))
    >>> data.L.shape, data.gold.tolist()
    ((3, 2), [1, 0, -1])
    """

    name: str
    split: str | None
    items: pd.DataFrame
    L: LabelMatrix
    gold: np.ndarray

    def __post_init__(self) -> None:
        if not isinstance(self.L, LabelMatrix):
            raise fail("L", "a LabelMatrix", self.L)
        if not isinstance(self.items, pd.DataFrame):
            raise fail("items", "a pandas DataFrame", self.items)
        if len(self.items) != self.L.n_items:
            raise fail("items", f"{self.L.n_items} rows (one per matrix row)",
                       got_text=f"{len(self.items)} rows")
        gold = check_labels("gold", self.gold, self.L.n_classes, length=self.L.n_items, allow_abstain=True)
        gold = gold.copy() if np.shares_memory(gold, np.asarray(self.gold)) else gold
        gold.flags.writeable = False
        object.__setattr__(self, "gold", gold)

    @property
    def n_items(self) -> int:
        """Number of items (rows)."""
        return self.L.n_items

    @property
    def n_sources(self) -> int:
        """Number of sources (matrix columns)."""
        return self.L.n_sources

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return self.L.n_classes

    @property
    def class_names(self) -> tuple[str, ...] | None:
        """Class names, or None."""
        return self.L.class_names

    @property
    def item_ids(self) -> np.ndarray | None:
        """Item ids, in row order."""
        return self.L.item_ids

    @property
    def has_gold(self) -> np.ndarray:
        """Boolean mask of the items with a known gold label, shape ``(n_items,)``."""
        return self.gold >= 0

    def __len__(self) -> int:
        return self.L.n_items

    def __repr__(self) -> str:
        split = "" if self.split is None else f", split={self.split!r}"
        return (
            f"WeakLabelDataset(name={self.name!r}{split}, n_items={self.n_items}, "
            f"n_sources={self.n_sources}, n_classes={self.n_classes}, "
            f"n_gold={int(self.has_gold.sum())})"
        )
