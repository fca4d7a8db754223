"""Run and dataset look-ups over the store: a run's dataset, soft labels, coverage and class names, a dataset's
table, text column and gold items (used by the review queue, the dashboard and the Label Studio exchange)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core.soft_labels import SoftLabels
from .._core.validation import fail
from ..store import Store
from .config import ProjectConfig

__all__ = ["DEFAULT_TEXT_FIELD", "RANKED_ORIGINS", "DataChange", "answers_gold_sampling",
           "dataset_class_names", "dataset_config", "dataset_frame",
           "dataset_meta", "project_dataset_meta", "run_data_change", "dataset_gold_items", "dataset_image_column",
           "dataset_table", "dataset_table_path", "dataset_text_field", "run_coverage", "run_dataset",
           "run_label_model_metrics", "run_soft_labels"]

logger = logging.getLogger(__name__)

#: The text column when a dataset records none (``weaklab demo`` and datasets added without a project).
DEFAULT_TEXT_FIELD = "text"


def project_dataset_meta(config: ProjectConfig) -> dict[str, Any]:
    """What a run records with its dataset (both engines): the data file, the project and its ``[data]`` columns.

    ``weaklab predict``, ``export`` and the review queues read the columns back
    (:func:`dataset_text_field`, ...).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project, load_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=40)
    >>> meta = project_dataset_meta(load_config(folder))
    >>> meta["text_field"], meta["id_column"], meta["dev_value"]
    ('text', 'comment_id', 'dev')
    """
    data = config.values.get("data", {})
    return {"path": str(config.data_path), "project": str(config.file),
            **{key: data.get(key) for key in ("id_column", "text_field", "gold_column", "split_column",
                                              "image_column")},
            "dev_value": data.get("dev_value", "dev") if data.get("split_column") else None}


def run_dataset(store: Store, run_id: int) -> int:
    """The dataset id of a run (a ValidationError for an unknown run)."""
    return int(store.run(run_id)["dataset_id"])


def run_soft_labels(store: Store, run_id: int) -> tuple[SoftLabels, int]:
    """The run's latest ``"label_model"`` soft labels (else its latest of any role) and their id."""
    records = store.run_records(run_id)["soft_labels"]
    if records.empty:
        raise fail("run_id", "a run with recorded soft labels", got_text=f"run {run_id}, which has none")
    preferred = records[records["role"] == "label_model"]
    chosen = int((preferred if len(preferred) else records)["soft_labels_id"].iloc[-1])
    return store.load_soft_labels(chosen), chosen


@dataclass(frozen=True)
class DataChange:
    """The project's data file changed since a run: what the run recorded and what the file holds now."""

    run_id: int
    path: Path
    recorded: str
    current: str

    def message(self) -> str:
        """One line naming the run, the file and both fingerprints."""
        return (f"run {self.run_id} labelled {self.path.name} with data fingerprint {self.recorded[:16]}, but the "
                f"file now has {self.current[:16]} (it changed since the run)")


def run_data_change(store: Store, run_id: int) -> DataChange | None:
    """How the project's data file differs from the version run ``run_id`` labelled; None when it does not.

    None as well when it cannot be told: a dataset recorded without a
    project (the demo), a Dask or tagging run, or a project file or data
    file that is gone (readers then say the file is missing).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import Project, init_project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> run = Project(folder).run(until="apply").run_id
    >>> with Project(folder).open_store() as store:
    ...     print(run_data_change(store, run))
    None
    """
    from ..errors import WeaklabError
    from .config import load_config
    from .loading import data_fingerprint, load_data

    dataset = store.dataset(run_dataset(store, run_id))
    meta = dataset["meta"] if isinstance(dataset["meta"], dict) else {}
    project = meta.get("project")
    if not isinstance(project, str) or meta.get("engine") == "dask" or not dataset["fingerprint"]:
        return None
    try:
        config = load_config(project)
        if config.is_tagging or config.engine.is_dask:
            return None
        current = data_fingerprint(config, load_data(config))
    except (WeaklabError, OSError):
        return None
    if current == dataset["fingerprint"]:
        return None
    return DataChange(int(run_id), config.data_path, str(dataset["fingerprint"]), current)


