"""A project: ``weaklab.toml`` + data + labeling functions, run step by step and recorded in the store.

Steps, in order: ``apply`` (run the LFs into a label matrix), ``analyse``
(coverage, overlap, conflict, accuracy on dev gold), ``fit`` (the label model
→ soft labels), ``train`` (the end model on soft labels, with calibration),
``issues`` (items whose weak label looks wrong) and ``query`` (the items a
human should label next). ``Project.run(until=step)`` runs every step up to
``step`` as **one run** in the store, then checks the sources for alerts.

Work whose inputs are unchanged is not redone: the same data fingerprint and
the same source versions reuse the stored label matrix (the LFs do not run);
the same matrix, label-model configuration and gold reuse the stored
label-model state and soft labels (nothing is refitted). Reused records are
attached to the new run, so ``explain`` and ``diff`` see them. Human
annotations recorded for the dataset (review, Label Studio imports) are the
gold of the next fit.

Human answers belong to the project (the dataset's name) and the item ids,
not to one version of the data file: editing the file (adding, removing or
reordering rows) records a new dataset version that carries every answer on
the items it still holds (``metrics["answers"]`` reports how many were carried
over, orphaned, and which answered items changed content since). Answers are
read by class *name* against ``[labels].classes`` (through
``[labels.rename]``), so reordering classes keeps their meaning, and a class
that answers use but the config dropped is an error naming it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core import LabelMatrix, SoftLabels, fingerprint
from .._core.state import to_jsonable
from .._core.validation import check_choice, check_int, fail
from ..errors import LFExecutionError, ValidationError
from ..labeling import apply_lfs, lf_summary
from ..models import LabelModel
from ..store import Store
from .alerts import Alert, AlertThresholds
from .answer_journal import recover_journals
from .calibrated import CALIBRATED_ROLE, RAW_ROLE, fit_end_calibrator, with_calibrator
from .config import ProjectConfig, load_config
from .crowd import (
    CrowdVotes,
    calibration_groups,
    combine_votes,
    lf_votes,
    load_project_crowd,
    record_crowd_sources,
    source_versions,
)
from .fit_gold import fit_gold_lineage, with_file_gold
from .image_model import trained_image_model
from .lm_notes import fit_noting_warnings, label_model_notes
from .loading import (
    check_lf_columns,
    data_fingerprint,
    fit_gold_rows,
    item_hashes,
    item_ids_of,
    load_data,
    load_lfs,
    run_gold,
)
from .queue_checks import GoldWeighting, answer_gold_weights
from .record import (
    label_model_stats,
    record_alerts,
    record_class_alerts,
    record_sources,
    record_unvoted_classes,
    recorded_run,
    stats_for_store,
)
from .reuse import end_model_key, issue_judge, judge_key, record_judge, recorded, trained_end_model
from .runs import answers_gold_sampling, project_dataset_meta
from .steps_late import issue_labels, issues_step, judge_proba, query_step
from .tabular_model import tabular_columns, trained_tabular_model
from .training import EndModelResult, checked_label_model, dev_metrics, end_model_texts, with_known_labels

__all__ = ["Project", "RunResult", "STEPS"]

#: The steps of a project, in order.
STEPS = ("apply", "analyse", "fit", "train", "issues", "query")
_DESCRIPTIONS = {
    "apply": "Applying labeling functions", "analyse": "Analysing the sources",
    "fit": "Fitting the label model", "train": "Training the end model",
    "issues": "Finding label issues", "query": "Choosing items for review",
}


@dataclass
class RunResult:
    """What one run did: ids, reused work, measurements, alerts, issues and the review queue.

    Attributes
    ----------
    run_id, dataset_id : int
        The run's and its dataset's ids in the store.
    steps : list of str
        The steps that ran.
    reused : dict of str to bool
        Per step: whether recorded work was reused instead of computed.
    metrics : dict
        What was measured (label model, end model, dev gold, ...).
    summary : pandas.DataFrame or None
        The sources' summary.
    alerts : list of Alert
        Alerts raised by the run.
    issues : pandas.DataFrame or None
        The label issues found (``issues`` step).
    query : list
        The items to review next (``query`` step).
    item_ids : list
        A sample of the run's item ids.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import Project, init_project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> result = Project(folder).run(until="fit")
    >>> result.steps, result.run_id
    (['apply', 'analyse', 'fit'], 1)
    >>> result.metrics["n_items"], result.metrics["label_model"]["class"] != ""
    (200, True)
    """

    run_id: int
    dataset_id: int
    steps: list[str] = field(default_factory=list)
    reused: dict[str, bool] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    summary: pd.DataFrame | None = None
    alerts: list[Alert] = field(default_factory=list)
    issues: pd.DataFrame | None = None
    query: list[Any] = field(default_factory=list)
    item_ids: list[Any] = field(default_factory=list)


class Project:
    """A weak-supervision project described by a ``weaklab.toml``.

    Parameters
    ----------
    config : ProjectConfig, str or Path, default="."
        A loaded config, a ``weaklab.toml`` file or the folder holding one.
    store_path : str or Path, optional
        The store's DuckDB file; default ``[store].path`` of the config.
    progress : bool, default=False
        Let ``apply_lfs`` show its progress bar on interactive terminals.
    random_state : int, default=0
        Seed of the end model, tie-breaks and sampling.
    store_timeout : float, default=10.0
        Seconds to wait while another process holds the store (the project
        holds it only while it writes), before a StoreError names that process.

    Examples
    --------
    >>> project = Project("my_project")                      # doctest: +SKIP
    >>> result = project.run(until="train")                  # doctest: +SKIP
    >>> result.metrics["label_model"]["accuracy"]            # doctest: +SKIP
    """

    def __init__(self, config: Any = ".", *, store_path: Any = None, progress: bool = False,
                 random_state: int = 0, store_timeout: float = 10.0) -> None:
        self.config = config if isinstance(config, ProjectConfig) else load_config(config)
        self.store_path = Path(store_path) if store_path is not None else self.config.store_path
        self.progress = progress
        self.random_state = check_int("random_state", random_state, low=0)
        self.store_timeout = store_timeout
        self.thresholds = AlertThresholds(**self.config.values.get("alerts", {}))

    def open_store(self, *, read_only: bool = False) -> Store:
        """Open the project's store."""
        return Store(self.store_path, read_only=read_only, timeout=self.store_timeout)

    # ------------------------------------------------------------------ running
    def steps(self, until: str = "fit") -> Iterator[tuple[str, str]]:
        """``(step, description)`` of the steps a run up to ``until`` performs, in order."""
        check_choice("until", until, STEPS)
        for step in STEPS[: STEPS.index(until) + 1]:
            yield step, _DESCRIPTIONS[step]

    def run(self, until: str = "fit", *, on_step: Callable[[str, str], None] | None = None) -> RunResult:
        """Run every step up to ``until`` as one recorded run.

        Parameters
        ----------
        until : {"apply", "analyse", "fit", "train", "issues", "query"}, default="fit"
        on_step : callable, optional
            Called as ``on_step(step, description)`` before each step (for progress).

        Returns
        -------
        RunResult
        """
        plan = list(self.steps(until))
        recover_journals(self.store_path, timeout=self.store_timeout)  # answers a stopped `annotate` left on disk
        if self.config.is_tagging:
            from .tagging import run_tagging

            if self.config.engine.is_dask:
                raise ValidationError(f"{self.config.file}: engine.kind: expected \"local\" for a tagging project, "
                                      "got \"dask\"")
            return run_tagging(self, [s for s, _ in plan], on_step, _DESCRIPTIONS)
        if self.config.is_multilabel:
            from .multilabel import run_multilabel

            return run_multilabel(self, [s for s, _ in plan], on_step, _DESCRIPTIONS)
        if self.config.engine.is_dask:
            from .distributed import run_distributed

            return run_distributed(self, [s for s, _ in plan], on_step, _DESCRIPTIONS)
        if "fit" in [s for s, _ in plan]:
            checked_label_model(self.config.label_model_name, self.config.label_model_params)
        state = _State(self.config, load_data(self.config))
        if "train" in [s for s, _ in plan] and self.config.get("end_model", "name") == "tabular":
            tabular_columns(self.config, state.frame)  # a misnamed or non-numeric column, before any work
        state.lfs = load_lfs(self.config)
        check_lf_columns(self.config, state.lfs, state.frame)
        state.crowd = load_project_crowd(self.config, state.ids, state.n_classes_given)
        with self.open_store() as store:
            state.dataset_id = store.add_dataset(
                self.config.dataset_name, item_ids=state.ids, fingerprint=state.data_fp,
                item_hashes=state.item_hashes, meta=project_dataset_meta(self.config))
            with recorded_run(store, state.dataset_id, self._run_config(state, [s for s, _ in plan])) as run:
                result = RunResult(run_id=run.run_id, dataset_id=state.dataset_id, metrics=run.metrics)
                result.metrics["answers"] = store.carry_over(state.dataset_id)
                for step, description in plan:
                    if on_step is not None:
                        on_step(step, description)
                    getattr(self, f"_{step}")(store, state, result)
                    result.steps.append(step)
                self._alerts(store, state, result)
        result.item_ids = [to_jsonable(v) for v in state.ids[:5]]
        return result

    def _run_config(self, state: _State, steps: list[str]) -> dict[str, Any]:
        config = self.config
        return {"project": str(config.file), "steps": steps, "data_fingerprint": state.data_fp,
                "label_model": {"name": config.label_model_name, "params": config.label_model_params},
                "end_model": {"name": config.get("end_model", "name", "tfidf_logreg"),
                              "params": dict(config.get("end_model", "params", {}))},
                "sources": source_versions(state.lfs, state.crowd), "class_names": self.config.class_names,
                "class_renames": self.config.class_renames}

    def recompute_matrix(self) -> tuple[LabelMatrix, str]:
        """The project's label matrix applied anew to its data (nothing recorded), and the data's fingerprint.

        ``weaklab doctor`` uses it to write back a lost vote file.
        """
        state = _State(self.config, load_data(self.config))
        state.crowd = load_project_crowd(self.config, state.ids, state.n_classes_given)
        return self._applied(state, load_lfs(self.config)), state.data_fp

    def _applied(self, state: _State, lfs: list[Any]) -> LabelMatrix:
        L = self._lf_votes(state, lfs) if lfs else None
        report = state.apply_report or {"lf_names": [], "n_faults": [], "by_name": [], "faults": [],
                                        "n_items": state.n_items, "total_seconds": 0.0, "engine": "local"}
        if state.crowd is not None:
            report["crowd"] = state.crowd.report
        state.apply_report = report
        return combine_votes(L, state.crowd, lf_names=[lf.name for lf in lfs])

    def _lf_votes(self, state: _State, lfs: list[Any]) -> LabelMatrix:
        on_error = self.config.get("lfs", "on_error", "raise")
        try:
            with warnings.catch_warnings():  # the run reports its faults per source (RunResult.metrics)
                warnings.filterwarnings("ignore", r".*lost to labeling-function faults", RuntimeWarning)
                L, apply_report = apply_lfs(lfs, state.frame, progress=self.progress, on_error=on_error,
                                            item_id=self.config.get("data", "id_column"),
                                            n_classes=state.n_classes_given, class_names=self.config.class_names,
                                            class_renames=self.config.class_renames)
        except LFExecutionError as exc:
            if exc.original is None or on_error != "raise":
                raise
            hint = (f"; fix the function, or set on_error = \"abstain\" under [lfs] in "
                    f"{self.config.file.name} to count its failures as abstentions (they are reported per source)")
            raise LFExecutionError(f"{exc}{hint}", lf_name=exc.lf_name, item_id=exc.item_id, row=exc.row,
                                   original=exc.original) from exc
        state.apply_report = apply_report.to_dict()
        return L

    # ------------------------------------------------------------------ steps
    def _apply(self, store: Store, state: _State, result: RunResult) -> None:
        started = time.perf_counter()
        record_sources(store, state.lfs)
        if state.crowd is not None:
            record_crowd_sources(store, state.crowd)
        renames = self.config.class_renames  # the old names LFs may vote (keys without renames stay as they were)
        key = fingerprint("application", state.data_fp, [(lf.name, lf.fingerprint) for lf in state.lfs],
                          self.config.get("lfs", "on_error", "raise"), state.n_classes_given,
                          self.config.class_names, *((sorted(renames.items()),) if renames else ()),
                          *(() if state.crowd is None else (state.crowd.key,)))
        found = _find_previous(store, state.dataset_id, "application_key", key)
        L = None if found is None else recorded(store.load_matrix, int(found["application_id"]))
        found = found if L is not None else None  # a damaged vote file: apply again (which rewrites it)
        if L is not None:
            report = None
        else:
            L = self._applied(state, state.lfs)
            report = state.apply_report
        app_id = store.add_application(state.dataset_id, L, report=report, run_id=result.run_id)
        state.L = L
        result.reused["apply"] = found is not None
        by_name = (found or {}).get("sources_by_name", []) if report is None else [
            n for n, named in zip(report["lf_names"], report.get("by_name") or []) if named]
        result.metrics.update(application_id=app_id, application_key=key, apply_report=_brief(report),
                              n_items=L.n_items, n_sources=L.n_sources, sources_by_name=by_name)
        result.metrics.setdefault("seconds", {})["apply"] = time.perf_counter() - started

    def _analyse(self, store: Store, state: _State, result: RunResult) -> None:
        L = state.matrix
        gold = np.where(state.dev, state.gold, -1)
        summary = lf_summary(L, gold if (gold >= 0).any() else None)
        summary = summary.rename(columns={"emp_acc": "emp_accuracy"})
        store.add_source_stats(result.run_id, stats_for_store(summary))
        state.stats = summary
        result.summary = summary
        result.metrics["n_dev"] = int((gold >= 0).sum())

    def _fit(self, store: Store, state: _State, result: RunResult) -> None:
        started = time.perf_counter()
        L = state.matrix
        name, params = self.config.label_model_name, self.config.label_model_params
        cls = checked_label_model(name, params)
        if L.nnz == 0:
            raise ValidationError(f"{self.config.file.name}: lfs: expected labeling functions that vote on some "
                                  f"items, got {L.n_sources} source(s) that abstained on all {L.n_items} items "
                                  "(`weaklab analyze` shows each source's coverage and faults)")
        answers = self._annotation_gold(store, state)
        answer_sampling = answers_gold_sampling(store, state.dataset_id) if (answers >= 0).any() else "random"
        state.fit_rows = fit_gold_rows(self.config, state.frame, state.gold, state.dev,
                                       random_state=self.random_state)
        fit_gold, sampling, kind = with_file_gold(answers, answer_sampling, state.gold, state.fit_rows)
        weighting = GoldWeighting(None) if kind == "random" else answer_gold_weights(
            store, state.dataset_id, state.ids, fit_gold, state.fit_rows, int((~state.dev).sum()))
        if weighting.weights is not None:  # queue answers weighted by their random checks: a sample of the pool
            sampling, kind = "random", "weighted"
        state.known = fit_gold  # the end model trains on these classes, whatever the label model made of them
        key = fingerprint("label_model", L.fingerprint, name, params, fit_gold,
                          *(() if _same(sampling, "random") else (sampling,)),
                          *(() if weighting.weights is None else (np.round(weighting.weights, 9),)))
        found = _find_previous(store, state.dataset_id, "label_model_key", key)
        recorded_state = None if found is None else recorded(store.load_label_model_state,
                                                              int(found["label_model_run_id"]))
        found = found if recorded_state is not None else None  # a damaged state file: fit again
        if recorded_state is not None:
            model = cls.from_state(recorded_state)
            raised = list(((found or {}).get("label_model") or {}).get("warnings") or [])
        else:
            model, raised = fit_noting_warnings(lambda: _fitted(cls, params, L, fit_gold, sampling, weighting.weights))
        soft = SoftLabels(model.predict_proba(L), item_ids=L.item_ids, class_names=L.class_names,
                          producer=f"{name}:{key}")
        covered = L.votes_per_item() > 0
        gold_dev = np.where(state.dev, state.gold, -1)
        metrics = {**dev_metrics(soft.proba, gold_dev, covered), "class": name,
                   "n_gold_for_fit": int((fit_gold >= 0).sum()), "gold_sampling": kind,
                   **({} if weighting.weights is None else {"gold_weighting": weighting.metrics()}),
                   **fit_gold_lineage(self.config, state.frame, state.gold, state.dev, state.fit_rows, answers,
                                      self.random_state, str(getattr(model, "reason_", "") or "")),
                   "coverage": float(covered.mean()), **label_model_notes(model, raised)}
        result.metrics.setdefault("answers", {}).update(state.human)
        if state.fit_rows.any():  # the items whose file gold fed the fit, by id: a later edit of the file changes none
            metrics["fit_gold_digest"] = store.add_fit_gold(
                result.run_id, state.ids[state.fit_rows], state.gold[state.fit_rows], class_names=L.class_names,
                option=self.config.fit_gold, random_state=metrics.get("fit_gold_random_state"))
        lm_id = store.add_label_model_run(result.run_id, model.to_state(), application_id=result.metrics.get(
            "application_id"), metrics={**metrics, "reused_from": None if found is None
                                        else int(found["label_model_run_id"])})
        soft_id = store.add_soft_labels(state.dataset_id, soft, run_id=result.run_id, role="label_model")
        stats = label_model_stats(model, L, random_state=self.random_state)
        store.add_source_stats(result.run_id, stats_for_store(stats))
        state.model, state.soft = model, soft
        state.stats = stats if state.stats is None else state.stats.join(stats, how="left")
        result.summary = state.stats
        result.reused["fit"] = found is not None
        result.metrics.update(label_model=metrics, label_model_key=key, label_model_run_id=lm_id,
                              soft_labels_id=soft_id)
        result.metrics.setdefault("seconds", {})["fit"] = time.perf_counter() - started

    def _annotation_gold(self, store: Store, state: _State) -> np.ndarray:
        """Human answers on the dataset's items (any version) as gold: -1 where none or unresolved."""
        self._check_answer_classes(store, state.dataset_id)
        labels = store.human_labels(state.dataset_id, class_names=self.config.class_names,
                                    renames=self.config.class_renames)
        gold = np.full(state.n_items, -1, dtype=np.int64)
        gold[labels["row"].to_numpy(dtype=np.int64)] = labels["label"].to_numpy(dtype=np.int64)
        state.human = {"n_disagreements": int(labels["status"].isin(["tie", "majority"]).sum()),
                       "n_unresolved": int((labels["status"] == "tie").sum()),
                       "n_skipped": int((labels["status"] == "skipped").sum())}
        return gold

    def _check_answer_classes(self, store: Store, dataset_id: int) -> None:
        """Every class the stored answers use must be a class of the config (directly or renamed)."""
        names = self.config.class_names
        if names is None:
            return
        renames = self.config.class_renames
        used = store.answer_classes(dataset_id)
        missing = {k: n for k, n in used.items() if not k.startswith("#") and renames.get(k, k) not in names}
        if missing:
            old = next(iter(missing))
            raise ValidationError(
                f"{self.config.file}: labels.classes: expected every class the stored human answers use, got "
                + ", ".join(f"no class {k!r} (used by {c} human answers)" for k, c in missing.items())
                + f"; add it back to [labels].classes, or map it to a current class in [labels.rename] "
                f"(e.g. {old} = \"{names[0]}\")")

    def _train(self, store: Store, state: _State, result: RunResult) -> None:
        started = time.perf_counter()
        name = self.config.get("end_model", "name", "tfidf_logreg")
        if name == "none":
            result.metrics["end_model"] = {"name": "none"}
            return
        weak = state.soft_labels
        known = np.where(state.dev, -1, state.known)
        targets, train = with_known_labels(weak.proba, (state.matrix.votes_per_item() > 0) & ~state.dev, known,
                                           state.dev)
        soft = SoftLabels(targets, item_ids=weak.item_ids, class_names=weak.class_names, producer=weak.producer)
        gold_dev = np.where(state.dev, state.gold, -1)
        if name == "cnn":
            fitted, key, reused_from = trained_image_model(store, state.dataset_id, self.config, state.frame, soft,
                                                           train, gold_dev, state.item_hashes,
                                                           random_state=self.random_state)
        elif name == "tabular":
            fitted, key, reused_from = trained_tabular_model(
                store, state.dataset_id, self.config, state.frame, soft, train, gold_dev,
                random_state=self.random_state, votes=lf_votes(state.matrix, state.lfs, state.crowd), known=known)
        else:
            fitted, key, reused_from = self._trained_text_model(store, state, soft, train, gold_dev, known)
        if fitted.state is not None:  # what weaklab predict needs besides the fitted arrays
            names = state.matrix.class_names
            fitted.state.update(class_names=None if names is None else list(names),
                                source_names=[lf.name for lf in state.lfs],  # the votes it reads
                                source_versions=[lf.fingerprint for lf in state.lfs])
        applied = fit_end_calibrator(fitted.proba, gold_dev, calibration_groups(state.matrix, state.lfs, state.crowd),
                                     random_state=self.random_state)
        calibration = {**fitted.calibration, "applied": applied.lineage}
        model_state = None if fitted.state is None else with_calibrator(fitted.state, applied.state)
        store.add_end_model_run(result.run_id, name, params=fitted.params, metrics=fitted.metrics,
                                calibration=calibration, state=model_state)
        for proba, role in ((applied.proba, CALIBRATED_ROLE), (fitted.proba, RAW_ROLE)):
            store.add_soft_labels(state.dataset_id, SoftLabels(proba, item_ids=soft.item_ids,
                                                               class_names=soft.class_names, producer=name),
                                  run_id=result.run_id, role=role, dtype="float64")
        # the query step ranks the raw probabilities: an isotonic calibrator's steps would tie most items
        state.end_proba, state.end_model, state.end_model_key = fitted.proba, fitted, key
        result.reused["train"] = reused_from is not None
        result.metrics["end_model"] = {"name": name, **fitted.metrics, "reused_from": reused_from,
                                       "n_known_in_training": int((known >= 0).sum()),
                                       **{k: v for k, v in calibration.items() if k not in ("bins", "slices")}}
        result.metrics["end_model_key"] = key
        result.metrics.setdefault("seconds", {})["train"] = time.perf_counter() - started

    def _trained_text_model(self, store: Store, state: _State, soft: SoftLabels, train: np.ndarray,
                            gold_dev: np.ndarray, known: np.ndarray) -> tuple[EndModelResult, str, int | None]:
        text_field = self.config.get("data", "text_field")
        if text_field is None:
            raise ValidationError(f"{self.config.file}: data.text_field: expected the text column the end model "
                                  "reads, got nothing")
        name = self.config.get("end_model", "name", "tfidf_logreg")
        params = dict(self.config.get("end_model", "params", {}))
        texts = end_model_texts(state.frame, text_field)
        votes = lf_votes(state.matrix, state.lfs, state.crowd)  # workers answer no new item: LF votes only
        key = end_model_key(name, params, texts, soft, train, gold_dev, self.random_state, votes)
        fitted, reused_from = trained_end_model(store, state.dataset_id, key, texts, soft, train, gold_dev, params,
                                                random_state=self.random_state, votes=votes, known=known)
        return fitted, key, reused_from

    def _issues(self, store: Store, state: _State, result: RunResult) -> None:
        started = time.perf_counter()
        end_model = state.end_model
        if end_model is None:
            raise ValidationError(f"{self.config.file}: end_model.name: expected an end model (its features judge "
                                  "the labels) for the issues step, got 'none'")
        soft, covered = state.soft_labels, state.matrix.votes_per_item() > 0
        positions, given = issue_labels(soft, covered)
        key = judge_key(state.end_model_key, covered, given, self.random_state)
        judged, reused_from = issue_judge(
            store, state.dataset_id, key, soft.n_classes, state.ids[positions],
            lambda: judge_proba(end_model.feature_matrix(), positions, given, soft.n_classes,
                                random_state=self.random_state))
        record_judge(store, state.dataset_id, result.run_id, judged, state.ids[positions])
        result.issues = issues_step(store, result.run_id, soft, covered, None, state.ids,
                                    dict(self.config.values.get("issues", {})), random_state=self.random_state,
                                    judged=judged, votes=state.matrix, model=state.model)
        result.reused["issues"] = reused_from is not None
        result.metrics.update(n_label_issues=0 if result.issues is None else len(result.issues),
                              issues_judge_key=key, issues_reused_from=reused_from)
        result.metrics.setdefault("seconds", {})["issues"] = time.perf_counter() - started

    def _query(self, store: Store, state: _State, result: RunResult) -> None:
        proba = state.end_proba if state.end_proba is not None else state.soft_labels.proba
        answered = (self._annotation_gold(store, state) >= 0) | state.fit_rows  # gold the fit had: not asked again
        result.query = query_step(proba, state.ids, answered | state.dev,
                                  self.config.get("query", "strategy", "entropy"),
                                  int(self.config.get("query", "n", 20)))
        result.metrics["query"] = result.query

    def _alerts(self, store: Store, state: _State, result: RunResult) -> None:
        stats = state.stats
        if stats is None:
            return
        current = stats.copy()
        current["n_votes"] = state.matrix.votes_per_source()
        current["coverage"] = current["n_votes"] / max(1, state.n_items)
        result.alerts = record_class_alerts(
            store, result.run_id, self.config.dataset_name, self.config.class_names, self.config.class_renames,
            source_versions(state.lfs, state.crowd), state.matrix,
            by_name=set(result.metrics.get("sources_by_name", [])) | set(state.crowd.by_name if state.crowd else ()))
        result.alerts += record_unvoted_classes(store, result.run_id, state.matrix, self.config.class_names)
        result.alerts += record_alerts(store, result.run_id, state.dataset_id, current,
                                       n_classes=state.matrix.n_classes, thresholds=self.thresholds)
        result.metrics["n_alerts"] = len(result.alerts)


