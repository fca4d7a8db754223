"""``weaklab predict``: a run's end model applied to new items (a table with the project's text column,
or, for a tabular end model, the columns it reads, or, for the image CNN, the picture column).

The end model a ``train`` step recorded is rebuilt from its stored state
(:mod:`weaklab.pipeline.end_model_state`: vocabulary, IDF weights and
coefficients as arrays, no pickle; :mod:`weaklab.pipeline.tabular_state`
for the tabular end model's columns and trees; :class:`~weaklab.pipeline.image_model.ImageEndModel`
for the image CNN's tensors); a run on the Dask engine records its
out-of-core counterpart's, which predicts the new items in memory. An end model that also reads the votes
of the sources needs them on the new items: the project's labeling
functions are applied to them, and must be the versions the run trained with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import fail
from .._core.warn import warn
from ..data.image_io import rooted_ref
from ..errors import ValidationError, WeaklabError
from ..labeling import apply_lfs
from ..store import Store
from .calibrated import apply_calibrator_state, needs_groups, run_calibration
from .config import load_config
from .dask_train import DASK_END_MODEL
from .end_model_state import PartitionedEndModel, TextEndModel
from .image_model import ImageEndModel, image_inputs
from .loading import load_lfs
from .runs import dataset_image_column, dataset_meta, dataset_text_field, run_dataset
from .tabular_encoding import unseen_categories
from .tabular_state import TabularEndModel
from .training import end_model_texts

__all__ = ["predict_items", "run_with_end_model"]

#: A recorded end model rebuilt: the local engine's text, tabular or image one, or the Dask engine's out-of-core one.
_Model = TextEndModel | PartitionedEndModel | TabularEndModel | ImageEndModel


def run_with_end_model(store: Store) -> int:
    """The newest finished run that recorded an end model (a ValidationError naming the fix when none did)."""
    runs = store.runs()
    for run_id, status in zip(runs["run_id"], runs["status"]):
        if status == "finished" and len(store.run_records(int(run_id))["end_model_runs"]):
            return int(run_id)
    raise ValidationError("run: expected a finished run with an end model, got none in the store "
                          "(`weaklab train` trains one)")


def predict_items(store: Store, run_id: int, data: pd.DataFrame, *, calibrated: bool = True,
                  root: str | Path | None = None) -> pd.DataFrame:
    """The predictions of run ``run_id``'s end model on the items of ``data``.

    Parameters
    ----------
    store : Store
    run_id : int
        A run that trained an end model (``weaklab train``).
    data : pandas.DataFrame
        New items with the project's text column (``[data].text_field``),
        or the columns a tabular end model reads, or (the image CNN) the
        project's picture column (``[data].image_column``: paths, or
        ``"<array file>#<index>"``); other columns are ignored; the id
        column, when present, is kept.
    calibrated : bool, default=True
        Give the probabilities through the calibrator the run fitted on its
        dev gold (the ones the run stored; the predicted class is the same
        either way); False gives the end model's raw probabilities.
    root : str or Path, optional
        The folder relative picture paths in ``data`` are relative to (the
        image CNN, and the run's image LFs when their votes are needed, which
        otherwise resolve paths against the project's data folder; default:
        the current directory). ``weaklab predict`` passes the data file's folder.

    Returns
    -------
    pandas.DataFrame
        One row per item of ``data``, in order: the id column (when ``data``
        has it), ``label`` (the predicted class id), ``class`` (its name) and
        ``p_<class>`` per class (the end model's probabilities, calibrated
        unless ``calibrated=False``). ``attrs["calibration"]`` says which;
        when calibrated ones were asked for but the run stored no calibrator
        (trained before weaklab calibrated end models, or with too few dev
        items with gold), they are raw and ``attrs["calibration_note"]`` says why. For a tabular
        end model, ``attrs["unseen_categories"]`` counts per category column the rows holding a
        category the model never saw (read as none of its categories).

    Raises
    ------
    ValidationError
        The run has no end model or none recorded with its fitted state, or
        ``data`` lacks the text column (or a column the tabular end model
        reads, or holds a value there that is not a number, or the picture
        column, or a picture that cannot be read), or the model reads the votes of
        labeling functions that changed since the run.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import Project, init_project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> run = Project(folder).run(until="train").run_id
    >>> new = pd.DataFrame({"text": ["check out my channel http://x.example", "love this song"]})
    >>> with Project(folder).open_store(read_only=True) as store:
    ...     predicted = predict_items(store, run, new)
    >>> predicted["class"].tolist()
    ['SPAM', 'HAM']
    """
    if store.is_multilabel_run(int(run_id)):  # every label's probability and the predicted label set
        from .multilabel_predict import predict_multilabel_items

        return predict_multilabel_items(store, int(run_id), data)
    model, record = _end_model(store, run_id)
    dataset_id = run_dataset(store, run_id)
    meta = dataset_meta(store, dataset_id)
    folder = Path(root) if root is not None else Path.cwd()
    inputs = _inputs(model, store, dataset_id, data, run_id, folder)
    grouped = calibrated and needs_groups(model.state)  # the calibrator tells items with a vote from the others
    # the table the run's LFs vote on (only when their votes are read): its pictures as the new table names them
    voting = _rooted_pictures(data, dataset_image_column(store, dataset_id), folder) \
        if model.reads_votes or grouped else data
    votes = _votes(model, meta, voting, run_id) if model.reads_votes else None
    if grouped and votes is None:
        votes = _group_votes(model, meta, voting, run_id)
    proba = model.predict_proba(inputs, votes if model.reads_votes else None)
    if calibrated:
        covered = None if votes is None else np.asarray((np.asarray(votes) >= 0).any(axis=1), dtype=bool)
        proba = apply_calibrator_state(model.state, proba, covered)
    names = model.state.get("class_names") or [str(c) for c in range(proba.shape[1])]
    out = pd.DataFrame(index=range(len(data)))
    id_column = meta.get("id_column")
    if isinstance(id_column, str) and id_column in data.columns:
        out[id_column] = data[id_column].to_numpy()
    out["label"] = proba.argmax(axis=1).astype(np.int64)
    out["class"] = np.asarray(names, dtype=object)[out["label"].to_numpy()] if len(out) else []
    for j, name in enumerate(names):
        out[f"p_{name}"] = proba[:, j]
    out.attrs["end_model"] = record
    if isinstance(model, TabularEndModel):
        out.attrs["unseen_categories"] = unseen_categories(data, model.categories)
    out.attrs["calibration"] = ("calibrated" if calibrated and model.state.get("calibrator") else "raw")
    if calibrated and not model.state.get("calibrator"):  # asked for calibrated ones; the run stored no calibrator
        found = run_calibration(store, run_id)
        out.attrs["calibration_note"] = found.note if found is not None and found.note else \
            f"run {run_id} stored no calibrator"
    return out


def _inputs(model: _Model, store: Store, dataset_id: int, data: pd.DataFrame, run_id: int, root: Path) -> Any:
    """What the end model reads of ``data``: its texts, (tabular) the table itself, checked for its columns, or
    (the image CNN) its pictures."""
    if isinstance(model, ImageEndModel):
        column = dataset_image_column(store, dataset_id)
        if column is None or column not in data.columns:
            raise fail("data", f"a column {column!r} (the pictures the image CNN of run {run_id} reads, "
                       "[data].image_column)", got_text=f"columns {[str(c) for c in data.columns]}")
        return image_inputs(data[column], root=root, size=model.size)
    if isinstance(model, TabularEndModel):
        missing = [c for c in model.columns if c not in data.columns]
        if missing:
            raise fail("data", f"the columns the tabular end model of run {run_id} reads ({model.columns})",
                       got_text=f"no column {', '.join(map(repr, missing))} (columns: "
                       f"{[str(c) for c in data.columns]})")
        return data
    field = dataset_text_field(store, dataset_id)
    if field not in data.columns:
        raise fail("data", f"a column {field!r} (the text column the end model of run {run_id} reads, "
                   "[data].text_field)", got_text=f"columns {[str(c) for c in data.columns]}")
    return end_model_texts(data, field)


def _end_model(store: Store, run_id: int) -> tuple[_Model, str]:
    models = store.run_records(run_id)["end_model_runs"]
    if models.empty:
        raise fail("run", "a run with an end model (`weaklab train` trains one)",
                   got_text=f"run {run_id}, which has none")
    last = models.iloc[-1]
    name = str(last["name"])
    state = store.load_end_model_state(int(last["end_model_run_id"]))
    if state is not None and state.get("class") == "PartitionedTextClassifier":
        return PartitionedEndModel.from_state(state), name
    if state is not None and state.get("class") == "tabular":
        return TabularEndModel.from_state(state), name
    if state is not None and state.get("class") == "cnn":
        return ImageEndModel.from_state(state), name
    if state is None or state.get("class") != "tfidf_logreg":
        raise fail("run", "a run whose end model was recorded with its fitted state (tfidf_logreg, tabular or cnn, "
                   "or the out-of-core counterpart of tfidf_logreg on the Dask engine)",
                   got_text=f"run {run_id}, {_why_no_state(name)}")
    return TextEndModel.from_state(state), name


def _why_no_state(name: str) -> str:
    """Why a run's end model cannot predict new items, and the way out."""
    if name == "cnn":
        return ("whose image CNN ('cnn') was recorded before weaklab kept its weights; `weaklab train` trains and "
                "records it again")
    if name == DASK_END_MODEL:
        return (f"whose end model {name!r} was trained on the Dask engine before weaklab kept its state; "
                "`weaklab train` trains and records it again")
    return (f"whose end model {name!r} was recorded without it (a run recorded before weaklab kept end models); "
            "`weaklab train` trains and records it again")


