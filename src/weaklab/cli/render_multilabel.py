"""Terminal output of multi-label runs: what a run did, and one item's votes and probabilities per label."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .render import alert_lines

__all__ = ["multilabel_headline", "multilabel_result", "label_sources_table", "LABEL_SOURCE_SHOWN",
           "LABEL_SOURCE_ROWS", "explain_labels", "label_set_diff_tables"]


def _num(value: Any) -> str:
    return "-" if value is None or value != value else f"{value:.3f}"


def multilabel_headline(lm: dict[str, Any], em: dict[str, Any]) -> list[str]:
    """The ``runs`` headline parts of a multi-label run: micro F1 of the label and end model on the dev gold."""
    parts = []
    for who, values in (("label model", lm), ("end model", em)):
        if isinstance(values.get("dev"), dict):
            parts.append(f"{who} micro F1 {100 * values['dev']['micro_f1']:.1f}%")
    return parts


def multilabel_result(console: Console, result: Any) -> None:
    """Print what a multi-label run did: its sources, the label model's and majority vote's F1, the end model's."""
    metrics = result.metrics
    if result.summary is not None:
        table = Table(title="Sources (coverage; precision of present votes and accuracy on the dev gold)",
                      title_justify="left")
        columns = ["coverage", "n_present", "n_absent", "precision", "accuracy"]
        table.add_column("source", no_wrap=True)
        for column in columns:
            table.add_column(column.replace("_", " "), justify="right")
        for name, row in result.summary.iterrows():
            table.add_row(escape(str(name)), *(_num(row[c]) if c in ("coverage", "precision", "accuracy")
                                               else str(int(row[c])) for c in columns))
        console.print(table)
    label_sources = metrics.get("label_sources") or []
    if label_sources:
        console.print(label_sources_table(label_sources))
    lm, em = metrics.get("label_model") or {}, metrics.get("end_model") or {}
    n_dev = metrics.get("n_dev", 0)
    from ..pipeline.fit_gold import fit_gold_lines

    for line in fit_gold_lines(lm):
        console.print(line, markup=False, highlight=False)
    if isinstance(lm.get("dev"), dict):
        mv = lm.get("majority_vote") or {}
        console.print(f"label model ({lm['class']}): micro F1 {_num(lm['dev']['micro_f1'])}, macro F1 "
                      f"{_num(lm['dev']['macro_f1'])} on {n_dev} dev items (one-vs-rest majority vote: micro "
                      f"{_num(mv.get('micro_f1'))}, macro {_num(mv.get('macro_f1'))})")
        console.print(per_label_table(lm["dev"], em.get("dev") if isinstance(em.get("dev"), dict) else None))
    elif lm:
        console.print(f"label model ({lm['class']}): {lm.get('mean_labels', 0):.2f} labels per item (no dev gold)")
    if isinstance(em.get("dev"), dict):
        console.print(f"end model ({em['name']}): micro F1 {_num(em['dev']['micro_f1'])}, macro F1 "
                      f"{_num(em['dev']['macro_f1'])} on the dev items, trained on {em.get('n_train')} items")
    for line in alert_lines(result.alerts, result.run_id):
        console.print(line)
    if result.issues is not None:
        top = ", ".join(f"{row.item_id} {row.label} ({row.weak}, text says {row.p_judge:.2f})"
                        for row in result.issues.head(5).itertuples())
        console.print(escape(f"{len(result.issues)} label issue(s) (item, label) recorded" + (f"; top: {top}"
                                                                                            if top else "")))
    if result.query:
        console.print("review next: " + " ".join(str(v) for v in result.query))
    if result.item_ids:
        console.print(f"Explain an item: weaklab explain {result.item_ids[0]}")


#: The per-(source, label) columns the terminal shows (``--json`` and the dashboard's sources page have them all).
LABEL_SOURCE_SHOWN = ("coverage", "conflicts", "est_accuracy", "emp_accuracy", "decides")
#: At most this many (source, label) rows are printed; the rest are counted.
LABEL_SOURCE_ROWS = 40


def label_sources_table(rows: list[dict[str, Any]]) -> Table:
    """Per label and source: coverage, conflicts, estimated and dev accuracy, how often it decides the label."""
    table = Table(title="Sources per label (estimated accuracy from the label model; empirical on the dev gold)",
                  title_justify="left")
    for column in ("label", "source", *LABEL_SOURCE_SHOWN):
        table.add_column(column.replace("_", " "), justify="left" if column in ("label", "source") else "right")
    for row in rows[:LABEL_SOURCE_ROWS]:
        table.add_row(escape(str(row["label"])), escape(str(row["source"])),
                      *(_num(row.get(c)) for c in LABEL_SOURCE_SHOWN))
    if len(rows) > LABEL_SOURCE_ROWS:
        table.caption = (f"{len(rows) - LABEL_SOURCE_ROWS} more (source, label) rows: --json, or the dashboard's "
                         "sources page (weaklab serve)")
    return table


