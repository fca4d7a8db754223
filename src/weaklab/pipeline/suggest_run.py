"""Source repair suggestions for a recorded run, and for a project (runs it up to the issues step first)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import fail
from ..store import Store
from .reuse import JUDGE_ROLE
from .suggest import RepairSuggestions, suggest_repairs
from .training import label_model_class

__all__ = ["run_suggestions", "project_suggestions", "went_through_issues"]


def went_through_issues(records: dict[str, pd.DataFrame]) -> bool:
    """Whether a run's records hold what repair suggestions read: its label model and the issues judge.

    Parameters
    ----------
    records : dict of DataFrame
        :meth:`~weaklab.store.Store.run_records` of the run.

    Returns
    -------
    bool

    Examples
    --------
    >>> went_through_issues(store.run_records(run_id))   # doctest: +SKIP
    True
    """
    softs = records["soft_labels"]
    return not (records["label_model_runs"].empty or (softs["role"] != JUDGE_ROLE).all()
                or (softs["role"] != "label_model").all())


def run_suggestions(store: Store, run_id: int, *, lfs: Any = None, data: Any = None) -> RepairSuggestions:
    """Repair suggestions from what a run recorded: votes, label model, its soft labels and the issues judge.

    Parameters
    ----------
    store : Store
    run_id : int
        A run that went through the ``issues`` step (the judge's
        out-of-fold probabilities are recorded there).
    lfs : sequence of LabelingFunction, optional
        The project's LFs: keyword and regex templates among them can be narrowed.
    data : DataFrame, optional
        The project's items in the run's row order (needed to narrow).

    Returns
    -------
    RepairSuggestions

    Raises
    ------
    ValidationError
        The run has no label model or no issues judge.
    """
    from ..cleaning import find_weak_label_errors

    records = store.run_records(int(run_id))
    lm_runs, softs = records["label_model_runs"], records["soft_labels"]
    judges = softs[softs["role"] == JUDGE_ROLE]
    lm_softs = softs[softs["role"] == "label_model"]
    if not went_through_issues(records):
        raise fail("run_id", "a run that went through the issues step (`weaklab issues`)", run_id)
    lm_row = lm_runs.iloc[-1]
    state = store.load_label_model_state(int(lm_row["label_model_run_id"]))
    model = label_model_class(str(state["class"])).from_state(state)
    matrix = store.load_matrix(int(lm_row["application_id"]))
    soft = store.load_soft_labels(int(lm_softs["soft_labels_id"].iloc[-1]))
    judge = store.load_soft_labels(int(judges["soft_labels_id"].iloc[-1]))
    covered = np.flatnonzero(matrix.votes_per_item() > 0)
    if len(covered) != judge.proba.shape[0]:
        raise fail("run_id", f"an issues judge of the run's {len(covered)} covered items",
                   got_text=f"{judge.proba.shape[0]} judged items")
    votes = np.asarray(matrix.to_dense())[covered]
    found = find_weak_label_errors(votes, soft.proba[covered], judge.proba,
                                   confusion=getattr(model, "confusion_", None),
                                   abstain_rate=getattr(model, "abstain_rate_", None),
                                   source_names=matrix.source_names)
    rows = None if data is None or len(data) != matrix.n_items else data.iloc[covered].reset_index(drop=True)
    return suggest_repairs(votes, model, found, lfs=lfs, data=rows)


def project_suggestions(project_dir: Any = ".", *, store_path: Any = None, run_id: int | None = None,
                        store_timeout: float = 10.0) -> tuple[int, RepairSuggestions]:
    """Run the project up to ``issues`` (reusing recorded work) unless ``run_id`` is given, then suggest repairs.

    Returns
    -------
    (int, RepairSuggestions)
        The run the suggestions come from, and the suggestions (templates
        of the project's LF module can be narrowed).
    """
    from .loading import load_data, load_lfs
    from .multilabel import refuse_multilabel_project
    from .project import Project

    project = Project(Path(project_dir), store_path=store_path, store_timeout=store_timeout)
    refuse_multilabel_project(project.config, "suggest")
    if run_id is None:
        run_id = project.run("issues").run_id
    lfs, data = load_lfs(project.config), load_data(project.config)
    with project.open_store(read_only=True) as store:
        return int(run_id), run_suggestions(store, int(run_id), lfs=lfs, data=data)
