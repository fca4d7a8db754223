"""No-gold evidence for :class:`~weaklab.models.auto.AutoLabelModel`: beat majority vote or keep it.

Without gold labels no criterion can *prove* a label model right, so the
unsupervised choice is anchored on majority vote and a candidate replaces it
only on evidence:

* **Held-out votes.** Items are split in two halves (:mod:`._heldout`). A
  candidate fitted on one half predicts every vote ``v_ij`` of the other
  half from the *cavity row* of item ``i`` (its other votes, without the
  near-copies of source ``j``), and majority vote does the same.
* **Lift.** The share of the cavity's hard label that is ``v_ij`` (ties
  count fractionally) minus the share of ``v_ij`` in the hard labels of the
  items where ``j`` abstained: a model gains nothing by predicting one class
  everywhere.
* **Labeling-function-shaped votes** (most sources vote one class): the
  candidates are only allowed to break majority vote's ties
  (:func:`majority_ties_broken`), both when scored and when used: held-out
  votes come from items with more votes than the ones they would be applied
  to, and cannot vouch for overruling a clear majority. So a candidate is
  judged as a tie-breaker, by two judges that must both find a gain:

  - **tie pairs** (:mod:`._tie_pairs`, the reported ``score``): two votes of
    an item for different classes, shown to the model alone as a tie of
    their own, refereed by the plurality of the item's other votes
    (:func:`tie_agreement`); majority vote's coin flip scores 1/2 per pair;
  - the **lift** of the held-out votes, the cavities' ties broken by the
    candidate.

  They err differently. A pair hides which other LFs did *not* vote, which
  a model of abstentions rightly uses on real two-vote ties (on synthetic
  one-class LFs the pairs alone chose MACE or MatrixCompletion, several
  points below majority vote on the real ties). A single held-out vote is
  easily predicted by a model of which LFs fire together: fitted on WRENCH
  TREC's train split, MatrixCompletion and the polarity Dawid-Skene got the
  same lift as HyperLabelModel (0.014 against 0.013 per vote), though on
  the split's real ties they are right 0.48 and 0.29 of the time and
  HyperLabelModel 0.63 (majority vote 0.34; gold used only for that check);
  the pairs put HyperLabelModel first, MatrixCompletion second and every
  model that is worse than majority vote on the real ties below its coin
  flip. The
  likelihood of a vote *given that the source voted* is not used on LF
  votes: a one-class LF's vote is fixed once it fires, so a model that puts
  every item in one class explains every vote.
* **Log-likelihood** (votes that are not LF-shaped, workers using every
  class): the held-out vote's log-probability under the candidate's
  posterior and the confusions estimated on the fit half. A second judge
  must find a gain as well, which depends on the kind of votes
  (:func:`vote_kind`):

  - **mixed** votes (a third or more of the sources one-class, as in LF
    matrices with as many multi-class LFs as one-class ones): the lift. It
    leaves out the votes of one-class sources (:func:`one_class_sources`):
    their vote is fixed once they fire, so its lift rewards a model of
    which sources fire together, not of which class is true. On a
    synthetic matrix shaped like WRENCH Census (83 LFs, about half of them
    one-class, so not LF-shaped) that lift chose the triplet method, 4.9
    points below majority vote on the test part, and ranked
    HyperLabelModel (2.3 above) last.
  - **crowds** (the rest): the agreement of the cavity's hard label with
    the held-out vote (:func:`vote_agreement`; one-class sources left out
    too). The lift subtracts how often the model predicts the vote's class
    where the worker abstained, so it penalises a model for labelling more
    items with a large class, which is what a model of worker quality does
    when noisy workers spread their errors over the classes. On 100
    ``make_crowd`` configurations (2-6 classes, 8-120 workers, 2-6 answers
    per item) the lift refused one-coin Dawid-Skene, MACE and
    HyperLabelModel, 9 to 15 points above majority vote, on the three
    where the choice lost 1.5 to 6.3 points (MatrixCompletion, lift
    z = 12-20); with the agreement the choice gained 3.05 points on
    average instead of 2.12 and lost more than a point nowhere (on 150
    crowds of another generator, with Zipf activity, lure classes and
    neighbour confusions, 3.78 instead of 3.47). The agreement is monotone
    in a model's accuracy when workers, on the items of each class, vote
    that class more than any other; where most workers are below chance
    nothing without gold is (a binary crowd of that generator at 46 %
    mean accuracy lost 2.6 points with it, none with the lift), and the
    guards below still apply.

    When no candidate has the evidence of both judges on a crowd, the
    agreement alone judges (:func:`agreement_alone`), at a bar corrected
    for the number of candidates compared (:func:`alone_z`, Bonferroni at
    a family-wise ``ALONE_LEVEL``). The log-likelihood can miss real
    gains: it rewards posteriors as flat as the votes of hard items,
    which majority vote's vote shares are. On the ``crowd_hard_relevance``
    profile (items up to 50 % guesses) one-coin Dawid-Skene and
    HyperLabelModel, 6-8 points above majority vote, lose 4-8 standard
    errors of log-likelihood to it while their agreement gain is 3-5
    standard errors, so requiring both kept majority vote on every seed.
    Only a fallback: where both judges find candidates, the
    log-likelihood ranks them better (on the real ``s4_Relevance`` crowd
    the agreement ranks HyperLabelModel first, 5.6 points below the
    average the log-likelihood picks).
* **Evidence.** Each gain over majority vote (per scored vote; per item with
  tie pairs) is positive in both directions and ``Z_EVIDENCE`` (crowds:
  2.5) or ``Z_LF_EVIDENCE`` (LF votes: 4) standard errors (items resampled)
  above zero (the agreement alone on crowds: see above). The held-out
  items of LF votes are a biased sample (items with more votes than the
  ones where the model breaks ties), so the bar is higher there.
* **Guards** on the held-out half, against majority vote on the same items
  (on LF votes: majority vote with the candidate's tie-breaks, all of the
  candidate that is used): a candidate is disqualified when it contradicts a
  strong consensus (two or more votes for a class, more than twice any
  other) on over 10 % of such items (35 % for crowds, where a model may
  rightly outvote agreeing spammers), when it grows a class's predicted
  share by over 20 points (collapse; on crowds, when the other classes keep
  less than half of majority vote's share: :mod:`._guards`), or when it is
  degenerate (20 points
  more ties, or near-uniform posteriors). (An LF-only guard against
  candidates that overrule the lone vote of an LF was dropped with the tie
  pairs: a tie-breaker never sees a lone vote, and the guard disqualified
  HyperLabelModel, the best tie-breaker on TREC.)

The candidates with evidence are combined: their posteriors are averaged
with weights proportional to their gains, among those whose gain is not
significantly below the best one (on LF votes: on either judge). The
equal-weight average of the candidates above majority vote on every judge
competes as one more candidate (:mod:`._average`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .._core import LabelMatrix
from .._core.constants import TINY
from ._auto_select import fit_candidate, tie_share
from ._base import LabelModel
from ._guards import COLLAPSE, CONTRADICTION, CROWD_CONTRADICTION, guard_report
from ._heldout import Fold, source_class_counts
from ._tie_pairs import pair_choice

__all__ = [
    "COLLAPSE",
    "CONTRADICTION",
    "CROWD_CONTRADICTION",
    "CandidateEvidence",
    "agreement_alone",
    "alone_z",
    "FoldPosteriors",
    "evidence_of",
    "judge",
    "tie_share",
    "guard_report",
    "score_candidate",
    "select_members",
    "lf_shaped",
    "majority_proba",
    "majority_ties_broken",
    "pooled_gain",
    "vote_lift",
    "vote_agreement",
    "vote_kind",
    "vote_loglik",
    "confusion_from_posterior",
    "tie_agreement",
    "one_class_sources",
]

Z_EVIDENCE = 2.5  # standard errors by which a gain over majority vote must exceed zero (crowds)
Z_LF_EVIDENCE = 4.0  # the same on labeling-function votes, whose held-out items are the more biased sample
MIN_GAIN = 0.002  # smallest gain (share of scored votes) worth leaving majority vote for
MIN_POLARITY_VOTES = 10  # votes (in the fit half) for a source voting one class to count as one-class
MIXED_ONE_CLASS = 1 / 3  # share of one-class sources from which votes that are not LF-shaped count as mixed
ALONE_LEVEL = 0.01  # crowds: family-wise level at which the agreement alone is evidence (Bonferroni)


# ------------------------------------------------------------------------------------------- scoring


def lf_shaped(L: LabelMatrix) -> bool:
    """True when most sources (with 10 votes or more) vote a single class, as labeling functions do."""
    from .dawid_skene import resolve_abstain

    return resolve_abstain("auto", source_class_counts(L).astype(np.float64)) == "model"


def vote_kind(L: LabelMatrix) -> str:
    """``"lf"`` (:func:`lf_shaped`), ``"mixed"`` or ``"crowd"``: which no-gold criterion judges the votes of ``L``.

    Mixed: not LF-shaped, but ``MIXED_ONE_CLASS`` or more of the sources
    (those with ``MIN_POLARITY_VOTES`` votes or more, else all that vote)
    vote a single class, as on LF matrices with as many multi-class LFs as
    one-class ones (WRENCH Census); their second judge is the lift. Crowd:
    the rest, judged by the held-out vote log-likelihood and the agreement
    of the labels with the held-out votes (:func:`vote_agreement`). Of the
    350 development crowds (make_crowd with constant spammers and flipped
    workers, crowds with Zipf activity and lure classes, the benchmark's
    crowd profiles) one read as mixed (half its workers spammers).

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import LabelMatrix
    >>> dense = np.array([[0, 1, 0, -1], [1, 1, -1, 0], [0, 0, 1, 1], [1, -1, 1, 0]] * 5)
    >>> vote_kind(LabelMatrix.from_dense(dense, n_classes=2))
    'crowd'
    """
    if lf_shaped(L):
        return "lf"
    counts = source_class_counts(L)
    totals = counts.sum(axis=1)
    counted = totals >= MIN_POLARITY_VOTES
    if not counted.any():
        counted = totals > 0
    one_class = np.count_nonzero(counts[counted] > 0, axis=1) == 1
    return "mixed" if one_class.size and one_class.mean() >= MIXED_ONE_CLASS else "crowd"


@dataclass
class CandidateEvidence:
    """What the unsupervised criterion found about one candidate.

    Attributes
    ----------
    agreement : list of ndarray
        Per fold, the summed agreement of the scored votes of every item of ``held``.
    held_proba : list of ndarray
        Per fold, the candidate's posteriors on ``held``.
    gain, se : float
        Agreement gain over majority vote per scored vote, and its standard error.
    fold_gains : list of float
    status : str
        ``"ok"`` or ``"disqualified: ..."``.
    lift : list of ndarray or None
        With the log-likelihood criterion, the per-item lift as well
        (:func:`vote_lift`; on crowds :func:`vote_agreement`): evidence
        then needs both.
    lift_gain, lift_se : float
    lift_fold_gains : list of float
    n_votes : int
        Scored units: held-out votes, or (``tie``) items with tie pairs.
    lift_votes : int
        Held-out votes scored by the lift.
    tie : bool
        Scored by the tie criterion (:func:`tie_agreement`).
    z_needed : float
        Standard errors by which both gains must exceed zero.
    posteriors : list of FoldPosteriors or None
        Per fold, the candidate's raw posteriors (for averaging candidates).
    """

    agreement: list[np.ndarray]
    held_proba: list[np.ndarray]
    gain: float = 0.0
    se: float = 0.0
    fold_gains: list[float] = field(default_factory=list)
    status: str = "ok"
    n_votes: int = 0
    tie: bool = False
    lift_votes: int = 0
    lift: list[np.ndarray] | None = None
    lift_gain: float = 0.0
    lift_se: float = 0.0
    lift_fold_gains: list[float] = field(default_factory=list)
    z_needed: float = Z_EVIDENCE
    posteriors: list[FoldPosteriors] | None = None

    @property
    def z(self) -> float:
        """Gain in standard errors (0 when both are 0)."""
        return 0.0 if self.se == 0 else self.gain / self.se

    @property
    def has_evidence(self) -> bool:
        """Positive in both folds, ``Z_EVIDENCE`` standard errors and ``MIN_GAIN`` above zero (and the lift too)."""
        z = self.z_needed
        if self.status != "ok" or not _significant(self.gain, self.se, self.fold_gains, z):
            return False
        return self.lift is None or _significant(self.lift_gain, self.lift_se, self.lift_fold_gains, z)

    @property
    def above_majority(self) -> bool:
        """Passed the guards and above majority vote on every judge."""
        return self.status == "ok" and bool(self.gain > 0) and (self.lift is None or bool(self.lift_gain > 0))


def alone_z(n_compared: int) -> float:
    """Standard errors by which the agreement gain alone is evidence on crowds, ``n_compared`` candidates judged.

    The one-sided normal quantile at ``ALONE_LEVEL / n_compared``
    (Bonferroni), never below ``Z_EVIDENCE``.

    Examples
    --------
    >>> round(alone_z(10), 2), round(alone_z(12), 2)
    (3.09, 3.14)
    """
    from scipy.stats import norm

    return max(Z_EVIDENCE, float(norm.isf(ALONE_LEVEL / max(int(n_compared), 1))))


def _significant(gain: float, se: float, fold_gains: list[float], z: float) -> bool:
    return gain >= MIN_GAIN and gain >= z * se and min(fold_gains, default=0.0) > 0


@dataclass(frozen=True)
class FoldPosteriors:
    """A candidate's raw posteriors on one fold, fitted on its ``fit`` half (averaged by :mod:`._average`).

    ``held``: rows of ``fold.held``; ``cavity``: rows of ``fold.cavity``;
    ``pairs``: rows of ``fold.pairs.rows`` (tie criterion, else None);
    ``fit``: rows of ``fold.fit`` (log-likelihood criterion, else None).
    """

    held: np.ndarray
    cavity: np.ndarray
    pairs: np.ndarray | None = None
    fit: np.ndarray | None = None


def score_candidate(est: LabelModel, folds: list[Fold], balance: np.ndarray | None, seed: int,
                    criterion: str) -> CandidateEvidence:
    """Fit ``est`` on each fold's ``fit`` half; score it on the held half; keep its held posteriors.

    ``criterion`` is ``"tie"`` (labeling functions: :func:`tie_agreement`
    on the fold's tie pairs, and :func:`vote_lift` of the cavity rows; the
    model only breaks majority vote's ties, in the cavities and in the held
    posteriors, as it would be used) or ``"loglik"`` (crowds:
    :func:`vote_loglik` of the cavity predictions, and :func:`vote_lift`;
    mixed votes, see :func:`vote_kind`) or ``"crowd"`` (:func:`vote_loglik`
    and :func:`vote_agreement` in place of the lift).
    """
    outputs = []
    for fold in folds:
        model = fit_candidate(est, fold.fit, None, balance, seed)
        pairs = fold.pairs if criterion == "tie" else None
        outputs.append(FoldPosteriors(
            _finite(model.predict_proba(fold.held)), cavity_proba(model, fold),
            _finite(model.predict_proba(pairs.rows)) if pairs is not None and pairs.item.size else None,
            None if criterion == "tie" else _finite(model.predict_proba(fold.fit))))
    evidence = evidence_of(outputs, folds, balance, criterion)
    evidence.posteriors = [FoldPosteriors(o.held.astype(np.float32), o.cavity.astype(np.float32), _half(o.pairs),
                                          _half(o.fit)) for o in outputs]  # kept for averaging, in half the memory
    return evidence


def _half(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else a.astype(np.float32)


def evidence_of(outputs: list[FoldPosteriors], folds: list[Fold], balance: np.ndarray | None,
                criterion: str) -> CandidateEvidence:
    """The (not yet compared) evidence of posteriors ``outputs`` on ``folds``; see :func:`score_candidate`."""
    agreement, held, lift = [], [], []
    for out, fold in zip(outputs, folds, strict=True):
        P_held, Q = out.held, out.cavity
        if criterion == "tie":  # labeling functions: the model only breaks majority vote's ties
            mv = fold.majority_balance(balance)
            P_held = majority_ties_broken(P_held, fold.held, mv, fold.held_counts)
            Q = majority_ties_broken(Q, fold.cavity, mv, fold.cavity_counts)
            agreement.append(tie_agreement(out.pairs, fold))
            lift.append(vote_lift(Q, P_held, fold))
        else:
            if out.fit is None:
                raise ValueError("the log-likelihood criterion needs the posteriors of the fit half")
            P_fit = out.fit
            agreement.append(vote_loglik(Q, confusion_from_posterior(fold.fit, P_fit, coo=fold.fit_coo), fold))
            skip = one_class_sources(fold)
            lift.append(vote_agreement(Q, fold, skip) if criterion == "crowd" else vote_lift(Q, P_held, fold, skip))
        held.append(P_held)
    return CandidateEvidence(agreement, held, lift=lift, tie=criterion == "tie", posteriors=outputs)


def tie_agreement(P_pairs: np.ndarray | None, fold: Fold) -> np.ndarray:
    """Per item of ``held``: how often posteriors ``P_pairs`` of the tie pairs break them as their referee does.

    The tie pairs (:mod:`._tie_pairs`) are two votes of the item for
    different classes, shown to the model alone; the referee is the strict
    plurality of the item's other votes. Each item with pairs weighs 1
    (shared among its pairs); majority vote scores 1/2 on each pair.
    """
    pairs = fold.pairs
    if P_pairs is None or pairs is None or pairs.item.size == 0:
        return np.zeros(fold.held.n_items)
    return pairs.per_item(pair_choice(P_pairs, pairs), fold.held.n_items)


def majority_proba(L: LabelMatrix, balance: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Majority vote's posterior (vote shares; ``balance`` where nobody voted).

    ``counts``: ``L.class_counts()``, when already at hand.
    """
    counts = (L.class_counts() if counts is None else counts).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    out = np.divide(counts, totals, out=np.empty_like(counts), where=totals > 0)
    out[totals[:, 0] == 0] = balance
    return out


