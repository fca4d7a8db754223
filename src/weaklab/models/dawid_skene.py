"""Dawid-Skene label models: per-source confusion matrices learned by EM.

Dawid & Skene (1979) model every source ``j`` by a confusion matrix
``theta_j[c, v] = P(source j votes v | true class c, j votes)`` and the items'
classes by a prior ``pi``; sources are independent given the class. EM
alternates

* **E-step** — posterior of each unit's class, ``log T[u, c] = log pi_c +
  sum_j log theta_j[c, v_uj] + const`` (a sparse product of the one-hot
  votes with a ``(m * k, k)`` table), gold units clamped to their label;
* **M-step** — expected vote counts ``N_j[c, v] = sum_u w_u T[u, c] [v_uj = v]``
  (the transposed product), pooled over tied sources, plus a Dirichlet
  pseudo-count, normalised per row.

**Abstentions.** The classic model treats an abstain as missing at random
(``theta`` is conditioned on the source voting): right for crowd data, where
workers are assigned items at random, but wrong for labeling functions,
which are mostly unipolar (a keyword LF only ever votes SPAM; given that it
votes, its confusion row is the same for every class, so it tells nothing).
With ``abstain="model"`` every source also has ``a_j[c] = P(j abstains |
y = c)``, learned in the same EM: the E-step adds ``sum_j [j abstained]
log a_j[c] + [j voted] log(1 - a_j[c])`` (folded into the one-hot table, so it
stays one sparse product, see :mod:`weaklab.models._posterior`) and the
M-step sets ``a_j[c] = (expected abstains + s) / (expected items of class c
+ 2 s)``. ``"auto"`` models abstentions when most sources are unipolar
(labeling functions) and ignores them otherwise (crowd workers use every
class); see :func:`resolve_abstain`. (Deciding by storage form, dense for
LFs and sparse for crowds, was rejected: the same votes stored two ways
must give the same model.)

Fitting runs on distinct vote patterns with counts when that at least halves
the rows, else on the items (dense or sparse storage, never densified).
(Converging on a random subset of units first and then continuing on all
of them was tried and dropped: EM's slow directions stay slow, so it saved
no full-data iterations on hard problems and cost some on easy ones.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from .._core import LabelMatrix, PartitionedLabelMatrix, PartitionStatistics
from .._core.validation import (
    Checker,
    check_proba,
    check_random_state,
    check_seed,
    fail,
    interval,
    options,
    plain_scalar,
)
from ._base import LabelModel
from ._ds_dask import DistributedEM
from ._ds_steps import MStep, Params, e_step, expected_counts, pool_groups, vote_share_posterior
from ._em import EMLabelModel, run_em
from ._partitioned import gold_by_partition, keyed_pattern_votes, pattern_votes
from ._votes import VoteData, prepare_votes

__all__ = ["DawidSkene", "OneCoinDawidSkene", "e_step", "expected_counts", "resolve_abstain",
           "resolve_source_groups"]

_REPEAT = re.compile(r"^(.+)#\d+$")
_MIN_POLARITY_VOTES = 10.0  # votes a source needs to count in the "auto" abstain rule
_GROUPS_EXPECTED = 'None, "auto", "polarity", a mapping or a sequence of group labels'


def resolve_source_groups(source_groups: Any, source_names: Sequence[str],
                          votes_per_class: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Group index of every source.

    Parameters
    ----------
    source_groups : None, "auto", "polarity", mapping or sequence
        ``None``: every source alone. ``"auto"``: sources named
        ``"<name>#<r>"`` (repeats split by ``LabelMatrix.from_long(...,
        duplicates="split")``) share the group of ``"<name>"``.
        ``"polarity"``: sources that vote a single class (unipolar labeling
        functions) share the group of that class; the others stay alone.
        A mapping ``{source name: group label}`` (unlisted sources stay
        alone) or a sequence of ``n_sources`` group labels.
    source_names : sequence of str
    votes_per_class : ndarray of shape (n_sources, k), optional
        Votes of every source for every class; needed by ``"polarity"``.

    Returns
    -------
    groups : ndarray of shape (n_sources,)
        Group index in ``[0, n_groups)``, numbered by first appearance.
    n_groups : int
    """
    names = list(source_names)
    m = len(names)
    if source_groups is None:
        labels: list[Any] = [("source", name) for name in names]
    elif isinstance(source_groups, str) and source_groups == "polarity":
        labels = _polarity_labels(names, votes_per_class)
    elif isinstance(source_groups, str):
        if source_groups != "auto":
            raise fail("source_groups", _GROUPS_EXPECTED, source_groups)
        labels = [("source", _base_name(name)) for name in names]
    elif isinstance(source_groups, Mapping):
        unknown = sorted(set(map(str, source_groups)) - set(names))[:5]
        if unknown:
            raise fail("source_groups", "a mapping from the matrix's source names to group labels",
                       got_text=f"unknown source(s) {unknown}")
        given = {str(key): value for key, value in source_groups.items()}
        labels = [("group", given[name]) if name in given else ("source", name) for name in names]
    else:
        seq = np.asarray(source_groups, dtype=object)
        if seq.ndim != 1 or seq.shape[0] != m:
            raise fail("source_groups", f"{m} group labels (one per source)", source_groups)
        labels = [("group", plain_scalar(value)) for value in seq]
    index: dict[Any, int] = {}
    groups = np.array([index.setdefault(label, len(index)) for label in labels], dtype=np.int64)
    return groups, len(index)


