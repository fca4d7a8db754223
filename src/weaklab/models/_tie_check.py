"""Do the held-out tie pairs speak for the real ties? A consistency check of the no-gold tie-breaker.

On labeling-function votes the no-gold :class:`~weaklab.models.auto.AutoLabelModel`
judges candidates as tie-breakers on *tie pairs* (:mod:`._tie_pairs`): two
disagreeing votes of an item with three votes or more, refereed by its other
votes. The chosen tie-breaker is then used on majority vote's *real* ties,
mostly items with two votes. The pairs speak for the real ties only when the
sources are independent given the class; when items trip many LFs at once
("loud" items) or an LF's class-mates fire on other items, the referee
follows how the sources fire together, not the class, and the pairs can
reward a tie-breaker that is wrong on nearly every real tie.

Two tie-breakers cannot both be right on a tie they break differently, so
if ``A`` and ``B`` were as accurate on the real ties as on the pairs (majority
vote's coin flip plus their held-out gains ``g_A`` and ``g_B``), they would
break at most ``(1 - 1/2 - g_A) + (1 - 1/2 - g_B) = 1 - g_A - g_B`` of the
two-way real ties differently (``2 (1 - 1/t)`` per tie of ``t`` classes in
general). When the chosen tie-breaker and another candidate with some
evidence (gain at least one standard error above majority vote on both
judges) break more of the real ties differently than that, at least one
of them is much worse on the real ties than the pairs say, and nothing
tells which: majority vote is kept (:func:`contradicted_ties`).

Chosen on synthetic votes only (no real set's gold used): on the
development seeds (``known_propensities`` 0-299, 1000-1199, 3000-3199 and
``wrench_like`` 0-299, 1000-1199, 2000-2199, 3000-3199; 57 matrices where a
tie-breaker was chosen on labeling-function votes) it sends three back to
majority vote: seed 3001 (-7.9 points against majority vote:
HyperLabelModel, gain +0.19 on the pairs, and Dawid-Skene, +0.07, break 95
% of the 259 real ties differently), seed 0 (-1.7: six candidates each
perfect on the pairs disagree on real ties) and seed 80 (+2.2 given up).
The seeds whose candidates all agree and are all wrong on the real ties
(LFs disjoint within a class: seeds 1064 and 3106, about -2) are not caught.

**Class preference** (:func:`class_preference`). A tie-breaker can gain on
the pairs in two ways: by trusting one LF against another, or by preferring
one class of each two, whatever the LFs. The second kind of gain measures
how often each class referees, and the pairs are a biased sample of the
real ties: they come from items with three votes or more, the real ties
mostly from items with two. When the classes differ in how many votes
their items draw (LFs of every class fire more on one class's items,
keyword LFs of a topic that fire together), the referees over-represent the
loud classes, and a preference for them that the pairs reward is wrong on
the real ties, whose items are the quiet ones. ``one_lf_per_class`` seed 79
(two classes, two LFs each): six candidates preferring the same class of
every pair gained +0.27 on the pairs (z = 7.7) and were right on 40 % of
the 290 real ties (coin flip 50 %). The class-free part of a gain is its
gain on the pairs weighted so that, for each two tied classes, both referee
outcomes weigh the same (:func:`~weaklab.models._tie_pairs.class_balanced`):
a pure class preference scores exactly the coin flip there. On all eight
development matrices more than a point below majority vote
(``one_lf_per_class`` 79, 90, 133, 217, 255, 262; ``known_propensities``
1064, 3106) the chosen tie-breaker's class-free gain is under
``Z_LF_EVIDENCE`` (4) standard errors (-0.5 to 3.3). Judging every candidate
on the class-balanced pairs instead keeps majority vote on all eight (mean
gain over majority vote, points: ``one_lf_per_class`` 0-299 +0.017 ->
+0.061; ``known_propensities`` 0-299 +0.131 -> +0.089, 1000-1199 +0.193 ->
+0.100), but it gives up 9 of the 14 wins of a tie-breaker on
``one_lf_per_class`` 0-299 and ``known_propensities`` 0-299 (15.6 points
summed), it changes which candidates count as dissenters above, so
``known_propensities`` 3001 is no longer caught (-7.9), and on WRENCH
YouTube and TREC (fitted on train, scored on the valid split) it falls
from 84.2 and 57.2 % to majority vote's 80.4 and 53.3: YouTube's chosen
tie-breakers gain by a class preference that is right there, and on TREC
a candidate that gains only on the balanced pairs becomes a dissenter of
HyperLabelModel. So it is not required: when the chosen tie-breaker's
class-free gain is under the bar, ``reason_`` says so and a
:class:`UserWarning` names the risk (the labels do not change).

**Sources that vote by default** (:func:`default_voters`). In the per-label
view of a multi-label task (:class:`~weaklab.models.OneVsRestLabelModel`
fits ``AutoLabelModel(default_class=0)`` on each label), an LF that says
"absent" wherever its evidence is missing votes on every item: its absent
vote is its abstention in disguise. Every real tie of such a label is then
one source's present vote against that default, and the real ties are
mostly the lone votes of the least precise present-voting LF (it fires
alone on items outside the label), while the pairs of loud items mix its
votes with the precise LFs' (sources that fire together on the label's
items). The mixture differs by construction, so the check above
compared two tie-breakers on a mix of source pairs the pairs never
measured: on the generated multi-label example (development seeds 0-4 and
15-29, 600 items) it sent 24 of the 40 labels with such a source (``sport``,
``politics``) back to majority vote, two candidates breaking 60-78 % of
the real ties differently, and the default label model scored micro F1
0.880 against one-vs-rest Dawid-Skene's 0.895. So the check judges only
the ties that no default vote joins (ties among informative votes;
:func:`contradicted_ties`, ``judged``). Majority vote's ties are not broken
by the models of abstentions either (:mod:`._blind_ties`): such a source
never abstains, so they read its default votes as judgements (the
example's ``tech`` label, one default source and one present-voting LF:
both put the ties on absent, 0.28-0.40 of them right where the coin flip
gets 0.50). Both changes together: micro F1 0.880 -> 0.899 on those seeds
(one-vs-rest Dawid-Skene 0.895, majority vote 0.882; with 2000 items 0.870
-> 0.905, Dawid-Skene 0.899); held-back seeds 30-34, scored once after the
choice: 0.879 -> 0.902 (Dawid-Skene 0.895, majority vote 0.883). Label sets
derived from WRENCH sets have no such source (their LFs vote on a part of
the items) and do not change. With ``default_class`` None (the default, and
single-label tasks) nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .._core import LabelMatrix
from ._auto_select import tie_share
from ._base import LabelModel
from ._heldout import Fold
from ._tie_pairs import class_balanced, pair_choice
from ._trust import Z_LF_EVIDENCE, CandidateEvidence, majority_ties_broken, pooled_gain

__all__ = ["DEFAULT_COVERAGE", "MIN_DISSENT_Z", "ClassPreference", "TieDissent", "class_preference",
           "contradicted_ties", "credible_dissenters", "default_vote_items", "default_voters"]

MIN_DISSENT_Z = 1.0  # a candidate whose gain is this many standard errors above majority vote on both judges
DEFAULT_COVERAGE = 0.95  # a source voting on this share of the items, mostly its default class, votes by default


@dataclass(frozen=True)
class TieDissent:
    """A candidate that breaks the real ties differently from the choice, beyond what their gains allow.

    Attributes
    ----------
    name : str
        The dissenting candidate.
    gain : float
        Its held-out gain on the tie pairs.
    disagreement : float
        Expected share of majority vote's ties it breaks otherwise than the choice.
    bound : float
        The largest share two tie-breakers as accurate as their gains say could break differently.
    n_ties : int
        Majority vote's tied items in ``L``.
    """

    name: str
    gain: float
    disagreement: float
    bound: float
    n_ties: int

    def describe(self, chosen_gain: float) -> str:
        """One clause for ``reason_`` and the warning."""
        return (f"the chosen tie-breaker (gain {chosen_gain:+.3f} on the held-out tie pairs) and {self.name} "
                f"(gain {self.gain:+.3f}) break {self.disagreement:.0%} of the {self.n_ties} tied items "
                f"differently, more than the {self.bound:.0%} their gains allow: the real ties are not like the "
                "held-out pairs (sources that fire together beyond their class), so neither is trusted")


def credible_dissenters(evidence: Mapping[str, CandidateEvidence], candidates: Mapping[str, LabelModel],
                        baseline: str | None) -> list[str]:
    """Candidates (by name, among ``candidates``) with some evidence of beating majority vote as tie-breakers.

    Guards passed, gain above 0 on both judges and at least
    ``MIN_DISSENT_Z`` standard errors above it.
    """
    out = []
    for name, ev in evidence.items():
        if name == baseline or name not in candidates or ev.status != "ok" or not ev.tie:
            continue
        lift_z = 0.0 if ev.lift_se == 0 else ev.lift_gain / ev.lift_se
        if ev.gain > 0 and ev.lift_gain > 0 and ev.z >= MIN_DISSENT_Z and lift_z >= MIN_DISSENT_Z:
            out.append(name)
    return out


def default_voters(L: LabelMatrix, default_class: int | None) -> np.ndarray:
    """Sources that vote ``default_class`` by default (see the module docstring), shape ``(m,)`` bool.

    A source votes on at least ``DEFAULT_COVERAGE`` of the items and most of
    its votes are ``default_class``. None: no source does.

    Examples
    --------
    >>> votes = np.array([[0, 1, -1], [0, -1, -1], [1, -1, 0], [0, 1, -1]])
    >>> default_voters(LabelMatrix(votes, n_classes=2), 0).tolist(), default_voters(LabelMatrix(votes, n_classes=2),
    ...                                                                               None).tolist()
    ([True, False, False], [False, False, False])
    """
    if default_class is None or L.n_items == 0:
        return np.zeros(L.n_sources, dtype=bool)
    _, cols, labels = L.coo()
    voted = np.bincount(cols, minlength=L.n_sources)
    default = np.bincount(cols[labels == default_class], minlength=L.n_sources)
    return np.asarray((voted >= DEFAULT_COVERAGE * L.n_items) & (2 * default > voted))


def default_vote_items(L: LabelMatrix, voters: np.ndarray, default_class: int) -> np.ndarray:
    """Items on which one of ``voters`` (:func:`default_voters`) voted ``default_class``, shape ``(n,)`` bool."""
    rows, cols, labels = L.coo()
    hit = np.asarray(voters, dtype=bool)[cols] & (labels == default_class)
    return np.bincount(rows[hit], minlength=L.n_items) > 0


def contradicted_ties(P: np.ndarray, chosen_gain: float, L: LabelMatrix, mv_balance: np.ndarray,
                      counts: np.ndarray, dissenters: Mapping[str, tuple[float, Callable[[LabelMatrix], np.ndarray]]],
                      judged: np.ndarray | None = None) -> TieDissent | None:
    """The first dissenter whose tie-breaks contradict the choice's beyond their gains (see the module), or None.

    Parameters
    ----------
    P : ndarray of shape (n_items, k)
        The chosen combination's posteriors on ``L`` (majority vote with its ties broken).
    chosen_gain : float
        The choice's held-out gain on the tie pairs.
    L : LabelMatrix
    mv_balance : ndarray of shape (k,)
        Majority vote's class balance.
    counts : ndarray of shape (n_items, k)
        ``L.class_counts()``.
    dissenters : mapping of str to (float, callable)
        Per candidate, its held-out gain and a function giving its posteriors on a LabelMatrix.
    judged : ndarray of shape (n_items,) bool, optional
        The items whose ties are judged (default all): the ties no default
        vote joins (see the module docstring, *Sources that vote by default*).

    Returns
    -------
    TieDissent or None
    """
    top = counts.max(axis=1, keepdims=True)
    level = (counts == top) & (top > 0)
    is_tie = level.sum(axis=1) > 1
    rows = np.flatnonzero(is_tie if judged is None else is_tie & np.asarray(judged, dtype=bool))
    if rows.size == 0:
        return None
    tied = L.select_items(rows)
    mine = tie_share(np.asarray(P, dtype=np.float64)[rows])
    width = level[rows].sum(axis=1)
    room = float(np.mean(2.0 * (1.0 - 1.0 / width)))  # largest disagreement of two coin flips' worth of errors
    for name, (gain, predict) in dissenters.items():
        theirs = tie_share(majority_ties_broken(np.asarray(predict(tied), dtype=np.float64), tied, mv_balance,
                                                counts[rows]))
        disagreement = float(1.0 - np.mean((mine * theirs).sum(axis=1)))
        bound = room - max(chosen_gain, 0.0) - max(gain, 0.0)
        if disagreement > bound:
            return TieDissent(name, gain, disagreement, bound, int(rows.size))
    return None


@dataclass(frozen=True)
class ClassPreference:
    """A chosen tie-breaker whose held-out gain rests on preferring classes, not on trusting LFs.

    Attributes
    ----------
    gain : float
        Its gain on the tie pairs (as judged).
    class_free : float
        Its gain on the class-balanced pairs (:func:`~weaklab.models._tie_pairs.class_balanced`).
    z : float
        ``class_free`` over its standard error (0 when both are 0).
    """

    gain: float
    class_free: float
    z: float

    def describe(self) -> str:
        """One clause for ``reason_`` and the warning."""
        class_free, z = round(self.class_free, 3) + 0.0, round(self.z, 1) + 0.0  # no "-0.0"
        return (f"the chosen tie-breaker's gain on the held-out tie pairs ({self.gain:+.3f}) rests on preferring "
                f"one class of each tied pair, not on trusting particular labeling functions (with both referee "
                f"outcomes of each two classes weighed the same: {class_free:+.3f}, z = {z:.1f}, "
                f"under "
                f"{Z_LF_EVIDENCE:g}); the pairs come from items with three votes or more and over-represent the "
                "classes whose items draw many votes, so the preference may be wrong on the real ties")


def class_preference(pair_proba: Sequence[np.ndarray | None], folds: Sequence[Fold],
                     gain: float) -> ClassPreference | None:
    """A :class:`ClassPreference` when the class-free part of a tie-breaker's gain is under ``Z_LF_EVIDENCE``.

    Parameters
    ----------
    pair_proba : sequence of ndarray or None
        Per fold, the tie-breaker's posteriors of the fold's tie pairs (``fold.pairs.rows``).
    folds : sequence of Fold
        The held-out split, with its tie pairs.
    gain : float
        The tie-breaker's gain on the pairs, as judged.

    Returns
    -------
    ClassPreference or None
        None when the class-free gain clears the bar (see the module docstring, *Class preference*).
    """
    diffs, units = [], []
    for P, fold in zip(pair_proba, folds, strict=True):
        pairs = fold.pairs
        if P is None or pairs is None or pairs.item.size == 0:
            continue
        weight = class_balanced(pairs.item, pairs.weight, pairs.first, pairs.second, pairs.referee,
                                fold.held.n_classes)
        choice = pair_choice(np.asarray(P, dtype=np.float64), pairs)
        diffs.append(np.bincount(pairs.item, weights=weight * (choice - 0.5), minlength=fold.held.n_items))
        units.append(int(np.unique(pairs.item[weight > 0]).size))
    class_free, se, _ = pooled_gain(diffs, units)
    z = 0.0 if se == 0 else class_free / se
    return None if z >= Z_LF_EVIDENCE else ClassPreference(gain, class_free, z)