def majority_ties_broken(P: np.ndarray, L: LabelMatrix, balance: np.ndarray,
                         counts: np.ndarray | None = None) -> np.ndarray:
    """Majority vote on ``L``, its ties among the most-voted classes broken by the posterior ``P``.

    Where one class has the most votes the result is majority vote's
    posterior; where several do, their joint share is redistributed in
    proportion to ``P`` restricted to them; where nobody voted it is
    ``balance``. The hard labels therefore never overrule a clear majority.
    ``counts``: ``L.class_counts()``, when already at hand.
    """
    counts = L.class_counts() if counts is None else counts
    out = majority_proba(L, balance, counts)
    top = counts.max(axis=1, keepdims=True)
    tied_mask = (counts == top) & (top > 0)
    rows = np.flatnonzero(tied_mask.sum(axis=1) > 1)
    if rows.size == 0:
        return out
    tied = tied_mask[rows]
    mass = (out[rows] * tied).sum(axis=1, keepdims=True)
    weight = np.where(tied, np.asarray(P, dtype=np.float64)[rows], 0.0)
    total = weight.sum(axis=1, keepdims=True)
    weight = np.where(total > 0, weight / np.where(total > 0, total, 1.0), tied / tied.sum(axis=1, keepdims=True))
    out[rows] = np.where(tied, mass * weight, out[rows])
    return out


