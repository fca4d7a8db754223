"""Simulated active learning: run an :class:`ActiveLoop` against an oracle and record the learning curve."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._core import as_label_matrix
from .._core.validation import check_bool, check_int, check_labels, fail
from ..errors import ValidationError, WeaklabError
from ..evaluation import accuracy, f1_score
from ._inputs import checked_features
from .diversity import density
from .loop import ActiveLoop

__all__ = ["OracleError", "simulate", "CURVE_COLUMNS", "METRICS"]

CURVE_COLUMNS = ("round", "n_answered", "score", "label_model_accuracy", "seconds")
METRICS = ("accuracy", "macro_f1", "f1")


class OracleError(WeaklabError, RuntimeError):
    """The oracle of :func:`simulate` raised; the answers recorded before stay in the loop.

    Attributes
    ----------
    round : int
        The round whose items were being asked.
    items : numpy.ndarray
        The pool indices the oracle was asked for (released back to the pool).

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import MajorityVote
    >>> from weaklab.active import ActiveLoop, OracleError, simulate
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.endmodel import SoftLabelClassifier
    >>> from weaklab.synthetic import make_label_matrix
    >>> data = make_label_matrix(200, 5, coverage=0.6, random_state=0)
    >>> X = data.y[:, None] + np.random.default_rng(0).normal(size=(200, 2))
    >>> def oracle(items):
    ...     raise TimeoutError("the annotator went home")
    >>> loop = ActiveLoop("entropy", budget_per_round=10, warm_start=0, random_state=0)
    >>> try:
    ...     simulate(loop, data.L, X, oracle, label_model=MajorityVote(),
    ...              end_model=SoftLabelClassifier(LogisticRegression()), rounds=2, X_test=X, y_test=data.y)
    ... except OracleError as exc:
    ...     print(exc.round, len(exc.items), type(exc.__cause__).__name__)
    1 10 TimeoutError
    """

    def __init__(self, message: str, *, round: int, items: np.ndarray) -> None:
        super().__init__(message)
        self.round = round
        self.items = items


def _metric_fn(metric: Any, n_classes: int) -> Callable[[np.ndarray, np.ndarray], float]:
    """A function ``(y_true, proba) -> float`` for a metric name or callable."""
    if callable(metric):
        return lambda y, p: float(metric(y, p))
    if metric not in METRICS:
        raise fail("metric", f"one of {', '.join(map(repr, METRICS))} or a callable (y_true, proba)", metric)
    if metric == "accuracy":
        return lambda y, p: accuracy(y, p.argmax(axis=1), n_classes=n_classes)
    average = "macro" if metric == "macro_f1" else "binary"
    return lambda y, p: f1_score(y, p.argmax(axis=1), average=average, n_classes=n_classes)


def _budgets(rounds: Any, default: int) -> list[int]:
    if isinstance(rounds, Sequence) and not isinstance(rounds, str):
        return [check_int(f"rounds[{i}]", r, low=1) for i, r in enumerate(rounds)]
    return [default] * check_int("rounds", rounds, low=0)


def _preview(items: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(int(i)) for i in items[:limit])
    return f"[{shown}{', ...' if items.size > limit else ''}] ({items.size} items)"


def _ask(oracle: Callable[[np.ndarray], Any], items: np.ndarray, round_: int, loop: ActiveLoop) -> np.ndarray:
    """The oracle's labels for ``items``; on failure release them and raise a clear error."""
    try:
        labels = np.asarray(oracle(items.copy()))
    except Exception as exc:  # any failure of user code becomes one documented error
        loop.release(items)
        raise OracleError(
            f"oracle raised {type(exc).__name__} in round {round_} on items {_preview(items)}: {exc}; "
            f"the {loop.n_answered_} answers recorded before are kept",
            round=round_, items=items,
        ) from exc
    try:
        return check_labels("oracle", labels, loop.n_classes_ or 2, length=items.size)
    except ValidationError as exc:
        loop.release(items)
        raise ValidationError(f"round {round_}, items {_preview(items)}: {exc}") from None