def _polarity_labels(names: list[str], votes_per_class: np.ndarray | None) -> list[Any]:
    """``("class", c)`` for a source that votes only class ``c``, ``("source", name)`` otherwise."""
    if votes_per_class is None:
        raise fail("votes_per_class", 'the (n_sources, k) vote counts when source_groups="polarity"', None)
    counts = np.asarray(votes_per_class)
    single = np.count_nonzero(counts > 0, axis=1) == 1
    top = counts.argmax(axis=1)
    return [("class", int(top[j])) if single[j] else ("source", name) for j, name in enumerate(names)]


def _base_name(name: str) -> str:
    match = _REPEAT.match(name)
    return match.group(1) if match else name


def _check_source_groups(name: str, value: Any) -> None:
    if value is None or (isinstance(value, str) and value in ("auto", "polarity")) or isinstance(value, Mapping):
        return
    if isinstance(value, str) or not isinstance(value, (Sequence, np.ndarray)):
        raise fail(name, _GROUPS_EXPECTED, value)


# --------------------------------------------------------------------------- models
class _DawidSkeneModel(EMLabelModel):
    """What :class:`DawidSkene` and :class:`OneCoinDawidSkene` share (all but the confusion form)."""

    _parameter_spec: ClassVar[dict[str, Checker]] = {
        "max_iter": interval(int, 1, None),
        "tol": interval(float, 0.0, None),
        "smoothing": interval(float, 0.0, None),
        "init": options("majority", "random", "given"),
        "source_groups": _check_source_groups,
        "abstain": options("auto", "model", "target", "ignore"),
        "random_state": check_seed,
    }
    _state_attrs: ClassVar[tuple[str, ...]] = (*EMLabelModel._state_attrs, "source_groups_", "abstain_mode_")
    _one_coin: ClassVar[bool] = False
    fits_partitioned_gold: ClassVar[bool] = True  # gold items clamped on partitioned votes too (see _fit_reduced)

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-4,
        smoothing: float = 0.01,
        init: str = "majority",
        init_proba: Any = None,
        source_groups: Any = None,
        abstain: str = "auto",
        random_state: Any = None,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.init = init
        self.init_proba = init_proba
        self.source_groups = source_groups
        self.abstain = abstain
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        keys = gold if gold is not None and (gold >= 0).any() else None
        data = prepare_votes(L, keys=keys)
        totals = np.asarray(data.design.T @ data.weights, dtype=np.float64).reshape(L.n_sources, L.n_classes)
        run = _EMRun(self._m_step(L.source_names, class_balance, totals), data)
        self._run(run, run.vote_totals, lambda: run.m_step(None, self._initial_posterior(data, L)))

    def _fit_reduced(self, plm: PartitionedLabelMatrix, stats: PartitionStatistics,
                     class_balance: np.ndarray | None, gold: np.ndarray | None = None) -> None:
        step = self._m_step(plm.source_names, class_balance, stats.class_votes.astype(np.float64))
        if stats.compresses:  # the gold items are units of their own, clamped as in memory
            data = pattern_votes(stats) if gold is None else keyed_pattern_votes(plm, stats, gold)
            local = _EMRun(step, data)
            self._run(local, local.vote_totals, lambda: local.m_step(None, self._initial_posterior(data, None)))
            return
        if self.init != "majority":
            raise fail(f"{type(self).__name__}(init=...)",
                       '"majority" for partitioned votes whose patterns do not compress (distributed EM)',
                       self.init)
        run = DistributedEM(plm, step, gold=None if gold is None else gold_by_partition(plm, gold))
        self._run(run, stats.class_votes.ravel().astype(np.float64), run.initial)

    def _m_step(self, source_names: Sequence[str], class_balance: np.ndarray | None,
                votes_per_class: np.ndarray) -> MStep:
        groups, n_groups = resolve_source_groups(self.source_groups, source_names, votes_per_class)
        return MStep(one_coin=self._one_coin, smoothing=float(self.smoothing), groups=groups, n_groups=n_groups,
                     fixed_prior=class_balance)

    def _run(self, run: Any, vote_totals: np.ndarray, start: Callable[[], Params]) -> None:
        """Resolve the abstain mode, run EM from ``start()`` and keep the learned state."""
        step: MStep = run.step
        per_source = vote_totals.reshape(step.groups.shape[0], -1)
        mode = resolve_abstain(self.abstain, per_source)
        step.model_abstain = mode in ("model", "target")
        if mode == "target":
            step.targets = pool_groups(per_source[:, None, :], step.groups, step.n_groups)[:, 0, :] > 0
        result = run_em(start(), run.e_step, run.m_step, max_iter=self.max_iter, tol=self.tol)
        self.confusion_, self.class_balance_, self.abstain_rate_ = step.per_source(result.params)
        self.abstain_mode_ = mode
        self.source_groups_ = step.groups.tolist()
        self._record_em(result)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LabelModel:
        """Rebuild a fitted model; states saved before abstention modelling load as ``abstain="ignore"``."""
        if isinstance(state, dict) and isinstance(state.get("attributes"), dict) \
                and "abstain_mode_" not in state["attributes"]:
            params = {**state.get("params", {}), "abstain": "ignore"}
            state = {**state, "params": params, "attributes": {**state["attributes"], "abstain_mode_": "ignore"}}
        return super().from_state(state)

    def _initial_posterior(self, data: VoteData, L: LabelMatrix | None) -> np.ndarray:
        """Starting posteriors ``(n_units, k)`` of the units of ``data`` (``L``: the items, for init="given")."""
        k = data.n_classes
        if self.init == "given":
            name = f"{type(self).__name__}(init_proba=...)"
            if L is None:
                raise fail(f"{type(self).__name__}(init=...)", '"majority" or "random" for partitioned votes',
                           self.init)
            if self.init_proba is None:
                raise fail(name, 'an (n_items, k) array when init="given"', None)
            proba = check_proba(name, self.init_proba, n_classes=k, n_rows=L.n_items)
            posterior = _items_to_units(proba, data)
        elif self.init == "random":
            posterior = check_random_state(self.random_state).dirichlet(np.ones(k), size=data.n_units)
        else:
            posterior = vote_share_posterior(data.class_counts())
        if data.keys is not None:
            known = np.flatnonzero(data.keys >= 0)
            posterior[known] = 0.0
            posterior[known, data.keys[known]] = 1.0
        return posterior