def dataset_text_field(store: Store, dataset_id: int) -> str:
    """The items' text column: the project's ``[data].text_field`` recorded with the dataset, else "text"."""
    field = dataset_meta(store, dataset_id).get("text_field")
    return field if isinstance(field, str) and field else DEFAULT_TEXT_FIELD


def dataset_image_column(store: Store, dataset_id: int) -> str | None:
    """The items' image column (the project's ``[data].image_column`` recorded with the dataset), else None."""
    column = dataset_meta(store, dataset_id).get("image_column")
    return column if isinstance(column, str) and column else None


def dataset_table_path(store: Store, dataset_id: int) -> Path | None:
    """The dataset's table file (``meta["path"]``, resolved against the project folder), None without one."""
    path = dataset_meta(store, dataset_id).get("path")
    return _resolve(store, path) if isinstance(path, str) else None


def run_coverage(store: Store, run_id: int, item_ids: Any) -> np.ndarray | None:
    """Whether any source of the run's label matrix voted on each of ``item_ids`` (None: the run has no matrix)."""
    apps = store.run_records(run_id)["applications"]
    if apps.empty:
        return None
    matrix = store.load_matrix(int(apps["application_id"].iloc[-1]))
    voted = matrix.votes_per_item() > 0
    ids = np.asarray(item_ids)
    if matrix.item_ids is None:
        all_ids = store.load_item_ids(run_dataset(store, run_id))[: matrix.n_items]
    else:
        all_ids = np.asarray(matrix.item_ids)
    index = pd.Index([str(v) for v in all_ids.tolist()])
    position = index.get_indexer(pd.Index([str(v) for v in ids.tolist()]))
    return np.where(position >= 0, voted[np.maximum(position, 0)], False)


def dataset_class_names(store: Store, dataset_id: int, n_classes: int | None = None) -> list[str]:
    """Class names recorded with the dataset's newest run (soft labels, then label matrices).

    Without recorded names, ``n_classes`` gives ``["0", "1", ...]``; without
    either, a ValidationError asks for ``class_names=``.
    """
    runs = store.runs()
    for run_id in runs.loc[runs["dataset_id"] == dataset_id, "run_id"]:
        records = store.run_records(int(run_id))
        names, k = _names_of(store, records)
        if names:
            return names
        n_classes = n_classes if n_classes is not None else k
    if n_classes is not None:
        return [str(c) for c in range(n_classes)]
    raise fail("class_names", f"class names (dataset {dataset_id} has no run recording them)", None)


def _names_of(store: Store, records: dict[str, pd.DataFrame]) -> tuple[list[str] | None, int | None]:
    soft = records["soft_labels"]
    if len(soft):
        labels = store.load_soft_labels(int(soft["soft_labels_id"].iloc[-1]))
        return (list(labels.class_names) if labels.class_names else None), labels.n_classes
    apps = records["applications"]
    if len(apps):
        matrix = store.load_matrix(int(apps["application_id"].iloc[-1]))
        return (list(matrix.class_names) if matrix.class_names else None), matrix.n_classes
    return None, None


def dataset_table(store: Store, dataset_id: int, id_field: str) -> pd.DataFrame:
    """The dataset's table (from ``meta["path"]`` or the bundled data), ids in ``id_field`` (or the index)."""
    meta = dataset_meta(store, dataset_id)
    if meta.get("engine") == "dask":  # its items stay in the data file and in Parquet: never read whole here
        raise fail("items", "a dataset whose table may be read whole", got_text=f"dataset {dataset_id}, whose "
                   "run is on the Dask engine (its items are read one partition at a time)")
    if meta.get("bundled") == "youtube_spam":
        from ..data import load_youtube_spam

        return load_youtube_spam().rename(columns={"comment_id": id_field})
    if isinstance(meta.get("path"), str):
        from ..data import read_table

        table = read_table(_resolve(store, meta["path"]))
        column = meta.get("id_column")
        if isinstance(column, str) and column in table.columns:
            return table.rename(columns={column: id_field})
        if id_field in table.columns:
            return table
        ids = store.load_item_ids(dataset_id)
        if len(table) != len(ids):
            raise fail(f"{meta['path']}", f"an {id_field!r} column, meta['id_column'], or the dataset's "
                       f"{len(ids)} rows in order", got_text=f"{len(table)} rows without ids")
        return table.set_axis(pd.Index(ids), axis=0)
    raise fail("items", "a DataFrame of the items' texts (the store keeps ids, not texts), or a dataset "
               "recorded with meta={'path': <table file>, 'id_column': <id column>}",
               got_text=f"None, and dataset {dataset_id} records no table path")


