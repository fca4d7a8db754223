"""The lineage store: runs, sources, label matrices, labels, corrections and human answers.

``Store(path)`` opens (or creates) an embedded DuckDB file with large arrays in
Parquet beside it; see :class:`Store` for the records, queries, concurrency
model and durability guarantees.
"""

from ._explain import FINAL_FROM
from ._lineage import RUN_STATUSES
from .schema import SCHEMA_VERSION
from .store import Store

__all__ = ["FINAL_FROM", "RUN_STATUSES", "SCHEMA_VERSION", "Store"]