def resolve_abstain(abstain: str, votes_per_class: np.ndarray) -> str:
    """``"model"`` or ``"ignore"``; ``"auto"`` models abstentions when most sources are unipolar.

    Parameters
    ----------
    abstain : {"auto", "model", "ignore"}
    votes_per_class : ndarray of shape (m, k)
        (Weighted) number of votes of every source for every class.

    Returns
    -------
    str
        ``abstain`` itself unless it is ``"auto"``, which gives ``"model"`` when at least half of the sources vote
        a single class (labeling functions: keyword and pattern LFs), else
        ``"ignore"`` (crowd workers use every class). Only sources with at
        least 10 votes are counted (a worker with one answer is trivially
        unipolar), or every voting source when none has 10. The rule depends
        on the votes only, never on the storage form or on the order of
        rows or sources.
    """
    if abstain != "auto":
        return abstain
    totals = votes_per_class.sum(axis=1)
    counted = totals >= _MIN_POLARITY_VOTES
    if not counted.any():
        counted = totals > 0
    unipolar = np.count_nonzero(votes_per_class[counted] > 0, axis=1) == 1
    return "model" if 2 * int(unipolar.sum()) >= int(counted.sum()) else "ignore"


class _EMRun:
    """EM on one :class:`VoteData` with the M-step ``step``."""

    def __init__(self, step: MStep, data: VoteData) -> None:
        self.step = step
        self.data = data
        self.vote_totals = np.asarray(data.design.T @ data.weights, dtype=np.float64)

    def m_step(self, params: Params | None, posterior: np.ndarray) -> Params:
        """Group confusions, class prior and group abstain rates (or None) from unit posteriors.

        ``params`` (the previous ones) are not needed: the M-step is in closed form.
        """
        data = self.data
        counts = expected_counts(data.design, posterior, data.weights, self.vote_totals, data.n_sources)
        return self.step(counts, data.weights @ posterior)

    def e_step(self, params: Params) -> tuple[np.ndarray, float]:
        """Unit posteriors and the loss: negative penalised log-likelihood per item."""
        data = self.data
        confusion, prior, abstain = self.step.per_source(params)
        posterior, log_lik = e_step(data.design, confusion, prior, self.vote_totals, data.weights, data.keys,
                                    abstain)
        return posterior, self.step.loss(log_lik, params, float(data.weights.sum()))


