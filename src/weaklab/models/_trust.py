"""No-gold evidence for :class:`~weaklab.models.auto.AutoLabelModel`: beat majority vote or keep it.

Without gold labels no criterion can *prove* a label model right, so the
unsupervised choice is anchored on majority vote and a candidate replaces it
only on evidence:

* **Held-out votes.** Items are split in two halves (:mod:`._heldout`). A
  candidate fitted on one half predicts every vote ``v_ij`` of the other
  half from the *cavity row* of item ``i`` (its other votes, without the
  near-copies of source ``j``), and majority vote does the same.
* **Lift** (labeling-function-shaped votes: most sources vote one class).
  The share of the cavity's hard label that is ``v_ij`` (ties count
  fractionally) minus the share of ``v_ij`` in the hard labels of the items
  where ``j`` abstained: a model gains nothing by predicting one class
  everywhere. The older criterion, the likelihood of a vote *given that the
  source voted*, rewards exactly that on LF data: a one-class LF's vote is
  fixed once it fires, so a model that puts every item in one class
  explains every vote. On LF data the candidates are also only allowed to
  break majority vote's ties (:func:`majority_ties_broken`), both when
  scored and when used: held-out votes come from items with more votes than
  the ones they would be applied to, and cannot vouch for overruling a clear
  majority.
* **Log-likelihood** (crowd-shaped votes, workers using every class): the
  held-out vote's log-probability under the candidate's posterior and the
  confusions estimated on the fit half; the lift must improve as well.
* **Evidence.** The gain over majority vote per scored vote is positive in
  both directions and ``Z_EVIDENCE`` (crowds: 2.5) or ``Z_LF_EVIDENCE`` (LF
  votes: 4) standard errors (items resampled) above zero. The held-out
  items of LF votes are a biased sample (items with more votes than the
  ones where the model breaks ties, enriched in well-covered classes), so
  the bar is higher there.
* **Guards** on the held-out half, against majority vote on the same items:
  a candidate is disqualified when it contradicts a strong consensus (two or
  more votes for a class, more than twice any other) on over 10 % of such
  items (35 % for crowds, where a model may rightly outvote agreeing
  spammers), when it grows a class's predicted share by over 20 points
  (collapse), when it is degenerate (20 points more ties, or near-uniform
  posteriors), or, on LF data, when the lone vote of an LF does not get its
  class for over 10 % of the votes (it relabels LFs).

The candidates with evidence are combined: their posteriors are averaged
with weights proportional to their gains, among those whose gain is not
significantly below the best one.
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
from ._heldout import Fold, source_class_counts

__all__ = [
    "CandidateEvidence",
    "tie_share",
    "guard_report",
    "score_candidate",
    "select_members",
    "lf_shaped",
    "majority_proba",
    "majority_ties_broken",
    "vote_lift",
    "vote_loglik",
    "confusion_from_posterior",
    "overruled_votes",
]

Z_EVIDENCE = 2.5  # standard errors by which a gain over majority vote must exceed zero (crowds)
Z_LF_EVIDENCE = 4.0  # the same on labeling-function votes, whose held-out items are the more biased sample
MIN_GAIN = 0.002  # smallest gain (share of scored votes) worth leaving majority vote for
CONTRADICTION = 0.10  # largest share of strong-consensus items a candidate may overturn (LF-shaped votes)
CROWD_CONTRADICTION = 0.35  # the same for crowds, where a model may rightly outvote agreeing spammers
MIN_STRONG = 20  # fewest strong-consensus items for the contradiction guard to apply
COLLAPSE = 0.20  # largest growth of one class's predicted share over majority vote's
EXTRA_TIES = 0.20  # largest growth of the share of tied items over majority vote's
OVERRULED = 0.10  # largest vote-weighted share of lone LF votes a candidate may overrule on LF-shaped data
FLAT = 0.02  # smallest mean top-two margin of a candidate's posteriors on voted items


# ------------------------------------------------------------------------------------------- scoring


def lf_shaped(L: LabelMatrix) -> bool:
    """True when most sources (with 10 votes or more) vote a single class, as labeling functions do."""
    from .dawid_skene import resolve_abstain

    return resolve_abstain("auto", source_class_counts(L).astype(np.float64)) == "model"


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
        (:func:`vote_lift`): evidence then needs both.
    lift_gain, lift_se : float
    lift_fold_gains : list of float
    """

    agreement: list[np.ndarray]
    held_proba: list[np.ndarray]
    gain: float = 0.0
    se: float = 0.0
    fold_gains: list[float] = field(default_factory=list)
    status: str = "ok"
    n_votes: int = 0
    overruled: float = 0.0
    lift: list[np.ndarray] | None = None
    lift_gain: float = 0.0
    lift_se: float = 0.0
    lift_fold_gains: list[float] = field(default_factory=list)
    z_needed: float = Z_EVIDENCE

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


