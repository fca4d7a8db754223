"""Confident learning on checked inputs (a :class:`~weaklab.cleaning._inputs.Given`).

The steps the public functions of :mod:`.confident`, :mod:`.filter` and
:mod:`.correction` and the :class:`~weaklab.cleaning.LabelCleaner` share:
per-class thresholds, the confident joint and its calibration, the noise
matrix, issue finding by method, and the best other class of every item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core.confident_joint import calibrate_joint, class_thresholds, confident_classes, raw_confident_joint
from .._core.constants import TINY
from ._inputs import Given

__all__ = ["thresholds", "confident_true", "raw_joint", "calibrate", "joint", "rows_normalised", "noise_from_joint",
           "find_issues", "best_other", "AutoChoice", "auto_choice", "noise_posterior_error", "MISFIT_RATIO"]

#: ``method="auto"`` falls back to ``predicted_neq_given`` when the model disagrees with the given labels
#: on more than this many times the items the confident joint counts as mislabelled (see :func:`auto_choice`).
MISFIT_RATIO = 2.0


def thresholds(g: Given) -> np.ndarray:
    return class_thresholds(g.proba, g.hard, g.soft)


def confident_true(g: Given) -> tuple[np.ndarray, np.ndarray]:
    """Estimated true label of each item and whether it is confident in any class."""
    return confident_classes(g.proba, g.hard, g.soft)


def raw_joint(g: Given) -> np.ndarray:
    return raw_confident_joint(g.proba, g.hard, g.soft)


def calibrate(raw: np.ndarray, given_counts: np.ndarray) -> np.ndarray:
    return calibrate_joint(raw, given_counts)


def joint(g: Given) -> np.ndarray:
    cal = calibrate(raw_joint(g), g.weights.sum(axis=0))
    return cal / max(cal.sum(), TINY)


def rows_normalised(m: np.ndarray) -> np.ndarray:
    sums = m.sum(axis=1, keepdims=True)
    return np.divide(m, sums, out=np.eye(m.shape[0]), where=sums > 0)


def noise_from_joint(joint: np.ndarray) -> np.ndarray:
    return rows_normalised(joint.T)


def find_issues(g: Given, method: str) -> np.ndarray:
    if method == "auto":
        method = auto_choice(g).method
    if method == "predicted_neq_given":
        return np.asarray(g.proba.argmax(axis=1) != g.hard)
    if method == "confident_joint":
        true, has = confident_true(g)
        return np.asarray(has & (true != g.hard))
    if method == "noise_posterior":
        return _noise_posterior(g)
    if method == "ranked_posterior":
        return _ranked_posterior(g)
    counts = _issue_counts(g)
    if method == "prune_by_class":
        mask = _prune_by_class(g, counts.sum(axis=1))
    elif method == "prune_by_noise_rate":
        mask = _prune_by_noise_rate(g, counts)
    else:
        mask = _prune_by_class(g, counts.sum(axis=1)) & _prune_by_noise_rate(g, counts)
    return mask & (g.proba.argmax(axis=1) != g.hard)


def _issue_counts(g: Given) -> np.ndarray:
    """``m[g, t]``: how many items given ``g`` to take as truly ``t`` (zero diagonal)."""
    cal = calibrate(raw_joint(g), g.weights.sum(axis=0))
    sums = cal.sum(axis=1, keepdims=True)
    rates = np.divide(cal, sums, out=np.eye(g.k), where=sums > 0)
    n_given = np.bincount(g.hard, minlength=g.k).astype(np.float64)
    counts = np.rint(rates * n_given[:, None]).astype(np.int64)
    np.fill_diagonal(counts, 0)
    return counts


def _within_group_rank(groups: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Rank (0 = smallest key) of every item among the items of its group; ties keep row order."""
    order = np.lexsort((np.arange(groups.shape[0]), keys, groups))
    sorted_groups = groups[order]
    starts = np.searchsorted(sorted_groups, sorted_groups, side="left")
    rank = np.empty(groups.shape[0], dtype=np.int64)
    rank[order] = np.arange(groups.shape[0]) - starts
    return rank


def _prune_by_class(g: Given, per_class: np.ndarray) -> np.ndarray:
    self_conf = g.proba[np.arange(g.n), g.hard]
    return np.asarray(_within_group_rank(g.hard, self_conf) < per_class[g.hard])


