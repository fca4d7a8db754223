"""The no-gold path of :class:`~weaklab.models.auto.AutoLabelModel`: choose, combine, refit, check, explain.

:func:`fit_without_gold` scores the candidates against majority vote
(:mod:`weaklab.models._trust`), refits the chosen ones on all the votes,
checks the combination once more against majority vote on all the items
(falling back to majority vote when it collapsed on the full data, or, on
labeling-function votes, when another candidate with evidence breaks the
real ties too differently for the held-out tie pairs to speak for them:
:mod:`._tie_check`), and
says what happened in ``reason_``, ``scores_`` and, when the choice is
close or risky, a :class:`UserWarning`.

The items nobody voted on get :mod:`._no_vote`'s posterior on
labeling-function votes; on other votes the chosen combination's, with
its ties broken by majority vote's class balance (the held-out votes that
chose it never test its prior: GLAD, whose prior is uniform, flipped a
4-way coin on the 49 % unvoted items of ``wrench_like(6021)``, 4.15
points below majority vote).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._core import LabelMatrix
from .._core.warn import warn
from ._auto_select import fit_candidate, row_hashes
from ._average import average_candidate, expand_members
from ._base import LabelModel
from ._blind_ties import BLIND_MODELS, MIN_PAIRS, agreed_tie_proba, blind_judge, ties_to_break
from ._heldout import Fold, eval_votes, leave_one_out_rows, make_folds
from ._no_vote import MIN_AGREEMENT, RISKY_DEPARTURE, NoVoteVerdict, majority_agreement, no_vote_posterior
from ._tie_check import class_preference, contradicted_ties, credible_dissenters, default_vote_items, default_voters
from ._trust import (
    CONTRADICTION,
    CROWD_CONTRADICTION,
    MIN_GAIN,
    CandidateEvidence,
    agreement_alone,
    alone_z,
    criterion_of,
    evaluate,
    guard_report,
    majority_ties_broken,
    score_candidate,
    select_members,
    tie_share,
    vote_kind,
)

__all__ = ["NoGoldFit", "fit_without_gold", "combined_proba", "departure", "estimated_source_accuracy"]

logger = logging.getLogger("weaklab.models.auto")

MIN_SHARED_VOTES = 10  # a source's no-gold accuracy estimate needs this many votes beside another vote
CLOSE_GAIN = 0.01  # a candidate this far above majority vote, without enough evidence, is a close call
CLOSE_Z = 1.5


@dataclass
class NoGoldFit:
    """Fitted state of the no-gold path (copied onto the AutoLabelModel)."""

    scores: pd.DataFrame
    selected: str
    criterion: str
    members: list[tuple[str, float]]
    models: list[LabelModel]
    reason: str
    source_accuracy: np.ndarray
    lone_votes_majority: bool
    majority_balance: np.ndarray
    no_vote: np.ndarray | None = None
    tie_models: list[LabelModel] = field(default_factory=list)


def combined_proba(models: list[LabelModel], weights: list[float], L: LabelMatrix,
                   majority_balance: np.ndarray | None = None, counts: np.ndarray | None = None,
                   no_vote: np.ndarray | None = None, tie_models: list[LabelModel] | None = None) -> np.ndarray:
    """Weighted average of the members' posteriors (a single member's as is).

    With ``majority_balance`` the average only breaks majority vote's ties
    (:func:`~weaklab.models._trust.majority_ties_broken`): on
    labeling-function votes the held-out evidence cannot vouch for a model
    that overrules a clear majority, so it is not allowed to. ``counts``:
    ``L.class_counts()``, when already at hand. ``no_vote``: the posterior
    of the items nobody voted on (:func:`no_vote_posterior`), when set.
    ``tie_models``: the fitted ``BLIND_MODELS`` whose agreement breaks the
    ties of a single majority-vote member (:mod:`._blind_ties`), when set.
    """
    if len(models) == 1:
        out = np.asarray(models[0].predict_proba(L), dtype=np.float64)
    else:
        total = np.zeros((L.n_items, models[0].n_classes_), dtype=np.float64)
        for model, w in zip(models, weights, strict=True):
            total += w * np.asarray(model.predict_proba(L), dtype=np.float64)
        out = total / float(np.sum(weights))
    if majority_balance is not None:
        out = majority_ties_broken(out, L, majority_balance, counts)
    if tie_models:
        out = agreed_tie_proba(dict(zip(BLIND_MODELS, tie_models, strict=True)), L, out, counts)
    if no_vote is not None:
        out = np.array(out, dtype=np.float64)
        out[L.votes_per_item() == 0] = no_vote
    return out


def fit_without_gold(named: list[tuple[str, LabelModel]], L: LabelMatrix, balance: np.ndarray | None,
                     salt: int, seed: int, seconds: dict[str, float], gold_note: str,
                     default_class: int | None = None) -> NoGoldFit:
    """Choose without gold, refit the chosen candidates on ``L``, check and explain (see the module docstring).

    ``default_class``: the class a source votes where its evidence is missing
    (``AutoLabelModel(default_class=...)``); on labeling-function votes the
    ties its default votes join are left out of the tie check and not broken
    by the models of abstentions (:mod:`._tie_check`, *Sources that vote by
    default*).
    """
    from .majority import MajorityVote

    baseline = next((n for n, e in named if type(e) is MajorityVote), None)
    kind = vote_kind(L)  # "lf" exactly when lf_shaped(L)
    lf, crowd = kind == "lf", kind == "crowd"
    defaults = default_voters(L, default_class if lf else None)
    judged = None if not defaults.any() else ~default_vote_items(L, defaults, int(default_class))  # type: ignore[arg-type]
    criterion = "heldout_tie_break" if lf else "heldout_vote_loglik"
    groups: dict[str, list[str]] = {}  # an averaged candidate's members
    folds = None
    if L.n_sources < 2 or L.nnz < 4:
        evidence: dict[str, CandidateEvidence] = {}
        weights = {baseline or named[0][0]: 1.0}
    else:
        folds = make_folds(L, salt, pairs=lf)
        t0 = time.perf_counter()
        reference = score_candidate(MajorityVote(), folds, balance, seed, criterion_of(lf, crowd))
        seconds["<majority-vote reference>"] = time.perf_counter() - t0
        evidence = evaluate(named, folds, balance, seed, reference, _on_error, lf, seconds, crowd)
        average = average_candidate(evidence, folds, balance, reference, lf, baseline, crowd)
        if average is not None:
            evidence[average[0]], groups[average[0]] = average[2], average[1]
        weights = select_members(evidence, baseline)
        if crowd and list(weights) == [baseline]:
            alone = _agreement_alone(named, evidence, set(groups), folds, balance, reference, baseline)
            if alone is not None:
                evidence, groups, weights = alone
                criterion = "heldout_vote_agreement"
    estimators = dict(named)
    shares = expand_members(weights, groups)  # weights over the real candidates
    models = [fit_candidate(estimators[n], L, None, balance, seed, quiet=False) for n in shares]
    majority = MajorityVote().fit(L, class_balance=balance)
    lone = lf and list(weights) != [baseline]
    mv_balance = np.asarray(majority.class_balance_, dtype=np.float64)
    counts = L.class_counts()
    P = combined_proba(models, list(shares.values()), L, mv_balance if lone else None, counts)
    P_mv = majority.predict_proba(L)
    fallback = _final_check(P, P_mv, L, lf, weights, baseline, counts, crowd)
    if not fallback and lone and evidence:
        fallback = _contradicted(weights, evidence, estimators, dict(zip(shares, models, strict=True)), L, P,
                                 mv_balance, counts, balance, seed, baseline, judged)
    if fallback:
        weights, shares, lone = {baseline: 1.0}, {baseline: 1.0}, False  # type: ignore[dict-item]
        models = [fit_candidate(estimators[baseline], L, None, balance, seed, quiet=False)]  # type: ignore[index]
        P = combined_proba(models, [1.0], L)
    scores = _table(named, evidence, weights, shares, groups)
    reason = _reason(weights, evidence, baseline, criterion, gold_note, scores, fallback)
    if crowd and folds is not None and list(weights) == [baseline]:
        reason += f"; nor by the held-out vote agreement alone (needed z = {alone_z(len(named)):.2f})"
    if lone and folds is not None:
        reason += _class_preference(weights, shares, evidence, folds)
    tie_models: list[LabelModel] = []
    blind = lf and folds is not None and blind_judge(folds, counts)
    if lf and folds is not None and not fallback and list(shares) == [baseline] and ties_to_break(counts, blind):
        tie_models, note = _blind_ties(named, L, P, P_mv, balance, counts, seed, blind, defaults)
        reason += f"; {note}"
    if judged is not None:
        reason += _default_note(L, defaults, int(default_class), counts, judged)  # type: ignore[arg-type]
    fitted = {**dict(zip(shares, models, strict=True)), **dict(zip(BLIND_MODELS, tie_models))}  # fitted once
    verdict = _no_vote(L, lf, balance, mv_balance, seed, fitted, P)
    reason += f"; {verdict.note}" if verdict.note else ""
    if verdict.warning:
        warn(verdict.warning)
    stakes = _tied_share(counts) if lf else 1.0  # tie-breakers can only relabel majority vote's ties
    _warn_if_uncertain(weights, evidence, baseline, departure(P, P_mv, L), fallback, stakes)
    accuracy = _source_accuracy(models, list(shares.values()), L, salt, mv_balance if lone else None)
    return NoGoldFit(scores, next(iter(shares)), criterion, list(shares.items()), models, reason, accuracy,
                     lone, mv_balance, verdict.posterior, tie_models)


def _agreement_alone(named: list[tuple[str, LabelModel]], evidence: dict[str, CandidateEvidence], averaged: set[str],
                     folds: list[Fold], balance: np.ndarray | None, reference: CandidateEvidence,
                     baseline: str | None,
                     ) -> tuple[dict[str, CandidateEvidence], dict[str, list[str]], dict[str, float]] | None:
    """On a crowd where no candidate has the evidence of both judges: the choice by the agreement alone, or None.

    The agreement with the held-out votes judges alone, at a bar corrected
    for the number of candidates (:func:`~weaklab.models._trust.agreement_alone`),
    and the average of the candidates above majority vote on it competes
    (:func:`average_candidate`; ``averaged``: the names of the averages
    judged by both, left out). None when that keeps majority vote too.
    """
    n = len(named)
    alone = {name: agreement_alone(ev, n) for name, ev in evidence.items() if name not in averaged}
    groups: dict[str, list[str]] = {}
    average = average_candidate(alone, folds, balance, reference, False, baseline, True, alone=n)
    if average is not None:
        alone[average[0]], groups[average[0]] = average[2], average[1]
    weights = select_members(alone, baseline)
    return None if list(weights) == [baseline] else (alone, groups, weights)


def _blind_ties(named: list[tuple[str, LabelModel]], L: LabelMatrix, P: np.ndarray, P_mv: np.ndarray,
                balance: np.ndarray | None, counts: np.ndarray, seed: int,
                blind: bool = True, defaults: np.ndarray | None = None) -> tuple[list[LabelModel], str]:
    """The ``BLIND_MODELS`` fitted on ``L`` when majority vote's ties may be broken where they agree, and why.

    They must both be candidates, fit, read the votes as majority vote does
    (``MIN_AGREEMENT`` of the items with one most-voted class get that class
    first) and pass the guards (:func:`guard_report`); see :mod:`._blind_ties`.
    ``blind``: whether no tie pair could be refereed (:func:`blind_judge`;
    it only changes what ``reason_`` says). ``defaults``: the sources that
    vote by default (:func:`~weaklab.models._tie_check.default_voters`);
    with any, the coin flip is kept (models of abstentions cannot see their
    abstentions).
    """
    if blind:
        head = (f"no tie pair could be refereed (fewer than {MIN_PAIRS} items whose other votes side with one of "
                "two disagreeing votes), so no candidate could show it breaks majority vote's ties")
    else:
        head = ("no candidate showed on the held-out tie pairs that it breaks majority vote's ties (the pairs come "
                "from items with three or more votes, a biased sample of the real ties)")
    if defaults is not None and defaults.any():
        return [], (f"{head}; kept its coin flip (models of abstentions would read the default votes of sources "
                    "that never abstain as judgements)")
    estimators = dict(named)
    missing = [n for n in BLIND_MODELS if n not in estimators]
    if missing:
        return [], f"{head}; kept its coin flip ({', '.join(missing)} not among the candidates)"
    try:
        models = [fit_candidate(estimators[n], L, None, balance, seed) for n in BLIND_MODELS]
    except (FloatingPointError, ValueError) as exc:
        return [], f"{head}; kept its coin flip (a model of abstentions failed: {exc})"
    agreement = {n: majority_agreement(m, L) for n, m in zip(BLIND_MODELS, models, strict=True)}
    low = {n: a for n, a in agreement.items() if a < MIN_AGREEMENT}
    if low:
        said = ", ".join(f"{n} {a:.0%}" for n, a in low.items())
        return [], (f"{head}; kept its coin flip (models of abstentions that read the clear majorities otherwise: "
                    f"{said} of them agree, {MIN_AGREEMENT:.0%} needed)")
    P_new = agreed_tie_proba(dict(zip(BLIND_MODELS, models, strict=True)), L, P, counts)
    verdict = guard_report(P_new, P_mv, L, CONTRADICTION, counts)
    if verdict != "ok":
        return [], f"{head}; kept its coin flip (the broken ties failed a guard: {verdict})"
    moved = departure(P_new, P, L)
    return models, (f"{head}; its ties are broken where {' and '.join(BLIND_MODELS)} (models of abstentions) "
                    f"agree ({moved:.1%} of the voted items' labels move from the coin flip)")


def _no_vote(L: LabelMatrix, lf: bool, balance: np.ndarray | None, mv_balance: np.ndarray,
             seed: int, fitted: dict[str, LabelModel], P: np.ndarray) -> NoVoteVerdict:
    """The posterior of the items nobody voted on.

    On labeling-function votes with no given class balance it is
    :func:`no_vote_posterior` (majority vote's unless the models of
    abstentions agree on another class). On other votes it is the chosen
    combination's posterior ``P`` there, its ties broken by majority vote's
    class balance (:func:`_ties_to_majority`): a model that has no class to
    prefer for them (GLAD's uniform prior) would otherwise flip a coin where
    majority vote gives its most-voted class.
    """
    unvoted = L.votes_per_item() == 0
    if not lf and np.any(unvoted):
        chosen = P[unvoted].mean(axis=0)
        posterior = _ties_to_majority(chosen, mv_balance)
        if posterior is None or np.allclose(posterior, chosen):
            return NoVoteVerdict(None, "")
        return NoVoteVerdict(posterior, (
            f"the chosen model ties classes on the {int(unvoted.sum())} items without votes "
            f"({unvoted.mean():.0%}); majority vote's class balance breaks the tie"))
    if not lf or balance is not None or L.n_sources < 2 or not np.any(unvoted):
        return NoVoteVerdict(None, "")
    try:
        return no_vote_posterior(L, mv_balance, seed, fitted)
    except (FloatingPointError, ValueError) as exc:  # keep majority vote's prior, say why
        logger.warning("AutoLabelModel: models of abstentions failed on the votes: %s", exc)
        return NoVoteVerdict(None, f"items without votes keep majority vote's class (models of abstentions "
                                   f"failed: {exc})")


def _ties_to_majority(p: np.ndarray, mv_balance: np.ndarray, tol: float = 1e-9) -> np.ndarray | None:
    """``p`` with the mass of its tied top classes shared in proportion to ``mv_balance``; None without a tie.

    Examples
    --------
    >>> _ties_to_majority(np.array([0.4, 0.4, 0.2]), np.array([0.2, 0.5, 0.3])).round(3).tolist()
    [0.229, 0.571, 0.2]
    >>> _ties_to_majority(np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.5, 0.3])) is None
    True
    """
    tied = p >= p.max() - tol
    if tied.sum() < 2:
        return None
    weight = np.where(tied, mv_balance, 0.0)
    if weight.sum() <= 0:
        return None
    return np.where(tied, p[tied].sum() * weight / weight.sum(), p)


def _contradicted(weights: dict[str, float], evidence: dict[str, CandidateEvidence],
                  estimators: dict[str, LabelModel], fitted: dict[str, LabelModel], L: LabelMatrix, P: np.ndarray,
                  mv_balance: np.ndarray, counts: np.ndarray, balance: np.ndarray | None, seed: int,
                  baseline: str | None, judged: np.ndarray | None = None) -> str:
    """Empty, or why the chosen tie-breaker is contradicted on the real ties (:mod:`._tie_check`).

    When it is, the status of the chosen candidates in ``evidence`` says so.
    ``judged``: the items whose ties are judged (all when None).
    """
    chosen_gain = sum(w * evidence[n].gain for n, w in weights.items())
    dissenters = {}
    for name in credible_dissenters(evidence, estimators, baseline):
        if list(fitted) == [name]:
            continue  # the choice itself
        model = fitted.get(name)

        def predict(M: LabelMatrix, name: str = name, model: LabelModel | None = model) -> np.ndarray:
            found = model or fit_candidate(estimators[name], L, None, balance, seed)
            return np.asarray(found.predict_proba(M), dtype=np.float64)

        dissenters[name] = (evidence[name].gain, predict)
    found = contradicted_ties(P, chosen_gain, L, mv_balance, counts, dissenters, judged)
    if found is None:
        return ""
    for name in weights:  # scores_ says why the chosen rows are not used
        evidence[name].status = (f"disqualified: breaks {found.disagreement:.0%} of the real ties otherwise than "
                                 f"{found.name}, over the {found.bound:.0%} their gains allow")
    return found.describe(chosen_gain)


def _class_preference(weights: dict[str, float], shares: dict[str, float], evidence: dict[str, CandidateEvidence],
                      folds: list[Fold]) -> str:
    """Empty, or a clause (and a warning) when the chosen tie-breaker's gain is a class preference (:mod:`._tie_check`).

    The chosen candidates' posteriors of the tie pairs are averaged with
    their shares of the final posterior (``shares``).
    """
    found = [evidence[n].posteriors for n in shares]
    if any(p is None for p in found):
        return ""
    total = sum(shares.values())
    pair_proba: list[np.ndarray | None] = []
    for f in range(len(folds)):
        parts = [(w, posteriors[f].pairs) for w, posteriors in zip(shares.values(), found, strict=True)]  # type: ignore[index]
        pair_proba.append(None if any(P is None for _, P in parts)
                          else np.asarray(sum(w * np.asarray(P, dtype=np.float64) for w, P in parts)) / total)
    gain = sum(w * evidence[n].gain for n, w in weights.items()) / sum(weights.values())
    verdict = class_preference(pair_proba, folds, gain)
    if verdict is None:
        return ""
    warn(f"AutoLabelModel: {verdict.describe()}. A few dozen gold labels (fit(..., gold=...)) would settle it.")
    return f"; {verdict.describe()}"


def _default_note(L: LabelMatrix, defaults: np.ndarray, default_class: int, counts: np.ndarray,
                  judged: np.ndarray) -> str:
    """The clause of ``reason_`` naming the sources that vote by default and the ties their default votes join."""
    top = counts.max(axis=1, keepdims=True)
    ties = ((counts == top) & (top > 0)).sum(axis=1) > 1
    names = ", ".join(str(L.source_names[j]) for j in np.flatnonzero(defaults))
    return (f"; {names} vote{'s' if defaults.sum() == 1 else ''} class {default_class} by default (on nearly "
            f"every item): the {int((ties & ~judged).sum())} of the {int(ties.sum())} tied items a default vote "
            "joins are left out of the tie check, and no models of abstentions break majority vote's ties")


def _on_error(name: str, exc: Exception) -> str:
    logger.warning("AutoLabelModel: candidate %s failed: %s: %s", name, type(exc).__name__, exc)
    return f"error: {type(exc).__name__}: {exc}"


def _final_check(P: np.ndarray, P_mv: np.ndarray, L: LabelMatrix, lf: bool, weights: dict[str, float],
                 baseline: str | None, counts: np.ndarray, crowd: bool = False) -> str:
    """Empty, or why the refitted combination is not trusted on all of ``L`` (then majority vote is used)."""
    if baseline is None or list(weights) == [baseline]:
        return ""
    verdict = guard_report(P, P_mv, L, CONTRADICTION if lf else CROWD_CONTRADICTION, counts, relative_collapse=crowd)
    return "" if verdict == "ok" else verdict.removeprefix("disqualified: ")


def _table(named: list[tuple[str, LabelModel]], evidence: dict[str, CandidateEvidence],
           weights: dict[str, float], shares: dict[str, float], groups: dict[str, list[str]]) -> pd.DataFrame:
    """One row per candidate (and averaged candidate); ``weight``: its share of the final posterior.

    An averaged candidate's row carries its weight in the choice; its
    members' rows carry their shares of the final average.
    """
    rows = []
    names = [n for n, _ in named] + list(groups)
    final = {**shares, **{n: weights.get(n, 0.0) for n in groups}}
    for name in names:
        ev = evidence.get(name)
        if ev is None:
            status = "ok" if name in final else "skipped: too few votes to compare models"
            rows.append((name, False, np.nan, 0.0 if name in final else np.nan, np.nan, status))
        else:
            rows.append((name, False, np.nan, ev.gain, ev.se, ev.status))
    table = pd.DataFrame(rows, columns=["candidate", "uses_gold", "threshold", "score", "score_std", "status"])
    table["z"] = [evidence[n].z if n in evidence else np.nan for n in names]
    table["lift"] = [evidence[n].lift_gain if n in evidence else np.nan for n in names]
    table["lift_z"] = [_lift_z(evidence[n]) if n in evidence else np.nan for n in names]
    table["weight"] = [final.get(n, 0.0) for n in names]
    table = table.sort_values(["weight", "score"], ascending=False, kind="stable", na_position="last")
    return table.reset_index(drop=True)


def _lift_z(ev: CandidateEvidence) -> float:
    return 0.0 if ev.lift_se == 0 else ev.lift_gain / ev.lift_se


def _reason(weights: dict[str, float], evidence: dict[str, CandidateEvidence], baseline: str | None,
            criterion: str, gold_note: str, scores: pd.DataFrame, fallback: str) -> str:
    what = {"heldout_tie_break": "held-out tie-breaking over majority vote's coin flip (labeling-function-shaped "
                                 "votes: two disagreeing votes of an item, judged by its other votes)",
            "heldout_vote_agreement": "held-out vote agreement alone over majority vote (crowd-shaped votes on "
                                      "which no candidate beat it on the vote log-likelihood and the agreement "
                                      "together; the bar corrected for the number of candidates)",
            }.get(criterion, "held-out vote log-likelihood over majority vote (crowd-shaped votes)")
    how = f"by {what}, an unsupervised proxy{gold_note}"
    names = list(weights)
    if fallback:
        text = f"kept {baseline}: the chosen combination failed the final check on all items ({fallback})"
    elif names == [baseline] or not evidence:
        better = [n for n, e in evidence.items() if e.status == "ok" and e.gain > 0 and n != baseline]
        text = f"kept {names[0]} {how}: no candidate showed stable evidence of beating it"
        if better:
            top = max(better, key=lambda n: evidence[n].gain)
            text += (f" (best: {top}, gain {evidence[top].gain:+.4f}, z = {evidence[top].z:.1f}, "
                     f"needed {evidence[top].z_needed:g})")
    else:
        parts = [f"{n} (weight {w:.2f}, gain {evidence[n].gain:+.4f}, z = {evidence[n].z:.1f})"
                 for n, w in weights.items()]
        verb = "selected" if len(names) == 1 else "combined the posteriors of"
        text = f"{verb} " + ", ".join(parts) + f" {how}; each beat majority vote in both halves"
        if criterion == "heldout_tie_break":
            text += "; it only breaks majority vote's ties (on labeling functions nothing can vouch for a model "
            text += "that overrules a clear majority)"
    failed = scores[~scores["status"].isin(["ok"])]
    if len(failed):
        text += "; " + "; ".join(f"{r.candidate}: {r.status}" for r in failed.itertuples())
    return text


def _tied_share(counts: np.ndarray) -> float:
    """Share of the voted items on which majority vote ties (``counts``: ``L.class_counts()``)."""
    top = counts.max(axis=1, keepdims=True)
    voted = top[:, 0] > 0
    return float((((counts == top) & voted[:, None]).sum(axis=1) > 1).sum() / max(int(voted.sum()), 1))


def _warn_if_uncertain(weights: dict[str, float], evidence: dict[str, CandidateEvidence], baseline: str | None,
                       moved: float, fallback: str, stakes: float = 1.0) -> None:
    """Warn when the choice is risky or close; ``stakes`` is the largest share of labels the choice can move."""
    names = list(weights)
    message = ""
    if fallback:
        message = (f"AutoLabelModel fell back to majority vote: the model chosen on half of the items "
                   f"failed the final check on all of them ({fallback}). A few dozen gold labels "
                   "(fit(..., gold=...)) would settle the choice.")
    elif names != [baseline] and baseline is not None and evidence:
        weakest = min(evidence[n].z for n in names)
        if moved > RISKY_DEPARTURE and weakest < 2 * evidence[names[0]].z_needed:
            message = (f"AutoLabelModel chose {' + '.join(names)} without gold; it changes {moved:.0%} of the "
                       f"majority-vote labels on weak evidence (z = {weakest:.1f}). A few dozen gold labels "
                       f"(fit(..., gold=...)) would settle the choice.")
    else:
        close = [n for n, e in evidence.items() if n != baseline and e.status == "ok"
                 and e.gain >= max(CLOSE_GAIN, MIN_GAIN) and CLOSE_Z <= e.z < e.z_needed
                 and (not e.tie or e.lift_gain >= CLOSE_Z * e.lift_se > 0)]  # tie-breakers: the lift too
        close = close if stakes >= RISKY_DEPARTURE else []  # too few ties for the choice to matter much
        if close:
            top = max(close, key=lambda n: evidence[n].z)
            message = (f"AutoLabelModel kept majority vote without gold, but {top} scored higher without "
                       f"enough evidence (gain {evidence[top].gain:+.3f}, z = {evidence[top].z:.1f}); the "
                       f"choice is close. A few dozen gold labels (fit(..., gold=...)) would settle it.")
    if message:
        warn(message)


def departure(P: np.ndarray, P_ref: np.ndarray, L: LabelMatrix) -> float:
    """Expected share of the voted items whose hard label differs between ``P`` and ``P_ref``."""
    voted = L.votes_per_item() > 0
    if not voted.any():
        return 0.0
    return float(1.0 - (tie_share(P[voted]) * tie_share(P_ref[voted])).sum(axis=1).mean())


def _source_accuracy(models: list[LabelModel], weights: list[float], L: LabelMatrix, salt: int,
                     majority_balance: np.ndarray | None) -> np.ndarray:
    """The members' own estimates (weighted), else :func:`estimated_source_accuracy` of the combination."""
    own = [(np.asarray(m.source_accuracy_, dtype=np.float64), w) for m, w in zip(models, weights, strict=True)
           if getattr(m, "source_accuracy_", None) is not None]
    if own:
        return np.asarray(sum(a * w for a, w in own) / sum(w for _, w in own))

    def predict(M: LabelMatrix) -> np.ndarray:
        return combined_proba(models, weights, M, majority_balance)

    return estimated_source_accuracy(predict, L, salt)


