"""A project's run on the Dask engine (``[engine] kind = "dask"``): votes and labels never gather on the client.

The steps, each on the cluster of :func:`~weaklab.pipeline.engine.engine_client`:

* ``apply`` reads the data file as a Dask DataFrame (``partition_rows`` rows
  per partition) and writes the votes per partition to
  ``<output>/<application key>/`` (:func:`~weaklab.labeling.apply_lfs` with
  ``output=``). The folder is content-addressed: the same data, LF versions
  and settings map to the same folder, and a folder whose manifest
  (``_weaklab.json``, written last) exists is reused without running the LFs.
  A run that failed part-way left complete partitions with their manifest
  entries: the next run reuses them and runs the LFs on the others only.
  With a gold column, the items that hold gold are found on the workers and
  listed beside the votes (:mod:`~weaklab.pipeline.dask_gold`): no review
  queue offers them (with ``[data].fit_gold``, the gold rows outside the dev
  split are listed too);
* ``analyse`` is :func:`~weaklab.labeling.lf_summary` of the reduced
  statistics, with each source's accuracy on the dev gold as on the local
  engine (:mod:`~weaklab.pipeline.dask_dev`);
* ``fit`` fits the label model on the reduced statistics (or by distributed
  EM; the default ``AutoLabelModel`` in memory on a uniform random sample of
  the items, recorded as ``metrics["label_model"]["fit_sample"]``) with the
  human answers and the ``[data].fit_gold`` items as gold, as the local
  engine does (the fit-gold items recorded by id; a model that cannot take
  them on partitioned votes is refused by name before the run starts,
  :func:`check_dask_label_model`), writes
  the soft labels per partition beside the votes, measures it on
  the dev gold as the local engine does (accuracy, macro F1, ECE, coverage
  and accuracy on covered items, reduced over the partitions), and records
  the agreement between sources and with the label model, reduced over the
  partitions (:func:`~weaklab._core.agreement.reduce_agreement`);
* ``train`` trains the out-of-core counterpart of ``tfidf_logreg``
  (:func:`~weaklab.pipeline.dask_train.train_partitioned`: per epoch one SGD
  task per partition in parallel, then their average), writes its
  probabilities beside the soft labels and measures its calibration on a
  bounded sample of the dev rows;
  ``issues`` ranks the items whose majority vote the posterior
  contradicts most (:func:`~weaklab.cleaning.top_label_issues`, a bounded
  top-N merge) and records their votes, posteriors and texts
  (:func:`~weaklab.pipeline.issue_evidence.issue_evidence`); ``query`` picks
  the most uncertain items not answered nor held out, partition by partition
  (:func:`~weaklab.pipeline.dask_query.query_partitioned`).

The store records the run by reference (:meth:`~weaklab.store.Store.add_partitioned`):
the folders, their fingerprints and manifests, the per-source statistics and
the model state; only then is the run marked finished, so a run that fails
leaves no record of half-written votes.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._core import fingerprint
from .._core.agreement import reduce_agreement
from .._core.dataset_io import exists, join
from .._core.partitioned import PartitionedLabelMatrix, PartitionedSoftLabels
from .._core.state import to_jsonable
from ..cleaning import top_label_issues
from ..errors import ValidationError
from ..labeling import apply_lfs, lf_summary
from ..models import LabelModel
from ..store import Store
from .calibrated import CALIBRATED_ROLE, RAW_ROLE, with_calibrator
from .config import ProjectConfig
from .dask_dev import label_model_dev_metrics, source_gold_columns
from .dask_gold import GOLD_KIND, drawn_fit_gold, gold_by_partition, gold_key, wants_outside, write_gold_items
from .dask_query import query_partitioned
from .dask_train import DASK_END_MODEL, train_partitioned
from .engine import engine_client, ship_modules
from .fit_gold import file_gold_lineage, with_file_gold
from .issue_evidence import issue_evidence
from .lm_notes import fit_noting_warnings, label_model_notes
from .loading import check_lf_columns, load_lfs
from .queue_checks import GoldWeighting, answer_gold_weights
from .record import record_sources, recorded_run, run_steps, source_accuracy, stats_for_store, weight_share
from .runs import answers_gold_sampling, project_dataset_meta
from .steps_late import DEFAULT_MAX_ISSUES
from .training import checked_label_model

if TYPE_CHECKING:
    from .project import Project, RunResult

__all__ = ["DASK_STEPS", "check_dask_label_model", "dask_data", "dask_label_models", "data_format",
           "file_fingerprint", "run_distributed"]

#: The steps a run on the Dask engine performs.
DASK_STEPS = ("apply", "analyse", "fit", "train", "issues", "query")
_MANIFEST = "_weaklab.json"


def run_distributed(project: Project, steps: list[str], on_step: Callable[[str, str], None] | None,
                    descriptions: dict[str, str]) -> RunResult:
    """Run ``steps`` of ``project`` on its Dask engine as one recorded run (see the module docstring)."""
    from .project import RunResult

    config = project.config
    if "fit" in steps:  # before any work: a model that cannot fit here is named now, not after the apply step
        check_dask_label_model(config)
    lfs = load_lfs(config)
    with engine_client(config.engine) as client:
        ship_modules(client, lfs, config.get("data", "text_field"), config.get("data", "image_column"),
                     str(config.data_path.parent))
        frame = dask_data(config)
        check_lf_columns(config, lfs, frame)
        run = _DaskRun(config, lfs, frame, project.random_state)
        with project.open_store() as store:
            dataset_id = store.add_dataset(config.dataset_name, n_items=0, fingerprint=run.data_fp,
                                           meta={**project_dataset_meta(config), "engine": "dask",
                                                 "partitions": frame.npartitions})
            with recorded_run(store, dataset_id, run.run_config(steps)) as recorded:
                result = RunResult(run_id=recorded.run_id, dataset_id=dataset_id, metrics=recorded.metrics)
                result.metrics["engine"] = {"kind": "dask", "scheduler": config.engine.scheduler,
                                            "partitions": frame.npartitions}
                run_steps(run, steps, store, result, on_step, descriptions)
    return result


class _DaskRun:
    """The steps of one distributed run and what they pass to each other."""

    def __init__(self, config: ProjectConfig, lfs: list[Any], frame: Any, random_state: int = 0) -> None:
        self.config, self.lfs, self.frame = config, lfs, frame
        self.engine = config.engine
        self.data_fp = fingerprint("dask-data", file_fingerprint(config.data_path), self.engine.partition_rows)
        names = config.class_names
        self.n_classes = None if names is None else len(names)
        self.plm: PartitionedLabelMatrix | None = None
        self.soft: PartitionedSoftLabels | None = None
        self.known: np.ndarray | None = None  # human answers and the file gold the fit got (class ids, -1 none)
        self.end_proba: PartitionedSoftLabels | None = None
        self.end_rank: PartitionedSoftLabels | None = None  # the raw end-model probabilities the query ranks
        self.gold: list[tuple[np.ndarray, np.ndarray]] | None = None  # per partition: gold rows and classes
        self.gold_record: dict[str, Any] | None = None  # the apply step's list of the items that hold gold
        self.fit_rows = np.zeros(0, dtype=np.int64)  # global rows whose file gold fed the fit ([data].fit_gold)
        self.random_state = random_state  # the project's seed: the draw of [data].fit_gold

    def run_config(self, steps: list[str]) -> dict[str, Any]:
        values = self.config.values
        return {"project": str(self.config.file), "steps": steps, "data_fingerprint": self.data_fp,
                "engine": values.get("engine", {}),
                "label_model": {"name": self.config.label_model_name, "params": self.config.label_model_params},
                "end_model": {"name": self.config.get("end_model", "name", "tfidf_logreg"),
                              "params": dict(self.config.get("end_model", "params", {}))},
                "sources": {lf.name: lf.fingerprint for lf in self.lfs},
                "class_names": self.config.class_names, "class_renames": self.config.class_renames}

    @property
    def votes(self) -> PartitionedLabelMatrix:
        if self.plm is None:
            raise ValidationError("until: expected a run that applies the labeling functions first, got none")
        return self.plm

    # ------------------------------------------------------------------ steps
    def apply(self, store: Store, result: RunResult) -> None:
        on_error = self.config.get("lfs", "on_error", "raise")
        key = fingerprint("dask-application", self.data_fp, [(lf.name, lf.fingerprint) for lf in self.lfs],
                          on_error, self.n_classes, self.config.class_names,
                          self.config.get("data", "id_column"),
                          *((sorted(self.config.class_renames.items()),) if self.config.class_renames else ()))
        root = join(str(self.engine.output), key)
        record_sources(store, self.lfs)
        reused = exists(root, _MANIFEST)
        report = None
        if reused:
            self.plm = PartitionedLabelMatrix.open(root)
        else:
            self.plm, apply_report = apply_lfs(
                self.lfs, self.frame, engine="dask", output=root, on_error=on_error, progress=False,
                item_id=self.config.get("data", "id_column"), n_classes=self.n_classes,
                class_names=self.config.class_names, class_renames=self.config.class_renames)
            report = apply_report.to_dict()
        store.add_partitioned(result.run_id, "votes", root, self.plm.fingerprint, self.plm.to_metadata())
        self._record_data(store, result.dataset_id)
        self._record_gold(store, result)
        result.reused["apply"] = reused
        result.metrics.update(application_key=key, votes_root=root, n_items=self.plm.n_items,
                              n_sources=self.plm.n_sources, n_partitions=self.plm.n_partitions,
                              apply_report=None if report is None else {
                                  "total_seconds": report.get("total_seconds"), "engine": "dask",
                                  "n_faults": int(sum(report.get("n_faults", []) or [0])),
                                  "partitions_reused": report.get("partitions_reused", 0)})
        first: Any = self.plm.read_item_ids(0)[:5] if self.plm.n_partitions else []
        result.item_ids = [to_jsonable(v) for v in first]
        result.metrics["item_ids"] = result.item_ids  # `weaklab runs --json` shows them (no items table)

    def _record_data(self, store: Store, dataset_id: int) -> None:
        """The data file by reference (once per dataset), so its items are found by id in their partition."""
        config, plm = self.config, self.votes
        fmt = data_format(config)
        layout: dict[str, Any] = {"partition_rows": list(plm.partition_rows)}
        if fmt != "parquet":
            layout.update(blocksize=_csv_blocksize(config.data_path, self.engine.partition_rows),
                          sep="\t" if fmt == "tsv" else ",")
        id_column = config.get("data", "id_column")
        integer = id_column is None or pd.api.types.is_integer_dtype(self.frame[id_column].dtype)
        store.add_partitioned_dataset(
            dataset_id, str(config.data_path), data_format=fmt, id_index=plm.root, n_rows=plm.n_items,
            fingerprint=self.data_fp, id_column=id_column, id_dtype="<i8" if integer else "|O",
            text_column=config.get("data", "text_field"), image_column=config.get("data", "image_column"),
            layout=layout)

    def _record_gold(self, store: Store, result: RunResult) -> None:
        """Which items hold gold (found on the workers), so that no review queue offers them."""
        if self.config.get("data", "gold_column") is None:
            return
        key = gold_key(self.config, self.data_fp)
        record = write_gold_items(self.votes, self.frame, self.config, key)
        store.add_partitioned(result.run_id, GOLD_KIND, self.votes.root, key, record)
        self.gold, self.gold_record = gold_by_partition(self.votes, record), record
        result.metrics["n_gold_items"] = record["n_items"]

    def analyse(self, store: Store, result: RunResult) -> None:
        summary = lf_summary(self.votes)
        if self.gold is not None:  # as lf_summary(L, gold) on the local engine: votes on the dev gold
            summary = summary.join(pd.DataFrame(source_gold_columns(self.votes, self.gold), index=summary.index))
            result.metrics["n_dev"] = int(sum(len(rows) for rows, _ in self.gold))
        summary = summary.rename(columns={"emp_acc": "emp_accuracy"})
        stats = stats_for_store(summary)
        stats["coverage"] = summary["coverage"].astype(float)  # no label matrix in the store records it
        store.add_source_stats(result.run_id, stats, versions=self._versions())
        result.summary = summary

    def fit(self, store: Store, result: RunResult) -> None:
        plm = self.votes
        name, params = self.config.label_model_name, self.config.label_model_params
        model = checked_label_model(name, params)(**params)
        answers, answer_sampling, answered_ids = self._answers(store, result.dataset_id, result.metrics)
        drawn = drawn_fit_gold(self.gold_record, self.config, self.random_state)  # [data].fit_gold, as locally
        file_gold = np.full(plm.n_items, -1, dtype=np.int64)
        file_gold[drawn["row"].to_numpy(dtype=np.int64)] = drawn["label"].to_numpy(dtype=np.int64)
        self.fit_rows = drawn["row"].to_numpy(dtype=np.int64)
        gold, sampling, kind = with_file_gold(answers, answer_sampling, file_gold, file_gold >= 0)
        fit_gold = gold if (gold >= 0).any() else None
        n_dev = int((self.gold_record or {}).get("n_items", 0))  # the dev items holding gold
        weighting = GoldWeighting(None) if kind == "random" or fit_gold is None else answer_gold_weights(
            store, result.dataset_id, answered_ids, gold, file_gold >= 0, plm.n_items - n_dev)
        if weighting.weights is not None:  # queue answers weighted by their random checks, as the local engine
            sampling, kind = "random", "weighted"
        self.known = gold  # the end model trains on these classes, whatever the label model made of them
        model, raised = fit_noting_warnings(lambda: model.fit(plm, gold=fit_gold, gold_sampling=sampling,
                                                              gold_weight=weighting.weights))
        key = fingerprint("dask-label-model", plm.fingerprint, name, params,
                          *(() if fit_gold is None else (fit_gold, sampling)),  # the folder holds what the gold gave
                          *(() if weighting.weights is None else (np.round(weighting.weights, 9),)))
        self.soft = model.predict_proba(plm, output=join(plm.root, f"soft-{key}"))
        soft_fp = fingerprint("dask-soft-labels", plm.fingerprint, key)
        seen = _in_fit(model, plm.n_items)  # a fit on a sample has only the gold of its items
        lineage = file_gold_lineage(self.config, int((self.gold_record or {}).get("n_outside", 0)),
                                    drawn["split"].to_numpy(), int((answers[seen] >= 0).sum()), self.random_state,
                                    str(getattr(model, "reason_", "") or ""), n_given=int((answers >= 0).sum()))
        if not wants_outside(self.config):
            lineage.pop("n_gold_outside_dev")  # not listed: the file is never read on the client
        metrics = {**(label_model_dev_metrics(self.soft, plm, self.gold) if self.gold is not None else {}),
                   "class": name, "engine": "dask", "n_gold_for_fit": int((gold[seen] >= 0).sum()),
                   "gold_sampling": kind,
                   **({} if weighting.weights is None else {"gold_weighting": weighting.metrics()}),
                   **lineage, "coverage": float(1.0 - _share_without_votes(plm)),
                   **({"fit_sample": model.fit_sample_} if getattr(model, "fit_sample_", None) else {})}
        metrics.update(label_model_notes(model, raised))
        if len(drawn):  # the items whose file gold fed the fit, by id, as a local run records them
            store.remember_item_rows(result.dataset_id, drawn["item_id"].to_numpy(), self.fit_rows)
            metrics["fit_gold_digest"] = store.add_fit_gold(
                result.run_id, drawn["item_id"].to_numpy(), drawn["label"].to_numpy(dtype=np.int64),
                class_names=plm.class_names, option=self.config.fit_gold,
                random_state=metrics.get("fit_gold_random_state"))
        lm_id = store.add_label_model_run(result.run_id, model.to_state(), metrics=metrics)
        store.add_partitioned(result.run_id, "soft_labels", self.soft.root, soft_fp, self.soft.to_metadata())
        agreement = reduce_agreement(plm, self.soft)  # the dashboard's heat-map and per-source agreement
        store.add_partitioned(result.run_id, "agreement", plm.root, fingerprint("dask-agreement", soft_fp),
                              agreement.to_dict())
        accuracy = source_accuracy(model)
        if accuracy is not None:
            stats = pd.DataFrame({"est_accuracy": accuracy,  # and each source's share, as label_model_stats
                                  "weight_share": weight_share(accuracy, agreement.class_votes.sum(axis=1),
                                                               plm.n_classes)}, index=list(plm.source_names))
            store.add_source_stats(result.run_id, stats_for_store(stats), versions=self._versions())
            if result.summary is not None:
                result.summary = result.summary.join(stats, how="left")
        result.reused["fit"] = False
        result.metrics.update(label_model=metrics, label_model_key=key, label_model_run_id=lm_id,
                              soft_labels_root=self.soft.root)

    def _answers(self, store: Store, dataset_id: int,
                 metrics: dict[str, Any]) -> tuple[np.ndarray, str, dict[Any, int]]:
        """The human answers as class ids per item (-1 elsewhere; the client holds one int per item, never votes),
        how they were sampled, as the local engine reads them, and the answered items' rows by id (what weights
        them, :func:`~weaklab.pipeline.queue_checks.answer_gold_weights`); ``metrics["answers"]`` counts them as a local
        run does, with those carried over from an earlier version of the data file and those on items it no
        longer holds (:meth:`~weaklab.store.Store.carry_over`: kept in the store, not used)."""
        labels = store.human_labels(dataset_id, class_names=self.config.class_names,
                                    renames=self.config.class_renames)
        metrics.setdefault("answers", {}).update(store.carry_over(dataset_id))  # after apply: items are located
        metrics["answers"].update(
            n_disagreements=int(labels["status"].isin(["tie", "majority"]).sum()),
            n_unresolved=int((labels["status"] == "tie").sum()), n_skipped=int((labels["status"] == "skipped").sum()))
        known = labels[labels["label"] >= 0]
        answers = np.full(self.votes.n_items, -1, dtype=np.int64)
        answers[known["row"].to_numpy(dtype=np.int64)] = known["label"].to_numpy(dtype=np.int64)
        rows = dict(zip(known["item_id"].tolist(), known["row"].astype(int).tolist()))
        return answers, answers_gold_sampling(store, dataset_id) if len(known) else "random", rows

    def train(self, store: Store, result: RunResult) -> None:
        name = self.config.get("end_model", "name", "tfidf_logreg")
        if name != "tfidf_logreg":
            reason = None if name == "none" else (f"end_model.name {name!r} is not trained on the dask engine (only "
                                                  "tfidf_logreg, as its out-of-core counterpart)")
            result.metrics["end_model"] = {"name": "none", **({"skipped": reason} if reason else {})}
            return
        if self.soft is None:
            raise ValidationError("until: expected a run that fits the label model first, got no soft labels")
        known = self.known if self.known is not None and (self.known >= 0).any() else None
        key = fingerprint("dask-end-model", self.soft.root, self.config.get("end_model", "params", {}),
                          self.config.get("data", "text_field"), self.config.get("data", "gold_column"),
                          self.config.get("data", "split_column"), self.config.class_names,
                          *(() if known is None else (known,)))
        trained = train_partitioned(self.config, self.votes, self.soft, self.frame,
                                    join(self.soft.root, f"end-model-{key}"), known=known)
        calibrated = trained.calibration
        metrics = {**trained.metrics, "engine": "dask", "configured": name,  # as the local engine (ece: every dev row)
                   **{k: v for k, v in calibrated.items() if k not in ("bins", "ece", "slices")}}
        store.add_end_model_run(result.run_id, DASK_END_MODEL, params=trained.params, metrics=metrics,
                                calibration=calibrated,
                                state=with_calibrator(self._predict_state(trained.state), trained.calibrator))
        self.end_proba, self.end_rank = trained.proba, trained.raw
        for role, proba in ((CALIBRATED_ROLE, trained.proba), (RAW_ROLE, trained.raw)):  # as a local run records
            store.add_partitioned(result.run_id, role, proba.root, fingerprint(
                "dask-end-proba", key, *((role,) if role == RAW_ROLE else ())), proba.to_metadata())
        # the query step ranks the raw probabilities (end_rank), as the local engine (calibration steps would tie)
        result.reused["train"] = False
        result.metrics.update(end_model={"name": DASK_END_MODEL, **metrics}, end_model_key=key,
                              end_model_root=self.end_proba.root)

    def _predict_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """The end model's state with what `weaklab predict` reads beside it (as a local run records)."""
        return {**state, "n_classes": self.votes.n_classes, "class_names": self.config.class_names,
                "source_names": [lf.name for lf in self.lfs], "source_versions": [lf.fingerprint for lf in self.lfs]}

    def issues(self, store: Store, result: RunResult) -> None:
        if self.soft is None:
            raise ValidationError("until: expected a run that fits the label model first, got no soft labels")
        n = int(self.config.get("issues", "max_issues", DEFAULT_MAX_ISSUES))
        top = top_label_issues(self.votes, self.soft, n=n) if n else pd.DataFrame()
        if len(top):  # recorded like any run's issues (the dashboard pages and resolves them)
            rows = self.votes.partition_offsets[top["partition"].to_numpy()] + top["row"].to_numpy()
            store.remember_item_rows(result.dataset_id, top["item_id"].to_numpy(), rows)
            store.add_label_issues(result.run_id, top["item_id"].to_numpy(), method="top_label_issues:self_confidence",
                                   given=top["given"].to_numpy(), suggested=top["suggested"].to_numpy(),
                                   score=top["score"].to_numpy())
            # the votes, posterior and text the issues page shows, read once on the workers
            text = self.config.get("data", "text_field")
            evidence = issue_evidence(self.votes, self.soft, top, self.frame,
                                      text_column=text if text in self.frame.columns else None)
            store.add_partitioned(result.run_id, "issue_evidence", self.soft.root,
                                  fingerprint("dask-issue-evidence", self.soft.root, n), evidence)
        result.issues = top
        result.metrics.update(n_label_issues=len(top), issues_method="top_label_issues:self_confidence",
                              label_issues=[{k: to_jsonable(v) for k, v in row.items()}
                                            for row in top.to_dict("records")])

    def query(self, store: Store, result: RunResult) -> None:
        if self.soft is None:
            raise ValidationError("until: expected a run that fits the label model first, got no soft labels")
        labels = store.human_labels(result.dataset_id, class_names=self.config.class_names,
                                    renames=self.config.class_renames)
        rows = np.union1d(labels.loc[labels["label"] >= 0, "row"].to_numpy(dtype=np.int64), self.fit_rows)
        offsets = np.asarray(self.votes.partition_offsets, dtype=np.int64)
        part = np.searchsorted(offsets, rows, side="right") - 1
        answered = {int(p): rows[part == p] - offsets[p] for p in np.unique(part)}
        proba = self.end_rank if self.end_rank is not None else self.soft  # as the local engine
        result.query = query_partitioned(proba, int(self.config.get("query", "n", 20)),
                                         strategy=self.config.get("query", "strategy", "entropy"),
                                         answered=answered, frame=self.frame, config=self.config)
        result.metrics["query"] = result.query

    def _versions(self) -> dict[str, str]:
        return {lf.name: lf.fingerprint for lf in self.lfs}


