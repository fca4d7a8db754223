"""Torch losses and the training loop for imprecise labels.

Importing this module imports torch. :meth:`TorchClassifier.fit` imports it
only when ``y`` is one of the containers of :mod:`weaklab.endmodel.imprecise`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._torch import import_torch
from ._trainer import TrainConfig, batch_tensor, predict_proba
from .imprecise import CandidateLabels, CoarseLabels, ComplementaryLabels, LabelProportions

if TYPE_CHECKING:
    import torch
else:
    torch = import_torch("imprecise labels")

__all__ = [
    "bag_kl_loss",
    "candidate_loss",
    "proden_weights",
    "complementary_partial_risks",
    "coarse_loss",
    "train_imprecise",
]


def bag_kl_loss(logits: torch.Tensor, bag_index: torch.Tensor, proportions: torch.Tensor) -> torch.Tensor:
    """DLLP bag loss: mean over bags of ``KL(proportions_b || mean predicted distribution of bag b)``.

    Parameters
    ----------
    logits : Tensor of shape (m, k)
        Logits of the items of the bags in the batch.
    bag_index : LongTensor of shape (m,)
        Position of each item's bag in ``proportions`` (``0 .. n_b - 1``).
    proportions : Tensor of shape (n_b, k)
        Known class proportions of those bags.

    Returns
    -------
    Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> loss = bag_kl_loss(torch.zeros(4, 2), torch.tensor([0, 0, 1, 1]), torch.full((2, 2), 0.5))
    >>> round(float(loss), 6)
    0.0
    """
    proba = torch.softmax(logits, dim=1)
    n_b = proportions.shape[0]
    sums = torch.zeros(n_b, proba.shape[1], dtype=proba.dtype, device=proba.device).index_add(0, bag_index, proba)
    counts = torch.bincount(bag_index, minlength=n_b).clamp_min(1).to(proba.dtype)
    mean = (sums / counts[:, None]).clamp_min(1e-12)
    target = proportions.to(proba.dtype)
    kl = torch.where(target > 0, target * (torch.log(target.clamp_min(1e-12)) - torch.log(mean)), 0.0)
    return kl.sum(dim=1).mean()


def candidate_loss(logits: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """PRODEN per-item loss ``-sum_c w_c log p_c`` with weights on the candidates, shape (m,).

    Examples
    --------
    >>> import torch
    >>> candidate_loss(torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])).shape
    torch.Size([1])
    """
    return -(weights * torch.log_softmax(logits, dim=1)).sum(dim=1)


def proden_weights(proba: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Re-estimated PRODEN weights: predictions restricted to the candidates, renormalised.

    Parameters
    ----------
    proba : ndarray of shape (n, k)
    mask : bool ndarray of shape (n, k)

    Returns
    -------
    ndarray of shape (n, k), rows summing to 1, zero outside the candidates

    Examples
    --------
    >>> import numpy as np
    >>> proden_weights(np.array([[0.2, 0.6, 0.2]]), np.array([[True, False, True]])).tolist()
    [[0.5, 0.0, 0.5]]
    """
    w = np.where(mask, np.clip(proba, 1e-12, None), 0.0)
    return w / w.sum(axis=1, keepdims=True)


def complementary_partial_risks(logits: torch.Tensor, comp: torch.Tensor) -> torch.Tensor:
    """Per-class partial risks of the unbiased complementary-label estimator (Ishida et al. 2019).

    With cross-entropy ``l(f, j)`` and ``K`` classes, class ``j``'s risk
    ``pi_j E_{x|y=j}[l(f(x), j)]`` equals
    ``mean_i l(f(x_i), j) - (K - 1) * (1/m) sum_{i: comp_i = j} l(f(x_i), j)``
    under uniformly drawn complementary labels. Each is non-negative in
    expectation; the non-negative correction acts on those that are not.

    Parameters
    ----------
    logits : Tensor of shape (m, K)
    comp : LongTensor of shape (m,)
        Complementary labels.

    Returns
    -------
    Tensor of shape (K,)

    Examples
    --------
    >>> import torch
    >>> complementary_partial_risks(torch.zeros(2, 2), torch.tensor([0, 1])).shape
    torch.Size([2])
    """
    k = logits.shape[1]
    ce = -torch.log_softmax(logits, dim=1)
    onehot = torch.nn.functional.one_hot(comp, k).to(ce.dtype)
    return ce.mean(dim=0) - (k - 1) * (onehot * ce).sum(dim=0) / ce.shape[0]


def coarse_loss(logits: torch.Tensor, coarse: torch.Tensor, member: torch.Tensor) -> torch.Tensor:
    """Per-item ``-log sum_{c in superclass} p_c``, shape (m,).

    Parameters
    ----------
    logits : Tensor of shape (m, k)
    coarse : LongTensor of shape (m,)
        Superclass of each item.
    member : bool Tensor of shape (n_coarse, k)
        ``member[s, c]``: fine class ``c`` belongs to superclass ``s``.

    Examples
    --------
    >>> import torch
    >>> member = torch.tensor([[True, True, False], [False, False, True]])
    >>> loss = coarse_loss(torch.zeros(1, 3), torch.tensor([0]), member)
    >>> round(float(loss[0]), 4)  # -log(2/3)
    0.4055
    """
    log_p = torch.log_softmax(logits, dim=1)
    masked = torch.where(member[coarse], log_p, torch.full_like(log_p, float("-inf")))
    return -torch.logsumexp(masked, dim=1)


