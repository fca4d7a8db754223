"""Matrix-completion label model: the data-programming approach of MeTaL.

Under conditional independence of the sources given the true class ``y``, the
second moments of one-hot votes factor through the class-conditional vote
probabilities ``mu[j * k + v, c] = P(source j votes v | y = c)``::

    O = E[x x^T] = mu diag(p) mu^T        off the block diagonal,
    diag(O)      = mu p                   (marginal vote frequencies),

where ``x`` (length ``m * k``) is the one-hot vote vector of an item and
``p`` the class balance. ``O`` is computed once from the votes; ``mu`` is then
fitted by minimising the masked reconstruction error with L-BFGS-B, so the
fitting cost does not depend on the number of items (Ratner et al., "Training
Complex Models with Multi-Task Weak Supervision", AAAI 2019).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment, minimize

from .._core import LabelMatrix, PartitionedLabelMatrix, PartitionStatistics
from .._core.constants import EPS, TINY
from .._core.validation import Checker, fail, instance_of, interval, optional, options
from ._base import ConfusionLabelModel, StateShapes, known_class_balance
from ._partitioned import mean_voted_posterior, reduced_overlaps
from ._posterior import log_likelihood_table, predict_with_confusion, softmax_rows
from ._vote_stats import small_blas, vote_overlaps

__all__ = ["MatrixCompletion", "vote_overlaps", "resolve_dependencies", "small_blas"]


def resolve_dependencies(dependencies: Any, source_names: Sequence[str]) -> np.ndarray:
    """Source-index pairs ``(p, 2)`` from pairs or edges given by index or name.

    Parameters
    ----------
    dependencies : sequence of (i, j) or (i, j, strength), or None
        Sources by position or name; a third element (as in the edges of
        :func:`weaklab.models.learn_dependencies`) is ignored.
    source_names : sequence of str
        Names of the sources of the fitted matrix.

    Returns
    -------
    ndarray of shape (n_pairs, 2), int64, each row sorted, duplicates removed
    """
    if dependencies is None:
        return np.zeros((0, 2), dtype=np.int64)
    names = {name: j for j, name in enumerate(source_names)}
    pairs = [(_source_index(edge, 0, names), _source_index(edge, 1, names)) for edge in dependencies]
    if any(i == j for i, j in pairs):
        raise fail("dependencies", "pairs of two different sources", got_text=f"a self-pair in {pairs}")
    arr = np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=1)
    return np.unique(arr, axis=0)


def _source_index(edge: Any, pos: int, names: dict[str, int]) -> int:
    if isinstance(edge, (str, bytes)) or not isinstance(edge, Sequence) or len(edge) not in (2, 3):
        raise fail("dependencies", "pairs (i, j) or edges (i, j, strength)", edge)
    source = edge[pos]
    if isinstance(source, str):
        if source not in names:
            raise fail("dependencies", "source names of L", got_text=f"unknown source {source!r}")
        return names[source]
    if isinstance(source, (bool, np.bool_)) or not isinstance(source, (int, np.integer)):
        raise fail("dependencies", "source positions (int) or names (str)", source)
    if not 0 <= int(source) < len(names):
        raise fail("dependencies", f"source positions in [0, {len(names)})", int(source))
    return int(source)


def source_groups(pairs: np.ndarray, n_sources: int) -> np.ndarray:
    """Connected components of the dependency graph, one label per source."""
    graph = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n_sources, n_sources))
    _, labels = sp.csgraph.connected_components(graph, directed=False)
    return labels.astype(np.int64)


# ------------------------------------------------------------------ fitting
def loss_mask(n_sources: int, n_classes: int, groups: np.ndarray) -> np.ndarray:
    """Boolean ``(m k, m k)`` mask of the entries of ``O`` used by the loss.

    Blocks of two sources in the same dependency group (a source with
    itself, a dependent pair, and every pair connected through a chain of
    dependencies) are left out.

    Parameters
    ----------
    n_sources, n_classes : int
    groups : ndarray of shape (m,)
        Dependency group of every source (see :func:`source_groups`).
    """
    block = groups[:, None] != groups[None, :]
    return np.kron(block, np.ones((n_classes, n_classes), dtype=bool))


def init_mu(marginals: np.ndarray, prior: np.ndarray, prec_init: float) -> np.ndarray:
    """Initial ``mu`` (m k, k): each source votes the true class with ``prec_init``.

    ``mu[j k + c, c] = P(j votes c) * prec_init / p_c`` (clipped to [0, 1]),
    zero elsewhere, which also breaks the class-permutation symmetry.
    """
    k = prior.shape[0]
    m = marginals.shape[0] // k
    mu = np.zeros((m, k, k))
    diag = np.clip(marginals.reshape(m, k) * prec_init / prior[None, :], 0.0, 1.0)
    mu[:, np.arange(k), np.arange(k)] = diag
    return mu.reshape(m * k, k)


def _objective(x: np.ndarray, obs: np.ndarray, mask: np.ndarray, prior: np.ndarray,
               anchor: np.ndarray, l2: float, scale: float) -> tuple[float, np.ndarray]:
    mu = x.reshape(anchor.shape)
    mup = mu * prior[None, :]
    resid = (mup @ mu.T - obs) * mask
    marg = mup.sum(axis=1) - np.diag(obs)
    delta = mu - anchor
    loss = (resid**2).sum() + (marg**2).sum() + l2 * (delta**2).sum()
    grad = 4.0 * resid @ mup + 2.0 * marg[:, None] * prior[None, :] + 2.0 * l2 * delta
    return float(loss * scale), (grad * scale).ravel()


def fit_mu(obs: np.ndarray, mask: np.ndarray, prior: np.ndarray, *, prec_init: float, l2: float,
           eps: float, max_iter: int) -> np.ndarray:
    """Minimise the masked reconstruction loss over ``mu`` in ``[eps, 1 - eps]``.

    Parameters
    ----------
    obs : ndarray of shape (m k, m k)
        Normalised overlaps ``O = X^T X / n``.
    mask : ndarray of bool, shape (m k, m k)
    prior : ndarray of shape (k,)
    prec_init, l2, eps : float
        Initial precision of every source, weight of the L2 pull towards the
        initial ``mu``, and the probability bound.
    max_iter : int
        L-BFGS-B iterations.

    Returns
    -------
    ndarray of shape (m k, k)
    """
    anchor = init_mu(np.diag(obs), prior, prec_init)
    x0 = np.clip(anchor, eps, 1.0 - eps).ravel()
    size = float((obs[mask] ** 2).sum() + (np.diag(obs) ** 2).sum())
    scale = 1.0 / max(size, TINY)
    result = minimize(
        _objective, x0, args=(obs, mask, prior, anchor, l2, scale), jac=True, method="L-BFGS-B",
        bounds=[(eps, 1.0 - eps)] * x0.size,
        options={"maxiter": max_iter, "ftol": 1e-14, "gtol": 1e-10},
    )
    return np.asarray(result.x).reshape(anchor.shape)


def break_symmetry(mu: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Permute the columns of ``mu`` (among classes of equal prior) to maximise accuracy.

    Any permutation that leaves ``diag(prior)`` unchanged fits the moments
    equally well; the one kept makes the sources most accurate on average,
    i.e. it maximises ``sum_j sum_c P(j votes c, y = c)``.
    """
    m, k = mu.shape[0] // mu.shape[1], mu.shape[1]
    votes_by_class = mu.reshape(m, k, k).sum(axis=0) * prior[None, :]  # [vote, latent column]
    perm = np.arange(k)
    rounded = np.round(prior, 6)
    for value in np.unique(rounded):
        group = np.flatnonzero(rounded == value)
        if group.size < 2:
            continue
        cols, rows = linear_sum_assignment(votes_by_class[np.ix_(group, group)].T, maximize=True)
        perm[group[rows]] = group[cols]  # true class group[rows] takes latent column group[cols]
    return mu[:, perm]


