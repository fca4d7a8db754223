"""Crowd answers in a project: the ``[crowd]`` table of ``weaklab.toml``.

A file of answers (one row per answer: item, worker, label) becomes a sparse
label matrix over the data file's items with one source per worker, beside
the project's labeling functions (or instead of them). Items are matched by
``[data].id_column`` (row numbers without it); items nobody answered get no
vote from any worker. Answers are class names of ``[labels].classes`` (or old
names that ``[labels.rename]`` maps) or class ids, read as gold is.

Every worker is a source with a version: a digest of its votes (the items it
answered and its answers), so a worker whose answers change gets a new
version in the store, exactly as an edited labeling function does, and
``weaklab runs``, ``explain``, ``diff``, ``analyse``, ``alerts`` and the
dashboard show workers like any other source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._core import LabelMatrix, fingerprint
from .._core.warn import warn
from ..data import read_table
from ..errors import ValidationError
from ..store import Store
from .config import ProjectConfig
from .loading import gold_class_id, rename_hint

__all__ = ["CrowdVotes", "calibration_groups", "combine_votes", "lf_votes", "load_project_crowd",
           "record_crowd_sources", "source_versions"]

#: Answers shown as examples in an error message.
_EXAMPLES = 3


@dataclass(frozen=True)
class CrowdVotes:
    """The crowd answers of a project as votes over its items.

    Attributes
    ----------
    matrix : LabelMatrix
        ``(n_items, n_workers)``, sparse, rows in the data file's order, with
        the workers' source names and versions.
    by_name : tuple of str
        The sources whose every answer is a class name (their votes keep their
        meaning when ``[labels].classes`` is reordered).
    report : dict
        What was read: file, answers, workers, answers dropped for unknown items.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project, load_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=20)
    >>> _ = (folder / "answers.csv").write_text("item,worker,label\\n0,ann,SPAM\\n0,bo,HAM\\n3,bo,1\\n")
    >>> with open(folder / "weaklab.toml", "a") as f:
    ...     _ = f.write('\\n[crowd]\\npath = "answers.csv"\\n')
    >>> config = load_config(folder)
    >>> crowd = load_project_crowd(config, np.arange(20), 2)
    >>> crowd.matrix.shape, crowd.matrix.source_names, crowd.by_name
    ((20, 2), ('ann', 'bo'), ('ann',))
    """

    matrix: LabelMatrix
    by_name: tuple[str, ...]
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def versions(self) -> dict[str, str]:
        """``{source name: version}`` of the workers."""
        return {name: str(v) for name, v in zip(self.matrix.source_names, self.matrix.source_versions or ())}

    @property
    def key(self) -> str:
        """A fingerprint of every worker's votes (what a stored label matrix is reused by)."""
        return fingerprint("crowd", sorted(self.versions.items()))


def load_project_crowd(config: ProjectConfig, item_ids: np.ndarray, n_classes: int | None) -> CrowdVotes | None:
    """The project's crowd answers as votes over the items ``item_ids`` (None without ``[crowd]``).

    Parameters
    ----------
    config : ProjectConfig
    item_ids : ndarray of shape (n_items,)
        The data file's item ids, in row order (``item_ids_of``).
    n_classes : int or None
        ``len([labels].classes)``; without classes the answers are class ids
        and the number of classes is the largest answer + 1.

    Returns
    -------
    CrowdVotes or None

    Raises
    ------
    ValidationError
        The file cannot be read; a named column is missing; an item, worker
        or answer cell is empty where it must not be; an answer is neither a
        class name nor a class id; a worker answered an item twice with
        ``duplicates = "error"``; answers name items the data file lacks with
        ``unknown_items = "error"``; a worker's source name is an LF's name.
    """
    path = config.crowd_path
    if path is None:
        return None
    columns = {key: str(config.get("crowd", key, default)) for key, default in
               (("item_column", "item"), ("worker_column", "worker"), ("label_column", "label"))}
    frame = _read_answers(config, list(columns.values()))
    rows = _item_rows(config, frame[columns["item_column"]], item_ids)
    labels, named = _answer_labels(config, frame[columns["label_column"]], n_classes)
    workers = config.get("crowd", "source_prefix", "") + frame[columns["worker_column"]].astype(str)
    keep = (rows >= 0) & (labels >= 0)
    n_unknown = int((rows < 0).sum())
    answers = pd.DataFrame({"row": rows[keep], "source": workers.to_numpy()[keep], "label": labels[keep]})
    if answers.empty:
        raise ValidationError(f"{path}: expected at least one answer about an item of {config.data_path.name}, "
                              f"got none of {len(frame)} row(s)")
    duplicates = str(config.get("crowd", "duplicates", "error"))
    if duplicates == "error":
        _check_repeats(config, answers, item_ids)
    matrix = LabelMatrix.from_long(answers, item="row", source="source", label="label",
                                   n_classes=n_classes, item_ids=np.arange(len(item_ids)), sparse=True,
                                   duplicates=duplicates)
    matrix = _with_identity(matrix, item_ids, config.class_names)
    by_name = _named_sources(answers["source"].to_numpy(), named[keep], matrix.source_names)
    report = {"path": str(path), "n_answers": int(keep.sum()), "n_workers": matrix.n_sources,
              "n_unknown_item_answers": n_unknown, "n_items_answered": int((matrix.votes_per_item() > 0).sum())}
    return CrowdVotes(matrix=matrix, by_name=by_name, report=report)


