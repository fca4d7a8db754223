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
from .noise_rates import anchor_noise_rate, prior_matched_forget_rates, uniform_noise_explains, uniform_noise_prior
from .transition import check_transition_matrix, estimate_transition_matrix

__all__ = [
    "out_of_fold", "hold_out_noisy_slice", "estimate_transition", "estimate_forget_rates", "alternate_corrections",
]


def out_of_fold(
    build: Callable[[], Any],
    data: TrainData,
    cfg: TrainConfig,
    rng: np.random.Generator,
    folds: int,
    *,
    stop_on_held: bool = False,
) -> np.ndarray:
    """Out-of-fold probabilities ``(n_labelled, k)`` of networks trained with ``cfg`` on the other folds.

    With ``stop_on_held``, each fold's networks stop early (and keep their
    best epoch) on the accuracy of the held fold's given labels: one epoch
    count chosen on the noisy labels, which stops the networks before they
    memorise the noise (Chen et al. 2019: under class-conditional noise the
    noisy accuracy peaks where the clean one does).
    """
    from sklearn.model_selection import KFold

    n, k = data.n_labelled, data.target.shape[1]
    oof = np.zeros((n, k))
    splitter = KFold(folds, shuffle=True, random_state=int(rng.integers(2**31 - 1)))
    for fit_rows, held in splitter.split(np.zeros(n)):
        nets = [build() for _ in range(2 if cfg.co_teaching else 1)]
        dev = (data.X[held], data.target[held].argmax(axis=1)) if stop_on_held else data.dev
        part = TrainData(X=data.X[fit_rows], target=data.target[fit_rows], weight=data.weight[fit_rows], dev=dev)
        train(nets, part, cfg, rng)
        oof[held] = predict_proba(nets, data.X[held], 4 * cfg.batch_size, cfg.device)
    return oof


def hold_out_noisy_slice(data: TrainData, fraction: float, rng: np.random.Generator) -> TrainData:
    """Move a stratified ``fraction`` of the labelled items into ``dev`` with their given (noisy) labels.

    Every class with at least two labelled items keeps one for training;
    unlabelled rows stay in training.
    """
    labels = data.target.argmax(axis=1)
    held: list[np.ndarray] = []
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        n_held = min(round(fraction * rows.shape[0]), rows.shape[0] - 1)
        held.append(rows[:n_held])
    dev_rows = np.sort(np.concatenate(held)) if held else np.zeros(0, dtype=np.int64)
    train_mask = np.ones(int(data.X.shape[0]), dtype=bool)
    train_mask[dev_rows] = False
    keep = np.flatnonzero(train_mask[: data.n_labelled])
    if dev_rows.size == 0:
        return data
    return TrainData(
        X=data.X[np.flatnonzero(train_mask)], target=data.target[keep], weight=data.weight[keep],
        dev=(data.X[dev_rows], labels[dev_rows]),
    )


def _plain(cfg: TrainConfig) -> TrainConfig:
    return dataclasses.replace(
        cfg, loss="ce", loss_params={}, co_teaching=False, self_training=None, curriculum=None,
        sample_selection=None,
    )


def estimate_forget_rates(
    build: Callable[[], Any], data: TrainData, cfg: TrainConfig, rng: np.random.Generator, cap: float = 0.8
) -> np.ndarray:
    """Co-teaching's forget rate per given class, each at most ``cap``.

    On the out-of-fold probabilities of 2-fold cross-entropy networks stopped
    early on their held fold: the overall noise rate read from the anchor
    points (:func:`anchor_noise_rate`; near 0 on clean labels, where the
    confident joint counted the networks' own errors as noise). When uniform
    noise explains the gap between the predicted and the given class shares
    (:func:`uniform_noise_explains`), the rate is spread over the classes so
    that the kept items follow the true shares that uniform noise at that
    rate implies (:func:`uniform_noise_prior`; the predicted shares when no
    shares do) (:func:`prior_matched_forget_rates`); otherwise that rate for
    every class.
    """
    part = TrainData(X=data.X, target=data.target, weight=data.weight)
    oof = out_of_fold(build, part, _plain(cfg), rng, 2, stop_on_held=True)
    labels = data.target.argmax(axis=1)
    k = data.target.shape[1]
    rate = min(anchor_noise_rate(oof, labels), cap)
    predicted = np.bincount(oof.argmax(axis=1), minlength=k) / max(labels.shape[0], 1)
    given = np.bincount(labels, minlength=k) / max(labels.shape[0], 1)
    if not uniform_noise_explains(predicted, given):
        return np.full(k, rate)
    implied = uniform_noise_prior(rate, given)
    return prior_matched_forget_rates(rate, predicted if implied is None else implied, given, cap=cap)


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