def vote_weights(rows: np.ndarray, cols: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Weight of every vote: 1 / (number of sources of its dependency group voting on the item).

    Sources without dependencies weigh 1; a group of correlated sources that
    all vote on an item counts once in total (their log-likelihoods are averaged).
    """
    weights = np.ones(rows.shape[0], dtype=np.float64)
    sizes = np.bincount(groups)
    grouped = sizes[groups[cols]] > 1
    if not grouped.any():
        return weights
    _, group_ids = np.unique(groups[cols[grouped]], return_inverse=True)
    keys = rows[grouped] * (int(group_ids.max()) + 1) + group_ids
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    weights[grouped] = 1.0 / counts[inverse]
    return weights


class MatrixCompletion(ConfusionLabelModel):
    """Label model fitted by matrix completion of the vote overlaps (MeTaL).

    Learns ``mu[j, c, v] = P(source j votes v | y = c)`` from the agreement
    structure alone: the overlap matrix ``O`` of one-hot votes is computed
    once (one pass over the votes) and ``mu`` minimises
    ``|| M * (O - mu P mu^T) ||^2 + || mu p - diag(O) ||^2 (+ l2 pull)``
    with L-BFGS-B and an analytic gradient, where ``M`` masks out each
    source's own block and the blocks of sources that ``dependencies``
    connect. Fitting cost is
    independent of the number of items once ``O`` is known.

    Class-permutation symmetry is broken by choosing the class permutation
    (among classes of equal prior) under which the sources are most accurate.
    ``O`` is a dense ``(m k, m k)`` matrix, so the model suits up to a few
    thousand one-hot columns (labeling functions), not crowds of thousands
    of workers (use :class:`DawidSkene` there).

    **Prediction** uses ``log mu`` as Snorkel does: a vote ``v`` of source
    ``j`` adds ``log P(j votes v | y = c)`` to class ``c``, so *how often* a
    source votes a class under each true class is used (which matters for
    unipolar sources, e.g. a keyword that only ever votes SPAM). Abstains add
    nothing, so an item with no vote gets the class balance. Sources of one
    dependency group (connected by ``dependencies``) are not double counted:
    on each item their log-likelihoods are averaged over the group's voting
    members. ``confusion_`` (probabilities given that a source votes) and
    ``source_accuracy_`` are derived from ``mu`` for inspection.

    Parameters
    ----------
    dependencies : sequence of (i, j) or (i, j, strength), optional
        Pairs of correlated sources, by position or name (e.g. the edges of
        :func:`weaklab.models.learn_dependencies`). They define dependency
        groups (connected components); overlaps of two sources of one group
        are left out of the loss, and a group is not double counted at
        predict time.
    prec_init : float, default=0.7
        Initial probability that a source's vote is correct; the starting
        point of the optimiser and the anchor of the ``l2`` penalty.
    l2 : float, default=0.1
        Weight of the L2 pull of ``mu`` towards its initial value, relative
        to the squared size of ``O`` (so it does not depend on coverage).
        Fully converged unregularised fits overfit sparse overlaps (on WRENCH
        TREC test accuracy drops from 0.60 at ``l2=0.1`` to 0.33 at 0).
    class_balance_method : {"uniform", "model"}, default="uniform"
        How the class balance is chosen when ``class_balance`` is not given
        to ``fit``: uniform (Snorkel's default), or ``"model"``: start uniform
        and re-estimate it as the mean posterior of the training items that
        have a vote, refitting ``mu`` ``balance_iter`` times. Second moments
        alone do not identify the class balance, so the ``"model"`` estimate
        can drift; pass ``class_balance`` when you know better. Labels in
        ``gold`` update either estimate in proportion to their number (a
        Dirichlet posterior mean, see ``known_class_balance`` in
        ``weaklab.models._base``), so a handful of answers cannot set it.
    balance_iter : int, default=3
        Rounds of the ``"model"`` class-balance estimate.
    mu_eps : float, optional
        Bounds ``mu`` to ``[mu_eps, 1 - mu_eps]``; by default
        ``min(0.01, 10 ** -ceil(log10(n_items)))`` (Snorkel's rule).
    max_iter : int, default=1000
        L-BFGS-B iterations per fit of ``mu``.
    random_state : None, int or Generator, default=None
        Seed of ``predict(tie_break="random")``; fitting is deterministic.

    Attributes
    ----------
    mu_ : ndarray of shape (m, k, k)
        ``mu_[j, c, v] = P(source j votes v | y = c)`` (abstain is the rest).
    confusion_ : ndarray of shape (m, k, k)
        ``mu_`` normalised over votes: probabilities given that j votes.
    class_balance_ : ndarray of shape (k,)
    source_groups_ : ndarray of shape (m,)
        Dependency group of every source (connected components).
    dependencies_ : ndarray of shape (n_pairs, 2)
        The dependency pairs as source positions.

    Examples
    --------
    >>> from weaklab import MatrixCompletion
    >>> from weaklab.synthetic import make_label_matrix
    >>> data = make_label_matrix(3000, 6, coverage=0.4, accuracy=(0.6, 0.9), random_state=0)
    >>> model = MatrixCompletion(random_state=0).fit(data.L)
    >>> model.predict_proba(data.L).shape
    (3000, 2)
    >>> model.source_accuracy_.round(2).tolist()  # estimated without gold
    [0.82, 0.75, 0.72, 0.72, 0.82, 0.84]
    >>> data.accuracy.round(2).tolist()  # the truth
    [0.79, 0.68, 0.61, 0.6, 0.84, 0.87]
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {
        "dependencies": optional(instance_of(list, tuple, text="a list of (i, j) pairs")),
        "prec_init": interval(float, 0.0, 1.0, low_open=True, high_open=True),
        "l2": interval(float, 0.0, None),
        "class_balance_method": options("uniform", "model"),
        "balance_iter": interval(int, 0, 100),
        "mu_eps": optional(interval(float, 0.0, 0.5, low_open=True, high_open=True)),
        "max_iter": interval(int, 1, None),
    }
    _state_arrays: ClassVar[tuple[str, ...]] = ("confusion_", "mu_", "source_groups_", "dependencies_")
    _state_shapes: ClassVar[StateShapes] = {"mu_": ("m", "k", "k"), "source_groups_": ("m",)}
    _min_sources: ClassVar[int] = 2
    fits_partitioned_gold: ClassVar[bool] = True

    def __init__(
        self,
        *,
        dependencies: Sequence[Any] | None = None,
        prec_init: float = 0.7,
        l2: float = 0.1,
        class_balance_method: str = "uniform",
        balance_iter: int = 3,
        mu_eps: float | None = None,
        max_iter: int = 1000,
        random_state: Any = None,
    ) -> None:
        self.dependencies = dependencies
        self.prec_init = prec_init
        self.l2 = l2
        self.class_balance_method = class_balance_method
        self.balance_iter = balance_iter
        self.mu_eps = mu_eps
        self.max_iter = max_iter
        self.random_state = random_state

    # ----------------------------------------------------------------- fit
    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        def mean_posterior(mu: np.ndarray, prior: np.ndarray, groups: np.ndarray) -> np.ndarray:
            return _mean_posterior(L, mu, prior, groups)

        self._fit_overlaps(vote_overlaps(L), L.n_items, L.source_names, L.n_classes, gold, class_balance,
                           mean_posterior)

    def _fit_reduced(self, plm: PartitionedLabelMatrix, stats: PartitionStatistics,
                     class_balance: np.ndarray | None, gold: np.ndarray | None = None) -> None:
        def mean_posterior(mu: np.ndarray, prior: np.ndarray, groups: np.ndarray) -> np.ndarray:
            def posterior(part: LabelMatrix) -> np.ndarray:
                return _posterior(part, mu, prior, groups)

            return _floored_balance(mean_voted_posterior(plm, posterior, prior))

        self._fit_overlaps(reduced_overlaps(self, stats), stats.n_items, plm.source_names, plm.n_classes,
                           gold, class_balance, mean_posterior)

    def _fit_overlaps(self, overlaps: np.ndarray, n: int, source_names: Sequence[str], k: int,
                      gold: np.ndarray | None, class_balance: np.ndarray | None,
                      mean_posterior: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> None:
        """Fit from one-hot overlap counts of ``n`` items; ``mean_posterior(mu, prior, groups)`` gives a new balance."""
        m = len(source_names)
        pairs = resolve_dependencies(self.dependencies, source_names)
        obs = overlaps / n
        groups = source_groups(pairs, m)
        mask = loss_mask(m, k, groups)
        eps = self.mu_eps if self.mu_eps is not None else min(0.01, 10.0 ** -np.ceil(np.log10(max(n, 2))))
        prior, fixed = _initial_prior(class_balance, gold, k, self.class_balance_method, self._fit_gold_weight)

        def solve(balance: np.ndarray) -> np.ndarray:
            mu = fit_mu(obs, mask, balance, prec_init=self.prec_init, l2=self.l2, eps=eps,
                        max_iter=self.max_iter)
            return break_symmetry(mu, balance)

        with small_blas():
            mu = solve(prior)
            for _ in range(0 if fixed else self.balance_iter):
                prior = known_class_balance(None, gold, mean_posterior(_as_tensor(mu), prior, groups),
                                            self._fit_gold_weight)
                mu = solve(prior)
        self.mu_ = _as_tensor(mu)
        self.class_balance_ = prior
        self.confusion_ = _normalise_votes(self.mu_)
        self.source_groups_ = groups
        self.dependencies_ = pairs

    def _vote_rates(self) -> np.ndarray:
        """``P(source j votes | y = c)`` from ``mu_``, shape ``(m, k)``."""
        return np.asarray(self.mu_.sum(axis=2))

    # ------------------------------------------------------------- predict
    def _predict_proba(self, L: LabelMatrix) -> np.ndarray:
        return _posterior(L, self.mu_, self.class_balance_, self.source_groups_)


def _as_tensor(mu: np.ndarray) -> np.ndarray:
    """``(m k, k)`` [source-vote, class] to ``(m, k, k)`` [source, class, vote]."""
    k = mu.shape[1]
    return np.ascontiguousarray(mu.reshape(-1, k, k).transpose(0, 2, 1))


def _normalise_votes(mu: np.ndarray) -> np.ndarray:
    totals = mu.sum(axis=2, keepdims=True)
    k = mu.shape[2]
    return np.divide(mu, totals, out=np.full_like(mu, 1.0 / k), where=totals > 0)


def _posterior(L: LabelMatrix, mu: np.ndarray, prior: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Posterior ``(n, k)`` with log-likelihoods ``log mu`` and group-averaged votes."""
    if np.unique(groups).size == groups.size:  # no dependencies: the shared posterior code
        return predict_with_confusion(L, mu, prior)
    table = log_likelihood_table(mu)  # (m k, k)
    if L.is_sparse:
        logits = _sparse_logits(L, table, groups)
    else:
        logits = _dense_logits(L.to_dense(), table, groups)
    logits += np.log(np.clip(prior, EPS, None))[None, :]
    return softmax_rows(logits)


def _sparse_logits(L: LabelMatrix, table: np.ndarray, groups: np.ndarray) -> np.ndarray:
    n, m, k = L.n_items, L.n_sources, L.n_classes
    rows, cols, labels = L.coo()
    weights = vote_weights(rows, cols, groups)
    X = sp.csr_array((weights, (rows, cols * k + labels.astype(np.int64))), shape=(n, m * k))
    return np.asarray(X @ table)


def _dense_logits(dense: np.ndarray, table: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Sum of per-source log-likelihood lookups; one vectorised pass per source."""
    n, m = dense.shape
    k = table.shape[1]
    padded = np.concatenate([np.zeros((m, 1, k)), table.reshape(m, k, k)], axis=1)  # row 0 = abstain
    logits = np.zeros((n, k))
    for members in _group_members(groups):  # loop over dependency groups, then sources
        part = np.zeros((n, k)) if members.size > 1 else logits
        for j in members:
            part += padded[j][dense[:, j].astype(np.int64) + 1]
        if members.size > 1:
            voting = np.count_nonzero(dense[:, members] >= 0, axis=1)
            logits += part / np.maximum(voting, 1)[:, None]
    return logits


def _group_members(groups: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(groups, kind="stable")
    bounds = np.flatnonzero(np.diff(groups[order])) + 1
    return np.split(order, bounds)


def _mean_posterior(L: LabelMatrix, mu: np.ndarray, prior: np.ndarray, groups: np.ndarray) -> np.ndarray:
    proba = _posterior(L, mu, prior, groups)
    voted = L.votes_per_item() > 0
    return _floored_balance(proba[voted].mean(axis=0) if voted.any() else prior)


def _floored_balance(balance: np.ndarray) -> np.ndarray:
    balance = np.clip(balance, 1e-3, None)
    return balance / balance.sum()


def _initial_prior(class_balance: np.ndarray | None, gold: np.ndarray | None, k: int,
                   method: str, gold_weight: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """Class balance to start from (uniform, updated with the gold counts), and whether it stays fixed."""
    if class_balance is not None:
        return class_balance, True
    return known_class_balance(None, gold, np.full(k, 1.0 / k), gold_weight), method == "uniform"

