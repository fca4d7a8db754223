"""Runs whose process died: read as ``"interrupted"``, persisted as such by the next writer."""

from __future__ import annotations

from typing import Any

from ._base import StoreConnection
from ._db import utcnow
from ._liveness import current_process, process_alive

__all__ = ["RunStateMixin", "INTERRUPTED"]

#: Status of a run whose process is gone without finishing it (set by the store, never by finish_run).
INTERRUPTED = "interrupted"


class RunStateMixin(StoreConnection):
    """Records the process of each run and notices runs whose process is gone."""

    def _after_open(self) -> None:
        self._dead_runs: set[int] = set()
        self._refresh_dead_runs()

    def _process_columns(self) -> dict[str, Any]:
        """The columns a new run records about the process running it."""
        pid, host, start = current_process()
        return {"pid": pid, "host": host, "process_start": start}

    def _refresh_dead_runs(self) -> set[int]:
        """Find running runs whose process is gone; a writable store marks them interrupted for good."""
        rows = self._query("SELECT run_id, pid, host, process_start FROM runs WHERE status = 'running' "
                           "AND pid IS NOT NULL")
        dead = {int(run) for run, pid, host, start in rows if not process_alive(int(pid), host, start)}
        if dead and not self.read_only:
            with self._transaction() as con:
                con.execute(f"UPDATE runs SET status = '{INTERRUPTED}', finished_at = ? WHERE status = 'running' "
                            "AND run_id IN (SELECT unnest(?::BIGINT[]))", [utcnow(), sorted(dead)])
            dead = set()
        self._dead_runs = dead
        return dead

    def _status_of(self, run_id: int, status: str) -> str:
        """A run's status as stored, or ``"interrupted"`` for a dead run a read-only store could not mark."""
        return INTERRUPTED if status == "running" and int(run_id) in self._dead_runs else status
