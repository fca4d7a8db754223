"""The report of a multi-label run: sources per label, the label model's choice, per-label and micro/macro scores.

The sections, from the run's records: the run (configuration and
metrics); the sources (each source's coverage, present and absent votes and
dev precision and accuracy as the ``analyse`` step recorded them; per label,
the share of items with a vote, with two or more, and with a conflict
(present and absent votes on one item); per source and label, its votes and
the share another source contradicts, computed from the recorded votes); the
label model (its class and parameters, per label the model
:class:`~weaklab.models.AutoLabelModel` chose and why, and on the dev gold
micro/macro F1, Hamming loss and each label's F1 next to one-vs-rest
majority vote's); the end model (the same scores); calibration (each label's
expected calibration error of ``P(applies)`` on the dev gold, both models);
the health of each source per label (estimated and dev accuracy, decides,
weight share); the label issues the ``issues`` step flagged; people's
answers; alerts. A part the run did not record says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ..pipeline.multilabel_stats import label_vote_stats, source_label_stats
from ..store import Store
from .html import esc, kv_table, missing, page, table
from .svg import bar_chart

__all__ = ["render_multilabel_report"]

_SCORE_KEYS = (("n", "dev items"), ("micro_f1", "micro F1"), ("macro_f1", "macro F1"),
               ("hamming_loss", "Hamming loss"), ("mean_ece", "mean ECE over labels"))


def render_multilabel_report(store: Store, run_id: int) -> str:
    """The report of multi-label run ``run_id`` as a self-contained HTML page (see the module docstring).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.demo.multilabel import init_multilabel_project
    >>> from weaklab.pipeline import Project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_multilabel_project(folder, n_items=80)
    >>> run = Project(folder).run("fit").run_id
    >>> with Project(folder).open_store(read_only=True) as store:
    ...     html = render_multilabel_report(store, run)
    >>> "Per label" in html and "micro F1" in html
    True
    """
    run = store.run(run_id)
    records = store.run_records(run_id)
    sets = store.label_sets(run_id)
    roles = {role: int(i) for role, i in zip(sets["role"], sets["label_set_id"])}  # the latest of each role
    names = [str(n) for n in sets["label_names"].iloc[0]] if len(sets) else []
    lm = _latest(records["label_model_runs"])
    em = _latest(records["end_model_runs"])
    sections = [
        ("run", "Run", _run_section(run, names)),
        ("sources", "Sources", _sources_section(store, run_id, roles)
         + _health_section((run.get("metrics") or {}).get("label_sources") or [])),
        ("label-model", "Label model", _label_model_section(store, lm, names)),
        ("end-model", "End model", _end_model_section(em, names)),
        ("calibration", "Calibration", _calibration_section(lm, em, names)),
        ("issues", "Label issues", _issues_section(run)),
        ("answers", "Review answers", _answers_section(store, int(run["dataset_id"]), names,
                                                       store.run_class_renames(int(run["run_id"])))),
        ("alerts", "Alerts", _alerts_section(store, run_id)),
    ]
    title = f"weaklab report \u2013 multilabel run {run['run_id']} ({run.get('dataset')})"
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return page(title, f"Generated {now} from the lineage store; self-contained and offline.", sections)


def _latest(frame: pd.DataFrame) -> dict[str, Any] | None:
    return None if frame.empty else {str(k): v for k, v in frame.iloc[-1].items()}


def _run_section(run: Mapping[str, Any], names: list[str]) -> str:
    facts = {"run id": run["run_id"], "dataset": f"{run.get('dataset')} (id {run.get('dataset_id')})",
             "task": "multilabel", "labels": ", ".join(names), "status": run.get("status"),
             "started": _time(run.get("created_at")), "finished": _time(run.get("finished_at"))}
    body = kv_table(facts)
    config = run.get("config")
    body += "<h3>Configuration</h3>" + (kv_table(config) if isinstance(config, Mapping) and config else missing())
    return body


def _sources_section(store: Store, run_id: int, roles: dict[str, int]) -> str:
    stats = store.run_source_stats(run_id)
    body = "<h3>Per source</h3>"
    if stats.empty:
        body += missing("The run recorded no source statistics (it stopped before `analyse`).")
    else:
        columns = [c for c in ("coverage", "n_present", "n_absent", "n_labels", "precision", "accuracy")
                   if c in stats.columns]
        body += table(["source", *[c.replace("_", " ") for c in columns]],
                      [(name, *(_count(c, row[c]) for c in columns)) for name, row in stats.iterrows()])
        body += ('<p class="note">Coverage: share of items the source voted on (any label); precision: share of '
                 "its present votes on dev items whose label is in the gold set; accuracy: share of all its votes "
                 "on dev items (present or absent) that agree with the gold.</p>")
    if "votes" not in roles:
        return body + missing("The run recorded no votes.")
    L = store.load_multilabel_votes(roles["votes"])
    per_label = label_vote_stats(L)
    body += "<h3>Per label</h3>" + table(
        ["label", "coverage", "present coverage", "absent coverage", "overlap", "conflict", "sources",
         "present votes", "absent votes"],
        list(per_label.reset_index().itertuples(index=False, name=None)))
    body += ('<p class="note">Shares of all items: with a vote on the label, a present vote, an absent vote, two '
             "or more votes, and a conflict (one source votes the label present, another absent).</p>")
    body += bar_chart(list(per_label.index), {"coverage": per_label["coverage"].tolist(),
                                              "conflict": per_label["conflict"].tolist()},
                      title="Coverage and conflict per label")
    pairs = source_label_stats(L)
    body += "<h3>Per source and label</h3>" + table(
        ["source", "label", "coverage", "present votes", "absent votes", "in conflict"],
        pairs[["source", "label", "coverage", "n_present", "n_absent", "conflict"]].values.tolist())
    return body + ('<p class="note">In conflict: the share of the source\'s votes on the label that another '
                   "source contradicts on the same item.</p>")


def _label_model_section(store: Store, lm: dict[str, Any] | None, names: list[str]) -> str:
    if lm is None:
        return missing("The run fitted no label model.")
    metrics = lm.get("metrics") or {}
    state = store.load_label_model_state(int(lm["label_model_run_id"]))
    facts = {"class": lm.get("class"), "label-model run id": lm.get("label_model_run_id"),
             "recorded": _time(lm.get("created_at")), "mean labels per item": metrics.get("mean_labels")}
    body = kv_table(facts) + "<h3>Parameters</h3>"
    params = (state or {}).get("params") or lm.get("params")
    body += kv_table(params) if isinstance(params, Mapping) and params else missing()
    body += "<h3>What it chose per label</h3>" + _choices(state, names)
    body += "<h3>On the dev gold</h3>" + _scores_table({"label model": metrics.get("dev"),
                                                        "one-vs-rest majority vote": metrics.get("majority_vote")})
    body += "<h3>Per label (dev)</h3>" + _per_label_table(metrics.get("dev"), names)
    return body


def _choices(state: Mapping[str, Any] | None, names: list[str]) -> str:
    """Per label, the model each label's AutoLabelModel chose and its reason (OneVsRestLabelModel)."""
    labels = (state or {}).get("labels")
    if not isinstance(labels, list):
        return missing("One model over all labels (no per-label choice).")
    rows = []
    for name, sub in zip(names, labels):
        attributes = (sub or {}).get("attributes") or {}
        chosen = attributes.get("selected_") or (sub or {}).get("class") or "constant (no votes)"
        rows.append((name, chosen, attributes.get("reason_")))
    return table(["label", "model", "why"], rows)


