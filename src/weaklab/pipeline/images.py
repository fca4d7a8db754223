"""Image items of a recorded dataset: where each item's picture is, and its cached thumbnail.

An image project names its picture column in ``weaklab.toml`` (``[data].image_column``;
paths relative to the data table's folder, or ``"<array file>#<index>"``).
The dataset records that column, so the review queue, the item lineage page
and the report can show each item's picture from the store alone. The store
keeps ids, not pictures: :class:`ImageLookup` reads the table its ``meta``
names, once, and thumbnails go to a content-addressed cache beside the store
(``.weaklab/thumbnails/``), written on first request.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pandas as pd

from ..data import ThumbnailCache
from ..errors import WeaklabError
from ..store import Store
from .runs import dataset_image_column, dataset_table, dataset_table_path

__all__ = ["THUMBNAIL_SIZE", "ImageLookup", "png_data_uri"]

#: Longest side of the thumbnails shown by the dashboard and the report, in pixels.
THUMBNAIL_SIZE = 160


class ImageLookup:
    """The pictures of a dataset's items, found through the table its ``meta`` names (or none).

    Parameters
    ----------
    store : Store
    dataset_id : int
    size : int, default=THUMBNAIL_SIZE
        Longest side of the thumbnails.

    Attributes
    ----------
    column : str or None
        The image column (None: not an image dataset).
    reason : str or None
        Why no pictures are available, when the dataset names an image column
        but its table cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> from weaklab.store import Store
    >>> store = Store(tempfile.mkdtemp() + "/s.duckdb")
    >>> dataset = store.add_dataset("texts", ["a", "b"], meta={"text_field": "text"})
    >>> ImageLookup(store, dataset).column is None   # a text dataset has no pictures
    True
    """

    def __init__(self, store: Store, dataset_id: int, *, size: int = THUMBNAIL_SIZE) -> None:
        self.column = dataset_image_column(store, dataset_id)
        self.reason: str | None = None
        self._refs: dict[str, str] = {}
        table_path = dataset_table_path(store, dataset_id)
        root = table_path.parent if table_path is not None else None
        self._cache = ThumbnailCache(Path(store.path).parent / "thumbnails", size=size, root=root)
        if self.column is None:
            return
        try:
            table = dataset_table(store, dataset_id, "item_id")
        except (WeaklabError, OSError) as exc:
            self.reason = str(exc).splitlines()[0]
            return
        if self.column not in table.columns:
            self.reason = f"the dataset's table has no {self.column!r} column"
            return
        keys = table["item_id"] if "item_id" in table.columns else pd.Series(table.index)
        self._refs = {str(k): str(r) for k, r in zip(keys.tolist(), table[self.column].tolist())
                      if isinstance(r, str) and r.strip()}

    def __len__(self) -> int:
        return len(self._refs)

    def ref(self, item_id: Any) -> str | None:
        """The item's image reference as written in the table, or None when it has none."""
        return self._refs.get(str(item_id))

    def thumbnail(self, item_id: Any) -> Path | None:
        """The PNG thumbnail of the item's picture (written on first request), None without a picture.

        A picture that cannot be read (moved, deleted, not an image) gives None
        and sets :attr:`reason`; it never raises into a page.
        """
        ref = self.ref(item_id)
        if ref is None:
            return None
        try:
            return self._cache.thumbnail(ref)
        except (WeaklabError, OSError, ValueError) as exc:
            self.reason = f"item {item_id!r}: {str(exc).splitlines()[0]}"
            return None


def png_data_uri(path: str | Path) -> str:
    """A PNG file as a ``data:`` URI (for a self-contained, offline HTML page).

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> _ = open(f, "wb").write(b"\\x89PNG")
    >>> png_data_uri(f)
    'data:image/png;base64,iVBORw=='
    """
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")
