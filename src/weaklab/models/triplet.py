"""Closed-form triplet label model (FlyingSquid: Fu et al., ICML 2020).

Binary case. Encode votes as ``+1`` / ``-1`` (abstain ``0``) and the true
class as ``y = +-1``. If sources ``i`` and ``j`` are conditionally independent
given ``y`` and their errors are symmetric, ``E[l_i l_j] = a_i a_j`` with the
accuracy parameter ``a_i = E[l_i y] = 2 P(l_i = y) - 1``. Three sources give
``|a_i| = sqrt(|E[l_i l_j] E[l_i l_k] / E[l_j l_k]|)``; averaging over many
triplets makes the estimate robust, and no optimisation is needed.

Multi-class extension (documented choice). Assume each source is correct
with probability ``alpha_i`` and otherwise votes a uniformly chosen wrong
class (the "one-coin" model). Then, over items both sources vote on::

    P(l_i = l_j) = 1/k + (k - 1)/k * z_i z_j,   z_i = (k alpha_i - 1) / (k - 1),

so ``M_ij = (k P(l_i = l_j) - 1) / (k - 1) = z_i z_j`` has exactly the
binary triplet structure (for ``k = 2``, ``M_ij = E[l_i l_j]`` and
``z_i = a_i``). Abstains are handled by conditioning every moment on the
items both sources vote on (``moments="conditional"``, the default), or, as
FlyingSquid does, by counting them as 0 over all items (``moments="all"``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._core import LabelMatrix, PartitionedLabelMatrix, PartitionStatistics
from .._core.validation import Checker, check_random_state, interval, options
from ._base import ConfusionLabelModel, StateShapes, known_class_balance
from ._partitioned import reduced_overlaps
from ._posterior import one_coin_matrix
from ._vote_stats import vote_overlaps

__all__ = ["Triplet", "pair_agreements", "triplet_estimates"]

_FALLBACK_ACCURACY = 0.7  # sources with no usable triplet (as Snorkel's prec_init)
_Z_MARGIN = 1e-3  # keeps accuracies strictly inside (0, 1)


def pair_agreements(L: LabelMatrix, *, conditional: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Chance-corrected agreement ``M`` and co-vote counts ``N`` of every source pair.

    Parameters
    ----------
    L : LabelMatrix
        Votes of shape ``(n, m)`` with ``k`` classes.
    conditional : bool, default=False
        ``False``: ``M_ij = (k A_ij - N_ij) / ((k - 1) n)`` over all items,
        abstains counting as 0 (FlyingSquid's moments; for k = 2 this is
        ``E[l_i l_j]`` in the +-1/0 encoding). ``True``: the same on the
        items both sources vote on, ``(k A_ij / N_ij - 1) / (k - 1)``.
        ``A_ij`` is the number of items on which i and j cast the same vote.

    Returns
    -------
    M : ndarray of shape (m, m)
        NaN on the diagonal (and, when conditional, where ``N_ij = 0``).
    N : ndarray of shape (m, m)
        Number of items both sources vote on.
    """
    return agreements_from_overlaps(vote_overlaps(L), L.n_classes, L.n_items, conditional=conditional)


