"""A small segmentation net trained from weak label maps, EM-style self-training, and mIoU.

:class:`SegmentationNet` learns per-pixel classes from label maps that may leave pixels unlabelled
(:data:`~weaklab.vision.seeds.IGNORE`); :func:`self_train_segmentation` alternates it with re-estimating
the label maps from its own predictions under the image-level labels (Papandreou et al. 2015, EM with
image-level labels).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.validation import (
    check_float,
    check_int,
    check_random_state,
    fail,
    instance_of,
    interval,
    optional,
    validate_params,
)
from ..errors import NotFittedError
from .image_nets import as_image_batch, build_segmentation_net, predict_batches, train_network
from .seeds import IGNORE
from .torch_import import import_torch, seeded_torch

__all__ = ["SegmentationNet", "self_train_segmentation", "mean_iou", "constrained_labels"]

_PARAMS = {
    "n_classes": interval(int, 2, None),
    "width": interval(int, 2, None),
    "lr": interval(float, 0.0, None, low_open=True),
    "max_epochs": interval(int, 1, None),
    "batch_size": interval(int, 1, None),
    "warm_start": instance_of(bool),
    "random_state": optional(instance_of(int, np.random.Generator)),
}


class SegmentationNet:
    """Per-pixel classifier (background + classes) trained on label maps with ignored pixels.

    Parameters
    ----------
    n_classes : int
        Pixel classes including background (label 0).
    width : int, default 32
        Hidden channels (see :func:`~weaklab.vision.image_nets.build_segmentation_net`).
    lr : float, default 2e-3
        Adam learning rate.
    max_epochs : int, default 10
        Passes per call to :meth:`fit`.
    batch_size : int, default 32
        Images per step.
    warm_start : bool, default False
        When fitted already, :meth:`fit` continues training the same network.
    random_state : int, numpy Generator or None, default None

    Attributes
    ----------
    network_ : torch.nn.Module
    loss_history_ : list of float

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((4, 16, 16), np.float32); X[:, 4:10, 4:10] = 1.0
    >>> Y = (X > 0.5).astype(int)
    >>> net = SegmentationNet(n_classes=2, max_epochs=2, random_state=0).fit(X, Y)
    >>> net.predict(X).shape
    (4, 16, 16)
    """

    rng_: np.random.Generator

    def __init__(self, n_classes: int, width: int = 32, *, lr: float = 2e-3, max_epochs: int = 10,
                 batch_size: int = 32, warm_start: bool = False,
                 random_state: int | np.random.Generator | None = None) -> None:
        self.n_classes = n_classes
        self.width = width
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.warm_start = warm_start
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator (scikit-learn convention)."""
        names = ("n_classes", "width", "lr", "max_epochs", "batch_size", "warm_start", "random_state")
        return {n: getattr(self, n) for n in names}

    def fit(self, images: Any, label_maps: Any) -> SegmentationNet:
        """Train on images and label maps (``-1`` = ignore).

        Parameters
        ----------
        images : array-like of shape (n, h, w) or (n, c, h, w)
        label_maps : array-like of int, shape (n, h, w)
            0 background, ``1 .. n_classes-1`` classes, -1 ignored.

        Returns
        -------
        SegmentationNet
            ``self``, fitted.
        """
        validate_params(self, _PARAMS)
        X = as_image_batch(np.asarray(images, dtype=np.float32))
        Y = np.asarray(label_maps)
        if Y.shape != (X.shape[0], *X.shape[-2:]) or not np.issubdtype(Y.dtype, np.integer):
            raise fail("label_maps", f"an int array of shape {(X.shape[0], *X.shape[-2:])}", Y)
        if Y.min() < IGNORE or Y.max() >= self.n_classes:
            raise fail("label_maps", f"values in -1 .. {self.n_classes - 1}", got_text=f"{Y.min()} .. {Y.max()}")
        warm = self.warm_start and hasattr(self, "network_")
        rng: np.random.Generator = self.rng_ if warm else check_random_state(self.random_state)
        self.rng_ = rng
        with seeded_torch(int(rng.integers(2**31 - 1)), "SegmentationNet") as torch:
            if not warm:
                self.network_ = build_segmentation_net(X.shape[1], self.n_classes, self.width)
                self.loss_history_: list[float] = []
            loss = torch.nn.CrossEntropyLoss(ignore_index=IGNORE)
            self.loss_history_ += train_network(self.network_, X, Y.astype(np.int64), loss, epochs=self.max_epochs,
                                                batch_size=self.batch_size, lr=self.lr, rng=rng)
        self.network_.eval()
        self.input_channels_ = int(X.shape[1])
        return self

    def predict_proba(self, images: Any) -> np.ndarray:
        """Pixel class probabilities, shape ``(n, n_classes, h, w)``."""
        if not hasattr(self, "network_"):
            raise NotFittedError("SegmentationNet is not fitted yet; call fit(images, label_maps) first")
        torch = import_torch("SegmentationNet")
        X = as_image_batch(np.asarray(images, dtype=np.float32))
        if X.shape[1] != self.input_channels_:
            raise fail("images", f"{self.input_channels_} channel(s) as in fit", got_text=f"{X.shape[1]}")
        return predict_batches(self.network_, X, lambda x: torch.softmax(self.network_(x), dim=1))

    def predict(self, images: Any) -> np.ndarray:
        """Pixel labels, shape ``(n, h, w)``."""
        return self.predict_proba(images).argmax(axis=1).astype(np.int16)


