"""Small torch networks for images (built on demand; torch imported lazily) and their training loop.

* :func:`build_gap_cnn`: conv blocks, global average pooling, one linear layer: the architecture class
  activation maps need (Zhou et al. 2016);
* :func:`build_segmentation_net`: a small fully convolutional net (stride-2 stem, dilated convolutions,
  bilinear upsampling back to the input size) predicting per-pixel classes;
* :func:`train_network`: mini-batch Adam over numpy arrays with a given loss.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .torch_import import import_torch

__all__ = ["build_gap_cnn", "build_segmentation_net", "train_network", "predict_batches", "as_image_batch"]


def as_image_batch(images: np.ndarray) -> np.ndarray:
    """``(n, h, w)`` or ``(n, c, h, w)`` float images as a float32 ``(n, c, h, w)`` array."""
    arr = np.asarray(images, dtype=np.float32)
    return arr[:, None] if arr.ndim == 3 else arr


def build_gap_cnn(in_channels: int, n_classes: int, widths: Sequence[int] = (16, 32, 64, 64),
                  n_pool: int = 2, batch_norm: bool = True) -> Any:
    """A CNN ending in global average pooling and a linear classifier.

    Parameters
    ----------
    in_channels : int
        Image channels.
    n_classes : int
        Output logits.
    widths : sequence of int, default (16, 32, 64, 64)
        Channels of the 3x3 convolutions (each followed by batch normalisation, if on, and ReLU).
    n_pool : int, default 2
        The first ``n_pool`` convolutions are followed by 2x2 max pooling, so the last feature map has
        stride ``2 ** n_pool``.
    batch_norm : bool, default True
        Batch normalisation after every convolution.

    Returns
    -------
    torch.nn.Module
        With ``features`` (the conv part) and ``classifier`` (``nn.Linear``) attributes; ``forward``
        returns logits.
    """
    torch = import_torch("CAMClassifier")
    nn = torch.nn

    class GapCNN(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = []
            width = in_channels
            for i, w in enumerate(widths):
                layers += [nn.Conv2d(width, int(w), 3, padding=1)]
                layers += [nn.BatchNorm2d(int(w)), nn.ReLU()] if batch_norm else [nn.ReLU()]
                if i < n_pool:
                    layers.append(nn.MaxPool2d(2))
                width = int(w)
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Linear(width, n_classes)

        def forward(self, x: Any) -> Any:
            return self.classifier(self.features(x).mean(dim=(2, 3)))

    return GapCNN()


def build_segmentation_net(in_channels: int, n_classes: int, width: int = 32) -> Any:
    """A small fully convolutional segmentation net.

    A 3x3 stem, a stride-2 pooling, four 3x3 convolutions (each with batch normalisation and ReLU) with
    dilations 1, 2, 4, 8 (receptive field of about 60 input pixels), a 1x1 classifier and bilinear
    upsampling to the input size.

    Parameters
    ----------
    in_channels : int
        Image channels.
    n_classes : int
        Pixel classes (background included).
    width : int, default 32
        Channels of the hidden layers.

    Returns
    -------
    torch.nn.Module
        ``forward(x)`` returns ``(n, n_classes, h, w)`` logits.
    """
    torch = import_torch("SegmentationNet")
    nn = torch.nn

    class SegNet(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = [nn.Conv2d(in_channels, width // 2, 3, padding=1), nn.BatchNorm2d(width // 2),
                                 nn.ReLU(), nn.MaxPool2d(2)]
            prev = width // 2
            for d in (1, 2, 4, 8):
                layers += [nn.Conv2d(prev, width, 3, padding=d, dilation=d), nn.BatchNorm2d(width), nn.ReLU()]
                prev = width
            layers.append(nn.Conv2d(width, n_classes, 1))
            self.body = nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            out = self.body(x)
            return nn.functional.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)

    return SegNet()


def train_network(
    net: Any,
    inputs: np.ndarray,
    targets: np.ndarray,
    loss_fn: Callable[[Any, Any], Any],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    rng: np.random.Generator,
    weight_decay: float = 0.0,
) -> list[float]:
    """Mini-batch Adam over numpy arrays; returns the mean loss of every epoch.

    Parameters
    ----------
    net : torch.nn.Module
        Network to train (left in train mode).
    inputs, targets : ndarray
        Aligned along the first axis.
    loss_fn : callable
        ``loss_fn(net(x_batch), y_batch) -> scalar tensor``.
    epochs, batch_size : int
        Passes and batch size.
    lr, weight_decay : float
        Adam settings.
    rng : numpy Generator
        Shuffles the batches.
    """
    torch = import_torch("weaklab.vision training")
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    history = []
    net.train()
    for _ in range(epochs):
        order = rng.permutation(len(inputs))
        total = 0.0
        for lo in range(0, len(order), batch_size):
            rows = np.sort(order[lo: lo + batch_size])
            loss = loss_fn(net(torch.from_numpy(inputs[rows])), torch.from_numpy(targets[rows]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(rows)
        history.append(total / len(inputs))
    return history


def predict_batches(net: Any, inputs: np.ndarray, fn: Callable[[Any], Any], batch_size: int = 128) -> np.ndarray:
    """Apply ``fn(net, x_batch)`` (returning a tensor) batch by batch without gradients; numpy result."""
    torch = import_torch("weaklab.vision prediction")
    net.eval()
    parts = []
    with torch.no_grad():
        for lo in range(0, len(inputs), batch_size):
            parts.append(fn(torch.from_numpy(inputs[lo: lo + batch_size])).numpy())
    return np.concatenate(parts)
