"""Rendering CLI results as rich tables or JSON."""

from __future__ import annotations

import importlib.util
import math
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..demo import DemoResult


def _pct(value: float) -> str:
    return "" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


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


def render_next_steps(console: Console, result: DemoResult) -> None:
    """Print where the run was recorded and what to try next (only commands that exist in this build)."""
    if result.run_id is None:
        return
    console.print(f"Recorded as run {result.run_id} in {result.store_path}.")
    for line in alert_lines(result.alerts, result.run_id):
        console.print(line)
    console.print("Next:")
    if result.example_item is not None:
        console.print(f"  weaklab explain {result.example_item}   the story of one comment's label")
    console.print("  weaklab runs                  every recorded run")
    if importlib.util.find_spec("weaklab.report") is not None:
        console.print("  weaklab report                one offline HTML report of the run")
    else:
        console.print("  (the HTML report, `weaklab report`, is not part of this build yet)")
    if importlib.util.find_spec("weaklab.dashboard") is not None:
        console.print("  weaklab serve                 the web dashboard")
    else:
        console.print("  (a web dashboard, `weaklab serve`, is coming in a later release)")


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
        ms = "" if seconds is None else f"{1000 * float(seconds.get(name, math.nan)):.1f}"
        table.add_row(str(name), ",".join(str(p) for p in row["polarity"]), _pct(row["coverage"]),
                      _pct(row["overlaps"]), _pct(row["conflicts"]), _pct(row.get("emp_acc", math.nan)), ms)
    table.caption = f"{len(summary)} sources applied to {report.n_items} comments in {report.total_seconds:.2f} s"
    return table


def _results_table(result: DemoResult) -> Table:
    lm, em = result.label_model, result.end_model
    table = Table(title="Accuracy on the held-out test comments", title_justify="left")
    table.add_column("labels from")
    table.add_column("accuracy", justify="right")
    table.add_column("note")
    name = f"label model ({result.label_model_choice or 'AutoLabelModel'})"
    table.add_row(name, _pct(lm["accuracy_covered"]), f"the {_pct(lm['coverage_test'])} of comments with a vote")
    table.add_row(name, _pct(lm["accuracy_all"]), "all comments (ties at random)")
    if "majority_accuracy_all" in lm:
        table.add_row("majority vote (for comparison)", _pct(lm["majority_accuracy_covered"]),
                      "the comments with a vote")
        table.add_row("majority vote (for comparison)", _pct(lm["majority_accuracy_all"]),
                      "all comments (ties at random)")
    table.add_row("TF-IDF + LogReg on soft labels", _pct(em["weak_accuracy"]),
                  f"{em['weak_train_items']} weakly labelled comments (gold only in the seed set)")
    table.add_row("TF-IDF + LogReg on gold labels", _pct(em["gold_accuracy"]),
                  "upper bound: all training labels gold")
    return table


def demo_json(result: DemoResult, total_seconds: float) -> dict[str, Any]:
    """The demo's results as JSON-able data."""
    from .._core.state import to_jsonable

    summary = result.summary
    report = result.report
    return {
        "sizes": result.sizes,
        "label_model": result.label_model,
        "label_model_choice": result.label_model_choice,
        "end_model": result.end_model,
        "seconds": {**result.seconds, "total": total_seconds},
        "sources": [] if summary is None else [
            {"source": str(name), **{k: to_jsonable(v) for k, v in row.items()}} for name, row in summary.iterrows()
        ],
        "apply_seconds": None if report is None else report.total_seconds,
        "run_id": result.run_id,
        "store": result.store_path,
        "example_item": result.example_item,
        "alerts": [a.to_dict() for a in result.alerts],
    }