def _complementary_objective(logits: torch.Tensor, comp: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Objective to minimise and report: the corrected risk ``sum_j max(0, R_j)``.

    The non-negative correction of Ishida et al. (2019): a partial risk
    that goes negative (the model over-fits its complementary labels) is
    clamped at 0 and contributes no gradient. Their gradient-ascent variant,
    which steps *up* on the negative partial risks, was tried first: on
    mini-batches of 64 with 6 classes the partial risks of a batch are
    noisy, often negative, and the ascent steps pushed items towards their
    complementary labels (WRENCH TREC test accuracy 0.05 with ascent vs
    0.56 with the clamp, TF-IDF MLP, 15 epochs; benchmarks/imprecise.py).
    """
    risks = complementary_partial_risks(logits, comp)
    objective = risks.clamp_min(0).sum()
    return objective, float(objective.detach())


def _item_batches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    perm = rng.permutation(n)
    return [perm[s : s + batch_size] for s in range(0, n, batch_size)]


def _bag_batches(y: LabelProportions, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Groups of whole bags with about ``batch_size`` items each (at least one bag)."""
    per_step = max(1, round(batch_size * y.n_bags / y.n_items))
    perm = rng.permutation(y.n_bags)
    return [perm[s : s + per_step] for s in range(0, y.n_bags, per_step)]


class _Objective:
    """The batch loss of one container form, with any state it carries between epochs."""

    def __init__(self, y: Any, device: str) -> None:
        self.y, self.device = y, device
        if isinstance(y, CandidateLabels):
            self.weights = proden_weights(np.ones(y.mask.shape), y.mask)
        if isinstance(y, CoarseLabels):
            member = np.arange(y.n_coarse)[:, None] == y.hierarchy[None, :]
            self.member = torch.from_numpy(member).to(device)

    def batches(self, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
        if isinstance(self.y, LabelProportions):
            return _bag_batches(self.y, batch_size, rng)
        return _item_batches(self.y.n_items, batch_size, rng)

    def rows(self, batch: np.ndarray) -> np.ndarray:
        if isinstance(self.y, LabelProportions):
            return np.flatnonzero(np.isin(self.y.bag_ids, batch))
        return batch

    def loss(self, logits: torch.Tensor, batch: np.ndarray, rows: np.ndarray) -> tuple[torch.Tensor, float]:
        y, dev = self.y, self.device
        if isinstance(y, LabelProportions):
            index = torch.from_numpy(np.searchsorted(np.sort(batch), y.bag_ids[rows])).to(dev)
            props = torch.from_numpy(y.proportions[np.sort(batch)]).float().to(dev)
            out = bag_kl_loss(logits, index, props)
            return out, float(out.detach())
        if isinstance(y, ComplementaryLabels):
            return _complementary_objective(logits, torch.from_numpy(y.labels[rows]).to(dev))
        if isinstance(y, CandidateLabels):
            w = torch.from_numpy(self.weights[rows]).float().to(dev)
            out = candidate_loss(logits, w).mean()
        else:
            out = coarse_loss(logits, torch.from_numpy(y.labels[rows]).to(dev), self.member).mean()
        return out, float(out.detach())

    def end_epoch(self, net: Any, X: Any, cfg: TrainConfig) -> None:
        """PRODEN: re-estimate the candidate weights from the model's predictions."""
        if isinstance(self.y, CandidateLabels):
            net.eval()
            proba = predict_proba([net], X, 4 * cfg.batch_size, cfg.device)
            self.weights = proden_weights(proba, self.y.mask)


def train_imprecise(
    net: Any, X: Any, y: Any, cfg: TrainConfig, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Train ``net`` in place with Adam on an imprecise-label container; return per-epoch history.

    Parameters
    ----------
    net : torch.nn.Module
        Maps a batch of ``X`` rows to logits ``(m, y.n_classes)``.
    X : ndarray (n, ...) float32 or CSR matrix
    y : LabelProportions, CandidateLabels, ComplementaryLabels or CoarseLabels
    cfg : TrainConfig
        Uses ``n_epochs``, ``batch_size``, ``lr``, ``weight_decay`` and ``device``.
    rng : numpy Generator
        Shuffles items (or bags) each epoch.

    Returns
    -------
    list of dict
        Per epoch: ``epoch`` and ``loss`` (mean batch loss; for complementary
        labels the corrected risk ``sum_j max(0, R_j)``).
    """
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    objective = _Objective(y, cfg.device)
    history: list[dict[str, Any]] = []
    for epoch in range(cfg.n_epochs):
        net.train()
        losses = []
        for batch in objective.batches(cfg.batch_size, rng):
            rows = objective.rows(batch)
            total, shown = objective.loss(net(batch_tensor(X, rows, cfg.device)), batch, rows)
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            losses.append(shown)
        objective.end_epoch(net, X, cfg)
        history.append({"epoch": epoch, "loss": float(np.mean(losses))})
    net.eval()
    return history