def cavity_proba(model: LabelModel, fold: Fold) -> np.ndarray:
    """Posteriors of the cavity rows, on which the held-out source shows as abstaining.

    For a model that reads abstentions this is evidence against the
    source's class; :func:`vote_lift` compares with items on which the
    source did abstain, so the comparison is like for like (dividing the
    abstention factor out of the cavity only would create lift from nothing).
    """
    return _finite(model.predict_proba(fold.cavity))


def one_class_sources(fold: Fold) -> np.ndarray:
    """Mask of the sources with ``MIN_POLARITY_VOTES`` or more votes in ``fold.fit``, all for one class.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> counts = np.array([[12, 0], [6, 6], [3, 0]])
    >>> one_class_sources(SimpleNamespace(fit_counts=counts)).tolist()
    [True, False, False]
    """
    counts = np.asarray(fold.fit_counts)
    return np.asarray((np.count_nonzero(counts > 0, axis=1) == 1) & (counts.sum(axis=1) >= MIN_POLARITY_VOTES))


def vote_lift(Q: np.ndarray, P_held: np.ndarray, fold: Fold, skip: np.ndarray | None = None) -> np.ndarray:
    """Per item of ``held``: the summed lift of the scored votes.

    The lift of a vote ``v`` of source ``j`` is the share of the cavity's
    hard label that is ``v`` minus the mean share of ``v`` in the hard labels
    of the items on which ``j`` abstained and as many others voted as in a
    cavity (``min_cavity`` or more): a model that predicts ``v`` more
    everywhere gains nothing from it. The votes of the sources in the mask
    ``skip`` count 0 (with the log-likelihood criterion, the one-class
    sources: see :func:`one_class_sources` and the module docstring).
    """
    k = P_held.shape[1]
    share = tie_share(Q)[np.arange(fold.vote.size), fold.vote]
    S = tie_share(P_held)
    voted = fold.held.votes_per_item() >= fold.min_cavity
    S[~voted] = 0.0
    on = fold.held_on
    voting = np.asarray(on.T @ S)  # (m, k): hard-label shares summed over the items each source voted on
    n_abstained = voted.sum() - np.asarray(on.T @ voted.astype(np.float64))
    base = (S.sum(axis=0)[None, :] - voting) / np.maximum(n_abstained, 1.0)[:, None]
    lift = share - base.reshape(-1)[fold.source * k + fold.vote]
    if skip is not None:
        lift = np.where(skip[fold.source], 0.0, lift)
    return np.bincount(fold.item, weights=lift, minlength=fold.held.n_items)


