"""Choosing a label model from the data: gold-scored when gold exists, unsupervised otherwise.

:class:`AutoLabelModel` fits several candidate label models and keeps the one
that scores best, then refits it on all the data. Two criteria:

* **With gold** (``fit(L, gold=...)`` with at least ``min_gold`` known
  labels, drawn at random: ``gold_sampling="random"``, the default; gold
  chosen by active learning is a biased sample and is not used to score, see
  the class *Notes*): every candidate is scored on the gold items. A candidate that does
  not use gold is fitted once without it and scored on all gold items; a
  candidate that uses gold (``"<name>+gold"``: the same model given the gold
  labels, e.g. Dawid-Skene with the gold items clamped) is cross-validated over
  the gold items, so it is never scored on a label it was fitted with. The
  choice made without gold (below) stays the default. A candidate is
  eligible when its paired accuracy gain over that choice on the gold items
  has a one-sided lower bound above zero, corrected for the number of
  candidates (Bonferroni; variants of one model that label the gold items
  alike, such as a threshold tuned to 0.5 or a fit on a resample of the
  gold, count once, :func:`weaklab.models._gold_choice.effective_count`); on
  labeling-function-shaped votes, of the eligible candidates, those no other one beats by such a bound are equally
  supported, and the one changing the fewest of the no-gold choice's labels
  on the gold items is kept (:mod:`weaklab.models._gold_choice`); on crowd
  votes the top scorer. When no candidate clears the corrected bound, the
  same rule with an uncorrected bound is re-run without each fold's gold and
  its picks are scored on the held-out folds (nested cross-validation); its
  choice replaces the no-gold choice when that out-of-fold gain has a
  one-sided lower bound above zero (:mod:`weaklab.models._gold_nested`):
  Bonferroni over some forty near-copies (a threshold tuned on each of
  several models) refuses real gains that the nested check confirms.
  On labeling-function votes, when both keep the no-gold choice, the top
  scorer still replaces it when its gain is positive and its corrected
  lower bound rules out a loss of more than one point (non-inferiority,
  :func:`weaklab.models._gold_choice.non_inferior_choice`; a
  ``UserWarning`` says the choice is close).
* **Without gold**: majority vote unless candidates beat it on evidence.
  Items are split in two halves; each candidate is fitted on one half and
  predicts every vote of the other half from the item's other votes; its
  gain over majority vote on the same votes (for labeling functions, how
  well it breaks ties between two disagreeing votes of an item, refereed by
  the item's other votes, and the *lift* of the predicted class; for crowds
  the vote log-likelihood and the agreement of the labels with the held-out
  votes, or, when no candidate has both, the agreement alone by a bar
  corrected for the number of candidates; for mixed votes the
  log-likelihood and the lift) must be positive in both directions
  and clearly above its standard error, and the candidate must pass guards
  (no contradiction of strong consensus, no class balance collapse, no
  degenerate posteriors). Winners are combined, and the average of the
  candidates above majority vote competes as one more candidate; on
  labeling-function votes they only break majority vote's ties. See
  :mod:`weaklab.models._trust` and :mod:`weaklab.models._average`.

Splits and folds are functions of the votes (and gold labels) of each item,
salted by ``random_state``, not of row or column positions, so the choice does
not depend on the order of items or sources.
"""

from __future__ import annotations

import copy
import importlib
import logging
import time
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._core import LabelMatrix
from .._core.constants import STATE_SCHEMA_VERSION
from .._core.state import check_state, to_jsonable
from .._core.validation import Checker, check_random_state, fail, instance_of, interval, optional, options
from .._core.warn import warn
from ._auto_select import (
    GAIN_Z,
    GoldScorer,
    checked_proba,
    fit_candidate,
    gold_collapse,
    majority_proba,
    mix,
    resolve_metric,
    row_hashes,
    shift_threshold,
    spread,
    uneven,
    uniform_resample,
    weighted_mean,
)
from ._base import LabelModel, StateShapes, gold_sampling_kind, random_gold
from ._blind_ties import BLIND_MODELS
from ._gold_choice import correction_note, gold_decision, model_key, non_inferior_choice
from ._gold_nested import gold_cv_nested, inner_thresholded, nested_check
from ._nogold import combined_proba, estimated_source_accuracy, fit_without_gold
from ._partitioned import FitSample
from ._trust import lf_shaped

__all__ = ["AutoLabelModel"]

logger = logging.getLogger(__name__)

METRICS = ("auto", "accuracy", "f1_minority", "macro_f1")
_CROWD_DENSITY = 0.2  # GLAD/MACE/Wawa join the defaults when under this share of cells hold a vote
_MAX_COMPLETION_CELLS = 600  # MatrixCompletion joins while sources x classes is at most this (its fit grows ~ (m k)^3)
_BEST_PREFIX = "best_model/"
_MEMBER_PREFIX = "member_model_"
_TIE_PREFIX = "tie_model_"
_SCORE_COLUMNS = ("candidate", "uses_gold", "threshold", "score", "score_std", "status", "accuracy", "gain",
                  "gain_lower", "change")
_U64 = np.uint64
_UNIFORM_GOLD = "+gold(uniform)"  # a candidate fitted on a uniform resample of weighted gold (see _uniform_gold)
MAX_FIT_ITEMS = 500_000  # voted items AutoLabelModel fits on from a PartitionedLabelMatrix (see max_fit_items)


# ---------------------------------------------------------------------------------------- candidates


def default_candidates(L: LabelMatrix) -> list[tuple[str, LabelModel]]:
    """The candidates :class:`AutoLabelModel` tries on ``L`` when none are given.

    Majority vote, weighted majority vote, Dawid-Skene (three smoothing
    values), one-coin Dawid-Skene and the pretrained HyperLabelModel always;
    matrix completion while sources times classes is at most 600 (its fit
    takes seconds beyond: 7 s at 200 sources x 10 classes); the triplet
    method for binary tasks; GLAD, MACE and Wawa for crowd-shaped matrices
    (under 20 % of the cells hold a vote, and most sources voting more than
    one class). GLAD, MACE and Wawa never run on labeling-function-shaped
    votes (most sources vote a single class): they do not model abstentions,
    and a one-class LF carries no information once abstentions are ignored,
    so they collapse there. HyperLabelModel is a candidate like the others,
    subject to the same evidence and guards. On labeling-function-shaped
    votes Dawid-Skene also runs with each class's one-class LFs tied and one
    abstain rate for the classes an LF never votes
    (``source_groups="polarity", abstain="target"``): on the valid splits
    of WRENCH TREC, Hausa, YouTube and SMS it is 2.0, 3.4, 1.7 and 0.6
    points above the default Dawid-Skene. OneCoinDawidSkene stays a
    candidate on LF votes: with ``abstain="auto"`` it models abstentions
    there (``abstain_mode_ == "model"``).
    """
    from .dawid_skene import DawidSkene, OneCoinDawidSkene
    from .hyper import HyperLabelModel
    from .majority import MajorityVote
    from .matrix_completion import MatrixCompletion
    from .weighted import WeightedMajorityVote

    out: list[tuple[str, LabelModel]] = [
        ("MajorityVote", MajorityVote()),
        ("WeightedMajorityVote", WeightedMajorityVote()),
        ("DawidSkene", DawidSkene()),
        ("DawidSkene(smoothing=0.1)", DawidSkene(smoothing=0.1)),
        ("DawidSkene(smoothing=10)", DawidSkene(smoothing=10.0)),
        ("OneCoinDawidSkene", OneCoinDawidSkene()),
        ("HyperLabelModel", HyperLabelModel()),
    ]
    if L.n_sources * L.n_classes <= _MAX_COMPLETION_CELLS:
        out.append(("MatrixCompletion", MatrixCompletion()))
    if L.n_classes == 2:
        from .triplet import Triplet

        out.append(("Triplet", Triplet()))
    lf_votes = lf_shaped(L)
    if lf_votes:
        out.append(("DawidSkene(polarity, abstain=target)", DawidSkene(source_groups="polarity", abstain="target")))
    if L.nnz < _CROWD_DENSITY * L.n_items * L.n_sources and not lf_votes:
        from .glad import GLAD
        from .mace import MACE
        from .wawa import Wawa

        out += [("GLAD", GLAD()), ("MACE", MACE()), ("Wawa", Wawa())]
    return out


