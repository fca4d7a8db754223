"""Which of the candidates that beat the no-gold choice on the gold :class:`AutoLabelModel` keeps.

Several candidates can clear the bar (a paired accuracy gain over the choice
made without gold whose one-sided lower bound is above zero; whether choosing
by the gold helps at all is checked afterwards, out-of-fold, by
:mod:`weaklab.models._gold_nested`). The highest score on the gold is not always the safest of them: a gold
sample vouches for the items it was drawn from, and every label a candidate
changes from the no-gold choice is a bet that the class mix behind each vote
pattern is the same on the items labelled later. WRENCH TREC is the measured
case: on its 500 valid gold items HyperLabelModel scores 0.622 and weighted
majority vote fitted with the gold 0.588 (no-gold choice 0.548, or 0.568 with
HyperLabelModel breaking majority vote's ties); both clear
the bar. HyperLabelModel relabels every item whose only vote is LF 41's
(class 0) as class 1 -- right on the train and valid items (class 1 is 35 %
of them there, class 0 26-28 %), wrong on the test split, where the same
vote pattern is 48 % of the items and half of them class 0: 50.8 % test
accuracy against 65.4 % for the weighted vote, which keeps LF 41's votes.

The rule here is the one-standard-error rule of model selection with
"simplest" read as "closest to the no-gold choice": among the candidates that
cleared the bar, those that no other one beats by the same kind of bound
(paired gain on the gold, lower bound above zero at level 0.05 divided by the
number of candidates compared, :func:`pairwise_z`) are equally supported by
the gold; of them, keep the one that changes the fewest
of the no-gold choice's labels on the gold items. A candidate that is
clearly better on the gold than a more conservative one still wins.

:class:`AutoLabelModel` applies the rule on labeling-function-shaped votes
only. A labeling function's precision is a property of the texts it fires on
(a keyword's), which moves with the item population, as TREC shows; a crowd
worker's accuracy is a property of the worker. And the rule has a price when
the gold does resemble the items labelled: on 40 random WRENCH-like LF
matrices (gold: 60-400 random items, scored on fresh items of the same
configuration) it cost 0.22 points on average (worst 3.2), on 40 random
crowd-shaped ones 0.48 (worst 6.6), where the top scorer was in fact better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._auto_select import GAIN_Z, below_majority, not_clearly_above_majority, weighted_mean, weighted_se

__all__ = ["NI_MARGIN", "closest_unbeaten", "gold_decision", "non_inferior_choice", "paired_lower_bounds",
           "pairwise_z"]

NI_MARGIN = 0.01  # non-inferiority margin: the most accuracy the gold's choice may plausibly lose to the no-gold one


def pairwise_z(n_compared: int) -> float:
    """Normal quantile of the one-sided bound when ``n_compared`` candidates are compared (Bonferroni).

    The level of :func:`closest_unbeaten`'s comparisons between the
    candidates: a candidate that changes more of the no-gold choice's labels
    must beat a closer one at level ``0.05 / n_compared``.

    Examples
    --------
    >>> round(pairwise_z(1), 3), round(pairwise_z(20), 2)
    (1.645, 2.81)
    """
    from scipy.stats import norm

    return float(norm.isf(0.05 / max(int(n_compared), 1)))


def paired_lower_bounds(correct: np.ndarray, z: float, weights: np.ndarray | None = None) -> np.ndarray:
    """``out[a, b]``: one-sided lower bound of the mean paired gain of row ``a`` over row ``b``.

    Parameters
    ----------
    correct : ndarray of shape (r, n)
        Expected correctness of ``r`` candidates on the same ``n`` gold items.
    z : float
        Standard errors subtracted from the mean paired difference.
    weights : ndarray of shape (n,), optional
        Per-item weights: weighted means and their standard errors
        (:func:`~weaklab.models._auto_select.weighted_se`).

    Returns
    -------
    ndarray of shape (r, r)
        ``mean(d) - z * std(d) / sqrt(n)`` with ``d = correct[a] - correct[b]``
        (weighted: the weighted mean and its standard error);
        ``-inf`` with fewer than two items.

    Examples
    --------
    >>> import numpy as np
    >>> correct = np.array([[1.0] * 90 + [0.0] * 10, [1.0] * 50 + [0.0] * 50])
    >>> bounds = paired_lower_bounds(correct, 1.645)
    >>> bool(bounds[0, 1] > 0), bool(bounds[1, 0] > 0)
    (True, False)
    """
    correct = np.asarray(correct, dtype=np.float64)
    r, n = correct.shape
    out = np.full((r, r), -np.inf)
    if n < 2:
        return out
    for b in range(r):
        d = correct - correct[b]
        if weights is None:
            out[:, b] = d.mean(axis=1) - z * d.std(axis=1, ddof=1) / np.sqrt(n)
        else:
            out[:, b] = [weighted_mean(row, weights) - z * weighted_se(row, weights) for row in d]
    return out


def closest_unbeaten(ok: pd.DataFrame, scored: dict[str, tuple[np.ndarray, float]], z: float,
                     weights: np.ndarray | None = None) -> tuple[int, str]:
    """Position in ``ok`` of the candidate to keep, and a note for ``reason_`` ("" when it is the top row).

    Parameters
    ----------
    ok : pandas.DataFrame
        The candidates that cleared the bar, best score first, with a
        ``candidate`` column.
    scored : dict of str to (ndarray, float)
        Per candidate name: its expected correctness on every gold item and
        the share of the gold items whose label it changes from the no-gold
        choice.
    z : float
        Standard errors of the bound (the level used for the bar).
    weights : ndarray of shape (n_gold,), optional
        Per-gold-item weights of the paired comparisons.

    Returns
    -------
    (int, str)
        Among the rows no other row beats by a paired lower bound above zero,
        the one with the smallest change (ties: the better score); the note
        names the top-scoring row it was preferred to, when they differ.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> y_right = np.r_[np.ones(62), np.zeros(38)]
    >>> scored = {"bold": (y_right, 0.30), "mild": (np.r_[np.ones(59), np.zeros(41)], 0.05)}
    >>> ok = pd.DataFrame({"candidate": ["bold", "mild"], "score": [0.62, 0.59]})
    >>> closest_unbeaten(ok, scored, 2.8)[0]  # "bold" does not beat "mild" by evidence
    1
    """
    names = [str(n) for n in ok["candidate"]]
    if len(names) < 2:
        return 0, ""
    correct = np.array([scored[n][0] for n in names])
    change = np.array([scored[n][1] for n in names])
    bounds = paired_lower_bounds(correct, z, weights)
    np.fill_diagonal(bounds, -np.inf)
    unbeaten = np.flatnonzero(~np.any(bounds > 0, axis=0))
    pick = int(unbeaten[np.argmin(np.where(np.isfinite(change[unbeaten]), change[unbeaten], np.inf))])
    if pick == 0:
        return 0, ""
    d = weighted_mean(correct[0] - correct[pick], weights)
    note = (f"preferred to the top scorer {names[0]} ({ok['score'].iloc[0]:.4f}), which changes "
            f"{change[0]:.0%} of the no-gold choice's labels on the gold items against {change[pick]:.0%} and "
            f"does not beat it by evidence (paired gain {d:+.4f}, lower bound {bounds[0, pick]:+.4f}): "
            "of the candidates the gold supports equally, the one closest to the choice without gold")
    return pick, note


def gold_decision(table: pd.DataFrame, scored: dict[str, tuple[np.ndarray, float]], majority_accuracy: float,
                  z: float | None, parsimonious: bool,
                  weights: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame, int, str]:
    """The rule that picks a candidate from its scores on the gold (also re-run inside the nested check).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per candidate, best score first, with ``candidate``,
        ``status``, ``score``, ``accuracy``, ``gain`` and ``gain_lower`` (at
        ``GAIN_Z``) columns.
    scored : dict of str to (ndarray, float)
        Per candidate: expected correctness of every gold item and its change
        from the no-gold choice (see :func:`closest_unbeaten`).
    majority_accuracy : float
        Majority vote's accuracy on the same gold items (the floor).
    z : float or None
        Standard errors of the per-candidate bound on the gain over the
        no-gold choice; None: :func:`pairwise_z` of the number of candidates
        left after the floor (Bonferroni).
    parsimonious : bool
        Keep the candidate closest to the no-gold choice among those no other
        beats by evidence (:func:`closest_unbeaten`, at :func:`pairwise_z` of
        the number of candidates left after the floor) rather than the top one.
    weights : ndarray of shape (n_gold,), optional
        Per-gold-item weights of those comparisons (the table's columns are
        already weighted).

    Returns
    -------
    (scores, ok, pick, note)
        ``scores``: ``table`` with the statuses set; ``ok``: the rows whose
        bound is above 0; ``pick``: position in ``ok`` of the choice (-1 when
        ``ok`` is empty: keep the no-gold choice); ``note`` as in
        :func:`closest_unbeaten`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> table = pd.DataFrame({"candidate": ["a"], "status": ["ok"], "score": [0.9], "accuracy": [0.9],
    ...                       "gain": [0.1], "gain_lower": [0.05]})
    >>> gold_decision(table, {"a": (np.ones(10), 0.1)}, 0.8, 1.645, True)[2]
    0
    """
    floor = below_majority(table.reset_index(drop=True), majority_accuracy)
    pairwise = pairwise_z(int((floor["status"] == "ok").sum()))
    scores = not_clearly_above_majority(floor, pairwise if z is None else z)
    ok = scores[(scores["status"] == "ok") & (scores["gain_lower"] > 0)]
    if ok.empty:
        return scores, ok, -1, ""
    if not parsimonious:
        return scores, ok, 0, ""
    pick, note = closest_unbeaten(ok, scored, pairwise, weights)
    return scores, ok, pick, note


def non_inferior_choice(table: pd.DataFrame, majority_accuracy: float,
                        margin: float = NI_MARGIN) -> tuple[pd.DataFrame, int, str]:
    """The top-scoring candidate that gains on the gold and is not plausibly worse by more than ``margin``.

    The non-inferiority route of the choice with gold, taken on
    labeling-function votes when no candidate shows a gain over the no-gold
    choice by evidence (:func:`gold_decision` and the nested check keep
    it). A superiority test with a correction for some forty candidates
    keeps the default whenever the gold is small, however consistently the
    candidates that use it lead. This rule asks the question the promise of
    :class:`AutoLabelModel` is about instead: could the gold's choice be
    worse than the no-gold one by more than ``margin`` (one point,
    the tolerance of "never below the result without gold")? Of the
    candidates left after the majority-vote floor and the collapse guard,
    the top scorer is taken when its paired accuracy gain on the gold is
    positive and its one-sided lower bound, at level 0.05 divided by the
    number of candidates compared (:func:`pairwise_z`, as the superiority
    route), is above ``-margin``.

    Measured (development data only: WRENCH valid splits cross-fitted in
    halves, gold of 50 or half the split; synthetic WRENCH-shaped LF
    profiles, development seeds 0-2, gold of 50/100/300, scored on 1,500
    fresh items): mean accuracy gain over the no-gold choice +8.00 -> +8.22
    points on the synthetic profiles (worst case 0.0 -> -0.9), +0.03 ->
    +0.17 on the WRENCH halves (gains on SMS and TREC, a loss of 0.2 on
    Hausa). On crowd votes it lost on average (-0.1 to -0.2 points on the
    synthetic crowd profiles), so :class:`AutoLabelModel` does not use it
    there.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per candidate, best score first, with ``status``, ``accuracy``,
        ``gain`` and ``gain_lower`` (at ``GAIN_Z``) columns.
    majority_accuracy : float
        Majority vote's accuracy on the same gold items (the floor).
    margin : float, default=NI_MARGIN
        The largest loss of accuracy the bound may leave open.

    Returns
    -------
    (scores, pick, note)
        ``scores``: ``table`` (index reset) with ``gain_lower`` at the
        corrected level and every other "ok" row disqualified (saying
        why: no gain, a bound below ``-margin``, or a lower score);
        ``pick``: position in ``scores`` of the choice, -1 when no
        candidate qualifies (``scores`` is then ``table`` with the floor
        applied); ``note``: the rule as applied, for ``reason_``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"candidate": ["a", "b"], "status": ["ok", "ok"], "accuracy": [0.9, 0.88],
    ...                       "gain": [0.02, 0.0], "gain_lower": [0.001, -0.01]})
    >>> scores, pick, note = non_inferior_choice(table, 0.8)
    >>> pick, scores["status"].tolist()
    (0, ['ok', 'disqualified: no accuracy gain over the no-gold choice on the gold (+0.0000)'])
    """
    floor = below_majority(table.reset_index(drop=True), majority_accuracy)
    eligible = (floor["status"] == "ok").to_numpy()
    if not eligible.any():
        return floor, -1, ""
    z = pairwise_z(int(eligible.sum()))
    gain = floor["gain"].to_numpy(dtype=float)
    lower = gain - (gain - floor["gain_lower"].to_numpy(dtype=float)) * (z / GAIN_Z)
    passing = np.flatnonzero(eligible & (gain > 0) & (lower > -margin))
    if passing.size == 0:
        return floor, -1, ""
    pick = int(passing[0])
    scores = floor.copy()
    scores["gain_lower"] = lower
    name = scores["candidate"].iloc[pick]
    for i in np.flatnonzero(eligible).tolist():
        if i == pick:
            continue
        if gain[i] <= 0:
            why = f"no accuracy gain over the no-gold choice on the gold ({gain[i]:+.4f})"
        elif lower[i] <= -margin:
            why = (f"accuracy gain on the gold {gain[i]:+.4f} has a corrected one-sided lower bound "
                   f"{lower[i]:+.4f}: it may lose more than {100 * margin:g} point(s) to the no-gold choice")
        else:
            why = f"non-inferior, but a lower score than {name}"
        scores.loc[scores.index[i], "status"] = f"disqualified: {why}"
    note = (f"non-inferior: no candidate beats the no-gold choice by evidence, but the top scorer gains "
            f"{gain[pick]:+.4f} on the gold and, corrected for the {int(eligible.sum())} candidates compared "
            f"(z = {z:.2f}), its one-sided lower bound {lower[pick]:+.4f} rules out a loss of more than "
            f"{100 * margin:g} point(s) of accuracy")
    return scores, pick, note
