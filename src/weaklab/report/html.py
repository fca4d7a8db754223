"""HTML building blocks of the run report: escaped text, tables, sections and the page shell.

Every piece of text that reaches the page goes through :func:`esc`
(``html.escape`` with quotes), so names, messages and ids from the store can
never inject markup. The page carries its own CSS and no external resource.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["esc", "fmt", "table", "kv_table", "section", "missing", "page", "MISSING"]

#: What a section says when the run did not record its data.
MISSING = "Not recorded for this run."

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1100px;margin:0 auto;padding:1.5rem}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.25rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem;
margin-top:2rem}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
nav a{margin-right:.8rem;color:#0969da;text-decoration:none}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.missing{color:#656d76;font-style:italic}.note{color:#656d76;font-size:.85rem}
.warning{background:#fff8c5;border-left:3px solid #d4a72c;padding:.3rem .6rem}
.sev-error{color:#cf222e;font-weight:600}.sev-warning{color:#9a6700;font-weight:600}.sev-info{color:#0969da}
svg{max-width:100%;height:auto;font-family:inherit}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
img.thumb{image-rendering:pixelated;border:1px solid #d0d7de;display:block}
figure.sample{display:inline-block;margin:0 .5rem .5rem 0;font-size:.75rem;color:#656d76}
"""


def esc(value: Any) -> str:
    """``value`` as text safe inside HTML elements and quoted attributes."""
    from html import escape

    return escape(value if isinstance(value, str) else str(value), quote=True)


def fmt(value: Any, digits: int = 3) -> str:
    """A value as short display text (escaped): floats rounded, missing values as an en dash."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "&ndash;"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return esc(f"{value:.{digits}f}" if abs(value) < 1e6 else f"{value:.3g}")
    if isinstance(value, (Mapping, list, tuple)):
        return f"<code>{esc(_short_json(value))}</code>"
    return esc(value)


def _short_json(value: Any, limit: int = 300) -> str:
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cell(value: Any) -> str:
    numeric = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    return f'<td class="num">{fmt(value)}</td>' if numeric else f"<td>{fmt(value)}</td>"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, raw_columns: Sequence[int] = ()) -> str:
    """An HTML table; cells are escaped, except columns in ``raw_columns`` (pre-built safe HTML)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = [f"<td>{v}</td>" if j in raw_columns else _cell(v) for j, v in enumerate(row)]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def kv_table(values: Mapping[str, Any]) -> str:
    """A two-column table of names and values (nested values shown as compact JSON)."""
    if not values:
        return missing("None.")
    return table(["name", "value"], [(k, v) for k, v in values.items()])


def missing(text: str = MISSING) -> str:
    """The paragraph a section shows when its data is absent."""
    return f'<p class="missing">{esc(text)}</p>'


def section(anchor: str, title: str, body: str) -> str:
    """A report section with an anchor id (for the navigation) and a heading."""
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>\n{body}\n</section>'


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]]) -> str:
    """The whole HTML document: title, navigation and ``(anchor, title, body)`` sections."""
    nav = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t, _ in sections)
    parts = "\n".join(section(a, t, b) for a, t, b in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<header><h1>{esc(title)}</h1><p class=\"note\">{esc(subtitle)}</p><nav>{nav}</nav></header>\n"
        f"{parts}\n</main>\n</body>\n</html>\n"
    )
