"""Server-side SVG charts for the dashboard (no JavaScript, no external files).

Bars and reliability diagrams come from the run report's helpers; this module
adds a line chart (a source's statistics across runs) and a heat-map
(agreement between sources, confusion matrices). Every label is escaped and
every mark carries a ``<title>`` tooltip with its exact value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from markupsafe import Markup

from ..report.html import esc
from ..report.svg import PALETTE, bar_chart, finite, reliability_diagram

__all__ = ["bars", "heatmap", "line_chart", "reliability"]

_FONT = 'font-size="11"'


def bars(labels: Sequence[str], series: Mapping[str, Sequence[Any]], *, title: str,
         max_value: float = 1.0) -> Markup:
    """Grouped horizontal bars (see :func:`weaklab.report.svg.bar_chart`)."""
    return Markup(bar_chart(labels, series, title=title, max_value=max_value))


def reliability(curves: Mapping[str, Sequence[Mapping[str, Any]]], *, title: str) -> Markup:
    """A reliability diagram (see :func:`weaklab.report.svg.reliability_diagram`)."""
    return Markup(reliability_diagram(curves, title=title))


def line_chart(x_labels: Sequence[str], series: Mapping[str, Sequence[Any]], *, title: str) -> Markup:
    """One line per series over ``x_labels`` (values in ``[0, 1]``); missing values break nothing."""
    left, top, width, height = 48, 34, 520, 220
    n = max(1, len(x_labels))
    step = width / max(1, n - 1)
    out = [f'<svg viewBox="0 0 {left + width + 40} {top + height + 60}" role="img" aria-label="{esc(title)}">'
           f"<title>{esc(title)}</title>"]
    for i, name in enumerate(series):
        out.append(f'<rect x="{left + i * 150}" y="8" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{left + i * 150 + 14}" y="17" {_FONT}>{esc(str(name)[:20])}</text>')
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + height - tick * height
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" stroke="#d0d7de"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {_FONT}>{tick:g}</text>')
    for i, label in enumerate(x_labels):
        x = left + (i * step if n > 1 else width / 2)
        out.append(f'<text x="{x:.1f}" y="{top + height + 16}" text-anchor="middle" {_FONT}>{esc(label)}</text>')
    for s, (name, values) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        points = [(left + (i * step if n > 1 else width / 2), v, i) for i, v in enumerate(map(finite, values))
                  if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{top + height - min(max(v, 0), 1) * height:.1f}" for x, v, _ in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for x, v, i in points:
            y = top + height - min(max(v, 0), 1) * height
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{esc(name)} at '
                       f"{esc(x_labels[i])}: {v:.3f}</title></circle>")
    out.append(f'<text x="{left + width / 2}" y="{top + height + 34}" text-anchor="middle" {_FONT}>run</text>'
               "</svg>")
    return Markup("".join(out))


def _colour(value: float | None, low: float, high: float) -> str:
    if value is None:
        return "#eeeeee"
    t = 0.0 if high <= low else min(max((value - low) / (high - low), 0.0), 1.0)
    r, g, b = (round(255 + (c - 255) * t) for c in (0x00, 0x72, 0xB2))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(rows: Sequence[str], cols: Sequence[str], values: Any, *, title: str, low: float = 0.0,
            high: float = 1.0, fmt: str = ".2f") -> Markup:
    """A heat-map of ``values`` (shape ``(len(rows), len(cols))``; NaN cells grey), labelled and with tooltips."""
    grid = np.asarray(values, dtype=float)
    cell = 26 if len(cols) <= 20 else 14
    left, top = 170, 120
    out = [f'<svg viewBox="0 0 {left + cell * len(cols) + 20} {top + cell * len(rows) + 20}" role="img" '
           f'aria-label="{esc(title)}"><title>{esc(title)}</title>']
    for j, name in enumerate(cols):
        x = left + j * cell + cell / 2
        out.append(f'<text x="{x:.1f}" y="{top - 6}" transform="rotate(-60 {x:.1f} {top - 6})" {_FONT}>'
                   f"{esc(str(name)[:22])}</text>")
    for i, name in enumerate(rows):
        y = top + i * cell
        out.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4:.1f}" text-anchor="end" {_FONT}>'
                   f"{esc(str(name)[:24])}</text>")
        for j, col in enumerate(cols):
            value = finite(grid[i, j])
            shown = "no data" if value is None else format(value, fmt)
            text = (f'<text x="{left + j * cell + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle" '
                    f'font-size="8" fill="{"#fff" if value is not None and value > (low + high) / 2 else "#000"}">'
                    f"{esc(shown)}</text>") if cell >= 26 else ""
            out.append(f'<rect x="{left + j * cell}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                       f'fill="{_colour(value, low, high)}"><title>{esc(name)} / {esc(col)}: {esc(shown)}</title>'
                       f"</rect>{text}")
    out.append("</svg>")
    return Markup("".join(out))
