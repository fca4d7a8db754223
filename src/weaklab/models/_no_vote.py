"""The class of the items no source voted on (no-gold AutoLabelModel on labeling-function votes).

Majority vote gives an item without votes its class balance, the share of
all votes per class. With one-class labeling functions that share follows
how many LFs target each class and how often they fire, not how often the
class goes unvoted: the classes whose LFs fire most are the ones an unvoted
item is *least* likely to be, since every LF that would have fired on it
did not. A model of abstentions (``P(source j abstains | y)`` per class)
sees this; two such models are fitted on the votes:

* Dawid-Skene with each class's one-class LFs tied and one abstain rate for
  the classes an LF never votes (``source_groups="polarity",
  abstain="target"``), and
* the default Dawid-Skene (which models abstentions on LF votes).

Each one's share of unvoted items per class is its *residual*: its class
balance minus the mass it gives the voted items, ``P(y = c, no vote) =
P(y = c) - P(y = c, some vote)``, normalised (for an EM model it is its
posterior of an all-abstain item, up to smoothing). The unvoted items get
the mean of the two residuals when

1. neither model's residual puts majority vote's class first; the class
   is the one both put first or, when they put different classes first,
   the first class of their mean;
2. in each of them that class is at least ``NO_VOTE_ODDS`` (1.4) times as
   likely as majority vote's class (the evidence floor; a move at odds
   under ``CLOSE_ODDS``, 2, of over ``RISKY_DEPARTURE`` of the items comes
   with a :class:`UserWarning`), or ``CLOSE_ODDS`` times when the models
   put different classes first (see *Disagreeing models* below);
3. the tied model's class balance is within ``COLLAPSE`` (20 points) of
   majority vote's on every class (EM stuck in a bad optimum shows there),
   or else the pretrained HyperLabelModel (no EM) backs the move: it gives
   an unvoted item the new class at least ``NO_VOTE_ODDS`` times majority
   vote's (see *Far balances* below);
4. each model gives at least ``MIN_AGREEMENT`` (85 %) of the voted items
   with one most-voted class that class (:func:`majority_agreement`): the
   voted items keep majority vote's labels, so a model that reads the
   votes otherwise (LFs less precise than their class's share, loud items
   that trip the LFs of every class) is not trusted on the unvoted ones;
5. the votes of the new class or of majority vote's pile up on enough
   items to check the models' reading of how often their LFs miss
   (:func:`cofiring_ratio` is defined for one of them), and under neither
   model do they pile up more than ``MAX_PILE_UP`` (1.25) times as often as
   it expects (sources dependent given the class); and
6. the pretrained HyperLabelModel, built without EM, does not give an
   unvoted item majority vote's class a higher posterior than that class
   (a veto: when it sides with majority vote the EM models are often
   reading structure of their own).

Otherwise majority vote's class balance is kept (the rule backs off), and
``reason_`` says what the models said; a :class:`UserWarning` names the
risk when many items (over ``RISKY_DEPARTURE``, 10 %) have no vote and
both models favour another class than majority vote's without the evidence
to act on it.

**Identifiability.** Without gold, how often a class's LFs miss its items
is estimated from how often they fire *together* (conditional independence).
LFs written to cover different items of a class (disjoint keywords) fire
together less than independence says, so the models underestimate their
coverage and the share of that class among unvoted items is overestimated:
the evidence looks weak and the rule keeps majority vote. LFs that fire
together more than independence says (items that trip many LFs at once) err
the other way; there the floor and the balance guard are what keep the rule
from moving, and gold settles it (``fit(..., gold=...)``).

Chosen on synthetic votes only (no real set's gold used). Conditions 1-3
and 6 (e423e4d) were chosen on 481 matrices (the property test's seeds
0-199 and fresh seeds 1000-1199; one-class LFs with known firing
propensities) and lost up to 25.7 points on further fresh ones. Conditions
4 and 5 were chosen on the property family's seeds 0-199 and 1000-1199 and
600 matrices of one-class LFs with known propensities (independent,
disjoint within a class, loud items; ``known_propensities`` in
``tests/models/test_auto_unvoted.py``, seeds 0-299 and 1000-1299),
counting the gain on the unvoted items over majority vote's class. On the
four sets (property 0-199, 1000-1199, propensities 0-299, 1000-1299) the
matrices more than 1 point below majority vote go 0, 2, 8, 8 -> 0, 0, 0, 0
(worst before -15.7 and -48.7), the summed gain 71, 57, -50, 110 -> 54,
51, 21, 72. An 80 % floor kept more gain but lost 2.4 points on one
disjoint matrix (figures with the HyperLabelModel weights before
386a026). Full AutoLabelModel with the 386a026 weights, on all items:
seeds 1000-1199 more than 1 point below majority vote 1 -> 0 (worst -2.9
-> -0.5), mean gain +0.44 -> +0.36 points. The floor and the veto keep the
rule from acting where the evidence is weak (see *Identifiability* above).

The floor was raised from 1.2 to 1.4 after fresh seeds: with conditionally
independent LFs (the models' own assumption), ``known_propensities`` seed
3166 (2 classes, 25 % unvoted items, 61 % of them class 0) had both models
give the unvoted items class 1 at odds 1.25 and 1.23 (-5.3 points against
majority vote), and seed 3048 at 1.21 (-1.0). Fitting the models on each
half of the items does not reveal it (every half gives class 1 at 1.23 to
1.37): the error is the models' estimate of the class balance, of which the
unvoted residual is a small difference. On the development seeds
(``known_propensities`` 0-299, 1000-1199, 3000-3199; ``wrench_like`` 0-299,
1000-1199, 2000-2199, 3000-3199; 1,600 matrices) the 13 moves at odds under
1.4 summed +19.7 points, with three of them more than 1 point below majority
vote (-5.3, -1.5, -1.0); the 90 moves at 1.4 or more summed +268 points,
the worst -0.5.

**Disagreeing models.** With many classes the residuals are flat at the
top: on ChemProt-shaped votes (10 classes, 26 one-class LFs of precision
0.2-0.75) the two models put different classes first for the unvoted
items on about half the matrices, while both rate majority vote's
vote-share class (a class whose LFs fire often, so an unvoted item is
seldom of it) far below either. Until 2026-12 such disagreement kept
majority vote's class. Now the mean's first class is taken when it is at
least ``CLOSE_ODDS`` (2, a move that is not a close call) times as likely
as majority vote's class in *each* model, and every other condition
holds. Measured on the unvoted items only (the rule touches nothing
else), accuracy points summed over matrices, before -> after: profile
seeds 100-139 (``benchmarks/label_models_profiles.py``) chemprot +19.5 ->
+52.8, agnews +35.0 -> +40.6, semeval +129.2 -> +131.5, the other LF
profiles unchanged; ``wrench_like`` 0-199 +44.5 -> +46.2 and 1000-1199
+38.9 -> +47.6 (worst matrix -0.5 both, the same one);
``known_propensities`` 0-299 and 1000-1299 unchanged. At the agreeing
rule's floor (1.4) the relaxation lost 1.6 points on ``wrench_like(151)``
(8 classes: the models' firsts 0.252 and 0.231 against 0.168 and 0.160
for majority vote's class, which was in fact the most frequent unvoted
class).

**Far balances.** With LFs of very different precision per class (a
rare class whose LFs fire often on other classes' items), the vote share
of a class is far from its share of the items, so a right class balance
is far from majority vote's too and condition 3 alone refused every such
move. Since 2026-12-07 a balance over ``COLLAPSE`` from majority vote's
passes when HyperLabelModel, which cannot fall into an EM optimum, gives
the new class at least ``NO_VOTE_ODDS`` times majority vote's posterior
(the EM models' own floor, not a new threshold); every other condition
still applies. Measured on the matrices condition 3 refused (development
seeds: ``wrench_like`` 0-199, 1000-1199, 2000-2399, 3000-3399;
``known_propensities`` 0-299, 1000-1299, 3000-3299; profile seeds 100-139
of the LF profiles; 531 refusals): dropping condition 3 altogether moved
16 of them, 14 gaining (+1.7 to +49 points on all items) and 2 losing
(-3.6 and -7.8, HyperLabelModel's odds 1.13 and 1.01); with
HyperLabelModel's backing 10 move, all gaining (+0.1 to +28.3 points,
summed +113), none losing. Held-back seeds, scored once after the choice
(``wrench_like`` 5000-5399, ``known_propensities`` 5000-5299, profile seeds
300-339): 4 moves, all gaining (+0.3 to +21.3 points), none losing.

When majority vote's class is kept for many unvoted items, a
:class:`UserWarning` also says when the sources of that class fire on
different items: :func:`pair_cofiring` (a capture-recapture bound: they
fire together less than half as often as independent sources would even
if every unvoted item were of that class) or :func:`cofiring_ratio`. It
names the sources and tells the user to label a few dozen items or write
LFs for the other classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core import LabelMatrix
from ._auto_select import fit_candidate
from ._base import LabelModel
from ._trust import COLLAPSE

__all__ = ["CLOSE_ODDS", "DISJOINT_RATIO", "MIN_AGREEMENT", "MIN_PILED", "NO_VOTE_ODDS", "RISKY_DEPARTURE",
           "NoVoteVerdict", "PairCofiring", "cofiring_ratio", "majority_agreement", "no_vote_posterior",
           "pair_cofiring", "unvoted_share"]

NO_VOTE_ODDS = 1.4  # each model must favour the new class this many times over majority vote's
CLOSE_ODDS = 2.0  # under it a move of over RISKY_DEPARTURE is a close call (warn); the floor when the models disagree
MIN_AGREEMENT = 0.85  # each model must give this share of the voted items with one top class that class
RISKY_DEPARTURE = 0.10  # share of items whose label a risky choice may move, above which it warns
MIN_PILED = 20  # items expected to hold two votes of a class, fewest to judge how its votes pile up
MAX_PILE_UP = 1.25  # a class's votes falling together this many times over the models' expectation: back off
DISJOINT_RATIO = 0.5  # a class's votes pile up on items under this share of what independence expects: disjoint LFs

_MODELS = ("DawidSkene(polarity, abstain=target)", "DawidSkene")


@dataclass(frozen=True)
class NoVoteVerdict:
    """What :func:`no_vote_posterior` decided.

    Attributes
    ----------
    posterior : ndarray of shape (k,) or None
        The posterior of an unvoted item, or None (keep majority vote's).
    note : str
        For ``reason_``: what the models said and what was done (empty without unvoted items).
    warning : str
        A :class:`UserWarning` message when the choice is risky, else empty.
    """

    posterior: np.ndarray | None
    note: str
    warning: str = ""


def unvoted_share(model: LabelModel, L: LabelMatrix) -> np.ndarray | None:
    """A fitted model's class shares among the items of ``L`` nobody voted on, from its class balance.

    ``P(y = c | no vote)`` is proportional to ``P(y = c) - P(y = c, some
    vote)``: the model's ``class_balance_`` minus the mean over all items of
    its posteriors of the voted items (clipped at 0).

    Returns
    -------
    ndarray of shape (k,) or None
        None when the class balance leaves no mass for the unvoted items.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.models import DawidSkene
    >>> from weaklab.synthetic import make_lf_matrix
    >>> data = make_lf_matrix(2000, 10, 2, coverage=(0.05, 0.2), random_state=0)
    >>> share = unvoted_share(DawidSkene(random_state=0).fit(data.L), data.L)
    >>> share.shape, bool(np.isclose(share.sum(), 1.0))
    ((2,), True)
    """
    P = np.asarray(model.predict_proba(L), dtype=np.float64)
    if not np.all(np.isfinite(P)):
        raise FloatingPointError("predict_proba returned NaN or infinite values")
    voted = L.votes_per_item() > 0
    left = np.asarray(model.class_balance_, dtype=np.float64) - P[voted].sum(axis=0) / max(L.n_items, 1)
    left = np.clip(left, 0.0, None)
    total = float(left.sum())
    return None if total <= 1e-9 else left / total


def cofiring_ratio(model: LabelModel, L: LabelMatrix, c: int) -> float:
    """How often class ``c``'s votes pile up on one item, over what a model of independent sources expects.

    Observed: of the items with a vote for ``c``, the share with two or
    more. Expected under ``model`` (a fitted Dawid-Skene with abstentions:
    ``confusion_``, ``abstain_rate_``, ``class_balance_``), with the number
    of votes for ``c`` on an item of class ``y`` taken as Poisson with mean
    ``sum_j (1 - a_j[y]) theta_j[y, c]``. Well under 1 means the sources
    voting ``c`` fire on different items (keywords written to cover
    different cases), so the model underestimates how many of class ``c``'s
    items they reach, and overestimates class ``c`` among unvoted items.

    Returns
    -------
    float
        NaN when there is too little to compare: fewer than 3 sources vote
        ``c``, fewer than ``MIN_PILED`` (20) items are expected to hold two
        of its votes, or the model has no abstain rates.
    """
    abstain = getattr(model, "abstain_rate_", None)
    counts = L.class_counts()[:, c]
    _, sources, labels = L.coo()
    voting = np.unique(sources[labels == c]).size
    if abstain is None or voting < 3:
        return float("nan")
    rate = ((1.0 - np.asarray(abstain)) * np.asarray(model.confusion_)[:, :, c]).sum(axis=0)  # (k,)
    prior = np.asarray(model.class_balance_, dtype=np.float64)
    some = prior @ -np.expm1(-rate)
    two = prior @ (1.0 - np.exp(-rate) * (1.0 + rate))
    if L.n_items * two < MIN_PILED or some <= 0:
        return float("nan")
    observed = float(np.count_nonzero(counts >= 2)) / max(float(np.count_nonzero(counts > 0)), 1.0)
    return observed / (two / some)


@dataclass(frozen=True)
class PairCofiring:
    """How often the sources voting one class fire together, against independence at the largest class size.

    Attributes
    ----------
    ratio : float
        ``observed / expected`` (NaN when fewer than two sources vote the class).
    observed : int
        Pairs of the class's votes on one item, summed over the items.
    expected : float
        The pairs independent sources would give if every item without a
        vote were of the class: ``sum_{a < b} n_a n_b / N``, ``N`` the items
        with a vote for the class plus the items with no vote at all.
    sources : tuple of str
        The sources voting the class, most votes first.
    """

    ratio: float
    observed: int
    expected: float
    sources: tuple[str, ...]


def pair_cofiring(L: LabelMatrix, c: int) -> PairCofiring:
    """Capture-recapture check of class ``c``'s sources: do they fire together as often as independent ones must?

    If the sources voting ``c`` were independent given the class (and
    precise), sources ``a`` and ``b`` would both vote on about
    ``n_a n_b / N_c`` items, ``N_c`` the number of items of class ``c``
    (the Lincoln-Petersen estimate read backwards). ``N_c`` is at most the
    items with a vote for ``c`` plus the items without any vote, so fewer
    pairs than ``sum n_a n_b`` over that bound means the sources fire on
    *different* items (keywords written for different cases): no model of
    independent sources can then tell how many items of ``c`` they all
    miss, and the vote share of ``c`` says nothing about the unvoted items.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import LabelMatrix
    >>> votes = np.full((100, 2), -1)
    >>> votes[:40, 0] = 1; votes[40:80, 1] = 1  # two class-1 sources that never fire together
    >>> check = pair_cofiring(LabelMatrix(votes, n_classes=2), 1)
    >>> check.observed, round(check.expected, 1), check.ratio
    (0, 16.0, 0.0)
    """
    items, sources, labels = L.coo()
    mine = labels == c
    per_source = np.bincount(sources[mine], minlength=L.n_sources).astype(np.float64)
    per_item = np.bincount(items[mine], minlength=L.n_items).astype(np.float64)
    order = np.argsort(-per_source, kind="stable")
    names = L.source_names
    voting = tuple(str(names[j]) if names is not None else str(int(j)) for j in order if per_source[j] > 0)
    observed = int((per_item * (per_item - 1.0) / 2.0).sum())
    products = float(per_source.sum() ** 2 - (per_source ** 2).sum()) / 2.0
    bound = float(np.count_nonzero(per_item)) + float(np.count_nonzero(L.votes_per_item() == 0))
    if len(voting) < 2 or products <= 0:
        return PairCofiring(float("nan"), observed, 0.0, voting)
    expected = products / bound
    return PairCofiring(float(observed / expected), observed, float(expected), voting)


def majority_agreement(model: LabelModel, L: LabelMatrix) -> float:
    """Share of the voted items of ``L`` with one most-voted class to which ``model`` gives that class first.

    1.0 when no item has a single most-voted class.

    Examples
    --------
    >>> from weaklab.models import MajorityVote
    >>> from weaklab.synthetic import make_lf_matrix
    >>> L = make_lf_matrix(500, 8, 3, random_state=0).L
    >>> majority_agreement(MajorityVote().fit(L), L)
    1.0
    """
    counts = L.class_counts()
    top = counts.max(axis=1, keepdims=True)
    clear = (top[:, 0] > 0) & ((counts == top).sum(axis=1) == 1)
    if not clear.any():
        return 1.0
    P = np.asarray(model.predict_proba(L.select_items(np.flatnonzero(clear))), dtype=np.float64)
    return float(np.mean(P.argmax(axis=1) == counts[clear].argmax(axis=1)))


def no_vote_posterior(L: LabelMatrix, majority_balance: np.ndarray, seed: int,
                      fitted: Mapping[str, LabelModel] | None = None) -> NoVoteVerdict:
    """The posterior of an item nobody voted on, when models of abstentions agree it is not majority vote's.

    See the module docstring for the rule.

    Parameters
    ----------
    L : LabelMatrix
        Labeling-function votes with at least one unvoted item.
    majority_balance : ndarray of shape (k,)
        Majority vote's class balance (its posterior of an unvoted item).
    seed : int
        Seeds the models (as :func:`~weaklab.models._auto_select.fit_candidate` does).
    fitted : mapping of str to LabelModel, optional
        Models already fitted on ``L`` with no class balance and ``seed``,
        by candidate name; one whose name and parameters are those of a
        model above is used instead of fitting it again.

    Returns
    -------
    NoVoteVerdict
    """
    from .dawid_skene import DawidSkene
    from .hyper import HyperLabelModel

    estimators = dict(zip(_MODELS, (DawidSkene(source_groups="polarity", abstain="target"), DawidSkene()),
                          strict=True))
    done = fitted or {}
    fits = {name: _fitted(name, est, done, L, seed) for name, est in estimators.items()}
    shares = [unvoted_share(model, L) for model in fits.values()]
    mv = int(np.argmax(majority_balance))
    cmv = _class(L, mv)
    unvoted = float(np.mean(L.votes_per_item() == 0))
    said = "; ".join(f"{name} {_describe(s, mv, L)}" for name, s in zip(fits, shares, strict=True))
    head = (f"{unvoted:.0%} of the items have no vote; majority vote gives them class {cmv} (its share of all "
            f"votes); the models of abstentions give them: {said}")
    rows = [s for s in shares if s is not None]
    picks = {int(np.argmax(s)) for s in rows}
    if len(rows) < len(shares) or mv in picks:
        return _kept_agreeing(head, fits[_MODELS[0]], L, mv, unvoted)
    c = int(np.argmax(np.mean(rows, axis=0)))  # the class both put first, or their mean's first
    cc = _class(L, c)
    odds = min(float(s[c]) / max(float(s[mv]), 1e-12) for s in rows)
    if len(picks) > 1 and (c == mv or odds < CLOSE_ODDS):
        return _kept_agreeing(head, fits[_MODELS[0]], L, mv, unvoted, (
            f"they put different classes first, and their mean's class {cc} is only {odds:.2f} times as likely as "
            f"class {cmv} in one of them, under the {CLOSE_ODDS:g} needed then"))
    shift = float(np.max(np.abs(np.asarray(fits[_MODELS[0]].class_balance_, dtype=np.float64) - majority_balance)))
    agreement = min(majority_agreement(model, L) for model in fits.values())
    ratios = {(name, cls): cofiring_ratio(model, L, cls) for name, model in fits.items() for cls in (c, mv)}
    checkable = not all(np.isnan(ratios[_MODELS[0], cls]) for cls in (c, mv))
    # a tied balance far from majority vote's may be EM's bad optimum: HyperLabelModel (no EM) must back the move
    hyper = _all_abstain_row(_fitted("HyperLabelModel", HyperLabelModel(), done, L, seed), L) if shift > COLLAPSE \
        else None
    backing = float(hyper[c]) / max(float(hyper[mv]), 1e-12) if hyper is not None else float("inf")
    why = ""
    if backing < NO_VOTE_ODDS:
        why = (f"the tied model's class balance is {shift:.0%} from majority vote's, over {COLLAPSE:.0%}, and "
               f"HyperLabelModel gives an unvoted item class {cc} only {backing:.2f} times class {cmv}'s "
               f"posterior, under {NO_VOTE_ODDS:g}")
    elif odds < NO_VOTE_ODDS:
        why = f"class {cc} is only {odds:.2f} times as likely as class {cmv} in one of them, under {NO_VOTE_ODDS:g}"
    elif agreement < MIN_AGREEMENT:
        why = (f"one of them gives only {agreement:.0%} of the voted items their clear majority class, under "
               f"{MIN_AGREEMENT:.0%}: it reads the sources otherwise than their votes")
    elif not checkable:
        why = (f"too few votes of class {cc} or {cmv} fall together on an item to check the models' reading of "
               "how often their sources miss")
    elif (piled := _most_piled(ratios))[0] > MAX_PILE_UP:
        why = (f"the votes of class {_class(L, piled[1])} fall together on an item {piled[0]:.2f} times as often as "
               f"the models expect, over {MAX_PILE_UP:g}: the sources are not independent given the class, so "
               "the models misread how often they miss")
    else:
        if hyper is None:
            hyper = _all_abstain_row(_fitted("HyperLabelModel", HyperLabelModel(), done, L, seed), L)
        if hyper[mv] > hyper[c]:
            why = f"HyperLabelModel gives an unvoted item class {cmv} {hyper[mv]:.2f} against class {cc} {hyper[c]:.2f}"
    if why:
        found = _disjoint(L, fits[_MODELS[0]], mv) if unvoted > RISKY_DEPARTURE else ""
        if found:
            return NoVoteVerdict(None, head + f"; kept majority vote's class ({why}); {found} (they fire on "
                                             "different items)",
                                 _disjoint_warning(L, mv, unvoted, found))
        warning = "" if unvoted <= RISKY_DEPARTURE else (
            f"AutoLabelModel: {unvoted:.0%} of the items have no vote; they get majority vote's class {cmv} (its "
            f"share of all votes), but models of abstentions put class {cc} first, without the evidence to act on "
            f"it ({why}; LFs of a class that fire on different items make the evidence look weak). A few dozen "
            "gold labels (fit(..., gold=...)) would settle it.")
        return NoVoteVerdict(None, head + f"; kept majority vote's class ({why})", warning)
    posterior = np.mean(rows, axis=0)
    warning = "" if unvoted <= RISKY_DEPARTURE or odds >= CLOSE_ODDS else (
        f"AutoLabelModel: {unvoted:.0%} of the items have no vote; they get class {cc}, not majority vote's class "
        f"{cmv}, because models of abstentions put class {cc} first, but only {odds:.2f} times as likely as class "
        f"{cmv} in one of them (under {CLOSE_ODDS:g}: a close call, within the error of their class balance). A few "
        "dozen gold labels (fit(..., gold=...)) would settle it.")
    how = "" if len(picks) == 1 else f"they put different classes first, so {CLOSE_ODDS:g} was needed; "
    if shift > COLLAPSE:
        how += (f"the tied model's class balance is {shift:.0%} from majority vote's, over {COLLAPSE:.0%}, but "
                f"HyperLabelModel backs class {cc} at {backing:.2f} times class {cmv}'s posterior; ")
    return NoVoteVerdict(posterior, head + f"; they get class {cc} (the mean of the two, {how}at least {odds:.2f} "
                                           f"times as likely as class {cmv} in each), not majority vote's", warning)


def _most_piled(ratios: Mapping[tuple[str, int], float]) -> tuple[float, int]:
    """The largest defined :func:`cofiring_ratio` by (model, class), and its class ((0.0, -1) when none is)."""
    defined = [(r, cls) for (_, cls), r in ratios.items() if not np.isnan(r)]
    return max(defined) if defined else (0.0, -1)


def _kept_agreeing(head: str, tied: LabelModel, L: LabelMatrix, mv: int, unvoted: float,
                   why: str = "the models do not agree on another") -> NoVoteVerdict:
    """Majority vote's class kept (no other class agreed on); a warning when class ``mv``'s LFs look disjoint."""
    note = head + f"; kept majority vote's class ({why})"
    found = _disjoint(L, tied, mv) if unvoted > RISKY_DEPARTURE else ""
    if not found:
        return NoVoteVerdict(None, note)
    return NoVoteVerdict(None, note + f"; {found} (they fire on different items), so its share of the unvoted "
                                      "items is likely overestimated",
                         _disjoint_warning(L, mv, unvoted, found))


def _disjoint(L: LabelMatrix, tied: LabelModel, c: int) -> str:
    """What shows that class ``c``'s sources fire on different items, or empty.

    Either check: its sources fire together less than ``DISJOINT_RATIO``
    times what independent ones would even if every unvoted item were of
    class ``c`` (:func:`pair_cofiring`, from 2 sources on), or its votes
    pile up on items less than that share of what the tied model expects
    (:func:`cofiring_ratio`, from 3 sources on).
    """
    pairs = pair_cofiring(L, c)
    cc = _class(L, c)
    if pairs.ratio < DISJOINT_RATIO and pairs.expected >= MIN_PILED:
        named = ", ".join(repr(n) for n in pairs.sources[:3]) + (", ..." if len(pairs.sources) > 3 else "")
        return (f"the sources voting class {cc} ({named}) fire together on {pairs.observed} items, where independent "
                f"sources would on at least {pairs.expected:.0f} even if every unvoted item were of class {cc}")
    ratio = cofiring_ratio(tied, L, c)
    if ratio < DISJOINT_RATIO:
        return (f"class {cc}'s votes fall together on an item {ratio:.2f} times as often as independent sources "
                "would")
    return ""


def _disjoint_warning(L: LabelMatrix, c: int, unvoted: float, found: str) -> str:
    cc = _class(L, c)
    others = ", ".join(_class(L, d) for d in range(L.n_classes) if d != c)
    return (f"AutoLabelModel: {unvoted:.0%} of the items have no vote and get class {cc}, the class with the most "
            f"votes; but {found}: they fire on different items, so no model can tell from the votes alone how many "
            f"items of class {cc} they all miss, and the unvoted items may well be of another class ({others}). "
            "Label a few dozen items (`weaklab annotate`, or fit(..., gold=...)) so the class of the unvoted items "
            f"is measured, or write labeling functions for {others}.")


def _fitted(name: str, est: LabelModel, done: Mapping[str, LabelModel], L: LabelMatrix, seed: int) -> LabelModel:
    """``done[name]`` when it is ``est`` fitted on ``L`` with ``seed``, else a new fit."""
    found = done.get(name)
    return found if found is not None and _same_model(found, est, seed) else fit_candidate(est, L, None, None, seed)


def _all_abstain_row(model: LabelModel, L: LabelMatrix) -> np.ndarray:
    """The model's posterior of an item on which every source of ``L`` abstains, shape ``(k,)``."""
    none = np.zeros(0, dtype=np.int64)
    empty = LabelMatrix.from_coo(none, none, none, n_items=1, n_sources=L.n_sources, n_classes=L.n_classes,
                                 source_names=L.source_names)
    row = np.asarray(model.predict_proba(empty), dtype=np.float64)[0]
    if not np.all(np.isfinite(row)):
        raise FloatingPointError("predict_proba returned NaN or infinite values")
    return row


def _class(L: LabelMatrix, c: int) -> str:
    """Class ``c`` as the user named it (its index when the matrix has no class names)."""
    names = L.class_names
    return repr(str(names[c])) if names is not None and c < len(names) else str(c)


def _describe(share: np.ndarray | None, mv: int, L: LabelMatrix) -> str:
    if share is None:
        return "no mass (class balance used up by the voted items)"
    c = int(np.argmax(share))
    return f"class {_class(L, c)} ({share[c]:.2f}, majority vote's {share[mv]:.2f})"


def _same_model(fitted: LabelModel | None, est: LabelModel, seed: int) -> bool:
    """Whether ``fitted`` is what fitting the unfitted ``est`` with ``seed`` gives (same class and parameters)."""
    if fitted is None or type(fitted) is not type(est):
        return False
    mine, theirs = est.get_params(deep=False), fitted.get_params(deep=False)
    if "random_state" in mine and mine["random_state"] is None:
        mine["random_state"] = seed  # as fit_candidate seeds it
    return bool(mine.keys() == theirs.keys() and all(_equal(mine[k], theirs[k]) for k in mine))


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) else bool(a == b)
    except (TypeError, ValueError):
        return False
