"""One more no-gold candidate: the mean posterior of the candidates that beat majority vote on both judges.

When several candidates score above majority vote on the held-out votes
but none by enough to be trusted alone, betting on the top one is a
gamble: on labeling-function-shaped profiles the candidates the judges
rank first are often not the best tie-breakers, and a lower bar picked
models below majority vote. Their *average* errs less than its worst
member and is often better than its best. So the candidates whose gain
over majority vote is above zero on every judge (the tie pairs and the
lift on labeling-function votes, the vote log-likelihood and the
agreement with the held-out votes on crowds, and the lift on mixed votes;
on crowds where the agreement judges alone, the agreement; guards passed)
are averaged, with equal weights, on each fold's held-out posteriors they
were scored with (no refitting), and the average
is judged as one more candidate: the same comparison with majority vote,
the same bar and the same guards (:func:`weaklab.models._trust.judge`).
It then competes with the single candidates in
:func:`~weaklab.models._trust.select_members`, and when chosen, its members
are refitted on all the votes and averaged.

The members are picked on the halves the average is then scored on, a
mild selection (by the sign of the gains only) that the bar's margin
absorbs: on the 200 WRENCH-shaped matrices of the property test the average
had the evidence on 6 and gained on all of them.
"""

from __future__ import annotations

import numpy as np

from ._heldout import Fold
from ._trust import CandidateEvidence, FoldPosteriors, agreement_alone, criterion_of, evidence_of, judge

__all__ = ["average_candidate", "expand_members"]

MIN_MEMBERS = 2


def _above_majority(ev: CandidateEvidence) -> bool:
    """Passed the guards and above majority vote on the judges (its posteriors kept by ``evaluate``)."""
    return ev.posteriors is not None and ev.above_majority


def _mean(arrays: list[np.ndarray | None]) -> np.ndarray | None:
    if any(a is None for a in arrays):
        return None
    return np.mean([np.asarray(a, dtype=np.float64) for a in arrays], axis=0)  # type: ignore[arg-type]


def average_candidate(evidence: dict[str, CandidateEvidence], folds: list[Fold], balance: np.ndarray | None,
                      reference: CandidateEvidence, lf_shaped: bool,
                      baseline: str | None, crowd: bool = False,
                      alone: int | None = None) -> tuple[str, list[str], CandidateEvidence] | None:
    """The averaged candidate's name, members and judged evidence; None with fewer than two members.

    Parameters
    ----------
    evidence : dict of str to CandidateEvidence
        The judged candidates (:func:`weaklab.models._trust.evaluate`), in candidate order.
    folds : list of Fold
    balance : ndarray of shape (k,) or None
        The class balance given to ``fit``.
    reference : CandidateEvidence
        Majority vote's evidence.
    lf_shaped : bool
        Labeling-function-shaped votes (tie criterion) or crowds (log-likelihood).
    baseline : str or None
        Majority vote's candidate name (never a member).
    crowd : bool, default=False
        Crowd votes (:func:`weaklab.models._trust.vote_kind`): the second
        judge is the agreement with the held-out votes, not the lift.
    alone : int or None, default=None
        On crowds, when ``evidence`` holds the agreement alone
        (:func:`weaklab.models._trust.agreement_alone`): the number of
        candidates compared, and the average is judged the same way.

    Returns
    -------
    tuple of (str, list of str, CandidateEvidence) or None
    """
    members = [n for n, ev in evidence.items() if n != baseline and _above_majority(ev)]
    if len(members) < MIN_MEMBERS:
        return None
    outputs = []
    for f in range(len(folds)):
        parts = [evidence[n].posteriors[f] for n in members]  # type: ignore[index]
        held, cavity = _mean([p.held for p in parts]), _mean([p.cavity for p in parts])
        outputs.append(FoldPosteriors(held, cavity, _mean([p.pairs for p in parts]),  # type: ignore[arg-type]
                                      _mean([p.fit for p in parts])))
    ev = evidence_of(outputs, folds, balance, criterion_of(lf_shaped, crowd))
    judge(ev, reference, folds, lf_shaped, crowd)
    if alone is not None:
        ev = agreement_alone(ev, alone)
    ev.posteriors = None
    return f"mean({', '.join(members)})", members, ev


def expand_members(weights: dict[str, float], groups: dict[str, list[str]]) -> dict[str, float]:
    """Weights over real candidates: an averaged candidate's weight shared equally by its members.

    Sorted by weight, heaviest first.

    Examples
    --------
    >>> expand_members({"mean(A, B)": 0.5, "A": 0.5}, {"mean(A, B)": ["A", "B"]})
    {'A': 0.75, 'B': 0.25}
    """
    out: dict[str, float] = {}
    for name, w in weights.items():
        for member in groups.get(name, [name]):
            out[member] = out.get(member, 0.0) + w / len(groups.get(name, [name]))
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))
