"""The training loop behind :class:`~weaklab.endmodel.TorchClassifier`.

Imported only when a torch model is fitted. The loop trains one network (or
two for co-teaching) with minibatch Adam on a per-epoch item pool: labelled
items (all, or a growing curriculum of confident ones) plus pseudo-labelled
unlabelled items once self-training has started.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from . import schedules as sch
from . import selection as sel
from ._torch import import_torch
from .losses import LOSSES, elr_loss, elr_update, forward_corrected_loss, soft_cross_entropy

if TYPE_CHECKING:
    import torch
else:
    torch = import_torch("TorchClassifier")

__all__ = ["TrainConfig", "TrainData", "train", "predict_proba", "batch_tensor"]

logger = logging.getLogger("weaklab.endmodel")


@dataclass
class TrainConfig:
    """Validated training settings (see :class:`TorchClassifier` for their meaning)."""

    loss: str = "ce"
    loss_params: dict[str, Any] = field(default_factory=dict)
    n_epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    co_teaching: bool = False
    forget_rate: float | None = None  # None: estimated before training (TorchClassifier.fit)
    class_forget_rates: np.ndarray | None = None  # (k,) per given class; overrides forget_rate when set
    forget_epochs: int = 10
    sample_selection: str | None = None  # "cw_bass", "gmm" or "cpc"
    curriculum: float | None = None
    self_training: str | None = None
    pseudo_threshold: float = 0.95
    pseudo_weight: float = 1.0
    warmup_epochs: int = 5
    patience: int = 5
    device: str = "cpu"
    verbose: bool = False
    transition: Any = None  # torch tensor (k, k) for loss="forward"


@dataclass
class TrainData:
    """Features of labelled rows ``[0, n_labelled)`` then unlabelled rows, targets and weights."""

    X: Any  # ndarray (n_all, ...) float32 or CSR matrix
    target: np.ndarray  # (n_labelled, k)
    weight: np.ndarray  # (n_labelled,)
    dev: tuple[Any, np.ndarray] | None = None  # (X_dev, class indices)

    @property
    def n_labelled(self) -> int:
        return int(self.target.shape[0])

    @property
    def n_unlabelled(self) -> int:
        return int(self.X.shape[0]) - self.n_labelled


def batch_tensor(X: Any, rows: np.ndarray | slice, device: str) -> torch.Tensor:
    """Rows of a dense array or sparse matrix as a float32 tensor on ``device``."""
    part = X[rows]
    if sp.issparse(part):
        part = part.toarray()
    return torch.from_numpy(np.ascontiguousarray(part, dtype=np.float32)).to(device)


def predict_proba(networks: list[Any], X: Any, batch_size: int, device: str) -> np.ndarray:
    """Average softmax output of ``networks`` (in eval mode) over ``X`` ``(n, k)``."""
    n = int(X.shape[0])
    out: list[np.ndarray] = []
    with torch.no_grad():
        for start in range(0, n, batch_size):
            x = batch_tensor(X, slice(start, start + batch_size), device)
            p = torch.stack([torch.softmax(net(x), dim=1) for net in networks]).mean(dim=0)
            out.append(p.double().cpu().numpy())
    proba = np.concatenate(out) if out else np.zeros((0, 0))
    return proba / proba.sum(axis=1, keepdims=True)


class _Epoch:
    """The items of one epoch: rows of ``TrainData.X``, targets, weights, pseudo flags."""

    def __init__(self, rows: np.ndarray, target: np.ndarray, weight: np.ndarray, pseudo: np.ndarray) -> None:
        self.rows, self.target, self.weight, self.pseudo = rows, target, weight, pseudo


def _per_item_loss(
    cfg: TrainConfig,
    logits: torch.Tensor,
    target: torch.Tensor,
    pseudo: torch.Tensor,
    ema: torch.Tensor | None,
    rows: torch.Tensor,
) -> torch.Tensor:
    params = cfg.loss_params
    if cfg.loss == "elr" and ema is not None:
        ema[rows] = elr_update(ema[rows], logits, params.get("beta", 0.7))
        robust = elr_loss(logits, target, ema[rows], params.get("lam", 3.0))
    elif cfg.loss == "forward":
        robust = forward_corrected_loss(logits, target, cfg.transition)
    else:
        robust = LOSSES[cfg.loss](logits, target, **params)
    if not bool(pseudo.any()):
        return robust
    return torch.where(pseudo, soft_cross_entropy(logits, target), robust)


def _weighted_mean(loss: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (loss * weight).sum() / weight.sum().clamp_min(1e-12)


def _eval_labelled(networks: list[Any], data: TrainData, cfg: TrainConfig, rows: np.ndarray) -> np.ndarray:
    """The networks' probability of each given (soft) label for labelled ``rows``."""
    for net in networks:
        net.eval()
    proba = predict_proba(networks, data.X[rows], 4 * cfg.batch_size, cfg.device)
    return np.clip((proba * data.target[rows]).sum(axis=1), 1e-12, 1.0)