def _end_model_section(em: dict[str, Any] | None, names: list[str]) -> str:
    if em is None:
        return missing("The run trained no end model (`weaklab train`).")
    metrics = em.get("metrics") or {}
    facts = {"name": em.get("name"), "end-model run id": em.get("end_model_run_id"),
             "trained on items": metrics.get("n_train"),
             "of them with people's answers": metrics.get("n_answered_used"),
             "recorded": _time(em.get("created_at"))}
    body = kv_table(facts) + "<h3>Parameters</h3>"
    params = em.get("params")
    body += kv_table(params) if isinstance(params, Mapping) and params else missing()
    body += "<h3>On the dev gold</h3>" + _scores_table({"end model": metrics.get("dev")})
    body += "<h3>Per label (dev)</h3>" + _per_label_table(metrics.get("dev"), names)
    return body


def _scores_table(scores: Mapping[str, Any]) -> str:
    shown = {who: s for who, s in scores.items() if isinstance(s, Mapping)}
    if not shown:
        return missing("No dev gold: give label sets in [data].gold_column (and a dev split) to score.")
    return table(["", *shown], [(label, *(s.get(key) for s in shown.values())) for key, label in _SCORE_KEYS])


def _per_label_table(scores: Any, names: list[str]) -> str:
    per = (scores or {}).get("per_label") if isinstance(scores, Mapping) else None
    if not per:
        return missing("No dev gold.")
    return table(["label", "support", "predicted", "F1", "ECE"],
                 [(n, per.get(n, {}).get("support"), per.get(n, {}).get("predicted"), per.get(n, {}).get("f1"),
                   per.get(n, {}).get("ece")) for n in names])


