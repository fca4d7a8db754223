"""The gold a project's label model fits on: human answers, and the data file's gold outside the dev split.

Gold in the data file on rows of the dev split only scores runs. Gold on
other rows reaches the label model when ``[data].fit_gold`` says so
(:func:`~weaklab.pipeline.loading.fit_gold_rows` draws the rows); it is a
random sample of the items (``gold_sampling="random"``), while answers to a
review queue stay ``"active"``, so a fit that has both passes one value per
item and each label model uses each item as it uses gold of its kind (see
:meth:`weaklab.models.LabelModel.fit`). The run records what the fit had
(:func:`fit_gold_lineage`) and the CLI and dashboard say it
(:func:`fit_gold_lines`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..store import Store
from .config import ProjectConfig

__all__ = ["RunFitGold", "answers_in_fit", "answers_fit_lines", "file_gold_lineage", "fit_gold_lineage",
           "fit_gold_lines", "run_fit_gold", "with_file_gold"]


@dataclass(frozen=True)
class RunFitGold:
    """The items whose gold in the data file fed a run's label-model fit, as the queues and ``doctor`` read them.

    Attributes
    ----------
    run_id : int
    n_items : int
        How many the run says its fit got (``n_file_gold_for_fit``; 0 for a
        run without ``[data].fit_gold``).
    ids : frozenset of str or None
        Their ids as the store recorded them at fit time
        (:meth:`~weaklab.store.Store.fit_gold`); None for a run recorded
        before they were kept, whose rows are drawn again from the data file
        by its recorded option and seed (:attr:`rederived`).
    metrics : dict
        The run's label-model metrics (what :func:`fit_gold_lineage` recorded).

    Examples
    --------
    >>> RunFitGold(3, 20, None, {"fit_gold": 20, "fit_gold_random_state": 0}).rederived
    True
    >>> RunFitGold(3, 2, frozenset({"a", "b"}), {}).note() is None
    True
    """

    run_id: int
    n_items: int
    ids: frozenset[str] | None
    metrics: dict[str, Any]

    @property
    def rederived(self) -> bool:
        """True when the run's fit took file gold but the store has not its items (drawn again from the file)."""
        return self.n_items > 0 and self.ids is None

    def note(self) -> str | None:
        """What a queue and ``weaklab doctor`` say of a re-derived set (None when the items are recorded)."""
        if not self.rederived:
            return None
        option, seed = self.metrics.get("fit_gold"), self.metrics.get("fit_gold_random_state")
        shown = f'"{option}"' if isinstance(option, str) else str(option)
        seed_text = "" if seed is None else f" and seed {seed}"
        return (f"The {self.n_items} items whose gold fed run {self.run_id}'s fit are re-derived from its recorded "
                f"[data].fit_gold = {shown}{seed_text} on the data file as it is now (the run was recorded before "
                "weaklab kept them): an edit of the file since the run changes them; `weaklab doctor` checks, and "
                "`weaklab doctor --repair` records them while the file is unchanged.")


def run_fit_gold(store: Store, run_id: int) -> RunFitGold:
    """The items whose data-file gold fed a run's fit: the ids the store recorded, never drawn again when it has them.

    A multilabel run records them in its label-model metrics (``fit_gold_items``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import Project, init_project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> toml = folder / "weaklab.toml"
    >>> _ = toml.write_text(toml.read_text().replace("# fit_gold = 50 ", "fit_gold = 20 "))
    >>> run = Project(folder).run(until="fit")
    >>> with Project(folder).open_store(read_only=True) as store:
    ...     fit = run_fit_gold(store, run.run_id)
    >>> fit.n_items, len(fit.ids), fit.rederived
    (20, 20, False)
    """
    from .runs import run_label_model_metrics

    metrics = run_label_model_metrics(store, int(run_id))
    n_items = int(metrics.get("n_file_gold_for_fit") or 0)
    if not n_items:
        return RunFitGold(int(run_id), 0, frozenset(), metrics)
    if metrics.get("fit_gold_items") is not None:  # a multilabel run keeps them with its metrics (label sets)
        return RunFitGold(int(run_id), n_items, frozenset(str(v) for v in metrics["fit_gold_items"]), metrics)
    if store.fit_gold_record(int(run_id)) is None:
        return RunFitGold(int(run_id), n_items, None, metrics)
    ids = frozenset(str(v) for v in store.fit_gold(int(run_id))["item_id"].tolist())
    return RunFitGold(int(run_id), n_items, ids, metrics)


