"""The run report: one self-contained, offline HTML file about one run.

:func:`write_report` reads a run from the store and writes a single HTML file
with its own CSS and server-drawn inline SVG charts (no JavaScript, no CDN,
no fonts or images fetched): the sources (coverage, overlaps, conflicts,
estimated and empirical accuracy, with a chart), the label model (class,
parameters, class balance, per-source accuracy), the end models' metrics, a
reliability diagram with the ECE before and after calibration, slices, the
top label issues and the alerts. For an image dataset (``[data].image_column``)
it also shows sample pictures per class and the picture of each top label
issue, as thumbnails embedded in the file (``data:`` URIs). For a tagging run
it has a span section (:mod:`.spans`): span F1 per type on the dev gold, span
coverage per source and the least certain items with their proposed, gold
and answered spans. A multi-label run gets its own sections (:mod:`.multilabel`):
sources per label, the label model's choice per label, per-label and
micro/macro F1, Hamming loss and per-label ECE on the dev gold. A part the
run did not record says so. All text from the store is HTML-escaped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..pipeline.files import write_text
from ..pipeline.fit_gold import answers_fit_lines, fit_gold_lines
from ..pipeline.images import CamLookup, ImageLookup, png_data_uri
from ..pipeline.lm_notes import choice_lines
from ..pipeline.review import TextLookup
from ..pipeline.summary import RunData, read_run
from ..store import Store
from .html import esc, kv_table, missing, page, table
from .multilabel import render_multilabel_report
from .spans import spans_section
from .svg import bar_chart, reliability_diagram

__all__ = ["write_report", "render_report", "SAMPLES_PER_CLASS", "CAMS_PER_CLASS", "MAX_ISSUE_PICTURES"]

_SOURCE_COLUMNS = ("coverage", "overlaps", "conflicts", "est_accuracy", "emp_accuracy")
#: Pictures shown per class in an image run's report (the most confident items of the class).
SAMPLES_PER_CLASS = 8
#: Of those, how many also show the class activation map of the run's image end model (if it has one).
CAMS_PER_CLASS = 4
#: Label issues shown with their picture (the rest are listed without one, to keep the file small).
MAX_ISSUE_PICTURES = 50


def write_report(store: Store, run_id: int, path: str | os.PathLike[str]) -> Path:
    """Write the HTML report of a run to ``path`` (folders created; the file replaced atomically).

    Parameters
    ----------
    store : Store
        The lineage store.
    run_id : int
        The run to report on.
    path : str or Path
        The HTML file to write.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValidationError
        ``run_id`` is not a run of the store, or ``path`` cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab import Store
    >>> from weaklab.pipeline import Project, init_project
    >>> from weaklab.report import write_report
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> project = Project(folder)
    >>> result = project.run(until="fit")
    >>> with Store(project.store_path) as store:
    ...     path = write_report(store, result.run_id, folder / "report.html")
    >>> path.name, path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    ('report.html', True)
    """
    return write_text(Path(path), render_report(store, run_id))


def render_report(store: Store, run_id: int) -> str:
    """The report of a run as an HTML string (see :func:`write_report`).

    Parameters
    ----------
    store : Store
        The lineage store.
    run_id : int
        The run to report on.

    Returns
    -------
    str
        A self-contained HTML page (no external assets).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab import Store
    >>> from weaklab.pipeline import Project, init_project
    >>> from weaklab.report import render_report
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> project = Project(folder)
    >>> result = project.run(until="fit")
    >>> with Store(project.store_path) as store:
    ...     html = render_report(store, result.run_id)
    >>> "Sources" in html
    True
    """
    if store.is_multilabel_run(int(run_id)):  # per-label sources and scores (report.multilabel)
        return render_multilabel_report(store, int(run_id))
    data = read_run(store, run_id)
    run = data.run
    texts = TextLookup(store, int(run["dataset_id"])) if data.issues is not None else None
    images = ImageLookup(store, int(run["dataset_id"]))
    title = f"weaklab report \u2013 run {run['run_id']} ({run.get('dataset')})"
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        ("run", "Run", _run_section(data)),
        ("sources", "Sources", _sources_section(data)),
        ("label-model", "Label model", _label_model_section(data)),
        ("end-model", "End model", _end_model_section(data)),
        ("calibration", "Calibration", _calibration_section(data)),
        ("slices", "Slices", _slices_section(data)),
        ("label-issues", "Label issues", _issues_section(data, texts, images)),
        ("alerts", "Alerts", _alerts_section(data)),
    ]
    if images.column is not None:
        cams = CamLookup(store, int(run_id), images)
        sections.insert(-2, ("samples", "Sample images", _samples_section(data, images, cams)))
    spans = spans_section(store, int(run_id), run.get("metrics") or {})
    if spans:  # a tagging run
        sections.insert(2, ("spans", "Spans", spans))
    return page(title, f"Generated {now} from the lineage store; self-contained and offline.", sections)


# ---------------------------------------------------------------------- sections
def _run_section(data: RunData) -> str:
    run = data.run
    facts = {"run id": run["run_id"], "dataset": f"{run.get('dataset')} (id {run.get('dataset_id')})",
             "status": run.get("status"), "started": _time(run.get("created_at")),
             "finished": _time(run.get("finished_at")), "human annotations on the dataset": data.n_annotations}
    body = kv_table(facts)
    config = run.get("config")
    body += "<h3>Configuration</h3>" + (kv_table(config) if isinstance(config, Mapping) and config else missing())
    metrics = run.get("metrics")
    body += "<h3>Run metrics</h3>" + (kv_table(metrics) if isinstance(metrics, Mapping) and metrics else missing())
    return body


def _sources_section(data: RunData) -> str:
    frame = data.sources
    if frame is None or frame.empty:
        return missing()
    columns = [c for c in frame.columns if c != "version"]
    rows = [(name, row["version"], *(row[c] for c in columns)) for name, row in frame.iterrows()]
    body = table(["source", "version", *[_label(c) for c in columns]], rows)
    body += ('<p class="note">Coverage, overlaps and conflicts are fractions of all items; estimated accuracy '
             "comes from the label model (no gold), empirical accuracy from gold or human answers.</p>")
    series = {_label(c): frame[c].tolist() for c in ("coverage", "est_accuracy", "emp_accuracy")
              if c in frame.columns and frame[c].notna().any()}
    body += bar_chart([str(n) for n in frame.index], series, title="Source coverage and accuracy")
    return body


def _label_model_section(data: RunData) -> str:
    model = data.label_model
    if model is None:
        return missing()
    facts = {"class": model.get("class"), "label-model run id": model.get("label_model_run_id"),
             "fitted on application": model.get("application_id"), "recorded": _time(model.get("created_at"))}
    metrics = model.get("metrics") or {}
    notes = [("note", line) for line in choice_lines({"class": model.get("class"), **metrics}, reason=True)]
    notes += [("warning", f"warning: {text}") for text in metrics.get("warnings") or []]
    body = kv_table(facts) + "".join(f'<p class="{kind}">{esc(line)}</p>' for kind, line in notes)
    body += "".join(f'<p class="note">{esc(line)}</p>' for line in [*fit_gold_lines(metrics),
                                                                    *answers_fit_lines(metrics)])
    body += "<h3>Parameters</h3>" + _mapping_or_missing(model.get("params"))
    body += "<h3>Class balance</h3>" + _class_balance(model.get("class_balance"), data.class_names)
    body += "<h3>Per-source accuracy</h3>"
    accuracy = model.get("source_accuracy")
    if accuracy:
        body += table(["source", "accuracy"], sorted(accuracy.items(), key=lambda kv: -kv[1]))
    else:
        body += missing("This label model does not estimate per-source accuracy.")
    shown = {key: value for key, value in metrics.items() if key not in ("choice", "reason", "warnings")}
    body += "<h3>Metrics</h3>" + _mapping_or_missing(shown or None)
    return body


def _class_balance(balance: Any, class_names: list[str] | None) -> str:
    if not balance:
        return missing()
    names = class_names if class_names and len(class_names) == len(balance) else [str(c) for c in range(len(balance))]
    chart = bar_chart(names, {"class balance": balance}, title="Class balance")
    return table(["class", "share"], list(zip(names, balance))) + chart


def _end_model_section(data: RunData) -> str:
    if not data.end_models:
        return missing()
    parts = []
    for model in data.end_models:
        parts.append(f"<h3>{esc(model.get('name'))} <span class=\"note\">(end-model run "
                     f"{esc(model.get('end_model_run_id'))})</span></h3>")
        metrics = {k: v for k, v in (model.get("metrics") or {}).items() if k != "slices"}
        parts.append(_mapping_or_missing(metrics))
        parts.append("<p class=\"note\">Parameters</p>" + _mapping_or_missing(model.get("params")))
    return "".join(parts)


def _calibration_section(data: RunData) -> str:
    if not data.curves and not data.ece and not data.slice_curves:
        return missing()
    body = kv_table(data.ece) if data.ece else ""
    if data.curves:
        body += reliability_diagram(data.curves, title="Reliability diagram")
        body += ('<p class="note">Points are bins of items by predicted confidence; the dashed diagonal is '
                 "perfect calibration. ECE: expected calibration error (lower is better).</p>")
    else:
        body += missing("No reliability bins recorded for this run.")
    for name, curves in data.slice_curves.items():
        if curves:
            body += reliability_diagram(curves, title=f"Reliability diagram: {name}")
    if data.slice_curves:
        body += ('<p class="note">One diagram per slice, on the held-out half of the dev items (the calibrator '
                 "measured there was fitted on the other half).</p>")
    return body


def _slices_section(data: RunData) -> str:
    if not data.slices:
        return missing()
    headers = list(dict.fromkeys(k for row in data.slices for k in row))
    return table(headers, [[row.get(h) for h in headers] for row in data.slices])


def _issues_section(data: RunData, texts: TextLookup | None, images: ImageLookup) -> str:
    if data.issues is None:
        return missing()
    frame = data.issues
    rows = [(r["rank"], r["item_id"], _snippet(texts, r["item_id"]), _class(r["given"], data.class_names),
             _class(r["suggested"], data.class_names), r["score"], r["method"], r["status"])
            for _, r in frame.iterrows()]
    headers = ["rank", "item", "text", "given", "suggested", "score", "method", "status"]
    shown = f"Top {len(frame)} of {data.n_issues} flagged items, most likely issue first."
    if images.column is None:
        return f'<p class="note">{esc(shown)}</p>' + table(headers, rows)
    pictures = [_picture(images, item) if i < MAX_ISSUE_PICTURES else "" for i, item in enumerate(frame["item_id"])]
    with_pictures = [(pic, *row) for pic, row in zip(pictures, rows)]
    return f'<p class="note">{esc(shown)}</p>' + table(["picture", *headers], with_pictures, raw_columns=(0,))


def _samples_section(data: RunData, images: ImageLookup, cams: CamLookup) -> str:
    """The most confident items of each class under the run's soft labels, as pictures; the first
    :data:`CAMS_PER_CLASS` of each class also with the class activation map of the run's image end model."""
    if images.reason is not None and not len(images):
        return missing(f"No pictures: {images.reason}.")
    labels = data.soft_labels
    if labels is None:
        return missing("The run recorded no label-model soft labels to pick sample pictures by.")
    if labels.item_ids is None:
        return missing("The run's soft labels carry no item ids.")
    proba, ids = labels.proba, np.asarray(labels.item_ids)
    hard, confidence = proba.argmax(axis=1), proba.max(axis=1)
    names = data.class_names or [str(c) for c in range(proba.shape[1])]
    body = ['<p class="note">Per class, the items the label model is surest of (picture, item id, '
            'probability).</p>', _cam_note(cams)]
    for c in range(proba.shape[1]):
        members = np.flatnonzero(hard == c)
        top = members[np.argsort(-confidence[members], kind="stable")][:SAMPLES_PER_CLASS]
        cells = [f'<figure class="sample">{_picture(images, ids[i])}'
                 f'{_cam_picture(cams, ids[i], int(i)) if k < CAMS_PER_CLASS else ""}<figcaption>{esc(ids[i])} '
                 f"({confidence[i]:.2f})</figcaption></figure>" for k, i in enumerate(top)]
        label = names[c] if c < len(names) else str(c)
        body.append(f"<h3>{esc(label)} ({len(members):,} items)</h3>"
                    + ("".join(cells) if cells else missing("No item has this class as its label.")))
    return "".join(body)


