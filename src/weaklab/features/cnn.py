"""Image embeddings from a small CNN trained locally on a labelled seed set (no downloaded weights).

Torch is imported when the embedder is fitted or used; without it the
error says ``pip install 'weaklab[vision]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator

from .._core.validation import check_float, check_int, check_random_state, fail
from ..errors import NotFittedError, missing_dependency
from .image import as_image_batch

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["CNNEmbedder"]


def _torch(feature: str) -> ModuleType:
    try:
        import torch
    except ImportError:
        raise missing_dependency("torch", "vision", feature) from None
    return torch


def _network(torch: Any, shape: tuple[int, ...], channels: tuple[int, ...], dim: int, n_classes: int) -> Any:
    """Conv3x3-ReLU-MaxPool blocks, the last map flattened into a ``dim``-wide embedding layer, a linear head."""
    nn = torch.nn
    layers: list[Any] = []
    width, h, w = shape
    for c in channels:
        layers += [nn.Conv2d(width, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
        width, h, w = c, -(-h // 2), -(-w // 2)
    layers += [nn.Flatten(), nn.Linear(width * h * w, dim), nn.ReLU()]
    return nn.ModuleDict({"body": nn.Sequential(*layers), "head": nn.Linear(dim, n_classes)})


class CNNEmbedder(BaseEstimator):
    """A small CNN trained on a labelled seed set; its penultimate layer embeds images.

    The network (``Conv3x3 -> ReLU -> MaxPool2`` per entry of ``channels``,
    the last feature map flattened into a ``dim``-wide ReLU layer, a linear
    head) is
    trained with Adam on cross-entropy from random initialisation, on CPU.
    :meth:`transform` gives the ``dim``-wide embedding (features for label
    models' sources, kNN or a linear model); :meth:`predict_proba` the head's
    class probabilities (a seed-set pre-labeller). The fitted weights are
    numpy arrays (``weights_``), so the model is fingerprinted by content and
    saved without pickle.

    Parameters
    ----------
    channels : tuple of int, default=(16, 32)
    dim : int, default=64
        Width of the embedding.
    n_epochs : int, default=10
    batch_size : int, default=64
    lr : float, default=3e-3
    weight_decay : float, default=1e-4
    random_state : int, Generator or None, default=None

    Attributes
    ----------
    classes_ : ndarray of shape (k,)
    weights_ : dict of str to ndarray
        The network's parameters.
    input_shape_ : tuple of int
        ``(C, H, W)`` of the training images.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 60, (40, 12, 12)).astype(np.uint8); y = np.arange(40) % 2
    >>> X[y == 1, 3:9, 3:9] = 255
    >>> emb = CNNEmbedder(channels=(8,), dim=8, n_epochs=50, lr=1e-2, random_state=0).fit(X, y)
    >>> emb.transform(X).shape, float((emb.predict(X) == y).mean()) > 0.9
    ((40, 8), True)
    """

    def __init__(self, channels: tuple[int, ...] = (16, 32), dim: int = 64, *, n_epochs: int = 10,
                 batch_size: int = 64, lr: float = 3e-3, weight_decay: float = 1e-4,
                 random_state: Any = None) -> None:
        self.channels = channels
        self.dim = dim
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.random_state = random_state

    def fit(self, images: Any, y: Any) -> CNNEmbedder:
        """Train on seed images (see :func:`as_image_batch`) and class labels ``y`` ``(n,)``.

        Returns
        -------
        self
        """
        torch = _torch("CNNEmbedder")
        X = as_image_batch(images)
        y_arr = np.asarray(y)
        if y_arr.shape != (X.shape[0],):
            raise fail("y", f"{X.shape[0]} class labels (one per image)", y_arr)
        classes, target = np.unique(y_arr, return_inverse=True)
        if classes.size < 2:
            raise fail("y", "labels of at least two classes", got_text=f"{classes.size} class")
        channels = tuple(check_int("channels", c, low=1) for c in self.channels)
        n_epochs = check_int("n_epochs", self.n_epochs, low=1)
        batch = check_int("batch_size", self.batch_size, low=1)
        lr = check_float("lr", self.lr, low=0.0, low_open=True)
        decay = check_float("weight_decay", self.weight_decay, low=0.0)
        seed = int(check_random_state(self.random_state).integers(2**31 - 1))
        rng = np.random.default_rng(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            shape = (int(X.shape[1]), int(X.shape[2]), int(X.shape[3]))
            net = _network(torch, shape, channels, check_int("dim", self.dim, low=1), classes.size)
            opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=decay)
            xt, yt = torch.from_numpy(X), torch.from_numpy(target.astype(np.int64))
            net.train()
            for _ in range(n_epochs):
                order = torch.from_numpy(rng.permutation(X.shape[0]))
                for start in range(0, X.shape[0], batch):
                    rows = order[start:start + batch]
                    loss = torch.nn.functional.cross_entropy(net["head"](net["body"](xt[rows])), yt[rows])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
        net.eval()
        self.classes_ = classes
        self.input_shape_ = tuple(int(s) for s in X.shape[1:])
        self.weights_ = {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}
        self._net = net
        return self

    def _module(self) -> Any:
        if not hasattr(self, "weights_"):
            raise NotFittedError("CNNEmbedder: expected a fitted embedder (call fit first), got an unfitted one")
        net = getattr(self, "_net", None)
        if net is None:
            torch = _torch("CNNEmbedder")
            net = _network(torch, self.input_shape_, tuple(self.channels), int(self.dim), self.classes_.size)
            net.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in self.weights_.items()})
            net.eval()
            self._net = net
        return net

    def _forward(self, images: Any, head: bool) -> np.ndarray:
        torch = _torch("CNNEmbedder")
        net = self._module()
        X = as_image_batch(images)
        if X.shape[1:] != self.input_shape_:
            raise fail("images", f"images of shape {self.input_shape_} (C, H, W) as in fit",
                       got_text=f"shape {X.shape[1:]}")
        out = []
        with torch.no_grad():
            for start in range(0, X.shape[0], 512):
                z = net["body"](torch.from_numpy(X[start:start + 512]))
                out.append((torch.softmax(net["head"](z), dim=1) if head else z).double().numpy())
        width = self.classes_.size if head else int(self.dim)
        return np.concatenate(out) if out else np.zeros((0, width))

    def transform(self, images: Any) -> np.ndarray:
        """Embeddings ``(n, dim)`` (float64) of ``images``."""
        return self._forward(images, head=False)

    def predict_proba(self, images: Any) -> np.ndarray:
        """Class probabilities ``(n, k)`` in ``classes_`` order."""
        return self._forward(images, head=True)

    def predict(self, images: Any) -> np.ndarray:
        """The most probable class of each image."""
        return self.classes_[self.predict_proba(images).argmax(axis=1)]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(vars(self))
        state.pop("_net", None)  # rebuilt from weights_; keeps fingerprints content-based
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