def _items_to_units(proba: np.ndarray, data: VoteData) -> np.ndarray:
    """Mean item probabilities per unit, shape ``(n_units, k)``."""
    if data.inverse is None:
        return proba.astype(np.float64, copy=True)
    out = np.empty((data.n_units, proba.shape[1]), dtype=np.float64)
    for c in range(proba.shape[1]):
        out[:, c] = np.bincount(data.inverse, weights=proba[:, c], minlength=data.n_units)
    out /= data.weights[:, None]
    return out


class DawidSkene(_DawidSkeneModel):
    """Dawid-Skene (1979): a full confusion matrix per source, learned by EM.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of EM iterations (E-steps).
    tol : float, default=1e-4
        Stop when the per-item loss (see ``loss_history_``) changes by
        less than ``tol`` in one iteration (the rule of every EM model, see
        :func:`weaklab.models._em.loss_converged`). (1e-5 ran into ``max_iter`` on 13
        of 100 WRENCH-shaped synthetic matrices, warning on ordinary data,
        for no gain in accuracy on average: EM's late steps on sparse
        labeling functions mostly drift.)
    smoothing : float, default=0.01
        Dirichlet pseudo-count added to every cell of every confusion matrix
        and to every class of the prior (MAP-EM); 0 gives maximum likelihood.
    init : {"majority", "random", "given"}, default="majority"
        Starting posteriors: the vote shares of every item (keeps classes
        in their meaning, no label switching), random Dirichlet draws
        (seeded by ``random_state``), or ``init_proba``.
    init_proba : array-like of shape (n_items, k), optional
        Starting posteriors for ``init="given"``, rows summing to 1.
    source_groups : None, "auto", "polarity", mapping or sequence, default=None
        Sources that share one confusion matrix (see
        :func:`resolve_source_groups`); ``"auto"`` ties repeats
        ``"<name>#2"``, ``"<name>#3"``... to ``"<name>"``; ``"polarity"``
        ties the unipolar labeling functions of each class (sparse keyword
        LFs give each one a few hundred votes for ``k`` abstain rates; tied,
        the class's LFs share one, which EM cannot fit to a handful of
        co-firing LFs). Tied sources also share their abstain rates.
    abstain : {"auto", "model", "target", "ignore"}, default="auto"
        How abstentions are treated. ``"model"``: learn ``abstain_rate_``,
        ``P(source abstains | class)``, so *when* a source fires is evidence
        (labeling functions: a unipolar keyword LF is informative only
        through this). ``"target"``: the same, but the classes a source (or
        group) never votes share one rate: a keyword LF fires on the other
        classes' items only by mistake, and a rate per wrong class lets EM
        turn which unrelated LFs co-fire into classes. (On WRENCH TREC's
        valid split, with ``source_groups="polarity"``, 50.6 -> 50.8 %;
        Hausa 51.4 -> 54.8 %, majority vote 53.3 and 53.0; the binary sets
        are unchanged, as a binary one-class LF has a single other class.)
        ``"ignore"``: abstentions are missing at random, the original 1979
        model (crowd data, where workers are assigned items at
        random). ``"auto"``: ``"model"`` when at least half of the sources
        (with 10 or more votes) vote a single class, as labeling functions
        do, else ``"ignore"``, as for crowd workers (see
        :func:`resolve_abstain`); the choice is recorded in
        ``abstain_mode_``. It depends on the votes only, not on dense or
        sparse storage.
    random_state : None, int or numpy.random.Generator
        Seed for ``init="random"``.

    Attributes
    ----------
    confusion_ : ndarray of shape (m, k, k)
        ``confusion_[j, c, v] = P(source j votes v | class c, j votes)``.
    class_balance_ : ndarray of shape (k,)
        Learned class prior (or the given ``class_balance``, held fixed).
    source_accuracy_ : ndarray of shape (m,)
        ``P(vote correct)`` of every source under ``class_balance_``.
    abstain_rate_ : ndarray of shape (m, k) or None
        ``P(source j abstains | class c)`` (Beta-smoothed with ``smoothing``
        pseudo-counts on abstain and vote) when ``abstain_mode_`` is
        ``"model"`` or ``"target"``,
        else None. With it, an item on which every source abstains gets
        ``class_balance_ * prod_j abstain_rate_[j]`` (normalised), not
        ``class_balance_``.
    abstain_mode_ : {"model", "target", "ignore"}
        The resolved ``abstain`` parameter.
    loss_history_ : ndarray of shape (n_iter_,)
        Per-item negative log of the penalised likelihood after every
        full-data iteration (pure negative log-likelihood when
        ``smoothing=0``); non-increasing up to rounding.
    n_iter_ : int
        E-steps run, ``len(loss_history_)``.
    converged_ : bool
        False when ``max_iter`` stopped the fit (then a
        :class:`~weaklab.errors.ConvergenceWarning` was emitted and the
        parameters are those of one more M-step).
    source_groups_ : list of int
        Group index of every source.

    Notes
    -----
    Items with ``gold >= 0`` are clamped to their label in every E-step
    (semi-supervised EM); ``class_balance`` given to ``fit`` is held fixed.

    Examples
    --------
    >>> from weaklab import DawidSkene, MajorityVote
    >>> from weaklab.synthetic import make_crowd
    >>> crowd = make_crowd(500, 20, 4, n_classes=3, worker_accuracy=(0.3, 0.95), random_state=0)
    >>> model = DawidSkene(random_state=0).fit(crowd.L)
    >>> model.confusion_.shape  # one k x k confusion matrix per worker
    (20, 3, 3)
    >>> ds = float((model.predict(crowd.L) == crowd.y).mean())
    >>> mv = float((MajorityVote().fit(crowd.L).predict(crowd.L, random_state=0) == crowd.y).mean())
    >>> ds > mv
    True
    """


