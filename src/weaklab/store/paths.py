"""Where a store lives by default (a module that imports nothing heavy, so the CLI can read it at start-up)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_PATH"]

#: The store's DuckDB file when none is named: relative to the working directory (``Store()``, ``weaklab``
#: commands outside a project) or to the project folder (a ``weaklab.toml`` without ``[store].path``).
DEFAULT_PATH = Path(".weaklab") / "weaklab.duckdb"