def simulate(
    loop: ActiveLoop,
    L: Any,
    X: Any,
    oracle: Callable[[np.ndarray], Any],
    *,
    label_model: Any,
    end_model: Any,
    rounds: int | Sequence[int],
    X_test: Any,
    y_test: Any,
    metric: Any = "accuracy",
    y_pool: Any = None,
    train_uncovered: bool = False,
) -> pd.DataFrame:
    """Run ``loop`` against an oracle: fit, score, select, ask, incorporate; return the learning curve.

    Each round (and once before the first, round 0): the label model is
    fitted on ``L`` with the answers so far as gold,
    ``fit(L, **loop.label_model_gold_params())``. With the ``"random"``
    strategy that is every answer, ``gold_sampling="random"``; with another
    strategy every answer weighted by :meth:`ActiveLoop.gold_weights` (the
    strategy's picks alone are a biased sample; weighted, all the answers
    are an unbiased one), or with ``label_model_gold="random_draws"`` (and
    for a label model whose ``fit`` takes no ``gold_weight``) the answers
    that form a random sample of the pool
    (:meth:`ActiveLoop.representative_gold`); before any random draw, every
    answer with ``gold_sampling="active"``. Its soft labels, with answered rows replaced by the
    answers and items no source voted on left out unless answered (see
    ``train_uncovered``), train the end model (``fit(X, targets,
    sample_weight=...)``, see :meth:`ActiveLoop.training_targets`, which
    with ``co_train`` first combines them with the end model's out-of-fold
    posteriors), and the
    end model is scored on the test set. Then the loop selects the next
    items, the oracle labels them and the loop records the answers.

    Parameters
    ----------
    loop : ActiveLoop
        The loop to run (it keeps the answers; it may already hold some).
    L : LabelMatrix or array-like of shape (n, m)
        Votes on the pool.
    X : array-like or sparse matrix of shape (n, d)
        Pool features for the end model and the feature-space strategies.
    oracle : callable
        ``oracle(items) -> labels``: class ids for an int array of pool indices.
    label_model : label model
        Unfitted, following weaklab's contract (``fit(L, gold=...)``,
        ``predict_proba(L)``); cloned every round (scikit-learn ``clone``).
    end_model : classifier
        ``fit(X, soft_labels, sample_weight=...)`` and ``predict_proba(X)``,
        e.g. :class:`weaklab.endmodel.SoftLabelClassifier`; cloned every round.
    rounds : int or sequence of int
        Number of rounds of ``loop.budget_per_round`` answers, or the number
        of answers of each round.
    X_test : array-like or sparse matrix of shape (n_test, d)
        Test features.
    y_test : array-like of shape (n_test,)
        Test labels.
    metric : {"accuracy", "macro_f1", "f1"} or callable, default="accuracy"
        ``"f1"`` is the F1 of class 1 (binary); a callable gets
        ``(y_test, proba_test)``.
    y_pool : array-like of shape (n,), optional
        True pool labels, only to report the label model's accuracy on the
        pool (NaN without them).
    train_uncovered : bool, default=False
        Train the end model on items no source voted on (their soft label is
        the class prior). By default they get weight 0 unless answered.

    Returns
    -------
    pandas.DataFrame
        One row per round: ``round``, ``n_answered``, ``score`` (test metric),
        ``label_model_accuracy`` (on the pool, answered items included; exact
        ties in the label model's arg-max split: a tie among t classes counts
        1/t), ``seconds`` (cumulative wall time). The loop stops early when the pool is used up.

    Raises
    ------
    OracleError
        When the oracle raises; it names the round and the items, which go
        back to the pool, and the answers recorded before are kept.
    ValidationError
        For malformed inputs or oracle answers (naming the round and items).

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import MajorityVote
    >>> from weaklab.active import ActiveLoop, simulate
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.endmodel import SoftLabelClassifier
    >>> from weaklab.synthetic import make_label_matrix
    >>> data = make_label_matrix(300, 5, coverage=0.5, accuracy=0.75, random_state=0)
    >>> X = data.y[:, None] + np.random.default_rng(0).normal(size=(300, 2))
    >>> loop = ActiveLoop("entropy", budget_per_round=20, warm_start=0, random_state=0)
    >>> curve = simulate(loop, data.L, X, lambda items: data.y[items], label_model=MajorityVote(),
    ...                  end_model=SoftLabelClassifier(LogisticRegression()), rounds=3,
    ...                  X_test=X, y_test=data.y, y_pool=data.y)
    >>> curve["n_answered"].tolist(), bool(curve["score"].between(0, 1).all())
    ([0, 20, 40, 60], True)
    """
    if not isinstance(loop, ActiveLoop):
        raise fail("loop", "an ActiveLoop", loop)
    if not callable(oracle):
        raise fail("oracle", "a callable items -> labels", oracle)
    matrix = as_label_matrix(L, loop.n_classes_)
    k, n = matrix.n_classes, matrix.n_items
    X = checked_features("X", X, n_rows=n)
    y_test = check_labels("y_test", y_test, k)
    truth = None if y_pool is None else check_labels("y_pool", y_pool, k, length=n)
    score_fn = _metric_fn(metric, k)
    budgets = _budgets(rounds, loop.budget_per_round)
    uncovered = (matrix.votes_per_item() == 0) & (not check_bool("train_uncovered", train_uncovered))
    dens = density(X) if loop.strategy == "density_weighted" else None
    loop.start(n, n_classes=k)
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    for r in range(len(budgets) + 1):
        label_proba, proba, row = _fit_round(loop, matrix, X, label_model, end_model, uncovered,
                                             X_test, y_test, score_fn, truth)
        rows.append({"round": r, **row, "seconds": time.perf_counter() - start})
        if r == len(budgets):
            break
        items = loop.select(proba=proba, label_proba=label_proba, L=matrix, X=X, density_scores=dens,
                            n=budgets[r])
        if items.size == 0:
            break
        labels = _ask(oracle, items, loop.round_, loop)
        loop.incorporate(items, labels, origin="oracle")
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))