# ---------------------------------------------------------------------- store listings
def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _headline(metrics: dict[str, Any]) -> str:
    parts = []
    lm, em = metrics.get("label_model") or {}, metrics.get("end_model") or {}
    if "accuracy" in lm:
        parts.append(f"label model acc {_pct(lm['accuracy'])}")
    if lm.get("n_file_gold_for_fit"):  # the file's gold outside the dev split ([data].fit_gold) fed the fit
        parts.append(f"fit on {lm['n_file_gold_for_fit']} file gold ({lm.get('file_gold_sampling', 'random')})")
    for who, values in (("label model", lm), ("end model", em)):
        if isinstance(values.get("span_f1"), dict):
            parts.append(f"{who} span F1 {_pct(values['span_f1']['micro']['f1'])}")
    if "weak_accuracy" in em:
        parts.append(f"end model acc {_pct(em['weak_accuracy'])}")
    elif "accuracy" in em:
        parts.append(f"end model acc {_pct(em['accuracy'])}")
    if metrics.get("task") == "multilabel":
        from .render_multilabel import multilabel_headline

        parts += multilabel_headline(lm, em)
    if metrics.get("n_alerts"):
        parts.append(f"{metrics['n_alerts']} alert(s)")
    if "error" in metrics:
        parts.append(str(metrics["error"])[:60])
    return ", ".join(parts)


def runs_table(rows: list[dict[str, Any]]) -> Table:
    """The runs, newest first."""
    table = Table(title="Runs (newest first)", title_justify="left")
    from ..pipeline.fit_gold import answers_in_fit

    for column in ("run", "created (UTC)", "dataset", "status", "steps", "label model", "answers in fit", "headline"):
        table.add_column(column)
    for row in rows:
        created = str(row["created_at"])[:19].replace("T", " ")
        counts = answers_in_fit(row["metrics"].get("label_model") or {})
        table.add_row(str(row["run_id"]), created, str(row["dataset"]), str(row["status"]),
                      ",".join(row.get("steps") or []), _label_model_name(row),
                      "-" if counts is None else f"{counts[1]} of {counts[0]}", _headline(row["metrics"]))
    if not rows:
        table.caption = "no runs yet: run `weaklab demo` or `weaklab fit`"
    return table


def _label_model_name(row: dict[str, Any]) -> str:
    """The label model a run fitted: the class its metrics name, else the one its config records for a fit."""
    fitted = (row["metrics"].get("label_model") or {}).get("class")
    configured = (row.get("label_model") or {}).get("name") if "fit" in (row.get("steps") or []) else None
    return str(fitted or configured or "-")


def bracketed(tokens: list[str], spans: list[Any]) -> str:
    """The tokens with each span bracketed and typed: ``took [aspirin]Chemical daily``."""
    words = [escape(t) for t in tokens]
    for start, end, kind in sorted(spans, reverse=True):
        words[start:end] = [f"[bold][[/]{' '.join(words[start:end])}[bold]][/]{escape(kind)}"]
    return " ".join(words)