def check_dask_label_model(config: ProjectConfig) -> None:
    """Refuse a ``[label_model]`` the Dask engine cannot fit as the local engine does, naming the ones it can.

    Every model of :func:`dask_label_models` fits on partitioned votes and
    takes the human answers and the ``[data].fit_gold`` items as its
    in-memory fit does; any other would either fail after the ``apply``
    step or fit without that gold, so the run stops before it starts.

    Raises
    ------
    ValidationError
        Naming ``label_model.name``, the model, the engine, the models it
        fits and the local engine as the alternative.

    Examples
    --------
    >>> from pathlib import Path
    >>> from weaklab.pipeline.config import ProjectConfig
    >>> config = ProjectConfig(Path("weaklab.toml"), Path("."), {"label_model": {"name": "GLAD"}})
    >>> check_dask_label_model(config)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    weaklab.errors.ValidationError: weaklab.toml: label_model.name: expected a label model ... got 'GLAD' ...
    """
    name = config.label_model_name
    cls = checked_label_model(name, config.label_model_params)
    if not cls.fits_partitioned_gold:
        raise ValidationError(
            f"{config.file}: label_model.name: expected a label model the Dask engine fits with the human answers "
            f"and [data].fit_gold as the local engine does (one of {', '.join(dask_label_models())}), got {name!r} "
            '(it does not fit on partitioned votes); pick one of those, or run on the local engine ([engine] kind '
            '= "local")')