def _read_answers(config: ProjectConfig, columns: list[str]) -> pd.DataFrame:
    """The answers file with the three named columns, every cell read as text."""
    path = config.root / str(config.get("crowd", "path"))
    fmt = config.get("crowd", "format")
    text = {"dtype": str, "keep_default_na": False, "na_values": [""]}
    try:
        if fmt == "parquet" or (fmt is None and path.name.lower().endswith((".parquet", ".pq"))):
            frame = read_table(path) if fmt is None else pd.read_parquet(path)
        elif fmt is None:
            frame = read_table(path, **text)
        else:
            frame = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", **text)  # type: ignore[call-overload]
    except ValidationError as exc:
        raise ValidationError(f"{config.file}: crowd.path: {exc}") from None
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{config.file}: crowd.path: expected a readable {fmt} file of answers, got "
                              f"{path.name} ({str(exc).splitlines()[0][:160]})") from None
    for key, column in zip(("item_column", "worker_column", "label_column"), columns):
        if column not in frame.columns:
            raise ValidationError(f"{config.file}: crowd.{key}: expected a column of {path.name}, got {column!r} "
                                  f"(columns: {list(map(str, frame.columns))})")
        if key != "label_column" and frame[column].isna().any():
            first = int(np.flatnonzero(frame[column].isna().to_numpy())[0])
            raise ValidationError(f"{path}: column {column!r}: expected a value on every row, got "
                                  f"{int(frame[column].isna().sum())} empty cell(s), the first on row {first}")
    return frame


def _check_repeats(config: ProjectConfig, answers: pd.DataFrame, item_ids: np.ndarray) -> None:
    repeated = answers.duplicated(["row", "source"], keep=False).to_numpy()
    if repeated.any():
        first = answers.iloc[int(np.flatnonzero(repeated)[0])]
        raise ValidationError(
            f"{config.crowd_path}: expected one answer per worker and item, got {int(repeated.sum())} answers that "
            f"repeat one, e.g. worker {first['source']!r} on item {item_ids[int(first['row'])]!r}; set duplicates "
            "under [crowd] to \"first\", \"last\" or \"split\" (each repeat a source \"<worker>#2\", ...) to keep them")


