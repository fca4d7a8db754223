"""Decode images on demand: image files (via Pillow) and images stored in arrays (IDX, ``.npz``).

An image item is named by a *reference*, a string that a table can hold:

* a path to an image file (PNG, JPEG, ...), decoded with Pillow when read;
* ``"<array file>#<index>"``: image ``index`` of an IDX file (optionally
  gzipped, as MNIST ships) or of an ``.npz`` file (key ``images``, ``X`` or
  ``x``, or the only array in it).

Nothing is decoded until :func:`read_images` is called; array files are read
once and the last few are kept in memory (keyed by path, size and mtime).
"""

from __future__ import annotations

import gzip
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._core.validation import check_choice, check_int, describe, fail
from ..errors import missing_dependency

__all__ = [
    "read_idx",
    "read_images",
    "read_image_array",
    "array_ref",
    "split_ref",
    "rooted_ref",
    "is_array_file",
    "import_pil",
]

_IDX_TYPES: dict[int, Any] = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_ARRAY_SUFFIX = re.compile(r"(\.npz|-ubyte(\.gz)?|\.idx\d?(\.gz)?)$", re.IGNORECASE)
_REF = re.compile(r"^(?P<path>.+)#(?P<index>\d+)$")
_NPZ_KEYS = ("images", "X", "x")
_CACHE_SIZE = 3
_cache: OrderedDict[tuple[str, int, int, str], np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def import_pil(feature: str) -> Any:
    """Return ``PIL.Image`` or raise :class:`~weaklab.errors.MissingDependencyError` (extra ``vision``)."""
    try:
        from PIL import Image
    except ImportError:
        raise missing_dependency("pillow", "vision", feature) from None
    return Image


def is_array_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an array file of images (IDX, gzipped IDX or ``.npz``) by its suffix.

    Examples
    --------
    >>> is_array_file("train-images-idx3-ubyte.gz"), is_array_file("cat.png")
    (True, False)
    """
    return bool(_ARRAY_SUFFIX.search(str(path)))


def array_ref(path: str | os.PathLike[str], index: int) -> str:
    """The reference of image ``index`` in an array file.

    Examples
    --------
    >>> array_ref("mnist/t10k-images-idx3-ubyte.gz", 3)
    'mnist/t10k-images-idx3-ubyte.gz#3'
    """
    return f"{os.fspath(path)}#{int(index)}"


def split_ref(ref: str) -> tuple[str, int | None]:
    """Split a reference into ``(path, index)``; ``index`` is None for an image file.

    Examples
    --------
    >>> split_ref("digits.npz#12")
    ('digits.npz', 12)
    >>> split_ref("photos/cat#1.png")
    ('photos/cat#1.png', None)
    """
    if not isinstance(ref, str) or not ref:
        raise fail("refs", "image references (non-empty str: a file path or '<array file>#<index>')", ref)
    m = _REF.match(ref)
    if m and is_array_file(m.group("path")):
        return m.group("path"), int(m.group("index"))
    return ref, None


def rooted_ref(ref: str, root: str | os.PathLike[str]) -> str:
    """``ref`` with a relative path made absolute against ``root`` (an array file's index kept).

    A table of pictures names them relative to its own folder; sources built
    for another table resolve paths against *that* table's folder, so a
    table read elsewhere gives them absolute references.

    Examples
    --------
    >>> rooted_ref("pics/cat.png", "/data/new"), rooted_ref("/abs/cat.png", "/data/new")
    ('/data/new/pics/cat.png', '/abs/cat.png')
    >>> rooted_ref("digits.npz#12", "/data/new")
    '/data/new/digits.npz#12'
    """
    path, index = split_ref(ref)
    if Path(path).is_absolute():
        return ref
    full = os.path.abspath(os.path.join(os.fspath(root), path))
    return full if index is None else array_ref(full, index)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (the MNIST format; gzipped when its name ends in ``.gz``).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    ndarray
        Shape and dtype from the file's header (MNIST images: ``(n, 28, 28)``
        uint8; labels: ``(n,)`` uint8).

    Raises
    ------
    ValidationError
        The file is missing, or its header or length is not that of an IDX file.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "x-ubyte")
    >>> _ = open(f, "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(f)
    array([7, 8, 9], dtype=uint8)
    """
    p = Path(path)
    if not p.is_file():
        raise fail("path", "an existing IDX file", got_text=f"{str(p)!r} (no such file)")
    try:
        raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    except (OSError, EOFError) as exc:
        raise fail("path", "a readable (gzipped) IDX file", got_text=f"{str(p)!r} ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise fail("path", "an IDX file (magic 0x00 0x00 <type> <ndim>)", got_text=f"{str(p)!r}: {raw[:4]!r}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    if len(raw) != header + int(np.prod(shape)) * dtype.itemsize:
        raise fail("path", f"an IDX file of shape {shape} ({dtype})",
                   got_text=f"{str(p)!r} with {len(raw) - header} data bytes")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_image_array(path: str | os.PathLike[str], *, key: str | None = None) -> np.ndarray:
    """The images of an array file (IDX or ``.npz``) as uint8 ``(n, H, W)`` or ``(n, H, W, C)``.

    Read once; the last few arrays read stay in memory (re-read when the
    file's size or mtime changes).

    Parameters
    ----------
    path : str or os.PathLike
    key : str, optional
        The ``.npz`` key holding the images; default ``images``, ``X`` or
        ``x``, or the only array.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(f, images=np.zeros((2, 4, 4), np.uint8))
    >>> read_image_array(f).shape
    (2, 4, 4)
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        raise fail("path", "an existing array file of images (IDX or .npz)",
                   got_text=f"{str(p)!r} (no such file)") from None
    token = (str(p.resolve()), st.st_size, st.st_mtime_ns, key or "")
    with _cache_lock:
        if token in _cache:
            _cache.move_to_end(token)
            return _cache[token]
    images = _as_uint8_images(_load_array(p, key), str(p))
    images.setflags(write=False)
    with _cache_lock:
        _cache[token] = images
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return images


def _load_array(p: Path, key: str | None) -> np.ndarray:
    if p.suffix.lower() != ".npz":
        return read_idx(p)
    try:
        with np.load(p, allow_pickle=False) as npz:
            names = list(npz.files)
            chosen = key or next((k for k in _NPZ_KEYS if k in names), names[0] if len(names) == 1 else None)
            if chosen is None or chosen not in names:
                raise fail("key", f"an array of {str(p)!r} ({', '.join(names)})", key)
            return np.asarray(npz[chosen])
    except (OSError, ValueError) as exc:
        raise fail("path", "a readable .npz file without pickled objects", got_text=f"{str(p)!r} ({exc})") from None


def _as_uint8_images(arr: np.ndarray, where: str) -> np.ndarray:
    if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[3] not in (1, 3, 4)):
        raise fail(where, "images of shape (n, H, W) or (n, H, W, C) with C in 1, 3, 4", arr)
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind == "f":
        if arr.size and (np.nanmin(arr) < 0 or np.nanmax(arr) > 1 or np.isnan(arr).any()):
            raise fail(where, "float pixels in [0, 1] (or uint8 pixels)", got_text=describe(arr))
        return np.round(arr * 255).astype(np.uint8)
    if arr.dtype.kind in "iu" and (arr.size == 0 or (arr.min() >= 0 and arr.max() <= 255)):
        return arr.astype(np.uint8)
    raise fail(where, "uint8 pixels, integers in [0, 255] or floats in [0, 1]", got_text=describe(arr))


def read_images(refs: Iterable[str] | str, *, size: Sequence[int] | None = None, mode: str = "L",
                root: str | os.PathLike[str] | None = None) -> np.ndarray:
    """Decode the images named by ``refs`` into one uint8 array.

    Parameters
    ----------
    refs : iterable of str, or one str
        Image references: file paths, or ``"<array file>#<index>"``.
    size : (width, height), optional
        Resize every image to this size (bilinear). Required when the images
        differ in size.
    mode : {"L", "RGB"}, default="L"
        Grey ``(n, H, W)`` or colour ``(n, H, W, 3)``.
    root : str or os.PathLike, optional
        Folder that relative references are relative to (default: the
        working directory).

    Returns
    -------
    ndarray of uint8, shape (n, H, W) or (n, H, W, 3)

    Raises
    ------
    ValidationError
        A reference names a missing or undecodable file, an index out of
        range, or the images differ in size and ``size`` is not given.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(f, images=np.arange(32, dtype=np.uint8).reshape(2, 4, 4))
    >>> read_images([f + "#1", f + "#0"]).shape
    (2, 4, 4)
    >>> int(read_images(f + "#1")[0, 0, 0])
    16
    """
    mode = check_choice("mode", mode, ("L", "RGB"))
    if size is not None:
        size = (check_int("size", size[0], low=1), check_int("size", size[1], low=1))
    items = [refs] if isinstance(refs, str) else list(refs)
    base = Path(root) if root is not None else None
    decoded = [_decode(ref, size, mode, base) for ref in items]
    if not decoded:
        h, w = (size[1], size[0]) if size else (0, 0)
        return np.zeros((0, h, w) if mode == "L" else (0, h, w, 3), dtype=np.uint8)
    shapes = {d.shape for d in decoded}
    if len(shapes) > 1:
        raise fail("size", "a (width, height) to resize to, as the images differ in size",
                   got_text=f"None with image shapes {sorted(shapes)[:3]}")
    return np.stack(decoded)


def _decode(ref: str, size: tuple[int, int] | None, mode: str, base: Path | None) -> np.ndarray:
    path, index = split_ref(ref)
    p = Path(path)
    if base is not None and not p.is_absolute():
        p = base / p
    if index is None:
        return _decode_file(p, size, mode)
    images = read_image_array(p)
    if index >= images.shape[0]:
        raise fail("refs", f"an index below {images.shape[0]} (images in {str(p)!r})", got_text=ref)
    img = images[index]
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    want_grey = mode == "L"
    if (img.ndim == 2) == want_grey and size is None:
        return np.asarray(img)
    Image = import_pil("read_images")
    pil = Image.fromarray(np.ascontiguousarray(img)).convert(mode)
    return np.asarray(pil if size is None else pil.resize(size, Image.BILINEAR))


def _decode_file(p: Path, size: tuple[int, int] | None, mode: str) -> np.ndarray:
    Image = import_pil("read_images")
    try:
        with Image.open(p) as im:
            im = im.convert(mode)
            if size is not None:
                im = im.resize(size, Image.BILINEAR)
            return np.asarray(im, dtype=np.uint8)
    except FileNotFoundError:
        raise fail("refs", "paths of existing image files", got_text=f"{str(p)!r} (no such file)") from None
    except (OSError, ValueError) as exc:  # PIL.UnidentifiedImageError is an OSError
        raise fail("refs", "decodable image files", got_text=f"{str(p)!r} ({exc})") from None