def constrained_labels(proba: Any, image_labels: Any, *, min_confidence: float = 0.0,
                       fg_bias: float = 0.0) -> np.ndarray:
    """E-step: pixel labels from predicted probabilities, allowing only the classes the image holds.

    Classes absent from ``image_labels`` get probability 0; present classes get ``fg_bias`` added to their
    log-probability (Papandreou et al.'s foreground bias); the argmax is the label, or ``-1`` where the
    renormalised top probability is below ``min_confidence``.

    Parameters
    ----------
    proba : array-like of shape (n, 1 + n_classes, h, w)
        Pixel probabilities; channel 0 is background.
    image_labels : array-like of shape (n, n_classes)
        Multi-hot image-level labels.
    min_confidence : float, default 0.0
    fg_bias : float, default 0.0

    Returns
    -------
    ndarray of int16, shape (n, h, w)

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[[[0.1]], [[0.7]], [[0.2]]]])     # bg, class 0, class 1
    >>> constrained_labels(P, [[0, 1]]).tolist()          # class 0 is not in the image
    [[[2]]]
    """
    P = np.asarray(proba, dtype=np.float64)
    present = np.asarray(image_labels).astype(bool)
    if P.ndim != 4 or present.shape != (P.shape[0], P.shape[1] - 1):
        raise fail("image_labels", f"a multi-hot ({P.shape[0]}, {P.shape[1] - 1}) matrix for proba {P.shape}", present)
    conf = check_float("min_confidence", min_confidence, low=0.0, high=1.0)
    allowed = np.concatenate([np.ones((len(P), 1), bool), present], axis=1)[:, :, None, None]
    logp = np.log(np.clip(P, 1e-12, None))
    logp[:, 1:] += float(fg_bias)
    logp = np.where(allowed, logp, -np.inf)
    Q = np.exp(logp - logp.max(axis=1, keepdims=True))
    Q /= Q.sum(axis=1, keepdims=True)
    return np.where(Q.max(axis=1) >= conf, Q.argmax(axis=1), IGNORE).astype(np.int16)


