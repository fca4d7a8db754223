"""Stochastic batches with known draw probabilities, and the weights that make their answers unbiased.

A query strategy that takes the top-scored items gives answers that are a
biased sample of the pool: measured on them, the weak labels look worse and
label models are scored on the hardest items only. :func:`draw_batch`
instead draws a batch one item at a time from a *proposal* that mixes the
strategy's ranking with the uniform distribution, and records, for every
draw, the probability ``q`` the drawn item had and the number ``R`` of items
it was drawn from. Because every remaining item keeps a probability of at
least ``explore / R``, the answers can be re-weighted into an unbiased sample:
:func:`lure_weights` gives the LURE weights of Farquhar, Gal and Rainforth
("On Statistical Bias in Active Learning: How and When to Fix It", ICLR 2021;
also Kossen et al., "Active Testing", ICML 2021), with which the weighted mean
of any per-item quantity over the answers is an unbiased estimate of its mean
over the whole pool, for sampling without replacement. :func:`resample_answers`
turns the weights into an approximately uniform sub-sample (sampling-
importance-resampling), for consumers that take unweighted gold, such as a
label model's ``fit(L, gold=..., gold_sampling="random")``.

The strategy part of the proposal is a soft ranking: the item ranked ``r``
(0 = highest score) gets weight ``exp(-r / b)`` with ``b`` the round's number
of strategy draws, so a round mostly asks about its top few ``b`` items, as a
top-``b`` strategy would, but never with probability 0 or 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.validation import check_float, check_int, check_random_state, fail
from ._inputs import checked_mask, checked_scores

__all__ = ["draw_batch", "lure_weights", "resample_answers", "rank_proposal", "round_draw_weights"]


def rank_proposal(scores: Any, available: Any = None, *, scale: float = 1.0,
                  random_state: Any = None) -> np.ndarray:
    """Soft-rank weights of the available items: ``exp(-rank / scale)``, normalised to sum to 1.

    Parameters
    ----------
    scores : array-like of shape (n_items,)
        A strategy's scores; higher = ask first.
    available : array-like of bool of shape (n_items,), optional
        Items that may be drawn (default all); the others get 0.
    scale : float, default=1.0
        Rank at which the weight has fallen by ``e`` (e.g. the batch size).
    random_state : None, int or numpy.random.Generator, default=None
        Breaks ties in the scores.

    Returns
    -------
    ndarray of shape (n_items,)
        Non-negative, summing to 1 over the available items.

    Examples
    --------
    >>> rank_proposal([0.1, 0.9, 0.5], scale=1.0).round(3).tolist()
    [0.09, 0.665, 0.245]
    """
    s = checked_scores("scores", scores)
    mask = checked_mask("available", available, s.shape[0])
    scale = check_float("scale", scale, low=0.0, low_open=True)
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        raise fail("available", "at least one available item", got_text="none")
    rng = check_random_state(random_state)
    order = idx[np.lexsort((rng.random(idx.size), -s[idx]))]  # best first, ties at random
    out = np.zeros(s.shape[0])
    out[order] = np.exp(-np.arange(order.size) / scale)
    return out / out.sum()


def draw_batch(
    proposal: Any,
    n: int,
    *,
    available: Any = None,
    explore: float = 0.2,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` distinct items one at a time from ``explore`` x uniform + ``(1 - explore)`` x ``proposal``.

    Plain-loop specification (each draw renormalises over what is left)::

        for j in range(n):
            R = number of available items
            q = explore / R + (1 - explore) * proposal / proposal[available].sum()   # on available items
            i = draw one item with probabilities q;  record (i, q[i], R);  make i unavailable

    Parameters
    ----------
    proposal : array-like of shape (n_items,)
        Non-negative strategy weights (e.g. :func:`rank_proposal`); where
        they are all 0 on what is left, the draw is uniform.
    n : int
        Items to draw (at most the available ones).
    available : array-like of bool of shape (n_items,), optional
        Items that may be drawn (default all).
    explore : float in [0, 1], default=0.2
        Uniform share of every draw; above 0 every available item can be
        drawn, which is what makes :func:`lure_weights` finite.
    random_state : None, int or numpy.random.Generator, default=None
        Seeds the draws.

    Returns
    -------
    items : ndarray of shape (n,), int64
        The drawn items, in draw order.
    probability : ndarray of shape (n,)
        ``q`` of each drawn item at its draw.
    pool_left : ndarray of shape (n,), int64
        ``R``: items available at each draw.

    Examples
    --------
    >>> items, q, left = draw_batch([0.0, 0.0, 1.0], 1, explore=0.0, random_state=0)
    >>> items.tolist(), q.tolist(), left.tolist()
    ([2], [1.0], [3])
    """
    w = checked_scores("proposal", proposal)
    if w.size and w.min() < 0:
        raise fail("proposal", "non-negative weights", got_text=f"minimum {w.min():.4g}")
    mask = checked_mask("available", available, w.shape[0]).copy()
    n = check_int("n", n, low=0, high=int(mask.sum()))
    gamma = check_float("explore", explore, low=0.0, high=1.0)
    rng = check_random_state(random_state)
    items, prob, left = np.zeros(n, np.int64), np.zeros(n), np.zeros(n, np.int64)
    for j in range(n):
        q = _draw_probabilities(w, mask, gamma)
        i = int(rng.choice(q.shape[0], p=q))
        items[j], prob[j], left[j] = i, q[i], int(mask.sum())
        mask[i] = False
    return items, prob, left


