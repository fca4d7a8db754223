"""The review loop: pick items with a strategy, take the answers back in as gold."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from .._core import LabelMatrix
from .._core.validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_labels,
    check_random_state,
    fail,
)
from ..errors import ValidationError
from ._inputs import checked_indices, checked_mask, checked_proba
from .answers import ANSWER_COLUMNS, Answer, split_answers
from .registry import DEFAULT_STRATEGY, STRATEGIES, select
from .weights import label_information, weak_label_accuracy

__all__ = ["Answer", "ActiveLoop", "ANSWER_COLUMNS"]


class ActiveLoop:
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
        strategy's own when features are given.
    answer_weight : float, default=1.0
        Training weight of an answered item in :meth:`training_targets`,
        relative to ``weak_weight``.
    weak_weight : float or "auto", default="auto"
        Training weight of a weak-labelled item in :meth:`training_targets`.
        ``"auto"``: the information of a label as accurate as the weak
        labels, ``((k a - 1) / (k - 1))^2`` (see :mod:`weaklab.active.weights`),
        with ``a`` estimated from the answers to items drawn at random, so
        that answers count for more when the weak labels are poor.
    explore : float in [0, 1], default=0.2
        Share of each round's items drawn uniformly at random from the
        remaining pool instead of by the strategy (rounded; none in a round
        of fewer than 3 items). Their answers are an unbiased sample: they
        estimate the weak labels' accuracy (``weak_weight="auto"``) and can
        score label models (:meth:`gold` with ``at_random_only=True``), and
        they keep a strategy from asking only about one corner of the pool.
        Ignored by the ``"random"`` strategy, whose every item is random.
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
        weak_weight: float | str = "auto",
        explore: float = 0.2,
        warm_start: int = 20,
        allow_partial: bool = False,
        strategy_params: Mapping[str, Any] | None = None,
        random_state: Any = None,
    ) -> None:
        self.strategy = check_choice("strategy", strategy, tuple(STRATEGIES))
        self.budget_per_round = check_int("budget_per_round", budget_per_round, low=1)
        self.n_classes = None if n_classes is None else check_int("n_classes", n_classes, low=2)
        self.diversity = None if diversity is None else check_float("diversity", diversity, low=0.0, high=1.0)
        self.answer_weight = check_float("answer_weight", answer_weight, low=0.0)
        self.weak_weight = weak_weight if weak_weight == "auto" else check_float(
            "weak_weight", weak_weight, low=0.0)
        self.explore = check_float("explore", explore, low=0.0, high=1.0)
        self.warm_start = check_int("warm_start", warm_start, low=0)
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
        self._asked_proba: dict[int, np.ndarray] = {}  # label-model soft label of an item when it was asked
        self._records: tuple[Answer, ...] = ()
        self.weak_weight_: float | None = None

    # ------------------------------------------------------------------ state
    @property
    def records_(self) -> tuple[Answer, ...]:
        """Every recorded answer, oldest first (an immutable tuple)."""
        return self._records

    @property
    def answers_(self) -> pd.DataFrame:
        """The recorded answers as a new DataFrame: item, label, round, answered_at, origin."""
        frame = pd.DataFrame([vars(a) for a in self._records], columns=list(ANSWER_COLUMNS))
        return frame.astype({"item": np.int64, "label": np.int64, "round": np.int64})

    @property
    def answered_(self) -> np.ndarray:
        """Indices of the answered items, in answer order, ``(n_answered,)`` int64."""
        return np.fromiter((a.item for a in self._records), dtype=np.int64, count=len(self._records))

    @property
    def pending_(self) -> np.ndarray:
        """Indices of items asked and not yet answered, sorted, int64."""
        return np.array(sorted(self._pending), dtype=np.int64)

    @property
    def n_answered_(self) -> int:
        """Number of recorded answers."""
        return len(self._records)

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

    def gold(self, *, at_random_only: bool = False) -> np.ndarray:
        """The answers as a gold vector for a label model's ``fit(L, gold=...)``.

        Parameters
        ----------
        at_random_only : bool, default=False
            Keep only the answers to items drawn uniformly at random (an
            unbiased sample of the pool: ``fit(..., gold_sampling="random")``).

        Returns
        -------
        ndarray of shape (n_items_,), int64
            The answered class id, ``-1`` where unknown.
        """
        n = self._require_items()
        gold = np.full(n, -1, dtype=np.int64)
        kept = [a for a in self._records if a.at_random or not at_random_only]
        gold[[a.item for a in kept]] = [a.label for a in kept]
        return gold

    def training_targets(self, label_proba: Any, *, exclude: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Soft labels and weights for the end model: answered items get their human label.

        Parameters
        ----------
        label_proba : array-like of shape (n_items_, k)
            The label model's soft labels on the pool.
        exclude : array-like of bool of shape (n_items_,), optional
            Weak-labelled items to leave out (weight 0), e.g. items no source
            voted on; answered items are always kept.

        Returns
        -------
        targets : ndarray of shape (n_items_, k)
            ``label_proba`` with answered rows replaced by the one-hot answer.
        weights : ndarray of shape (n_items_,)
            ``weak_weight`` for weak labels (estimated with ``"auto"``; the
            value used is kept in ``weak_weight_``), ``answer_weight`` for
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
        self.weak_weight_ = self._weak_label_weight(targets, k)
        weights = np.full(n, self.weak_weight_)
        if exclude is not None:
            weights[checked_mask("exclude", exclude, n) & ~known] = 0.0
        targets[known] = np.eye(k)[gold[known]]
        weights[known] = self.answer_weight
        kept = weights > 0
        if kept.any():
            weights /= weights[kept].mean()
        return targets, weights

    def _weak_label_weight(self, label_proba: np.ndarray, k: int) -> float:
        if self.weak_weight != "auto":
            return float(self.weak_weight)
        drawn = [a for a in self._records if a.at_random]
        asked = np.array([self._asked_proba.get(a.item, label_proba[a.item]) for a in drawn]).reshape(-1, k)
        answers = np.array([a.label for a in drawn], dtype=np.int64)
        accuracy = weak_label_accuracy(asked, answers, float(label_proba.max(axis=1).mean()))
        return label_information(accuracy, k)

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
        n_items = self._pool_size(inputs)
        n_classes = self._infer_classes(inputs)
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
            chosen = select(self.strategy, want - drawn.size, answered=answered, available=~taken,
                            diversity=self.diversity, random_state=self._rng, params=self.strategy_params, **inputs)
            items = np.concatenate([chosen, drawn]).astype(np.int64)
        self.n_items_, self.n_classes_ = n_items, n_classes
        self.round_ += 1
        self._pending.update(dict.fromkeys(items.tolist(), self.round_))
        self._drawn.update((items if self.strategy == "random" else drawn).tolist())
        if "label_proba" in inputs:
            rows = checked_proba("label_proba", inputs["label_proba"], n_rows=n_items)[items]
            self._asked_proba.update(zip(items.tolist(), rows, strict=True))
        return items

    def _draw_at_random(self, want: int, taken: np.ndarray) -> np.ndarray:
        """The round's random share (``explore``, or what ``warm_start`` still misses), drawn uniformly."""
        if self.strategy == "random":
            return np.zeros(0, dtype=np.int64)
        share = int(np.floor(self.explore * want + 0.5)) if want >= 3 else 0
        have = sum(a.at_random for a in self._records) + len(self._drawn)
        count = min(want, max(share, self.warm_start - have))
        if count <= 0:
            return np.zeros(0, dtype=np.int64)
        return np.sort(self._rng.choice(np.flatnonzero(~taken), size=count, replace=False)).astype(np.int64)

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
        new = tuple(Answer(int(i), int(c), self._pending[int(i)], now, origin, int(i) in self._drawn)
                    for i, c in zip(idx, y))
        self._records = self._records + new
        for i in idx.tolist():
            del self._pending[i]
            self._drawn.discard(i)
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

    def _pool_size(self, inputs: dict[str, Any]) -> int:
        sizes = {k: (v.n_items if isinstance(v, LabelMatrix) else _rows(k, v)) for k, v in inputs.items()}
        if not sizes:
            raise fail("select", "at least one of proba, label_proba, L, X, density_scores", got_text="none")
        if self.n_items_ is not None:
            sizes = {"the loop's pool": self.n_items_, **sizes}
        if len(set(sizes.values())) > 1:
            shown = ", ".join(f"{k}={v}" for k, v in sizes.items())
            raise ValidationError(f"select: expected the same number of items in every input, got {shown}")
        return next(iter(sizes.values()))

    def _infer_classes(self, inputs: dict[str, Any]) -> int | None:
        found: dict[str, int] = {k: int(np.shape(inputs[k])[1]) for k in ("proba", "label_proba") if k in inputs}
        if isinstance(inputs.get("L"), LabelMatrix):
            found["L"] = inputs["L"].n_classes
        if self.n_classes_ is not None:
            found = {"n_classes": self.n_classes_, **found}
        if len(set(found.values())) > 1:
            shown = ", ".join(f"{k}: {v}" for k, v in found.items())
            raise ValidationError(f"select: expected the same number of classes in every input, got {shown}")
        return next(iter(found.values()), None)

    def _require_items(self) -> int:
        if self.n_items_ is None:
            raise fail("ActiveLoop", "a first select() call (it fixes the pool)", got_text="none yet")
        return self.n_items_

    def _require_classes(self) -> int:
        if self.n_classes_ is None:
            raise fail("ActiveLoop(n_classes=...)", "the number of classes (or select() inputs that carry it)",
                       None)
        return self.n_classes_

    def __repr__(self) -> str:
        return (f"ActiveLoop(strategy={self.strategy!r}, budget_per_round={self.budget_per_round}, "
                f"round_={self.round_}, n_answered_={self.n_answered_}, n_pending={len(self._pending)})")


def _rows(name: str, value: Any) -> int:
    shape = np.shape(value) if not hasattr(value, "shape") else value.shape
    if len(shape) == 0:
        raise fail(name, "an array with one row per item", value)
    return int(shape[0])