def with_file_gold(answers: np.ndarray, answer_sampling: str, gold: np.ndarray,
                   rows: np.ndarray) -> tuple[np.ndarray, str | np.ndarray, str]:
    """The label model's gold and ``gold_sampling``: the human answers plus the file's gold on ``rows``.

    Without rows, the answers and their sampling as they are. An item both
    answered and drawn keeps the answer's label (the later word) and counts
    as drawn at random (its draw did not depend on the answer).

    Parameters
    ----------
    answers : ndarray of shape (n,)
        Class ids of the human answers, -1 where none.
    answer_sampling : {"random", "active"}
        How the answered items were chosen.
    gold : ndarray of shape (n,)
        The data file's gold class ids, -1 where unknown.
    rows : ndarray of shape (n,) of bool
        The rows whose file gold the fit gets.

    Returns
    -------
    gold : ndarray of shape (n,)
    sampling : str or ndarray of shape (n,) of str
        What ``fit(..., gold_sampling=...)`` gets (one value per item when the kinds mix).
    kind : {"random", "active", "mixed"}

    Examples
    --------
    >>> import numpy as np
    >>> answers, file_gold = np.array([1, -1, -1, -1]), np.array([-1, 0, 1, 0])
    >>> gold, sampling, kind = with_file_gold(answers, "active", file_gold, np.array([False, True, True, False]))
    >>> gold.tolist(), sampling.tolist(), kind
    ([1, 0, 1, -1], ['active', 'random', 'random', 'active'], 'mixed')
    """
    answered = answers >= 0
    if not rows.any():
        return answers, answer_sampling, answer_sampling if answered.any() else "random"
    combined = np.where(answered, answers, np.where(rows, gold, -1))
    if answer_sampling == "random" or not (answered & ~rows).any():
        return combined, "random", "random"
    return combined, np.where(rows, "random", "active"), "mixed"


def fit_gold_lineage(config: ProjectConfig, frame: pd.DataFrame, gold: np.ndarray, dev: np.ndarray,
                     rows: np.ndarray, answers: np.ndarray, random_state: int, reason: str = "") -> dict[str, Any]:
    """What a run records of the gold its label model fitted on (beside ``n_gold_for_fit`` and ``gold_sampling``).

    Returns
    -------
    dict
        ``fit_gold`` (the option's value), ``n_gold_outside_dev`` (the file's
        gold rows outside the dev split), ``n_file_gold_for_fit`` (those the
        fit got), ``n_answers_for_fit`` (human answers it got); when it got
        file gold also ``file_gold_sampling`` (``"random"``),
        ``file_gold_splits`` (rows per split value) and, for a sample of at
        most N, ``fit_gold_random_state`` (the seed of the draw), and
        ``gold_decision``: the first clause of the model's ``reason_`` (what
        :class:`~weaklab.models.AutoLabelModel` did with the gold), when it has one.
    """
    splits = frame[config.get("data", "split_column")].astype(str).to_numpy()[rows] if rows.any() else []
    return file_gold_lineage(config, int(((gold >= 0) & ~dev).sum()), splits, int((answers >= 0).sum()),
                             random_state, reason)


def file_gold_lineage(config: ProjectConfig, n_outside: int, splits: Any, n_answers: int, random_state: int,
                      reason: str = "", *, n_given: int | None = None) -> dict[str, Any]:
    """:func:`fit_gold_lineage` from counts: the gold rows outside dev, the split values of those the fit got, the
    human answers it got (what the Dask engine knows without the data file; see :func:`fit_gold_lineage`).

    ``n_given`` is the number of human answers given (``n_answers`` by
    default): more than ``n_answers`` when the fit held only a sample of the
    items (``AutoLabelModel`` on the Dask engine), recorded as ``n_answers``.

    Examples
    --------
    >>> from pathlib import Path
    >>> from weaklab.pipeline.config import ProjectConfig
    >>> config = ProjectConfig(Path("weaklab.toml"), Path("."), {"data": {"path": "d.csv", "fit_gold": 2}})
    >>> file_gold_lineage(config, 5, ["train", "train"], 0, 0)["file_gold_splits"]
    {'train': 2}
    """
    rows = np.asarray(splits, dtype=object)
    out: dict[str, Any] = {"fit_gold": config.fit_gold, "n_gold_outside_dev": int(n_outside),
                           "n_file_gold_for_fit": int(rows.size), "n_answers_for_fit": int(n_answers),
                           "n_answers": int(n_answers if n_given is None else n_given)}
    if rows.size:
        values, counts = np.unique(rows.astype(str), return_counts=True)
        out.update(file_gold_sampling="random",
                   file_gold_splits={str(v): int(c) for v, c in zip(values.tolist(), counts.tolist())})
        if config.fit_gold != "all":
            out["fit_gold_random_state"] = int(random_state)
        if reason:
            out["gold_decision"] = _first_clause(reason)
    return out


