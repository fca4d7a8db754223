"""Noise-robust classification losses as small pure torch functions.

Every loss takes raw ``logits`` of shape ``(n, k)`` and ``target`` class
probabilities of shape ``(n, k)`` (one-hot rows for hard labels) and returns
the *per-item* loss of shape ``(n,)``, so a trainer can weight items, select
small-loss items or average. Notation: ``p = softmax(logits)``, ``t = target``.

References
----------
- Label smoothing: Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016.
- GCE: Zhang & Sabuncu, "Generalized Cross Entropy Loss for Training Deep Neural
  Networks with Noisy Labels", NeurIPS 2018.
- SCE: Wang et al., "Symmetric Cross Entropy for Robust Learning with Noisy
  Labels", ICCV 2019.
- Bootstrapping: Reed et al., "Training Deep Neural Networks on Noisy Labels
  with Bootstrapping", ICLR 2015 workshop.
- ELR: Liu et al., "Early-Learning Regularization Prevents Memorization of
  Noisy Labels", NeurIPS 2020.
- Forward correction: Patrini et al., "Making Deep Neural Networks Robust to
  Label Noise: a Loss Correction Approach", CVPR 2017.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._torch import import_torch

if TYPE_CHECKING:
    import torch
else:
    torch = import_torch("weaklab.endmodel.losses")

__all__ = [
    "soft_cross_entropy",
    "label_smoothing_loss",
    "generalized_cross_entropy",
    "symmetric_cross_entropy",
    "bootstrapping_loss",
    "hard_bootstrapping_loss",
    "elr_loss",
    "elr_update",
    "forward_corrected_loss",
    "LOSSES",
]

_EPS = 1e-7


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with soft targets, ``-sum_j t_j log p_j``.

    Parameters
    ----------
    logits : Tensor of shape (n, k)
    target : Tensor of shape (n, k)
        Class probabilities per item (rows sum to 1).

    Returns
    -------
    Tensor of shape (n,)
    """
    return -(target * torch.log_softmax(logits, dim=1)).sum(dim=1)


def label_smoothing_loss(logits: torch.Tensor, target: torch.Tensor, smoothing: float = 0.1) -> torch.Tensor:
    """Cross-entropy against ``(1 - smoothing) t + smoothing / k``.

    ``smoothing=0`` is :func:`soft_cross_entropy`.

    Parameters
    ----------
    logits, target : Tensor of shape (n, k)
    smoothing : float in [0, 1], default=0.1

    Returns
    -------
    Tensor of shape (n,)
    """
    k = target.shape[1]
    return soft_cross_entropy(logits, (1.0 - smoothing) * target + smoothing / k)


def generalized_cross_entropy(logits: torch.Tensor, target: torch.Tensor, q: float = 0.7) -> torch.Tensor:
    """Generalized cross-entropy ``sum_j t_j (1 - p_j^q) / q``.

    For a hard label ``y`` this is ``(1 - p_y^q) / q`` (Zhang & Sabuncu 2018):
    cross-entropy as ``q -> 0`` (``q=0`` computes it exactly) and the mean
    absolute error ``1 - p_y`` at ``q = 1``.

    Parameters
    ----------
    logits, target : Tensor of shape (n, k)
    q : float in [0, 1], default=0.7

    Returns
    -------
    Tensor of shape (n,)
    """
    if q == 0:
        return soft_cross_entropy(logits, target)
    p = torch.softmax(logits, dim=1).clamp_min(_EPS)
    return (target * (1.0 - p.pow(q)) / q).sum(dim=1)


def symmetric_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    alpha: float = 0.1,
    beta: float = 1.0,
    log_zero: float = -4.0,
) -> torch.Tensor:
    """Symmetric cross-entropy ``alpha CE(t, p) + beta RCE(t, p)``.

    The reverse cross-entropy is ``RCE = -sum_j p_j log t_j`` with ``log 0``
    replaced by ``log_zero`` (``A = -4`` in Wang et al. 2019), so for a hard
    label ``y`` it is ``-A (1 - p_y)``. ``beta=0, alpha=1`` is cross-entropy.

    Parameters
    ----------
    logits, target : Tensor of shape (n, k)
    alpha : float >= 0, default=0.1
    beta : float >= 0, default=1.0
    log_zero : float < 0, default=-4.0
        Value used for ``log t_j`` where ``t_j = 0`` (and the floor of ``log t``).

    Returns
    -------
    Tensor of shape (n,)
    """
    ce = soft_cross_entropy(logits, target)
    p = torch.softmax(logits, dim=1)
    log_t = torch.log(target.clamp_min(1e-30)).clamp_min(log_zero)
    rce = -(p * log_t).sum(dim=1)
    return alpha * ce + beta * rce