def _significant(gain: float, se: float, fold_gains: list[float], z: float) -> bool:
    return gain >= MIN_GAIN and gain >= z * se and min(fold_gains, default=0.0) > 0


def score_candidate(est: LabelModel, folds: list[Fold], balance: np.ndarray | None, seed: int,
                    criterion: str) -> CandidateEvidence:
    """Fit ``est`` on each fold's ``fit`` half; score its cavity predictions; keep its held posteriors.

    ``criterion`` is ``"lift"`` (:func:`vote_lift`) or ``"loglik"``
    (:func:`vote_loglik`).
    """
    agreement, held, overruled, lift = [], [], [], []
    for fold in folds:
        model = fit_candidate(est, fold.fit, None, balance, seed)
        P_held = _finite(model.predict_proba(fold.held))
        Q = cavity_proba(model, fold)
        if criterion == "lift":  # labeling functions: the model only breaks majority vote's ties
            mv = fold.majority_balance(balance)
            P_held = majority_ties_broken(P_held, fold.held, mv, fold.held_counts)
            Q = majority_ties_broken(Q, fold.cavity, mv, fold.cavity_counts)
        lift.append(vote_lift(Q, P_held, fold))
        if criterion == "loglik":
            P_fit = _finite(model.predict_proba(fold.fit))
            agreement.append(vote_loglik(Q, confusion_from_posterior(fold.fit, P_fit, coo=fold.fit_coo), fold))
        held.append(P_held)
        overruled.append(overruled_votes(model, fold.fit, fold.fit_counts))
    if criterion == "lift":
        return CandidateEvidence(lift, held, overruled=max(overruled))
    return CandidateEvidence(agreement, held, overruled=max(overruled), lift=lift)


def overruled_votes(model: LabelModel, L: LabelMatrix, counts: np.ndarray | None = None) -> float:
    """Share of the votes of ``L`` whose source, voting alone, does not get its class from ``model``.

    For every (source, class) that occurs in ``L``, the posterior of an item
    on which only that source votes that class; a tie counts fractionally.
    The shares are weighted by the number of such votes; ``counts`` (``(m, k)``,
    :func:`source_class_counts` of ``L``) saves counting them again.
    """
    m, k = L.n_sources, L.n_classes
    counts = (source_class_counts(L) if counts is None else counts).reshape(-1).astype(np.float64)
    cells = np.flatnonzero(counts)
    if cells.size == 0:
        return 0.0
    rows = LabelMatrix.from_coo(np.arange(cells.size), cells // k, cells % k, n_items=cells.size, n_sources=m,
                                n_classes=k, source_names=L.source_names)
    share = tie_share(_finite(model.predict_proba(rows)))[np.arange(cells.size), cells % k]
    return float(1.0 - (counts[cells] * share).sum() / counts[cells].sum())


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


