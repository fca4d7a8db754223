"""Writing an example project's files: refuse to overwrite without ``force``, and name the file a write failed on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ..errors import ValidationError

__all__ = ["refuse_existing", "write_example"]


def refuse_existing(paths: Iterable[Path], force: bool) -> None:
    """A ValidationError naming the first of ``paths`` that exists, unless ``force``.

    Examples
    --------
    >>> refuse_existing([Path("/nonexistent/weaklab.toml")], force=False)
    """
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise ValidationError(f"{existing[0]}: expected no existing project file, got one (use --force to overwrite)")


def write_example(root: Path, texts: Mapping[Path, str], tables: Mapping[Path, pd.DataFrame]) -> None:
    """Write ``texts`` (UTF-8), then ``tables`` (CSV without the index), creating their folders.

    An OSError becomes a ValidationError naming the file (or ``root``) and the reason.
    """
    try:
        for file in [*texts, *tables]:
            file.parent.mkdir(parents=True, exist_ok=True)
        for file, text in texts.items():
            file.write_text(text, encoding="utf-8")
        for file, frame in tables.items():
            frame.to_csv(file, index=False)
    except OSError as exc:
        raise ValidationError(f"{exc.filename or root}: expected a folder weaklab can create and write the project "
                              f"in, got {exc.strerror or exc}") from None