class OneCoinDawidSkene(_DawidSkeneModel):
    """One-coin Dawid-Skene: one accuracy per source, errors uniform over the other classes.

    Same parameters and attributes as :class:`DawidSkene`; ``confusion_``
    has ``accuracy`` on the diagonal and ``(1 - accuracy) / (k - 1)``
    elsewhere. With ``smoothing`` ``s`` the accuracy is
    ``(expected correct votes + s k) / (votes + s k^2)``.

    Abstain rates (``abstain="model"``, chosen by "auto" for labeling functions) are
    still per source *and class*: one accuracy describes the votes, but a
    unipolar labeling function is informative only through firing more on
    one class than on the others, which a single rate would erase.

    Examples
    --------
    >>> from weaklab import MajorityVote, OneCoinDawidSkene
    >>> from weaklab.synthetic import make_crowd
    >>> crowd = make_crowd(400, 10, 5, n_classes=3, worker_accuracy=(0.35, 0.95), random_state=0)
    >>> model = OneCoinDawidSkene(random_state=0).fit(crowd.L)
    >>> model.predict_proba(crowd.L).shape
    (400, 3)
    >>> ds = float((model.predict(crowd.L) == crowd.y).mean())
    >>> mv = float((MajorityVote().fit(crowd.L).predict(crowd.L, random_state=0) == crowd.y).mean())
    >>> ds >= mv
    True
    """

    _one_coin: ClassVar[bool] = True
