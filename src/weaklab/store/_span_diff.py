"""What changed between two tagging runs (``diff_spans``): items whose final spans differ, and why.

An item's final spans in a run follow :meth:`~weaklab.store.Store.explain` for
tagging runs: the latest spans a person answered on it (skips do not count),
else the run's proposed spans (its newest ``"label_model"`` span set). Items
are matched by their own ids, so runs over two versions of one dataset compare
item by item; an item only one version holds is listed as ``"absent"`` on the
other side. The reason names the spans added and removed and the sources whose
spans on the item changed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import fail
from ._codec import decode_ids
from ._spans import SpansMixin

__all__ = ["SpanDiffMixin"]

Span = tuple[int, int, str]


class SpanDiffMixin(SpansMixin):
    """``diff_spans``: items of two tagging runs whose final spans differ."""

    def diff_spans(self, run_a: int, run_b: int) -> pd.DataFrame:
        """Items whose final spans differ between two tagging runs of one dataset (any versions of it).

        Parameters
        ----------
        run_a, run_b : int
            Two runs that recorded span sets.

        Returns
        -------
        pandas.DataFrame
            One row per changed item, in run ``b``'s item order: ``item_id``, ``tokens`` (run ``b``'s,
            else ``a``'s), ``spans_a``, ``spans_b`` (lists of ``[start, end, type]``), ``added``,
            ``removed`` (spans only in ``b`` / only in ``a``), ``from_a``, ``from_b``
            (``"label_model"``, ``"annotation"``, ``"none"``, or ``"absent"`` when the run's dataset
            version does not hold the item), ``sources_changed`` (sources whose spans on the item
            differ) and ``reason`` (a short sentence).

        Examples
        --------
        >>> store.diff_spans(1, 2)[["item_id", "added", "removed", "reason"]]   # doctest: +SKIP
        """
        self._compared_datasets(run_a, run_b)  # both runs version one dataset
        a, b = self._span_outcome(int(run_a)), self._span_outcome(int(run_b))
        keys = list(b["keys"]) + [k for k in a["keys"] if k not in b["index"]]
        rows = []
        for key in keys:
            final_a, from_a = _final(a, key)
            final_b, from_b = _final(b, key)
            if final_a == final_b and from_a != "absent" and from_b != "absent":
                continue
            changed = sorted(n for n in set(a["sources"].get(key, {})) | set(b["sources"].get(key, {}))
                             if a["sources"].get(key, {}).get(n, []) != b["sources"].get(key, {}).get(n, []))
            added = [s for s in final_b if s not in final_a]
            removed = [s for s in final_a if s not in final_b]
            rows.append({"item_id": b["ids"].get(key, a["ids"].get(key)),
                         "tokens": b["tokens"].get(key) or a["tokens"].get(key) or [],
                         "spans_a": [list(s) for s in final_a], "spans_b": [list(s) for s in final_b],
                         "added": [list(s) for s in added], "removed": [list(s) for s in removed],
                         "from_a": from_a, "from_b": from_b, "sources_changed": changed,
                         "reason": _reason(from_a, from_b, added, removed, changed)})
        columns = ["item_id", "tokens", "spans_a", "spans_b", "added", "removed", "from_a", "from_b",
                   "sources_changed", "reason"]
        return pd.DataFrame(rows, columns=columns)

    def _span_outcome(self, run_id: int) -> dict[str, Any]:
        """A tagging run's items (by key), proposed spans, sources' spans, tokens and people's final spans."""
        sets = self.span_sets(run_id)
        if sets.empty:
            raise fail("run_id", "a tagging run (one that recorded span sets)", got_text=f"run {run_id}")
        dataset_id = int(self._run_row(run_id)[0])
        _, _, dtype, array = self._dataset_row(dataset_id)
        ids = decode_ids(self._read_array(array), dtype)
        keys = [str(v.item() if isinstance(v, np.generic) else v) for v in ids.tolist()]
        out: dict[str, Any] = {"keys": keys, "index": set(keys), "ids": dict(zip(keys, ids.tolist())),
                               "proposed": {}, "sources": defaultdict(dict), "tokens": {}, "has_proposed": False}
        proposed = sets[sets["role"] == "label_model"]
        if len(proposed):
            out["has_proposed"] = True
            table, items = self.load_span_set(int(proposed["span_set_id"].iloc[-1]))
            out["proposed"] = _by_key(table, keys)
            if items is not None:
                out["tokens"] = {keys[int(r)]: list(t) for r, t in zip(items["row"], items["tokens"])}
        sources = sets[sets["role"] == "sources"]
        if len(sources):
            table, items = self.load_span_set(int(sources["span_set_id"].iloc[-1]))
            names = [s["name"] for s in sources["sources"].iloc[-1]]
            for r, s, e, t, j in zip(table["row"], table["start"], table["end"], table["type"], table["source"]):
                out["sources"][keys[int(r)]].setdefault(names[int(j)], []).append((int(s), int(e), str(t)))
            if not out["tokens"] and items is not None:
                out["tokens"] = {keys[int(r)]: list(t) for r, t in zip(items["row"], items["tokens"])}
        answers = self.span_answers(dataset_id)
        given = answers[answers["status"] == "answered"]
        out["answers"] = {str(k): sorted((int(s), int(e), str(t)) for s, e, t in spans)
                          for k, spans in zip(given["item_key"], given["spans"])}
        return out


def _by_key(table: pd.DataFrame, keys: list[str]) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = defaultdict(list)
    for r, s, e, t in zip(table["row"], table["start"], table["end"], table["type"]):
        out[keys[int(r)]].append((int(s), int(e), str(t)))
    return {k: sorted(v) for k, v in out.items()}


def _final(outcome: dict[str, Any], key: str) -> tuple[list[Span], str]:
    """An item's final spans in a run and where they come from."""
    if key not in outcome["index"]:
        return [], "absent"
    if key in outcome["answers"]:
        return outcome["answers"][key], "annotation"
    if not outcome["has_proposed"]:
        return [], "none"
    return outcome["proposed"].get(key, []), "label_model"


def _reason(from_a: str, from_b: str, added: list[Span], removed: list[Span], changed: list[str]) -> str:
    if "absent" in (from_a, from_b):
        return f"the item is only in run {'b' if from_a == 'absent' else 'a'}'s version of the dataset"
    parts = [f"{len(added)} span(s) added" if added else "", f"{len(removed)} removed" if removed else ""]
    text = ", ".join(p for p in parts if p)
    if from_a != from_b:
        text += f"; final spans from {from_a} -> {from_b}"
    if changed:
        text += f"; sources whose spans changed: {', '.join(changed)}"
    elif from_a == from_b == "label_model":
        text += "; same source spans, the label model decided differently"
    return text
