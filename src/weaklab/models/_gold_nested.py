"""Whether choosing by the gold beats :class:`AutoLabelModel`'s no-gold choice: one nested, out-of-fold test.

With gold, AutoLabelModel scores some forty candidates (every model, with and
without the gold, with and without a tuned threshold) and keeps one whose
paired accuracy gain over the choice made without gold has a one-sided lower
bound above zero. The best of forty gains on a few hundred items is biased
upwards (the winner's curse), so that bound alone would let chance leads
through. It used to be corrected by Bonferroni over all candidates, which
treats forty near-copies (a threshold tuned on Dawid-Skene or on weighted
majority vote ends at much the same labels) as forty independent bets and
asks for z = 3.0: on the ``weaklab init`` spam functions over the 1,956
bundled YouTube comments with 150 random gold items, threshold variants gained
+0.08 on the gold (z = 2.1) and about +0.13 on the other items, and were
refused in 2 of 8 draws. (Rows of one model that label the gold items
alike now count once, :func:`~weaklab.models._gold_choice.effective_count`;
near-copies still count apart, so this route stays.)

So when no candidate clears that corrected bound, a single question is asked:
*does letting the gold choose help?* The rule
(:func:`~weaklab.models._gold_choice.gold_decision` with an uncorrected
per-candidate bound: majority-vote floor, collapse guard, closest-unbeaten
choice) is re-run on the gold of all folds but one, and the candidate it
picks there is scored on the held-out fold, with posteriors that never used
the held-out fold's labels -- nor, for candidates that use gold or a tuned
threshold, the labels the rule scores them on (a ``+gold`` candidate is
refitted without each pair of folds; a threshold is re-tuned without the
pair). The rule's choice on all the gold replaces the no-gold choice only
when the out-of-fold gain of those picks has a one-sided lower bound
(``GAIN_Z``) above zero. This is nested cross-validation of the selection
procedure: chance leads found inside a fold do not carry to the held-out
fold, so no correction for the number of candidates is needed, and
correlated candidates cost nothing.

It is a second route, not a replacement: a candidate that clears the
corrected bound on its own is still taken. The nested check is less
powerful when the gain sits on a few items, or when the pick changes from
fold to fold (the fold that holds most of a candidate's gain is the one
where, held out, that candidate looks weakest): on 40 random WRENCH-like LF
matrices it alone missed 5 gains of 2-7 points that the corrected bound
takes; on WRENCH SMS it alone misses a +1.6-point gain on 9 of 500 gold
items. Either route adopts a candidate no better than the no-gold choice
with probability at most 0.05, so the two together at most 0.10.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._core import LabelMatrix
from ._auto_select import (
    GAIN_Z,
    GoldScorer,
    best_threshold,
    checked_proba,
    expected_score,
    fit_candidate,
    gold_collapse,
    shift_threshold,
    tie_share,
    weighted_mean,
    weighted_se,
)
from ._base import LabelModel
from ._gold_choice import gold_decision

__all__ = ["NestedCheck", "gold_cv_nested", "inner_thresholded", "nested_check"]


def gold_cv_nested(est: LabelModel, L: LabelMatrix, gold: np.ndarray, folds: np.ndarray, cv: int,
                   balance: np.ndarray | None, seed: int, gold_weight: np.ndarray | None = None,
                   fit_gold: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold posteriors of the gold items, and the same without each pair of folds' gold.

    ``gold_weight`` (per item of ``L``, or None) goes with the gold to every fit.
    ``fit_gold`` (default ``gold``): the gold the fits may use, e.g. ``gold``
    less the items a uniform resample set aside; posteriors are still made for
    every gold item, each from a fit without its fold's gold.

    Returns
    -------
    outer : ndarray of shape (n_gold, k)
        Items of fold ``f`` from a fit given the gold of the other folds.
    inner : ndarray of shape (cv, n_gold, k)
        ``inner[f]``: items of fold ``g != f`` from a fit given the gold of
        every fold but ``f`` and ``g`` (rows of fold ``f`` are NaN).
    """
    known = np.flatnonzero(gold >= 0)
    usable = gold if fit_gold is None else fit_gold
    outer = np.full((known.size, L.n_classes), np.nan)
    inner = np.full((cv, known.size, L.n_classes), np.nan)
    present = [f for f in range(cv) if np.any(folds == f)]
    for f in present:
        outer[folds == f] = _posteriors_without(est, L, usable, known, folds == f, balance, seed, gold_weight)
    for a, f in enumerate(present):
        for g in present[a + 1:]:
            both = (folds == f) | (folds == g)
            proba = _posteriors_without(est, L, usable, known, both, balance, seed, gold_weight)
            inner[f][folds == g] = proba[folds[both] == g]
            inner[g][folds == f] = proba[folds[both] == f]
    return outer, inner


def _posteriors_without(est: LabelModel, L: LabelMatrix, gold: np.ndarray, known: np.ndarray, held: np.ndarray,
                        balance: np.ndarray | None, seed: int, gold_weight: np.ndarray | None) -> np.ndarray:
    """Posteriors of the gold items in ``held`` from ``est`` fitted with the other gold items only.

    ``known``: the positions of the gold items (``gold`` may hold fewer: the fit's own).
    """
    train_gold = gold.copy()
    train_gold[known[held]] = -1
    model = fit_candidate(est, L, train_gold, balance, seed, gold_weight=gold_weight)
    return checked_proba(model.predict_proba(L.select_items(known[held])))