def dataset_gold_items(store: Store, dataset_id: int, *, frame: pd.DataFrame | None = None,
                       run_id: int | None = None) -> set[str]:
    """Ids (as text) of the items that hold gold for a run of the dataset's project: its dev items.

    Decided as the run decides (:func:`~weaklab.pipeline.loading.gold_rows`: class names, ``[labels.rename]``
    renames, class ids, blanks and -1 read alike) on the data file read as the run reads it
    (:func:`~weaklab.pipeline.loading.load_data`; ``frame``: that table, already read by :func:`dataset_frame`),
    under :func:`dataset_config`. Empty when the dataset records no gold column or no data file. With
    ``run_id``, also the items whose gold fed that run's label-model fit (``[data].fit_gold``): the ids the
    store recorded at fit time (:func:`~weaklab.pipeline.fit_gold.run_fit_gold`), those no longer in the data
    file included, whatever the file says now; for a run recorded before they were kept, drawn again by the
    option and seed it recorded (:func:`~weaklab.pipeline.loading.recorded_fit_gold_rows`), with a warning.

    Raises
    ------
    ValidationError
        The data file cannot be read, or a gold cell is one the run refuses (an unknown class name, a class id
        out of range): the run's own message.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import Project, init_project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> run = Project(folder).run(until="analyse")
    >>> with Project(folder).open_store(read_only=True) as store:
    ...     held = dataset_gold_items(store, run.dataset_id)
    >>> len(held) == run.metrics["n_dev"] > 0
    True
    """
    frame = dataset_frame(store, dataset_id) if frame is None else frame
    if frame is None:
        return set()
    from .fit_gold import run_fit_gold
    from .loading import gold_rows, item_ids_of

    config = dataset_config(store, dataset_id)
    fit = run_fit_gold(store, run_id) if run_id is not None else None
    if fit is not None and fit.rederived:
        logger.warning("%s", fit.note())
    ids = item_ids_of(config, frame)[gold_rows(config, frame, None if fit is None else fit.metrics,
                                               fit_ids=None if fit is None else fit.ids)]
    return {str(v) for v in ids.tolist()} | set(fit.ids if fit is not None and fit.ids else ())


def run_label_model_metrics(store: Store, run_id: int) -> dict[str, Any]:
    """What a run recorded of its label model (``metrics["label_model"]``; empty when it fitted none)."""
    metrics = store.run(int(run_id)).get("metrics")
    recorded = metrics.get("label_model") if isinstance(metrics, dict) else None
    return recorded if isinstance(recorded, dict) else {}


def dataset_frame(store: Store, dataset_id: int) -> pd.DataFrame | None:
    """The dataset's data file as a run of its project reads it (None without a gold column or data file).

    Raises
    ------
    ValidationError
        The file cannot be read, or lacks a column the project names.
    """
    meta = dataset_meta(store, dataset_id)
    if not isinstance(meta.get("gold_column"), str) or not isinstance(meta.get("path"), str):
        return None
    from .loading import load_data

    return load_data(dataset_config(store, dataset_id))