def _draw_probabilities(w: np.ndarray, mask: np.ndarray, gamma: float) -> np.ndarray:
    """``gamma`` uniform + ``1 - gamma`` proposal over the available items (uniform if the proposal is 0 there)."""
    uniform = mask / mask.sum()
    part = np.where(mask, w, 0.0)
    total = part.sum()
    if total <= 0 or gamma >= 1.0:
        return uniform
    q = gamma * uniform + (1.0 - gamma) * part / total
    return q / q.sum()


def lure_weights(probability: Any, pool_left: Any, n_items: int) -> np.ndarray:
    """LURE weights of answers drawn one at a time without replacement (Farquhar et al., 2021).

    For the ``m``-th of ``M`` drawn items (``m = N - R_m + 1`` from the number
    ``R_m`` of items it was drawn from, ``N = n_items``)::

        v_m = 1 + (N - M) / (N - m) * (1 / (R_m * q_m) - 1)

    Then ``sum_m v_m f_m / M`` is an unbiased estimate of the pool mean
    ``sum_i f_i / N`` for any per-item ``f`` (e.g. "the weak label is
    right"). Uniform draws (``q_m = 1 / R_m``) get weight 1; items drawn more
    often than uniform get less, never below 0.

    Parameters
    ----------
    probability : array-like of shape (M,)
        ``q_m``: each answer's draw probability (:func:`draw_batch`).
    pool_left : array-like of shape (M,)
        ``R_m``: items available at its draw.
    n_items : int
        Pool size ``N``.

    Returns
    -------
    ndarray of shape (M,)
        Non-negative weights with mean close to 1.

    Examples
    --------
    >>> lure_weights([0.5, 1 / 3], [4, 3], 4).tolist()  # an over-drawn first item, then a uniform draw
    [0.6666666666666667, 1.0]
    """
    q = checked_scores("probability", probability)
    r = checked_scores("pool_left", pool_left)
    n = check_int("n_items", n_items, low=1)
    if q.shape != r.shape:
        raise fail("pool_left", f"length {q.shape[0]} (as probability)", got_text=f"length {r.shape[0]}")
    if q.size and (q.min() <= 0 or q.max() > 1):
        raise fail("probability", "draw probabilities in (0, 1]", got_text=f"values in [{q.min():.4g}, {q.max():.4g}]")
    if r.size and (r.min() < 1 or r.max() > n):
        raise fail("pool_left", f"counts in 1..{n}", got_text=f"values in [{r.min():g}, {r.max():g}]")
    big_m = q.shape[0]
    m = n - r + 1
    ratio = np.divide(n - big_m, n - m, out=np.zeros_like(q), where=(n - m) > 0)
    return np.maximum(1.0 + ratio * (1.0 / (r * q) - 1.0), 0.0)


