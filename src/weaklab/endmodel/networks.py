"""Network builders for :class:`~weaklab.endmodel.TorchClassifier`.

A *builder* is a callable ``builder(input_shape, n_classes) -> torch.nn.Module``
that returns a fresh, randomly initialised network mapping a batch of shape
``(batch, *input_shape)`` to logits ``(batch, n_classes)``. Builders are
plain, comparable objects (so ``clone`` and ``get_params`` work); torch is
imported only when a network is built.
"""

from __future__ import annotations

from typing import Any

from .._core.validation import check_choice, check_float, check_int, fail
from ._torch import import_torch

__all__ = ["make_mlp", "make_cnn", "MLPBuilder", "CNNBuilder"]


class _Builder:
    """Shared equality and repr of builders (their parameters are their identity)."""

    def _params(self) -> dict[str, Any]:
        return dict(vars(self))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._params() == other._params()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted((k, str(v)) for k, v in self._params().items()))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


class MLPBuilder(_Builder):
    """Builds a multi-layer perceptron ``Linear -> ReLU [-> Dropout]`` per hidden layer.

    Parameters
    ----------
    hidden_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` gives a linear (softmax-regression) model.
    dropout : float in [0, 1), default=0.0
    """

    def __init__(self, hidden_sizes: tuple[int, ...] = (100,), dropout: float = 0.0) -> None:
        self.hidden_sizes = tuple(check_int("hidden_sizes", h, low=1) for h in hidden_sizes)
        self.dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True)

    def __call__(self, input_shape: tuple[int, ...], n_classes: int) -> Any:
        torch = import_torch("make_mlp")
        if len(input_shape) != 1:
            raise fail(
                "X",
                "2-d features (n_items, n_features) for an MLP",
                got_text=f"items of shape {tuple(input_shape)}",
            )
        layers: list[Any] = []
        width = int(input_shape[0])
        for size in self.hidden_sizes:
            layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
            if self.dropout:
                layers.append(torch.nn.Dropout(self.dropout))
            width = size
        layers.append(torch.nn.Linear(width, n_classes))
        return torch.nn.Sequential(*layers)


class CNNBuilder(_Builder):
    """Builds a small CNN: ``Conv3x3 -> ReLU -> MaxPool2`` blocks, pooling, MLP head.

    Items are images of shape ``(channels, height, width)`` or ``(height, width)``.

    Parameters
    ----------
    channels : tuple of int, default=(16, 32)
        Output channels of each convolutional block.
    hidden : int, default=64
        Width of the hidden layer of the head (0 for none).
    dropout : float in [0, 1), default=0.0
        Dropout before the last layer.
    pooling : {"avg", "flatten"}, default="avg"
        ``"avg"``: global average pooling of the last block (any image
        size; the architecture class-activation maps need); ``"flatten"``:
        the last block's whole feature map feeds the head (keeps where
        things are; learns small images such as 28 x 28 digits in far fewer
        steps).
    """

    def __init__(self, channels: tuple[int, ...] = (16, 32), hidden: int = 64, dropout: float = 0.0,
                 pooling: str = "avg") -> None:
        self.channels = tuple(check_int("channels", c, low=1) for c in channels)
        self.hidden = check_int("hidden", hidden, low=0)
        self.dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True)
        self.pooling = check_choice("pooling", pooling, ("avg", "flatten"))

    def __call__(self, input_shape: tuple[int, ...], n_classes: int) -> Any:
        torch = import_torch("make_cnn")
        nn = torch.nn
        if len(input_shape) not in (2, 3):
            raise fail(
                "X",
                "images of shape (n, channels, height, width) or (n, height, width)",
                got_text=f"items of shape {tuple(input_shape)}",
            )
        layers: list[Any] = [nn.Unflatten(1, (1, *input_shape))] if len(input_shape) == 2 else []
        width = 1 if len(input_shape) == 2 else int(input_shape[0])
        h, w = int(input_shape[-2]), int(input_shape[-1])
        for c in self.channels:
            layers += [
                nn.Conv2d(width, c, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            width, h, w = c, -(-h // 2), -(-w // 2)
        if self.pooling == "avg":
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        else:
            layers.append(nn.Flatten())
            width = width * h * w
        if self.hidden:
            layers += [nn.Linear(width, self.hidden), nn.ReLU()]
            width = self.hidden
        if self.dropout:
            layers.append(nn.Dropout(self.dropout))
        layers.append(nn.Linear(width, n_classes))
        return nn.Sequential(*layers)


def make_mlp(hidden_sizes: tuple[int, ...] = (100,), *, dropout: float = 0.0) -> MLPBuilder:
    """A builder of MLPs for :class:`TorchClassifier` (``module=make_mlp((256, 64))``).

    Parameters
    ----------
    hidden_sizes : tuple of int, default=(100,)
    dropout : float in [0, 1), default=0.0

    Returns
    -------
    MLPBuilder

    Examples
    --------
    >>> from weaklab.endmodel import make_mlp
    >>> builder = make_mlp((32, 16), dropout=0.1)
    >>> network = builder((10,), 3)
    >>> [type(layer).__name__ for layer in network]
    ['Linear', 'ReLU', 'Dropout', 'Linear', 'ReLU', 'Dropout', 'Linear']
    """
    return MLPBuilder(tuple(hidden_sizes), dropout)


def make_cnn(channels: tuple[int, ...] = (16, 32), *, hidden: int = 64, dropout: float = 0.0,
             pooling: str = "avg") -> CNNBuilder:
    """A builder of small CNNs for images (``module=make_cnn()``, ``X`` of shape ``(n, C, H, W)``).

    Parameters
    ----------
    channels : tuple of int, default=(16, 32)
    hidden : int, default=64
    dropout : float in [0, 1), default=0.0
    pooling : {"avg", "flatten"}, default="avg"
        See :class:`CNNBuilder`.

    Returns
    -------
    CNNBuilder

    Examples
    --------
    >>> make_cnn((8, 16), hidden=32, pooling="flatten")
    CNNBuilder(channels=(8, 16), hidden=32, dropout=0.0, pooling='flatten')
    """
    return CNNBuilder(tuple(channels), hidden, dropout, pooling)
