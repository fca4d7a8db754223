"""Rendering CLI results as rich tables or JSON."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from ..pipeline import DemoResult


def _pct(value: float) -> str:
    return "" if value is None or np.isnan(value) else f"{100 * value:.1f}%"


def render_demo(console: Console, result: DemoResult, total_seconds: float) -> None:
    """Print the demo's tables."""
    sizes = result.sizes
    console.print(
        f"[bold]weaklab demo[/] — YouTube spam comments (UCI, CC BY 4.0): "
        f"{sizes['train']} unlabelled training comments, {sizes['seed']} gold seed comments, "
        f"{sizes['test']} held-out test comments"
    )
    console.print(_sources_table(result))
    console.print(_results_table(result))
    console.print(f"Finished in {total_seconds:.1f} s.")


def _sources_table(result: DemoResult) -> Table:
    summary, report = result.summary, result.report
    if summary is None or report is None:
        raise RuntimeError("the demo's sources were not analysed; run every step first")
    seconds = report.to_frame()["seconds"] if "seconds" in report.to_frame() else None
    table = Table(title="Sources on the held-out test comments (accuracy against gold)", title_justify="left")
    table.add_column("source", no_wrap=True)
    for column in ("classes", "coverage", "overlap", "conflict", "accuracy", "ms"):
        table.add_column(column, justify="right")
    for name, row in summary.iterrows():
        ms = "" if seconds is None else f"{1000 * float(seconds.get(name, np.nan)):.1f}"
        table.add_row(str(name), ",".join(str(p) for p in row["polarity"]), _pct(row["coverage"]),
                      _pct(row["overlaps"]), _pct(row["conflicts"]), _pct(row.get("emp_acc", np.nan)), ms)
    table.caption = f"{len(summary)} sources applied to {report.n_items} comments in {report.total_seconds:.2f} s"
    return table


def _results_table(result: DemoResult) -> Table:
    lm, em = result.label_model, result.end_model
    table = Table(title="Accuracy on the held-out test comments", title_justify="left")
    table.add_column("labels from")
    table.add_column("accuracy", justify="right")
    table.add_column("note")
    table.add_row("majority vote (label model)", _pct(lm["accuracy_covered"]),
                  f"the {_pct(lm['coverage_test'])} of comments with a vote")
    table.add_row("majority vote (label model)", _pct(lm["accuracy_all"]), "all comments (ties at random)")
    table.add_row("TF-IDF + LogReg on soft labels", _pct(em["weak_accuracy"]),
                  f"{em['weak_train_items']} weakly labelled comments (gold only in the seed set)")
    table.add_row("TF-IDF + LogReg on gold labels", _pct(em["gold_accuracy"]),
                  "upper bound: all training labels gold")
    return table


def demo_json(result: DemoResult, total_seconds: float) -> dict[str, Any]:
    """The demo's results as JSON-able data."""
    summary = result.summary
    report = result.report
    return {
        "sizes": result.sizes,
        "label_model": result.label_model,
        "end_model": result.end_model,
        "seconds": {**result.seconds, "total": total_seconds},
        "sources": [] if summary is None else [
            {"source": str(name), **{k: _jsonable(v) for k, v in row.items()}} for name, row in summary.iterrows()
        ],
        "apply_seconds": None if report is None else report.total_seconds,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    return value