def _fit_round(
    loop: ActiveLoop, L: Any, X: Any, label_model: Any, end_model: Any, uncovered: np.ndarray,
    X_test: Any, y_test: np.ndarray, score_fn: Callable[[np.ndarray, np.ndarray], float],
    truth: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Fit both models on the answers so far; soft labels, pool probabilities and the round's numbers."""
    lm = clone(label_model)
    if not _takes(lm, "gold_sampling"):  # a label model of another library following the older contract
        lm.fit(L, gold=loop.gold())
    else:
        params = loop.label_model_gold_params()
        if "gold_weight" in params and not _takes(lm, "gold_weight"):  # a model without per-item gold weights
            params = {"gold": loop.representative_gold(), "gold_sampling": "random"}
        lm.fit(L, **params)
    label_proba = np.asarray(lm.predict_proba(L), dtype=np.float64)
    targets, weights = loop.training_targets(label_proba, exclude=uncovered, X=X, end_model=end_model)
    em = clone(end_model).fit(X, targets, sample_weight=weights)
    proba = np.asarray(em.predict_proba(X), dtype=np.float64)
    test_proba = np.asarray(em.predict_proba(X_test), dtype=np.float64)
    lm_acc = np.nan if truth is None else _accuracy_ties_split(truth, label_proba)
    return label_proba, proba, {
        "n_answered": loop.n_answered_,
        "score": score_fn(y_test, test_proba),
        "label_model_accuracy": lm_acc,
    }


def _accuracy_ties_split(y: np.ndarray, proba: np.ndarray) -> float:
    """Accuracy of the arg-max with exact ties split (a tie among t classes counts 1/t).

    The expectation under a uniform random tie-break, as label models are
    scored elsewhere in weaklab: the plain arg-max gives every tie to the
    first class, which on votes that tie often (majority vote on sparse
    one-class rules) reads several points low (majority vote on WRENCH
    TREC's train split: 48.5 % against 52.7 %).
    """
    tied = proba >= proba.max(axis=1, keepdims=True) - 1e-9
    return float(np.mean(tied[np.arange(y.size), y] / tied.sum(axis=1)))


def _takes(model: Any, parameter: str) -> bool:
    """Whether ``model.fit`` has a parameter named ``parameter``."""
    try:
        return parameter in inspect.signature(model.fit).parameters
    except (TypeError, ValueError):
        return False