def _named_candidates(candidates: Any, L: LabelMatrix) -> list[tuple[str, LabelModel]]:
    if candidates is None:
        return default_candidates(L)
    expected = "None or a non-empty sequence of LabelModel instances or (name, LabelModel) pairs"
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence) or not candidates:
        raise fail("AutoLabelModel(candidates=...)", expected, candidates)
    named: list[tuple[str, LabelModel]] = []
    for item in candidates:
        name, est = item if isinstance(item, tuple) and len(item) == 2 else (None, item)
        if not isinstance(est, LabelModel) or isinstance(est, AutoLabelModel):
            raise fail("AutoLabelModel(candidates=...)", expected + " (not AutoLabelModel)", item)
        named.append((str(name) if name is not None else type(est).__name__, est))
    names = [n for n, _ in named]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise fail("AutoLabelModel(candidates=...)", "unique candidate names", got_text=f"repeated {dup}")
    return named


# ------------------------------------------------------------------------------------------- estimator


class AutoLabelModel(LabelModel):
    """A label model that picks and configures itself from the data it is fitted on.

    ``fit`` scores every candidate, keeps the best (``selected_``), refits it
    on all the data (``best_model_``) and predicts with it. Scoring uses gold
    labels when ``fit`` gets at least ``min_gold`` of them drawn at random
    (``gold_sampling="random"``), and the held-out vote evidence against
    majority vote otherwise, including for gold chosen by active learning
    (see *Notes*).

    Parameters
    ----------
    candidates : sequence of LabelModel or (name, LabelModel), optional
        Unfitted models to choose from. Default :func:`default_candidates`:
        majority vote, weighted majority vote, Dawid-Skene (three smoothing
        values), one-coin Dawid-Skene, HyperLabelModel, matrix completion (up
        to 600 sources x classes), the triplet method (binary tasks) and GLAD,
        MACE and Wawa (sparse crowd-shaped matrices). With
        gold, every candidate is also tried *given the gold labels* (named
        ``"<name>+gold"``; semi-supervised models clamp the gold items, the
        others take the class balance from them); with unequal
        ``gold_weight``, given a uniform resample of the gold instead when
        that scores better (``"<name>+gold(uniform)"``, see :meth:`fit`).
    metric : {"auto", "accuracy", "f1_minority", "macro_f1"}, default="auto"
        Score on the gold items. ``"auto"`` is accuracy (minority-class F1
        rewards labelling nearly everything minority when the sources say
        little about it). Ties in hard labels count fractionally (the
        expectation under ``tie_break="random"``). Whatever the metric, a
        candidate less accurate than majority vote on the gold items is not
        chosen. Unused without gold.
    cv : int, default=5
        Folds over the gold items for candidates that use gold, and for the
        nested check of the choice (a candidate that uses gold is fitted
        ``cv + cv (cv - 1) / 2`` times).
    min_gold : int, default=30
        Fewest gold labels for gold-based selection; with fewer, the
        unsupervised criterion is used (and ``reason_`` says so).
    random_state : None, int or numpy.random.Generator, default=None
        Salts the item split and the gold folds and seeds the candidates
        whose own ``random_state`` is None (and, on partitioned votes, the
        sample).
    max_fit_items : int, default=500_000
        Only for a :class:`~weaklab.PartitionedLabelMatrix`: the most voted
        items of the uniform random sample ``fit`` holds in memory and fits
        on (items without a vote join at the same rate; all items when
        fewer are voted). See :meth:`fit`.
    default_class : int or None, default=None
        The class a source votes where its evidence is missing, when the
        task has one: in the per-label view of a multi-label task, 0
        (absent), which :class:`~weaklab.models.OneVsRestLabelModel` sets.
        Without gold, on labeling-function votes, a source voting on nearly
        every item and mostly this class then votes *by default*: the ties
        its default votes join are left out of the check that the held-out
        tie pairs speak for the real ties, and majority vote's ties are not
        broken by models of abstentions (:mod:`weaklab.models._tie_check`,
        *Sources that vote by default*). None: no class is a default (the
        single-label case); nothing changes.

    Attributes
    ----------
    selected_ : str
        Name of the chosen candidate (without gold: the heaviest member).
    best_model_ : LabelModel
        The chosen candidate, refitted on all of ``L`` (with the gold labels
        when its name ends in ``+gold``); ``predict_proba`` delegates to it
        (to the weighted members when several are combined).
    members_ : list of (str, float)
        Without gold: the combined candidates and their weights (one member,
        weight 1, when a single candidate is used; empty with gold).
    member_models_ : list of LabelModel
        The members, refitted on all of ``L``.
    no_vote_proba_ : ndarray of shape (k,) or None
        Without gold, on labeling-function votes: the posterior of items
        nobody voted on, when two models of abstentions agree, each with
        odds of at least 1.4 (2 when they put different classes first),
        that such an item's class is not majority vote's (see
        :mod:`weaklab.models._no_vote`); None keeps the
        members' own, and ``reason_`` says what the models said. Used with
        ``members_`` only.
    tie_models_ : list of LabelModel
        Without gold, on labeling-function votes, when majority vote is kept
        and no pair could be refereed (each class has one LF, say) or, with
        three classes or more, no candidate showed on the held-out tie pairs
        that it breaks majority vote's ties: Dawid-Skene with polarity
        groups and HyperLabelModel, fitted
        on all of ``L``; majority vote's ties are broken where both put the
        same tied class first (:mod:`weaklab.models._blind_ties`). Empty
        otherwise (``reason_`` says which).
    scores_ : pandas.DataFrame
        One row per candidate: ``candidate``, ``uses_gold``, ``score``,
        ``score_std`` (across folds, for ``+gold`` candidates; without gold
        the standard error of the gain), ``status`` (``"ok"``,
        ``"error: ..."``, ``"skipped: ..."`` or ``"disqualified: ..."``),
        with gold also ``accuracy`` (on the gold items, as scored), ``gain``
        (paired accuracy gain on the gold items over the choice made
        without gold, majority vote unless candidates beat it),
        ``gain_lower`` (its one-sided lower bound at level 0.05 divided by
        the number of candidates compared, or, when no candidate's is above
        0, at level 0.05 and subject to the nested check; a candidate is
        eligible to replace the choice without gold only when it is above
        0, or, on labeling-function votes, when the top scorer's bound
        corrected for the number of candidates is above -0.01: "non-inferior"
        in ``reason_``) and ``change`` (share of the gold items whose label
        differs from that choice's; on labeling-function votes, of the
        eligible candidates that no other beats by a bound corrected for
        the number compared, the smallest change is kept, so the chosen row
        need not be the top one), sorted
        best first; without gold also ``z`` (gain over its standard
        error) and ``weight`` (share in the combination), and, when two or
        more candidates beat majority vote on every judge, a row
        ``"mean(<members>)"`` for their equal-weight average, judged as one
        more candidate (its ``weight`` is its share in the choice; its
        members' rows show their shares of the final posterior).
    criterion_ : {"gold", "heldout_tie_break", "heldout_vote_agreement", "heldout_vote_loglik"}
        Gold, or without gold the judge that chose: the tie pairs on
        labeling-function votes, the vote log-likelihood (with the
        agreement on crowds, the lift on votes between the two), or on
        crowds the agreement alone (:mod:`weaklab.models._trust`).
    metric_ : str
        The concrete metric (``"gain_over_majority"`` without gold).
    source_accuracy_ : ndarray of shape (m,) or None
        Estimated accuracy of each source: the chosen model's own estimate,
        else ``P(y = vote)`` under the final posteriors given the item's
        other votes.
    reason_ : str
        One paragraph saying what was chosen and why; with gold also what
        the nested check found (the candidates picked without each fold's
        gold, and their out-of-fold gain over the choice without gold).
    class_balance_ : ndarray of shape (k,)
        The chosen model's class balance.
    candidate_seconds_ : dict of str to float
        Wall time spent on each candidate (not saved by :meth:`to_state`).
    gold_sampling_ : {"random", "active", "mixed"}
        How ``fit`` was told the gold items were chosen (``"mixed"``: a
        per-item ``gold_sampling`` marked some known items of each kind).
    fit_sample_ : dict or None
        After a fit on a :class:`~weaklab.PartitionedLabelMatrix`, what it
        saw: ``n_sample`` rows of ``n_items`` (``n_sample_voted`` voted of
        ``n_voted``; ``n_drawn`` drawn at random, at most
        ``max_fit_items``), the ``seed`` and whether it ``sampled``; with
        gold also ``n_gold`` and ``n_gold_in_sample`` (the gold items, and
        those the fit had), and ``n_random_gold`` and
        ``n_random_gold_in_sample`` (of them, the gold drawn at random: all
        in the sample up to ``max_fit_items``, beyond which a UserWarning
        names the cap); None after a fit in memory.
    sample_rows_ : ndarray of shape (n_sample,) or None
        After a fit on a :class:`~weaklab.PartitionedLabelMatrix`, the rows
        (in partition order) of the items the fit held in memory, so a
        caller can count what reached it (the pipeline counts the human
        answers); None after a fit in memory. Not saved by :meth:`to_state`.

    Notes
    -----
    **Using gold without leaking test labels.** Pass the votes of every item
    you want labelled plus the items with gold, and the gold labels with
    ``-1`` elsewhere, e.g. for a train/valid/test split::

        L_tv = LabelMatrix.concat([L_train, L_valid])
        gold = np.r_[np.full(L_train.n_items, -1), y_valid]
        auto = AutoLabelModel(random_state=0).fit(L_tv, gold=gold)
        auto.predict(L_test)

    The test labels are never passed. A candidate that does not use gold is
    fitted without it and scored on every gold item; a ``+gold`` candidate is
    scored out-of-fold (``cv`` folds over the gold items, dealt so that items
    with equal votes and gold are spread evenly).

    **Gold chosen by active learning** (``fit(..., gold_sampling="active")``,
    as :func:`weaklab.active.simulate` passes for every strategy but
    ``"random"``) is a biased sample: a query strategy asks where sources
    disagree or the model is unsure, so candidates scored on those answers
    are scored on the hardest items, and class frequencies and source
    accuracies measured on them are off. Weighting each answer by its
    inverse inclusion probability would remove the bias, but a top-k
    strategy has none (an item is asked or not). So AutoLabelModel fits as
    without gold (below) and does not use the answers. They still reach the
    end model: :meth:`ActiveLoop.training_targets` replaces the answered
    items' soft labels. (Refitting the chosen models with the answers clamped
    was left out: the checks against majority vote below are made without
    them, and clamping a few items can move Dawid-Skene's EM to another
    optimum, e.g. WRENCH SMS with 20 random answers, 83 % -> 36 % test
    accuracy in 1 of 5 draws.) Pass ``"random"`` only when the gold items
    are a uniform random sample (a held-out dev set, random review), or
    with ``gold_weight``: when some answers were drawn at random beside the
    strategy's picks, weights exist that make all of them an unbiased
    sample (:meth:`weaklab.active.ActiveLoop.gold_weights`), and every
    score is then a weighted one (see :meth:`fit`); each ``+gold``
    candidate is then also fitted on a uniform resample of the answers
    (``"<name>+gold(uniform)"``) and the better scored fit kept, since one
    fitted on all of them learns from the strategy's picks as if they
    were typical items.

    **Gold of both kinds** (``gold_sampling`` an array with ``"random"`` or
    ``"active"`` per item, e.g. a random sample of a data file's gold beside
    review-queue answers): only the items marked ``"random"`` are gold here,
    to score the candidates, fit the ``+gold`` ones and count toward
    ``min_gold``, exactly as if ``fit`` got them alone with
    ``gold_sampling="random"``; the others are left out, as all answers are
    with ``"active"`` above, and ``reason_`` says how many.

    **Without gold** majority vote is the anchor and a candidate replaces it
    only on evidence (:mod:`weaklab.models._trust`). Items are split in two
    halves; a candidate is fitted on one half and judged on the other. For
    crowd-shaped votes it predicts each held-out vote from the item's other
    votes (leaving out near-copies of the voting source): the vote
    log-likelihood must improve *and* the agreement of its label with the
    held-out vote must rise; when no candidate does both, the agreement
    alone may choose, by a bar corrected for the number of candidates
    (Bonferroni at 1 %; ``criterion_`` is then ``"heldout_vote_agreement"``).
    For votes between labeling functions and crowds the log-likelihood must
    improve *and* the lift must not fall (the share of the predicted class that is the held-out
    vote, minus that share where the source abstained, so a model gains
    nothing by predicting one class everywhere). For labeling-function-shaped votes (most sources vote one
    class) a candidate only ever breaks majority vote's ties, so it is
    judged as a tie-breaker: two disagreeing votes of a held-out item are
    shown to it alone, and the item's other votes referee
    (:mod:`weaklab.models._tie_pairs`); the lift of the held-out votes, ties
    broken by the candidate, must rise as well. Evidence = both gains over
    majority vote are positive in both directions and 2.5 (crowds) or 4
    (labeling functions) standard errors (items resampled) above zero.
    Guards disqualify a candidate that contradicts a strong consensus,
    collapses the class balance (on crowds: leaves the other classes less
    than half of majority vote's share) or is degenerate. The winners are averaged
    with weights proportional to their gains; on labeling-function votes
    they only break majority vote's ties, since no held-out evidence can
    vouch for overruling a clear majority there. A
    ``UserWarning`` says when the choice is close or risky; a few dozen gold
    labels are far more reliable than any of this.

    Examples
    --------
    >>> from weaklab import AutoLabelModel, MajorityVote
    >>> from weaklab.synthetic import make_label_matrix
    >>> data = make_label_matrix(3000, 8, n_classes=3, coverage=(0.1, 0.5), accuracy=(0.45, 0.9), random_state=0)
    >>> auto = AutoLabelModel(random_state=0).fit(data.L)
    >>> auto.predict_proba(data.L).shape
    (3000, 3)
    >>> isinstance(auto.reason_, str) and len(auto.reason_) > 0  # which model it chose, and why
    True
    >>> auto_acc = float((auto.predict(data.L) == data.y).mean())
    >>> mv_acc = float((MajorityVote().fit(data.L).predict(data.L, random_state=0) == data.y).mean())
    >>> auto_acc >= mv_acc - 0.01
    True
    """

    _state_shapes: ClassVar[StateShapes] = {"source_accuracy_": ("m",), "lone_vote_balance_": ("k",),
                                            "no_vote_proba_": ("k",)}
    _parameter_spec: ClassVar[dict[str, Checker]] = {
        "metric": options(*METRICS),
        "cv": interval(int, 2, None),
        "min_gold": interval(int, 2, None),
        "random_state": optional(instance_of(int, np.random.Generator,
                                             text="None, an int or a numpy Generator")),
        "max_fit_items": interval(int, 100, None),
        "default_class": optional(interval(int, 0, None)),
    }
    _min_sources: ClassVar[int] = 1
    _fits_on_sample: ClassVar[bool] = True  # on partitioned votes: fit in memory on a sample (see fit)
    fits_partitioned_gold: ClassVar[bool] = True  # the sample's gold, as in memory

    def __init__(
        self,
        candidates: Sequence[Any] | None = None,
        *,
        metric: str = "auto",
        cv: int = 5,
        min_gold: int = 30,
        random_state: Any = None,
        max_fit_items: int = MAX_FIT_ITEMS,
        default_class: int | None = None,
    ) -> None:
        self.candidates = candidates
        self.metric = metric
        self.cv = cv
        self.min_gold = min_gold
        self.random_state = random_state
        self.max_fit_items = max_fit_items
        self.default_class = default_class

    # ----------------------------------------------------------------- fit
    def fit(self, L: Any, *, n_classes: int | None = None, gold: Any = None, class_balance: Any = None,
            gold_sampling: str | Sequence[str] | np.ndarray = "random", gold_weight: Any = None) -> AutoLabelModel:
        """Choose and fit the label model on the votes ``L`` (see :meth:`LabelModel.fit` for the parameters).

        On a :class:`~weaklab.PartitionedLabelMatrix` the choice needs the
        votes (it holds items out), so it is made in memory on a uniform
        random sample of the items: each partition is read on a worker,
        which keeps the rows of the smallest seeded random keys, a tree of
        tasks merges them, and the client gets at most ``max_fit_items``
        voted items drawn at random (all when fewer are voted; then the fit
        equals the one on the whole matrix in memory). Items without a vote
        join at the same rate, so the models of abstentions and the rule for
        unvoted items see their share; every item holding gold drawn at
        random (``gold_sampling``) joins too, its gold used as in memory
        (the gold items being a uniform sample, the union still is one).
        ``fit_sample_`` records what the fit saw and ``reason_`` says it.
        ``predict_proba`` then labels every partition (it is row-wise).

        With ``gold_weight`` (see :meth:`LabelModel.fit`) every score,
        paired gain and bound on the gold items is a weighted mean (its
        standard error the weighted one,
        :func:`~weaklab.models._auto_select.weighted_se`), so the
        candidates are compared on an unbiased estimate of their accuracy
        on all items however the gold items were chosen; ``min_gold`` is
        compared with the weights' effective sample size
        ``sum(w)^2 / sum(w^2)``, and the ``+gold`` candidates get the
        weights with the gold. Unequal weights mean the gold items are not
        a uniform sample, and a candidate *fitted* on them learns source
        accuracies and class balance mostly from the over-sampled items (a
        strategy's picks, where sources disagree), which weighted scores
        do not undo. So each ``+gold`` candidate is also fitted on a
        uniform resample of the gold items (item ``i`` kept with
        probability ``w_i / max(w)``, a function of its votes, gold label
        and weight salted by ``random_state``; unweighted) and scored like
        it, out-of-fold on all the gold, weighted; the better scored of the
        two fits enters the choice (named ``"<name>+gold(uniform)"`` when it
        is the resample's). ``reason_`` says how many gold items the
        resample kept; when the chosen model is fitted on it, a
        ``UserWarning`` says how many were set aside from its fit.

        Returns
        -------
        self
        """
        self.fit_sample_: dict[str, Any] | None = None
        self.sample_rows_: np.ndarray | None = None
        super().fit(L, n_classes=n_classes, gold=gold, class_balance=class_balance, gold_sampling=gold_sampling,
                    gold_weight=gold_weight)
        return self

    def _sample_seed(self) -> int:
        """The seed of the sample of partitioned votes: ``random_state`` itself when an int (a Generator is not
        advanced: the fit on the sample then draws as in memory)."""
        if isinstance(self.random_state, (int, np.integer)) and not isinstance(self.random_state, bool):
            return int(self.random_state)
        if isinstance(self.random_state, np.random.Generator):
            return int(copy.deepcopy(self.random_state).integers(0, 2**63 - 1))
        return int(np.random.default_rng().integers(0, 2**63 - 1))

    def _fit_on_sample(self, sample: FitSample, gold: np.ndarray | None, class_balance: np.ndarray | None,
                       gold_sampling: str | np.ndarray) -> None:
        """Fit in memory on the rows of partitioned votes drawn by ``_partitioned.sample_partitioned``."""
        self._fit_sampled(sample.votes, gold, class_balance, gold_sampling)
        self.fit_sample_ = sample.describe()
        self.sample_rows_ = sample.rows
        if self.fit_sample_["sampled"]:
            self.reason_ += (f"; fitted on a uniform random sample of {sample.n_sample:,} of the {sample.n_items:,} "
                             f"items ({self.fit_sample_['n_sample_voted']:,} of the {sample.n_voted:,} with a vote; "
                             f"max_fit_items={self.max_fit_items:,}, seed {sample.seed})")
        else:
            self.reason_ += f"; fitted on all {sample.n_items:,} items of the partitioned votes"

    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        self._fit_sampled(L, gold, class_balance, "random")

    def _fit_sampled(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None,
                     gold_sampling: str | np.ndarray) -> None:
        if self.default_class is not None and self.default_class >= L.n_classes:
            raise fail("AutoLabelModel(default_class=...)", f"None or a class of the votes, 0 to {L.n_classes - 1}",
                       self.default_class)
        rng = check_random_state(self.random_state, "AutoLabelModel(random_state=...)")
        salt, seed = (int(x) for x in rng.integers(0, 2**31 - 1, size=2))
        named = [(n, e) for n, e in _named_candidates(self.candidates, L) if L.n_sources >= e._min_sources]
        kind, n_biased = gold_sampling_kind(gold, gold_sampling), 0
        if kind == "mixed":  # the random part alone is gold (see Notes); the biased part is counted and left out
            n_biased = int(np.sum(gold >= 0))  # type: ignore[operator]
            gold = random_gold(gold, gold_sampling)
            n_biased -= int(np.sum(gold >= 0))  # type: ignore[operator]
        n_gold = 0 if gold is None else int(np.sum(gold >= 0))
        weight = self._fit_gold_weight
        self._weight_note = ""
        self._resample: tuple[int, int] | None = None
        self._resampled_names: list[str] = []
        if weight is not None and gold is not None:
            n_raw, n_gold = n_gold, effective_size(weight[gold >= 0])
            self._weight_note = (f"; the {n_raw} gold items weighted by gold_weight (effective sample size "
                                 f"{n_gold}: the gold counted as {n_gold} items drawn at random)")
        self.candidate_seconds_: dict[str, float] = {}
        self.members_: list[tuple[str, float]] = []
        self.member_models_: list[LabelModel] = []
        self.lone_vote_balance_: np.ndarray | None = None
        self.no_vote_proba_: np.ndarray | None = None
        self.tie_models_: list[LabelModel] = []
        self.gold_sampling_ = kind
        self._n_biased = n_biased
        if n_gold < self.min_gold or kind == "active":
            self._fit_without_gold(named, L, class_balance, salt, seed, n_gold)
            return
        with warnings.catch_warnings():  # its "close choice" warning is what the gold below settles
            warnings.simplefilter("ignore", UserWarning)
            self._fit_without_gold(named, L, class_balance, salt, seed, 0, quiet=True)
        known = np.flatnonzero(gold >= 0)  # type: ignore[operator]
        anchor = self._predict_proba(L.select_items(known))  # the no-gold choice: what gold must beat
        uniform_gold = self._uniform_gold(L, gold, weight, salt)  # type: ignore[arg-type]
        rows, scorer = self._select_with_gold(named, L, gold, class_balance, salt, seed, anchor,  # type: ignore[arg-type]
                                              weight, uniform_gold)
        table = pd.DataFrame(rows, columns=list(_SCORE_COLUMNS))
        table = table.sort_values("score", ascending=False, kind="stable", na_position="last")
        majority = scorer.correct(majority_proba(L, L.select_items(known)))
        majority_accuracy = weighted_mean(majority, scorer.weights)
        parsimonious = lf_shaped(L)
        scores, ok, pick, note = gold_decision(table, scorer.scored, majority_accuracy, None, parsimonious,
                                               scorer.weights, scorer.reference, scorer.families)
        evidence = "" if ok.empty else correction_note(table, scorer.scored, majority_accuracy, scorer.reference,
                                                       scorer.weights, scorer.families)
        if ok.empty:  # no single candidate clears a bound corrected for all of them: ask the nested question
            scores, ok, pick, note = gold_decision(table, scorer.scored, majority_accuracy, GAIN_Z,
                                                   parsimonious, scorer.weights, scorer.reference, scorer.families)
            check = None if ok.empty else nested_check(scorer, majority, parsimonious)
            if check is None or not check.passed:
                nested = "" if check is None else check.describe()
                if not parsimonious:  # crowds: the non-inferiority route lost on average there (_gold_choice)
                    self._keep_no_gold_choice(scores, n_gold, nested)
                    return
                ni_scores, pick, evidence = non_inferior_choice(table, majority_accuracy, scored=scorer.scored,
                                                                reference=scorer.reference, weights=scorer.weights,
                                                                families=scorer.families)
                if pick < 0:
                    self._keep_no_gold_choice(scores, n_gold, nested)
                    return
                scores, ok, note = ni_scores, ni_scores.iloc[[pick]], ""
                pick = 0
                why = evidence.removeprefix("non-inferior: ")
                warn(f"AutoLabelModel: {ok['candidate'].iloc[0]} replaces the choice made without gold "
                     f"by non-inferiority, not by evidence of a gain ({why}); with more gold the choice "
                     "may change (see reason_ and scores_)", UserWarning)
            else:
                evidence = "a bound for this candidate alone; " + check.describe()
        ok = pd.concat([ok.iloc[[pick]], ok.drop(index=ok.index[pick])])  # the choice first, then by score
        self.members_, self.member_models_, self.lone_vote_balance_ = [], [], None
        self.tie_models_ = []
        self.scores_ = scores
        best = ok.iloc[0]
        self.selected_ = str(best["candidate"])
        base_name = self.selected_.removesuffix("+threshold")
        on_uniform = base_name.endswith(_UNIFORM_GOLD)
        estimator = dict(named)[base_name.removesuffix(_UNIFORM_GOLD).removesuffix("+gold")]
        refit_gold = (uniform_gold if on_uniform else gold) if best["uses_gold"] else None
        self.best_model_ = fit_candidate(estimator, L, refit_gold, class_balance, seed, quiet=False,
                                         gold_weight=None if on_uniform else weight)
        self._note_resampled_choice()
        self.threshold_ = None if np.isnan(best["threshold"]) else float(best["threshold"])
        prior = np.asarray(self.best_model_.class_balance_, dtype=np.float64)
        self.class_balance_ = self._adjust(prior[None, :])[0]
        self.reason_ = self._reason(n_gold, ok, evidence) + (f"; {note}" if note else "") + self._biased_note()
        self.source_accuracy_ = _source_accuracy_of(self.best_model_, L, salt)
        logger.info("AutoLabelModel: %s", self.reason_)

    def _uniform_gold(self, L: LabelMatrix, gold: np.ndarray, weight: np.ndarray | None,
                      salt: int) -> np.ndarray | None:
        """The gold of a uniform resample of the weighted gold items (None when the weights are equal or absent).

        Unequal ``gold_weight`` says the gold items are not a uniform sample
        (e.g. a query strategy's picks beside random draws). Weighted, they
        score the candidates without bias; but a candidate fitted on them
        learns its source accuracies and class balance from an unweighted
        mix dominated by the picks: on the valid split of WRENCH TREC
        (ties split), weighted majority vote fitted on 500 density-weighted
        answers got 51.7 %, fitted on their 110 random draws alone 57.3 %,
        majority vote 53.3 %, and AutoLabelModel kept majority vote. On
        synthetic LF matrices the picks can help the fit instead. So every
        ``+gold`` candidate is scored both ways, out-of-fold on all the
        gold, weighted: fitted on all the gold (as given) and on a uniform
        resample of it (``"<name>+gold(uniform)"``,
        :func:`~weaklab.models._auto_select.uniform_resample`: item ``i``
        kept with probability ``w_i / max(w)``, unweighted), and the better
        scored enters the choice (:meth:`_better_fit`). ``reason_`` says how
        many gold items the resample kept, and a ``UserWarning`` how many
        were set aside when the chosen model is fitted on it.
        """
        known = np.flatnonzero(gold >= 0)
        if weight is None or not uneven(weight[known]):
            return None
        with np.errstate(over="ignore"):
            keys = mix(row_hashes(L, salt)[known] + gold[known].astype(_U64) * _U64(0x9E3779B1))
        keep = uniform_resample(weight[known], keys)
        fit_gold = gold.copy()
        fit_gold[known[~keep]] = -1
        self._resample = (int(keep.sum()), known.size)
        return fit_gold

    def _resample_note(self) -> str:
        """What ``reason_`` says of the uniform resample of weighted gold ("" when there was none)."""
        if self._resample is None:
            return ""
        kept, total = self._resample
        chosen = self.selected_.removesuffix("+threshold").endswith(_UNIFORM_GOLD)
        if chosen:
            return (f"; {self.selected_} is fitted on {kept} of the {total} gold items, a uniform resample by "
                    "gold_weight (each kept with probability weight / largest weight); the other "
                    f"{total - kept} were set aside from its fit (not a uniform sample: learned from, they bias "
                    "source accuracies and class balance) and used only, weighted, to score")
        replaced = ", ".join(self._resampled_names) or "none"
        return (f"; each '+gold' candidate was also fitted on a uniform resample of the gold by gold_weight ({kept} "
                f"of the {total} gold items, each kept with probability weight / largest weight, the other "
                f"{total - kept} set aside from that fit) and the better scored of the two fits kept (on the "
                f"resample: {replaced})")

    def _note_resampled_choice(self) -> None:
        """A ``UserWarning`` when the chosen model was fitted on the uniform resample of the gold."""
        if self._resample is None or not self.selected_.removesuffix("+threshold").endswith(_UNIFORM_GOLD):
            return
        kept, total = self._resample
        warn(f"AutoLabelModel: {total - kept} of the {total} gold items were set aside from fitting the chosen "
             f"{self.selected_}: weighted by gold_weight they are not a uniform sample, so it is fitted on the "
             f"{kept} of a uniform resample; all of them scored the candidates, weighted (see reason_)", UserWarning)

    def _keep_no_gold_choice(self, scores: pd.DataFrame, n_gold: int, nested: str) -> None:
        """Gold did not show any candidate better than the no-gold choice: keep it, say so."""
        self.scores_, self.criterion_ = scores, "gold"
        if nested:
            why = (f"no candidate beat it on the {n_gold} gold items by a bound corrected for the number of "
                   "candidates, and choosing by the gold did not beat it out-of-fold (a candidate's gain has a "
                   f"one-sided lower bound above 0 on all the gold items, but {nested})")
        else:
            why = (f"no candidate beat it on the {n_gold} gold items by evidence (paired accuracy gain with a "
                   "one-sided lower bound above 0)")
        names = [n for n, _ in self.members_]
        choice = self.selected_ if len(names) < 2 else "the weighted average of " + ", ".join(names)
        self.reason_ = f"kept the choice made without gold ({choice}): {why}; see scores_" + self._biased_note()
        logger.info("AutoLabelModel: %s", self.reason_)

    def _select_with_gold(self, named: list[tuple[str, LabelModel]], L: LabelMatrix, gold: np.ndarray,
                          balance: np.ndarray | None, salt: int, seed: int, anchor: np.ndarray,
                          weight: np.ndarray | None,
                          uniform_gold: np.ndarray | None) -> tuple[list[tuple[Any, ...]], GoldScorer]:
        known = np.flatnonzero(gold >= 0)
        y = gold[known]
        # equal weights are no weights: the plain formulas, to the digit
        w = None if weight is None or np.ptp(weight[known]) <= 1e-12 * weight[known].max() else weight[known]
        self.criterion_ = "gold"
        self.metric_, positive = resolve_metric(self.metric, y, L.n_classes, w)
        self.positive_ = positive
        hashes = row_hashes(L, salt)[known]
        with np.errstate(over="ignore"):
            folds = spread(mix(hashes + y.astype(_U64) * _U64(0x2545F491)), self.cv)
        L_gold = L.select_items(known)
        scorer = GoldScorer(y, folds, self.cv, self.metric_, positive, weights=w)
        scorer.set_anchor(anchor)
        scorer.families = {name: model_key(est) for name, est in named}
        rows: list[tuple[Any, ...]] = []
        for name, est in named:
            def plain(e: LabelModel = est) -> np.ndarray:
                return checked_proba(fit_candidate(e, L, None, balance, seed).predict_proba(L_gold))

            def with_gold(e: LabelModel = est) -> tuple[np.ndarray, np.ndarray]:
                return gold_cv_nested(e, L, gold, folds, self.cv, balance, seed, weight)

            def with_uniform_gold(e: LabelModel = est) -> tuple[np.ndarray, np.ndarray]:
                return gold_cv_nested(e, L, gold, folds, self.cv, balance, seed, None, uniform_gold)

            rows += self._gold_rows(name, False, plain, scorer, L.n_classes)
            gold_rows = self._gold_rows(name + "+gold", True, with_gold, scorer, L.n_classes)
            if uniform_gold is not None:
                gold_rows = self._better_fit(gold_rows, self._gold_rows(name + _UNIFORM_GOLD, True, with_uniform_gold,
                                                                        scorer, L.n_classes), scorer)
            rows += gold_rows
        return rows, scorer

    def _better_fit(self, on_all: list[tuple[Any, ...]], on_resample: list[tuple[Any, ...]],
                    scorer: GoldScorer) -> list[tuple[Any, ...]]:
        """A ``+gold`` candidate's rows fitted on all the gold or on its uniform resample: the better scored.

        Only one of the two enters the choice (both would only enlarge the
        correction for the number of candidates, and the resample's fit,
        on less gold, is always closer to the no-gold choice, which the
        rule prefers among candidates not beaten by evidence). The one
        with the higher (weighted, out-of-fold) score on the gold is kept;
        a tie keeps the fit on all the gold. ``scores_`` shows the kept one.
        """
        def score(rows: list[tuple[Any, ...]]) -> float:
            value = rows[0][3]
            return float(value) if np.isfinite(value) and rows[0][5] == "ok" else -np.inf

        keep, drop = (on_resample, on_all) if score(on_resample) > score(on_all) else (on_all, on_resample)
        for row in drop:
            for table in (scorer.scored, scorer.shares, scorer.inner):
                table.pop(row[0], None)
        if keep is on_resample:
            self._resampled_names.append(str(on_resample[0][0]))
        return keep

    def _gold_rows(self, name: str, uses_gold: bool, posteriors: Any, scorer: GoldScorer,
                   k: int) -> list[tuple[Any, ...]]:
        """Rows for a candidate's posteriors on the gold items, as is and (binary) with a tuned threshold.

        ``posteriors()`` returns the posteriors of the gold items, or (for a
        candidate that uses gold) those and the ones made without each pair
        of folds' gold (:func:`~weaklab.models._gold_nested.gold_cv_nested`).
        """
        t0 = time.perf_counter()
        try:
            out = posteriors()
        except Exception as exc:  # a failing candidate is recorded and skipped, not fatal
            logger.warning("AutoLabelModel: candidate %s failed: %s: %s", name, type(exc).__name__, exc)
            status = f"error: {type(exc).__name__}: {exc}"
            return [(name, uses_gold, np.nan, np.nan, np.nan, status, np.nan, np.nan, np.nan, np.nan)]
        finally:
            self.candidate_seconds_[name] = time.perf_counter() - t0
        proba, inner = out if isinstance(out, tuple) else (out, None)
        score, std = scorer.score(proba)
        status = gold_collapse(proba, scorer.y, scorer.weights) or "ok"
        rows = [(name, uses_gold, np.nan, score, std, status, scorer.accuracy(proba), *scorer.gain(proba),
                 scorer.remember(name, proba, inner))]
        if k == 2:
            score_t, std_t, threshold, acc_t, adjusted = scorer.score_with_threshold(proba)
            shifted = inner_thresholded(np.broadcast_to(proba, (self.cv, *proba.shape)) if inner is None else inner,
                                        scorer)
            rows.append((name + "+threshold", uses_gold, threshold, score_t, std_t,
                         gold_collapse(adjusted, scorer.y, scorer.weights) or "ok", acc_t, *scorer.gain(adjusted),
                         scorer.remember(name + "+threshold", adjusted, shifted)))
        return rows

    def _fit_without_gold(self, named: list[tuple[str, LabelModel]], L: LabelMatrix,
                          balance: np.ndarray | None, salt: int, seed: int, n_gold: int, quiet: bool = False) -> None:
        """Majority vote unless candidates beat it with evidence; then their combination (see ``_trust``)."""
        note = f" ({n_gold} gold labels < min_gold={self.min_gold})" if n_gold else " (no gold labels)"
        if n_gold and self.gold_sampling_ == "active":
            note = f" ({n_gold} gold labels chosen by active learning: a biased sample, not used)"
        elif self._n_biased and not quiet:
            note = (f" ({n_gold} gold labels drawn at random < min_gold={self.min_gold}; {self._n_biased} more "
                    "chosen by active learning: a biased sample, not used)")
        if self._weight_note and not quiet:
            note = f" (gold weighted by gold_weight: effective sample size {n_gold} < min_gold={self.min_gold})"
        out = fit_without_gold(named, L, balance, salt, seed, self.candidate_seconds_, note, self.default_class)
        self.criterion_, self.metric_, self.positive_, self.threshold_ = out.criterion, "gain_over_majority", 1, None
        self.scores_, self.selected_, self.reason_ = out.scores, out.selected, out.reason
        self.members_, self.member_models_ = out.members, out.models
        self.lone_vote_balance_ = out.majority_balance if out.lone_votes_majority else None
        self.no_vote_proba_ = out.no_vote
        self.tie_models_ = out.tie_models
        self.best_model_ = out.models[0]
        self.source_accuracy_ = out.source_accuracy
        weights = np.array([w for _, w in out.members])
        balances = np.array([np.asarray(m.class_balance_, dtype=np.float64) for m in out.models])
        self.class_balance_ = weights @ balances / weights.sum()
        logger.info("AutoLabelModel: %s", self.reason_)

    def _biased_note(self) -> str:
        """What a fit with gold of both kinds says of the gold it left out, or of the gold's weights ("" when none)."""
        if not self._n_biased:
            return self._weight_note + self._resample_note()
        return f"; {self._n_biased} gold labels chosen by active learning not used (a biased sample)"

    def _reason(self, n_gold: int, ok: pd.DataFrame, evidence: str = "") -> str:
        best = ok.iloc[0]
        runner = ok.iloc[1] if len(ok) > 1 else None
        if self.criterion_ == "gold":
            how = (f"{self.metric_} on {n_gold} gold items (out-of-fold over {self.cv} folds for "
                   "candidates that use gold)")
        else:
            note = f" ({n_gold} gold labels < min_gold={self.min_gold})" if n_gold else " (no gold labels)"
            how = "held-out vote log-likelihood, an unsupervised proxy" + note
        text = f"selected {self.selected_} with score {best['score']:.4f} by {how}"
        if self.criterion_ == "gold" and np.isfinite(best["gain"]):
            text += (f"; accuracy gain over the choice without gold on the gold {best['gain']:+.4f} "
                     f"(one-sided lower bound {best['gain_lower']:+.4f}, {evidence})")
        if runner is not None:
            text += f"; runner-up {runner['candidate']} {runner['score']:.4f}"
        failed = int((self.scores_["status"] != "ok").sum())
        return text + (f"; {failed} candidate(s) failed or were disqualified (see scores_)" if failed else "")

    # ------------------------------------------------------------- predict
    def _predict_proba(self, L: LabelMatrix) -> np.ndarray:
        if self.member_models_:
            return combined_proba(self.member_models_, [w for _, w in self.members_], L, self.lone_vote_balance_,
                                  no_vote=self.no_vote_proba_, tie_models=self.tie_models_)
        return self._adjust(self.best_model_.predict_proba(L))

    def _adjust(self, proba: np.ndarray) -> np.ndarray:
        return proba if self.threshold_ is None else shift_threshold(proba, self.threshold_, self.positive_)

    # --------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        """The fitted model as JSON + arrays; the chosen model's state is nested."""
        state = super().to_state()
        state["params"]["candidates"] = _encode_candidates(self.candidates)
        state["attributes"].update(
            selected_=self.selected_, reason_=self.reason_, criterion_=self.criterion_, metric_=self.metric_,
            gold_sampling_=self.gold_sampling_,
            threshold_=self.threshold_, positive_=self.positive_,
            scores_=_records(self.scores_),
            members_=[[name, float(w)] for name, w in self.members_],
            fit_sample_=getattr(self, "fit_sample_", None),
        )
        _nest(state, _BEST_PREFIX, self.best_model_)
        if self.lone_vote_balance_ is not None:
            state["arrays"]["lone_vote_balance_"] = np.asarray(self.lone_vote_balance_)
        if self.no_vote_proba_ is not None:
            state["arrays"]["no_vote_proba_"] = np.asarray(self.no_vote_proba_, dtype=np.float64)
        if self.source_accuracy_ is not None:
            state["arrays"]["source_accuracy_"] = np.asarray(self.source_accuracy_, dtype=np.float64)
        for i, member in enumerate(self.member_models_[1:], start=1):
            _nest(state, f"{_MEMBER_PREFIX}{i}/", member)
        for i, tie_model in enumerate(self.tie_models_):
            _nest(state, f"{_TIE_PREFIX}{i}/", tie_model)
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> AutoLabelModel:
        """Rebuild a fitted AutoLabelModel (and its chosen model) from :meth:`to_state` output."""
        check_state(state, cls.__name__)
        params = dict(state["params"])
        params["candidates"] = _decode_candidates(params.get("candidates"))
        attrs, arrays = state["attributes"], state["arrays"]
        missing = [a for a in ("n_sources_", "n_classes_", "source_names_", "class_names_", "selected_",
                               "best_model") if a not in attrs]
        if missing or "class_balance_" not in arrays:
            raise fail("state", "the state of a fitted AutoLabelModel", got_text=f"missing {missing}")
        model = cls(**params)
        for name in ("n_sources_", "n_classes_", "source_names_", "class_names_", "selected_", "reason_",
                     "criterion_", "metric_", "threshold_", "positive_"):
            setattr(model, name, attrs.get(name))
        model.gold_sampling_ = attrs.get("gold_sampling_", "random")
        model.fit_sample_ = attrs.get("fit_sample_")
        model.sample_rows_ = None
        records = attrs.get("scores_", [])
        columns = list(records[0]) if records else list(_SCORE_COLUMNS)
        model.scores_ = pd.DataFrame(records, columns=columns).fillna(
            {c: np.nan for c in ("threshold", "score", "score_std", "z", "weight", "accuracy", "gain", "gain_lower",
                                 "change")
             if c in columns})
        model.class_balance_ = np.asarray(arrays["class_balance_"])
        model.best_model_ = _unnest(attrs, arrays, _BEST_PREFIX)
        model.candidate_seconds_ = {}
        model.members_ = [(str(n), float(w)) for n, w in attrs.get("members_", [])]
        model.member_models_ = [model.best_model_] if model.members_ else []
        lone = arrays.get("lone_vote_balance_")
        model.lone_vote_balance_ = None if lone is None else np.asarray(lone)
        no_vote = arrays.get("no_vote_proba_")
        model.no_vote_proba_ = None if no_vote is None else np.asarray(no_vote, dtype=np.float64)
        model.member_models_ += [_unnest(attrs, arrays, f"{_MEMBER_PREFIX}{i}/") for i in range(1, len(model.members_))]
        model.tie_models_ = [_unnest(attrs, arrays, f"{_TIE_PREFIX}{i}/") for i in range(len(BLIND_MODELS))
                             if f"{_TIE_PREFIX}{i}" in attrs]
        model.source_accuracy_ = (np.asarray(arrays["source_accuracy_"]) if "source_accuracy_" in arrays
                                  else _source_accuracy_of(model.best_model_))
        model._check_loaded()
        return model