def _first_clause(text: str) -> str:
    """``text`` up to its first ``"; "`` outside parentheses (a reason's headline, its asides kept whole).

    Examples
    --------
    >>> _first_clause("kept A (picked B in 3; C in 2); 4 failed")
    'kept A (picked B in 3; C in 2)'
    >>> _first_clause("no separator")
    'no separator'
    """
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth <= 0 and text.startswith("; ", i):
            return text[:i]
    return text


def fit_gold_lines(label_model: dict[str, Any]) -> list[str]:
    """What a run's label-model metrics say of the file's gold: what the fit got, or how to let it use it.

    Examples
    --------
    >>> fit_gold_lines({"fit_gold": "none", "n_gold_outside_dev": 412, "n_file_gold_for_fit": 0})[0][:60]
    '412 gold labels outside the dev split are not used by the fi'
    >>> line = fit_gold_lines({"fit_gold": 50, "n_gold_outside_dev": 412, "n_file_gold_for_fit": 50,
    ...                        "file_gold_splits": {"train": 50}, "fit_gold_random_state": 0})[0]
    >>> line[:67]
    'label model fitted on 50 of the 412 gold labels outside the dev spl'
    >>> line[67:]
    'it (a random sample: [data].fit_gold = 50, seed 0; split train 50); the dev split stays held out'
    >>> fit_gold_lines({"class": "AutoLabelModel", "fit_gold": "all", "n_gold_outside_dev": 80,
    ...                 "n_file_gold_for_fit": 80, "gold_decision": "kept the choice made without gold"})[1]
    'AutoLabelModel with that gold: kept the choice made without gold'
    >>> fit_gold_lines({"n_gold_for_fit": 3})  # a run recorded before fit_gold
    []
    """
    available, used = label_model.get("n_gold_outside_dev"), label_model.get("n_file_gold_for_fit") or 0
    if not available:
        return []
    if not used:
        return [f"{available} gold labels outside the dev split are not used by the fit: set fit_gold = \"all\" "
                f"(or a number, e.g. fit_gold = {min(available, 50)}) under [data] in weaklab.toml to fit on them "
                "(the dev split stays held out)"]
    option = label_model.get("fit_gold")
    how = "all of them" if option == "all" else "a random sample"
    seed = label_model.get("fit_gold_random_state")
    seed_text = "" if seed is None else f", seed {seed}"
    splits = ", ".join(f"{k} {v}" for k, v in (label_model.get("file_gold_splits") or {}).items())
    where = f"; split {splits}" if splits else ""
    shown = f'"{option}"' if isinstance(option, str) else str(option)
    lines = [f"label model fitted on {used} of the {available} gold labels outside the dev split ({how}: "
             f"[data].fit_gold = {shown}{seed_text}{where}); the dev split stays held out"]
    if label_model.get("gold_decision"):
        lines.append(f"{label_model.get('class', 'label model')} with that gold: {label_model['gold_decision']}")
    return lines


def answers_in_fit(label_model: dict[str, Any]) -> tuple[int, int] | None:
    """How many human answers a run's label model was given and how many reached its fit; None without answers.

    They differ when the fit held a sample of the items (``AutoLabelModel``
    on the Dask engine above ``max_fit_items``); a run recorded before
    ``n_answers`` was kept counts ``n_answers_for_fit`` for both.

    Examples
    --------
    >>> answers_in_fit({"n_answers": 40, "n_answers_for_fit": 12})
    (40, 12)
    >>> answers_in_fit({"n_answers_for_fit": 0}) is None
    True
    """
    got = label_model.get("n_answers_for_fit")
    given = label_model.get("n_answers", got)
    if not given:
        return None
    return int(given), int(got if got is not None else given)


def _skip_note(weighting: dict[str, Any]) -> str:
    """What the weighting line says of skipped random checks (nothing when none was skipped)."""
    skipped = int(weighting.get("n_skipped_checks", 0) or 0)
    if not skipped:
        return ""
    rate = float(weighting.get("check_skip_rate", 0.0) or 0.0)
    return (f"; {skipped} random check(s) skipped ({rate:.0%} of those answered or skipped): the weighted answers "
            "stand for the items reviewers answer, about the other part of the pool they say nothing (answer "
            "rather than skip)")


