"""Attention-based deep multiple-instance learning (Ilse, Tomczak & Welling, ICML 2018).

A bag is positive when at least one of its instances is. :class:`AttentionMIL` learns from bag labels
only; its instance scores (attention weights, or instance predictions for mean/max pooling) say which
instances made a bag positive, and :func:`~weaklab.vision.instance_label_matrix` turns them into weak
instance labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.constants import STATE_SCHEMA_VERSION
from .._core.state import check_state, state_params, to_jsonable
from .._core.validation import (
    check_random_state,
    fail,
    instance_of,
    interval,
    optional,
    options,
    validate_params,
)
from ..errors import NotFittedError
from .bags import as_bags, check_bag_labels, flatten_bags
from .mil_network import POOLINGS, build_mil_network
from .torch_import import import_torch, seeded_torch

__all__ = ["AttentionMIL"]

_PARAMS = {
    "pooling": options(*POOLINGS),
    "attention_dim": interval(int, 1, None),
    "dropout": interval(float, 0.0, 1.0, high_open=True),
    "lr": interval(float, 0.0, None, low_open=True),
    "weight_decay": interval(float, 0.0, None),
    "max_epochs": interval(int, 1, None),
    "batch_bags": interval(int, 1, None),
    "standardize": instance_of(bool),
    "random_state": optional(instance_of(int, np.random.Generator)),
}


class AttentionMIL:
    """Deep multiple-instance classifier with attention, gated-attention, mean or max pooling.

    Parameters
    ----------
    pooling : {"gated", "attention", "mean", "max"}, default "gated"
        Bag pooling of the instance embeddings: attention weights ``softmax(w^T tanh(V h))``, the gated
        form ``softmax(w^T (tanh(V h) * sigmoid(U h)))``, or the embedding-level mean / max baselines.
    random_state : int, numpy Generator or None, default None
        Seeds weight initialisation, dropout and bag shuffling.
    hidden : tuple of int, default (256, 128)
        Widths of the MLP instance encoder for feature vectors. For image instances (``(n_i, h, w)``
        bags) the encoder is the LeNet-style CNN of the paper and ``hidden[-1]`` is its dense width
        (the paper uses 500).
    attention_dim : int, default 64
        Width ``L`` of the attention branch.
    dropout : float, default 0.1
        Dropout after each encoder layer.
    lr : float, default 5e-4
        Adam learning rate (the paper's).
    weight_decay : float, default 1e-4
        Adam weight decay (the paper's MNIST-bags value).
    max_epochs : int, default 30
        Passes over the training bags.
    batch_bags : int, default 8
        Bags per optimiser step (the paper uses 1; 8 keeps CPU training short).
    standardize : bool, default True
        Scale each feature of vector instances to zero mean, unit variance over the training instances
        (image instances are left as they are).

    Attributes
    ----------
    instance_shape_ : tuple of int
        Shape of one instance.
    mean_, scale_ : ndarray
        Standardisation of vector instances (zeros and ones when off or for images).
    network_ : torch.nn.Module
        The fitted network (eval mode).
    loss_history_ : list of float
        Mean training loss of every epoch.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> bags = [rng.normal(size=(4, 3)) for _ in range(20)]
    >>> y = np.array([i % 2 for i in range(20)])
    >>> for bag, label in zip(bags, y):
    ...     bag[0, 0] += 4.0 * label
    >>> model = AttentionMIL(pooling="attention", max_epochs=5, random_state=0).fit(bags, y)
    >>> model.predict_proba(bags).shape
    (20, 2)
    >>> len(model.instance_scores(bags)) == len(bags)
    True
    """

    def __init__(
        self,
        pooling: str = "gated",
        random_state: int | np.random.Generator | None = None,
        *,
        hidden: tuple[int, ...] = (256, 128),
        attention_dim: int = 64,
        dropout: float = 0.1,
        lr: float = 5e-4,
        weight_decay: float = 1e-4,
        max_epochs: int = 30,
        batch_bags: int = 8,
        standardize: bool = True,
    ) -> None:
        self.pooling = pooling
        self.random_state = random_state
        self.hidden = hidden
        self.attention_dim = attention_dim
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_bags = batch_bags
        self.standardize = standardize

    # ------------------------------------------------------------------ sklearn plumbing
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator (scikit-learn convention)."""
        names = ("pooling", "random_state", "hidden", "attention_dim", "dropout", "lr", "weight_decay",
                 "max_epochs", "batch_bags", "standardize")
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> AttentionMIL:
        """Set parameters (scikit-learn convention); returns self."""
        for name, value in params.items():
            if name not in self.get_params():
                raise fail("params", f"parameters of AttentionMIL {sorted(self.get_params())}", got_text=repr(name))
            setattr(self, name, value)
        return self

    def _check_params(self) -> None:
        validate_params(self, _PARAMS)
        hidden = self.hidden
        if not isinstance(hidden, (tuple, list)) or not all(
            isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h > 0 for h in hidden
        ):
            raise fail("hidden", "a tuple of positive ints", hidden)

    # ------------------------------------------------------------------ fit / predict
    def fit(self, bags: Any, y: Any, *, bag_ids: Any = None) -> AttentionMIL:
        """Fit on bags with binary bag labels.

        Parameters
        ----------
        bags : list of array-like
            ``(n_i, d)`` feature vectors or ``(n_i, h, w)`` images per bag; or all instances stacked,
            with ``bag_ids``.
        y : array-like of shape (n_bags,)
            Bag labels, 0 or 1 (bags ordered as in ``bags``, or by first appearance in ``bag_ids``).
        bag_ids : array-like of shape (n_instances,), optional
            Bag of each instance when ``bags`` is a stacked array.

        Returns
        -------
        AttentionMIL
            ``self``, fitted.
        """
        self._check_params()
        data = as_bags(bags, bag_ids)
        labels = check_bag_labels(y, len(data))
        rng = check_random_state(self.random_state)
        self.instance_shape_ = tuple(int(s) for s in data[0].shape[1:])
        X, index = flatten_bags(data)
        self._fit_scaler(X)
        seed = int(rng.integers(2**31 - 1))
        with seeded_torch(seed, "AttentionMIL") as torch:
            net = self._new_network()
            self.loss_history_ = self._train(torch, net, self._scale(X), index, labels, rng)
        net.eval()
        self.network_ = net
        return self

    def _new_network(self) -> Any:
        return build_mil_network(self.instance_shape_, pooling=self.pooling, hidden=tuple(self.hidden),
                                 attention_dim=self.attention_dim, dropout=self.dropout)

    def _fit_scaler(self, X: np.ndarray) -> None:
        width = X.shape[1] if X.ndim == 2 else 1
        self.mean_, self.scale_ = np.zeros(width, np.float32), np.ones(width, np.float32)
        if self.standardize and X.ndim == 2:
            self.mean_ = X.mean(axis=0).astype(np.float32)
            self.scale_ = (X.std(axis=0) + 1e-6).astype(np.float32)

    def _scale(self, X: np.ndarray) -> np.ndarray:
        if X.ndim != 2:
            return X
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    def _train(self, torch: Any, net: Any, X: np.ndarray, index: np.ndarray, y: np.ndarray,
               rng: np.random.Generator) -> list[float]:
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, betas=(0.9, 0.999), weight_decay=self.weight_decay)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        starts = np.concatenate([[0], np.cumsum(np.bincount(index))])
        history = []
        net.train()
        for _ in range(self.max_epochs):
            order = rng.permutation(len(y))
            total = 0.0
            for lo in range(0, len(order), self.batch_bags):
                chosen = order[lo: lo + self.batch_bags]
                rows = np.concatenate([np.arange(starts[b], starts[b + 1]) for b in chosen])
                local = np.repeat(np.arange(len(chosen)), starts[chosen + 1] - starts[chosen])
                logits, _ = net(torch.from_numpy(X[rows]), torch.from_numpy(local), len(chosen))
                loss = loss_fn(logits, torch.from_numpy(y[chosen].astype(np.float32)))
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(chosen)
            history.append(total / len(y))
        return history

    def _forward(self, bags: Any, bag_ids: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not hasattr(self, "network_"):
            raise NotFittedError("AttentionMIL is not fitted yet; call fit(bags, y) first")
        data = as_bags(bags, bag_ids)
        shape = tuple(int(s) for s in data[0].shape[1:])
        if shape != self.instance_shape_:
            raise fail("bags", f"instances of shape {self.instance_shape_} as in fit", got_text=f"shape {shape}")
        X, index = flatten_bags(data)
        torch = import_torch("AttentionMIL")
        logits_parts, score_parts = [], []
        with torch.no_grad():
            for lo in range(0, len(data), 256):
                sel = (index >= lo) & (index < lo + 256)
                logits, scores = self.network_(torch.from_numpy(self._scale(X[sel])),
                                               torch.from_numpy(index[sel] - lo), min(256, len(data) - lo))
                logits_parts.append(logits.numpy())
                score_parts.append(scores.numpy())
        return np.concatenate(logits_parts).astype(np.float64), np.concatenate(score_parts), index

    def decision_function(self, bags: Any, *, bag_ids: Any = None) -> np.ndarray:
        """Bag logits, shape ``(n_bags,)`` (positive means a positive bag)."""
        return self._forward(bags, bag_ids)[0]

    def predict_proba(self, bags: Any, *, bag_ids: Any = None) -> np.ndarray:
        """Bag class probabilities.

        Parameters
        ----------
        bags : list of array-like
            Bags as in :meth:`fit`.
        bag_ids : array-like, optional
            Bag of each instance when ``bags`` is a stacked array.

        Returns
        -------
        ndarray of shape (n_bags, 2)
            Columns: P(negative), P(positive); rows sum to 1.
        """
        p = 1.0 / (1.0 + np.exp(-self.decision_function(bags, bag_ids=bag_ids)))
        return np.column_stack([1.0 - p, p])

    def predict(self, bags: Any, *, bag_ids: Any = None) -> np.ndarray:
        """Bag labels (0/1), shape ``(n_bags,)``."""
        return (self.decision_function(bags, bag_ids=bag_ids) > 0).astype(np.int64)

    def instance_scores(self, bags: Any, *, bag_ids: Any = None) -> list[np.ndarray]:
        """Per-instance scores: attention weights (sum to 1 in a bag) or, for mean/max pooling, the bag
        classifier's probability applied to each instance alone.

        Parameters
        ----------
        bags : list of array-like
            Bags as in :meth:`fit`.
        bag_ids : array-like, optional
            Bag of each instance when ``bags`` is a stacked array.

        Returns
        -------
        list of ndarray
            One ``(n_i,)`` float array per bag.
        """
        _, scores, index = self._forward(bags, bag_ids)
        cuts = np.cumsum(np.bincount(index))[:-1]
        return [s.astype(np.float64) for s in np.split(scores, cuts)]

    # ------------------------------------------------------------------ state
    def to_state(self) -> dict[str, Any]:
        """JSON-able parameters plus weight arrays (no pickle); see :meth:`from_state`."""
        if not hasattr(self, "network_"):
            raise NotFittedError("AttentionMIL is not fitted yet; call fit(bags, y) first")
        params = self.get_params()
        arrays = {f"net/{k}": v.detach().cpu().numpy() for k, v in self.network_.state_dict().items()}
        arrays.update(mean_=self.mean_, scale_=self.scale_)
        attributes = {"instance_shape_": list(self.instance_shape_), "loss_history_": self.loss_history_}
        return {"schema_version": STATE_SCHEMA_VERSION, "class": "AttentionMIL", "module": "weaklab.vision",
                "params": state_params(params), "attributes": to_jsonable(attributes), "arrays": arrays}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> AttentionMIL:
        """Rebuild a fitted model from :meth:`to_state` output.

        Examples
        --------
        >>> import numpy as np
        >>> bags = [np.full((2, 1), float(i % 2)) for i in range(6)]
        >>> m = AttentionMIL(max_epochs=2, random_state=0).fit(bags, [i % 2 for i in range(6)])
        >>> twin = AttentionMIL.from_state(m.to_state())
        >>> bool(np.allclose(twin.predict_proba(bags), m.predict_proba(bags)))
        True
        """
        torch = import_torch("AttentionMIL")
        check_state(state, "AttentionMIL")
        params = dict(state["params"])
        params["hidden"] = tuple(params["hidden"])
        model = cls(**params)
        model._check_params()
        model.instance_shape_ = tuple(int(v) for v in state["attributes"]["instance_shape_"])
        model.loss_history_ = [float(v) for v in state["attributes"]["loss_history_"]]
        arrays = state["arrays"]
        model.mean_ = np.asarray(arrays["mean_"], np.float32)
        model.scale_ = np.asarray(arrays["scale_"], np.float32)
        net = model._new_network()
        weights = {k[4:]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("net/")}
        try:
            net.load_state_dict(weights)
        except RuntimeError:
            raise fail("state", "network weights matching the stored parameters",
                       got_text="weights of other names or shapes") from None
        net.eval()
        model.network_ = net
        return model