def inner_thresholded(inner: np.ndarray, scorer: GoldScorer) -> np.ndarray:
    """``inner`` posteriors with a threshold tuned for each fold ``g`` without the gold of ``f`` and ``g``.

    The nested counterpart of :meth:`GoldScorer.score_with_threshold`:
    ``out[f]`` holds, for the items of every fold ``g != f``, their posteriors
    in ``inner[f]`` shifted by the threshold that is best on the items of the
    other folds (neither ``f`` nor ``g``).
    """
    folds, y = scorer.folds, scorer.y
    out = np.full(inner.shape, np.nan)
    for f in range(scorer.cv):
        for g in range(scorer.cv):
            held = folds == g
            if g == f or not held.any():
                continue
            tune = (folds != f) & ~held
            if not tune.any():
                out[f][held] = inner[f][held]
                continue
            t = best_threshold(inner[f][tune], y[tune], scorer.metric, scorer.positive, scorer.weights_of(tune))
            out[f][held] = shift_threshold(inner[f][held], t, scorer.positive)
    return out


@dataclass(frozen=True)
class NestedCheck:
    """The out-of-fold gain of the choice by the gold over the no-gold choice.

    Attributes
    ----------
    gain, lower : float
        Mean paired gain over the gold items (each scored by the pick made
        without its fold's gold) and its one-sided lower bound.
    picks : tuple of (str or None)
        The candidate picked without each fold's gold (None: the no-gold choice kept).
    """

    gain: float
    lower: float
    picks: tuple[str | None, ...]

    @property
    def passed(self) -> bool:
        """Whether the lower bound is above zero."""
        return bool(self.lower > 0)

    def describe(self) -> str:
        """The picks and the gain, for ``reason_``."""
        counts = Counter("the no-gold choice" if p is None else p for p in self.picks)
        picked = ", ".join(f"{name} in {c}" for name, c in counts.most_common())
        return (f"re-run without each of the {len(self.picks)} folds' gold, the same rule picked {picked}; "
                f"on the held-out folds those picks gain {self.gain:+.4f} over the no-gold choice "
                f"(one-sided lower bound {self.lower:+.4f})")


def nested_check(scorer: GoldScorer, majority_correct: np.ndarray, parsimonious: bool,
                 z: float = GAIN_Z) -> NestedCheck:
    """Re-run the choice without each fold's gold; the gain of its picks on the held-out folds.

    Parameters
    ----------
    scorer : GoldScorer
        Holds, per candidate, its posteriors on the gold items as scored and
        (``inner``) without each fold's gold; the anchor (no-gold choice).
    majority_correct : ndarray of shape (n_gold,)
        Majority vote's expected correctness on every gold item (the floor).
        Means and bounds are weighted by ``scorer.weights`` when set.
    parsimonious : bool
        As in :func:`~weaklab.models._gold_choice.gold_decision`.
    z : float, default=GAIN_Z
        Standard errors of the bounds (the per-candidate one inside the folds
        and the final one).

    Returns
    -------
    NestedCheck
    """
    if scorer.reference is None or scorer.anchor_share is None:
        raise ValueError("nested_check needs the no-gold choice: call scorer.set_anchor first")
    reference = scorer.reference
    out = reference.copy()
    picks: list[str | None] = []
    for f in range(scorer.cv):
        held = scorer.folds == f
        if not held.any():
            continue
        name = _pick_without(scorer, ~held, f, weighted_mean(majority_correct[~held], scorer.weights_of(~held)),
                             parsimonious, z)
        picks.append(name)
        if name is not None:
            out[held] = scorer.scored[name][0][held]
    d = out - reference
    mean = weighted_mean(d, scorer.weights)
    return NestedCheck(mean, mean - z * weighted_se(d, scorer.weights), tuple(picks))


def _pick_without(scorer: GoldScorer, train: np.ndarray, f: int, majority_accuracy: float,
                  parsimonious: bool, z: float) -> str | None:
    """The candidate :func:`gold_decision` picks on the ``train`` gold items (posteriors made without fold f's)."""
    y, anchor = scorer.y[train], scorer.anchor_share[train]  # type: ignore[index]
    ref = scorer.reference[train]  # type: ignore[index]
    w = scorer.weights_of(train)
    rows, scored = [], {}
    for name, outer in scorer.shares.items():
        inner = scorer.inner[name]
        share = outer[train] if inner is None else tie_share(inner[f][train])
        correct = share[np.arange(y.size), y]
        d = correct - ref
        gain = weighted_mean(d, w)
        rows.append((name, gold_collapse(share, y, w) or "ok",
                     expected_score(share, y, scorer.metric, scorer.positive, w),
                     weighted_mean(correct, w), gain, gain - GAIN_Z * weighted_se(d, w)))
        scored[name] = (correct, weighted_mean(0.5 * np.abs(share - anchor).sum(axis=1), w))
    table = pd.DataFrame(rows, columns=["candidate", "status", "score", "accuracy", "gain", "gain_lower"])
    table = table.sort_values("score", ascending=False, kind="stable")
    _, ok, pick, _ = gold_decision(table, scored, majority_accuracy, z, parsimonious, w, ref, scorer.families)
    return None if pick < 0 else str(ok["candidate"].iloc[pick])