def per_label_table(lm: dict[str, Any], em: dict[str, Any] | None) -> Table:
    """Each label's dev F1 (label model, and end model when trained), gold support and predicted count."""
    table = Table(title="Per label (dev)", title_justify="left")
    for column in ("label", "support", "label model F1", "predicted", *(("end model F1",) if em else ())):
        table.add_column(column, justify="left" if column == "label" else "right")
    for name, row in lm["per_label"].items():
        extra = (_num(em["per_label"][name]["f1"]),) if em else ()
        table.add_row(escape(name), str(row["support"]), _num(row["f1"]), str(row["predicted"]), *extra)
    return table


def explain_labels(console: Console, story: dict[str, Any]) -> None:
    """Print a multi-label item's story: each label's votes, probabilities and gold, then the final labels."""
    console.print(f"[bold]item {story['item_id']}[/] in run {story['run_id']} (dataset "
                  f"{story['dataset']['name']}, row {story['row']})")
    lm, em, gold = story.get("label_model"), story.get("end_model"), story.get("gold")
    table = Table(title="Votes and P(label applies) per label", title_justify="left")
    for column in ("label", "present", "absent", "label model", *(("end model",) if em else ()),
                   *(("gold",) if gold is not None else ())):
        table.add_column(column)
    for name in story.get("label_names", []):
        votes = [v for v in story["votes"] if v["label"] == name]
        row = [escape(name), escape(", ".join(v["source"] for v in votes if v["vote"] == "present")),
               escape(", ".join(v["source"] for v in votes if v["vote"] == "absent")),
               "-" if lm is None else _num(lm["proba"][name])]
        if em:
            row.append(_num(em["proba"][name]))
        if gold is not None:
            row.append("yes" if name in gold else "no")
        table.add_row(*row)
    console.print(table)
    for answer in story.get("answers") or []:
        given = ", ".join(answer["labels"]) or "none"
        console.print(f"answer by {escape(answer['annotator'])} ({answer['status']}, {answer['created_at'][:19]}): "
                      + escape(given if answer["status"] == "answered" else "-"))
    final = story.get("final_labels")
    shown = "none" if not final else ", ".join(final)
    how = "the latest answer" if story["final_from"] == "annotation" else "P(applies) >= 0.5"
    ended = [n for n, f in (story.get("final_cells") or {}).items() if f == "end_model"]
    if ended and story["final_from"] != "annotation":
        how += f"; the end model's on {', '.join(ended)}, which no source voted on"
    console.print(f"[bold]final labels: {escape(shown)}[/] (from {story['final_from']}: {how})")


def label_set_diff_tables(items: Any, per_label: Any, run_a: int, run_b: int, limit: int) -> list[Table]:
    """Two multi-label runs' diff: per label the items carrying it in each run and how many gained or lost it,
    then the first ``limit`` items whose label set changed (labels on each side, added, removed, why)."""
    counts = Table(title=f"Per label: items in run {run_a} -> run {run_b}", title_justify="left")
    for column in ("label", f"run {run_a}", f"run {run_b}", "added", "removed"):
        counts.add_column(column, justify="left" if column == "label" else "right")
    for row in per_label.itertuples(index=False):
        counts.add_row(escape(str(row.label)), str(row.n_a), str(row.n_b), str(row.added), str(row.removed))
    changed = Table(title=f"{len(items)} item(s) changed label set between run {run_a} and run {run_b}",
                    title_justify="left")
    for column in ("item", f"run {run_a}", f"run {run_b}", "added", "removed", "why"):
        changed.add_column(column)
    for row in items.head(limit).itertuples(index=False):
        changed.add_row(escape(str(row.item_id)), _set(row.labels_a, row.from_a), _set(row.labels_b, row.from_b),
                        escape(", ".join(row.added)), escape(", ".join(row.removed)), escape(row.reason))
    if len(items) > limit:
        changed.caption = f"first {limit} shown; --json lists all"
    return [counts, changed]


def _set(labels: list[str], origin: str) -> str:
    return escape(("|".join(labels) or "-") + f" ({origin})")
