"""SQL fragments shared by the store's parts."""

from __future__ import annotations

__all__ = ["VERSIONS_SQL"]

#: The ids of every version of a dataset (the datasets with its name); one parameter: a dataset id.
VERSIONS_SQL = "SELECT dataset_id FROM datasets WHERE name = (SELECT name FROM datasets WHERE dataset_id = ?)"
