"""Strict span-level precision, recall and F1 (seqeval's ``mode="strict"`` on IOB2).

A predicted span counts as correct only when a gold span has the same start,
end and type. Scores are micro-averaged over all spans, and per type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from .._core.validation import fail

__all__ = ["span_f1", "span_f1_report"]


def _as_sets(spans: Sequence[Sequence[Sequence[Any]]], name: str) -> list[set[tuple[int, int, str]]]:
    out = []
    for i, sentence in enumerate(spans):
        try:
            out.append({(int(s), int(e), str(t)) for s, e, t in sentence})
        except (TypeError, ValueError):
            raise fail(f"{name}[{i}]", "a list of (start, end_exclusive, type) spans", sentence) from None
    return out


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "support": float(n_gold)}


def span_f1_report(
    predicted_spans: Sequence[Sequence[Sequence[Any]]],
    gold_spans: Sequence[Sequence[Sequence[Any]]],
) -> dict[str, dict[str, float]]:
    """Strict span-level precision, recall, F1 and support per type and micro-averaged.

    Parameters
    ----------
    predicted_spans, gold_spans : sequence of sequence of (int, int, str)
        Spans per sentence; both lists align sentence by sentence.

    Returns
    -------
    dict
        ``{type: {"precision", "recall", "f1", "support"}, ..., "micro": {...}}``
        (support = number of gold spans).

    Examples
    --------
    >>> r = span_f1_report([[(0, 1, "A"), (2, 4, "B")]], [[(0, 1, "A"), (2, 3, "B")]])
    >>> r["A"]["f1"], r["B"]["f1"], r["micro"]["f1"]
    (1.0, 0.0, 0.5)
    """
    if len(predicted_spans) != len(gold_spans):
        raise fail("predicted_spans", f"one span list per gold sentence ({len(gold_spans)})", predicted_spans)
    pred, gold = _as_sets(predicted_spans, "predicted_spans"), _as_sets(gold_spans, "gold_spans")
    tp: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    for p, g in zip(pred, gold):
        n_pred.update(t for _, _, t in p)
        n_gold.update(t for _, _, t in g)
        tp.update(t for _, _, t in p & g)
    report = {t: _prf(tp[t], n_pred[t], n_gold[t]) for t in sorted(set(n_pred) | set(n_gold))}
    report["micro"] = _prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    return report


def span_f1(
    predicted_spans: Sequence[Sequence[Sequence[Any]]],
    gold_spans: Sequence[Sequence[Sequence[Any]]],
) -> float:
    """Strict span-level micro F1.

    Parameters
    ----------
    predicted_spans, gold_spans : sequence of sequence of (int, int, str)
        Spans per sentence.

    Returns
    -------
    float

    Examples
    --------
    >>> span_f1([[(0, 2, "Dis")], []], [[(0, 2, "Dis")], [(1, 2, "Dis")]])
    0.6666666666666666
    """
    return span_f1_report(predicted_spans, gold_spans)["micro"]["f1"]