def bootstrapping_loss(
    logits: torch.Tensor, target: torch.Tensor, beta: float = 0.95, hard: bool = False
) -> torch.Tensor:
    """Bootstrapping loss of Reed et al. (2015).

    Cross-entropy against ``beta t + (1 - beta) z``, where ``z = p`` (soft
    bootstrapping, paper's ``beta = 0.95``; the gradient flows through ``z``,
    as in the paper's objective) or ``z`` is the one-hot argmax of ``p`` (hard
    bootstrapping, paper's ``beta = 0.8``). ``beta = 1`` is cross-entropy.

    Parameters
    ----------
    logits, target : Tensor of shape (n, k)
    beta : float in [0, 1], default=0.95
    hard : bool, default=False

    Returns
    -------
    Tensor of shape (n,)
    """
    log_p = torch.log_softmax(logits, dim=1)
    if hard:
        z = torch.nn.functional.one_hot(logits.argmax(dim=1), logits.shape[1]).to(log_p.dtype)
    else:
        z = log_p.exp()
    return -((beta * target + (1.0 - beta) * z) * log_p).sum(dim=1)


def hard_bootstrapping_loss(logits: torch.Tensor, target: torch.Tensor, beta: float = 0.8) -> torch.Tensor:
    """Hard bootstrapping, :func:`bootstrapping_loss` with ``hard=True`` (default ``beta = 0.8``)."""
    return bootstrapping_loss(logits, target, beta, hard=True)


def elr_update(ema_target: torch.Tensor, logits: torch.Tensor, beta: float = 0.7) -> torch.Tensor:
    """One step of ELR's per-item target average, ``beta ema + (1 - beta) p``.

    ``p`` is the detached prediction clamped to ``[1e-4, 1 - 1e-4]`` and
    renormalised (Liu et al. 2020).

    Parameters
    ----------
    ema_target : Tensor of shape (n, k)
        The running targets of the items in the batch.
    logits : Tensor of shape (n, k)
    beta : float in [0, 1), default=0.7

    Returns
    -------
    Tensor of shape (n, k)
        The new running targets (a new tensor; the input is unchanged).
    """
    p = torch.softmax(logits.detach(), dim=1).clamp(1e-4, 1.0 - 1e-4)
    p = p / p.sum(dim=1, keepdim=True)
    return beta * ema_target + (1.0 - beta) * p


def elr_loss(
    logits: torch.Tensor, target: torch.Tensor, ema_target: torch.Tensor, lam: float = 3.0
) -> torch.Tensor:
    """Early-learning regularised loss ``CE(t, p) + lam log(1 - <p, ema>)``.

    ``ema`` is the item's running average of past predictions
    (:func:`elr_update`); ``p`` is clamped to ``[1e-4, 1 - 1e-4]`` in the
    regulariser as in the reference implementation. ``lam = 0`` is
    cross-entropy.

    Parameters
    ----------
    logits, target : Tensor of shape (n, k)
    ema_target : Tensor of shape (n, k)
    lam : float >= 0, default=3.0

    Returns
    -------
    Tensor of shape (n,)
    """
    p = torch.softmax(logits, dim=1).clamp(1e-4, 1.0 - 1e-4)
    inner = (1.0 - (ema_target * p).sum(dim=1)).clamp_min(_EPS)
    return soft_cross_entropy(logits, target) + lam * torch.log(inner)


def forward_corrected_loss(
    logits: torch.Tensor, target: torch.Tensor, transition: torch.Tensor
) -> torch.Tensor:
    """Forward loss correction ``-sum_j t_j log (p T)_j``.

    ``T[i, j] = P(noisy label j | true class i)``; the network's ``p`` then
    estimates the clean posterior. ``T = I`` is cross-entropy.

    Parameters
    ----------
    logits, target : Tensor of shape (n, k)
        ``target`` holds the *noisy* labels.
    transition : Tensor of shape (k, k)
        Row-stochastic noise-transition matrix.

    Returns
    -------
    Tensor of shape (n,)
    """
    noisy = torch.softmax(logits, dim=1) @ transition.to(logits.dtype)
    return -(target * torch.log(noisy.clamp_min(_EPS))).sum(dim=1)


LOSSES: dict[str, Any] = {
    "ce": soft_cross_entropy,
    "label_smoothing": label_smoothing_loss,
    "gce": generalized_cross_entropy,
    "sce": symmetric_cross_entropy,
    "bootstrap_soft": bootstrapping_loss,
    "bootstrap_hard": hard_bootstrapping_loss,
    "elr": elr_loss,
    "forward": forward_corrected_loss,
}
"""Loss names accepted by :class:`~weaklab.endmodel.TorchClassifier` (``loss=``)."""