def explain_spans(console: Console, story: dict[str, Any]) -> None:
    """Print a tagging item's story: its tokens, with every source's spans and the proposed spans."""
    tokens = story["tokens"]
    console.print(f"[bold]item {story['item_id']}[/] in run {story['run_id']} (dataset {story['dataset']}, "
                  f"row {story['row']}; {len(tokens)} tokens)")
    columns: list[tuple[str, list[Any]]] = [(s["source"], s["spans"]) for s in story["sources"]]
    proposed = story.get("proposed")
    if proposed is not None:
        columns.append((f"proposed ({proposed['producer']})",
                        [[p["start"], p["end"], p["type"]] for p in proposed["spans"]]))
    for name in ("end_model", "gold"):
        if story.get(name) is not None:
            columns.append((name.replace("_", " "), story[name]))
    if story["answers"]:
        columns.append(("final", story["final_spans"]))
    table = Table(title="Tokens and spans (B- begins a span, I- continues it)", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("token")
    for name, _ in columns:
        table.add_column(escape(name))
    tags = [_bio(spans, len(tokens)) for _, spans in columns]
    for i, token in enumerate(tokens):
        table.add_row(str(i), escape(token), *(t[i] for t in tags))
    console.print(table)
    if proposed is not None:
        for p in proposed["spans"]:
            conf = "" if p["confidence"] is None else f" (confidence {p['confidence']:.3f})"
            console.print(f"proposed {escape(p['type'])}: {escape(' '.join(tokens[p['start']:p['end']]))}{conf}")
    for answer in story["answers"]:
        console.print(f"answer by {escape(answer['annotator'])} ({answer['status']}, {answer['created_at'][:19]}): "
                      + bracketed(tokens, answer["spans"]))
    console.print(f"[bold]final spans[/] (from {story['final_from']}): " + bracketed(tokens, story["final_spans"]))


def _bio(spans: list[Any], n: int) -> list[str]:
    out = [""] * n
    for start, end, kind in spans:
        for i in range(start, min(end, n)):
            out[i] = f"{'B' if i == start else 'I'}-{kind}"
    return out


def explain(console: Console, story: dict[str, Any]) -> None:
    """Print an item's story."""
    if story.get("kind") == "tagging":
        explain_spans(console, story)
        return
    if story.get("kind") == "multilabel":
        from .render_multilabel import explain_labels

        explain_labels(console, story)
        return
    names = story.get("class_names") or []

    def cls(label: Any) -> str:
        return "none" if label is None else escape(f"{names[label]} ({label})" if names else str(label))

    console.print(f"[bold]item {story['item_id']}[/] in run {story['run_id']} (dataset "
                  f"{story['dataset']['name']}, row {story['row']})")
    votes = Table(title="Votes", title_justify="left")
    for column in ("source", "version", "vote"):
        votes.add_column(column)
    for vote in story["votes"]:
        votes.add_row(escape(vote["source"]), str(vote["version"] or "")[:12], cls(vote["label"]))
    missing = story.get("unavailable") or []
    if not story["votes"]:
        votes.caption = "the votes are unavailable" if any(m.startswith("votes") for m in missing) \
            else "every source abstained"
    console.print(votes)
    for note in missing:
        console.print(f"[yellow]unavailable[/] {escape(note)}")
    posterior = story.get("posterior")
    if posterior is not None:
        model = (story.get("label_model") or {}).get("class", "label model")
        shown = ", ".join(f"{cls(c)}: {p:.3f}" for c, p in enumerate(posterior["proba"]))
        console.print(f"{model} posterior: {shown}")
    end = story.get("end_model_posterior")
    if end is not None:  # an item no source voted on: the end model, which reads the item, labels it
        shown = ", ".join(f"{cls(c)}: {p:.3f}" for c, p in enumerate(end["proba"]))
        console.print(f"end model (no source voted, so it gives the final label): {shown}")
    fit_gold = story.get("fit_gold")
    if fit_gold is not None:
        gold = fit_gold["class_name"] if fit_gold.get("class_name") is not None else fit_gold["label"]
        console.print(f"fit gold: {gold} from the data file fed this run's label-model fit "
                      "([data].fit_gold)", markup=False)
    for issue in story.get("label_issues") or []:
        console.print(f"label issue #{issue['rank']} ({issue['method']}): suggested {cls(issue['suggested'])}")
    for fix in story.get("corrections") or []:
        who, why = escape(str(fix["who"])), escape(str(fix["why"]))
        old, new = (_recorded_class(fix, run, name, cls) for run, name in (("old_run_label", "old_class"),
                                                                             ("label", "new_class")))
        console.print(f"correction: {old} -> {new} by {who} ({why})")
    for answer in story.get("annotations") or []:
        used = "" if answer["used"] else " (after this run)"
        who = escape(str(answer["annotator"]))
        console.print(f"human answer: {_answer_class(answer, cls)} by {who} via {answer['origin']}{used}")
    console.print(f"[bold]final label: {cls(story['final_label'])}[/] (from {story['final_from']})")


def _recorded_class(record: dict[str, Any], run_key: str, name_key: str, cls: Any) -> str:
    """A recorded class shown in the run's classes (``run_key``), else by the name it was recorded under."""
    label = record.get(run_key)
    if label is not None:
        return str(cls(label)) if label >= 0 else "none"
    return escape(f"{record.get(name_key)} (not a class of this run)")


def _answer_class(answer: dict[str, Any], cls: Any) -> str:
    """A human answer as the run's class, with the name it was given under when the classes changed since."""
    if answer.get("status") == "skipped":
        return "(skipped)"
    given = answer.get("class_name")
    if answer.get("run_label") is None:  # a class this run lacks (or a story from an older store)
        shown = given if given is not None else answer.get("label")
        return escape(f"{shown} (not a class of this run)")
    mapped = cls(answer["run_label"])
    if given is None or given == answer.get("run_class"):
        return mapped
    return f"{mapped} {escape(f'(given as {given!r})')}"


def diff_table(frame: Any, run_a: int, run_b: int, limit: int) -> Table:
    """Items whose label changed between two runs."""
    return _changed_table(frame, "changed label", run_a, run_b, limit,
                          lambda row: (f"{_shown(row, 'a')} ({row.from_a})", f"{_shown(row, 'b')} ({row.from_b})"))


def span_diff_table(frame: Any, run_a: int, run_b: int, limit: int) -> Table:
    """Items whose final spans changed between two tagging runs: the words of each span with its type."""
    return _changed_table(frame, "changed spans", run_a, run_b, limit,
                          lambda row: (_spans_text(row.tokens, row.spans_a, row.from_a),
                                       _spans_text(row.tokens, row.spans_b, row.from_b)))


def _changed_table(frame: Any, what: str, run_a: int, run_b: int, limit: int,
                   sides: Callable[[Any], tuple[str, str]]) -> Table:
    """The first ``limit`` rows of a diff: item, each run's side (``sides(row)``) and why."""
    table = Table(title=f"{len(frame)} item(s) {what} between run {run_a} and run {run_b}", title_justify="left")
    for column in ("item", f"run {run_a}", f"run {run_b}", "why"):
        table.add_column(column)
    for row in frame.head(limit).itertuples():
        table.add_row(str(row.item_id), *sides(row), row.reason)
    if len(frame) > limit:
        table.caption = f"first {limit} shown; --json lists all"
    return table


def _spans_text(tokens: list[str], spans: list[list[Any]], origin: str) -> str:
    words = "; ".join(f"{' '.join(tokens[s:e])} ({t})" for s, e, t in spans) or "no spans"
    return f"{escape(words)} ({origin})"


def _shown(row: Any, side: str) -> str:
    """A diff row's label on one side: its class name when known, "-" for no label."""
    name = getattr(row, f"class_{side}", None)
    if isinstance(name, str):
        return name
    label = int(getattr(row, f"label_{side}"))
    return "-" if label < 0 else str(label)


def alerts_table(rows: list[dict[str, Any]]) -> Table:
    """Alerts, newest first."""
    table = Table(title="Alerts", title_justify="left")
    for column in ("run", "severity", "kind", "source", "message"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["run_id"]), row["severity"], row["kind"], escape(row["source"] or ""),
                      escape(row["message"]))
    if not rows:
        table.caption = "no alerts"
    return table


