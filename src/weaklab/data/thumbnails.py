"""An on-disk cache of PNG thumbnails keyed by image content (for review pages, lineage and reports)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .._core.validation import check_int, fail
from .image_io import import_pil, read_image_array, read_images, split_ref

__all__ = ["ThumbnailCache", "image_content_hash"]


def image_content_hash(ref: str, *, root: str | os.PathLike[str] | None = None) -> str:
    """BLAKE2b-128 hex digest of an image's content.

    For an image file, the hash of its bytes; for ``"<array file>#<index>"``,
    the hash of that image's shape, dtype and pixels. Two references to the
    same content share a digest (and so a thumbnail).

    Parameters
    ----------
    ref : str
        An image file path, or ``"<array file>#<index>"`` for one image of an ``.npz`` or IDX file.
    root : str or Path, optional
        The folder relative references are resolved against.

    Returns
    -------
    str
        32 hexadecimal digits.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(f, images=np.zeros((2, 4, 4), np.uint8))
    >>> image_content_hash(f + "#0") == image_content_hash(f + "#1")
    True
    """
    path, index = split_ref(ref)
    p = Path(path)
    if root is not None and not p.is_absolute():
        p = Path(root) / p
    h = hashlib.blake2b(digest_size=16)
    if index is None:
        try:
            h.update(p.read_bytes())
        except OSError:
            raise fail("ref", "a path of an existing image file", got_text=f"{str(p)!r} (unreadable)") from None
        return h.hexdigest()
    images = read_image_array(p)
    if index >= images.shape[0]:
        raise fail("ref", f"an index below {images.shape[0]} (images in {str(p)!r})", got_text=ref)
    img = np.ascontiguousarray(images[index])
    h.update(f"{img.shape}{img.dtype}".encode())
    h.update(img.tobytes())
    return h.hexdigest()


class ThumbnailCache:
    """PNG thumbnails under ``cache_dir``, named by the image's content hash and the size.

    A thumbnail is written once (atomically: a temporary file renamed into
    place, so concurrent writers are safe) and reused for every reference to
    the same content. The image keeps its aspect ratio and fits in a
    ``size`` x ``size`` box; small images (such as 28 x 28 digits) are scaled up
    with nearest-neighbour so their pixels stay sharp.

    Parameters
    ----------
    cache_dir : str or os.PathLike
        Folder of the thumbnails (created when needed).
    size : int, default=96
        Longest side of a thumbnail, in pixels.
    root : str or os.PathLike, optional
        Folder that relative references are relative to.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> np.savez(os.path.join(d, "px.npz"), images=np.zeros((1, 28, 28), np.uint8))
    >>> cache = ThumbnailCache(os.path.join(d, "thumbs"), size=56)
    >>> png = cache.thumbnail(os.path.join(d, "px.npz#0"))
    >>> png.suffix, png.exists(), cache.thumbnail(os.path.join(d, "px.npz#0")) == png
    ('.png', True, True)
    """

    def __init__(self, cache_dir: str | os.PathLike[str], *, size: int = 96,
                 root: str | os.PathLike[str] | None = None) -> None:
        if not isinstance(cache_dir, (str, os.PathLike)) or not os.fspath(cache_dir):
            raise fail("cache_dir", "a folder path", cache_dir)
        self.cache_dir = Path(cache_dir)
        self.size = check_int("size", size, low=8, high=1024)
        self.root = root

    def path_for(self, digest: str) -> Path:
        """Where the thumbnail of content ``digest`` is (or will be) stored."""
        return self.cache_dir / digest[:2] / f"{digest}-{self.size}.png"

    def thumbnail(self, ref: str) -> Path:
        """The PNG thumbnail of the image named by ``ref``, written on first request."""
        target = self.path_for(image_content_hash(ref, root=self.root))
        if target.exists():
            return target
        pixels = read_images([ref], mode="RGB", root=self.root)[0]
        self._write(pixels, target)
        return target

    def thumbnails(self, refs: Iterable[str]) -> list[Path]:
        """:meth:`thumbnail` of each reference, in order."""
        return [self.thumbnail(r) for r in refs]

    def _write(self, pixels: np.ndarray, target: Path) -> None:
        Image = import_pil("ThumbnailCache")
        img = Image.fromarray(pixels)
        h, w = pixels.shape[:2]
        scale = self.size / max(h, w)
        new = (max(1, round(w * scale)), max(1, round(h * scale)))
        resample = Image.NEAREST if scale >= 2 else Image.BILINEAR
        img = img.resize(new, resample)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                img.save(fh, format="PNG")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
