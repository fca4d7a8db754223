"""Files the pipeline's front ends write (the run report, Label Studio tasks): never half-written."""

from __future__ import annotations

import os
from pathlib import Path

from .._core.validation import fail

__all__ = ["write_text"]


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file beside it, folders created; return ``path``.

    A reader sees the old file or the new one, never a half-written one.

    Raises
    ------
    ValidationError
        ``path`` cannot be written (the message names it and the reason).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_text(folder / "out" / "a.txt", "hello").read_text()
    'hello'
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise fail("path", "a writable file", got_text=f"{str(path)!r} ({exc.strerror})") from None
    return path
