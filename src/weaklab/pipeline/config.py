"""The project file ``weaklab.toml``: what to label, with which sources and models, where to record it.

Every table and key is optional except ``[data].path`` and the sources: ``[lfs].module``,
``[crowd].path``, or both; unknown tables or keys and values of the wrong type raise a
:class:`~weaklab.errors.ValidationError` that names the file and the key.

.. code-block:: toml

    [project]
    name = "comments"                  # dataset name in the store (default: the data file's stem)

    [data]
    path = "data/comments.csv"         # relative to the folder holding weaklab.toml
    format = "csv"                     # csv | tsv | parquet (default: from the suffix)
    id_column = "comment_id"           # unique item ids (default: row numbers)
    text_field = "text"                # the text the end model reads
    gold_column = "label"              # optional gold labels (class ids or names; empty = unknown)
    split_column = "split"             # optional; rows whose value is dev_value form the dev set
    dev_value = "dev"                  # (their gold in the file only scores runs, never fits a model)
    fit_gold = "none"                  # gold on rows OUTSIDE the dev split that the label model fits on:
                                       # "none" (default: the file's gold only scores runs), "all", or N:
                                       # a random sample of at most N such rows (seeded, stable when rows are
                                       # added or reordered). Needs gold_column and split_column; these rows
                                       # count as a random sample (gold_sampling "random"; beside review-queue
                                       # answers "weighted" with their random checks, see [query], else
                                       # "active"), so do not point it at rows picked by
                                       # hand; rows of every split but dev_value are taken (a test split too);
                                       # review queues do not offer them (they hold gold, as dev rows do)

    [labels]
    classes = ["HAM", "SPAM"]          # labeling functions may vote these names (return "SPAM"), and human
                                       # answers are stored by name: reordering or inserting classes keeps
                                       # their meaning

    [labels.rename]                    # optional: classes renamed since LFs, gold or answers used them
    spam = "SPAM"                      # old name = "new name" (a class of [labels].classes; the old name no
                                       # longer one): votes, gold cells and answers of "spam" count as "SPAM"
                                       # (in a multilabel project: label names in LF votes, (label, lf)
                                       # pairs, gold label sets and people's label-set answers)

    [lfs]
    module = "lfs.py"                  # a .py file (relative to the project) or an importable module
    attribute = "lfs"                  # a list of labeling functions, or a function returning one
    on_error = "raise"                 # raise | abstain
    generated = "lfs_generated.py"     # the LFs `weaklab generate` writes; loaded beside module
                                       # whenever the file exists (delete it to stop using them)

    [crowd]                            # crowd answers: each worker is a source beside the LFs (or instead)
    path = "answers.csv"               # one row per answer (csv | tsv | parquet), relative to the project
    format = "csv"                     # default: from the suffix
    item_column = "item"               # the item answered: an id of [data].id_column (row numbers without it)
    worker_column = "worker"           # who answered: the source's name (prefixed by source_prefix)
    label_column = "label"             # the answer: a class name of [labels].classes (or an old name that
                                       # [labels.rename] maps), or a class id; empty or -1 = no answer
    duplicates = "error"               # a worker answering an item twice: error | first | last | split
                                       # (split: the repeats become sources "<worker>#2", ...)
    unknown_items = "error"            # answers about items not in the data file: error (names the file,
                                       # column and example ids) | drop (counted, with a warning)
    source_prefix = "worker:"          # put before each worker id in source names (default: none)
                                       # items nobody answered: every worker abstains on them
                                       # (local engine only; one source version per worker: a digest of
                                       # its answers, so editing a worker's answers makes a new version)

    [label_model]                      # without this table: AutoLabelModel(random_state=0), the library's
    name = "AutoLabelModel"            # default on both engines (on the Dask engine it chooses and fits on a
    params = { random_state = 0 }      # sample of at most max_fit_items voted items, then labels every
                                       # partition); any class of weaklab.models, e.g. DawidSkene

    [end_model]
    name = "tfidf_logreg"              # tfidf_logreg (reads text_field) | cnn (image projects: a small CNN
    params = { C = 4.0 }               # on the pictures, with class activation maps) | tabular (a table's
                                       # columns, below) | none
    # name = "tabular"                 # table projects: a classifier on the data file's columns
    # params = { estimator = "hist_gradient_boosting", exclude = ["age"] }
                                       # columns: the feature columns (default: every numeric column, and
                                       # every column of at most max_categories (20) categories, one-hot,
                                       # but [data]'s id, gold, split, text and image columns and `exclude`);
                                       # estimator: hist_gradient_boosting (default: missing values allowed,
                                       # no scaling; max_iter, learning_rate, max_leaf_nodes,
                                       # min_samples_leaf, l2_regularization) | logistic_regression (C,
                                       # max_iter; missing values take the column's median, columns are
                                       # standardised); local engine only

    [store]
    path = ".weaklab/weaklab.duckdb"   # relative to the project folder

    [alerts]                           # see weaklab.pipeline.alerts.AlertThresholds
    coverage_change = 0.1

    [issues]
    method = "votes"                   # votes (weaklab.cleaning.find_weak_label_errors) or a
                                       # weaklab.cleaning.find_label_issues method (e.g. auto)

    [query]
    strategy = "entropy"               # entropy | margin | least_confidence
    n = 20
    random_share = 0.2                 # share of review-queue slots (dashboard, weaklab annotate, Label Studio
                                       # batches) drawn uniformly at random from the free items, not by
                                       # uncertainty (default 0.2: 1 in 5; 0 turns it off). The store records
                                       # which slots were such random checks (the annotator is not shown), so
                                       # every queue answer gets a weight and reaches the label model as an
                                       # unbiased sample of the pool (gold_sampling "weighted") instead of
                                       # being left out as a ranked one ("active")
    random_state = 0                   # seeds the random checks (default 0), with the dataset, run, queue and
                                       # the number of queue rounds the store recorded: the same store serves
                                       # the same queue (reproducible), never shown to the reviewer

    [review]
    show_suggestion = true             # false: blind review; the dashboard's review pages and weaklab annotate
                                       # show the item only, not the sources' votes nor the label model's soft
                                       # label (they hint which items are random checks and anchor the answer)

    [task]                             # what is labelled (default: whole items, kind = "classification")
    kind = "tagging"                   # tagging: spans of tokens (named entities); see weaklab.pipeline.tagging
                                       # multilabel: each item carries any number of the [labels].classes; LFs
                                       # vote per label, gold_column holds label sets ("sport|politics", "-"
                                       # for none); see weaklab.pipeline.multilabel
    entity_types = ["Chemical", "Disease"]
    tokens_column = "tokens"           # a column of token lists (JSON text in CSV); or, without it,
    tokenizer = "whitespace"           # [data].text_field cut by: whitespace | words (words and punctuation)
                                       # gold_column then holds JSON spans [[start, end_exclusive, "Type"], ...]

    [engine]                           # where apply, fit and issues run (see weaklab.pipeline.engine)
    kind = "dask"                      # local (default: this process) | dask
    scheduler = "local"                # local (a LocalCluster started for the run) | "tcp://host:8786"
    n_workers = 2                      # workers of the LocalCluster (scheduler = "local" only)
    output = ".weaklab/partitions"     # where partitioned votes and soft labels go (a folder or fsspec URL)
    partition_rows = 1000000           # rows per partition when the data file is read
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..store.paths import DEFAULT_PATH
from .engine import EngineConfig, check_engine, check_scheduler

__all__ = ["CONFIG_NAME", "DEFAULT_LABEL_MODEL", "MULTILABEL_MODELS", "CNN_MODEL_PARAMS", "CRF_PARAMS",
           "END_MODEL_PARAMS", "ProjectConfig",
           "DEFAULT_TABULAR_ESTIMATOR", "TABULAR_ESTIMATORS", "TABULAR_PARAMS", "load_config"]

#: The project file's name.
CONFIG_NAME = "weaklab.toml"

#: The label model of a classification project without ``[label_model]`` (the library's default).
DEFAULT_LABEL_MODEL = "AutoLabelModel"

_STR, _INT, _FLOAT, _BOOL, _LIST, _TABLE = "a string", "an integer", "a number", "true or false", "a list", "a table"
_FIT_GOLD = ('"none", "all" or an integer >= 0 (the most gold rows outside the dev split, drawn at random, that the '
             'label model fits on)')

#: table -> key -> expected kind (the schema of weaklab.toml).
SCHEMA: dict[str, dict[str, str]] = {
    "project": {"name": _STR},
    "data": {"path": _STR, "format": _STR, "id_column": _STR, "text_field": _STR, "gold_column": _STR,
             "split_column": _STR, "dev_value": _STR, "image_column": _STR, "fit_gold": _FIT_GOLD},
    "labels": {"classes": _LIST, "rename": _TABLE},
    "lfs": {"module": _STR, "attribute": _STR, "on_error": _STR, "generated": _STR},
    "label_model": {"name": _STR, "params": _TABLE},
    "end_model": {"name": _STR, "params": _TABLE},
    "store": {"path": _STR},
    "alerts": {"coverage_change": _FLOAT, "accuracy_change": _FLOAT, "dominance": _FLOAT,
               "conflict_increase": _FLOAT},
    "issues": {"method": _STR, "max_issues": _INT},
    "query": {"strategy": _STR, "n": _INT, "random_share": _FLOAT, "random_state": _INT},
    "review": {"show_suggestion": _BOOL},
    "task": {"kind": _STR, "entity_types": _LIST, "tokens_column": _STR, "tokenizer": _STR},
    "engine": {"kind": _STR, "scheduler": _STR, "n_workers": _INT, "output": _STR, "partition_rows": _INT},
    "crowd": {"path": _STR, "format": _STR, "item_column": _STR, "worker_column": _STR, "label_column": _STR,
              "duplicates": _STR, "unknown_items": _STR, "source_prefix": _STR},
}
_REQUIRED = (("data", "path"),)
_CHOICES = {("data", "format"): ("csv", "tsv", "parquet"), ("lfs", "on_error"): ("raise", "abstain"),
            ("end_model", "name"): ("tfidf_logreg", "crf", "cnn", "tabular", "none"),
            ("task", "kind"): ("classification", "tagging", "multilabel"),
            ("task", "tokenizer"): ("whitespace", "words"),
            ("query", "strategy"): ("entropy", "margin", "least_confidence"), ("engine", "kind"): ("local", "dask"),
            ("crowd", "format"): ("csv", "tsv", "parquet"),
            ("crowd", "duplicates"): ("error", "first", "last", "split"), ("crowd", "unknown_items"): ("error", "drop")}


@dataclass(frozen=True)
class ProjectConfig:
    """A validated ``weaklab.toml``; paths are absolute (resolved against the project folder).

    Attributes
    ----------
    file : Path
        The project file.
    root : Path
        The folder holding it.
    values : dict
        ``{table: {key: value}}`` as written (validated).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project, load_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> config = load_config(folder)
    >>> type(config).__name__, config.root == folder.resolve(), sorted(config.values)[:3]
    ('ProjectConfig', True, ['data', 'end_model', 'labels'])
    """

    file: Path
    root: Path
    values: dict[str, dict[str, Any]] = field(repr=False)

    def get(self, table: str, key: str, default: Any = None) -> Any:
        """The value of ``[table].key``, or ``default`` when the file does not set it."""
        return self.values.get(table, {}).get(key, default)

    @property
    def data_path(self) -> Path:
        """The data file."""
        return self.root / self.get("data", "path")

    @property
    def store_path(self) -> Path:
        """The store's DuckDB file (default ``.weaklab/weaklab.duckdb`` in the project folder)."""
        return self.root / self.get("store", "path", str(DEFAULT_PATH))

    @property
    def dataset_name(self) -> str:
        """Name of the dataset in the store."""
        return str(self.get("project", "name") or Path(self.get("data", "path")).name.split(".")[0])

    @property
    def class_names(self) -> list[str] | None:
        """The class names, when ``[labels].classes`` is set."""
        names = self.get("labels", "classes")
        return None if names is None else [str(n) for n in names]

    @property
    def label_model_name(self) -> str:
        """``[label_model].name``; by default ``AutoLabelModel`` (on both engines)."""
        return str(self.get("label_model", "name", DEFAULT_LABEL_MODEL))

    @property
    def label_model_params(self) -> dict[str, Any]:
        """``[label_model].params``; ``{"random_state": 0}`` for the default model when the table is absent."""
        if "label_model" not in self.values and self.label_model_name == DEFAULT_LABEL_MODEL:
            return {"random_state": 0}
        return dict(self.get("label_model", "params", {}))

    @property
    def fit_gold(self) -> str | int:
        """``[data].fit_gold``: ``"none"`` (default), ``"all"``, or the most gold rows outside dev to fit on."""
        value = self.get("data", "fit_gold", "none")
        return value if isinstance(value, str) else int(value)

    @property
    def is_tagging(self) -> bool:
        """True for a tagging project (``[task].kind = "tagging"``)."""
        return self.get("task", "kind", "classification") == "tagging"

    @property
    def is_multilabel(self) -> bool:
        """True for a multi-label project (``[task].kind = "multilabel"``)."""
        return self.get("task", "kind", "classification") == "multilabel"

    @property
    def entity_types(self) -> list[str] | None:
        """``[task].entity_types``, when set."""
        names = self.get("task", "entity_types")
        return None if names is None else [str(n) for n in names]

    @property
    def engine(self) -> EngineConfig:
        """``[engine]``: where the steps run (default: this process, ``kind = "local"``)."""
        values = dict(self.values.get("engine", {}))
        if "output" in values and "://" not in values["output"]:
            values["output"] = str(self.root / values["output"])
        values.setdefault("output", str(self.store_path.parent / "partitions"))
        return EngineConfig(**values)

    @property
    def has_lfs(self) -> bool:
        """True when the project has labeling functions (``[lfs].module``)."""
        return self.get("lfs", "module") is not None

    @property
    def crowd_path(self) -> Path | None:
        """The crowd answers file (``[crowd].path``), or None without ``[crowd]``."""
        path = self.get("crowd", "path")
        return None if path is None else self.root / path

    @property
    def class_renames(self) -> dict[str, str]:
        """``[labels.rename]``: ``{old class name: current class name}`` for answers given before a rename."""
        return {str(k): str(v) for k, v in (self.get("labels", "rename") or {}).items()}


