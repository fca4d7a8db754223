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
number of candidates compared, :func:`pairwise_z`; near-copies counted once,
:func:`effective_count`) are equally supported by the gold; of them, keep the one that changes the fewest
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

__all__ = ["NI_MARGIN", "closest_unbeaten", "compared", "correction_note", "effective_count", "family", "gold_decision",
           "model_key", "non_inferior_choice", "paired_lower_bounds", "pairwise_z"]

NI_MARGIN = 0.01  # non-inferiority margin: the most accuracy the gold's choice may plausibly lose to the no-gold one


def pairwise_z(n_compared: float) -> float:
    """Normal quantile of the one-sided bound when ``n_compared`` candidates are compared (Bonferroni).

    The level of :func:`closest_unbeaten`'s comparisons between the
    candidates: a candidate that changes more of the no-gold choice's labels
    must beat a closer one at level ``0.05 / n_compared``. ``n_compared``
    may be an effective number of independent comparisons
    (:func:`effective_count`), not an integer.

    Examples
    --------
    >>> round(pairwise_z(1), 3), round(pairwise_z(20), 2)
    (1.645, 2.81)
    """
    from scipy.stats import norm

    return float(norm.isf(0.05 / max(float(n_compared), 1.0)))


def effective_count(correct: np.ndarray, reference: np.ndarray | None,
                    families: list[str] | None = None) -> float:
    """How many distinct comparisons candidate rows scored on the same gold items are: Bonferroni's count.

    The correction of the choice with gold (:func:`pairwise_z`) was
    Bonferroni over every candidate row, and a row is often a copy of
    another of the same model on the gold items: a threshold tuned to 0.5,
    the model given the gold that labels the gold items as it does
    without, a fit on a uniform resample of weighted gold
    (``"+gold(uniform)"``). Each copy widened the bound without adding a
    chance of a lucky lead, and a candidate that cleared it before no
    longer did (synthetic binary LF matrices with actively chosen,
    weighted gold: Dawid-Skene 99.7 % -> weighted majority vote 92.8 % on
    the unanswered items, seed 2 of the development family).

    A row's test is its per-item gain over the no-gold choice on the gold
    items, ``d = correct - reference`` (weights, when any, are the same for
    every row). Rows of one model (one *family*: the name without its
    ``"+threshold"``, ``"+gold"`` and ``"+gold(uniform)"`` suffixes, and
    the same class and parameters, :func:`model_key`) with the same ``d``
    are one test and count once. A row that labels every gold item as the
    no-gold choice (``d == 0``) can never clear a bound above 0, but still
    counts (once per model): dropping those rows too would be valid, yet
    in the case the closest-unbeaten rule is built for (a candidate that
    relabels a vote pattern whose class mix moves between item
    populations, 400 gold items; three copies of the no-gold choice among
    six rows) it let the bold candidate beat the conservative one "by
    evidence"; the count here only merges what is the same test twice.
    Rows of different models count apart
    even when they agree on the gold items: refits of one model agree by
    construction, different models by the luck of the sample, which is
    what the correction is for (20 coin-flip tie-breakers agree on the few
    tied items of 60 gold items in a handful of patterns; counted as a
    handful, one cleared the bound by luck, the normal bound over a few
    discordant items being optimistic). Effective numbers of tests from the
    correlation of the ``d`` vectors (Nyholt 2004, Li and Ji 2005, Galwey
    2009) were tried and dropped for the same reason: with few discordant
    items the correlation matrix is rank-deficient and they undercount.
    The pairwise comparisons of :func:`closest_unbeaten` are differences of
    these gains and take the same count.

    Parameters
    ----------
    correct : ndarray of shape (r, n)
        Expected correctness of ``r`` candidate rows on the same ``n`` gold items.
    reference : ndarray of shape (n,) or None
        The no-gold choice's expected correctness on them; None: no
        reference known, every row counts (plain Bonferroni).
    families : list of str, optional
        The model each row is a variant of (:func:`family`); None: every
        row its own (only rows with the same ``d`` *and* family merge).

    Returns
    -------
    float
        The number of distinct (family, ``d``) pairs, at least 1.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    >>> a, b = np.array([1.0, 1.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 1.0, 1.0, 0.5])
    >>> effective_count(np.array([a, a, b, ref]), ref, ["DS", "DS", "DS", "MV"])
    3.0
    >>> effective_count(np.array([a, a]), ref, ["DS", "coin"])  # two models: two chances
    2.0
    """
    correct = np.atleast_2d(np.asarray(correct, dtype=np.float64))
    r = correct.shape[0]
    if reference is None or r == 0:
        return float(max(r, 1))
    d = np.round(correct - np.asarray(reference, dtype=np.float64)[None, :], 9)
    names = [str(i) for i in range(r)] if families is None else list(families)
    tests = {(names[i], d[i].tobytes()) for i in range(r)}
    return float(max(len(tests), 1))


def model_key(est: object) -> str:
    """What makes two candidates one model: class and parameters (a copy under another name is the same model).

    Examples
    --------
    >>> from weaklab.models import DawidSkene
    >>> model_key(DawidSkene(random_state=0)) == model_key(DawidSkene(random_state=0))
    True
    >>> model_key(DawidSkene(random_state=0)) == model_key(DawidSkene(random_state=1))
    False
    """
    params = est.get_params(deep=False) if hasattr(est, "get_params") else {}
    return f"{type(est).__module__}.{type(est).__qualname__}{sorted((k, repr(v)) for k, v in params.items())}"


