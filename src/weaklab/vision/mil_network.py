"""The torch network behind :class:`~weaklab.vision.AttentionMIL` (built on demand; torch imported lazily).

An instance encoder (an MLP for feature vectors, a LeNet-style CNN for images) maps every instance to an
embedding; a pooling operator turns each bag's embeddings into one vector (attention, gated attention,
mean or max, Ilse et al. 2018); a linear layer gives the bag logit. Bags are processed as one flat batch
of instances with a bag index, so any number of bags of any sizes go through one forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .torch_import import import_torch

__all__ = ["build_mil_network", "POOLINGS"]

#: Pooling operators of AttentionMIL.
POOLINGS = ("attention", "gated", "mean", "max")


def _encoder(torch: Any, instance_shape: Sequence[int], hidden: Sequence[int], dropout: float) -> tuple[Any, int]:
    nn = torch.nn
    if len(instance_shape) == 1:
        layers: list[Any] = []
        width = int(instance_shape[0])
        for size in hidden:
            layers += [nn.Linear(width, int(size)), nn.ReLU(), nn.Dropout(dropout)]
            width = int(size)
        return nn.Sequential(*layers), width
    channels = 1 if len(instance_shape) == 2 else int(instance_shape[0])
    convs = nn.Sequential(
        nn.Conv2d(channels, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    )
    with torch.no_grad():
        flat = convs(torch.zeros(1, channels, *instance_shape[-2:])).shape[1]
    width = int(hidden[-1]) if hidden else 500
    return nn.Sequential(convs, nn.Linear(flat, width), nn.ReLU(), nn.Dropout(dropout)), width


def build_mil_network(
    instance_shape: Sequence[int],
    *,
    pooling: str,
    hidden: Sequence[int],
    attention_dim: int,
    dropout: float,
) -> Any:
    """Build the MIL network (a ``torch.nn.Module``).

    Parameters
    ----------
    instance_shape : sequence of int
        ``(d,)`` for feature vectors, ``(h, w)`` or ``(c, h, w)`` for images.
    pooling : {"attention", "gated", "mean", "max"}
        How a bag's instance embeddings become one vector.
    hidden : sequence of int
        Widths of the MLP encoder (feature vectors); for images only the last one is used (the width of
        the CNN's dense layer, 500 when empty).
    attention_dim : int
        Width ``L`` of the attention branch.
    dropout : float
        Dropout after each encoder layer.

    Returns
    -------
    torch.nn.Module
        Called as ``net(instances, bag_index, n_bags)``; returns ``(bag_logits, instance_scores)``.
    """
    torch = import_torch("AttentionMIL")
    nn = torch.nn

    class MILNet(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.channels_first = len(instance_shape) == 2
            self.encoder, width = _encoder(torch, instance_shape, hidden, dropout)
            self.classifier = nn.Linear(width, 1)
            if pooling in ("attention", "gated"):
                self.att_v = nn.Linear(width, attention_dim)
                self.att_w = nn.Linear(attention_dim, 1)
            if pooling == "gated":
                self.att_u = nn.Linear(width, attention_dim)

        def embed(self, x: Any) -> Any:
            return self.encoder(x.unsqueeze(1) if self.channels_first else x)

        def forward(self, x: Any, bag_index: Any, n_bags: int) -> tuple[Any, Any]:
            h = self.embed(x)
            if pooling in ("attention", "gated"):
                pooled, scores = self._attend(h, bag_index, n_bags)
            elif pooling == "mean":
                counts = torch.zeros(n_bags).index_add(0, bag_index, torch.ones(len(h)))
                pooled = torch.zeros(n_bags, h.shape[1]).index_add(0, bag_index, h) / counts[:, None]
                scores = torch.sigmoid(self.classifier(h).squeeze(1))
            else:
                index = bag_index[:, None].expand(-1, h.shape[1])
                pooled = torch.full((n_bags, h.shape[1]), -torch.inf).scatter_reduce(0, index, h, "amax")
                scores = torch.sigmoid(self.classifier(h).squeeze(1))
            return self.classifier(pooled).squeeze(1), scores

        def _attend(self, h: Any, bag_index: Any, n_bags: int) -> tuple[Any, Any]:
            gate = torch.tanh(self.att_v(h))
            if pooling == "gated":
                gate = gate * torch.sigmoid(self.att_u(h))
            a = self.att_w(gate).squeeze(1)
            top = torch.full((n_bags,), -torch.inf).scatter_reduce(0, bag_index, a, "amax")
            e = torch.exp(a - top[bag_index])
            weights = e / torch.zeros(n_bags).index_add(0, bag_index, e)[bag_index]
            pooled = torch.zeros(n_bags, h.shape[1]).index_add(0, bag_index, weights[:, None] * h)
            return pooled, weights

    return MILNet()
