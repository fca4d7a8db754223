"""The review loop: pick items with a strategy, take the answers back in as gold."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .._core.validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_labels,
    check_random_state,
    fail,
)
from ._inputs import checked_indices, checked_mask, checked_proba, infer_classes, pool_size
from .answers import ANSWER_COLUMNS, Answer, split_answers
from .records import AnswerRecords
from .refine import MIN_CO_TRAIN_ANSWERS, PROBA_FLOOR, combine_views, out_of_fold_proba
from .registry import DEFAULT_STRATEGY, STRATEGIES, select, strategy_scores
from .sampling import draw_batch, rank_proposal
from .weights import WEAK_WEIGHT_GRID, estimate_weak_weight

__all__ = ["Answer", "ActiveLoop", "ANSWER_COLUMNS"]


class ActiveLoop(AnswerRecords):
    """Ask for labels in rounds chosen by a query strategy and record the answers as gold.

    Parameters
    ----------
    strategy : str, default="density_weighted"
        A key of :data:`~weaklab.active.STRATEGIES`.
    budget_per_round : int, default=10
        Items asked per :meth:`select` call (overridable per call).
    n_classes : int, optional
        Number of classes; inferred from the first :meth:`select` inputs that
        carry it (``proba``, ``label_proba`` or a LabelMatrix ``L``).
    diversity : float in [0, 1], optional
        Batch diversity (see :func:`~weaklab.active.select_batch`); default the
        strategy's own when features are given. The ``"random"`` strategy
        with ``diversity > 0`` spreads its batch instead of drawing it
        uniformly: its answers are not ``at_random`` (:attr:`gold_sampling`
        ``"active"``).
    answer_weight : float, default=1.0
        Training weight of an answered item in :meth:`training_targets`,
        relative to ``weak_weight``.
    weak_weight : float, "auto" or "cv", default="cv"
        Training weight of a weak-labelled item in :meth:`training_targets`.
        ``"auto"``: the information of a label as accurate as the weak
        labels, ``((k a - 1) / (k - 1))^2`` (see :mod:`weaklab.active.weights`),
        with ``a`` estimated from the importance-weighted answers
        (:meth:`answer_weights`), so that answers count for more when the
        weak labels are poor. ``"cv"``: the value of
        :data:`~weaklab.active.WEAK_WEIGHT_GRID` whose end model predicts
        held-out answers best (accuracy over 3 folds;
        :func:`~weaklab.active.choose_weak_weight`, whose one-standard-error
        rule keeps the ``"auto"`` value unless the answers clearly prefer
        another), so that weak labels with systematic errors stop drowning
        the answers once there are enough of them (WRENCH TREC, valid split,
        496 random answers: weight 0 beats 0.03 by 9 points). The held-out
        answers count with their importance weights with
        ``sampling="stochastic"``, alike with ``"top"`` (the strategy's picks
        have no draw probability; scoring on the random draws alone left the
        rule stuck at the prior). With ``"top"`` and a strategy other than
        ``"random"`` the weight stays positive (a choice of 0, the answers
        alone, becomes the grid's least positive weight, and ``co_train``
        stays on): most held-out answers are then the strategy's picks,
        which a model trained on the other picks of the same corner of the
        pool predicts well, however badly it does elsewhere (WRENCH valid,
        density_weighted, 3 seeds: the first CV round chose 0 and SMS spam
        F1 fell from 72 to 62 at 100 answers, TREC accuracy from 55 to 51).
        It needs ``X`` and ``end_model`` in :meth:`training_targets` and
        uses ``"auto"`` without them or below
        :data:`~weaklab.active.MIN_CV_ANSWERS` usable answers. Once chosen,
        the weight is kept from round to round unless the new answers put it
        more than one standard error below the best (it is the rule's
        tie-break instead of ``"auto"``): the folds are dealt anew every
        round, and a weight that flips on that noise (between 0, which also
        turns ``co_train`` off, and a small positive weight) moved the end
        model's score by several points between neighbouring rounds. For the
        same reason the folds are dealt per item with one seed for the whole
        loop: an answer stays in its fold from round to round.
    co_train : bool, default=True
        In :meth:`training_targets` (given ``X`` and ``end_model``, from
        :data:`~weaklab.active.MIN_CO_TRAIN_ANSWERS` answers on), combine each
        unanswered item's weak label with the end model's out-of-fold
        posterior (:func:`~weaklab.active.out_of_fold_proba`, trained on the
        weak labels and answers with their weights) as two views independent
        given the class (:func:`~weaklab.active.combine_views`), so that the
        answers reach the items that look like them. WRENCH development
        split (20 % of train held out, density_weighted, 3 seeds; TREC 2),
        without -> with, AULC: YouTube 93.6 -> 94.3, SMS 85.5 -> 86.0, TREC
        57.4 -> 61.7, Hausa 60.5 -> 60.2; at 10 % of the pool answered:
        93.9 -> 94.4, 91.0 -> 91.4, 63.8 -> 71.0, 53.3 -> 59.7.
    explore : float in [0, 1], default=0.2
        With ``sampling="top"``: share of each round's items drawn uniformly
        at random from the remaining pool instead of by the strategy
        (rounded; none in a round of fewer than 3 items). With
        ``sampling="stochastic"``: the uniform share of every draw's
        probabilities (see :func:`~weaklab.active.draw_batch`). Either way
        some answers are unbiased evidence about the whole pool: they
        estimate the weak labels' accuracy and can score label models
        (:meth:`representative_gold`), and they keep a strategy from asking
        only about one corner of the pool. Ignored by the ``"random"``
        strategy, whose every item is random.
    sampling : {"top", "stochastic"}, default="top"
        How the strategy's scores become a batch. ``"top"``: the best-scored
        items, spread by ``diversity`` (:func:`~weaklab.active.select`);
        their answers have no inclusion probability, so only the random
        draws are unbiased. ``"stochastic"``: items drawn one at a time from
        ``explore`` x uniform + ``(1 - explore)`` x a soft ranking of the
        scores (:func:`~weaklab.active.rank_proposal` with the round's size
        as scale; ``diversity`` is not used), recording each draw's
        probability, so that *every* answer gets an importance weight
        (:meth:`answer_weights`, LURE weights) and can count, re-weighted,
        as evidence about the pool.
    warm_start : int, default=20
        Random answers the loop gathers before the strategy chooses: a round
        draws at random what is still missing to reach ``warm_start`` answers
        drawn at random (at least its ``explore`` share). Cold start: before
        any answer, the end model the strategy scores with is trained on weak
        labels alone, and its uncertainty points at where the label model is
        unsure, not where answers teach the most; and a label model can only
        be chosen and calibrated on gold drawn at random (e.g.
        :class:`~weaklab.models.AutoLabelModel` needs ``min_gold`` of them), so
        until then the strategy's picks reach neither model well. Set it to the
        label model's ``min_gold``; 0 lets the strategy choose from the first
        round.
    label_model_gold : {"weighted", "random_draws"}, default="weighted"
        What :meth:`label_model_gold_params` gives a label model's ``fit``
        when a strategy chose the answers. ``"weighted"``: every answer as
        gold, with :meth:`gold_weights` as ``gold_weight`` (the weighted
        answers are an unbiased sample of the pool, so a label model can
        score and calibrate itself on all of them, the strategy's hard picks
        included). ``"random_draws"``: only the answers that form a uniform
        random sample (:meth:`representative_gold`, unweighted): they come
        from the items the earlier picks left, so they over-represent easy
        items (the behaviour before weights).
    allow_partial : bool, default=False
        When a round asks for more items than remain (neither answered nor
        pending), return what remains instead of raising.
    strategy_params : mapping, optional
        Keyword parameters of the strategy's scoring function (e.g.
        ``{"beta": 2.0}`` for ``density_weighted``).
    random_state : None, int or numpy.random.Generator, default=None
        Seeds the strategy's randomness and tie-breaking for the whole loop.

    Attributes
    ----------
    n_items_ : int or None
        Pool size, fixed by the first :meth:`select`.
    n_classes_ : int or None
        Number of classes.
    round_ : int
        Number of rounds selected so far.
    co_trained_ : bool
        Whether the last :meth:`training_targets` combined the views.

    Examples
    --------
    >>> loop = ActiveLoop("entropy", budget_per_round=2, warm_start=0, random_state=0)
    >>> items = loop.select(proba=[[0.5, 0.5], [0.9, 0.1], [0.6, 0.4]])
    >>> sorted(items.tolist())
    [0, 2]
    >>> loop.incorporate({0: 1, 2: 0}).gold().tolist()
    [1, -1, 0]
    >>> loop.gold_sampling  # answers chosen by a strategy: a biased sample
    'active'
    """

    def __init__(
        self,
        strategy: str = DEFAULT_STRATEGY,
        budget_per_round: int = 10,
        *,
        n_classes: int | None = None,
        diversity: float | None = None,
        answer_weight: float = 1.0,
        weak_weight: float | str = "cv",
        co_train: bool = True,
        explore: float = 0.2,
        sampling: str = "top",
        warm_start: int = 20,
        label_model_gold: str = "weighted",
        allow_partial: bool = False,
        strategy_params: Mapping[str, Any] | None = None,
        random_state: Any = None,
    ) -> None:
        self.strategy = check_choice("strategy", strategy, tuple(STRATEGIES))
        self.budget_per_round = check_int("budget_per_round", budget_per_round, low=1)
        self.n_classes = None if n_classes is None else check_int("n_classes", n_classes, low=2)
        self.diversity = None if diversity is None else check_float("diversity", diversity, low=0.0, high=1.0)
        self.answer_weight = check_float("answer_weight", answer_weight, low=0.0)
        self.weak_weight = weak_weight if weak_weight in ("auto", "cv") else check_float(
            "weak_weight", weak_weight, low=0.0)
        self.co_train = check_bool("co_train", co_train)
        self.explore = check_float("explore", explore, low=0.0, high=1.0)
        self.sampling = check_choice("sampling", sampling, ("top", "stochastic"))
        self.warm_start = check_int("warm_start", warm_start, low=0)
        self.label_model_gold = check_choice("label_model_gold", label_model_gold, ("weighted", "random_draws"))
        self.allow_partial = check_bool("allow_partial", allow_partial)
        if strategy_params is not None and not isinstance(strategy_params, Mapping):
            raise fail("strategy_params", "a mapping of keyword parameters", strategy_params)
        self.strategy_params = dict(strategy_params or {})
        self.random_state = random_state
        self._rng = check_random_state(random_state)
        self.n_items_: int | None = None
        self.n_classes_: int | None = self.n_classes
        self.round_ = 0
        self._pending: dict[int, int] = {}
        self._drawn: set[int] = set()  # pending items drawn at random
        self._draws: dict[int, tuple[float, int]] = {}  # pending item -> (draw probability, items drawn from)
        self._uniforms: dict[int, float] = {}  # answered item -> U[0, 1) for representative_gold
        self._aux_rng = self._rng.spawn(1)[0]  # its own stream: the selection draws stay as without it
        # the weak_weight="cv" folds: one seed for the whole loop, so that an answer keeps its fold across rounds
        self._cv_seed = int(self._rng.spawn(1)[0].integers(2**62))
        self._asked_proba: dict[int, np.ndarray] = {}  # label-model soft label of an item when it was asked
        self._records: tuple[Answer, ...] = ()
        self.weak_weight_: float | None = None
        self.weak_weight_scores_: dict[float, float] | None = None
        self.co_trained_ = False

    # ------------------------------------------------------------------ state
    @property
    def pending_(self) -> np.ndarray:
        """Indices of items asked and not yet answered, sorted, int64."""
        return np.array(sorted(self._pending), dtype=np.int64)

    @property
    def gold_sampling(self) -> str:
        """How the answers were chosen, for a label model's ``fit(L, gold=..., gold_sampling=...)``.

        ``"random"`` for the ``"random"`` strategy without batch diversity (a
        uniform random sample of the pool), ``"active"`` for every other
        strategy: its answers are a biased sample (see
        :class:`weaklab.models.AutoLabelModel`).
        """
        uniform = self.strategy == "random" and not self.diversity
        return "random" if uniform else "active"

    def label_model_gold_params(self) -> dict[str, Any]:
        """The answers as keyword arguments of a label model's ``fit(L, **params)``.

        With the ``"random"`` strategy (no diversity) every answer,
        ``gold_sampling="random"``. Otherwise, per ``label_model_gold``:
        every answer with ``gold_weight=`` :meth:`gold_weights`
        (``"weighted"``), or :meth:`representative_gold` (``"random_draws"``),
        with ``gold_sampling="random"``; before any answer can stand for the
        pool (no random draw yet), every answer with ``gold_sampling="active"``.

        Returns
        -------
        dict
            ``gold``, ``gold_sampling`` and, when weighted, ``gold_weight``.

        Examples
        --------
        >>> loop = ActiveLoop("entropy", budget_per_round=2, warm_start=1, explore=0.0, random_state=0)
        >>> items = loop.select(proba=[[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.7, 0.3]])
        >>> params = loop.incorporate(items, [1, 0]).label_model_gold_params()
        >>> sorted(params), params["gold_sampling"]
        (['gold', 'gold_sampling', 'gold_weight'], 'random')
        """
        gold = self.gold()
        if self.gold_sampling == "random":
            return {"gold": gold, "gold_sampling": "random"}
        if self.label_model_gold == "weighted":
            weights = self.gold_weights()
            if weights.sum() > 0:
                return {"gold": gold, "gold_sampling": "random", "gold_weight": weights}
        else:
            representative = self.representative_gold()
            if (representative >= 0).any():
                return {"gold": representative, "gold_sampling": "random"}
        return {"gold": gold, "gold_sampling": "active"}

    def training_targets(self, label_proba: Any, *, exclude: Any = None, X: Any = None,
                         end_model: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Soft labels and weights for the end model: answered items get their human label.

        Parameters
        ----------
        label_proba : array-like of shape (n_items_, k)
            The label model's soft labels on the pool.
        exclude : array-like of bool of shape (n_items_,), optional
            Weak-labelled items to leave out (weight 0), e.g. items no source
            voted on; answered items are always kept.
        X : array-like or sparse matrix of shape (n_items_, d), optional
            Pool features; needed by ``weak_weight="cv"``.
        end_model : classifier, optional
            Unfitted ``fit(X, soft_labels, sample_weight=...)`` /
            ``predict_proba`` model (cloned); needed by ``weak_weight="cv"``.

        Returns
        -------
        targets : ndarray of shape (n_items_, k)
            ``label_proba`` with answered rows replaced by the one-hot answer
            (and the weak rows combined with the end model's, see ``co_train``).
        weights : ndarray of shape (n_items_,)
            ``weak_weight`` for weak labels (estimated with ``"auto"`` or
            ``"cv"``; the value used is kept in ``weak_weight_``, the
            cross-validated scores in ``weak_weight_scores_``), ``answer_weight`` for
            answered items, 0 for excluded ones; rescaled so that the kept
            items' mean weight is 1 (so the end model's regularisation does
            not change with the weights' scale).
        """
        n = self._require_items()
        targets = checked_proba("label_proba", label_proba, n_rows=n).copy()
        k = self._require_classes()
        if targets.shape[1] != k:
            raise fail("label_proba", f"{k} columns (one per class)", got_text=f"{targets.shape[1]} columns")
        gold = self.gold()
        known = gold >= 0
        excluded = checked_mask("exclude", exclude, n) & ~known if exclude is not None else np.zeros(n, bool)
        self.weak_weight_ = self._weak_label_weight(targets, k, excluded, X, end_model)
        # before any answer only weak labels train: their weight against answers does not matter then
        weights = np.full(n, self.weak_weight_ if known.any() else 1.0)
        weights[excluded] = 0.0
        targets[known] = np.eye(k)[gold[known]]
        weights[known] = self.answer_weight
        kept = weights > 0
        if kept.any():
            weights /= weights[kept].mean()
        self.co_trained_ = bool(self.co_train and known.sum() >= MIN_CO_TRAIN_ANSWERS and X is not None
                                and end_model is not None and (weights[~known] > 0).any())
        if self.co_trained_:
            targets = self._co_trained(targets, weights, known, X, end_model)
        return targets, weights

    def _co_trained(self, targets: np.ndarray, weights: np.ndarray, known: np.ndarray, X: Any,
                    end_model: Any) -> np.ndarray:
        """Weak labels combined with the out-of-fold end model's posteriors (see ``co_train``)."""
        weak = ~known & (weights > 0)
        oof = out_of_fold_proba(end_model, X, targets, weights, random_state=self._aux_rng)
        prior = np.clip(targets[weak].mean(axis=0), PROBA_FLOOR, None)
        targets[weak] = combine_views(targets[weak], oof[weak], prior=prior)
        return targets

    def _weak_label_weight(self, label_proba: np.ndarray, k: int, excluded: np.ndarray, X: Any,
                           end_model: Any) -> float:
        if self.weak_weight not in ("auto", "cv"):
            self.weak_weight_scores_ = None
            return float(self.weak_weight)
        asked = np.array([self._asked_proba.get(a.item, label_proba[a.item]) for a in self._records]).reshape(-1, k)
        answers = np.array([a.label for a in self._records], dtype=np.int64)
        # "top": the strategy's picks have no draw probability; the CV scores every answer alike, and its weight 0
        # (the answers alone), which picks scored by models trained on picks overrate, is raised (see weak_weight)
        scoring = None if self.sampling == "stochastic" else np.ones(answers.shape[0])
        previous = self.weak_weight_ if self.weak_weight_scores_ is not None else None  # the last CV choice
        weight, self.weak_weight_scores_ = estimate_weak_weight(
            str(self.weak_weight), label_proba, self.answered_, answers, self.answer_weights(), asked,
            excluded=excluded, X=X, end_model=end_model, answer_weight=self.answer_weight,
            random_state=self._cv_seed, cv_importance=scoring, previous=previous)
        if weight <= 0 and self.weak_weight_scores_ is not None and self.sampling == "top" \
                and self.gold_sampling == "active":
            weight = min(w for w in WEAK_WEIGHT_GRID if w > 0)
        return weight

    def start(self, n_items: int, *, n_classes: int | None = None) -> ActiveLoop:
        """Fix the pool size (and the classes) before the first round, e.g. to record earlier answers.

        Parameters
        ----------
        n_items : int
            Pool size; must match an already fixed pool.
        n_classes : int, optional
            Number of classes; must match one already known.

        Returns
        -------
        self
        """
        n = check_int("n_items", n_items, low=1)
        k = None if n_classes is None else check_int("n_classes", n_classes, low=2)
        if self.n_items_ is not None and n != self.n_items_:
            raise fail("n_items", f"{self.n_items_} (the loop's pool)", n)
        if k is not None and self.n_classes_ is not None and k != self.n_classes_:
            raise fail("n_classes", f"{self.n_classes_} (the loop's classes)", k)
        self.n_items_ = n
        self.n_classes_ = self.n_classes_ if k is None else k
        return self

    # ----------------------------------------------------------------- select
    def select(
        self,
        *,
        proba: Any = None,
        label_proba: Any = None,
        L: Any = None,
        X: Any = None,
        density_scores: Any = None,
        n: int | None = None,
    ) -> np.ndarray:
        """Choose the items of the next round.

        Parameters
        ----------
        proba : array-like of shape (n_items, k), optional
            End-model probabilities on the pool.
        label_proba : array-like of shape (n_items, k), optional
            Label-model soft labels on the pool.
        L : LabelMatrix or array-like of shape (n_items, m), optional
            Votes on the pool.
        X : array-like or sparse matrix of shape (n_items, d), optional
            Features of the pool.
        density_scores : array-like of shape (n_items,), optional
            Precomputed :func:`~weaklab.active.density` (for ``density_weighted``).
        n : int, optional
            Items to ask this round (default ``budget_per_round``).

        Returns
        -------
        ndarray of shape (n,), int64
            Distinct pool indices, never answered or pending; they become
            pending. Empty only when ``allow_partial`` and nothing remains.

        Raises
        ------
        ValidationError
            When a needed input is missing or malformed, inputs disagree on
            the pool size, or ``n`` exceeds the items that remain (unless
            ``allow_partial``).
        """
        inputs = {"proba": proba, "label_proba": label_proba, "L": L, "X": X, "density_scores": density_scores}
        inputs = {k: v for k, v in inputs.items() if v is not None}
        n_items = pool_size(inputs, self.n_items_)
        n_classes = infer_classes(inputs, self.n_classes_)
        want = self.budget_per_round if n is None else check_int("n", n, low=1)
        taken = np.zeros(n_items, dtype=bool)
        answered = self.answered_
        taken[answered] = True
        taken[list(self._pending)] = True
        remaining = int(n_items - taken.sum())
        if want > remaining and not self.allow_partial:
            name = "budget_per_round" if n is None else "n"
            raise fail(name, f"at most {remaining} (items neither answered nor pending; "
                       "pass allow_partial=True to take what remains)", want)
        want = min(want, remaining)
        drawn = self._draw_at_random(want, taken)
        items = drawn
        if want > drawn.size:
            taken[drawn] = True
            chosen = self._choose(want - drawn.size, taken, answered, inputs)
            items = np.concatenate([chosen, drawn]).astype(np.int64)
        self.n_items_, self.n_classes_ = n_items, n_classes
        self.round_ += 1
        self._pending.update(dict.fromkeys(items.tolist(), self.round_))
        uniform = self.strategy == "random" and not self.diversity  # spread by diversity, a batch is not uniform
        if uniform:  # a uniform draw in the order returned
            left = remaining - np.arange(items.size)
            self._draws.update(zip(items.tolist(), zip((1.0 / left).tolist(), left.tolist(), strict=True)))
        self._drawn.update((items if uniform else drawn).tolist())
        if "label_proba" in inputs:
            rows = checked_proba("label_proba", inputs["label_proba"], n_rows=n_items)[items]
            self._asked_proba.update(zip(items.tolist(), rows, strict=True))
        return items

    def _choose(self, n: int, taken: np.ndarray, answered: np.ndarray, inputs: dict[str, Any]) -> np.ndarray:
        """The strategy's ``n`` items among those not taken (top scores, or drawn when stochastic)."""
        if self.sampling == "top" or self.strategy == "random":
            return select(self.strategy, n, answered=answered, available=~taken, diversity=self.diversity,
                          random_state=self._rng, params=self.strategy_params, **inputs)
        scores = strategy_scores(self.strategy, answered=answered, random_state=self._rng,
                                 params=self.strategy_params, **inputs)
        proposal = rank_proposal(scores, ~taken, scale=float(n), random_state=self._rng)
        items, prob, left = draw_batch(proposal, n, available=~taken, explore=self.explore, random_state=self._rng)
        self._draws.update(zip(items.tolist(), zip(prob.tolist(), left.tolist(), strict=True)))
        return items

    def _draw_at_random(self, want: int, taken: np.ndarray) -> np.ndarray:
        """The round's random share (``explore`` when ``"top"``, or what ``warm_start`` still misses), uniformly."""
        if self.strategy == "random":
            return np.zeros(0, dtype=np.int64)
        top = self.sampling == "top"
        share = int(np.floor(self.explore * want + 0.5)) if want >= 3 and top else 0
        have = sum(a.at_random for a in self._records) + len(self._drawn)
        count = min(want, max(share, self.warm_start - have))
        if count <= 0:
            return np.zeros(0, dtype=np.int64)
        free = np.flatnonzero(~taken)
        items = self._rng.choice(free, size=count, replace=False).astype(np.int64)
        left = free.size - np.arange(count)  # drawn one after another, each uniformly from what was left
        self._draws.update(zip(items.tolist(), zip((1.0 / left).tolist(), left.tolist(), strict=True)))
        return items

    def release(self, items: Any) -> ActiveLoop:
        """Return pending items to the pool unanswered (e.g. a reviewer skipped them).

        Parameters
        ----------
        items : array-like of int
            Pending pool indices.

        Returns
        -------
        self
        """
        idx = checked_indices("items", items, self._require_items())
        self._check_pending("items", idx)
        for i in idx.tolist():
            del self._pending[i]
            self._drawn.discard(i)
            self._draws.pop(i, None)
        return self

    # ------------------------------------------------------------ incorporate
    def incorporate(self, answers: Any, labels: Any = None, *, origin: str = "human") -> ActiveLoop:
        """Record answers to pending items; all or nothing.

        Parameters
        ----------
        answers : mapping of int to int, pandas Series, or array-like of int
            ``{item: label}`` (a Series maps its index to its values), or the
            answered items when ``labels`` is given.
        labels : array-like of int, optional
            Class ids aligned with ``answers`` when it holds item indices.
        origin : str, default="human"
            Who answered; stored with every record.

        Returns
        -------
        self

        Raises
        ------
        ValidationError
            For a label outside ``0..k-1``, an item out of range, answered
            twice, already answered or never asked, or mismatched lengths.
            Nothing is recorded then: earlier answers stay as they were.
        """
        if not isinstance(origin, str) or not origin:
            raise fail("origin", "a non-empty string", origin)
        n_items = self._require_items()
        items, values = split_answers(answers, labels)
        idx = checked_indices("answers", items, n_items)
        if values.shape[0] != idx.shape[0]:
            raise fail("labels", f"{idx.shape[0]} labels (one per answered item)",
                       got_text=f"{values.shape[0]}")
        self._check_pending("answers", idx)
        y = check_labels("labels", values, self._require_classes(), length=idx.shape[0])
        now = datetime.now(UTC)
        new = tuple(Answer(int(i), int(c), self._pending[int(i)], now, origin, int(i) in self._drawn,
                           *self._draws.get(int(i), (float("nan"), 0)))
                    for i, c in zip(idx, y))
        self._records = self._records + new
        for i in idx.tolist():
            del self._pending[i]
            self._drawn.discard(i)
            self._draws.pop(i, None)
            self._uniforms[i] = float(self._aux_rng.random())
        return self

    # ---------------------------------------------------------------- helpers
    def _check_pending(self, name: str, idx: np.ndarray) -> None:
        not_pending = [int(i) for i in idx if int(i) not in self._pending]
        if not not_pending:
            return
        done = set(self.answered_.tolist())
        first = not_pending[0]
        why = "was already answered" if first in done else "was never asked (not pending)"
        raise fail(name, "items asked in a round and not yet answered",
                   got_text=f"{len(not_pending)} other item(s), e.g. item {first}, which {why}")

    def __repr__(self) -> str:
        return (f"ActiveLoop(strategy={self.strategy!r}, budget_per_round={self.budget_per_round}, "
                f"round_={self.round_}, n_answered_={self.n_answered_}, n_pending={len(self._pending)})")