def effective_size(weights: np.ndarray) -> int:
    """Kish's effective sample size of weighted items, ``sum(w)^2 / sum(w^2)`` (rounded down; 0 when empty).

    Examples
    --------
    >>> import numpy as np
    >>> effective_size(np.ones(40)), effective_size(np.r_[np.full(20, 10.0), np.full(20, 0.1)])
    (40, 20)
    """
    w = np.asarray(weights, dtype=np.float64)
    square = float(np.sum(w * w))
    return int(np.floor(float(w.sum()) ** 2 / square + 1e-9)) if square > 0 else 0


def _nest(state: dict[str, Any], prefix: str, model: LabelModel) -> None:
    """Put ``model``'s state into ``state``: its JSON part under attribute ``prefix`` (without the trailing "/"),
    its arrays under ``prefix + name``."""
    nested = model.to_state()
    state["attributes"][prefix.rstrip("/")] = {
        k: nested[k] for k in ("schema_version", "class", "module", "params", "attributes")}
    state["arrays"].update({prefix + k: v for k, v in nested["arrays"].items()})


def _unnest(attrs: dict[str, Any], arrays: dict[str, Any], prefix: str) -> LabelModel:
    """The model :func:`_nest` put under ``prefix``."""
    nested = dict(attrs[prefix.rstrip("/")])
    nested["arrays"] = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
    return _model_class(nested.get("module"), nested.get("class")).from_state(nested)


