"""Helpers of :class:`~weaklab.models.auto.AutoLabelModel`: order-free splits, metrics, criteria.

Splits and folds are functions of each item's votes (and gold label), salted,
never of row or column positions; scores treat tied hard labels as the
expectation under a uniform random tie-break.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._core import LabelMatrix
from ._base import LabelModel

__all__ = [
    "row_hashes",
    "tie_share",
    "vote_keys",
    "spread",
    "mix",
    "expected_score",
    "resolve_metric",
    "fit_candidate",
    "checked_proba",
    "GoldScorer",
    "shift_threshold",
    "best_threshold",
    "below_majority",
    "not_clearly_above_majority",
    "GAIN_Z",
    "majority_proba",
    "weighted_mean",
    "weighted_se",
    "uneven",
    "uniform_resample",
]

_U64 = np.uint64
logger = logging.getLogger("weaklab.models.auto")
_MAX_THRESHOLDS = 256  # candidate decision thresholds tried on the gold items
GAIN_Z = 1.645  # one-sided 95 % normal bound on the paired gain over the no-gold choice on the gold items
#: A class holding at least this share of the gold items (and MIN_CLASS_GOLD of them) must keep at least
#: COLLAPSE_RATIO of that share among a candidate's predictions on the gold items.
COLLAPSE_SHARE, COLLAPSE_RATIO, MIN_CLASS_GOLD = 0.05, 0.25, 5


# --------------------------------------------------------------------------------- order-free hashing


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def vote_keys(L: LabelMatrix, salt: int) -> np.ndarray:
    """``keys[j, v + 1]``: a random-looking uint64 per (source name, vote); abstain -> 0."""
    base = np.array([int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")
                     for name in L.source_names], dtype=_U64)
    with np.errstate(over="ignore"):
        steps = np.arange(1, L.n_classes + 1, dtype=_U64)[None, :] * _U64(0x632BE5AB)
        grid = base[:, None] + _U64(salt) + steps
    keys = np.zeros((L.n_sources, L.n_classes + 1), dtype=_U64)
    keys[:, 1:] = mix(grid)
    return keys


def row_hashes(L: LabelMatrix, salt: int = 0) -> np.ndarray:
    """A uint64 hash of each item's votes that ignores the order of items and sources."""
    keys = vote_keys(L, salt)
    if L.is_sparse:
        csr = L.csr
        per_vote = keys[csr.indices, csr.data.astype(np.int64)]
        sums = np.zeros(L.n_items, dtype=_U64)
        counts = np.diff(csr.indptr)
        nonempty = counts > 0
        if per_vote.size:
            sums[nonempty] = np.add.reduceat(per_vote, csr.indptr[:-1][nonempty])
    else:
        dense = L.to_dense()
        sums = np.zeros(L.n_items, dtype=_U64)
        with np.errstate(over="ignore"):
            for j in range(L.n_sources):
                sums += keys[j, dense[:, j].astype(np.int64) + 1]
    return mix(sums)


def spread(keys: np.ndarray, n_groups: int) -> np.ndarray:
    """Assign items to ``n_groups`` groups so that items with equal keys are dealt round-robin.

    Items with equal keys are interchangeable, so the multiset of keys in each
    group does not depend on the order of the items.
    """
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(keys.size), 0))
    rank = np.arange(keys.size) - run_start
    group = np.empty(keys.size, dtype=np.int64)
    group[order] = (rank + (sorted_keys % _U64(n_groups)).astype(np.int64)) % n_groups
    return group


# ------------------------------------------------------------------------------------------- metrics


def uneven(weights: np.ndarray | None) -> bool:
    """Whether per-item weights differ (equal weights are no weights: the plain formulas apply)."""
    return weights is not None and weights.size > 0 and float(np.ptp(weights)) > 1e-12 * float(weights.max())


