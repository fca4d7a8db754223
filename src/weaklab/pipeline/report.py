"""The run report's former import path: it lives in :mod:`weaklab.report` (re-exported here unchanged)."""

from ..report import render_report, write_report

__all__ = ["write_report", "render_report"]