#: The summary table's caption: what a column means, said only when the table shows it.
_SUMMARY_LEGEND = (("emp_accuracy", "emp accuracy: on the dev gold"),
                   ("est_accuracy", "est accuracy: the label model's estimate"),
                   ("decides", "decides: share of voted items whose label flips without the source"))


def summary_table(summary: Any) -> Table:
    """The sources of a project run."""
    table = Table(title="Sources", title_justify="left")
    table.add_column("source", no_wrap=True)
    columns = [c for c in ("coverage", "overlaps", "conflicts", "emp_accuracy", "est_accuracy", "decides",
                           "weight_share") if c in summary.columns]
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")
    for name, row in summary.iterrows():
        table.add_row(escape(str(name)), *(_pct(row[c]) for c in columns))
    legend = [text for column, text in _SUMMARY_LEGEND if column in columns]
    if "est_accuracy" in columns and summary["est_accuracy"].isna().any():
        legend.append("est accuracy blank: the model could not estimate it (without gold, too few of the source's "
                      "votes share an item with another source's)")
    table.caption = "; ".join(legend) or None
    return table


def run_result(console: Console, result: Any, step: str, store_path: Any) -> None:
    """Print what a project run did."""
    reused = [k for k, v in result.reused.items() if v]
    note = f" (reused from the store: {', '.join(reused)})" if reused else ""
    console.print(f"[bold]run {result.run_id}[/]: {', '.join(result.steps)}{note} — recorded in {store_path}")
    from .render_multilabel import multilabel_result

    by_task = {"tagging": tagging_result, "multilabel": multilabel_result}.get(result.metrics.get("task"))
    if by_task is not None:
        by_task(console, result)
        return
    if result.summary is not None:
        console.print(summary_table(result.summary))
    metrics = result.metrics
    for key, title in (("label_model", "label model"), ("end_model", "end model")):
        values = metrics.get(key) or {}
        shown = {k: v for k, v in values.items() if k in ("accuracy", "macro_f1", "ece", "coverage",
                                                          "accuracy_covered", "ece_after", "n_dev", "n_train")}
        if shown:
            console.print(f"{title} ({values.get('class', values.get('name', ''))}): " +
                          ", ".join(f"{k} {_num(v)}" for k, v in shown.items()))
        if key == "label_model":
            for line in label_model_lines(values):
                console.print(line, highlight=False)
    for line in [*known_lines(metrics.get("end_model") or {}), *column_lines(metrics.get("end_model") or {}),
                 *engine_lines(metrics)]:
        console.print(line)
    for name, fault in ((metrics.get("apply_report") or {}).get("faults") or {}).items():
        console.print(f"[yellow]{name}[/]: {fault['n']} item(s) raised, counted as abstentions (lfs.on_error = "
                      f"\"abstain\"), e.g. {fault.get('error')} on item {fault.get('item_id')!r}", markup=True,
                      highlight=False)
    from ..pipeline.fit_gold import fit_gold_lines

    label_model = metrics.get("label_model") or {}
    for line in fit_gold_lines(label_model):
        console.print(line, markup=False, highlight=False)
    for line in answer_lines(metrics.get("answers") or {},
                             label_model.get("n_answers_for_fit", label_model.get("n_gold_for_fit")),
                             label_model.get("gold_sampling")):
        console.print(line)
    for line in alert_lines(result.alerts, result.run_id):
        console.print(line)
    if result.issues is not None:
        console.print(f"{len(result.issues)} label issue(s) recorded; top: " +
                      ", ".join(str(v) for v in result.issues["item_id"].head(5)))
    if result.query:
        console.print("label next: " + " ".join(str(v) for v in result.query))
    if result.item_ids:
        console.print(f"Explain an item: weaklab explain {result.item_ids[0]}")


