"""The strategy registry and the one-call :func:`select` convenience."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from .._core import LabelMatrix
from .._core.validation import check_choice, check_float, check_random_state, fail
from ._inputs import checked_indices, checked_mask
from .diversity import coreset_distance, density_weighted, select_batch
from .strategies import entropy as entropy_scores
from .strategies import least_confidence, margin, model_disagreement, random_scores, vote_entropy

__all__ = ["Strategy", "STRATEGIES", "DEFAULT_STRATEGY", "select", "strategy_scores"]

DEFAULT_STRATEGY = "density_weighted"
INPUT_NAMES = ("proba", "label_proba", "L", "X", "density_scores")


@dataclass(frozen=True)
class Strategy:
    """A named query strategy.

    Attributes
    ----------
    name : str
        Registry key.
    inputs : tuple of str
        Inputs the scores need, from ``proba`` (end-model probabilities on the
        pool), ``label_proba`` (label-model soft labels), ``L`` (votes) and
        ``X`` (features; ``density_weighted`` also accepts ``density_scores``
        instead).
    score : callable
        ``score(inputs: dict, params: dict, rng, answered) -> ndarray (n,)``;
        higher = ask first.
    diversity : float
        Default ``diversity`` of :func:`~weaklab.active.select_batch` for this
        strategy (0 = top scores only, 1 = pure k-center).
    description : str
        One line for listings.

    Examples
    --------
    >>> from weaklab.active import STRATEGIES
    >>> strategy = STRATEGIES["density_weighted"]
    >>> type(strategy).__name__, strategy.name, strategy.inputs
    ('Strategy', 'density_weighted', ('proba', 'X'))
    """

    name: str
    inputs: tuple[str, ...]
    score: Callable[[dict[str, Any], dict[str, Any], np.random.Generator, np.ndarray], np.ndarray]
    diversity: float
    description: str


def _n_items(inputs: Mapping[str, Any]) -> int:
    for key in INPUT_NAMES:
        value = inputs.get(key)
        if value is not None:
            return value.n_items if isinstance(value, LabelMatrix) else int(np.shape(value)[0])
    raise fail("inputs", f"at least one of {', '.join(INPUT_NAMES)}", got_text="none")


def _random(inp: dict[str, Any], params: dict[str, Any], rng: np.random.Generator, _: np.ndarray) -> np.ndarray:
    return random_scores(_n_items(inp), random_state=rng)


def _least_confidence(inp: dict[str, Any], params: dict[str, Any], *_: Any) -> np.ndarray:
    return least_confidence(inp["proba"])


def _margin(inp: dict[str, Any], params: dict[str, Any], *_: Any) -> np.ndarray:
    return margin(inp["proba"])


def _entropy(inp: dict[str, Any], params: dict[str, Any], *_: Any) -> np.ndarray:
    return entropy_scores(inp["proba"])


def _vote_entropy(inp: dict[str, Any], params: dict[str, Any], *_: Any) -> np.ndarray:
    return vote_entropy(inp["L"], **params)


def _model_disagreement(inp: dict[str, Any], params: dict[str, Any], *_: Any) -> np.ndarray:
    return model_disagreement(inp["proba"], inp["label_proba"], **params)


def _density_weighted(inp: dict[str, Any], params: dict[str, Any], *_: Any) -> np.ndarray:
    return density_weighted(inp["proba"], inp.get("X"), density_scores=inp.get("density_scores"), **params)


def _k_center(inp: dict[str, Any], params: dict[str, Any], _: np.random.Generator, answered: np.ndarray) -> np.ndarray:
    return coreset_distance(inp["X"], answered, **params)


STRATEGIES: Mapping[str, Strategy] = MappingProxyType({
    s.name: s
    for s in (
        Strategy("random", (), _random, 0.0, "uniform random order (the baseline)"),
        Strategy("least_confidence", ("proba",), _least_confidence, 0.0, "1 - largest probability"),
        Strategy("margin", ("proba",), _margin, 0.0, "1 - gap between the two most probable classes"),
        Strategy("entropy", ("proba",), _entropy, 0.0, "entropy of the predicted distribution"),
        Strategy("source_disagreement", ("L",), _vote_entropy, 0.0,
                 "vote entropy over the sources' non-abstain votes"),
        Strategy("model_disagreement", ("proba", "label_proba"), _model_disagreement, 0.0,
                 "distance between end-model and label-model distributions"),
        Strategy("density_weighted", ("proba", "X"), _density_weighted, 0.5,
                 "entropy x kNN representativeness, batch spread by k-center"),
        Strategy("k_center", ("X",), _k_center, 1.0, "greedy farthest-first from the answered items"),
    )
})
"""Every strategy by name; the values are :class:`Strategy` records."""


def _check_inputs(strategy: Strategy, inputs: Mapping[str, Any]) -> None:
    for key in strategy.inputs:
        if inputs.get(key) is None and not (key == "X" and inputs.get("density_scores") is not None):
            raise fail(key, f"an input of strategy {strategy.name!r} (it needs {', '.join(strategy.inputs)})",
                       None)


def strategy_scores(
    strategy: str,
    *,
    answered: Any = None,
    random_state: Any = None,
    params: Mapping[str, Any] | None = None,
    **inputs: Any,
) -> np.ndarray:
    """Scores of a registered strategy on the pool.

    Parameters
    ----------
    strategy : str
        A key of :data:`STRATEGIES`.
    answered : array-like of int, optional
        Items already labelled (the centers of ``"k_center"``).
    random_state : None, int or numpy.random.Generator, default=None
        Seeds ``"random"``.
    params : mapping, optional
        Keyword parameters of the scoring function (e.g. ``{"beta": 2.0}``).
    **inputs
        ``proba``, ``label_proba``, ``L``, ``X``, ``density_scores``: the ones
        the strategy needs (see :class:`Strategy`).

    Returns
    -------
    ndarray of shape (n_items,)
        Higher = ask first.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.active import strategy_scores
    >>> proba = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4]])
    >>> strategy_scores("margin", proba=proba).round(2).tolist()
    [1.0, 0.2, 0.8]
    """
    check_choice("strategy", strategy, tuple(STRATEGIES))
    unknown = sorted(set(inputs) - set(INPUT_NAMES))
    if unknown:
        raise fail("inputs", f"names among {', '.join(INPUT_NAMES)}", got_text=", ".join(unknown))
    spec = STRATEGIES[strategy]
    _check_inputs(spec, inputs)
    n = _n_items(inputs)
    done = checked_indices("answered", answered, n, unique=False)
    scores = spec.score(dict(inputs), dict(params or {}), check_random_state(random_state), done)
    if scores.shape[0] != n:
        raise fail("inputs", f"{n} items in every input", got_text=f"{scores.shape[0]} scores")
    return scores


def select(
    strategy: str,
    n: int,
    *,
    answered: Any = None,
    available: Any = None,
    diversity: float | None = None,
    random_state: Any = None,
    params: Mapping[str, Any] | None = None,
    **inputs: Any,
) -> np.ndarray:
    """Pick ``n`` items to ask next with a registered strategy.

    Parameters
    ----------
    strategy : str
        A key of :data:`STRATEGIES`.
    n : int
        Batch size (at most the number of available items).
    answered : array-like of int, optional
        Items already labelled: never picked, and the centers that diversity
        keeps away from.
    available : array-like of bool of shape (n_items,), optional
        Items that may be picked (default: all but ``answered``).
    diversity : float in [0, 1], optional
        See :func:`~weaklab.active.select_batch`; default the strategy's own
        (:attr:`Strategy.diversity`) when ``X`` is given, else 0. An explicit
        value above 0 needs ``X``.
    random_state : None, int or numpy.random.Generator, default=None
        Seeds ``"random"`` and breaks ties.
    params : mapping, optional
        Keyword parameters of the scoring function.
    **inputs
        ``proba``, ``label_proba``, ``L``, ``X``, ``density_scores``.

    Returns
    -------
    ndarray of shape (n,), int64
        Distinct item indices, best first.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.active import select
    >>> proba = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.55, 0.45]])
    >>> sorted(select("entropy", 2, proba=proba, random_state=0).tolist())
    [0, 3]
    >>> sorted(select("entropy", 2, proba=proba, answered=[0], random_state=0).tolist())
    [2, 3]
    """
    check_choice("strategy", strategy, tuple(STRATEGIES))
    features = inputs.get("X")
    if diversity is None:  # the strategy's default, which needs features to spread a batch
        d = STRATEGIES[strategy].diversity if features is not None else 0.0
    else:
        d = check_float("diversity", diversity, low=0.0, high=1.0)
    rng = check_random_state(random_state)
    scores = strategy_scores(strategy, answered=answered, random_state=rng, params=params, **inputs)
    done = checked_indices("answered", answered, scores.shape[0], unique=False)
    mask = checked_mask("available", available, scores.shape[0]).copy()
    mask[done] = False
    return select_batch(scores, features, n, diversity=d, available=mask, centers=done, random_state=rng)