def _rooted_pictures(data: pd.DataFrame, column: str | None, root: str | Path) -> pd.DataFrame:
    """``data`` with its relative picture paths made absolute against ``root`` (the new table's folder).

    The project's image sources resolve relative paths against the project's
    data folder (or their own ``root``); the new table's paths are relative
    to its folder, as the image CNN reads them.
    """
    if column is None or column not in data.columns:
        return data
    out = data.copy()
    out[column] = [ref if not isinstance(ref, str) or not ref else rooted_ref(ref, root) for ref in data[column]]
    return out


def _group_votes(model: _Model, meta: dict[str, Any], data: pd.DataFrame, run_id: int) -> np.ndarray | None:
    """The run's votes on ``data`` for the calibrator's groups only (the end model itself does not read them).

    When the run's labeling functions changed or are gone, every item goes through the pooled calibrator (fitted
    on all dev gold) instead, with a warning: the prediction itself never needed the votes.
    """
    try:
        return _votes(model, meta, data, run_id)
    except WeaklabError as error:
        warn(f"run {run_id}: the calibrator tells items with a vote from the others, but the run's "
                      f"labeling functions cannot be applied ({error}); every item goes through the calibrator "
                      "fitted on all dev gold instead (`weaklab train` again to calibrate by group, or --raw / "
                      "calibrated=False for the raw probabilities)", UserWarning)
        return None