def answers_fit_lines(label_model: dict[str, Any]) -> list[str]:
    """What a run's label-model metrics say of the human answers: how many reached the fit, and what it did with them.

    Answers to a review queue (``gold_sampling`` ``"active"`` or
    ``"mixed"``) are a ranked sample of the items: ``AutoLabelModel`` leaves
    them out of its choice and fit on both engines, in a sample or not, and
    the other label models that do not clamp gold ignore them too. With the
    queues' recorded random checks (``"weighted"``, both engines) they reach
    the fit weighted (:func:`~weaklab.pipeline.queue_checks.answer_gold_weights`),
    and the line says how many checks reviewers skipped.

    Examples
    --------
    >>> answers_fit_lines({"class": "DawidSkene", "n_answers": 5, "n_answers_for_fit": 5, "gold_sampling": "random"})
    ['human answers: all 5 reached the fit of DawidSkene as gold']
    >>> answers_fit_lines({"class": "AutoLabelModel", "n_answers": 40, "n_answers_for_fit": 12,
    ...     "gold_sampling": "random", "fit_sample": {"n_sample": 300, "n_items": 3000, "max_fit_items": 200}
    ...     })[0].split("; ")  # doctest: +NORMALIZE_WHITESPACE
    ['human answers: 12 of 40 reached the fit of AutoLabelModel as gold',
     '28 fell outside its random sample of 300 of the 3,000 items (max_fit_items = 200 in label_model.params',
     'raise it to fit on more)']
    >>> answers_fit_lines({"class": "AutoLabelModel", "n_answers": 40, "n_answers_for_fit": 12,
    ...     "gold_sampling": "active"})[0][:80]
    'human answers: 40, none used by the fit of AutoLabelModel: answers to a review q'
    >>> answers_fit_lines({"class": "AutoLabelModel", "n_answers": 40, "n_answers_for_fit": 40,
    ...     "gold_sampling": "weighted", "gold_weighting": {"n_random_checks": 8, "effective_n": 9.5}})[0][:73]
    'human answers: all 40 reached the fit of AutoLabelModel as gold, weighted'
    >>> answers_fit_lines({"class": "AutoLabelModel", "n_answers": 40, "n_answers_for_fit": 40,
    ...     "gold_sampling": "weighted", "gold_weighting": {"n_random_checks": 8, "effective_n": 9.5,
    ...     "n_skipped_checks": 2, "check_skip_rate": 0.2}})[0].split("; ")[2][:50]
    '2 random check(s) skipped (20% of those answered o'
    """
    counts = answers_in_fit(label_model)
    if counts is None:
        return []
    given, got = counts
    name = str(label_model.get("class") or "the label model")
    weighting = label_model.get("gold_weighting")
    if label_model.get("gold_sampling") == "weighted" and isinstance(weighting, dict):
        return [f"human answers: {_share(given, got)} reached the fit of {name} as gold, weighted by the review "
                f"queues' {weighting.get('n_random_checks', 0)} random checks into a sample of the pool (effective "
                f"sample size {weighting.get('effective_n', 0)}; [query].random_share)" + _skip_note(weighting)]
    if label_model.get("gold_sampling") in ("active", "mixed"):
        if name == "AutoLabelModel":
            return [f"human answers: {given}, none used by the fit of {name}: answers to a review queue are a ranked "
                    "sample of the items, which it leaves out of its choice and fit on both engines (gold drawn at "
                    "random, e.g. [data].fit_gold or imported answers, is used; so are queue answers once a queue's "
                    "random checks, [query].random_share, are answered); each still labels its own item in weaklab "
                    "export and is the end model's target there"]
        return [f"human answers: {_share(given, got)} reached the fit of {name}; answers to a review queue are a "
                "ranked sample of the items, used only by the label models that clamp gold (DawidSkene, "
                "OneCoinDawidSkene, GLAD, MACE)"]
    line = f"human answers: {_share(given, got)} reached the fit of {name} as gold"
    seen = label_model.get("fit_sample") or {}
    if got < given and seen:
        line += (f"; {given - got} fell outside its random sample of {int(seen.get('n_sample', 0)):,} of the "
                 f"{int(seen.get('n_items', 0)):,} items (max_fit_items = {int(seen.get('max_fit_items', 0)):,} in "
                 "label_model.params; raise it to fit on more)")
    return [line]


def _share(given: int, got: int) -> str:
    return f"all {given}" if got == given else f"{got} of {given}"
