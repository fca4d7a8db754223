"""How much a weak label counts against a human answer when the end model is trained on both.

A weak label that is right with probability ``a`` among ``k`` classes carries
``((k a - 1) / (k - 1))^2`` of the information of a right one: under
symmetric noise the signal of a label is ``2a - 1`` for two classes (in
general ``(k a - 1) / (k - 1)``), and the effective number of noisy examples
falls with its square. So weak labels of accuracy 0.5 among 5 classes count
about 1/7 of an answer each, those of accuracy 0.9 between 2 classes about
2/3. ``a`` is estimated from answers to items *drawn at random* (answers to
items a strategy chose are the hard ones, where the weak labels are worse
than elsewhere): the mean probability that the label model gave the answered
class when the item was asked, shrunk toward the label model's own mean
confidence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from .._core.validation import check_int, check_random_state, fail
from ._inputs import checked_features

__all__ = ["label_information", "weak_label_accuracy", "choose_weak_weight", "estimate_weak_weight",
           "WEAK_ACCURACY_PRIOR", "MIN_CV_ANSWERS",
           "MIN_WEAK_WEIGHT", "WEAK_WEIGHT_GRID"]

WEAK_ACCURACY_PRIOR = 10.0
"""Answers that the label model's own mean confidence is worth in :func:`weak_label_accuracy`."""
MIN_WEAK_WEIGHT = 0.05
"""Least weight of a weak label against an answer (weak labels never vanish from training)."""
WEAK_WEIGHT_GRID = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)
"""Weights of a weak label (an answer weighs 1) tried by :func:`choose_weak_weight`."""
MIN_CV_ANSWERS = 100
"""Fewest answers with a positive importance weight for ``weak_weight="cv"`` (below: ``"auto"``).

With fewer, each of the 3 held-out folds holds a few dozen answers, and with
``sampling="top"`` most of them are the strategy's picks: the hard items,
where the weak labels are worst. The cross-validation then drops the weak
labels after the first strategy round, and the end model falls below the
weak-label start (WRENCH development split -- 30 % of the train split held
out, never the test split --, density_weighted, 3 seeds, at 50 answers: SMS
spam F1 59.8 with the CV weight against 75.6 with ``"auto"`` and 69.5 with
no answer, Hausa 42.2 against 48.5 and 47.2). From about 200 answers on the
CV pays (Hausa at 500: 71.0 against 64.8)."""


