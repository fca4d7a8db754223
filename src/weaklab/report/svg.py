"""Inline SVG charts for the run report, drawn server-side (no JavaScript, no external files).

Charts take plain Python numbers; every label goes through :func:`esc`, and
each mark carries a ``<title>`` (a tooltip) with its exact value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .html import esc

__all__ = ["bar_chart", "finite", "reliability_diagram", "PALETTE"]

#: Series colours (colour-blind-safe Okabe-Ito subset).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
_FONT = 'font-size="11"'


def finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing, not a number or infinite.

    Examples
    --------
    >>> finite("0.5"), finite(None), finite(float("nan"))
    (0.5, None, None)
    """
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _legend(names: Sequence[str], x: float, y: float) -> str:
    parts = []
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x + i * 150:.0f}" y="{y - 9:.0f}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + i * 150 + 14:.0f}" y="{y:.0f}" {_FONT}>{esc(_short(name, 20))}</text>')
    return "".join(parts)


def bar_chart(labels: Sequence[str], series: Mapping[str, Sequence[Any]], *, title: str,
              max_value: float = 1.0) -> str:
    """Horizontal grouped bars: one group per label, one bar per series (values in ``[0, max_value]``).

    Missing values (None, NaN) draw no bar and say so in the tooltip.
    """
    names = list(series)
    left, plot_w, bar_h = 190, 420, 11
    group_h = bar_h * max(1, len(names)) + 8
    top = 40
    height = top + group_h * len(labels) + 30
    scale = plot_w / max_value if max_value > 0 else 0.0
    out = [f'<svg viewBox="0 0 {left + plot_w + 60} {height}" '
           f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>',
           _legend(names, left, 16)]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * max_value * scale
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 26}" stroke="#d0d7de"/>'
                   f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle" {_FONT}>'
                   f"{tick * max_value:g}</text>")
    for g, label in enumerate(labels):
        y0 = top + g * group_h
        out.append(f'<text x="{left - 6}" y="{y0 + group_h / 2 + 2:.1f}" text-anchor="end" {_FONT}>'
                   f"<title>{esc(label)}</title>{esc(_short(str(label)))}</text>")
        for s, name in enumerate(names):
            value = finite(series[name][g])
            y = y0 + s * bar_h
            shown = "not recorded" if value is None else f"{value:.3f}"
            width = 0.0 if value is None else max(0.0, min(value, max_value)) * scale
            out.append(f'<rect x="{left}" y="{y:.1f}" width="{width:.1f}" height="{bar_h - 2}" '
                       f'fill="{PALETTE[s % len(PALETTE)]}"><title>{esc(label)} \u2013 {esc(name)}: '
                       f"{shown}</title></rect>")
    out.append("</svg>")
    return "".join(out)


def reliability_diagram(curves: Mapping[str, Sequence[Mapping[str, Any]]], *, title: str) -> str:
    """A reliability diagram: mean confidence (x) against accuracy (y) per bin, one line per curve.

    Each curve is a list of bins with ``confidence``, ``accuracy`` and
    ``count``; empty bins (count 0 or missing statistics) are skipped. The
    dashed diagonal is perfect calibration.
    """
    size, left, top = 300, 48, 34
    names = list(curves)
    out = [f'<svg viewBox="0 0 {left + size + 170} {top + size + 44}" '
           f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>',
           _legend(names, left, 16),
           f'<rect x="{left}" y="{top}" width="{size}" height="{size}" fill="none" stroke="#8c959f"/>',
           f'<line x1="{left}" y1="{top + size}" x2="{left + size}" y2="{top}" stroke="#8c959f" '
           f'stroke-dasharray="4 3"><title>perfect calibration</title></line>']
    for tick in (0.0, 0.5, 1.0):
        x, y = left + tick * size, top + size - tick * size
        out.append(f'<text x="{x:.0f}" y="{top + size + 14}" text-anchor="middle" {_FONT}>{tick:g}</text>'
                   f'<text x="{left - 6}" y="{y + 4:.0f}" text-anchor="end" {_FONT}>{tick:g}</text>')
    out.append(f'<text x="{left + size / 2:.0f}" y="{top + size + 32}" text-anchor="middle" {_FONT}>'
               f"confidence</text><text x=\"12\" y=\"{top + size / 2:.0f}\" text-anchor=\"middle\" {_FONT} "
               f'transform="rotate(-90 12 {top + size / 2:.0f})">accuracy</text>')
    for i, name in enumerate(names):
        out.append(_curve(curves[name], PALETTE[i % len(PALETTE)], name, left, top, size))
    out.append("</svg>")
    return "".join(out)


def _curve(bins: Sequence[Mapping[str, Any]], colour: str, name: str, left: float, top: float,
           size: float) -> str:
    points = []
    for b in bins:
        conf, acc, count = finite(b.get("confidence")), finite(b.get("accuracy")), finite(b.get("count"))
        if conf is None or acc is None or not count:
            continue
        points.append((left + conf * size, top + size - acc * size, conf, acc, int(count)))
    if not points:
        return ""
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y, *_ in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{esc(name)}: confidence '
                   f"{c:.3f}, accuracy {a:.3f}, {n} items</title></circle>" for x, y, c, a, n in points)
    return f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>{dots}'