def dataset_config(store: Store, dataset_id: int) -> ProjectConfig:
    """The project settings a run of the dataset reads its data and gold with.

    The project file the dataset was recorded from, as it is now (its
    ``[labels].classes`` and ``[labels.rename]`` are the ones the next run
    reads), when it still loads and names the dataset's data file; else the
    columns the dataset recorded with the class names, renames and task its
    newest run recorded.
    """
    from ..errors import WeaklabError
    from .config import CONFIG_NAME, load_config

    meta = dataset_meta(store, dataset_id)
    table = dataset_table_path(store, dataset_id)
    project = meta.get("project")
    if isinstance(project, str) and table is not None:
        try:
            config = load_config(project)
        except (WeaklabError, OSError):
            config = None
        if config is not None and config.data_path.resolve() == table.resolve():
            return config
    file = Path(project) if isinstance(project, str) else Path(table or ".").parent / CONFIG_NAME
    return ProjectConfig(file=file, root=file.parent, values=_recorded_values(store, dataset_id, meta, table))


def _recorded_values(store: Store, dataset_id: int, meta: dict[str, Any], table: Path | None) -> dict[str, Any]:
    """``weaklab.toml`` values rebuilt from the dataset's meta and its newest run's config."""
    data = {key: meta[key] for key in ("id_column", "text_field", "gold_column", "split_column", "dev_value",
                                       "image_column", "format") if meta.get(key) is not None}
    if table is not None:
        data["path"] = str(table)
    runs = store.runs()
    configs = [c for c in runs.loc[runs["dataset_id"] == dataset_id, "config"] if isinstance(c, dict)]
    recorded = configs[0] if configs else {}  # newest first
    labels = {key: recorded[name] for key, name in (("classes", "class_names"), ("rename", "class_renames"))
              if recorded.get(name)}
    task = dict(recorded.get("task") or {})
    if meta.get("kind") == "tagging":
        task.setdefault("kind", "tagging")
    return {"data": data, "labels": labels, "task": task}


#: Origins of answers to items a ranking chose (the dashboard's review queue, ``weaklab annotate`` in the
#: terminal and Label Studio batches, all least confident first): a biased sample of the items.
RANKED_ORIGINS = ("review", "terminal", "label_studio")


def answers_gold_sampling(store: Store, dataset_id: int) -> str:
    """``"active"`` when any current answer came from a review queue or a Label Studio batch, else ``"random"``.

    Answers to items chosen by uncertainty are not a random sample, so the
    label model must not score or estimate class frequencies on them
    (``fit(..., gold_sampling="active")``); imported answers count as random.
    Both engines fit their label model with it; on the local engine, a
    queue's recorded random checks then make every answer usable, weighted
    (:func:`~weaklab.pipeline.queue_checks.answer_gold_weights`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import Project, init_project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=40)
    >>> run = Project(folder).run(until="apply")
    >>> with Project(folder).open_store() as store:
    ...     before = answers_gold_sampling(store, run.dataset_id)
    ...     _ = store.add_annotation(run.dataset_id, run.item_ids[0], "ann", "HAM", origin="review")
    ...     before, answers_gold_sampling(store, run.dataset_id)
    ('random', 'active')
    """
    answers = store.annotations(dataset_id)
    if answers.empty:
        return "random"
    given = answers[answers["current"] & (answers["status"] == "answered")]
    return "active" if given["origin"].isin(RANKED_ORIGINS).any() else "random"


def dataset_meta(store: Store, dataset_id: int) -> dict[str, Any]:
    """What the run recorded with its dataset (:func:`project_dataset_meta`), ``{}`` when nothing.

    A dataset a Dask run recorded before the project's columns were kept
    there gets its id, text and image columns from its partitioned record.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import Project, init_project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=40)
    >>> run = Project(folder).run(until="fit")
    >>> with Project(folder).open_store(read_only=True) as store:
    ...     dataset_meta(store, run.dataset_id)["id_column"]
    'comment_id'
    """
    meta = store.dataset(dataset_id)["meta"]
    meta = dict(meta) if isinstance(meta, dict) else {}
    if meta.get("engine") == "dask" and "text_field" not in meta:
        record = store.partitioned_dataset(dataset_id) or {}
        meta.update({key: record.get(column) for key, column in (("id_column", "id_column"),
                                                                 ("text_field", "text_column"),
                                                                 ("image_column", "image_column"))})
    return meta


def _resolve(store: Store, path: str) -> Path:
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    project = Path(store.path).parent.parent  # <project>/.weaklab/weaklab.duckdb
    return project / p