def _source_accuracy_of(model: LabelModel, L: LabelMatrix | None = None, salt: int = 0) -> np.ndarray | None:
    """The model's ``source_accuracy_``, else (given ``L``) estimated from its posteriors on ``L``."""
    value = getattr(model, "source_accuracy_", None)
    if value is not None:
        return np.asarray(value, dtype=np.float64)
    return None if L is None else estimated_source_accuracy(model.predict_proba, L, salt)


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in table.to_dict(orient="records"):
        out.append({str(k): (None if isinstance(v, float) and not np.isfinite(v) else to_jsonable(v))
                    for k, v in rec.items()})
    return out


def _model_class(module: Any, name: Any) -> type[LabelModel]:
    if not isinstance(module, str) or not module.startswith("weaklab.") or not isinstance(name, str):
        raise fail("state", "a nested weaklab label-model state",
                   got_text=f"module {module!r}, class {name!r}")
    cls = getattr(importlib.import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, LabelModel)):
        raise fail("state", "a nested weaklab label-model state", got_text=f"class {name!r}")
    return cls


def _encode_candidates(candidates: Any) -> Any:
    if candidates is None:
        return None
    out = []
    for item in candidates:
        name, est = item if isinstance(item, tuple) else (None, item)
        out.append({"name": name, "module": type(est).__module__, "class": type(est).__name__,
                    "params": to_jsonable(est.get_params(deep=False)),
                    "schema_version": STATE_SCHEMA_VERSION})
    return out


def _decode_candidates(encoded: Any) -> Any:
    if encoded is None:
        return None
    out: list[Any] = []
    for rec in encoded:
        est = _model_class(rec.get("module"), rec.get("class"))(**rec.get("params", {}))
        out.append(est if rec.get("name") is None else (rec["name"], est))
    return out
