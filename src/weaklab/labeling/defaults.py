"""The project defaults a weaklab project sets while its LF module runs: the text column, the picture column and folder.

:func:`source_defaults` combines :func:`~weaklab.labeling.default_text_field`
and :func:`~weaklab.features.default_image_field`, so text templates and
image sources built there without ``field=`` (or ``root=``) read the
project's columns. The project loader and the Dask workers (which run the
same LF files) both use it, so an LF means the same thing in both places.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from ..features.image_field import default_image_field
from .text_field import default_text_field

__all__ = ["source_defaults"]


@contextmanager
def source_defaults(text_field: str | None = None, image_field: str | None = None,
                    image_root: str | os.PathLike[str] | None = None) -> Iterator[None]:
    """Build sources with the project's text column, picture column and picture folder as defaults.

    Parameters
    ----------
    text_field : str, optional
        ``[data].text_field``; None leaves text templates' default (``"text"``).
    image_field : str, optional
        ``[data].image_column``; None leaves image sources' default (``"image"``).
    image_root : str or os.PathLike, optional
        The folder the picture paths are relative to (the data table's); used
        only with ``image_field``.

    Examples
    --------
    >>> from weaklab.labeling import keyword_lf
    >>> from weaklab.features import ImageFeaturizer
    >>> with source_defaults("body", "photo"):
    ...     lf, featurizer = keyword_lf(["sale"], 1), ImageFeaturizer()
    >>> lf.params["field"], featurizer.field
    ('body', 'photo')
    """
    with ExitStack() as stack:
        if text_field:
            stack.enter_context(default_text_field(text_field))
        if image_field:
            stack.enter_context(default_image_field(image_field, image_root))
        yield