def alert_lines(alerts: Any, run_id: Any, per_kind: int = 5) -> list[str]:
    """The run's alerts as rich markup lines: at most ``per_kind`` of each kind, then one line naming the rest.

    A crowd of hundreds of workers can raise dozens of alerts of one kind; the
    command's output names the first few in full and the others by source, and
    points at ``weaklab alerts``, which lists every one (they are all recorded).
    """
    lines: list[str] = []
    kinds: dict[str, list[Any]] = {}
    for alert in alerts:
        kinds.setdefault(alert.kind, []).append(alert)
    for kind, group in kinds.items():
        for alert in group[:per_kind]:
            lines.append(f"[yellow]alert[/] {escape(alert.kind)}: {escape(alert.message)}")
        rest = group[per_kind:]
        if rest:
            names = ", ".join(escape(str(a.source)) for a in rest[:10] if a.source is not None)
            more = f" and {len(rest) - 10} more" if len(rest) > 10 else ""
            where = f"weaklab alerts --run {run_id}" if run_id is not None else "weaklab alerts"
            where += f" --limit {len(alerts)}" if len(alerts) > 50 else ""  # the command shows 50 by default
            lines.append(f"[yellow]alert[/] {escape(kind)}: {len(rest)} more ({names}{more}); every one: {where}")
    return lines


def label_model_lines(label_model: dict[str, Any]) -> list[str]:
    """What the label model chose and the warnings of its fit, as rich markup lines (none for older runs).

    Examples
    --------
    >>> label_model_lines({"class": "AutoLabelModel", "choice": "DawidSkene", "warnings": ["close call"],
    ...                    "n_gold_for_fit": 30})
    ['  AutoLabelModel chose DawidSkene', '[yellow]warning[/]: close call']
    >>> label_model_lines({"class": "AutoLabelModel", "choice": "DawidSkene", "warnings": ["close call"]})[2][:35]
    '  no gold reached this fit: answer '
    """
    from ..pipeline.lm_notes import choice_lines

    lines = [f"  {escape(line)}" for line in choice_lines(label_model)]
    lines += [f"[yellow]warning[/]: {escape(str(text))}" for text in label_model.get("warnings") or []]
    if label_model.get("warnings") and not label_model.get("n_gold_for_fit"):
        lines.append("  no gold reached this fit: answer a few dozen items (weaklab annotate, or the review queue of "
                     "weaklab serve), or set fit_gold under \\[data] if the data file has gold outside the dev split")
    return lines


