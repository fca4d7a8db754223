"""Image items of a recorded dataset: where each item's picture is, and its cached thumbnail.

An image project names its picture column in ``weaklab.toml`` (``[data].image_column``;
paths relative to the data table's folder, or ``"<array file>#<index>"``).
The dataset records that column, so the review queue, the item lineage page
and the report can show each item's picture from the store alone. The store
keeps ids, not pictures: :class:`ImageLookup` reads the table its ``meta``
names, once, and thumbnails go to a content-addressed cache beside the store
(``.weaklab/thumbnails/``), written on first request.

:class:`CamLookup` adds the class activation map of a run's image end model
(``[end_model] name = "cnn"``, see :mod:`weaklab.pipeline.image_model`) as an
overlay on the thumbnail, read from the maps file the run recorded and cached
by the picture's content and the maps' digest.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data import ThumbnailCache, image_content_hash, read_images
from ..data.image_io import import_pil
from ..errors import WeaklabError
from ..store import Store
from .image_model import file_digest, load_cam_map
from .runs import dataset_image_column, dataset_table, dataset_table_path, run_dataset

__all__ = ["THUMBNAIL_SIZE", "CamLookup", "ImageLookup", "cam_overlay", "heat_colours", "png_data_uri"]

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


class CamLookup:
    """The class activation maps a run's image end model recorded, as overlays on the items' thumbnails.

    Parameters
    ----------
    store : Store
    run_id : int
    images : ImageLookup
        The pictures of the run's dataset.

    Attributes
    ----------
    ref : dict or None
        The recorded maps (``file``, ``digest``, ``shape``, ``classes``); None without them.
    reason : str or None
        Why there is no overlay (no image end model in the run, a lost or altered maps file).
    """

    def __init__(self, store: Store, run_id: int, images: ImageLookup) -> None:
        self.images, self.run_id = images, int(run_id)
        self._dir = Path(store.path).parent
        self.ref, self.reason = self._find(store)
        table_path = dataset_table_path(store, run_dataset(store, run_id))
        self._root = table_path.parent if table_path is not None else None

    def _find(self, store: Store) -> tuple[dict[str, Any] | None, str | None]:
        models = store.run_records(self.run_id)["end_model_runs"]
        if not len(models):
            return None, (f"run {self.run_id} trained no end model (`weaklab fit` stops before training); run "
                          '`weaklab train` with [end_model] name = "cnn" to record the maps')
        metrics = models["metrics"].iloc[-1]
        ref = metrics.get("cam") if isinstance(metrics, dict) else None
        if not isinstance(ref, dict):
            name = str(models["name"].iloc[-1])
            return None, (f"run {self.run_id} has no image end model (its end model: {name}); set [end_model] "
                          f'name = "cnn" in weaklab.toml of an image project and run `weaklab train`')
        path = self._dir / str(ref.get("file", ""))
        if not path.is_file() or file_digest(path) != ref.get("digest"):
            return None, f"run {self.run_id}'s class activation maps {path} are missing or altered; run `weaklab train`"
        return ref, None

    def overlay(self, item_id: Any, row: int) -> Path | None:
        """The PNG thumbnail of the item with its map overlaid (written on first request), None without one.

        ``row`` is the item's row in the dataset (as :meth:`Store.explain` gives it). Failures set
        :attr:`reason` and give None; they never raise into a page.
        """
        ref = self.images.ref(item_id)
        if self.ref is None or ref is None:
            self.reason = self.reason or self.images.reason or f"item {item_id!r} has no picture"
            return None
        try:
            digest = image_content_hash(ref, root=self._root)
            target = (self._dir / "thumbnails" / "cam" / digest[:2]
                      / f"{digest}-{str(self.ref['digest'])[:16]}-{THUMBNAIL_SIZE}.png")
            if not target.exists():
                picture = read_images([ref], mode="RGB", root=self._root)[0]
                _write_png(cam_overlay(picture, load_cam_map(self._dir, self.ref, int(row)), size=THUMBNAIL_SIZE),
                           target)
            return target
        except (WeaklabError, OSError, ValueError) as exc:
            self.reason = f"item {item_id!r}: {str(exc).splitlines()[0]}"
            return None


def heat_colours(values: np.ndarray) -> np.ndarray:
    """A blue-green-yellow-red colour per value in ``[0, 1]`` (a jet-like map), uint8 ``(..., 3)``.

    Examples
    --------
    >>> heat_colours(np.array([0.0, 1.0])).tolist()
    [[0, 0, 128], [128, 0, 0]]
    """
    v = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)[..., None]
    centres = np.array([0.75, 0.5, 0.25])  # red, green, blue peaks
    return np.round(255 * np.clip(1.5 - np.abs(4 * (v - centres)), 0.0, 1.0)).astype(np.uint8)


def cam_overlay(picture: np.ndarray, cam: np.ndarray, *, size: int = THUMBNAIL_SIZE, alpha: float = 0.5) -> np.ndarray:
    """A thumbnail of ``picture`` with the map ``cam`` (values in ``[0, 1]``) blended over it in heat colours.

    Parameters
    ----------
    picture : ndarray of uint8, shape (H, W, 3)
    cam : ndarray of shape (h, w)
        The map over the whole picture (any resolution; upsampled bilinearly).
    size : int
        Longest side of the result.
    alpha : float, default 0.5
        Weight of the colours.

    Returns
    -------
    ndarray of uint8, shape (H', W', 3)

    Examples
    --------
    >>> out = cam_overlay(np.zeros((28, 28, 3), np.uint8), np.eye(7), size=56)
    >>> out.shape, out.dtype.name
    ((56, 56, 3), 'uint8')
    """
    Image = import_pil("cam_overlay")
    h, w = picture.shape[:2]
    scale = size / max(h, w)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    base = np.asarray(Image.fromarray(picture).resize(new, Image.NEAREST if scale >= 2 else Image.BILINEAR),
                      dtype=np.float64)
    heat = np.asarray(Image.fromarray(np.ascontiguousarray(cam, dtype=np.float32)).resize(new, Image.BILINEAR))
    blended = (1 - alpha) * base + alpha * heat_colours(heat).astype(np.float64)
    return np.round(blended).astype(np.uint8)


def _write_png(pixels: np.ndarray, target: Path) -> None:
    Image = import_pil("cam_overlay")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            Image.fromarray(pixels).save(fh, format="PNG")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
