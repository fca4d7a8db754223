"""The answers of the review loop and what they are worth as evidence about the pool (base of ActiveLoop)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._core.validation import fail
from .answers import ANSWER_COLUMNS, Answer
from .sampling import lure_weights, resample_answers, round_draw_weights

__all__ = ["AnswerRecords"]


class AnswerRecords:
    """Recorded answers with their draw probabilities: gold vectors and importance weights.

    The base of :class:`~weaklab.active.ActiveLoop`, which fills it; not
    meant to be created on its own.

    Attributes
    ----------
    n_items_ : int or None
        Pool size.
    n_classes_ : int or None
        Number of classes.
    """

    n_items_: int | None
    n_classes_: int | None
    _records: tuple[Answer, ...]
    _uniforms: dict[int, float]

    @property
    def records_(self) -> tuple[Answer, ...]:
        """Every recorded answer, oldest first (an immutable tuple)."""
        return self._records

    @property
    def answers_(self) -> pd.DataFrame:
        """The recorded answers as a new DataFrame, one column per :data:`ANSWER_COLUMNS` name."""
        frame = pd.DataFrame([vars(a) for a in self._records], columns=list(ANSWER_COLUMNS))
        return frame.astype({"item": np.int64, "label": np.int64, "round": np.int64})

    @property
    def answered_(self) -> np.ndarray:
        """Indices of the answered items, in answer order, ``(n_answered,)`` int64."""
        return np.fromiter((a.item for a in self._records), dtype=np.int64, count=len(self._records))

    @property
    def n_answered_(self) -> int:
        """Number of recorded answers."""
        return len(self._records)

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

    def answer_weights(self) -> np.ndarray:
        """Importance weights of the answers (in answer order) that make them a sample of the whole pool.

        When every answer has a draw probability (``sampling="stochastic"``,
        the ``"random"`` strategy, random draws), the LURE weights of
        :func:`~weaklab.active.lure_weights`: the weighted mean of anything
        measured on the answers estimates its mean over the pool without
        bias. Otherwise (a ``sampling="top"`` strategy chose some items) 1
        for answers to items drawn at random and 0 for the strategy's picks.

        Returns
        -------
        ndarray of shape (n_answered_,)
            Non-negative.
        """
        prob = np.array([a.probability for a in self._records], dtype=np.float64)
        if prob.size and np.all(np.isfinite(prob)):
            left = np.array([a.pool_left for a in self._records], dtype=np.float64)
            return lure_weights(prob, left, self._require_items())
        return np.array([1.0 if a.at_random else 0.0 for a in self._records])

    def gold_weights(self) -> np.ndarray:
        """How many pool items each answer stands for, as a per-item vector for ``fit(..., gold_weight=...)``.

        With these weights *every* answer, the strategy's picks included, is
        evidence about the whole pool: for any per-item quantity ``f``
        (e.g. "the label model is right"), ``sum(w f)`` over the answered
        items is an unbiased estimate of its sum over the pool, and the
        weights sum to the pool size (all 0 when no answer was drawn
        uniformly; see the last two paragraphs for what is not covered).

        * When every answer has a draw probability (``sampling="stochastic"``,
          the ``"random"`` strategy), the LURE weights of
          :meth:`answer_weights`, scaled to sum to the pool size.
        * With ``sampling="top"``, round ``r`` draws ``d_r`` items uniformly
          from the ``F_r`` items then free and the strategy picks the rest
          from what is left; :func:`~weaklab.active.round_draw_weights` (the
          pure rule, shared with the project's review queues). Estimate ``k``
          of the pool total -- the answers
          of the rounds before ``k`` counted once each (they are observed,
          whatever chose them), plus ``F_k / d_k`` times the total of round
          ``k``'s draws (a uniform sample of everything else) -- is unbiased
          given the past, and so is their mixture with weights
          ``lambda_k = d_k / sum(d)`` (fixed by the budgets, not the
          answers). Per answer: a pick of round ``r`` weighs
          ``sum_{k > r} lambda_k`` (it stands for itself in the estimates
          made after it was answered), a draw of round ``r`` that plus
          ``lambda_r F_r / d_r``. Picks of the last round with draws weigh 0:
          that round's draws stand for them.

        Without any uniform draw (``warm_start=0``, ``explore=0``, or the
        ``"random"`` strategy with ``diversity``, which spreads its batch
        rather than drawing it) no answer can stand for the pool: every
        weight is 0 (:meth:`label_model_gold_params` then passes the answers
        as ``"active"``). An answer flagged ``at_random`` without a recorded
        draw (``pool_left`` 0) counts as a pick.

        An item asked and never answered (still pending, not released)
        when a later round drew is in no round's pool: neither answered
        before it nor free to draw. Its share of the pool is spread over the
        answers in proportion to their weights (the weights are scaled to
        sum to the pool size; a ratio estimate: it assumes those items are
        like the pool on average, a small bias when they differ, none in a
        weighted mean such as the label model's scores). Answer or
        :meth:`release` a round's items before selecting the next.

        Returns
        -------
        ndarray of shape (n_items_,)
            Non-negative, 0 for unanswered items; summing to ``n_items_``, or
            all 0 without a uniform draw among the answers.

        Examples
        --------
        >>> from weaklab.active import ActiveLoop
        >>> loop = ActiveLoop("entropy", budget_per_round=2, warm_start=1, explore=0.0, random_state=0)
        >>> items = loop.select(proba=[[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.7, 0.3]])
        >>> w = loop.incorporate(items, [1, 0]).gold_weights()  # one draw from 4 items, one pick
        >>> float(w.sum()), sorted(w[items].tolist())
        (4.0, [0.0, 4.0])
        """
        n = self._require_items()
        out = np.zeros(n)
        if not self._records:
            return out
        items = self.answered_
        prob = np.array([a.probability for a in self._records], dtype=np.float64)
        if np.all(np.isfinite(prob)):
            w = self.answer_weights()
            out[items] = w * (n / w.sum()) if w.sum() > 0 else w
            return out
        rounds = [a.round for a in self._records]
        w = round_draw_weights(rounds, [a.at_random for a in self._records], [a.pool_left for a in self._records])
        # scaled as the stochastic path: sum(w) < n when items asked earlier were pending at a later draw
        out[items] = w * (n / w.sum()) if w.sum() > 0 else w
        return out

    def representative_gold(self) -> np.ndarray:
        """Answers that form an (approximately) uniform random sample of the pool, as a gold vector.

        The answers are importance-resampled with :meth:`answer_weights`
        (:func:`~weaklab.active.resample_answers`; each answer's uniform draw
        is made once, when it is recorded, so the kept set is stable across
        rounds): with ``sampling="top"`` exactly the answers to random draws,
        with ``sampling="stochastic"`` also part of the strategy's answers.
        Pass it as ``fit(L, gold=loop.representative_gold(), gold_sampling="random")``.

        Returns
        -------
        ndarray of shape (n_items_,), int64
            The answered class id of the kept answers, ``-1`` elsewhere.
        """
        n = self._require_items()
        gold = np.full(n, -1, dtype=np.int64)
        u = np.array([self._uniforms[a.item] for a in self._records], dtype=np.float64)
        keep = resample_answers(self.answer_weights(), u)
        kept = [a for a, k in zip(self._records, keep, strict=True) if k]
        gold[[a.item for a in kept]] = [a.label for a in kept]
        return gold

    def _require_items(self) -> int:
        if self.n_items_ is None:
            raise fail("ActiveLoop", "a first select() call (it fixes the pool)", got_text="none yet")
        return self.n_items_

    def _require_classes(self) -> int:
        if self.n_classes_ is None:
            raise fail("ActiveLoop(n_classes=...)", "the number of classes (or select() inputs that carry it)",
                       None)
        return self.n_classes_