def warning_lines(caught: list[Any], skip: Any = ()) -> list[str]:
    """Python warnings caught during a command, as one rich markup line each (distinct texts, ``skip`` left out).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("few votes")
    ...     warnings.warn("few votes")
    ...     warnings.warn("shown elsewhere")
    >>> warning_lines(caught, skip=["shown elsewhere"])
    ['[yellow]warning[/]: few votes']
    """
    lines, seen = [], set(skip or ())
    for item in caught:
        text = str(item.message)
        if text not in seen:
            seen.add(text)
            lines.append(f"[yellow]warning[/]: {escape(text)}")
    return lines


def engine_lines(metrics: dict[str, Any]) -> list[str]:
    """What a run on the Dask engine wrote, reused and skipped (nothing for a local run).

    Examples
    --------
    >>> engine_lines({"engine": {"kind": "dask"}, "votes_root": "/p/v", "n_items": 10, "n_sources": 2,
    ...               "n_partitions": 2, "apply_report": {"partitions_reused": 1},
    ...               "end_model": {"skipped": "not on dask"}})[0]
    'votes: 10 items x 2 sources in 2 partitions at /p/v (1 reused from an earlier run)'
    >>> print(engine_lines({"engine": {"kind": "dask"}, "end_model": {"skipped": "not on dask"}})[0])  # rich markup
    [yellow]end model skipped[/]: not on dask; weaklab train with \\[engine] kind = "local" trains it
    >>> engine_lines({"engine": {"kind": "dask"}, "end_model_root": "/p/e", "end_model": {"name": "sgd", "n_train": 9}})
    ['end model: sgd trained out of core on 9 items, probabilities at /p/e']
    >>> engine_lines({"engine": {"kind": "dask"}, "label_model": {"class": "AutoLabelModel", "fit_sample": {
    ...     "sampled": True, "n_sample": 700, "n_items": 1000, "n_sample_voted": 500, "n_voted": 714,
    ...     "max_fit_items": 500, "seed": 0}}})[0].split("; ")  # doctest: +NORMALIZE_WHITESPACE
    ['label model: chosen and fitted on a random sample of 700 of the 1,000 items (500 of the 714 with a vote',
     'max_fit_items = 500 in label_model.params, seed 0), then applied to every partition']
    >>> engine_lines({"engine": {"kind": "dask"}, "label_model": {"fit_sample": {
    ...     "sampled": True, "n_sample": 700, "n_items": 1000, "n_sample_voted": 500, "n_voted": 714,
    ...     "max_fit_items": 500, "seed": 0, "n_gold": 40, "n_gold_in_sample": 25}}})[1][:72]
    '[yellow]15 of the 40 gold items fall outside the sample and did not reac'
    >>> engine_lines({})
    []
    """
    if (metrics.get("engine") or {}).get("kind") != "dask":
        return []
    lines = []
    if metrics.get("votes_root"):
        reused = (metrics.get("apply_report") or {}).get("partitions_reused") or 0
        lines.append(f"votes: {metrics.get('n_items')} items x {metrics.get('n_sources')} sources in "
                     f"{metrics.get('n_partitions')} partitions at {metrics['votes_root']}"
                     + (f" ({reused} reused from an earlier run)" if reused else ""))
    lines += _fit_sample_lines((metrics.get("label_model") or {}).get("fit_sample"))
    if metrics.get("end_model_root"):
        end = metrics.get("end_model") or {}
        lines.append(f"end model: {end.get('name')} trained out of core on {end.get('n_train')} items, "
                     f"probabilities at {metrics['end_model_root']}")
    skipped = (metrics.get("end_model") or {}).get("skipped")
    if skipped:
        lines.append(f"[yellow]end model skipped[/]: {skipped}; weaklab train with \\[engine] kind = \"local\" "
                     "trains it")
    return lines