def _votes(model: _Model, meta: dict[str, Any], data: pd.DataFrame, run_id: int) -> np.ndarray:
    """The votes of the run's sources on ``data`` (the model reads them): the project's LFs, same versions."""
    project = meta.get("project")
    if not isinstance(project, str):
        raise fail("run", "a run of a project (its end model reads the votes of the project's labeling functions)",
                   got_text=f"run {run_id}, recorded without a project file")
    config = load_config(project)
    lfs = load_lfs(config)
    versions = {lf.name: lf.fingerprint for lf in lfs}
    wanted = dict(zip(model.state["source_names"], model.state["source_versions"]))
    changed = [name for name, version in wanted.items() if versions.get(name) != version]
    if changed:
        raise fail("lfs", f"the labeling functions run {run_id}'s end model was trained with (it reads their "
                   "votes)", got_text=f"{len(changed)} changed or missing since, e.g. {changed[0]!r} (run "
                   "`weaklab train` to train the end model on the current ones)")
    if not wanted:  # a crowd-only project: no source votes on new items (workers answered only the project's)
        return np.full((len(data), 0), -1, dtype=np.int8)
    by_name = {lf.name: lf for lf in lfs}
    names = model.state.get("class_names")
    renames = {old: new for old, new in config.class_renames.items() if names and new in names and old not in names}
    L, _ = apply_lfs([by_name[name] for name in wanted], data, progress=False,
                     n_classes=int(model.state["n_classes"]), class_names=names, class_renames=renames)
    return L.to_dense()
