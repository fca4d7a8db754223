"""Image features: pixel statistics and batching of decoded images for networks.

Functions take decoded images, uint8 ``(n, H, W)`` (grey) or
``(n, H, W, C)``, as :func:`weaklab.data.read_images` returns them, or
floats in ``[0, 1]``. :class:`ImageFeaturizer` turns a batch of a table of
image items (a DataFrame with an ``image`` column of references) into
features, so it can serve as ``model_lf``'s featurizer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import describe, fail
from ..data.image_io import read_images
from .image_field import IMAGE, resolve_image_field, resolve_image_root

__all__ = ["as_image_batch", "pixel_statistics", "PIXEL_STATISTICS", "ImageFeaturizer"]

_GRID = 4
#: Names of the columns of :func:`pixel_statistics` (the 16 ``grid_r_c`` cells are row-major).
PIXEL_STATISTICS: tuple[str, ...] = (
    "mean", "std", "min", "max", "q10", "q50", "q90", "ink", "centre_row", "centre_col", "spread_row",
    "spread_col", "box_height", "box_width", "edge", "edge_row", "edge_col",
    *(f"grid_{r}_{c}" for r in range(_GRID) for c in range(_GRID)),
)


def as_image_batch(images: Any, *, name: str = "images") -> np.ndarray:
    """Images as float32 ``(n, C, H, W)`` in ``[0, 1]``, the layout of a torch conv net.

    Parameters
    ----------
    images : array-like
        ``(n, H, W)`` grey or ``(n, H, W, C)`` with ``C`` in 1, 3, 4 (uint8
        0..255, or floats in ``[0, 1]``); ``(n, C, H, W)`` float input with
        ``C`` in 1, 3 is returned as float32 unchanged.
    name : str, default="images"
        Parameter name for error messages.

    Examples
    --------
    >>> as_image_batch(np.full((2, 5, 5), 255, np.uint8)).shape
    (2, 1, 5, 5)
    """
    arr = np.asarray(images)
    if arr.dtype.kind not in "uif" or arr.ndim not in (3, 4):
        raise fail(name, "images of shape (n, H, W) or (n, H, W, C), uint8 or floats in [0, 1]", got_text=describe(arr))
    if arr.dtype == np.uint8 or arr.dtype.kind in "iu":
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise fail(name, "integer pixels in [0, 255]", got_text=describe(arr))
        out = arr.astype(np.float32) / 255.0
    else:
        out = arr.astype(np.float32)
        if not np.all(np.isfinite(out)) or (out.size and (out.min() < 0 or out.max() > 1)):
            raise fail(name, "float pixels in [0, 1]", got_text=describe(arr))
    if out.ndim == 3:
        return out[:, None, :, :]
    if out.shape[3] in (1, 3, 4) and out.shape[1] not in (1, 3):
        return np.ascontiguousarray(out.transpose(0, 3, 1, 2)[:, :3])
    return out


def _grey(images: Any) -> np.ndarray:
    batch = as_image_batch(images)
    return batch.mean(axis=1) if batch.shape[1] > 1 else batch[:, 0]


def pixel_statistics(images: Any) -> np.ndarray:
    """Hand-made features of each image's grey levels (see :data:`PIXEL_STATISTICS`).

    Per image: mean, standard deviation, min, max and the 10/50/90 %
    quantiles of the intensities; the share of "ink" (pixels above 0.5);
    the intensity-weighted centre and spread (rows, columns; as fractions of
    the height and width); the height and width of the box of ink pixels;
    the mean gradient magnitude overall and along rows and columns; and the
    mean intensity of each cell of a 4 x 4 grid.

    Parameters
    ----------
    images : array-like
        See :func:`as_image_batch`; colour images are averaged to grey.

    Returns
    -------
    ndarray of shape (n, 33), float32

    Examples
    --------
    >>> img = np.zeros((1, 8, 8), np.uint8); img[0, 2:6, 2:4] = 255
    >>> f = dict(zip(PIXEL_STATISTICS, pixel_statistics(img)[0]))
    >>> round(float(f["ink"]), 3), round(float(f["box_height"]), 2), round(float(f["box_width"]), 2)
    (0.125, 0.5, 0.25)
    """
    g = _grey(images)
    n, h, w = g.shape
    if n == 0:
        return np.zeros((0, len(PIXEL_STATISTICS)), dtype=np.float32)
    flat = g.reshape(n, -1)
    q = np.quantile(flat, [0.1, 0.5, 0.9], axis=1).T
    mass = flat.sum(axis=1) + 1e-8
    rows = np.linspace(0, 1, h, dtype=np.float32)
    cols = np.linspace(0, 1, w, dtype=np.float32)
    row_mass, col_mass = g.sum(axis=2), g.sum(axis=1)
    centre_r = row_mass @ rows / mass
    centre_c = col_mass @ cols / mass
    spread_r = np.sqrt(np.maximum(row_mass @ rows**2 / mass - centre_r**2, 0))
    spread_c = np.sqrt(np.maximum(col_mass @ cols**2 / mass - centre_c**2, 0))
    ink = g > 0.5
    box_h = _extent(ink.any(axis=2)) / h
    box_w = _extent(ink.any(axis=1)) / w
    d_r = np.abs(np.diff(g, axis=1)).reshape(n, -1).mean(axis=1) if h > 1 else np.zeros(n)
    d_c = np.abs(np.diff(g, axis=2)).reshape(n, -1).mean(axis=1) if w > 1 else np.zeros(n)
    cols_out = [flat.mean(1), flat.std(1), flat.min(1), flat.max(1), *q.T, ink.reshape(n, -1).mean(1),
                centre_r, centre_c, spread_r, spread_c, box_h, box_w, (d_r + d_c) / 2, d_r, d_c]
    return np.column_stack([*cols_out, _grid_means(g)]).astype(np.float32)


def _extent(any_ink: Any) -> np.ndarray:
    """Number of positions between the first and last True of each row (0 when none)."""
    size = any_ink.shape[1]
    first = np.argmax(any_ink, axis=1)
    last = size - 1 - np.argmax(any_ink[:, ::-1], axis=1)
    return np.where(any_ink.any(axis=1), last - first + 1, 0).astype(np.float32)


def _grid_means(g: np.ndarray) -> np.ndarray:
    n, h, w = g.shape
    r_edges = np.linspace(0, h, _GRID + 1).round().astype(int)
    c_edges = np.linspace(0, w, _GRID + 1).round().astype(int)
    cells = [g[:, r_edges[i]:max(r_edges[i + 1], r_edges[i] + 1), c_edges[j]:max(c_edges[j + 1], c_edges[j] + 1)]
             .reshape(n, -1).mean(axis=1) for i in range(_GRID) for j in range(_GRID)]
    return np.column_stack(cells)


class ImageFeaturizer:
    """Decode the image column of a table batch and compute features: ``featurizer(df) -> X``.

    Use it as :func:`weaklab.model_lf`'s ``featurizer`` on tables of image
    items (see :func:`weaklab.data.load_image_table`).

    Parameters
    ----------
    transform : callable or None, default=None
        ``transform(images) -> X`` on decoded uint8 images ``(n, H, W[, 3])``,
        e.g. :func:`pixel_statistics` or a fitted
        :class:`~weaklab.features.CNNEmbedder`'s ``transform``. None gives
        the images as float32 ``(n, C, H, W)`` in ``[0, 1]``.
    field : str, default="image"
        Column of image references; built inside
        :func:`~weaklab.features.default_image_field` (as a project's LF
        module is loaded) without ``field``, the project's picture column.
    size : (width, height), optional
        Resize to this size on decoding.
    mode : {"L", "RGB"}, default="L"
    root : str or os.PathLike, optional
        Folder that relative references are relative to; default the working
        folder, or, built inside :func:`~weaklab.features.default_image_field`,
        the project's data folder.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(f, images=np.zeros((3, 8, 8), np.uint8))
    >>> df = pd.DataFrame({"image": [f"{f}#{i}" for i in range(3)]})
    >>> ImageFeaturizer(pixel_statistics)(df).shape
    (3, 33)
    """

    def __init__(self, transform: Callable[[np.ndarray], Any] | None = None, *, field: str = IMAGE,
                 size: Sequence[int] | None = None, mode: str = "L",
                 root: str | os.PathLike[str] | None = None) -> None:
        field, root = resolve_image_field(field), resolve_image_root(root)
        if transform is not None and not callable(transform):
            raise fail("transform", "a callable transform(images) -> features, or None", transform)
        if not isinstance(field, str) or not field:
            raise fail("field", "a column name (non-empty str)", field)
        self.transform = transform
        self.field = field
        self.size = None if size is None else tuple(size)
        self.mode = mode
        self.root = None if root is None else os.fspath(root)

    def images(self, frame: pd.DataFrame) -> np.ndarray:
        """The decoded images of the rows of ``frame``, uint8 ``(n, H, W[, 3])``."""
        if self.field not in frame:
            raise fail("field", f"a column of the items ({', '.join(map(str, frame.columns))})", self.field)
        return read_images(frame[self.field].tolist(), size=self.size, mode=self.mode, root=self.root)

    def __call__(self, frame: pd.DataFrame) -> Any:
        images = self.images(frame)
        return as_image_batch(images) if self.transform is None else self.transform(images)

    def __repr__(self) -> str:
        return f"ImageFeaturizer(transform={self.transform!r}, field={self.field!r}, size={self.size!r})"