def vote_lift(Q: np.ndarray, P_held: np.ndarray, fold: Fold) -> np.ndarray:
    """Per item of ``held``: the summed lift of the scored votes.

    The lift of a vote ``v`` of source ``j`` is the share of the cavity's
    hard label that is ``v`` minus the mean share of ``v`` in the hard labels
    of the items on which ``j`` abstained and as many others voted as in a
    cavity (``min_cavity`` or more): a model that predicts ``v`` more
    everywhere gains nothing from it.
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
    return np.bincount(fold.item, weights=lift, minlength=fold.held.n_items)


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
    """Set the gains, standard errors and fold gains of ``evidence`` against ``reference`` (in place)."""
    evidence.n_votes = sum(fold.vote.size for fold in folds)
    evidence.gain, evidence.se, evidence.fold_gains = _gain(evidence.agreement, reference.agreement, folds)
    if evidence.lift is not None and reference.lift is not None:
        evidence.lift_gain, evidence.lift_se, evidence.lift_fold_gains = _gain(evidence.lift, reference.lift, folds)


def _gain(mine: list[np.ndarray], ref: list[np.ndarray], folds: list[Fold]) -> tuple[float, float, list[float]]:
    """Pooled gain per scored vote, its standard error (items resampled) and the gain of each fold."""
    diffs = [a - b for a, b in zip(mine, ref, strict=True)]
    n_votes = sum(fold.vote.size for fold in folds)
    if n_votes == 0:
        return 0.0, 0.0, [0.0] * len(folds)
    pooled = np.concatenate(diffs)
    se = float(np.sqrt(pooled.size * pooled.var()) / n_votes)
    per_fold = [float(d.sum() / max(f.vote.size, 1)) for d, f in zip(diffs, folds, strict=True)]
    return float(pooled.sum() / n_votes), se, per_fold


# -------------------------------------------------------------------------------------------- guards


def guard_report(P: np.ndarray, P_ref: np.ndarray, L: LabelMatrix, contradiction: float = CONTRADICTION,
                 counts: np.ndarray | None = None) -> str:
    """``"ok"`` or the reason ``P`` is not a trustworthy label model on ``L`` next to majority vote ``P_ref``.

    ``counts``: ``L.class_counts()``, when already at hand.
    """
    counts = L.class_counts() if counts is None else counts
    voted = counts.sum(axis=1) > 0
    if not voted.any():
        return "ok"
    share, ref = tie_share(P[voted]), tie_share(P_ref[voted])
    strong = _strong_consensus(counts[voted])
    if strong.sum() >= MIN_STRONG:
        top = counts[voted][strong].argmax(axis=1)
        overturned = 1.0 - float(share[strong][np.arange(top.size), top].mean())
        if overturned > contradiction:
            return (f"disqualified: contradicts a strong vote consensus on {overturned:.0%} of "
                    f"{int(strong.sum())} such items")
    growth = share.mean(axis=0) - ref.mean(axis=0)
    if growth.max() > COLLAPSE:
        c = int(growth.argmax())
        return (f"disqualified: class balance collapses (class {c} gets {share[:, c].mean():.0%} of the "
                f"voted items, majority vote {ref[:, c].mean():.0%})")
    ties, ref_ties = _tied(share), _tied(ref)
    if ties - ref_ties > EXTRA_TIES:
        return f"disqualified: degenerate ({ties:.0%} of voted items tied, majority vote {ref_ties:.0%})"
    top2 = np.sort(P[voted], axis=1)[:, -2:]
    if float((top2[:, 1] - top2[:, 0]).mean()) < FLAT:
        return "disqualified: degenerate (near-uniform posteriors on voted items)"
    return "ok"


def _strong_consensus(counts: np.ndarray) -> np.ndarray:
    """Items with at least two votes for one class and more than twice as many as for any other."""
    ordered = np.sort(counts, axis=1)
    return (ordered[:, -1] >= 2) & (ordered[:, -1] > 2 * ordered[:, -2])


def _tied(share: np.ndarray) -> float:
    return float((share.max(axis=1) < 1.0 - 1e-9).mean())


# ------------------------------------------------------------------------------------------ decision


def select_members(evidence: dict[str, CandidateEvidence], baseline: str | None) -> dict[str, float]:
    """Weights of the candidates to combine (summing to 1).

    The candidates with evidence of beating majority vote whose gain is not
    significantly below the best one (one paired standard error), weighted
    by gain; without any, the baseline alone (majority vote), or when there
    is none the candidate with the largest gain.
    """
    strong = {n: e for n, e in evidence.items() if e.has_evidence}
    if not strong:
        if baseline is not None:
            return {baseline: 1.0}
        ok = {n: e for n, e in evidence.items() if e.status == "ok"} or evidence
        return {max(ok, key=lambda n: ok[n].gain): 1.0}
    best = max(strong, key=lambda n: strong[n].gain)
    keep = {n: e.gain for n, e in strong.items() if e.gain >= strong[best].gain - _pair_se(e, strong[best])}
    total = sum(keep.values())
    return {n: g / total for n, g in sorted(keep.items(), key=lambda kv: -kv[1])}


def _pair_se(a: CandidateEvidence, b: CandidateEvidence) -> float:
    if a is b:
        return 0.0
    d = np.concatenate([x - y for x, y in zip(a.agreement, b.agreement, strict=True)])
    return float(np.sqrt(d.size * d.var()) / a.n_votes) if d.size and a.n_votes else 0.0


def evaluate(named: list[tuple[str, LabelModel]], folds: list[Fold], balance: np.ndarray | None, seed: int,
             reference: CandidateEvidence, on_error: Callable[[str, Exception], str],
             lf_shaped: bool, seconds: dict[str, float]) -> dict[str, CandidateEvidence]:
    """Score every candidate against the majority-vote ``reference`` and apply the guards.

    On LF-shaped votes (most sources vote a single class) a candidate that
    overrules the lone vote of its source for over ``OVERRULED`` of the votes
    is disqualified: it has relabelled labeling functions.
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
                ev = score_candidate(est, folds, balance, seed, "lift" if lf_shaped else "loglik")
        except Exception as exc:  # a failing candidate is recorded and skipped, not fatal
            out[name] = CandidateEvidence([], [], gain=np.nan, se=np.nan, status=on_error(name, exc))
            continue
        finally:
            seconds[name] = time.perf_counter() - t0
        compare(ev, reference, folds)
        ev.z_needed = Z_LF_EVIDENCE if lf_shaped else Z_EVIDENCE
        if lf_shaped and ev.overruled > OVERRULED:
            ev.status = (f"disqualified: overrules labeling functions (the lone vote of an LF does not get "
                         f"its class for {ev.overruled:.0%} of the votes)")
            out[name] = ev
            continue
        for P, P_ref, fold in zip(ev.held_proba, reference.held_proba, folds, strict=True):
            verdict = guard_report(P, P_ref, fold.held, CONTRADICTION if lf_shaped else CROWD_CONTRADICTION,
                                   fold.held_counts)
            if verdict != "ok":
                ev.status = verdict
                break
        out[name] = ev
    return out