def dask_label_models() -> list[str]:
    """The label models of :mod:`weaklab.models` the Dask engine fits: on partitioned votes, with gold as in memory.

    Examples
    --------
    >>> "DawidSkene" in dask_label_models() and "GLAD" not in dask_label_models()
    True
    """
    from .. import models

    found = (getattr(models, name) for name in models.__all__)
    return sorted(cls.__name__ for cls in found if isinstance(cls, type) and issubclass(cls, LabelModel)
                  and not inspect.isabstract(cls) and cls.fits_partitioned_gold)


def _in_fit(model: LabelModel, n_items: int) -> np.ndarray | slice:
    """The items a fitted label model had (its ``sample_rows_`` when fitted on a sample, else all of them)."""
    rows = getattr(model, "sample_rows_", None)
    if rows is None:
        return slice(None)
    seen = np.zeros(n_items, dtype=bool)
    seen[np.asarray(rows, dtype=np.int64)] = True
    return seen


def _share_without_votes(plm: PartitionedLabelMatrix) -> float:
    hist = plm.statistics().votes_per_item
    return float(hist[0] / max(1, hist.sum()))


def dask_data(config: ProjectConfig) -> Any:
    """The project's data file as a Dask DataFrame of about ``[engine].partition_rows`` rows per partition.

    Parquet files are split by row groups, CSV/TSV by bytes (estimated from
    the first megabyte). The client reads only the file's footer or its first
    megabyte.

    Raises
    ------
    ValidationError
        The file is missing or a column the config names is not in it.
    """
    import dask.dataframe as dd

    path, rows = config.data_path, config.engine.partition_rows
    if not path.is_file():
        raise ValidationError(f"{config.file}: data.path: expected a data file, got {str(path)!r} (no such file)")
    fmt = data_format(config)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        meta = pq.read_metadata(path)
        per_group = max(1.0, meta.num_rows / max(1, meta.num_row_groups))
        frame = dd.read_parquet(str(path), split_row_groups=max(1, round(rows / per_group)))
    else:
        frame = dd.read_csv(str(path), sep="\t" if fmt == "tsv" else ",", blocksize=_csv_blocksize(path, rows),
                            keep_default_na=False, na_values=[""], sample=1_000_000)
    for key in ("id_column", "text_field", "gold_column", "split_column"):
        column = config.get("data", key)
        if column is not None and column not in frame.columns:
            raise ValidationError(f"{config.file}: data.{key}: expected a column of {path.name}, "
                                  f"got {column!r} (columns: {list(map(str, frame.columns))})")
    return frame


def data_format(config: ProjectConfig) -> str:
    """The data file's format: ``[data].format``, else from its suffix (``parquet``, ``tsv``, else ``csv``)."""
    path = config.data_path
    return str(config.get("data", "format") or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else
                                                "tsv" if path.suffix.lower() == ".tsv" else "csv"))


def _csv_blocksize(path: Path, rows: int) -> int:
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    per_row = len(head) / max(1, head.count(b"\n"))
    return max(1 << 10, int(rows * per_row))


def file_fingerprint(path: Path, *, chunk: int = 1 << 22) -> str:
    """A content fingerprint of a file, read in 4 MB chunks (the client never holds the file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "d.csv"; _ = f.write_text("id,text\\n1,a\\n")
    >>> len(file_fingerprint(f))
    32
    """
    digest = hashlib.blake2b(digest_size=16)
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
