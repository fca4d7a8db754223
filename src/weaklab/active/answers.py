"""One recorded answer of the review loop, and reading answers given as a mapping, a Series or two arrays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import fail

__all__ = ["Answer", "ANSWER_COLUMNS", "split_answers"]

ANSWER_COLUMNS = ("item", "label", "round", "answered_at", "origin", "at_random", "probability", "pool_left")


@dataclass(frozen=True)
class Answer:
    """One recorded answer.

    Attributes
    ----------
    item : int
        Pool index of the item.
    label : int
        The answered class id.
    round : int
        The round (1-based :meth:`ActiveLoop.select` call) that asked for it.
    answered_at : datetime.datetime
        When :meth:`ActiveLoop.incorporate` recorded it (UTC).
    origin : str
        Who answered (e.g. ``"human"``, ``"oracle"``, a reviewer's name).
    at_random : bool
        The item was drawn uniformly at random from the pool (the loop's
        ``explore`` share, or the ``"random"`` strategy), not chosen by the
        strategy: such answers are an unbiased sample of the pool.
    probability : float
        The probability the item had at its draw (``1 / pool_left`` for a
        uniform draw; see :func:`~weaklab.active.draw_batch`); NaN when a
        ``sampling="top"`` strategy chose it (no probability exists).
    pool_left : int
        Items it was drawn from (0 when ``probability`` is NaN).

    Examples
    --------
    >>> from weaklab.active import ActiveLoop
    >>> loop = ActiveLoop("entropy", budget_per_round=1, warm_start=0, random_state=0)
    >>> items = loop.select(proba=[[0.9, 0.1], [0.5, 0.5], [0.8, 0.2]])
    >>> _ = loop.incorporate({int(items[0]): 1})
    >>> row = loop.answers_.iloc[0]  # one row per Answer: its fields are the columns
    >>> list(loop.answers_.columns)
    ['item', 'label', 'round', 'answered_at', 'origin', 'at_random', 'probability', 'pool_left']
    >>> int(row["item"]), int(row["label"]), int(row["round"]), row["origin"]
    (1, 1, 1, 'human')
    """

    item: int
    label: int
    round: int
    answered_at: datetime
    origin: str
    at_random: bool = False
    probability: float = float("nan")
    pool_left: int = 0


def split_answers(answers: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Item indices and labels from a mapping, a Series or two aligned arrays."""
    if labels is not None:
        if isinstance(answers, Mapping):
            raise fail("labels", "None when answers is a mapping", labels)
        return np.asarray(answers), np.asarray(labels)
    if isinstance(answers, pd.Series):
        return answers.index.to_numpy(), answers.to_numpy()
    if isinstance(answers, Mapping):
        return np.asarray(list(answers.keys())), np.asarray(list(answers.values()))
    raise fail("answers", "a mapping {item: label}, a pandas Series, or item indices with labels=", answers)
