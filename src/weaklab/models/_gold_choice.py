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

from ._auto_select import below_majority, not_clearly_above_majority, weighted_mean, weighted_se

__all__ = ["closest_unbeaten", "gold_decision", "paired_lower_bounds", "pairwise_z"]


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
