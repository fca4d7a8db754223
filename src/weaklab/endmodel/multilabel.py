"""Multi-label end models: independent sigmoid outputs trained on soft binary targets.

Targets are per-label probabilities ``P(label applies)``, shape ``(n, K)``:
a :class:`~weaklab.MultiLabelSoftLabels` from a multi-label label model, a
float array, or 0/1 indicators. ``NaN`` marks an unknown (item, label)
target, which is left out of the loss.

- :class:`MultiLabelTorchClassifier`: one network with ``K`` sigmoid
  outputs, binary cross-entropy on the soft targets (torch; imported when
  fitting).
- :class:`MultiLabelSoftClassifier`: one scikit-learn classifier per label,
  each trained by :class:`~weaklab.endmodel.SoftLabelClassifier` on the
  label's ``[1 - p, p]`` soft targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone

from .._core import MultiLabelSoftLabels
from .._core.validation import check_float, check_int, check_random_state, fail
from ..errors import NotFittedError
from ._features import as_features
from ._torch import import_torch
from .networks import make_mlp
from .soft_label import SoftLabelClassifier

__all__ = ["MultiLabelTorchClassifier", "MultiLabelSoftClassifier", "multilabel_targets"]


def multilabel_targets(y: Any, n_items: int) -> np.ndarray:
    """Check multi-label targets and return them as an ``(n, K)`` float64 array (NaN = unknown).

    Parameters
    ----------
    y : MultiLabelSoftLabels or array-like of shape (n, K)
        Probabilities in ``[0, 1]`` (or 0/1 indicators); NaN where unknown.
    n_items : int
        Rows expected (the rows of ``X``).

    Examples
    --------
    >>> multilabel_targets([[1, 0], [0.5, float("nan")]], 2).tolist()
    [[1.0, 0.0], [0.5, nan]]
    """
    arr = y.proba if isinstance(y, MultiLabelSoftLabels) else y
    try:
        out = np.array(arr, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail("y", "an (n_items, n_labels) array of probabilities or a MultiLabelSoftLabels", y) from None
    if out.ndim != 2 or out.shape[1] == 0:
        raise fail("y", "an (n_items, n_labels) array of probabilities or a MultiLabelSoftLabels", out)
    if out.shape[0] != n_items:
        raise fail("y", f"targets for the {n_items} rows of X", got_text=f"{out.shape[0]} rows")
    known = out[~np.isnan(out)]
    if np.isinf(known).any() or (known.size and (known.min() < 0.0 or known.max() > 1.0)):
        raise fail("y", "probabilities in [0, 1] (NaN = unknown)", got_text="values outside [0, 1]")
    if known.size == 0:
        raise fail("y", "at least one known target", got_text="only NaN")
    return out


class _MultiLabelBase(BaseEstimator):
    """Thresholding shared by the multi-label end models."""

    def predict(self, X: Any, threshold: float = 0.5) -> np.ndarray:
        """Hard labels ``(n, K)`` int8: 1 where ``predict_proba`` is at least ``threshold``."""
        t = check_float("threshold", threshold, low=0.0, high=1.0)
        return (self.predict_proba(X) >= t).astype(np.int8)

    def predict_proba(self, X: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_labels_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(X, y) before using it.")


class MultiLabelTorchClassifier(_MultiLabelBase):
    """A torch network with one sigmoid output per label, trained on soft binary targets.

    Parameters
    ----------
    module : callable, optional
        ``module(input_shape, n_labels) -> torch.nn.Module`` mapping a batch
        to ``(batch, n_labels)`` logits; default ``make_mlp()``.
    n_epochs : int, default=20
    batch_size : int, default=64
    lr : float, default=1e-3
        Adam learning rate.
    weight_decay : float, default=0.0
    device : str, default="cpu"
    random_state : int, numpy Generator or None, default=None
        Seeds initialisation and shuffling.

    Attributes
    ----------
    network_ : torch.nn.Module
        The trained network, in eval mode.
    n_labels_ : int
    input_shape_ : tuple of int
    history_ : list of dict
        Per epoch: ``epoch`` and ``loss`` (mean binary cross-entropy over known targets).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    >>> y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(float)
    >>> model = MultiLabelTorchClassifier(n_epochs=2, random_state=0).fit(X, y)  # doctest: +SKIP
    >>> model.predict_proba(X).shape  # doctest: +SKIP
    (64, 2)
    """

    def __init__(self, module: Any = None, *, n_epochs: int = 20, batch_size: int = 64, lr: float = 1e-3,
                 weight_decay: float = 0.0, device: str = "cpu", random_state: Any = None) -> None:
        self.module = module
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> MultiLabelTorchClassifier:
        """Train on features ``X`` ``(n, d)`` (dense or sparse) and targets ``y`` ``(n, K)``.

        Returns
        -------
        self
        """
        torch = import_torch("MultiLabelTorchClassifier")
        epochs = check_int("n_epochs", self.n_epochs, low=1)
        batch = check_int("batch_size", self.batch_size, low=1)
        check_float("lr", self.lr, low=0.0, low_open=True)
        check_float("weight_decay", self.weight_decay, low=0.0)
        X_arr = as_features(X, "X")
        targets = multilabel_targets(y, int(X_arr.shape[0]))
        input_shape = tuple(int(s) for s in X_arr.shape[1:])
        seed = int(check_random_state(self.random_state).integers(2**31 - 1))
        builder = make_mlp() if self.module is None else self.module
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = builder(input_shape, targets.shape[1]).to(self.device)
            history = _train_sigmoid(net, X_arr, targets, epochs, batch, self, np.random.default_rng(seed))
        self.network_ = net
        self.n_labels_ = int(targets.shape[1])
        self.input_shape_ = input_shape
        self.history_ = history
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """``P(label applies)`` per item and label, shape ``(n, K)``."""
        self._check_fitted()
        torch = import_torch("MultiLabelTorchClassifier")
        from ._trainer import batch_tensor

        X_arr = as_features(X, "X")
        if tuple(int(s) for s in X_arr.shape[1:]) != self.input_shape_:
            raise fail("X", f"items of shape {self.input_shape_} (as fitted)", got_text=f"{X_arr.shape[1:]}")
        out = []
        with torch.no_grad():
            for start in range(0, int(X_arr.shape[0]), 1024):
                x = batch_tensor(X_arr, slice(start, start + 1024), self.device)
                out.append(torch.sigmoid(self.network_(x)).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.n_labels_))


def _train_sigmoid(net: Any, X: Any, targets: np.ndarray, epochs: int, batch: int, params: Any,
                   rng: np.random.Generator) -> list[dict[str, Any]]:
    """Adam on the binary cross-entropy of the known targets; returns the per-epoch history."""
    import torch

    from ._trainer import batch_tensor

    known = ~np.isnan(targets)
    filled = np.where(known, targets, 0.0).astype(np.float32)
    optimizer = torch.optim.Adam(net.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    history = []
    n = targets.shape[0]
    for epoch in range(epochs):
        net.train()
        losses = []
        for rows in np.array_split(rng.permutation(n), max(1, -(-n // batch))):
            logits = net(batch_tensor(X, rows, params.device))
            t = torch.from_numpy(filled[rows]).to(params.device)
            mask = torch.from_numpy(known[rows].astype(np.float32)).to(params.device)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, t, weight=mask, reduction="sum")
            loss = loss / mask.sum().clamp(min=1.0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        history.append({"epoch": epoch, "loss": float(np.mean(losses))})
    net.eval()
    return history


class MultiLabelSoftClassifier(_MultiLabelBase):
    """One scikit-learn classifier per label, trained on that label's soft targets.

    Each label ``l`` trains ``SoftLabelClassifier(estimator)`` on the items
    whose target is known, with soft labels ``[1 - p_l, p_l]``. A label whose
    known targets are all 0 or all 1 gets that constant probability.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Any classifier whose ``fit`` accepts ``sample_weight``; cloned per label.

    Attributes
    ----------
    estimators_ : list
        The fitted :class:`SoftLabelClassifier` of each label, or a float
        (the constant probability) for a label with constant targets.
    n_labels_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(80, 3))
    >>> y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(float)
    >>> model = MultiLabelSoftClassifier(LogisticRegression()).fit(X, y)
    >>> model.predict(X).shape
    (80, 2)
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any) -> MultiLabelSoftClassifier:
        """Fit one classifier per label on features ``X`` and targets ``y`` ``(n, K)``.

        Returns
        -------
        self
        """
        n = int(X.shape[0]) if hasattr(X, "shape") else len(X)
        targets = multilabel_targets(y, n)
        estimators: list[Any] = []
        for j in range(targets.shape[1]):
            p = targets[:, j]
            rows = np.flatnonzero(~np.isnan(p))
            if rows.size == 0 or (np.all(p[rows] == p[rows][0]) and p[rows][0] in (0.0, 1.0)):
                estimators.append(float(p[rows][0]) if rows.size else float(np.nanmean(targets)))
                continue
            soft = np.column_stack([1.0 - p[rows], p[rows]])
            model = SoftLabelClassifier(clone(self.estimator), classes=[0, 1])
            estimators.append(model.fit(X[rows], soft))
        self.estimators_ = estimators
        self.n_labels_ = targets.shape[1]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """``P(label applies)`` per item and label, shape ``(n, K)``."""
        self._check_fitted()
        n = int(X.shape[0]) if hasattr(X, "shape") else len(X)
        out = np.empty((n, self.n_labels_))
        for j, est in enumerate(self.estimators_):
            out[:, j] = est if isinstance(est, float) else est.predict_proba(X)[:, 1]
        return out