def family(name: str) -> str:
    """The model a candidate row is a variant of: its name without the AutoLabelModel suffixes.

    Examples
    --------
    >>> family("DawidSkene+gold(uniform)+threshold"), family("MajorityVote")
    ('DawidSkene', 'MajorityVote')
    """
    for suffix in ("+threshold", "+gold(uniform)", "+gold"):
        name = name.removesuffix(suffix)
    return name


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
                  z: float | None, parsimonious: bool, weights: np.ndarray | None = None,
                  reference: np.ndarray | None = None,
                  families: dict[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, int, str]:
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
        left after the floor (Bonferroni; counted by :func:`effective_count`).
    parsimonious : bool
        Keep the candidate closest to the no-gold choice among those no other
        beats by evidence (:func:`closest_unbeaten`, at :func:`pairwise_z` of
        the number of candidates left after the floor) rather than the top one.
    weights : ndarray of shape (n_gold,), optional
        Per-gold-item weights of those comparisons (the table's columns are
        already weighted).
    reference : ndarray of shape (n_gold,), optional
        The no-gold choice's expected correctness on the gold items: the
        candidates left after the floor are counted as distinct tests
        (:func:`effective_count`); None: every row counts.
    families : dict of str to str, optional
        A candidate's :func:`family` name -> its model (see :func:`compared`).

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
    pairwise = pairwise_z(compared(floor, scored, reference, weights, families))
    scores = not_clearly_above_majority(floor, pairwise if z is None else z)
    ok = scores[(scores["status"] == "ok") & (scores["gain_lower"] > 0)]
    if ok.empty:
        return scores, ok, -1, ""
    if not parsimonious:
        return scores, ok, 0, ""
    pick, note = closest_unbeaten(ok, scored, pairwise, weights)
    return scores, ok, pick, note


def compared(floor: pd.DataFrame, scored: dict[str, tuple[np.ndarray, float]] | None,
             reference: np.ndarray | None, weights: np.ndarray | None = None,
             families: dict[str, str] | None = None) -> float:
    """How many candidates the rows of ``floor`` still "ok" count as in a correction (:func:`effective_count`).

    Without ``scored`` or ``reference``: the number of those rows (plain Bonferroni). ``families`` maps a
    candidate's :func:`family` name to its model (class and parameters): two names of one model are one family.
    """
    names = [str(n) for n in floor.loc[floor["status"] == "ok", "candidate"]]
    if scored is None or reference is None or not names:
        return float(max(len(names), 1))
    del weights  # the same for every row: not part of what makes two tests one
    models = families or {}
    return effective_count(np.array([scored[n][0] for n in names]), reference,
                           [models.get(family(n), family(n)) for n in names])


def correction_note(table: pd.DataFrame, scored: dict[str, tuple[np.ndarray, float]], majority_accuracy: float,
                    reference: np.ndarray | None, weights: np.ndarray | None = None,
                    families: dict[str, str] | None = None) -> str:
    """What :func:`gold_decision`'s corrected bound counted, for ``reason_``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> table = pd.DataFrame({"candidate": ["a", "a+threshold"], "status": ["ok", "ok"], "accuracy": [0.9, 0.9]})
    >>> right = np.r_[np.ones(9), 0.0]
    >>> correction_note(table, {"a": (right, 0.1), "a+threshold": (right, 0.1)}, 0.8, np.zeros(10))
    'corrected for the 2 candidates compared (1.0 distinct, z = 1.64)'
    """
    floor = below_majority(table.reset_index(drop=True), majority_accuracy)
    n_compared = compared(floor, scored, reference, weights, families)
    n_rows = int((floor["status"] == "ok").sum())
    return _correction_text(n_compared, n_rows)


def _correction_text(n_compared: float, n_rows: int) -> str:
    """"corrected for the 12 candidates compared (3.4 distinct, z = 2.35)" (no "distinct" when all are)."""
    z = pairwise_z(n_compared)
    if abs(n_compared - n_rows) < 1e-9:
        return f"corrected for the {n_rows} candidates compared (z = {z:.2f})"
    return f"corrected for the {n_rows} candidates compared ({n_compared:.1f} distinct, z = {z:.2f})"


def non_inferior_choice(table: pd.DataFrame, majority_accuracy: float, margin: float = NI_MARGIN,
                        scored: dict[str, tuple[np.ndarray, float]] | None = None,
                        reference: np.ndarray | None = None, weights: np.ndarray | None = None,
                        families: dict[str, str] | None = None) -> tuple[pd.DataFrame, int, str]:
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
    number of candidates compared (:func:`pairwise_z`, counted as distinct
    tests by :func:`effective_count` as the superiority route), is above
    ``-margin``.

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
    scored, reference, weights, families : optional
        Per candidate its expected correctness on the gold items, the no-gold
        choice's, and the items' weights: the candidates compared are
        counted as distinct tests (:func:`compared`); without them every
        eligible row counts.

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
    n_compared = compared(floor, scored, reference, weights, families)
    z = pairwise_z(n_compared)
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
            f"{gain[pick]:+.4f} on the gold and, {_correction_text(n_compared, int(eligible.sum()))}, its "
            f"one-sided lower bound {lower[pick]:+.4f} rules out a loss of more than {100 * margin:g} point(s) of "
            "accuracy")
    return scores, pick, note