def _item_rows(config: ProjectConfig, items: pd.Series, item_ids: np.ndarray) -> np.ndarray:
    """The data row of each answer's item; -1 for an item the data file lacks (an error unless dropped)."""
    ids = pd.Index(item_ids)
    if ids.dtype.kind in "iu":  # numeric ids: "007" and 7 are the same item
        numbers = pd.to_numeric(items, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        whole = np.isfinite(numbers) & (numbers == np.round(numbers))
        rows = np.where(whole, ids.get_indexer(np.where(whole, numbers, -1).astype(np.int64)), -1)
    else:
        rows = ids.get_indexer(items.astype(str).to_numpy())
    unknown = rows < 0
    if unknown.any():
        examples = list(dict.fromkeys(items[unknown].astype(str).tolist()))[:_EXAMPLES]
        where = (f"column {config.get('data', 'id_column')!r} of {config.data_path.name}"
                 if config.get("data", "id_column") else f"the row numbers 0..{len(item_ids) - 1} of "
                 f"{config.data_path.name} (no [data].id_column)")
        column = config.get("crowd", "item_column", "item")
        message = (f"{int(unknown.sum())} of {len(items)} answer(s) name items not in {where}, e.g. "
                   f"{', '.join(map(repr, examples))}")
        if config.get("crowd", "unknown_items", "error") == "error":
            raise ValidationError(f"{config.crowd_path}: column {column!r}: expected ids of the data's items, got "
                                  f"{message}; fix the ids, or set unknown_items = \"drop\" under [crowd] to "
                                  "leave those answers out")
        warn(f"{config.crowd_path}: {message}; they are left out ([crowd].unknown_items = \"drop\")",
                      UserWarning)
    return np.asarray(rows, dtype=np.int64)


def _answer_labels(config: ProjectConfig, values: pd.Series, n_classes: int | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Class ids of the answers (-1 = no answer) and whether each was given as a class name."""
    names = config.class_names or []
    renames = config.class_renames
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    uniques = pd.unique(text.to_numpy())
    lookup: dict[str, tuple[int, bool]] = {}
    for value in uniques.tolist():
        class_id = gold_class_id(value, config, n_classes)  # read as a gold cell is: name, old name, id, blank
        if class_id is None:
            row = int(np.flatnonzero(text.to_numpy() == value)[0])
            raise ValidationError(_bad_answer(config, value, row, names, n_classes))
        lookup[value] = (class_id, renames.get(value, value) in names)
    codes = pd.Index(uniques).get_indexer(pd.Index(text))
    table = np.array([lookup[u] for u in uniques.tolist()], dtype=np.int64).reshape(-1, 2)
    return table[codes, 0], table[codes, 1].astype(bool)


def _bad_answer(config: ProjectConfig, value: str, row: int, names: list[str], n_classes: int | None) -> str:
    column = config.get("crowd", "label_column", "label")
    expected = f"class ids 0..{n_classes - 1}" if n_classes else "class ids >= 0 (no [labels].classes)"
    shown = f" or names {names}" if names else ""
    hint = rename_hint(value, config) if names else ""
    return (f"{config.crowd_path}: column {column!r}: expected {expected}{shown} (empty or -1 = no answer), "
            f"got {value!r} on row {row}{hint}")


def _with_identity(matrix: LabelMatrix, item_ids: np.ndarray, class_names: list[str] | None) -> LabelMatrix:
    """``matrix`` with the data's item ids, the class names and one version per worker (a digest of its votes)."""
    rows, cols, labels = matrix.coo()
    ids = np.asarray(item_ids)
    keys = pd.util.hash_array(ids.astype(object) if ids.dtype.kind in "OUS" else ids)
    order = np.lexsort((rows, cols))
    votes = np.stack([keys[rows[order]], labels[order].astype(np.uint64)], axis=1)
    bounds = np.searchsorted(cols[order], np.arange(matrix.n_sources + 1))
    versions = [hashlib.sha256(votes[bounds[j]:bounds[j + 1]].tobytes()).hexdigest()[:16]
                for j in range(matrix.n_sources)]
    return matrix.replace(item_ids=item_ids, class_names=class_names, source_versions=versions)


def _named_sources(sources: np.ndarray, named: np.ndarray, names: Sequence[str]) -> tuple[str, ...]:
    """The sources whose every answer was a class name (a split repeat ``w#2`` follows its worker ``w``)."""
    by_worker = pd.Series(named).groupby(sources).all().to_dict()
    return tuple(n for n in names if by_worker.get(n, by_worker.get(n.rsplit("#", 1)[0], False)))


def combine_votes(lf_matrix: LabelMatrix | None, crowd: CrowdVotes | None, *, lf_names: Sequence[str] = ()
                  ) -> LabelMatrix:
    """The project's label matrix: the LFs' votes, then the workers', side by side.

    Sparse when under a quarter of the cells hold a vote (crowds), dense otherwise.

    Raises
    ------
    ValidationError
        A worker's source name is the name of a labeling function.
    """
    if crowd is None:
        if lf_matrix is None:
            raise ValidationError("sources: expected labeling functions or crowd answers, got neither")
        return lf_matrix
    if lf_matrix is None:
        return crowd.matrix
    clash = sorted(set(lf_matrix.source_names) & set(crowd.matrix.source_names))
    if clash:
        raise ValidationError(f"crowd.source_prefix: expected worker source names unlike the labeling functions' "
                              f"({', '.join(lf_names)[:200]}), got worker {clash[0]!r}; set source_prefix = "
                              "\"worker:\" under [crowd] (or rename the labeling function)")
    parts = [lf_matrix, crowd.matrix]
    n_cells = max(1, lf_matrix.n_items * (lf_matrix.n_sources + crowd.matrix.n_sources))
    sparse = lf_matrix.nnz + crowd.matrix.nnz < 0.25 * n_cells
    combined = LabelMatrix.concat([p.as_sparse() for p in parts] if sparse else parts, axis=1)
    return combined if sparse else combined.as_dense()


def record_crowd_sources(store: Store, crowd: CrowdVotes) -> None:
    """Record every worker as a source version (kind ``"crowd"``, parameters: its number of answers)."""
    counts = crowd.matrix.votes_per_source().tolist()
    path = crowd.report.get("path")
    store.add_sources([{"name": name, "version": version, "kind": "crowd", "params": {"answers": n, "file": path}}
                       for (name, version), n in zip(crowd.versions.items(), counts)])


def source_versions(lfs: Sequence[Any], crowd: CrowdVotes | None) -> dict[str, str]:
    """``{source name: version}`` of a project's LFs and crowd workers."""
    versions = {lf.name: lf.fingerprint for lf in lfs}
    return versions if crowd is None else {**versions, **crowd.versions}


def lf_votes(matrix: LabelMatrix, lfs: Sequence[Any], crowd: CrowdVotes | None) -> np.ndarray | None:
    """The LFs' columns of the project's matrix (dense, ``-1`` = abstain); None without LFs.

    What the end model may read besides the features: LFs vote on new items
    too, workers answered only the project's.
    """
    if not lfs:
        return None
    return (matrix if crowd is None else matrix.select_sources([lf.name for lf in lfs])).to_dense()


def calibration_groups(matrix: LabelMatrix, lfs: Sequence[Any], crowd: CrowdVotes | None) -> np.ndarray | None:
    """Items with a vote that new items can have too (an LF's); None (one pooled group) without LFs."""
    if crowd is None:
        return matrix.votes_per_item() > 0
    votes = lf_votes(matrix, lfs, crowd)
    return None if votes is None else np.asarray((votes >= 0).any(axis=1), dtype=bool)