def uniform_resample(weights: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which weighted items to keep so that the kept ones are a uniform random sample (rejection sampling).

    Item ``i`` is kept with probability ``w_i / max(w)``: weighted by
    inverse inclusion probabilities, the items are a sample of the whole;
    thinned so, every item of the whole had the same chance to be kept.
    The draw is a function of each item's key (its votes and gold label,
    salted) and weight, never of its position: items with equal key and
    weight are interchangeable, and of a run of ``c`` of them about
    ``c w / max(w)`` are kept (stratified: ``(rank + v) / c < w / max(w)``
    with one uniform ``v`` for the run).

    Parameters
    ----------
    weights : ndarray of shape (n,)
        Non-negative weights, at least one positive.
    keys : ndarray of shape (n,), uint64
        Order-free item keys (e.g. :func:`row_hashes` mixed with the gold label).

    Returns
    -------
    ndarray of shape (n,), bool
        All True when the weights are equal; never keeps a weight-0 item.

    Examples
    --------
    >>> import numpy as np
    >>> keep = uniform_resample(np.r_[np.full(50, 40.0), np.full(200, 0.5)], mix(np.arange(250, dtype=np.uint64)))
    >>> int(keep[:50].sum()), int(keep[50:].sum()) <= 10
    (50, True)
    """
    w = np.asarray(weights, dtype=np.float64)
    if not uneven(w):
        return w > 0
    bits = w.view(_U64)
    with np.errstate(over="ignore"):
        group = mix(np.asarray(keys, dtype=_U64) ^ mix(bits))
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    starts = np.r_[True, sorted_group[1:] != sorted_group[:-1]]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(w.size), 0))
    run_id = np.cumsum(starts) - 1
    run_size = np.bincount(run_id)[run_id]
    v = (sorted_group >> _U64(11)).astype(np.float64) / float(2**53)
    u = np.empty(w.size)
    u[order] = (np.arange(w.size) - run_start + v) / run_size
    return u < w / w.max()


def weighted_mean(x: np.ndarray, weights: np.ndarray | None) -> float:
    """Mean of ``x``, weighted by ``weights`` (plain mean when None)."""
    x = np.asarray(x, dtype=np.float64)
    if weights is None:
        return float(x.mean())
    return float(np.dot(weights, x) / weights.sum())


def weighted_se(d: np.ndarray, weights: np.ndarray | None) -> float:
    """Standard error of :func:`weighted_mean` of ``d`` (``inf`` with fewer than two items).

    Plain: ``std(d, ddof=1) / sqrt(n)``. Weighted (a Horvitz-Thompson ratio
    estimate of a pool mean, ``p = weights / sum(weights)``): the
    linearisation (sandwich) variance ``n / (n - 1) * sum(p^2 (d - mean)^2)``
    over the ``n`` items of positive weight, which equals the plain one for
    equal weights and behaves like a plain standard error over the effective
    sample size ``1 / sum(p^2)`` (Kish) when the weights vary. It treats
    every item as drawn, so for items observed with certainty (an
    active-learning strategy's picks) it is conservative.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([1.0, 0.0, 1.0, 1.0])
    >>> bool(np.isclose(weighted_se(d, None), weighted_se(d, np.full(4, 3.0))))
    True
    """
    d = np.asarray(d, dtype=np.float64)
    if d.size < 2:
        return float("inf")
    if weights is None:
        return float(d.std(ddof=1)) / np.sqrt(d.size)
    p = weights / weights.sum()
    n = int(np.count_nonzero(p))
    if n < 2:
        return float("inf")
    m = float(np.dot(p, d))
    return float(np.sqrt(n / (n - 1) * np.sum(p * p * (d - m) ** 2)))


def tie_share(proba: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Each class's share of a uniform random tie-break of the arg-max, shape ``(n, k)`` (rows sum to 1)."""
    tied = (proba >= proba.max(axis=1, keepdims=True) - tol).astype(np.float64)
    return np.asarray(tied / tied.sum(axis=1, keepdims=True))


def gold_collapse(proba: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> str | None:
    """Why posteriors on the gold items drop a class the gold holds (the reason), or None.

    On imbalanced data a model that never predicts the rare class can win on
    accuracy (it is right on the common class); such labels cannot train a
    model of the rare class. A class holding at least ``COLLAPSE_SHARE`` of
    the gold items (and ``MIN_CLASS_GOLD`` items) collapses when the
    candidate predicts it (ties split) on less than ``COLLAPSE_RATIO`` of that
    share. With ``weights`` (per gold item) both shares are weighted; the
    ``MIN_CLASS_GOLD`` count is not.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0] * 18 + [1] * 6)
    >>> print(gold_collapse(np.tile([0.9, 0.1], (24, 1)), y))
    disqualified: drops class 1 (predicted on 0% of the gold items, which hold 25%)
    >>> gold_collapse(np.eye(2)[y], y) is None
    True
    """
    k = proba.shape[1]
    counts = np.bincount(y, minlength=k)
    if weights is None:
        gold_share = counts / max(y.size, 1)
        predicted = tie_share(np.asarray(proba, dtype=np.float64)).mean(axis=0)
    else:
        gold_share = np.bincount(y, weights=weights, minlength=k) / weights.sum()
        predicted = weights @ tie_share(np.asarray(proba, dtype=np.float64)) / weights.sum()
    held = (gold_share >= COLLAPSE_SHARE) & (counts >= MIN_CLASS_GOLD)
    dropped = np.flatnonzero(held & (predicted < COLLAPSE_RATIO * gold_share))
    if dropped.size == 0:
        return None
    c = int(dropped[np.argmax(gold_share[dropped])])
    return (f"disqualified: drops class {c} (predicted on {predicted[c]:.0%} of the gold items, "
            f"which hold {gold_share[c]:.0%})")


def expected_score(proba: np.ndarray, y: np.ndarray, metric: str, positive: int = 1,
                   weights: np.ndarray | None = None) -> float:
    """Metric of hard labels whose ties are broken uniformly at random, in expectation.

    Ties count fractionally (an item tied between two classes is half right),
    which is the expected accuracy under ``predict(tie_break="random")`` and a
    deterministic, lower-variance score. F1 uses the expected counts.

    Parameters
    ----------
    proba : ndarray of shape (n, k)
    y : ndarray of shape (n,)
        True classes.
    metric : {"accuracy", "f1_minority", "macro_f1"}
        ``"f1_minority"`` is the F1 of class ``positive``.
    positive : int, default=1
    weights : ndarray of shape (n,), optional
        Per-item weights (e.g. inverse inclusion probabilities): the
        weighted accuracy, or F1 from weighted counts.
    """
    share = tie_share(np.asarray(proba, dtype=np.float64))
    if metric == "accuracy":
        return weighted_mean(share[np.arange(y.size), y], weights)
    scale = np.ones(y.size)
    if weights is not None:
        scale = weights * (y.size / weights.sum())  # weighted counts, on the items' scale
        share = share * scale[:, None]
    classes = [positive] if metric == "f1_minority" else range(share.shape[1])
    f1s = []
    for c in classes:
        tp = float(share[y == c, c].sum())
        predicted = float(share[:, c].sum())
        actual = float(np.sum(y == c)) if weights is None else float(scale[y == c].sum())
        f1s.append(2 * tp / (predicted + actual) if predicted + actual > 0 else 0.0)
    return float(np.mean(f1s))


def resolve_metric(metric: str, gold: np.ndarray, n_classes: int,
                   weights: np.ndarray | None = None) -> tuple[str, int]:
    """The concrete metric (and positive class: the gold minority) that ``metric`` stands for on ``gold``.

    ``"auto"`` is accuracy, whatever the class balance. (It used to be the
    minority class's F1 on imbalanced binary gold, but that F1 is maximised by
    labelling nearly every item minority whenever the sources carry little
    signal for it: labelling all items minority scores ``2p / (1 + p)`` at a
    minority share ``p``, which a weak but honest model rarely beats. With a
    tuned threshold every candidate can reach that labelling, e.g. WRENCH SMS
    with its valid gold: 0.238 F1 on the gold, 20 % test accuracy.)
    """
    counts = np.bincount(gold, weights=weights, minlength=n_classes)
    minority = int(np.argmin(counts))
    return ("accuracy" if metric == "auto" else metric), minority


def shift_threshold(proba: np.ndarray, threshold: float, positive: int) -> np.ndarray:
    """Binary posteriors reweighted so that ``P(positive) >= threshold`` becomes ``>= 0.5``.

    ``p' = p (1 - t) / (p (1 - t) + (1 - p) t)``: a change of the class prior,
    so the output is still a distribution and an item at exactly ``t`` is tied.
    """
    t = float(np.clip(threshold, 1e-9, 1 - 1e-9))
    weights = np.full(2, t)
    weights[positive] = 1.0 - t
    out = proba * weights[None, :]
    return np.asarray(out / out.sum(axis=1, keepdims=True))


def best_threshold(proba: np.ndarray, y: np.ndarray, metric: str, positive: int,
                   weights: np.ndarray | None = None) -> float:
    """The decision threshold on ``P(positive)`` that maximises ``metric`` (weighted; ties: nearest 0.5)."""
    p = np.unique(proba[:, positive])
    grid = np.unique(np.r_[p, (p[1:] + p[:-1]) / 2, 0.5])
    if grid.size > _MAX_THRESHOLDS:
        grid = np.unique(np.r_[np.quantile(grid, np.linspace(0, 1, _MAX_THRESHOLDS)), 0.5])
    scores = np.array([expected_score(shift_threshold(proba, t, positive), y, metric, positive, weights)
                       for t in grid])
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    return float(grid[best[np.argmin(np.abs(grid[best] - 0.5))]])


class GoldScorer:
    """Scores posteriors of the gold items: pooled metric, spread across folds, tuned thresholds.

    ``weights`` (one per gold item, or None for equal weights) make every
    mean over the gold items a weighted one: with inverse inclusion
    probabilities the scores estimate those on the whole pool however the
    gold items were chosen (see ``gold_weight`` of
    :meth:`~weaklab.models.AutoLabelModel.fit`).
    """

    def __init__(self, y: np.ndarray, folds: np.ndarray, cv: int, metric: str, positive: int,
                 reference: np.ndarray | None = None, weights: np.ndarray | None = None) -> None:
        self.y, self.folds, self.cv, self.metric, self.positive = y, folds, cv, metric, positive
        self.weights = weights
        self.reference = reference
        self.anchor_share: np.ndarray | None = None
        #: name -> (expected correctness of every gold item, share of gold labels changed from the anchor)
        self.scored: dict[str, tuple[np.ndarray, float]] = {}
        #: name -> tie shares ``(n_gold, k)`` of its posteriors as scored
        self.shares: dict[str, np.ndarray] = {}
        #: name -> ``(cv, n_gold, k)`` posteriors made without fold ``f``'s gold labels (row ``f``; the
        #: items of fold ``f`` itself unused), or None when the posteriors use no gold label at all
        self.inner: dict[str, np.ndarray | None] = {}
        #: candidate name (without the "+gold"/"+threshold" suffixes) -> its model's class and parameters: rows of
        #: one model that label the gold items alike count once in a correction
        #: (:func:`~weaklab.models._gold_choice.effective_count`)
        self.families: dict[str, str] = {}

    def set_anchor(self, proba: np.ndarray) -> None:
        """The posteriors of the choice made without gold on the gold items: gains and changes are against them."""
        self.anchor_share = tie_share(np.asarray(proba, dtype=np.float64))
        self.reference = self.correct(proba)

    def correct(self, proba: np.ndarray) -> np.ndarray:
        """Expected correctness of every gold item (ties split), shape ``(n_gold,)``."""
        return tie_share(np.asarray(proba, dtype=np.float64))[np.arange(self.y.size), self.y]

    def change(self, proba: np.ndarray) -> float:
        """Share of the gold items whose hard label (ties split) differs from the anchor's; NaN without one.

        Per item, the total-variation distance between the two tie-break
        distributions of the arg-max: 0 where both give the same class, 1
        where they give different single classes.
        """
        if self.anchor_share is None:
            return float("nan")
        share = tie_share(np.asarray(proba, dtype=np.float64))
        return weighted_mean(0.5 * np.abs(share - self.anchor_share).sum(axis=1), self.weights)

    def remember(self, name: str, proba: np.ndarray, inner: np.ndarray | None = None) -> float:
        """Keep the per-item correctness of ``name``'s posteriors (for paired comparisons); its change.

        ``inner`` (``(cv, n_gold, k)``, see ``inner``) is kept for the nested
        check of the choice (:func:`weaklab.models._gold_nested.nested_check`).
        """
        change = self.change(proba)
        self.scored[name] = (self.correct(proba), change)
        self.shares[name] = tie_share(np.asarray(proba, dtype=np.float64))
        self.inner[name] = inner
        return change

    def gain(self, proba: np.ndarray) -> tuple[float, float]:
        """Paired accuracy gain over the reference posteriors (majority vote) and its one-sided lower bound.

        The gain is the mean over gold items of ``correct(proba) -
        correct(reference)``; the bound subtracts ``GAIN_Z`` standard errors
        of that mean (item-level paired differences). Both are NaN without a
        reference.
        """
        if self.reference is None:
            return float("nan"), float("nan")
        d = self.correct(proba) - self.reference
        mean = weighted_mean(d, self.weights)
        return mean, mean - GAIN_Z * weighted_se(d, self.weights)

    def score(self, proba: np.ndarray) -> tuple[float, float]:
        """Metric on all gold items and its standard deviation across the folds."""
        per_fold = [self._metric(proba, self.folds == f) for f in range(self.cv) if np.any(self.folds == f)]
        return self._metric(proba, np.ones(self.y.size, dtype=bool)), float(np.std(per_fold))

    def weights_of(self, rows: np.ndarray) -> np.ndarray | None:
        """The weights of the gold items selected by ``rows`` (None when unweighted)."""
        return None if self.weights is None else self.weights[rows]

    def _metric(self, proba: np.ndarray, rows: np.ndarray) -> float:
        return expected_score(proba[rows], self.y[rows], self.metric, self.positive, self.weights_of(rows))

    def accuracy(self, proba: np.ndarray) -> float:
        """Expected accuracy (ties split, weighted) of the posteriors on all gold items."""
        return expected_score(proba, self.y, "accuracy", weights=self.weights)

    def score_with_threshold(self, proba: np.ndarray) -> tuple[float, float, float, float, np.ndarray]:
        """Score with a threshold tuned on the other folds, the threshold tuned on all of them, the
        accuracy of the out-of-fold thresholded posteriors, and those posteriors."""
        adjusted = np.empty_like(proba)
        for f in range(self.cv):
            held = self.folds == f
            if not held.any() or held.all():
                adjusted[held] = proba[held]
                continue
            t = best_threshold(proba[~held], self.y[~held], self.metric, self.positive, self.weights_of(~held))
            adjusted[held] = shift_threshold(proba[held], t, self.positive)
        score, std = self.score(adjusted)
        threshold = best_threshold(proba, self.y, self.metric, self.positive, self.weights)
        return score, std, threshold, self.accuracy(adjusted), adjusted


def below_majority(table: pd.DataFrame, majority_accuracy: float) -> pd.DataFrame:
    """``table`` with every "ok" row less accurate on the gold than majority vote disqualified.

    The floor of the choice with gold: whatever the metric, a candidate (its
    posteriors as scored: out-of-fold for ``+gold`` and ``+threshold`` rows)
    that labels the gold items less accurately than plain majority vote on the
    same items is not chosen.
    """
    out = table.copy()
    low = (out["status"] == "ok") & (out["accuracy"] < majority_accuracy - 1e-12)
    out.loc[low, "status"] = [f"disqualified: accuracy {a:.4f} on the gold is below majority vote's "
                              f"{majority_accuracy:.4f}" for a in out.loc[low, "accuracy"]]
    return out


def not_clearly_above_majority(table: pd.DataFrame, z: float = GAIN_Z) -> pd.DataFrame:
    """``table`` with every "ok" row whose gain over the reference is within noise disqualified.

    The reference (majority vote, or AutoLabelModel's choice without gold) is
    the default with gold as without it: a candidate replaces it only when its
    paired accuracy gain over the reference on the gold items (posteriors as
    scored: out-of-fold for ``+gold`` and ``+threshold`` rows) has a one-sided
    lower bound above zero; ``gain_lower`` is recomputed at ``z`` standard
    errors (``GAIN_Z`` in :meth:`GoldScorer.gain`). A row that labels
    every gold item exactly as the reference does (gain 0, bound 0) stays: it
    *is* the default. The bound is per candidate; with many candidates the
    best of them on the gold is biased upwards (the winner's curse), which
    :func:`weaklab.models._gold_nested.nested_check` accounts for by
    re-running the whole choice inside cross-validation folds. When no
    row would be left, ``table`` is returned with the bounds recomputed and
    the statuses unchanged.
    """
    out = table.copy()
    gain = out["gain"].to_numpy(dtype=float)
    lower = gain - (gain - out["gain_lower"].to_numpy(dtype=float)) * (z / GAIN_Z)
    out["gain_lower"] = lower
    same = (np.abs(gain) < 1e-12) & (np.abs(lower) < 1e-12)
    weak = (out["status"] == "ok").to_numpy() & ~same & ~(lower > 0)
    if not np.any((out["status"] == "ok").to_numpy() & ~weak):
        return out
    out.loc[weak, "status"] = [
        f"disqualified: accuracy gain over the reference on the gold {g:+.4f} has a one-sided "
        f"lower bound {lo:+.4f} <= 0 (within noise)" for g, lo in zip(gain[weak], lower[weak])]
    return out


# ---------------------------------------------------------------------------------- scoring helpers


def _seeded(est: LabelModel, seed: int) -> LabelModel:
    model = clone(est)
    if "random_state" in model.get_params(deep=False) and model.get_params()["random_state"] is None:
        model.set_params(random_state=seed)
    return model


def fit_candidate(est: LabelModel, L: LabelMatrix, gold: np.ndarray | None, balance: np.ndarray | None,
                  seed: int, *, quiet: bool = True, gold_weight: np.ndarray | None = None) -> LabelModel:
    """A fitted clone of ``est``; warnings (e.g. non-convergence) of trial fits are logged, not raised.

    ``gold_weight`` (per item, as ``fit``'s) is passed only with gold.
    """
    extra: dict[str, Any] = {} if gold is None or gold_weight is None else {"gold_weight": gold_weight}
    if not quiet:
        return _seeded(est, seed).fit(L, gold=gold, class_balance=balance, **extra)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = _seeded(est, seed).fit(L, gold=gold, class_balance=balance, **extra)
    for w in caught:
        logger.debug("AutoLabelModel: %s while scoring %s: %s",
                     w.category.__name__, type(est).__name__, w.message)
    return model


def majority_proba(L: LabelMatrix, L_eval: LabelMatrix) -> np.ndarray:
    """Majority vote fitted on ``L``, posteriors of ``L_eval``: the default the choice with gold must beat."""
    from .majority import MajorityVote

    return np.asarray(MajorityVote().fit(L).predict_proba(L_eval), dtype=np.float64)


def checked_proba(P: np.ndarray) -> np.ndarray:
    P = np.asarray(P, dtype=np.float64)
    if not np.all(np.isfinite(P)):
        raise FloatingPointError("predict_proba returned NaN or infinite values")
    return P