def vote_agreement(Q: np.ndarray, fold: Fold, skip: np.ndarray | None = None) -> np.ndarray:
    """Per item of ``held``: how many of its scored votes the cavity's hard label matches (ties count fractionally).

    The second judge on crowds (:func:`vote_kind`), in place of
    :func:`vote_lift`: a model whose labels are right more often agrees
    more often with the held-out votes of workers who, on the items of
    each class, vote that class more often than any other (the assumption
    that names the classes without gold). The lift subtracts the share of
    the vote's class among the model's labels where the worker abstained,
    which penalises a model for predicting a class more often even when it
    is right to: on classes of unequal size, with noisy workers spreading
    their errors, a model of worker quality labels more items with the
    large class than majority vote does, and loses lift for it. The votes
    of the sources in the mask ``skip`` (one-class sources, see
    :func:`one_class_sources`) count 0.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> fold = SimpleNamespace(vote=np.array([0, 1, 1]), source=np.array([0, 1, 0]), item=np.array([0, 0, 1]),
    ...                        held=SimpleNamespace(n_items=2))
    >>> Q = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
    >>> vote_agreement(Q, fold).tolist()
    [1.5, 1.0]
    """
    agree = tie_share(Q)[np.arange(fold.vote.size), fold.vote]
    if skip is not None:
        agree = np.where(skip[fold.source], 0.0, agree)
    return np.bincount(fold.item, weights=agree, minlength=fold.held.n_items)