def round_draw_weights(rounds: Any, at_random: Any, pool_left: Any) -> np.ndarray:
    """How many pool items each answer stands for, when rounds mixed uniform draws with a strategy's picks.

    Round ``r`` draws ``d_r`` items uniformly from the ``F_r`` items then
    free (neither answered nor asked) and the rest of its items are chosen
    in any way (a strategy's top picks, a person, a file). Estimate ``k`` of
    a pool total -- the answers of the rounds before ``k`` counted once each
    (they are observed, whatever chose them), plus ``F_k / d_k`` times the
    total of round ``k``'s draws -- is unbiased given the past, and so is
    their mixture with weights ``lambda_k = d_k / sum(d)``. Per answer: one
    not drawn in round ``r`` weighs ``sum_{k > r} lambda_k``, a draw of round
    ``r`` that plus ``lambda_r F_r / d_r``. The pure rule behind
    :meth:`~weaklab.active.ActiveLoop.gold_weights` (``sampling="top"``) and
    the project's review queues (their recorded random checks).

    Plain-loop specification::

        for k in draw rounds: d[k] = #answers drawn in k; F[k] = max pool_left of them
        lam[k] = d[k] / sum(d)
        w[m] = sum(lam[k] for k > rounds[m]) + (lam[r] F[r] / d[r] if m drawn in r = rounds[m] else 0)

    Parameters
    ----------
    rounds : array-like of shape (M,) of int
        The round of each answer (any increasing numbering; an answer given
        before a round drew belongs to an earlier round).
    at_random : array-like of shape (M,) of bool
        Whether the answered item was one of its round's uniform draws.
    pool_left : array-like of shape (M,)
        ``F_r``: the items free to draw from when its round drew (ignored
        for answers not drawn; a draw with 0 counts as not drawn).

    Returns
    -------
    ndarray of shape (M,)
        Non-negative; all 0 without any draw. With draws they sum to
        about the pool the draws came from (the answers before the last
        round plus its ``F``).

    Examples
    --------
    >>> round_draw_weights([1, 1, 2], [True, False, True], [4, 0, 2]).tolist()  # draws of 1 in 4, then 1 in 2
    [2.5, 0.5, 1.0]
    """
    r = np.asarray(rounds, dtype=np.int64).reshape(-1)
    left = np.asarray(pool_left, dtype=np.float64).reshape(-1)
    drawn = np.asarray(at_random, dtype=bool).reshape(-1)
    if not r.shape == left.shape == drawn.shape:
        raise fail("at_random, pool_left", f"length {r.shape[0]} (as rounds)",
                   got_text=f"lengths {drawn.shape[0]} and {left.shape[0]}")
    drawn = drawn & (left > 0)
    draw_rounds = np.unique(r[drawn])
    if draw_rounds.size == 0:
        return np.zeros(r.shape[0])
    count = np.array([np.sum(drawn & (r == k)) for k in draw_rounds], dtype=np.float64)
    free = np.array([left[drawn & (r == k)].max() for k in draw_rounds])
    lam = count / count.sum()
    later = np.array([lam[draw_rounds > k].sum() for k in r])
    share = dict(zip(draw_rounds.tolist(), (lam * free / count).tolist(), strict=True))
    return later + np.where(drawn, [share.get(int(k), 0.0) for k in r], 0.0)


def resample_answers(weights: Any, uniforms: Any) -> np.ndarray:
    """Answers kept so that the kept ones are approximately a uniform random sample of the pool.

    Answer ``m`` is kept when ``uniforms[m] < weights[m] / max(weights)``
    (rejection sampling with the importance weights). Draw ``uniforms`` once
    per answer and keep them, so that the kept set changes little from one
    round to the next.

    Parameters
    ----------
    weights : array-like of shape (M,)
        Non-negative importance weights (e.g. :func:`lure_weights`).
    uniforms : array-like of shape (M,)
        Independent ``U[0, 1)`` draws, one per answer.

    Returns
    -------
    ndarray of shape (M,), bool
        Which answers to keep (all weight-0 answers are dropped).

    Examples
    --------
    >>> resample_answers([1.0, 0.25, 0.0], [0.9, 0.5, 0.0]).tolist()
    [True, False, False]
    """
    w = checked_scores("weights", weights)
    u = checked_scores("uniforms", uniforms)
    if u.shape != w.shape:
        raise fail("uniforms", f"length {w.shape[0]} (as weights)", got_text=f"length {u.shape[0]}")
    if w.size == 0 or w.max() <= 0:
        return np.zeros(w.shape[0], dtype=bool)
    return u < w / w.max()