class _State:
    """What the steps of one run pass to each other."""

    def __init__(self, config: ProjectConfig, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.ids = item_ids_of(config, frame)
        self.n_items = len(frame)
        self.item_hashes = item_hashes(config, frame)
        # an image project's pictures are data too: a replaced picture changes what image LFs see
        self.data_fp = data_fingerprint(config, frame, self.item_hashes)
        names = config.class_names
        self.n_classes_given = None if names is None else len(names)
        self.gold, self.dev = run_gold(config, frame)
        self.fit_rows = np.zeros(self.n_items, dtype=bool)  # the file gold the fit step gave the label model
        self.known = np.full(self.n_items, -1, dtype=np.int64)  # answers and that gold: the end model's classes
        self.lfs: list[Any] = []
        self.crowd: CrowdVotes | None = None
        self.dataset_id = -1
        self.L: LabelMatrix | None = None
        self.model: LabelModel | None = None
        self.soft: SoftLabels | None = None
        self.stats: pd.DataFrame | None = None
        self.end_proba: np.ndarray | None = None
        self.end_model: EndModelResult | None = None
        self.apply_report: dict[str, Any] | None = None
        self.end_model_key = ""
        self.human: dict[str, int] = {}

    @property
    def matrix(self) -> LabelMatrix:
        if self.L is None:
            raise fail("until", "a run that applies the labeling functions first", got_text="no label matrix")
        return self.L

    @property
    def soft_labels(self) -> SoftLabels:
        if self.soft is None:
            raise fail("until", "a run that fits the label model first", got_text="no soft labels")
        return self.soft


def _same(sampling: str | np.ndarray, value: str) -> bool:
    return isinstance(sampling, str) and sampling == value


def _fitted(cls: type[LabelModel], params: dict[str, Any], L: LabelMatrix, gold: np.ndarray,
            sampling: str | np.ndarray = "random", gold_weight: np.ndarray | None = None) -> LabelModel:
    try:
        model = cls(**params)
    except TypeError as exc:
        raise fail("label_model.params", f"parameters of {cls.__name__}", got_text=str(exc)) from None
    if gold_weight is None or not (gold >= 0).any():
        return model.fit(L, gold=gold if (gold >= 0).any() else None, gold_sampling=sampling)
    return model.fit(L, gold=gold, gold_sampling=sampling, gold_weight=gold_weight)


def _find_previous(store: Store, dataset_id: int, key_name: str, key: str) -> dict[str, Any] | None:
    """The metrics of the newest finished run of the dataset that recorded ``key_name == key``."""
    runs = store.runs()
    runs = runs[(runs["dataset_id"] == dataset_id) & (runs["status"] == "finished")]
    for metrics in runs["metrics"]:
        if isinstance(metrics, dict) and metrics.get(key_name) == key:
            return metrics
    return None


def _brief(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if report is None:
        return None
    counts = dict(zip(report.get("lf_names", []), report.get("n_faults", [])))
    first: dict[str, dict[str, Any]] = {}
    for fault in report.get("faults", []) or []:
        first.setdefault(fault["lf_name"], fault)
    faults = {name: {"n": int(n), "error": first.get(name, {}).get("error"),
                     "item_id": first.get(name, {}).get("item_id")} for name, n in counts.items() if n}
    return {"total_seconds": report.get("total_seconds"), "n_items": report.get("n_items"),
            "n_faults": int(sum(report.get("n_faults", []) or [0])), "engine": report.get("engine"),
            **({"faults": faults} if faults else {})}
