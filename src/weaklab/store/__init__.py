"""The lineage store: runs, sources, label matrices, labels, corrections and human answers.

``Store(path)`` opens (or creates) an embedded DuckDB file with large arrays in
Parquet beside it; see :class:`Store` for the records, queries, concurrency
model and durability guarantees. :func:`connection` gives a script its own
SQL on the file under the lock a Store takes; :func:`lock_holder` names the
process writing it. The names below load on first use (DuckDB
is imported only then), except :data:`DEFAULT_PATH`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .paths import DEFAULT_PATH

if TYPE_CHECKING:
    from ._explain import FINAL_FROM
    from ._lineage import RUN_STATUSES
    from ._spans import SPAN_DECISIONS, SPAN_ROLES
    from .access import connection, lock_holder
    from .schema import SCHEMA_VERSION
    from .store import Store

__all__ = ["DEFAULT_PATH", "FINAL_FROM", "RUN_STATUSES", "SCHEMA_VERSION", "SPAN_DECISIONS", "SPAN_ROLES", "Store",
           "connection", "lock_holder"]

_LAZY = {"FINAL_FROM": "._explain", "RUN_STATUSES": "._lineage", "SCHEMA_VERSION": ".schema", "Store": ".store",
         "SPAN_DECISIONS": "._spans", "SPAN_ROLES": "._spans",
         "connection": ".access", "lock_holder": ".access"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'weaklab.store' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
