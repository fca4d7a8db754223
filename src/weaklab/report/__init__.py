"""The offline HTML run report (``weaklab report``).

* :func:`write_report` / :func:`render_report`: one self-contained HTML file
  about one run (:mod:`weaklab.report.writer`);
* :mod:`weaklab.report.html` and :mod:`weaklab.report.svg`: the escaped HTML
  building blocks and server-drawn SVG charts, which the dashboard reuses.

It sits beside :mod:`weaklab.pipeline` and reads a run through
:func:`weaklab.pipeline.summary.read_run`.
"""

from .writer import render_report, write_report

__all__ = ["render_report", "write_report"]
