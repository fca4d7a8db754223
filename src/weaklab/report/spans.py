"""The span section of a tagging run's report: span F1 per type, span coverage per source, examples.

Span F1 (strict: start, end and type must match) is measured on the run's
dev gold, as the run recorded it (:mod:`weaklab.pipeline.tagging`); a run
without dev gold says so. Coverage comes from the run's ``"sources"`` span
set; the examples are the items whose least certain token is least certain,
with the proposed spans next to the gold spans and people's answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..store import Store
from .html import esc, fmt, missing, table
from .svg import bar_chart

__all__ = ["spans_section", "N_SPAN_EXAMPLES", "marked_text"]

#: Items shown as examples (least certain first).
N_SPAN_EXAMPLES = 12


def marked_text(tokens: list[str], spans: list[Any]) -> str:
    """The tokens as escaped HTML with each span in a ``<mark>`` carrying its type.

    Examples
    --------
    >>> marked_text(["take", "aspirin", "<daily>"], [[1, 2, "Chemical"]])
    'take <mark title="Chemical">aspirin</mark><sub>Chemical</sub> &lt;daily&gt;'
    """
    words = [esc(t) for t in tokens]
    for start, end, kind in sorted(spans, reverse=True):
        words[start:end] = [f'<mark title="{esc(kind)}">{" ".join(words[start:end])}</mark><sub>{esc(kind)}</sub>']
    return " ".join(words)


def spans_section(store: Store, run_id: int, metrics: Mapping[str, Any]) -> str:
    """The HTML body of the span section of a tagging run (empty string for other runs)."""
    sets = store.span_sets(run_id)
    if sets.empty:
        return ""
    return _f1_part(metrics) + _coverage_part(store, sets) + _examples_part(store, run_id, sets)


def _f1_part(metrics: Mapping[str, Any]) -> str:
    lm, em = metrics.get("label_model") or {}, metrics.get("end_model") or {}
    given = [(f"label model ({lm.get('class')})", lm.get("span_f1")), (f"end model ({em.get('name')})",
                                                                        em.get("span_f1"))]
    reports: list[tuple[str, Mapping[str, Any]]] = [(name, r) for name, r in given if isinstance(r, Mapping)]
    if not reports:
        return "<h3>Span F1</h3>" + missing("no dev gold spans: span F1 was not measured")
    types = [*sorted({t for _, r in reports for t in r if t != "micro"}), "micro"]
    rows = [(t, *(r.get(t, {}).get(k) for _, r in reports for k in ("precision", "recall", "f1")),
             _count(reports[0][1].get(t, {}).get("support"))) for t in types]
    headers = ["type", *(f"{name} {k}" for name, _ in reports for k in ("P", "R", "F1")), "gold spans"]
    body = f"<h3>Span F1 on {esc(metrics.get('n_dev'))} dev sentences (strict match)</h3>" + table(headers, rows)
    if "majority_vote_span_f1" in lm:
        body += (f'<p class="note">Token-level majority vote (WRENCH\'s convention) on the same sentences: micro F1 '
                 f"{fmt(lm['majority_vote_span_f1'])}.</p>")
    return body


def _count(value: Any) -> Any:
    return int(value) if isinstance(value, (int, float)) and value == value else value


def _coverage_part(store: Store, sets: Any) -> str:
    found = sets[sets["role"] == "sources"]
    if found.empty:
        return "<h3>Span coverage per source</h3>" + missing()
    spans, _ = store.load_span_set(int(found["span_set_id"].iloc[-1]))
    names = [s["name"] for s in found["sources"].iloc[-1]]
    n_items = max(1, int(found["n_items"].iloc[-1]))
    rows, coverage = [], []
    for j, name in enumerate(names):
        mine = spans[spans["source"] == j]
        share = mine["row"].nunique() / n_items
        types = ", ".join(sorted(mine["type"].unique().tolist()))
        length = float((mine["end"] - mine["start"]).mean()) if len(mine) else np.nan
        rows.append((name, len(mine), share, length, types))
        coverage.append(share)
    body = "<h3>Span coverage per source</h3>" + table(
        ["source", "spans", "items with a span", "mean span length (tokens)", "types"], rows)
    return body + bar_chart(names, {"items with a span": coverage}, title="Span coverage per source")


def _examples_part(store: Store, run_id: int, sets: Any) -> str:
    proposed = sets[sets["role"] == "label_model"]
    if proposed.empty:
        return "<h3>Examples</h3>" + missing("no proposed spans were recorded")
    _, items = store.load_span_set(int(proposed["span_set_id"].iloc[-1]))
    if items is None or items.empty:
        return "<h3>Examples</h3>" + missing()
    rows = np.argsort(items["score"].fillna(1.0).to_numpy(), kind="stable")[:N_SPAN_EXAMPLES]
    ids = store.load_item_ids(int(proposed["dataset_id"].iloc[-1]))
    lines = []
    for row in rows.tolist():
        story = store.explain(ids[row], run_id)
        spans = [[p["start"], p["end"], p["type"]] for p in (story.get("proposed") or {}).get("spans", [])]
        cells = [story["item_id"], story["proposed"]["score"], marked_text(story["tokens"], spans),
                 "" if story.get("gold") is None else marked_text(story["tokens"], story["gold"]),
                 marked_text(story["tokens"], story["final_spans"]) if story["answers"] else ""]
        lines.append(cells)
    return (f"<h3>Examples: the {len(lines)} least certain items</h3>"
            + table(["item", "least token confidence", "proposed", "gold", "answered"], lines,
                    raw_columns=(2, 3, 4)))
