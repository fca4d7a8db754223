"""Image items: loaders for folders of images, tables of image paths with metadata, and image arrays.

Every loader returns :class:`ImageItems`: a table with one row per image (an
``item_id``, the image reference in ``image``, metadata columns such as
captions, and ``label`` where the source knows it). Pixels are decoded only
when :meth:`ImageItems.pixels` (or :func:`read_images`) is called, so the
table goes through :func:`weaklab.apply_lfs` like any text table: keyword
and regex LFs read the metadata columns; image LFs decode the ``image``
column of their batch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_choice, fail
from ._io import existing_dir, existing_file, read_table
from .image_io import array_ref, read_idx, read_image_array, read_images

__all__ = [
    "ImageItems",
    "IMAGE_SUFFIXES",
    "load_image_folder",
    "load_image_table",
    "load_image_arrays",
    "load_mnist",
    "FASHION_MNIST_CLASSES",
    "MNIST_CLASSES",
]

#: File suffixes read as images by :func:`load_image_folder`.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")
_MNIST_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


@dataclass(frozen=True)
class ImageItems:
    """Image items: one row per image, decoded lazily.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``item_id`` (unique str), ``image`` (a reference: a file path or
        ``"<array file>#<index>"``), any metadata columns, and ``label``
        (class id, -1 unknown) when the source has labels.
    class_names : tuple of str or None
        Names of the class ids in ``label``.
    root : str or None
        Folder that relative references are relative to.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(f, images=np.zeros((3, 8, 8), np.uint8), labels=np.array([0, 1, 1]))
    >>> items = load_image_arrays(f)
    >>> len(items), items.pixels([0, 2]).shape
    (3, (2, 8, 8))
    """

    frame: pd.DataFrame
    class_names: tuple[str, ...] | None = None
    root: str | None = None

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def labels(self) -> np.ndarray | None:
        """Class ids ``(n,)`` (-1 unknown), or None when the source has no labels."""
        if "label" not in self.frame:
            return None
        return self.frame["label"].to_numpy(dtype=np.int64)

    def pixels(self, rows: Any = None, *, size: Sequence[int] | None = None, mode: str = "L") -> np.ndarray:
        """Decode the images of ``rows`` (positions; default all) as uint8 ``(n, H, W[, 3])``.

        See :func:`read_images` for ``size`` and ``mode``.
        """
        refs = self.frame["image"] if rows is None else self.frame["image"].iloc[np.asarray(rows)]
        return read_images(refs.tolist(), size=size, mode=mode, root=self.root)


def load_image_folder(folder: str | os.PathLike[str], *, layout: str = "auto",
                      suffixes: Sequence[str] = IMAGE_SUFFIXES) -> ImageItems:
    """Image files in a folder: one subfolder per class, or all in one folder without labels.

    Parameters
    ----------
    folder : str or os.PathLike
    layout : {"auto", "classes", "flat"}, default="auto"
        ``"classes"``: each subfolder is a class (sorted names give ids
        ``0..k-1``; images are searched recursively inside each);
        ``"flat"``: every image under ``folder``, without labels;
        ``"auto"``: ``"classes"`` when ``folder`` has subfolders holding
        images and no image files of its own.
    suffixes : sequence of str
        Image file suffixes (case-insensitive).

    Returns
    -------
    ImageItems
        ``item_id`` is the path relative to ``folder`` (``/``-separated),
        ``image`` the absolute path, ``file_name`` the file's name and, with
        classes, ``label`` the class id.

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for cls in ("cat", "dog"):
    ...     os.mkdir(os.path.join(root, cls))
    ...     Image.new("L", (8, 8)).save(os.path.join(root, cls, "a.png"))
    >>> items = load_image_folder(root)
    >>> items.class_names, items.frame["label"].tolist()
    (('cat', 'dog'), [0, 1])
    """
    base = existing_dir(folder, "folder")
    layout = check_choice("layout", layout, ("auto", "classes", "flat"))
    wanted = tuple(s.lower() for s in suffixes)

    def images_in(d: Path, recursive: bool) -> list[Path]:
        found = d.rglob("*") if recursive else d.iterdir()
        return sorted(p for p in found if p.is_file() and p.suffix.lower() in wanted)

    subdirs = sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
    if layout == "auto":
        layout = "classes" if not images_in(base, False) and any(images_in(d, True) for d in subdirs) else "flat"
    if layout == "flat":
        files, labels, names = images_in(base, True), None, None
    else:
        per_class = [images_in(d, True) for d in subdirs]
        files = [f for group in per_class for f in group]
        labels = np.repeat(np.arange(len(subdirs)), [len(g) for g in per_class])
        names = tuple(d.name for d in subdirs)
    if not files:
        raise fail("folder", f"a folder holding image files ({', '.join(wanted)})", got_text=f"{str(base)!r} (none)")
    frame = pd.DataFrame({
        "item_id": [f.relative_to(base).as_posix() for f in files],
        "image": [str(f.resolve()) for f in files],
        "file_name": [f.name for f in files],
    })
    if labels is not None:
        frame["label"] = labels.astype(np.int64)
    return ImageItems(frame, names, None)


def load_image_table(path: str | os.PathLike[str], *, image_column: str = "image", id_column: str | None = None,
                     label_column: str | None = None, class_names: Sequence[str] | None = None,
                     root: str | os.PathLike[str] | None = None) -> ImageItems:
    """A CSV/Parquet table of image paths plus metadata (captions, alt text, keywords, file names...).

    Parameters
    ----------
    path : str or os.PathLike
        The table (see :func:`weaklab.data.read_table`).
    image_column : str, default="image"
        Column of image references (file paths, or ``"<array file>#<index>"``).
    id_column : str, optional
        Column of unique item ids; default the image reference.
    label_column : str, optional
        Column of class labels (ids ``0..k-1`` or names in ``class_names``;
        empty = unknown), copied to ``label`` as ids.
    class_names : sequence of str, optional
        Class names (ids are positions); default the sorted distinct labels
        when they are names.
    root : str or os.PathLike, optional
        Folder that relative references are relative to; default the table's folder.

    Returns
    -------
    ImageItems

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> np.savez(os.path.join(d, "px.npz"), images=np.zeros((2, 4, 4), np.uint8))
    >>> _ = pd.DataFrame({"image": ["px.npz#0", "px.npz#1"], "caption": ["a shoe", None]}).to_csv(
    ...     os.path.join(d, "items.csv"), index=False)
    >>> items = load_image_table(os.path.join(d, "items.csv"))
    >>> items.pixels().shape, items.frame["caption"].fillna("").tolist()
    ((2, 4, 4), ['a shoe', ''])
    """
    table = existing_file(path, "path")
    frame = read_table(table)
    for name, col in (("image_column", image_column), ("id_column", id_column), ("label_column", label_column)):
        if col is not None and col not in frame:
            raise fail(name, f"a column of {str(table)!r} ({', '.join(map(str, frame.columns))})", col)
    refs = frame[image_column]
    if refs.isna().any() or not all(isinstance(r, str) and r for r in refs):
        bad = next(i for i, r in enumerate(refs) if not (isinstance(r, str) and r))
        raise fail("image_column", "a non-empty image reference on every row",
                   got_text=f"row {bad}: {refs.iloc[bad]!r}")
    if id_column is None and "item_id" in frame:
        id_column = "item_id"
    ids = (frame[id_column] if id_column else refs).astype(str)
    if ids.duplicated().any():
        raise fail("id_column", "unique item ids", got_text=f"duplicate {ids[ids.duplicated()].iloc[0]!r}")
    dropped = sorted({c for c in (image_column, id_column, label_column) if c is not None})
    out = frame.drop(columns=dropped).copy()
    out.insert(0, "image", refs.astype(str).to_numpy())
    out.insert(0, "item_id", ids.to_numpy())
    names = tuple(class_names) if class_names is not None else None
    if label_column is not None:
        out["label"], names = _label_ids(frame[label_column], names)
    return ImageItems(out.reset_index(drop=True), names, str(Path(root) if root is not None else table.parent))


def _label_ids(values: pd.Series, names: tuple[str, ...] | None) -> tuple[np.ndarray, tuple[str, ...] | None]:
    known = values.notna() & (values.astype(str) != "")
    numeric = pd.to_numeric(values[known], errors="coerce")
    if names is None and numeric.notna().all():
        ids = np.full(len(values), -1, dtype=np.int64)
        ids[known.to_numpy()] = numeric.astype(np.int64).to_numpy()
        return ids, None
    names = names if names is not None else tuple(sorted(values[known].astype(str).unique()))
    lookup = {n: i for i, n in enumerate(names)}
    as_text = values.astype(str)
    unknown = sorted(set(as_text[known]) - set(lookup) - {str(i) for i in range(len(names))})
    if unknown:
        raise fail("label_column", f"labels among {list(names)} (or their ids)", got_text=repr(unknown[0]))
    ids = np.array([(lookup[t] if t in lookup else int(t)) if k else -1 for t, k in zip(as_text, known)],
                   dtype=np.int64)
    return ids, names


def load_image_arrays(images: str | os.PathLike[str], labels: Any = None, *, key: str | None = None,
                      class_names: Sequence[str] | None = None, id_prefix: str = "") -> ImageItems:
    """Images stored in an array file: IDX (MNIST's format, gzipped or not) or ``.npz``.

    Parameters
    ----------
    images : str or os.PathLike
        The array file; the pixels are read once when first decoded.
    labels : str, os.PathLike or array-like of shape (n,), optional
        Class ids: an IDX labels file, an array, or (for ``.npz``) read from
        the key ``labels`` or ``y`` of the same file when absent.
    key : str, optional
        The ``.npz`` key of the images (default ``images``, ``X`` or ``x``).
    class_names : sequence of str, optional
    id_prefix : str, default=""
        Item ids are ``f"{id_prefix}{index}"``.

    Returns
    -------
    ImageItems
        ``image`` holds ``"<path>#<index>"`` references.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(f, images=np.zeros((2, 8, 8), np.uint8), y=np.array([1, 0]))
    >>> load_image_arrays(f, id_prefix="img").frame[["item_id", "label"]].values.tolist()
    [['img0', 1], ['img1', 0]]
    """
    path = existing_file(images, "images")
    n = read_image_array(path, key=key).shape[0]
    frame = pd.DataFrame({"item_id": [f"{id_prefix}{i}" for i in range(n)],
                          "image": [array_ref(path, i) for i in range(n)]})
    y = _array_labels(path, labels)
    if y is not None:
        if y.shape != (n,):
            raise fail("labels", f"{n} class ids (one per image)", got_text=f"shape {y.shape}")
        frame["label"] = y.astype(np.int64)
    return ImageItems(frame, tuple(class_names) if class_names is not None else None, None)


def _array_labels(path: Path, labels: Any) -> np.ndarray | None:
    if labels is None:
        if path.suffix.lower() != ".npz":
            return None
        with np.load(path, allow_pickle=False) as npz:
            key = next((k for k in ("labels", "y") if k in npz.files), None)
            return None if key is None else np.asarray(npz[key]).reshape(-1)
    if isinstance(labels, (str, os.PathLike)):
        return read_idx(existing_file(labels, "labels")).reshape(-1)
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iu":
        raise fail("labels", "integer class ids", arr)
    return arr.reshape(-1)


def load_mnist(folder: str | os.PathLike[str], split: str = "train", *, fashion: bool | None = None) -> ImageItems:
    """MNIST or Fashion-MNIST from a folder holding the four original IDX files.

    Parameters
    ----------
    folder : str or os.PathLike
        E.g. ``"../shared/data/mnist"``.
    split : {"train", "test"}, default="train"
    fashion : bool, optional
        Use Fashion-MNIST's class names; default: when the folder's name
        contains ``fashion``.

    Returns
    -------
    ImageItems
        ``item_id`` is ``"<split><index>"``; ``label`` the class id.

    Examples
    --------
    >>> items = load_mnist("../shared/data/fashion_mnist", "test")  # doctest: +SKIP
    >>> len(items), items.class_names[0]  # doctest: +SKIP
    (10000, 'T-shirt/top')
    """
    base = existing_dir(folder, "folder")
    split = check_choice("split", split, tuple(_MNIST_FILES))
    images, labels = (base / name for name in _MNIST_FILES[split])
    is_fashion = "fashion" in base.name.lower() if fashion is None else bool(fashion)
    names = FASHION_MNIST_CLASSES if is_fashion else MNIST_CLASSES
    return load_image_arrays(images, labels, class_names=names, id_prefix=split)