def agreements_from_overlaps(overlaps: np.ndarray, k: int, n: int, *,
                             conditional: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pair_agreements` from the one-hot overlap counts ``(m k, m k)`` of ``n`` items."""
    m = overlaps.shape[0] // k
    counts = overlaps.reshape(m, k, m, k)
    co_votes = counts.sum(axis=(1, 3))
    agree = np.einsum("iaja->ij", counts)
    if conditional:
        with np.errstate(invalid="ignore", divide="ignore"):
            M = (k * agree / co_votes - 1.0) / (k - 1)
        M[co_votes == 0] = np.nan
    else:
        M = (k * agree - co_votes) / ((k - 1) * n)
    np.fill_diagonal(M, np.nan)
    return M, co_votes


def triplet_estimates(M: np.ndarray, valid: np.ndarray, pairs: tuple[np.ndarray, np.ndarray],
                      min_denominator: float) -> np.ndarray:
    """Estimates of ``z_i^2`` from triplets ``(i, j, l)``: ``|M_ij M_il / M_jl|``.

    Parameters
    ----------
    M : ndarray of shape (m, m)
        Chance-corrected agreements.
    valid : ndarray of bool, shape (m, m)
        Pairs whose agreement is usable (enough co-votes).
    pairs : tuple of two int arrays of shape (m, t)
        For every source ``i``, the ``t`` partner pairs ``(j, l)`` to use.
    min_denominator : float
        Triplets with ``|M_jl|`` at most this are dropped (unstable ratio).

    Returns
    -------
    ndarray of shape (m, t)
        NaN where the triplet is unusable.
    """
    J, K = pairs
    rows = np.arange(M.shape[0])[:, None]
    num = M[rows, J] * M[rows, K]
    den = M[J, K]
    ok = valid[rows, J] & valid[rows, K] & valid[J, K] & (J != rows) & (K != rows) & (J != K)
    ok &= np.abs(np.nan_to_num(den)) > min_denominator
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.abs(num / den)
    out[~ok] = np.nan
    return out


def _partner_pairs(m: int, max_triplets: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``j < l`` for every source when few enough, else a random sample of them."""
    n_pairs = m * (m - 1) // 2
    if n_pairs <= max_triplets:
        J, K = np.triu_indices(m, 1)
        return np.broadcast_to(J, (m, n_pairs)), np.broadcast_to(K, (m, n_pairs))
    J = rng.integers(0, m, size=(m, max_triplets))
    K = rng.integers(0, m, size=(m, max_triplets))
    return J, K


def _aggregate(estimates: np.ndarray, how: str) -> np.ndarray:
    """Median or mean of the usable estimates of every row (NaN for a row without any)."""
    has = np.any(~np.isnan(estimates), axis=1)
    out = np.full(estimates.shape[0], np.nan)
    reduce = np.nanmedian if how == "median" else np.nanmean
    out[has] = reduce(estimates[has], axis=1)
    return out


def resolve_signs(M: np.ndarray, magnitude: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Signs of ``z`` from the signs of the agreements; better than random on average.

    Every source first takes the sign of its magnitude-weighted agreement with
    the others (``sign(M_ij) = sign(z_i z_j)``); one refinement pass uses the
    signs found; finally all signs flip if the coverage-weighted mean of
    ``z`` would be negative.
    """
    A = np.nan_to_num(M)
    signs = np.ones(M.shape[0])
    for _ in range(2):
        score = A @ (signs * magnitude)
        signs = np.where(score < 0, -1.0, 1.0)
    if np.sum(weights * signs * magnitude) < 0:
        signs = -signs
    return signs


def vote_shares(L: LabelMatrix) -> tuple[np.ndarray, np.ndarray]:
    """Share of each class among every source's votes ``(m, k)`` and its coverage ``(m,)``."""
    return shares_from_counts(np.diag(vote_overlaps(L)), L.n_classes, L.n_items)


def shares_from_counts(counts: np.ndarray, k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`vote_shares` from the votes per (source, class), flat ``(m k,)``."""
    counts = counts.reshape(-1, k).astype(np.float64)
    totals = counts.sum(axis=1)
    shares = np.divide(counts, totals[:, None], out=np.full_like(counts, 1.0 / k), where=totals[:, None] > 0)
    return shares, totals / n


def marginal_confusion(alpha: np.ndarray, shares: np.ndarray, prior: np.ndarray,
                       n_iter: int = 50) -> np.ndarray:
    """Confusions that also reproduce every source's vote shares (FlyingSquid's tables).

    Builds, for each source, the joint ``J[c, v] = P(y = c, l = v | l votes)``
    with row sums ``prior``, column sums ``shares`` and trace ``alpha``,
    then returns ``J / prior`` (rows: true class). For ``k = 2`` the table
    is unique, ``J[0, 0] = (shares_0 - prior_1 + alpha) / 2`` (FlyingSquid
    solves the same moment equations); entries that would be negative are
    floored at a small value. For ``k > 2`` the one-coin table is rescaled
    by iterative proportional fitting to the two margins, except for a
    source that votes one class only (a keyword labeling function): its
    fitted table has that class's column equal to ``prior`` and every row
    says "votes that class", so it carries no information but floor-level
    differences, which any non-uniform ``prior`` swamps (WRENCH TREC fell
    from 64 % to 19 % test accuracy given its true class balance). Such a
    source gets the one-coin table ``one_coin_matrix(alpha)``.

    Parameters
    ----------
    alpha : ndarray of shape (m,)
    shares : ndarray of shape (m, k)
    prior : ndarray of shape (k,)
    n_iter : int, default=50
        Proportional-fitting rounds (k > 2).

    Returns
    -------
    ndarray of shape (m, k, k)
    """
    k = prior.shape[0]
    floor = 1e-4
    if k == 2:
        j00 = (shares[:, 0] - prior[1] + alpha) / 2.0
        joint = np.stack([np.stack([j00, prior[0] - j00], axis=1),
                          np.stack([shares[:, 0] - j00, alpha - j00], axis=1)], axis=1)
    else:
        joint = one_coin_matrix(alpha, k) * prior[None, :, None]
        for _ in range(n_iter):  # loop over fitting rounds, vectorised over sources
            joint *= (np.clip(shares, floor, None) / joint.sum(axis=1))[:, None, :]
            joint *= (prior[None, :] / joint.sum(axis=2))[:, :, None]
    joint = np.clip(joint, floor, None)
    confusion = joint / joint.sum(axis=2, keepdims=True)
    if k > 2:
        one_class = np.count_nonzero(shares > 0, axis=1) == 1
        confusion[one_class] = one_coin_matrix(alpha[one_class], k)
    return confusion


def estimate_balance(shares: np.ndarray, coverage: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Class balance that explains each source's vote shares under the one-coin model.

    Under the model ``P(l_i = c | votes) = b_i + z_i p_c`` with
    ``b_i = (1 - alpha_i) / (k - 1)``; ``p`` is the weighted least-squares
    solution over sources (weights: coverage), clipped and normalised.
    """
    k = shares.shape[1]
    z = (k * alpha - 1.0) / (k - 1)
    base = (1.0 - alpha) / (k - 1)
    denom = np.sum(coverage * z**2)
    if denom <= 0:
        return np.full(k, 1.0 / k)
    p = (coverage * z) @ (shares - base[:, None]) / denom
    p = np.clip(p, 0.01, None)
    return p / p.sum()


class Triplet(ConfusionLabelModel):
    """Closed-form label model from source triplets (FlyingSquid's method).

    Estimates every source's accuracy in closed form from the agreement
    rates of source triplets, without SGD or EM (see the module docstring for
    the binary identity and the one-coin multi-class extension), then builds
    per-source confusions for prediction. Sources are assumed conditionally
    independent given the class. Accuracies assume symmetric errors; the
    confusions (``confusion="marginal"``) then also match each source's
    vote shares, as FlyingSquid's per-source tables do, which lets a source
    that votes only one class carry information.

    Parameters
    ----------
    aggregate : {"median", "mean"}, default="median"
        How the per-triplet estimates of each source are combined. The
        median is robust to triplets with a near-zero denominator;
        FlyingSquid's default is the mean.
    max_triplets : int, default=5000
        Partner pairs ``(j, l)`` per source. When a source has more, a random
        sample of this size is used (seeded by ``random_state``); with at most
        100 sources every pair is used.
    min_overlap : int, default=10
        Pairs of sources that vote together on fewer items are not used.
    min_denominator : float, default=0.0
        Triplets whose denominator ``|M_jl|`` is at most this are dropped
        (zero denominators always are).
    class_balance_method : {"uniform", "model"}, default="uniform"
        Class balance when ``class_balance`` is not given: uniform
        (FlyingSquid's default) or ``"model"``, the least-squares balance
        that explains the sources' vote shares given their accuracies (see
        :func:`estimate_balance`). Labels in ``gold`` update it in proportion
        to their number (see ``known_class_balance`` in
        ``weaklab.models._base``).
    moments : {"conditional", "all"}, default="conditional"
        Agreements measured on the items both sources vote on, or over all
        items with abstains as 0 (FlyingSquid's moments; accuracies are then
        divided by coverage). See :func:`pair_agreements`.
    confusion : {"marginal", "symmetric"}, default="marginal"
        ``"symmetric"``: accuracy on the diagonal, errors spread evenly;
        ``"marginal"``: the table that also reproduces each source's vote
        shares (see :func:`marginal_confusion`).
    sign_recovery : {"all_positive", "agreement"}, default="all_positive"
        ``"all_positive"`` (FlyingSquid's) takes every source as better than
        random. ``"agreement"`` reads signs from the signs of the pairwise
        agreements and flips them all if the sources would be worse than
        random on average; it fails on sources that each vote one class,
        whose cross-class agreements are negative by construction.
    random_state : None, int or Generator, default=None
        Seed of the triplet sample and of ``predict(tie_break="random")``.

    Attributes
    ----------
    confusion_ : ndarray of shape (m, k, k)
        ``confusion_[j, c, v]`` = P(source j votes v | y = c, j votes).
    class_balance_ : ndarray of shape (k,)
    n_triplets_ : ndarray of shape (m,)
        Number of triplets each source's accuracy was estimated from (0: no
        usable triplet; the source gets the median accuracy of the others,
        or 0.7 when none has one).

    Examples
    --------
    >>> from weaklab import Triplet
    >>> from weaklab.synthetic import make_label_matrix
    >>> data = make_label_matrix(3000, 6, coverage=0.4, accuracy=(0.6, 0.9), random_state=0)
    >>> model = Triplet(random_state=0).fit(data.L)
    >>> model.predict_proba(data.L).shape
    (3000, 2)
    >>> bool(abs(model.source_accuracy_ - data.accuracy).max() < 0.1)
    True
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {
        "aggregate": options("median", "mean"),
        "max_triplets": interval(int, 1, None),
        "min_overlap": interval(int, 1, None),
        "min_denominator": interval(float, 0.0, 1.0, high_open=True),
        "class_balance_method": options("uniform", "model"),
        "moments": options("all", "conditional"),
        "confusion": options("marginal", "symmetric"),
        "sign_recovery": options("all_positive", "agreement"),
    }
    _state_arrays: ClassVar[tuple[str, ...]] = ("confusion_", "n_triplets_")
    _state_shapes: ClassVar[StateShapes] = {"n_triplets_": ("m",)}
    _min_sources: ClassVar[int] = 3
    fits_partitioned_gold: ClassVar[bool] = True

    def __init__(
        self,
        *,
        aggregate: str = "median",
        max_triplets: int = 5000,
        min_overlap: int = 10,
        min_denominator: float = 0.0,
        class_balance_method: str = "uniform",
        moments: str = "conditional",
        confusion: str = "marginal",
        sign_recovery: str = "all_positive",
        random_state: Any = None,
    ) -> None:
        self.aggregate = aggregate
        self.max_triplets = max_triplets
        self.min_overlap = min_overlap
        self.min_denominator = min_denominator
        self.class_balance_method = class_balance_method
        self.moments = moments
        self.confusion = confusion
        self.sign_recovery = sign_recovery
        self.random_state = random_state

    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        self._fit_overlaps(vote_overlaps(L), L.n_items, L.n_sources, L.n_classes, gold, class_balance)

    def _fit_reduced(self, plm: PartitionedLabelMatrix, stats: PartitionStatistics,
                     class_balance: np.ndarray | None, gold: np.ndarray | None = None) -> None:
        self._fit_overlaps(reduced_overlaps(self, stats), stats.n_items, plm.n_sources, plm.n_classes, gold,
                           class_balance)

    def _fit_overlaps(self, overlaps: np.ndarray, n: int, m: int, k: int, gold: np.ndarray | None,
                      class_balance: np.ndarray | None) -> None:
        """Fit from the one-hot overlap counts ``(m k, m k)`` of ``n`` items."""
        rng = check_random_state(self.random_state)
        conditional = self.moments == "conditional"
        M, co_votes = agreements_from_overlaps(overlaps, k, n, conditional=conditional)
        valid = co_votes >= self.min_overlap
        np.fill_diagonal(valid, False)
        estimates = triplet_estimates(M, valid, _partner_pairs(m, self.max_triplets, rng),
                                      self.min_denominator)
        shares, coverage = shares_from_counts(np.diag(overlaps), k, n)
        magnitude = np.sqrt(_aggregate(estimates, self.aggregate))
        if not conditional:  # a_i = coverage_i * z_i
            magnitude = magnitude / np.maximum(coverage, 1e-12)
        n_triplets = np.sum(~np.isnan(estimates), axis=1)
        fallback = (k * _FALLBACK_ACCURACY - 1.0) / (k - 1)
        magnitude = np.where(np.isnan(magnitude), _nanmedian_or(magnitude, fallback), magnitude)
        if self.sign_recovery == "all_positive":
            signs = np.ones(m)
        else:
            signs = resolve_signs(np.where(valid, M, np.nan), magnitude, coverage)
        z = np.clip(signs * magnitude, -1.0 / (k - 1) + _Z_MARGIN, 1.0 - _Z_MARGIN)
        alpha = (1.0 + (k - 1) * z) / k
        prior = _choose_balance(shares, coverage, alpha, gold, class_balance, self.class_balance_method,
                                self._fit_gold_weight)
        if self.confusion == "marginal":
            self.confusion_ = marginal_confusion(alpha, shares, prior)
        else:
            self.confusion_ = one_coin_matrix(alpha, k)
        self.class_balance_ = prior
        self.n_triplets_ = n_triplets.astype(np.int64)


def _nanmedian_or(values: np.ndarray, default: float) -> float:
    finite = values[~np.isnan(values)]
    return float(np.median(finite)) if finite.size else default


def _choose_balance(shares: np.ndarray, coverage: np.ndarray, alpha: np.ndarray, gold: np.ndarray | None,
                    class_balance: np.ndarray | None, method: str,
                    gold_weight: np.ndarray | None = None) -> np.ndarray:
    k = shares.shape[1]
    if class_balance is not None:
        return class_balance
    base = estimate_balance(shares, coverage, alpha) if method == "model" else np.full(k, 1.0 / k)
    return known_class_balance(None, gold, base, gold_weight)