def estimated_source_accuracy(predict: Callable[[LabelMatrix], np.ndarray], L: LabelMatrix,
                              salt: int) -> np.ndarray:
    """Each source's accuracy as a model sees it: ``P(y = vote)`` from the item's *other* votes.

    Computed on an order-free sample of at most 50,000 votes. A source with
    fewer than :data:`MIN_SHARED_VOTES` sampled votes that share their item
    with another vote gets NaN: without gold nothing else speaks to its
    accuracy (its vote alone always agrees with majority vote's label, and a
    handful of shared votes are mostly its conflicts), so a number there
    would be noise presented as an estimate. A source without votes gets NaN.

    Parameters
    ----------
    predict : callable
        ``LabelMatrix -> (n, k)`` posteriors.
    L : LabelMatrix
    salt : int
        Salts the vote sample.

    Returns
    -------
    ndarray of shape (m,)
    """
    m = L.n_sources
    if L.nnz == 0:
        return np.full(m, np.nan)
    keep = eval_votes(L, row_hashes(L, salt), salt)
    cavity, _, source, vote = leave_one_out_rows(L, keep)
    shared = (cavity.votes_per_item() > 0).astype(np.float64)
    rows = np.arange(vote.size)
    p_other = np.asarray(predict(cavity))[rows, vote]
    n_shared = np.bincount(source, weights=shared, minlength=m)
    out = np.full(m, np.nan)
    np.divide(np.bincount(source, weights=shared * p_other, minlength=m), n_shared, out=out,
              where=n_shared >= MIN_SHARED_VOTES)
    return out