def weak_label_accuracy(asked_proba: np.ndarray, answers: np.ndarray, self_confidence: float,
                        weights: np.ndarray | None = None) -> float:
    """Estimated accuracy of the weak labels from answers to items drawn at random.

    ``(sum_i w_i asked_proba[i, answers[i]] + s c) / (sum_i w_i + s)`` with
    ``s = WEAK_ACCURACY_PRIOR``, ``c`` the label model's mean confidence and
    ``w`` the answers' importance weights (1 for uniform draws).

    Parameters
    ----------
    asked_proba : ndarray of shape (n, k)
        The label model's soft labels of the answered items when they were asked.
    answers : ndarray of shape (n,)
        The answered classes.
    self_confidence : float
        The label model's mean largest probability over the pool (the prior guess).
    weights : ndarray of shape (n,), optional
        Importance weights of the answers (default 1 each), e.g.
        :meth:`ActiveLoop.answer_weights`.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> round(weak_label_accuracy(np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([1, 1]), 0.85), 3)
    0.733
    """
    w = np.ones(answers.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    hit = float(w @ asked_proba[np.arange(answers.shape[0]), answers]) if answers.size else 0.0
    return (hit + WEAK_ACCURACY_PRIOR * self_confidence) / (float(w.sum()) + WEAK_ACCURACY_PRIOR)


def label_information(accuracy: float, n_classes: int) -> float:
    """Information of a label right with probability ``accuracy`` relative to a right one.

    ``max(0, (k a - 1) / (k - 1))^2``, clipped to ``[MIN_WEAK_WEIGHT, 1]``.

    Examples
    --------
    >>> round(label_information(0.9, 2), 2), round(label_information(0.5, 5), 3)
    (0.64, 0.141)
    """
    k = float(n_classes)
    signal = max(0.0, (k * accuracy - 1.0) / (k - 1.0))  # at or below chance a label tells nothing
    return float(np.clip(signal**2, MIN_WEAK_WEIGHT, 1.0))


def choose_weak_weight(
    end_model: Any,
    X: Any,
    label_proba: np.ndarray,
    items: np.ndarray,
    answers: np.ndarray,
    importance: np.ndarray,
    *,
    exclude: np.ndarray | None = None,
    answer_weight: float = 1.0,
    prior: float = 0.1,
    grid: tuple[float, ...] = WEAK_WEIGHT_GRID,
    n_folds: int = 3,
    max_weak: int | None = 1500,
    random_state: Any = None,
) -> tuple[float, dict[float, float]]:
    """The weak-label weight whose end model best predicts held-out answers.

    The answers are dealt into ``n_folds`` folds. For every weight ``w`` in
    ``grid`` and every fold, a clone of ``end_model`` is trained on the weak
    labels (weight ``w``; the held-out answered items count as weak-labelled,
    as they would be unanswered) and the other folds' answers (weight
    ``answer_weight``), and scored by its accuracy on the held-out answers,
    each weighted by its ``importance`` (so the score estimates the accuracy
    on the whole pool even when a strategy chose the items). The choice
    follows the one-standard-error rule: among the weights whose score is
    within one standard error of the best (binomial, with the effective
    number of scored answers ``(sum w)^2 / sum w^2``), the one nearest
    ``prior`` on a log scale, so that a few answers do not overturn the
    prior on noise.

    Parameters
    ----------
    end_model : classifier
        Unfitted; ``fit(X, soft_labels, sample_weight=...)``, ``predict_proba``.
    X : array-like or sparse matrix of shape (n, d)
        Pool features.
    label_proba : ndarray of shape (n, k)
        The label model's soft labels on the pool.
    items, answers : ndarray of shape (M,)
        Answered pool indices and their answered classes.
    importance : ndarray of shape (M,)
        Non-negative importance weights of the answers
        (:meth:`ActiveLoop.answer_weights`); weight-0 answers train but are not scored.
    exclude : ndarray of bool of shape (n,), optional
        Unanswered items left out of training (e.g. no source voted).
    answer_weight : float, default=1.0
        Training weight of an answer.
    prior : float, default=0.1
        Tie-break target (e.g. the ``"auto"`` weight).
    grid : tuple of float, default=WEAK_WEIGHT_GRID
        Weights tried.
    n_folds : int, default=3
        Folds over the answers.
    max_weak : int or None, default=1500
        Weak-labelled items the cross-validation fits train on at most (a
        random subset, their weight scaled up so that the weak labels' total
        weight is unchanged); None: all. Keeps the ``len(grid) * n_folds``
        fits cheap on large pools.
    random_state : None, int or numpy.random.Generator, default=None
        Deals the folds: a random rank per pool item, its fold the rank
        modulo ``n_folds``, so that with the same seed an answer stays in its
        fold (and the weak-labelled subset stays the same) when answers are
        added.

    Returns
    -------
    weight : float
        The chosen weight.
    scores : dict of float to float
        Cross-validated importance-weighted accuracy of every weight tried.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.endmodel import SoftLabelClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200); X = y[:, None] + rng.normal(0, 0.5, (200, 1))
    >>> wrong = np.eye(2)[1 - y]  # weak labels that are always wrong
    >>> items = np.arange(40)
    >>> w, scores = choose_weak_weight(SoftLabelClassifier(LogisticRegression()), X, wrong, items, y[items],
    ...                                np.ones(40), random_state=0)
    >>> w <= 0.03, scores[1.0]  # trusting the wrong weak labels fully predicts the answers badly
    (True, 0.275)
    """
    folds_n = check_int("n_folds", n_folds, low=2)
    if items.shape[0] < folds_n:
        raise fail("answers", f"at least n_folds={folds_n} answers", got_text=f"{items.shape[0]}")
    rng = check_random_state(random_state)
    order = rng.permutation(label_proba.shape[0])  # a rank per pool item: its fold and its place in the subset
    folds = order[items] % folds_n
    rows, scale = _cv_rows(label_proba.shape[0], items, exclude, max_weak, order)
    X = checked_features("X", X, n_rows=label_proba.shape[0])
    Xs, P = X[rows], label_proba[rows]
    position = np.searchsorted(rows, items)  # answered items are always among the rows
    eye = np.eye(label_proba.shape[1])
    scores: dict[float, float] = {}
    for w in grid:
        if w <= 0 and np.unique(answers).size < 2:  # answers alone could not train a classifier
            continue
        hits = 0.0
        for f in range(folds_n):
            train, held = folds != f, folds == f
            if not held.any():  # a few answers can leave a fold empty
                continue
            targets = P.copy()
            targets[position[train]] = eye[answers[train]]
            weights = np.full(rows.size, float(w) * scale)
            weights[position[train]] = answer_weight
            pred = _fold_predictions(end_model, Xs, targets, weights, position[held])
            hits += float(importance[held] @ (pred == answers[held]))
        total = float(importance.sum())
        scores[float(w)] = hits / total if total > 0 else float("nan")
    n_eff = float(importance.sum() ** 2 / max(float(importance @ importance), 1e-300))
    return _best_weight(scores, prior, n_eff), scores


def _fold_predictions(end_model: Any, X: Any, targets: np.ndarray, weights: np.ndarray,
                      held: np.ndarray) -> np.ndarray:
    """Classes a clone of ``end_model`` trained on ``targets`` x ``weights`` predicts for rows ``held``.

    A fold whose training weight falls on one class only (e.g. weight 0 for
    the weak labels and a few answers of the majority class) predicts that
    class: a classifier cannot be fitted there, and it is what one would say.
    """
    kept = weights > 0
    classes = np.flatnonzero((targets[kept] * weights[kept, None]).sum(axis=0) > 0)
    if classes.size < 2:
        return np.full(held.size, classes[0] if classes.size else 0, dtype=np.int64)
    model = clone(end_model).fit(X, targets, sample_weight=weights / weights[kept].mean())
    return np.asarray(model.predict_proba(X[held])).argmax(axis=1)


def _cv_rows(n: int, items: np.ndarray, exclude: np.ndarray | None, max_weak: int | None,
             order: np.ndarray) -> tuple[np.ndarray, float]:
    """Sorted rows the CV fits train on (every answered item, at most ``max_weak`` others) and the weak scale.

    The weak-labelled rows kept are those of lowest ``order`` (a random rank
    per pool item), so that with the same seed the subset changes between
    rounds only by the items answered since.
    """
    weak = np.ones(n, dtype=bool) if exclude is None else ~exclude
    weak[items] = False
    pool = np.flatnonzero(weak)
    small = max_weak is None or pool.size <= max_weak
    keep = pool if small else np.sort(pool[np.argsort(order[pool], kind="stable")[:max_weak]])
    scale = pool.size / keep.size if keep.size else 1.0
    return np.union1d(keep, items), scale


def _best_weight(scores: dict[float, float], prior: float, n_eff: float) -> float:
    """Nearest ``prior`` (log scale) among the weights within one standard error of the best score."""
    finite = {w: s for w, s in scores.items() if np.isfinite(s)}
    if not finite:
        return float(prior)
    top = max(finite.values())
    se = float(np.sqrt(max(top * (1.0 - top), 0.0) / max(n_eff, 1.0)))
    near = [w for w, s in finite.items() if s >= top - se - 1e-12]
    return min(near, key=lambda w: abs(np.log(max(w, 1e-3)) - np.log(max(prior, 1e-3))))


def estimate_weak_weight(
    mode: str,
    label_proba: np.ndarray,
    items: np.ndarray,
    answers: np.ndarray,
    importance: np.ndarray,
    asked_proba: np.ndarray,
    *,
    excluded: np.ndarray,
    X: Any,
    end_model: Any,
    answer_weight: float,
    random_state: Any,
    cv_importance: np.ndarray | None = None,
    previous: float | None = None,
) -> tuple[float, dict[float, float] | None]:
    """The weak-label weight of ``ActiveLoop(weak_weight=mode)`` and, for ``"cv"``, the scores behind it.

    ``"auto"``: :func:`label_information` of the importance-weighted
    :func:`weak_label_accuracy`. ``"cv"``: :func:`choose_weak_weight` with
    the ``"auto"`` value as tie-break, its held-out answers weighted by
    ``cv_importance`` (default ``importance``), once :data:`MIN_CV_ANSWERS`
    of those weights are positive and ``X`` and ``end_model`` are given
    (``"auto"`` otherwise). ``previous``, the weight the cross-validation
    chose in the loop's last round, replaces the ``"auto"`` value as the
    tie-break: the choice moves only when the answers put the previous
    weight more than one standard error below the best one (see
    :func:`choose_weak_weight`), not when the folds are dealt anew.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.8, 0.2]])
    >>> w, scores = estimate_weak_weight("auto", p, np.array([0]), np.array([0]), np.ones(1), p[:1],
    ...                                  excluded=np.zeros(2, bool), X=None, end_model=None,
    ...                                  answer_weight=1.0, random_state=0)
    >>> round(w, 3), scores
    (0.503, None)
    """
    k = label_proba.shape[1]
    accuracy = weak_label_accuracy(asked_proba, answers, float(label_proba.max(axis=1).mean()), weights=importance)
    auto = label_information(accuracy, k)
    scoring = importance if cv_importance is None else np.asarray(cv_importance, dtype=np.float64)
    if mode == "auto" or int(np.sum(scoring > 0)) < MIN_CV_ANSWERS or X is None or end_model is None:
        return auto, None
    return choose_weak_weight(end_model, X, label_proba, items, answers, scoring, exclude=excluded,
                              answer_weight=answer_weight, prior=auto if previous is None else float(previous),
                              random_state=random_state)