def _fit_sample_lines(seen: dict[str, Any] | None) -> list[str]:
    """What the label model fitted in memory on partitioned votes saw (AutoLabelModel on the Dask engine)."""
    if not seen:
        return []
    if not seen.get("sampled"):
        return [f"label model: chosen and fitted on all {seen['n_items']:,} items (fewer than max_fit_items = "
                f"{seen['max_fit_items']:,} with a vote)"]
    lines = [f"label model: chosen and fitted on a random sample of {seen['n_sample']:,} of the {seen['n_items']:,} "
             f"items ({seen['n_sample_voted']:,} of the {seen['n_voted']:,} with a vote; "
             f"max_fit_items = {seen['max_fit_items']} in label_model.params, seed {seen['seed']}), then applied to "
             "every partition"]
    left = int(seen.get("n_gold") or 0) - int(seen.get("n_gold_in_sample") or 0)
    if "n_random_gold" not in seen:  # a run recorded before the kinds were counted apart
        if left > 0:
            lines.append(f"[yellow]{left} of the {seen['n_gold']:,} gold items fall outside the sample and did not "
                         "reach the fit[/] (answers to a review queue, or random gold beyond max_fit_items): raise "
                         "max_fit_items in label_model.params to fit on more items")
        return lines
    lost = int(seen["n_random_gold"]) - int(seen.get("n_random_gold_in_sample") or 0)
    if lost > 0:  # random gold is forced in up to max_fit_items
        lines.append(f"[yellow]{lost} of the {seen['n_random_gold']:,} items of gold drawn at random did not reach "
                     f"the fit[/]: more than max_fit_items = {seen['max_fit_items']} of them; raise it in "
                     "label_model.params to fit on all")
    if left - lost > 0:  # ranked answers: the same fit in the sample or not (AutoLabelModel leaves them out)
        lines.append(f"{left - lost} answer(s) to a review queue fall outside the sample; AutoLabelModel does not use "
                     "ranked answers in a sample or in memory, so its fit is the same either way")
    return lines


def tagging_result(console: Console, result: Any) -> None:
    """Print what a tagging run did: the span sources, span F1 of the label model, majority vote and the tagger."""
    metrics = result.metrics
    if result.summary is not None:
        table = Table(title="Span sources (precision, recall, F1 on the dev gold)", title_justify="left")
        columns = [c for c in ("n_spans", "token_coverage", "overlap", "conflict", "precision", "recall", "f1")
                   if c in result.summary.columns]
        table.add_column("source", no_wrap=True)
        table.add_column("types")
        for column in columns:
            table.add_column(column.replace("_", " "), justify="right")
        for name, row in result.summary.iterrows():
            table.add_row(str(name), ",".join(row["types"]), *(_num(row[c]) for c in columns))
        console.print(table)
    lm, em = metrics.get("label_model") or {}, metrics.get("end_model") or {}
    n_dev = metrics.get("n_dev", 0)
    if isinstance(lm.get("span_f1"), dict):
        console.print(f"label model ({lm['class']}): span F1 {_num(lm['span_f1']['micro']['f1'])} on {n_dev} dev "
                      f"sentences (token majority vote: {_num(lm.get('majority_vote_span_f1'))})")
    elif lm:
        console.print(f"label model ({lm['class']}): {lm.get('n_proposed', 0)} spans proposed (no dev gold)")
    if isinstance(em.get("span_f1"), dict):
        console.print(f"end model ({em['name']}): span F1 {_num(em['span_f1']['micro']['f1'])} on the dev sentences, "
                      f"trained on {em.get('n_train')} sentences")
    if result.query:
        console.print("review next: " + " ".join(str(v) for v in result.query))
    if result.item_ids:
        console.print(f"Explain an item: weaklab explain {result.item_ids[0]}")


def known_lines(end_model: dict[str, Any]) -> list[str]:
    """How many of the end model's training items took a person's answer as the target (nothing when none).

    Examples
    --------
    >>> known_lines({"n_known_in_training": 12})[0][:40]
    'end model: 12 of its training items took'
    >>> known_lines({"name": "tfidf_logreg"})
    []
    """
    n_known = end_model.get("n_known_in_training")
    if not n_known:
        return []
    return [f"end model: {n_known} of its training items took their human answer (or the gold the fit got) as the "
            "target, not the label model's soft label"]