def embed(networks: list[Any], X: Any, batch_size: int, device: str) -> np.ndarray:
    """Features before the last layer of a ``torch.nn.Sequential`` network; the flattened input otherwise."""
    net = networks[0]
    if not isinstance(net, torch.nn.Sequential) or len(net) < 2:
        dense = X.toarray() if sp.issparse(X) else np.asarray(X)
        return np.asarray(dense, dtype=np.float64).reshape(dense.shape[0], -1)
    body = net[:-1]
    out: list[np.ndarray] = []
    with torch.no_grad():
        for start in range(0, int(X.shape[0]), batch_size):
            out.append(body(batch_tensor(X, slice(start, start + batch_size), device)).double().cpu().numpy())
    return np.concatenate(out).reshape(int(X.shape[0]), -1)


def _selection_weights(
    data: TrainData, cfg: TrainConfig, epoch: int, pool: np.ndarray, networks: list[Any], state: dict[str, Any]
) -> np.ndarray:
    """Per-item weight factors of the pool from ``cfg.sample_selection`` (see :mod:`.selection`).

    The factors are rescaled within each given class so that the class keeps its total weight:
    selection decides which items of a class count, not how much the class counts (without this a
    model's early bias toward one class lowers the other class's weights, which feeds the bias).
    """
    conf = _eval_labelled(networks, data, cfg, pool)
    labels = data.target[pool].argmax(axis=1)
    k = data.target.shape[1]
    if cfg.sample_selection == "cw_bass":
        state["thresholds"] = sel.dynamic_class_thresholds(conf, labels, k, state.get("thresholds"))
        ramp = max(1, (cfg.n_epochs - cfg.warmup_epochs) // 2)
        below = max(0.0, 1.0 - (epoch - cfg.warmup_epochs + 1) / ramp)
        factor = sel.confidence_weights(conf, labels, state["thresholds"], below_scale=below)
    elif cfg.sample_selection == "gmm":
        tau = sel.gmm_class_thresholds(conf, labels, k)
        factor = (conf >= tau[labels]).astype(np.float64)
    else:
        features = embed(networks, data.X[pool], 4 * cfg.batch_size, cfg.device)
        clean = sel.prototype_clean_proba(-np.log(conf), features, labels, k)
        factor = (clean >= 0.5).astype(np.float64)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    mass = np.bincount(labels, weights=factor, minlength=k)
    scale = np.where(mass > 0, counts / np.maximum(mass, 1e-12), 0.0)
    return np.asarray(factor * scale[labels])


def _epoch_items(
    data: TrainData,
    cfg: TrainConfig,
    epoch: int,
    order: np.ndarray | None,
    networks: list[Any],
    state: dict[str, Any],
) -> _Epoch:
    n_lab = data.n_labelled
    pool = (
        order[: sch.curriculum_size(n_lab, epoch, cfg.n_epochs, cfg.curriculum or 1.0)]
        if order is not None
        else np.arange(n_lab)
    )
    target, weight = data.target[pool], data.weight[pool]
    if cfg.sample_selection and epoch >= cfg.warmup_epochs and pool.shape[0]:
        weight = weight * _selection_weights(data, cfg, epoch, pool, networks, state)
    pseudo = np.zeros(pool.shape[0], dtype=bool)
    if cfg.self_training and data.n_unlabelled and epoch >= cfg.warmup_epochs:
        for net in networks:
            net.eval()
        proba = predict_proba(networks, data.X[n_lab:], 4 * cfg.batch_size, cfg.device)
        tau = (
            sch.class_adaptive_thresholds(proba, cfg.pseudo_threshold, warmup=False)
            if cfg.self_training == "adaptive"
            else cfg.pseudo_threshold
        )
        chosen, labels = sch.select_pseudo_labels(proba, tau)
        pool = np.concatenate([pool, n_lab + chosen])
        target = np.concatenate([target, np.eye(target.shape[1])[labels]])
        # as in FixMatch/FlexMatch, L = L_labelled + pseudo_weight * (1 / n_unlabelled) sum_accepted CE:
        # all accepted items together weigh at most pseudo_weight times the labelled items
        per_item = cfg.pseudo_weight * float(data.weight.mean()) * n_lab / data.n_unlabelled
        weight = np.concatenate([weight, np.full(chosen.shape[0], per_item)])
        pseudo = np.concatenate([pseudo, np.ones(chosen.shape[0], dtype=bool)])
    return _Epoch(pool, target, weight, pseudo)


def _step(
    networks: list[Any],
    optimizers: list[Any],
    emas: list[Any],
    cfg: TrainConfig,
    data: TrainData,
    items: _Epoch,
    batch: np.ndarray,
    keep_fraction: Any,
) -> float:
    dev = cfg.device
    rows = items.rows[batch]
    x = batch_tensor(data.X, rows, dev)
    t = torch.from_numpy(items.target[batch]).float().to(dev)
    w = torch.from_numpy(items.weight[batch]).float().to(dev)
    pseudo = torch.from_numpy(items.pseudo[batch]).to(dev)
    row_t = torch.from_numpy(rows).to(dev)
    losses = [_per_item_loss(cfg, net(x), t, pseudo, ema, row_t) for net, ema in zip(networks, emas)]
    if len(networks) == 2:  # co-teaching: each network learns from its peer's small-loss items
        groups = items.target[batch].argmax(axis=1)
        picks = [
            torch.from_numpy(sch.small_loss_indices(lo.detach().cpu().numpy(), keep_fraction, groups)).to(dev)
            for lo in losses
        ]
        totals = [
            _weighted_mean(losses[0][picks[1]], w[picks[1]]),
            _weighted_mean(losses[1][picks[0]], w[picks[0]]),
        ]
    else:
        totals = [_weighted_mean(losses[0], w)]
    for opt, total in zip(optimizers, totals):
        opt.zero_grad()
        total.backward()
        opt.step()
    return float(sum(float(t.detach()) for t in totals) / len(totals))


def _dev_score(networks: list[Any], data: TrainData, cfg: TrainConfig) -> tuple[float, float]:
    if data.dev is None:
        return float("nan"), float("nan")
    X_dev, y_dev = data.dev
    proba = predict_proba(networks, X_dev, 4 * cfg.batch_size, cfg.device)
    accuracy = float(np.mean(proba.argmax(axis=1) == y_dev))
    nll = float(-np.mean(np.log(np.clip(proba[np.arange(y_dev.shape[0]), y_dev], 1e-12, None))))
    return accuracy, nll


def train(
    networks: list[Any], data: TrainData, cfg: TrainConfig, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Train ``networks`` in place (one, or two for co-teaching); return per-epoch history.

    With a dev split, the networks end in the state of the epoch with the best
    dev accuracy (ties: lower NLL), and training stops after ``patience``
    epochs without improvement.
    """
    from rich.progress import Progress

    optimizers = [
        torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay) for net in networks
    ]
    k = data.target.shape[1]
    emas = [
        torch.zeros((int(data.X.shape[0]), k), device=cfg.device) if cfg.loss == "elr" else None
        for _ in networks
    ]
    confidence = data.target.max(axis=1) if data.n_labelled else np.zeros(0)
    order = sch.curriculum_order(confidence, rng) if cfg.curriculum is not None else None
    history: list[dict[str, Any]] = []
    state: dict[str, Any] = {}
    rates = cfg.class_forget_rates if cfg.class_forget_rates is not None else (cfg.forget_rate or 0.0)
    # selection must be at full strength before a stale dev score may stop training
    min_epochs = cfg.forget_epochs if cfg.co_teaching else cfg.warmup_epochs if cfg.sample_selection else 0
    best: tuple[float, float] | None = None
    best_state: list[dict[str, Any]] | None = None
    stale = 0
    with Progress(disable=not cfg.verbose, transient=True) as progress:
        task = progress.add_task("training", total=cfg.n_epochs)
        for epoch in range(cfg.n_epochs):
            items = _epoch_items(data, cfg, epoch, order, networks, state)
            for net in networks:
                net.train()
            keep = 1.0 - sch.forget_rate_schedule(epoch, rates, cfg.forget_epochs)
            perm = rng.permutation(items.rows.shape[0])
            batch_losses = [
                _step(networks, optimizers, emas, cfg, data, items, perm[s : s + cfg.batch_size], keep)
                for s in range(0, perm.shape[0], cfg.batch_size)
            ]
            for net in networks:
                net.eval()
            record: dict[str, Any] = {
                "epoch": epoch,
                "loss": float(np.mean(batch_losses)) if batch_losses else float("nan"),
                "n_items": int((~items.pseudo).sum()),
                "n_pseudo": int(items.pseudo.sum()),
                "n_selected": int((items.weight[~items.pseudo] > 0).sum()),
            }
            if data.dev is not None:
                score = _dev_score(networks, data, cfg)
                record["dev_accuracy"], record["dev_nll"] = score
                if best is None or (score[0], -score[1]) > (best[0], -best[1]):
                    best, stale = score, 0
                    best_state = [
                        {name: v.detach().clone() for name, v in net.state_dict().items()} for net in networks
                    ]
                else:
                    stale += 1
            history.append(record)
            logger.debug("epoch %s: %s", epoch, record)
            progress.advance(task)
            if data.dev is not None and stale > cfg.patience and epoch >= min_epochs:
                break
    if best_state is not None:
        for net, state in zip(networks, best_state):
            net.load_state_dict(state)
    return history