def _prune_by_noise_rate(g: Given, counts: np.ndarray) -> np.ndarray:
    self_conf = g.proba[np.arange(g.n), g.hard]
    mask = np.zeros(g.n, dtype=bool)
    for t in np.flatnonzero(counts.sum(axis=0)):  # one pass per true class, not per item
        margin = g.proba[:, t] - self_conf
        rank = _within_group_rank(g.hard, -margin)
        mask |= (rank < counts[g.hard, t]) & (g.hard != t)
    return mask


def noise_posterior_error(g: Given, est_joint: np.ndarray) -> np.ndarray:
    """``1 - p(true = given | x, given)`` with ``p(true = t | x, given = g) ∝ proba[i, t] * noise[t, g]``."""
    noise = noise_from_joint(est_joint)  # [true, given]
    weighted = g.proba * noise[:, g.hard].T  # p(true = t | x) * p(given | true = t)
    total = weighted.sum(axis=1)
    rows = np.arange(g.n)
    return 1.0 - np.divide(weighted[rows, g.hard], total, out=np.zeros(g.n), where=total > 0)


def _top(scores: np.ndarray, count: int) -> np.ndarray:
    mask = np.zeros(scores.shape[0], dtype=bool)
    mask[np.argsort(-scores, kind="stable")[:max(count, 0)]] = True
    return mask


def _noise_posterior(g: Given) -> np.ndarray:
    raw = raw_joint(g)
    cal = calibrate(raw, g.weights.sum(axis=0))
    wrong = noise_posterior_error(g, cal / max(cal.sum(), TINY))
    return _top(wrong, int(np.rint(raw.sum() - np.trace(raw))))


def _ranked_posterior(g: Given) -> np.ndarray:
    est = joint(g)
    wrong = noise_posterior_error(g, est)
    count = int(np.rint(g.n * (1.0 - np.trace(est))))
    return _top(wrong, count) & (g.proba.argmax(axis=1) != g.hard)


@dataclass(frozen=True)
class AutoChoice:
    """What ``method="auto"`` picked and the two rates it compared."""

    method: str
    reason: str
    noise_rate: float  # 1 - trace of the estimated joint p(given, true)
    disagreement_rate: float  # share of items whose most probable class is not the given one


def auto_choice(g: Given) -> AutoChoice:
    """Pick the detection method from the estimated noise structure.

    The confident joint models *class-conditional* noise: a wrong label
    depends on the true class only, so a model trained on the noisy labels
    still ranks the true class first where it is confident, and the items it
    disagrees with are about as many as the estimated noise. When the model
    disagrees with the given labels on more than :data:`MISFIT_RATIO` times
    that many items, the errors are tied to the features (systematic, e.g.
    rules that misfire on a kind of text) and the confident joint misses
    them; every disagreement is then flagged (``predicted_neq_given``).
    Otherwise ``ranked_posterior``: the estimated number of issues, taken by
    their posterior error probability under the estimated noise matrix.
    """
    est = joint(g)
    noise_rate = float(max(1.0 - np.trace(est), 0.0))
    disagree = float(np.mean(g.proba.argmax(axis=1) != g.hard))
    if disagree > MISFIT_RATIO * noise_rate and disagree * g.n >= 1.0:
        reason = (f"the model disagrees with {disagree:.1%} of the given labels, more than {MISFIT_RATIO:g} x the "
                  f"{noise_rate:.1%} the confident joint counts: noise not class-conditional, flag every "
                  "disagreement")
        return AutoChoice("predicted_neq_given", reason, noise_rate, disagree)
    reason = (f"class-conditional noise fits (estimated noise {noise_rate:.1%}, disagreement {disagree:.1%}): "
              "the estimated number of issues, ranked by posterior error probability under the noise matrix")
    return AutoChoice("ranked_posterior", reason, noise_rate, disagree)


def best_other(g: Given) -> tuple[np.ndarray, np.ndarray]:
    """Most probable class other than the given one, and its probability."""
    others = g.proba.copy()
    others[np.arange(g.n), g.hard] = -1.0
    best = others.argmax(axis=1)
    return best, g.proba[np.arange(g.n), best]