def column_lines(end_model: dict[str, Any]) -> list[str]:
    """The columns a tabular end model read, and those its default rule left out (never silently).

    Examples
    --------
    >>> column_lines({"columns": ["temp", "site"], "categories": {"site": 2}, "skipped_columns": ["note"],
    ...               "skipped_why": {"note": "text or ids: 90 distinct values"}})  # doctest: +NORMALIZE_WHITESPACE
    ['end model columns: temp, site (2 categories, one-hot)',
     "[yellow]left out of the end model: 'note' (text or ids: 90 distinct values)[/] (name a column in
     end_model.params.columns once its values are numbers or few categories, or list it in exclude)"]
    >>> column_lines({"name": "tfidf_logreg"})
    []
    """
    if not end_model.get("columns"):
        return []
    categories = end_model.get("categories") or {}
    shown = [f"{c} ({categories[c]} categories, one-hot)" if c in categories else str(c)
             for c in end_model["columns"]]
    lines = [escape(f"end model columns: {', '.join(shown)}")]
    skipped = end_model.get("skipped_columns") or []
    why = end_model.get("skipped_why") or {}
    if skipped:
        told = ", ".join(f"{c!r} ({why[c]})" if c in why else repr(c) for c in skipped)
        lines.append(f"[yellow]left out of the end model: {escape(told)}[/] (name a column in "
                     "end_model.params.columns once its values are numbers or few categories, or list it in "
                     "exclude)")
    return lines


def answer_lines(answers: dict[str, Any], n_gold: Any, sampling: Any = None) -> list[str]:
    """What happened to the human answers in a run: gold used, carried over, orphaned, changed, disagreements.

    ``sampling`` is the fit's ``gold_sampling``: with ``"active"`` or ``"mixed"`` (answers to a review
    ranking, beside the data file's gold rows of ``[data].fit_gold`` for ``"mixed"``) the line says that
    such answers only reach the label models that clamp gold; with ``"weighted"`` that they were weighted by the
    review queues' random checks.

    Examples
    --------
    >>> answer_lines({"answers": 5}, 5)
    ['human answers: 5 on this data (5 used as gold)']
    >>> answer_lines({"answers": 5, "skipped": 1}, 4)
    ['human answers: 4 on this data and 1 skip(s) (4 used as gold)']
    >>> answer_lines({"answers": 5}, 5, "mixed")[0][31:]
    '5 passed to the fit as gold; a ranked sample: only models that clamp gold use them)'
    """
    lines = []
    if answers.get("answers") or n_gold:
        carried = answers.get("carried_over") or 0
        used = (f"{n_gold or 0} passed to the fit as gold; a ranked sample: only models that clamp gold use them"
                if sampling in ("active", "mixed") else f"{n_gold or 0} used as gold, weighted by the review queues' "
                "random checks" if sampling == "weighted" else f"{n_gold or 0} used as gold")
        skipped = answers.get("skipped") or 0
        given = f"{answers.get('answers', 0) - skipped} on this data" + (f" and {skipped} skip(s)" if skipped else "")
        lines.append(f"human answers: {given} ({used})"
                     + (f", {carried} carried over from an earlier version of the data file" if carried else ""))
    if answers.get("orphaned"):
        lines.append(f"[yellow]{answers['orphaned']} human answer(s) are on items no longer in the data[/] "
                     f"(kept in the store, not used), e.g. {_first(answers.get('orphaned_item_ids'))}")
    if answers.get("changed"):
        lines.append(f"[yellow]{answers['changed']} answered item(s) changed content since answered[/]: review them "
                     f"again, e.g. {_first(answers.get('changed_item_ids'))}")
    if answers.get("n_disagreements"):
        lines.append(f"{answers['n_disagreements']} item(s) with disagreeing annotators "
                     f"({answers.get('n_unresolved', 0)} tied: not gold): weaklab annotate disagreements")
    return lines


def _first(values: Any) -> str:
    return ", ".join(str(v) for v in (values or [])[:3])
