"""Warnings that point at the user's code: the first caller outside the weaklab package.

A fixed ``stacklevel`` is right for one call path only: the same warning reached through
``Project.run``, ``AutoLabelModel.fit`` or a model's own ``fit`` sits at a different depth, and
Python then shows a line of weaklab's source as the culprit. :func:`warn` walks the stack instead,
so the file and line shown (and the module that warning filters match) are the caller's.
"""

from __future__ import annotations

import sys
import warnings
from types import FrameType

__all__ = ["warn"]

_PACKAGE = __name__.split(".")[0]


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Raise ``message`` as a ``category`` warning at the first frame outside weaklab.

    When every frame is weaklab's (the ``weaklab`` command), the outermost one is used.

    Parameters
    ----------
    message : str
        The warning's text.
    category : type of Warning, default UserWarning
        Its class.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("few votes")
    >>> caught[0].category.__name__, str(caught[0].message)
    ('UserWarning', 'few votes')
    """
    frame: FrameType | None = sys._getframe(1)
    level = 2  # warnings.warn's stacklevel of warn()'s caller
    while frame is not None and _inside(frame):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level if frame is not None else level - 1)


def _inside(frame: FrameType) -> bool:
    name = str(frame.f_globals.get("__name__", ""))
    return name == _PACKAGE or name.startswith(_PACKAGE + ".")
