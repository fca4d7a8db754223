"""The data file's gold label sets a multi-label label model fits on (``[data].fit_gold``), as in a classification run.

Gold label sets on rows of the dev split only score runs. Rows outside it
that hold a gold label set reach the label model's fit when
``[data].fit_gold`` says so: ``"all"`` of them, or at most ``N`` drawn at
random by :func:`~weaklab.pipeline.loading.fit_gold_rows` (the draw of a
classification project: by item id, seeded, stable when rows are added or
reordered). They are a random sample of the items, which is how
:class:`~weaklab.models.AutoLabelModel` (the default model of each label)
reads gold. The run records what the fit had
(:func:`~weaklab.pipeline.fit_gold.fit_gold_lineage`, plus the items' ids
as ``fit_gold_items``): the review queue does not offer those items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .fit_gold import fit_gold_lineage
from .loading import fit_gold_rows

if TYPE_CHECKING:
    from .config import ProjectConfig

__all__ = ["MultiLabelFitGold", "multilabel_fit_gold"]


class MultiLabelFitGold:
    """The gold a multi-label fit gets: ``gold`` ``(n, K)`` of 1/0/-1 (None without any), its ``rows``, ``metrics``.

    Examples
    --------
    >>> fit = MultiLabelFitGold(None, np.zeros(3, dtype=bool), {"n_file_gold_for_fit": 0})
    >>> fit.gold is None, fit.metrics["n_file_gold_for_fit"]
    (True, 0)
    """

    def __init__(self, gold: np.ndarray | None, rows: np.ndarray, metrics: dict[str, Any]) -> None:
        self.gold, self.rows, self.metrics = gold, rows, metrics


def multilabel_fit_gold(config: ProjectConfig, frame: pd.DataFrame, gold: np.ndarray, dev: np.ndarray,
                        item_ids: Any, *, random_state: int = 0) -> MultiLabelFitGold:
    """The rows outside dev whose gold label set the label model fits on, the fit's gold array and its lineage.

    Parameters
    ----------
    config : ProjectConfig
    frame : pandas.DataFrame
        The project's data.
    gold : ndarray of shape (n, K)
        1 / 0 per item and label, NaN for an item without gold
        (:func:`~weaklab.pipeline.multilabel.multilabel_gold`).
    dev : ndarray of shape (n,) of bool
    item_ids : array-like of shape (n,)
    random_state : int, default=0
        Salts the draw of ``[data].fit_gold = N``.

    Returns
    -------
    MultiLabelFitGold
        ``metrics`` holds ``n_gold_for_fit`` and what
        :func:`~weaklab.pipeline.fit_gold.fit_gold_lineage` records
        (``fit_gold``, ``n_gold_outside_dev``, ``n_file_gold_for_fit``, ...),
        and ``fit_gold_items`` (ids as text) when the fit got any.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.demo.multilabel import init_multilabel_project
    >>> from weaklab.pipeline import load_config
    >>> from weaklab.pipeline.loading import load_data
    >>> from weaklab.pipeline.multilabel import multilabel_dev, multilabel_gold
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_multilabel_project(folder, n_items=40)
    >>> config = load_config(folder)
    >>> frame = load_data(config)
    >>> gold = multilabel_gold(config, frame)
    >>> fit = multilabel_fit_gold(config, frame, gold, multilabel_dev(config, frame, gold), frame["article_id"])
    >>> fit.gold is None, fit.metrics["fit_gold"]                 # fit_gold = "none" by default
    (True, 'none')
    """
    known = np.where(~np.isnan(gold).any(axis=1), 0, -1) if gold.shape[1] else np.full(len(frame), -1)
    rows = fit_gold_rows(config, frame, known, dev, random_state=random_state)
    none = np.full(len(frame), -1)
    metrics = {"n_gold_for_fit": int(rows.sum()),
               **fit_gold_lineage(config, frame, known, np.asarray(dev, dtype=bool), rows, none, random_state)}
    if not rows.any():
        return MultiLabelFitGold(None, rows, metrics)
    out = np.full(gold.shape, -1, dtype=np.int64)
    out[rows] = gold[rows].astype(np.int64)
    metrics["fit_gold_items"] = [str(v.item() if isinstance(v, np.generic) else v)
                                 for v in np.asarray(item_ids, dtype=object)[rows]]
    return MultiLabelFitGold(out, rows, metrics)