def load_config(path: Any = ".") -> ProjectConfig:
    """Read and validate a project file.

    Parameters
    ----------
    path : str or Path, default="."
        The ``weaklab.toml`` file or the folder holding it.

    Returns
    -------
    ProjectConfig

    Raises
    ------
    ValidationError
        The file is missing, is not valid TOML, or has unknown tables/keys,
        missing required keys or values of the wrong type (the message names
        the file and the key).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project, load_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> config = load_config(folder / "weaklab.toml")
    >>> config.values["data"]["text_field"], config.values["labels"]["classes"]
    ('text', ['HAM', 'SPAM'])
    """
    file = Path(path)
    if file.is_dir():
        file = file / CONFIG_NAME
    if not file.is_file():
        raise ValidationError(f"{file}: expected a weaklab project file, got no such file "
                              f"(run `weaklab init` to create a project)")
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{file}: expected valid TOML, got {exc}") from None
    values = _validated(file, raw)
    return ProjectConfig(file=file.resolve(), root=file.resolve().parent, values=values)


def _validated(file: Path, raw: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for table, content in raw.items():
        if table not in SCHEMA:
            raise _bad(file, table, f"one of the tables {sorted(SCHEMA)}", f"unknown table [{table}]")
        if not isinstance(content, dict):
            raise _bad(file, table, "a table", f"{type(content).__name__} {content!r}")
        out[table] = {key: _checked(file, table, key, value) for key, value in content.items()}
    for table, key in _REQUIRED:
        if key not in out.get(table, {}):
            raise _bad(file, f"{table}.{key}", "a value (required)", "nothing")
    _check_sources(file, out)
    _check_renames(file, out.get("labels", {}))
    _check_task(file, out)
    check_engine(file, out.get("engine", {}))
    _check_fit_gold(file, out)
    return out


def _checked(file: Path, table: str, key: str, value: Any) -> Any:
    where = f"{table}.{key}"
    kind = SCHEMA[table].get(key)
    if kind is None:
        raise _bad(file, where, f"one of the keys {sorted(SCHEMA[table])} of [{table}]", f"unknown key {key!r}")
    if not _is_kind(value, kind):
        raise _bad(file, where, kind, f"{type(value).__name__} {value!r}")
    choices = _CHOICES.get((table, key))
    if choices is not None and value not in choices:
        raise _bad(file, where, f"one of {list(choices)}", repr(value))
    if kind == _STR and not value:
        raise _bad(file, where, "a non-empty string", "''")
    if (table, key) == ("labels", "classes") and (len(value) < 2 or not all(isinstance(v, str) and v
                                                                         for v in value)):
        raise _bad(file, where, "a list of at least two class names (strings)", repr(value))
    check = _VALUE_CHECKS.get((table, key))
    if check is not None:
        check(file, where, value)
    return value


def _at_least(low: int) -> Any:
    def check(file: Path, where: str, value: Any) -> None:
        if value < low:
            raise _bad(file, where, f"an integer >= {low}", repr(value))
    return check


def _issue_method(file: Path, where: str, value: Any) -> None:
    from ..cleaning.filter import ISSUE_METHODS

    if value != "votes" and value not in ISSUE_METHODS:
        raise _bad(file, where, f"one of {['votes', *ISSUE_METHODS]}", repr(value))


def _is_int(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


#: The parameters of the tfidf_logreg end model: key -> (what is expected, its check).
END_MODEL_PARAMS: dict[str, tuple[str, Any]] = {
    "C": ("a number > 0 (inverse regularisation strength)",
          lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 and v == v),
    "max_iter": ("an integer >= 1", lambda v: _is_int(v, 1)),
    "ngram_max": ("an integer >= 1 (the longest word n-gram)", lambda v: _is_int(v, 1)),
    "min_df": ("an integer >= 1 (documents) or a number in (0, 1) (a share of documents)",
               lambda v: _is_int(v, 1) or (isinstance(v, float) and 0 < v < 1)),
}

#: The parameters of the cnn end model (image projects): key -> (what is expected, its check).
CNN_MODEL_PARAMS: dict[str, tuple[str, Any]] = {
    "size": ("an integer in 8..256 (pictures are resized to size x size)", lambda v: _is_int(v, 8) and v <= 256),
    "widths": ("a non-empty list of integers >= 1 (channels of the convolutions)",
               lambda v: isinstance(v, list) and len(v) > 0 and all(_is_int(w, 1) for w in v)),
    "n_pool": ("an integer >= 0 (convolutions followed by 2x2 pooling)", lambda v: _is_int(v, 0)),
    "max_epochs": ("an integer >= 1", lambda v: _is_int(v, 1)),
    "batch_size": ("an integer >= 1", lambda v: _is_int(v, 1)),
    "lr": ("a number > 0", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0),
    "weight_decay": ("a number >= 0", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0),
}


def _names(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(c, str) and c for c in v) and len(set(v)) == len(v)


#: The tabular end model's estimator when ``end_model.params.estimator`` is not set (see docs/guide/end-models.md:
#: on the 14 table projects measured, logistic regression scored higher dev accuracy than boosting on every one).
DEFAULT_TABULAR_ESTIMATOR = "logistic_regression"

#: The estimators of the tabular end model: name -> the parameters that only it reads.
TABULAR_ESTIMATORS: dict[str, tuple[str, ...]] = {
    "hist_gradient_boosting": ("learning_rate", "max_leaf_nodes", "min_samples_leaf", "l2_regularization"),
    "logistic_regression": ("C",),
}

#: The parameters of the tabular end model (table projects): key -> (what is expected, its check).
TABULAR_PARAMS: dict[str, tuple[str, Any]] = {
    "columns": ("a non-empty list of unique column names (the numeric columns the end model reads)",
                lambda v: _names(v) and len(v) > 0),
    "exclude": ("a list of unique column names (numeric columns the end model leaves out)", _names),
    "estimator": (f"one of {list(TABULAR_ESTIMATORS)}", lambda v: v in TABULAR_ESTIMATORS),
    "max_categories": ("an integer >= 0 (the most distinct values of a non-numeric column encoded as categories; "
                       "0 leaves every non-numeric column out)", lambda v: _is_int(v, 0)),
    "max_iter": ("an integer >= 1 (boosting rounds, or the solver's iterations for logistic_regression)",
                 lambda v: _is_int(v, 1)),
    "learning_rate": ("a number > 0", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0),
    "max_leaf_nodes": ("an integer >= 2 (leaves per tree)", lambda v: _is_int(v, 2)),
    "min_samples_leaf": ("an integer >= 1", lambda v: _is_int(v, 1)),
    "l2_regularization": ("a number >= 0",
                          lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0),
    "C": ("a number > 0 (inverse regularisation strength)",
          lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 and v == v),
}


def _end_model_params(file: Path, where: str, value: Any) -> None:
    known = {**END_MODEL_PARAMS, **CNN_MODEL_PARAMS}
    for key, item in value.items():
        if (key in CRF_PARAMS or key in TABULAR_PARAMS) and key not in known:
            continue  # a crf or tabular parameter: checked with the task and the model's name (_check_task)
        if key not in known:
            raise _bad(file, f"{where}.{key}", f"one of the keys {sorted(END_MODEL_PARAMS)} (tfidf_logreg), "
                       f"{sorted(CNN_MODEL_PARAMS)} (cnn) or {sorted(TABULAR_PARAMS)} (tabular)",
                       f"unknown key {key!r}")
        expected, ok = known[key]
        if not ok(item):
            raise _bad(file, f"{where}.{key}", expected, f"{type(item).__name__} {item!r}")


def _fit_gold_value(file: Path, where: str, value: Any) -> None:
    if value not in ("none", "all") and not _is_int(value, 0):
        raise _bad(file, where, _FIT_GOLD, f"{type(value).__name__} {value!r}")


def _share_value(file: Path, where: str, value: Any) -> None:
    if not 0 <= value <= 1:
        raise _bad(file, where, "a number in [0, 1] (the share of review-queue slots drawn at random; 0 turns the "
                   "random checks off)", repr(value))


_VALUE_CHECKS = {("issues", "method"): _issue_method, ("query", "random_share"): _share_value,
                 ("issues", "max_issues"): _at_least(0),
                 ("query", "n"): _at_least(1), ("query", "random_state"): _at_least(0),
                 ("end_model", "params"): _end_model_params,
                 ("engine", "n_workers"): _at_least(1), ("engine", "partition_rows"): _at_least(1),
                 ("engine", "scheduler"): check_scheduler, ("data", "fit_gold"): _fit_gold_value}


#: The parameters of the crf end model (weaklab.sequence.CRFTagger): key -> (what is expected, its check).
CRF_PARAMS: dict[str, tuple[str, Any]] = {
    "c1": ("a number >= 0 (L1 penalty)", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0),
    "c2": ("a number >= 0 (L2 penalty)", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0),
    "max_iterations": ("an integer >= 1", lambda v: _is_int(v, 1)),
    "window": ("an integer >= 0", lambda v: _is_int(v, 0)),
    "min_confidence": ("a number in [0, 1]",
                       lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1),
}


def _check_task(file: Path, out: dict[str, dict[str, Any]]) -> None:
    """``[task]``: a tagging project names its entity types and reads a crf (or no) end model."""
    task = out.get("task", {})
    if task.get("kind") == "multilabel":
        _check_multilabel(file, out)
        return
    if task.get("kind", "classification") != "tagging":
        extra = sorted(set(task) - {"kind"})
        if extra:
            raise _bad(file, f"task.{extra[0]}", 'a key of tagging projects only (set task.kind = "tagging")',
                       repr(task[extra[0]]))
        if out.get("end_model", {}).get("name") == "crf":
            raise _bad(file, "end_model.name", "'tfidf_logreg', 'cnn' or 'none' (crf tags tokens: task.kind = "
                       "\"tagging\")", "'crf'")
        name = out.get("end_model", {}).get("name", "tfidf_logreg")
        allowed = {"cnn": CNN_MODEL_PARAMS, "tabular": TABULAR_PARAMS}.get(name, END_MODEL_PARAMS)
        _check_end_model_params(file, out, name, allowed)
        if name == "tabular":
            _check_tabular(file, out)
        return
    types = task.get("entity_types")
    if not types or not all(isinstance(t, str) and t for t in types) or len(set(types)) != len(types):
        raise _bad(file, "task.entity_types", "a non-empty list of unique type names (strings)", repr(types))
    name = out.get("end_model", {}).get("name", "crf")
    if name in ("tfidf_logreg", "tabular"):
        raise _bad(file, "end_model.name", "'crf' or 'none' in a tagging project", repr(name))
    for key, item in out.get("end_model", {}).get("params", {}).items():
        if key not in CRF_PARAMS:
            raise _bad(file, f"end_model.params.{key}", f"one of the keys {sorted(CRF_PARAMS)}", f"unknown key {key!r}")
        expected, ok = CRF_PARAMS[key]
        if not ok(item):
            raise _bad(file, f"end_model.params.{key}", expected, f"{type(item).__name__} {item!r}")


#: The label models of a multi-label project (classes of weaklab.models), the first the default (with
#: AutoLabelModel per label: see weaklab.pipeline.multilabel.multilabel_model).
MULTILABEL_MODELS = ("OneVsRestLabelModel", "MultiLabelDawidSkene")


def _check_multilabel(file: Path, out: dict[str, dict[str, Any]]) -> None:
    """A multi-label project: label names in ``[labels].classes``, a text (or no) end model, the local engine."""
    extra = sorted(set(out.get("task", {})) - {"kind"})
    if extra:
        raise _bad(file, f"task.{extra[0]}", 'a key of tagging projects only (task.kind = "multilabel" reads '
                   "[labels].classes)", repr(out["task"][extra[0]]))
    labels = out.get("labels", {})
    classes = labels.get("classes")
    if not classes or not all(isinstance(c, str) and c and "|" not in c and c != "-" for c in classes) \
            or len(set(classes)) != len(classes):
        raise _bad(file, "labels.classes", "a non-empty list of unique label names (strings without '|', not "
                   "'-') in a multilabel project", repr(classes))
    unsupported = (("engine", "kind", '[engine].kind = "local" in a multilabel project (Dask: not supported yet)'),
                   ("data", "image_column", "a text project (image multilabel projects are not supported yet)"))
    for table, key, expected in unsupported:
        value = out.get(table, {}).get(key)
        if value is not None and not (table == "engine" and value == "local"):
            raise _bad(file, f"{table}.{key}", expected, repr(value))
    name = out.get("label_model", {}).get("name", MULTILABEL_MODELS[0])
    if name not in MULTILABEL_MODELS:
        raise _bad(file, "label_model.name", f"a multi-label label model, one of {list(MULTILABEL_MODELS)}",
                   repr(name))
    end = out.get("end_model", {}).get("name", "tfidf_logreg")
    if end not in ("tfidf_logreg", "none"):
        raise _bad(file, "end_model.name", "'tfidf_logreg' (one logistic regression per label on TF-IDF) or "
                   "'none' in a multilabel project", repr(end))
    _check_end_model_params(file, out, "tfidf_logreg", END_MODEL_PARAMS)


def _check_end_model_params(file: Path, out: dict[str, dict[str, Any]], name: str,
                            allowed: dict[str, tuple[str, Any]]) -> None:
    """Every ``end_model.params`` key is one of ``allowed`` (the ``name`` end model's) and passes its check."""
    for key, item in out.get("end_model", {}).get("params", {}).items():
        if key not in allowed:
            raise _bad(file, f"end_model.params.{key}", f"one of the keys {sorted(allowed)} of the {name} "
                       "end model", f"unknown key {key!r}")
        expected, ok = allowed[key]
        if not ok(item):
            raise _bad(file, f"end_model.params.{key}", expected, f"{type(item).__name__} {item!r}")


def _check_tabular(file: Path, out: dict[str, dict[str, Any]]) -> None:
    """The tabular end model: parameters of its estimator only, ``columns`` or ``exclude``, the local engine."""
    params = out.get("end_model", {}).get("params", {})
    estimator = params.get("estimator", DEFAULT_TABULAR_ESTIMATOR)
    for other, keys in TABULAR_ESTIMATORS.items():
        for key in keys:
            if other != estimator and key in params:
                common = ["columns", "exclude", "estimator", "max_categories", "max_iter"]
                raise _bad(file, f"end_model.params.{key}", f"a parameter of the {estimator} estimator (one of "
                           f"{[*common, *TABULAR_ESTIMATORS[estimator]]})",
                           f"{key!r}, a parameter of {other} (set estimator = {other!r} to use it)")
    if "columns" in params and "exclude" in params:
        raise _bad(file, "end_model.params.exclude", "either columns (the columns to read) or exclude (the "
                   "numeric columns to leave out), not both", repr(params["exclude"]))
    if out.get("engine", {}).get("kind") == "dask":
        raise _bad(file, "end_model.name", "'tfidf_logreg' or 'none' on the Dask engine (the tabular end model "
                   "trains in memory: set [engine].kind = \"local\", or name = \"none\" to stop at the label "
                   "model's soft labels)", "'tabular'")


def _check_sources(file: Path, out: dict[str, dict[str, Any]]) -> None:
    """The sources: ``[lfs].module``, ``[crowd].path`` or both; crowd answers need the local classification engine."""
    if "crowd" not in out:
        if "module" not in out.get("lfs", {}):
            raise _bad(file, "lfs.module", "a value (required without a [crowd] table of answers)", "nothing")
        return
    if "path" not in out["crowd"]:
        raise _bad(file, "crowd.path", "a value (required in [crowd]: the file of answers)", "nothing")
    if "lfs" in out and "module" not in out["lfs"]:
        raise _bad(file, "lfs.module", "a value when [lfs] is given (leave the table out for a crowd-only "
                   "project)", "nothing")
    if out.get("task", {}).get("kind") in ("tagging", "multilabel"):
        raise _bad(file, "crowd", 'a classification project ([task].kind = "classification"; crowd answers '
                   "label whole items)", f"a [crowd] table in a {out['task']['kind']} project")
    if out.get("engine", {}).get("kind") == "dask":
        raise _bad(file, "crowd", 'the local engine ([engine].kind = "local"; crowd answers are not read on the '
                   "Dask engine yet)", 'a [crowd] table with [engine].kind = "dask"')


def _check_renames(file: Path, labels: Mapping[str, Any]) -> None:
    """``[labels.rename]``: old class name = a class of ``[labels].classes``."""
    renames = labels.get("rename")
    if renames is None:
        return
    classes = labels.get("classes")
    if classes is None:
        raise _bad(file, "labels.rename", "[labels].classes to rename into", "no classes")
    for old, new in renames.items():
        if not isinstance(new, str) or new not in classes:
            raise _bad(file, f"labels.rename.{old}", f"one of the classes {list(classes)}", repr(new))
        if old in classes and old != new:
            raise _bad(file, f"labels.rename.{old}", "an old name that is no longer a class",
                       f"{old!r}, which is a class of [labels].classes as well as renamed to {new!r} (a vote, label "
                       f"or answer {old!r} could mean either); drop the rename, or rename the class {old!r} too")


def _check_fit_gold(file: Path, out: dict[str, dict[str, Any]]) -> None:
    """``[data].fit_gold`` other than "none" needs gold and split columns, and a classification project."""
    data = out.get("data", {})
    value = data.get("fit_gold", "none")
    if value in ("none", 0):
        return
    needs = (("gold_column", "a gold column to fit on ([data].gold_column)"),
             ("split_column", "a split column ([data].split_column): without one every gold row is dev, held out "
                              "to score runs, and none is left to fit on"))
    for key, expected in needs:
        if key not in data:
            raise _bad(file, "data.fit_gold", f'"none" without {expected}', repr(value))
    if out.get("task", {}).get("kind") == "tagging":
        raise _bad(file, "data.fit_gold", '"none" in a tagging project (its gold spans only score runs)', repr(value))


def _is_kind(value: Any, kind: str) -> bool:
    if kind == _FIT_GOLD:
        return isinstance(value, (str, int)) and not isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _FLOAT:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    checks = {_STR: str, _BOOL: bool, _LIST: list, _TABLE: dict}
    return isinstance(value, checks[kind])


def _bad(file: Path, where: str, expected: str, got: str) -> ValidationError:
    return ValidationError(f"{file}: {where}: expected {expected}, got {got}")