def confusion_from_posterior(L: LabelMatrix, P: np.ndarray, alpha: float = 0.5,
                             coo: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """``confusion[j, c, v]`` from soft class counts of each source's votes (smoothed by ``alpha``).

    ``coo`` (``L.coo()``) saves building the coordinates again.
    """
    m, k = L.n_sources, L.n_classes
    rows, cols, labels = L.coo() if coo is None else coo
    flat = cols * k + labels.astype(np.int64)
    soft = np.stack([np.bincount(flat, weights=P[rows, c], minlength=m * k) for c in range(k)], axis=1)
    smoothed = soft.reshape(m, k, k).transpose(0, 2, 1) + alpha  # [j, c, v]
    return np.asarray(smoothed / smoothed.sum(axis=2, keepdims=True))


def vote_loglik(Q: np.ndarray, confusion: np.ndarray, fold: Fold) -> np.ndarray:
    """Per item of ``held``: the summed log-probability of its scored votes given the other votes.

    ``log sum_c Q[r, c] confusion[j, c, v]`` for the vote ``v`` of source
    ``j`` with cavity posterior ``Q[r]``: how well the model predicts *which
    class* a source votes, given that it votes. Meaningful for crowds, whose
    workers vote every class; with one-class labeling functions the class of
    a vote is fixed, and a model that puts every item in one class scores
    best, so :func:`vote_lift` is used for those.
    """
    p = np.einsum("nc,nc->n", Q, confusion[fold.source, :, fold.vote])
    return np.bincount(fold.item, weights=np.log(np.clip(p, TINY, None)), minlength=fold.held.n_items)


def _finite(P: np.ndarray) -> np.ndarray:
    P = np.asarray(P, dtype=np.float64)
    if not np.all(np.isfinite(P)):
        raise FloatingPointError("predict_proba returned NaN or infinite values")
    return P


def compare(evidence: CandidateEvidence, reference: CandidateEvidence, folds: list[Fold]) -> None:
    """Set the gains, standard errors and fold gains of ``evidence`` against ``reference`` (in place).

    The gain is per scored unit: per held-out vote, or (tie criterion) per
    item with tie pairs.
    """
    units = [_units(fold, evidence.tie) for fold in folds]
    evidence.n_votes = sum(units)
    evidence.gain, evidence.se, evidence.fold_gains = _gain(evidence.agreement, reference.agreement, units)
    if evidence.lift is not None and reference.lift is not None:
        votes = [int(fold.vote.size) for fold in folds]
        evidence.lift_votes = sum(votes)
        evidence.lift_gain, evidence.lift_se, evidence.lift_fold_gains = _gain(evidence.lift, reference.lift, votes)


def _units(fold: Fold, tie: bool) -> int:
    if not tie:
        return int(fold.vote.size)
    return 0 if fold.pairs is None else fold.pairs.n_items


def _gain(mine: list[np.ndarray], ref: list[np.ndarray], units: list[int]) -> tuple[float, float, list[float]]:
    """Pooled gain per scored unit, its standard error (items resampled) and the gain of each fold."""
    return pooled_gain([a - b for a, b in zip(mine, ref, strict=True)], units)


def pooled_gain(diffs: list[np.ndarray], units: list[int]) -> tuple[float, float, list[float]]:
    """Per fold, per-item gains ``diffs`` over ``units`` scored units: the pooled gain per unit, its standard
    error (items resampled) and the gain of each fold."""
    total = sum(units)
    if total == 0:
        return 0.0, 0.0, [0.0] * len(units)
    pooled = np.concatenate(diffs)
    se = float(np.sqrt(pooled.size * pooled.var()) / total)
    per_fold = [float(d.sum() / max(n, 1)) for d, n in zip(diffs, units, strict=True)]
    return float(pooled.sum() / total), se, per_fold


# ------------------------------------------------------------------------------------------ decision


def select_members(evidence: dict[str, CandidateEvidence], baseline: str | None) -> dict[str, float]:
    """Weights of the candidates to combine (summing to 1).

    The candidates with evidence of beating majority vote whose gain is not
    significantly below the best one (one paired standard error), weighted
    by gain; as tie-breakers (labeling functions) not significantly below
    the best lift either. Without any, the baseline alone (majority vote),
    or when there is none the candidate with the largest gain.
    """
    strong = {n: e for n, e in evidence.items() if e.has_evidence}
    if not strong:
        if baseline is not None:
            return {baseline: 1.0}
        ok = {n: e for n, e in evidence.items() if e.status == "ok"} or evidence
        return {max(ok, key=lambda n: ok[n].gain): 1.0}
    best = max(strong, key=lambda n: strong[n].gain)
    keep = {n: e.gain for n, e in strong.items() if e.gain >= strong[best].gain - _pair_se(e, strong[best])}
    if strong[best].tie:
        top = strong[max(strong, key=lambda n: strong[n].lift_gain)]
        keep = {n: g for n, g in keep.items()
                if strong[n].lift_gain >= top.lift_gain - _pair_se(strong[n], top, lift=True)} or {best: 1.0}
    total = sum(keep.values())
    return {n: g / total for n, g in sorted(keep.items(), key=lambda kv: -kv[1])}


def _pair_se(a: CandidateEvidence, b: CandidateEvidence, lift: bool = False) -> float:
    if a is b:
        return 0.0
    if lift:
        mine, theirs, n = a.lift or [], b.lift or [], a.lift_votes
    else:
        mine, theirs, n = a.agreement, b.agreement, a.n_votes
    d = np.concatenate([x - y for x, y in zip(mine, theirs, strict=True)]) if mine else np.zeros(0)
    return float(np.sqrt(d.size * d.var()) / n) if d.size and n else 0.0


def judge(ev: CandidateEvidence, reference: CandidateEvidence, folds: list[Fold], lf_shaped: bool,
          crowd: bool = False) -> None:
    """Compare ``ev`` with majority vote's ``reference``, set the bar it must clear and apply the guards (in place).

    On crowds (``crowd``) the collapse guard is relative (:mod:`._guards`).
    """
    compare(ev, reference, folds)
    ev.z_needed = Z_LF_EVIDENCE if lf_shaped else Z_EVIDENCE
    for P, P_ref, fold in zip(ev.held_proba, reference.held_proba, folds, strict=True):
        verdict = guard_report(P, P_ref, fold.held, CONTRADICTION if lf_shaped else CROWD_CONTRADICTION,
                               fold.held_counts, relative_collapse=crowd)
        if verdict != "ok":
            ev.status = verdict
            break


def agreement_alone(ev: CandidateEvidence, n_compared: int) -> CandidateEvidence:
    """Crowd evidence ``ev`` with the agreement (its second judge) as the only judge, at :func:`alone_z`.

    The log-likelihood moves to the ``lift_*`` fields, for the record
    (``scores_``); ``lift`` is None, so it is no longer required.
    """
    return replace(ev, agreement=ev.lift or [], gain=ev.lift_gain, se=ev.lift_se,
                   fold_gains=list(ev.lift_fold_gains), n_votes=ev.lift_votes, lift=None, lift_gain=ev.gain,
                   lift_se=ev.se, lift_fold_gains=list(ev.fold_gains), lift_votes=ev.n_votes,
                   z_needed=alone_z(n_compared))


def criterion_of(lf_shaped: bool, crowd: bool = False) -> str:
    """The ``criterion`` of :func:`score_candidate` for LF-shaped votes, crowds, or (neither) mixed votes."""
    return "tie" if lf_shaped else "crowd" if crowd else "loglik"


def evaluate(named: list[tuple[str, LabelModel]], folds: list[Fold], balance: np.ndarray | None, seed: int,
             reference: CandidateEvidence, on_error: Callable[[str, Exception], str],
             lf_shaped: bool, seconds: dict[str, float], crowd: bool = False) -> dict[str, CandidateEvidence]:
    """Score every candidate against the majority-vote ``reference`` and apply the guards.

    On LF-shaped votes (most sources vote a single class) candidates are
    scored as tie-breakers (``"tie"``) and the guards see majority vote with
    their ties broken, which is all of them that is ever used. On crowds
    (``crowd``, :func:`vote_kind`) the second judge is :func:`vote_agreement`,
    and the candidates above majority vote on it keep their posteriors
    (to be averaged if the agreement must judge alone, :func:`agreement_alone`).
    """
    from .majority import MajorityVote

    out: dict[str, CandidateEvidence] = {}
    plain_majority = MajorityVote().get_params()
    for name, est in named:
        t0 = time.perf_counter()
        try:
            if type(est) is MajorityVote and est.get_params() == plain_majority:  # the reference itself
                ev = replace(reference, fold_gains=[], lift_fold_gains=[])
            else:
                ev = score_candidate(est, folds, balance, seed, criterion_of(lf_shaped, crowd))
        except Exception as exc:  # a failing candidate is recorded and skipped, not fatal
            out[name] = CandidateEvidence([], [], gain=np.nan, se=np.nan, status=on_error(name, exc))
            continue
        finally:
            seconds[name] = time.perf_counter() - t0
        judge(ev, reference, folds, lf_shaped, crowd)
        if not (ev.above_majority or (crowd and agreement_alone(ev, 1).above_majority)):
            ev.posteriors = None  # only candidates above majority vote on the judges are ever averaged
        out[name] = ev
    return out