def self_train_segmentation(
    images: Any,
    image_labels: Any,
    initial_labels: Any,
    *,
    rounds: int = 3,
    epochs_per_round: int = 4,
    min_confidence: float = 0.7,
    fg_bias: float = 0.0,
    keep_seeds: bool = True,
    random_state: int | np.random.Generator | None = None,
    **net_params: Any,
) -> tuple[SegmentationNet, list[np.ndarray]]:
    """EM-style self-training of a segmentation net from seeds and image-level labels.

    M-step: train :class:`SegmentationNet` (warm-started across rounds) on the current label maps.
    E-step: re-estimate the label maps with :func:`constrained_labels` (only classes in the image;
    confident pixels only). The first M-step uses ``initial_labels`` (seeds, refined seeds or box masks).

    Parameters
    ----------
    images : array-like of shape (n, h, w) or (n, c, h, w)
    image_labels : array-like of shape (n, n_classes)
        Multi-hot image-level labels.
    initial_labels : array-like of int, shape (n, h, w)
        Starting label maps (0 background, ``c + 1`` class ``c``, -1 ignore).
    rounds : int, default 3
        M-steps (E-steps run between them).
    epochs_per_round : int, default 4
    min_confidence : float, default 0.7
    fg_bias : float, default 0.0
    keep_seeds : bool, default True
        The E-step re-estimates only the pixels ``initial_labels`` leaves unlabelled (-1) and keeps the
        labelled ones, so the seeds anchor the estimate (without it, a net that starts out favouring
        background can relabel every pixel as background and EM collapses).
    random_state : int, numpy Generator or None
    **net_params
        Passed to :class:`SegmentationNet` (``width``, ``lr``, ``batch_size``).

    Returns
    -------
    model : SegmentationNet
    label_history : list of ndarray
        The label maps each M-step trained on.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((4, 16, 16), np.float32); X[:, 4:10, 4:10] = 1.0
    >>> seeds = np.full((4, 16, 16), -1); seeds[:, 6:8, 6:8] = 1; seeds[:, :2] = 0
    >>> model, history = self_train_segmentation(X, np.ones((4, 1), int), seeds, rounds=2,
    ...                                          epochs_per_round=1, random_state=0)
    >>> len(history)
    2
    """
    n_rounds = check_int("rounds", rounds, low=1)
    present = np.asarray(image_labels)
    initial = np.asarray(initial_labels).astype(np.int16)
    labels = initial
    model = SegmentationNet(n_classes=present.shape[1] + 1, max_epochs=check_int("epochs_per_round",
                            epochs_per_round, low=1), warm_start=True, random_state=random_state, **net_params)
    history = []
    for r in range(n_rounds):
        history.append(labels)
        model.fit(images, labels)
        if r < n_rounds - 1:
            estimate = constrained_labels(model.predict_proba(images), present, min_confidence=min_confidence,
                                          fg_bias=fg_bias)
            labels = np.where(initial >= 0, initial, estimate).astype(np.int16) if keep_seeds else estimate
    return model, history


def mean_iou(pred: Any, truth: Any, n_classes: int, *, ignore: int = IGNORE) -> tuple[float, np.ndarray]:
    """Mean intersection over union over classes, accumulated over all pixels of all images.

    Parameters
    ----------
    pred, truth : array-like of int, same shape
        Label maps; ``truth == ignore`` pixels are left out, ``pred == ignore`` counts as wrong.
    n_classes : int
        Classes including background; classes absent from both are left out of the mean.

    Returns
    -------
    miou : float
    per_class : ndarray of shape (n_classes,)
        IoU of each class (NaN when absent from both).

    Examples
    --------
    >>> mean_iou([[0, 1, 1]], [[0, 1, 0]], 2)[0]
    0.5
    """
    p, t = np.asarray(pred).ravel(), np.asarray(truth).ravel()
    if p.shape != t.shape:
        raise fail("pred", f"label maps of the shape of truth ({np.asarray(truth).shape})", np.asarray(pred))
    keep = t != ignore
    p, t = p[keep], t[keep]
    ious = np.full(n_classes, np.nan)
    for c in range(n_classes):
        union = np.sum((p == c) | (t == c))
        if union:
            ious[c] = np.sum((p == c) & (t == c)) / union
    return float(np.nanmean(ious)), ious
