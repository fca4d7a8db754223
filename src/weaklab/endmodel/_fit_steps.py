"""Steps of :meth:`TorchClassifier.fit` that train extra networks on folds.

Both run cross-fitting: networks trained on part of the labelled items
predict the rest, so the predictions are not of items the network memorised.
:func:`estimate_transition` feeds forward loss correction;
:func:`alternate_corrections` is the correction phase of the alternating
label-correction/retraining loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ._torch import import_torch
from ._trainer import TrainConfig, TrainData, predict_proba, train
from .correction import CorrectionLog, relabel_from_predictions
from .selection import estimate_noise_rate
from .transition import check_transition_matrix, estimate_transition_matrix

__all__ = ["out_of_fold", "estimate_transition", "estimate_forget_rate", "alternate_corrections"]


def out_of_fold(
    build: Callable[[], Any], data: TrainData, cfg: TrainConfig, rng: np.random.Generator, folds: int
) -> np.ndarray:
    """Out-of-fold probabilities ``(n_labelled, k)`` of networks trained with ``cfg`` on the other folds."""
    from sklearn.model_selection import KFold

    n, k = data.n_labelled, data.target.shape[1]
    oof = np.zeros((n, k))
    splitter = KFold(folds, shuffle=True, random_state=int(rng.integers(2**31 - 1)))
    for fit_rows, held in splitter.split(np.zeros(n)):
        nets = [build() for _ in range(2 if cfg.co_teaching else 1)]
        part = TrainData(X=data.X[fit_rows], target=data.target[fit_rows], weight=data.weight[fit_rows],
                         dev=data.dev)
        train(nets, part, cfg, rng)
        oof[held] = predict_proba(nets, data.X[held], 4 * cfg.batch_size, cfg.device)
    return oof


def _plain(cfg: TrainConfig) -> TrainConfig:
    return dataclasses.replace(
        cfg, loss="ce", loss_params={}, co_teaching=False, self_training=None, curriculum=None,
        sample_selection=None,
    )


def estimate_forget_rate(
    build: Callable[[], Any], data: TrainData, cfg: TrainConfig, rng: np.random.Generator, cap: float = 0.8
) -> float:
    """Co-teaching's forget rate: :func:`estimate_noise_rate` on 2-fold out-of-fold cross-entropy networks."""
    part = TrainData(X=data.X, target=data.target, weight=data.weight, dev=data.dev)
    oof = out_of_fold(build, part, _plain(cfg), rng, 2)
    return float(min(estimate_noise_rate(oof, data.target.argmax(axis=1)), cap))


def estimate_transition(
    build: Callable[[], Any], data: TrainData, cfg: TrainConfig, rng: np.random.Generator, params: dict[str, Any]
) -> Any:
    """The given ``params['transition']``, or one estimated from out-of-fold cross-entropy networks."""
    torch = import_torch("TorchClassifier")
    k = data.target.shape[1]
    given = params.get("transition")
    if given is not None:
        T = check_transition_matrix(given, k, "loss_params['transition']")
        return torch.from_numpy(T).float().to(cfg.device)
    part = TrainData(X=data.X, target=data.target, weight=data.weight)
    oof = out_of_fold(build, part, _plain(cfg), rng, int(params.get("folds", 3)))
    T = estimate_transition_matrix(oof, quantile=cfg.loss_params.get("quantile", 0.97))
    return torch.from_numpy(T).float().to(cfg.device)


def alternate_corrections(
    build: Callable[[], Any],
    data: TrainData,
    cfg: TrainConfig,
    rng: np.random.Generator,
    *,
    rounds: int,
    threshold: float | None,
    rows: np.ndarray,
) -> tuple[np.ndarray, CorrectionLog]:
    """``rounds`` of: 2-fold cross-fit networks with ``cfg``, then :func:`relabel_from_predictions` on them.

    Returns the corrected targets (corrected rows become one-hot) and the log,
    whose ``item`` is ``rows[position]`` (the labelled item's row in ``fit``'s
    input).
    """
    target = data.target.copy()
    log = CorrectionLog.empty()
    for round_ in range(1, rounds + 1):
        current = TrainData(X=data.X, target=target, weight=data.weight, dev=data.dev)
        oof = out_of_fold(build, current, cfg, rng, 2)
        labels = target.argmax(axis=1)
        new, changed = relabel_from_predictions(oof, labels, threshold)
        if changed.size == 0:
            break
        log = log.extended(round_, rows[changed], labels[changed], new[changed], oof[changed, new[changed]])
        target = target.copy()
        target[changed] = np.eye(target.shape[1])[new[changed]]
    return target, log