def _picture(images: ImageLookup, item_id: Any) -> str:
    """An embedded thumbnail of the item's picture, or a note when it has none or it cannot be read."""
    path = images.thumbnail(item_id)
    if path is None:
        return '<span class="missing">no picture</span>'
    return f'<img class="thumb" src="{png_data_uri(path)}" alt="picture of item {esc(item_id)}" width="80">'


def _cam_note(cams: CamLookup) -> str:
    if cams.ref is None:
        return missing(f"No class activation maps: {cams.reason}.")
    return (f'<p class="note">The first {CAMS_PER_CLASS} items of each class also show the class activation '
            "map of the image end model's predicted class over the picture (red: the regions that raised "
            "that class's score; recorded when the model was trained).</p>")


def _cam_picture(cams: CamLookup, item_id: Any, row: int) -> str:
    """The item's picture with its class activation map overlaid, or nothing when the run has no maps."""
    path = cams.overlay(item_id, row) if cams.ref is not None else None
    if path is None:
        return ""
    return (f'<img class="thumb cam" src="{png_data_uri(path)}" alt="class activation map of item '
            f'{esc(item_id)}" width="80">')


def _snippet(texts: TextLookup | None, item_id: Any) -> str | None:
    """The item's text (from the dataset's table, in the project's text column), cut to 160 characters."""
    text = texts.get(item_id) if texts is not None else None
    return None if text is None else (text if len(text) <= 160 else text[:157] + "...")


def _alerts_section(data: RunData) -> str:
    if data.alerts is None:
        return missing("No alerts were raised for this run.")
    rows = [(f'<span class="sev-{esc(r["severity"])}">{esc(r["severity"])}</span>', r["kind"], r["source"],
             r["message"], r["value"], _time(r["created_at"])) for _, r in data.alerts.iterrows()]
    return table(["severity", "kind", "source", "message", "value", "when"], rows, raw_columns=(0,))


# ---------------------------------------------------------------------- helpers
def _mapping_or_missing(value: Any) -> str:
    return kv_table(value) if isinstance(value, Mapping) and value else missing()


def _label(column: str) -> str:
    return {"est_accuracy": "estimated accuracy", "emp_accuracy": "empirical accuracy"}.get(
        column, column.replace("_", " "))


def _class(value: Any, names: list[str] | None) -> Any:
    if value is None or pd.isna(value):
        return None
    label = int(value)
    return f"{names[label]} ({label})" if names and 0 <= label < len(names) else label


def _time(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S") + " UTC"