def _calibration_section(lm: dict[str, Any] | None, em: dict[str, Any] | None, names: list[str]) -> str:
    series = {}
    for who, record in (("label model", lm), ("end model", em)):
        per = (((record or {}).get("metrics") or {}).get("dev") or {}).get("per_label") or {}
        if any("ece" in per.get(n, {}) for n in names):
            series[who] = [per.get(n, {}).get("ece") for n in names]
    if not series:
        return missing("No per-label calibration error recorded (no dev gold, or a run recorded before weaklab "
                       "measured it: `weaklab train` again).")
    body = table(["label", *(f"{who} ECE" for who in series)],
                 [(n, *(values[j] for values in series.values())) for j, n in enumerate(names)])
    body += bar_chart(names, series, title="Expected calibration error per label (dev, lower is better)")
    return body + ('<p class="note">Each label\'s P(applies) binned into 15 equal-width bins on the dev items; the '
                   "error is the item-weighted gap between a bin's mean probability and its share of items that "
                   "carry the label. Multilabel runs fit no calibrator on the dev gold.</p>")


def _answers_section(store: Store, dataset_id: int, names: list[str], renames: dict[str, str]) -> str:
    answers = store.label_set_answers(dataset_id, renames=renames)
    if answers.empty:
        return missing("Nobody answered yet (`weaklab serve`, then Review).")
    given = answers[answers["status"] == "answered"]
    facts: dict[str, Any] = {"answers": len(answers), "answered": len(given), "skipped": len(answers) - len(given),
                             "items": answers["item_key"].nunique(), "annotators": answers["annotator"].nunique()}
    for name in names:
        facts[f"answers with {name}"] = int(sum(name in labels for labels in given["labels"]))
    return kv_table(facts)


#: The per-(source, label) health columns the report shows (the run's ``label_sources``).
_HEALTH_COLUMNS = ("n_votes", "est_accuracy", "emp_accuracy", "decides", "weight_share")


def _health_section(rows: list[dict[str, Any]]) -> str:
    """Per source and label: the label model's estimated and the dev accuracy, how often it decides the label."""
    if not rows:
        return missing("The run recorded no per-label source health (it stopped before `analyse`, or an older "
                       "weaklab recorded it).")
    body = "<h3>Health per source and label</h3>" + table(
        ["source", "label", *[c.replace("_", " ") for c in _HEALTH_COLUMNS]],
        [(r["source"], r["label"], *(r.get(c) for c in _HEALTH_COLUMNS)) for r in rows])
    return body + ('<p class="note">Estimated accuracy: the label model\'s (the label\'s own model); empirical: on '
                   "the dev gold; decides: the share of the voted items whose label flips without the source; the "
                   "alert rules read them per label, chance being 50 %.</p>")


def _issues_section(run: Mapping[str, Any]) -> str:
    """The run's most suspicious (item, label) cells (the ``issues`` step), at most 20."""
    metrics = run.get("metrics") or {}
    if "label_issues" not in metrics:
        return missing("The run did not look for label issues (`weaklab issues`).")
    found = list(metrics["label_issues"])
    if not found:
        return missing("The issues step flagged no (item, label) cell.")
    rows = [(r["item_id"], r["label"], r["weak"], r["p_label_model"], r["p_judge"], r["score"]) for r in found[:20]]
    return table(["item", "label", "weak label", "label model P", "text model P", "score"], rows) + (
        f'<p class="note">{len(found)} flagged, the 20 most suspicious shown: the weak label (the label model\'s '
        "P(applies) &ge; 0.5) that a text model trained on the other folds contradicts.</p>")


def _alerts_section(store: Store, run_id: int) -> str:
    alerts = store.alerts(run_id)
    if alerts.empty:
        return missing("No alerts were raised for this run.")
    rows = [(f'<span class="sev-{esc(r["severity"])}">{esc(r["severity"])}</span>', r["kind"], r["source"],
             r["message"], r["value"], _time(r["created_at"])) for _, r in alerts.iterrows()]
    return table(["severity", "kind", "source", "message", "value", "when"], rows, raw_columns=(0,))


def _count(column: str, value: Any) -> Any:
    """A recorded count (``n_...``, stored as a float) as an int; other values as they are."""
    return int(value) if column.startswith("n_") and pd.notna(value) else value


def _time(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S") + " UTC"
