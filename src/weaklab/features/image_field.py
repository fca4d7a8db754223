"""Which column and folder image sources read when not told: ``"image"`` and the working folder, or the project's.

:class:`~weaklab.features.ImageFeaturizer`, :func:`weaklab.seed_lf` and
:func:`weaklab.image_model_lf` default to ``field="image"`` and resolve
relative picture paths against the working folder. Inside
:func:`default_image_field` (which a weaklab project wraps around loading its
LF module, with ``[data].image_column`` and the data table's folder), those
built without an explicit ``field`` read the project's picture column, and
those built without ``root`` resolve relative paths against the table's
folder, where the project's paths point. An explicit ``field=`` or ``root=``
always wins; outside the context the defaults stay. Both are resolved when the
source is built, so they are part of its parameters.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .._core.context_default import ContextDefault
from .._core.validation import fail

__all__ = ["IMAGE", "default_image_field", "resolve_image_field", "resolve_image_root"]


class _DefaultImage(str):
    """The default of an image source's ``field``: equal to ``"image"``, but recognisable as "not given"."""

    __slots__ = ()


#: The value image sources use as the default of ``field`` (it equals, and prints as, ``"image"``).
IMAGE: str = _DefaultImage("image")

_CONTEXT = ContextDefault("weaklab_default_image_field")  # (column, root) inside default_image_field


@contextmanager
def default_image_field(field: str, root: str | os.PathLike[str] | None = None) -> Iterator[str]:
    """Make ``field`` (and ``root``) what image sources read when they are built without ``field=`` (``root=``).

    Parameters
    ----------
    field : str
        A column of picture references (a project's ``[data].image_column``).
    root : str or os.PathLike, optional
        The folder relative references are relative to (a project's data
        table's folder); None leaves the working folder.

    Yields
    ------
    str
        ``field``.

    Examples
    --------
    >>> from weaklab.features import ImageFeaturizer
    >>> with default_image_field("picture", root="/data/shop"):
    ...     inside = ImageFeaturizer()
    >>> (inside.field, inside.root), (ImageFeaturizer().field, ImageFeaturizer().root)
    (('picture', '/data/shop'), ('image', None))
    """
    if not isinstance(field, str) or not field:
        raise fail("field", "a column name (non-empty string)", field)
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise fail("root", "a folder path or None", root)
    with _CONTEXT.using((str(field), None if root is None else os.fspath(root))):
        yield field


def resolve_image_field(field: Any) -> Any:
    """The column an image source reads: ``field`` when given, else the context's picture column, else ``"image"``.

    Examples
    --------
    >>> resolve_image_field("photo"), resolve_image_field(IMAGE)
    ('photo', 'image')
    """
    if isinstance(field, _DefaultImage):
        context = _CONTEXT.get()
        return "image" if context is None else context[0]
    return field


def resolve_image_root(root: str | os.PathLike[str] | None) -> str | os.PathLike[str] | None:
    """The folder relative picture paths resolve against: ``root`` when given, else the context's (or None).

    Examples
    --------
    >>> resolve_image_root("/pics"), resolve_image_root(None)
    ('/pics', None)
    """
    if root is not None:
        return root
    context = _CONTEXT.get()
    return None if context is None else context[1]
