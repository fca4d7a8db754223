"""Class activation maps from image-level labels: CAM (Zhou et al. 2016) and Grad-CAM (Selvaraju et al. 2017).

:class:`CAMClassifier` trains a global-average-pooling CNN on image-level labels (one class per image, or
several with a multi-hot matrix); its class activation map for class ``c`` is the classifier's weights of
``c`` applied to the last feature map, upsampled to the image. :func:`grad_cam` gives the gradient-weighted
map of any convolutional layer of any torch network.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.constants import STATE_SCHEMA_VERSION
from .._core.state import check_state, state_params
from .._core.validation import check_random_state, fail, instance_of, interval, optional, validate_params
from ..errors import NotFittedError
from .image_nets import as_image_batch, build_gap_cnn, predict_batches, train_network
from .torch_import import import_torch, seeded_torch

__all__ = ["CAMClassifier", "grad_cam"]

_PARAMS = {
    "n_pool": interval(int, 0, None),
    "batch_norm": instance_of(bool),
    "lr": interval(float, 0.0, None, low_open=True),
    "weight_decay": interval(float, 0.0, None),
    "max_epochs": interval(int, 1, None),
    "batch_size": interval(int, 1, None),
    "random_state": optional(instance_of(int, np.random.Generator)),
}


def _check_images(images: Any, name: str = "images") -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim not in (3, 4) or arr.shape[0] == 0 or not np.issubdtype(arr.dtype, np.number):
        raise fail(name, "a numeric (n, h, w) or (n, c, h, w) array of images", arr)
    return as_image_batch(arr)


def _check_image_labels(labels: Any, n: int, soft: bool = False) -> tuple[np.ndarray, bool]:
    arr = np.asarray(labels)
    if soft:
        if arr.ndim != 2 or len(arr) != n or not np.issubdtype(arr.dtype, np.number) or arr.shape[1] < 2 \
                or not np.all(np.isfinite(arr)) or arr.min() < 0 or not np.allclose(arr.sum(axis=1), 1.0, atol=1e-4):
            raise fail("labels", f"soft labels: an ({n}, n_classes) array of probabilities whose rows sum to 1", arr)
        return arr.astype(np.float32), False
    if arr.ndim == 1 and len(arr) == n and np.issubdtype(arr.dtype, np.integer) and arr.min() >= 0:
        return arr.astype(np.int64), False
    if arr.ndim == 2 and len(arr) == n and np.all(np.isin(arr, (0, 1))):
        return arr.astype(np.float32), True
    raise fail("labels", f"{n} class ids (n,) or a multi-hot (n, n_classes) 0/1 matrix", arr)


class CAMClassifier:
    """Global-average-pooling CNN trained on image-level labels, with class activation maps.

    Parameters
    ----------
    widths : tuple of int, default (16, 32, 64, 64)
        Channels of the 3x3 convolutions.
    n_pool : int, default 2
        Convolutions followed by 2x2 max pooling (the CAM has stride ``2 ** n_pool``).
    batch_norm : bool, default True
        Batch normalisation after every convolution (trains much faster on cluttered canvases).
    lr : float, default 2e-3
        Adam learning rate.
    weight_decay : float, default 0.0
        Adam weight decay.
    max_epochs : int, default 10
        Passes over the images.
    batch_size : int, default 16
        Images per step.
    random_state : int, numpy Generator or None, default None
        Seeds initialisation and shuffling.

    Attributes
    ----------
    n_classes_ : int
        Classes (the largest id + 1, or the columns of a multi-hot matrix).
    multilabel_ : bool
        Trained with sigmoid outputs (multi-hot labels) rather than a softmax.
    network_ : torch.nn.Module
        The fitted network (``features`` and ``classifier``).
    loss_history_ : list of float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((8, 16, 16)).astype(np.float32) * 0.1
    >>> y = np.array([0, 1] * 4)
    >>> X[y == 1, 4:8, 4:8] = 1.0
    >>> model = CAMClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> model.class_activation_maps(X).shape
    (8, 2, 16, 16)
    """

    def __init__(
        self,
        widths: tuple[int, ...] = (16, 32, 64, 64),
        n_pool: int = 2,
        *,
        batch_norm: bool = True,
        lr: float = 2e-3,
        weight_decay: float = 0.0,
        max_epochs: int = 10,
        batch_size: int = 16,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.widths = widths
        self.n_pool = n_pool
        self.batch_norm = batch_norm
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator (scikit-learn convention)."""
        names = ("widths", "n_pool", "batch_norm", "lr", "weight_decay", "max_epochs", "batch_size", "random_state")
        return {n: getattr(self, n) for n in names}

    def fit(self, images: Any, labels: Any, *, soft: bool = False) -> CAMClassifier:
        """Train on images with image-level labels.

        Parameters
        ----------
        images : array-like of shape (n, h, w) or (n, c, h, w)
            Float images.
        labels : array-like of shape (n,) or (n, n_classes)
            One class id per image, or a multi-hot matrix (an image may hold several classes); with
            ``soft=True``, class probabilities per image (weak or soft labels, rows sum to 1).
        soft : bool, default False
            Read ``labels`` as soft labels and train with the cross-entropy to them (a softmax model).

        Returns
        -------
        CAMClassifier
            ``self``, fitted.
        """
        validate_params(self, _PARAMS)
        if not isinstance(self.widths, (tuple, list)) or not self.widths or not all(
                isinstance(w, (int, np.integer)) and w > 0 for w in self.widths):
            raise fail("CAMClassifier(widths=...)", "a non-empty tuple of positive ints", self.widths)
        X = _check_images(images)
        y, multilabel = _check_image_labels(labels, len(X), soft=bool(soft))
        self.multilabel_ = multilabel
        self.n_classes_ = int(y.shape[1]) if (multilabel or soft) else int(y.max()) + 1
        rng = check_random_state(self.random_state)
        with seeded_torch(int(rng.integers(2**31 - 1)), "CAMClassifier") as torch:
            self.input_channels_ = int(X.shape[1])
            net = build_gap_cnn(X.shape[1], self.n_classes_, tuple(self.widths), self.n_pool,
                                self.batch_norm)
            loss = torch.nn.BCEWithLogitsLoss() if multilabel else torch.nn.CrossEntropyLoss()
            self.loss_history_ = train_network(net, X, y, loss, epochs=self.max_epochs, batch_size=self.batch_size,
                                               lr=self.lr, rng=rng, weight_decay=self.weight_decay)
        net.eval()
        self.network_ = net
        return self

    def _checked(self, images: Any) -> np.ndarray:
        if not hasattr(self, "network_"):
            raise NotFittedError("CAMClassifier is not fitted yet; call fit(images, labels) first")
        X = _check_images(images)
        if X.shape[1] != self.input_channels_:
            raise fail("images", f"{self.input_channels_} channel(s) as in fit", got_text=f"{X.shape[1]}")
        return X

    def predict_proba(self, images: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``: a softmax, or independent sigmoids when multi-label."""
        torch = import_torch("CAMClassifier")
        act = torch.sigmoid if self.multilabel_ else (lambda z: torch.softmax(z, dim=1))
        return predict_batches(self.network_, self._checked(images), lambda x: act(self.network_(x))).astype(
            np.float64)

    def transform(self, images: Any) -> np.ndarray:
        """The globally pooled last feature map: the image embedding the classifier reads.

        Parameters
        ----------
        images : array-like of shape (n, h, w) or (n, c, h, w)

        Returns
        -------
        ndarray of shape (n, widths[-1])
            float32 embeddings.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).random((4, 12, 12)).astype(np.float32)
        >>> CAMClassifier(widths=(4, 8), max_epochs=1, random_state=0).fit(X, [0, 1, 0, 1]).transform(X).shape
        (4, 8)
        """
        X = self._checked(images)
        return predict_batches(self.network_, X, lambda x: self.network_.features(x).mean(dim=(2, 3))).astype(
            np.float32)

    def class_activation_maps(self, images: Any, *, upsample: bool = True) -> np.ndarray:
        """Class activation maps of every class, upsampled (bilinear) to the image size.

        ``CAM_c(x, y) = sum_k w_{c,k} f_k(x, y)`` with ``f`` the last feature map and ``w`` the weights of
        the linear layer after global average pooling (the bias is left out).

        Parameters
        ----------
        images : array-like of shape (n, h, w) or (n, c, h, w)
        upsample : bool, default True
            Upsample to the image size; False keeps the feature map's resolution (``h / 2 ** n_pool``),
            the compact form to store.

        Returns
        -------
        ndarray of shape (n, n_classes, h, w)
            float32 maps (not normalised; may be negative).
        """
        torch = import_torch("CAMClassifier")
        X = self._checked(images)
        weight = self.network_.classifier.weight

        def maps(x: Any) -> Any:
            cams = torch.einsum("nkhw,ck->nchw", self.network_.features(x), weight)
            if not upsample:
                return cams
            return torch.nn.functional.interpolate(cams, size=x.shape[-2:], mode="bilinear", align_corners=False)

        return predict_batches(self.network_, X, maps).astype(np.float32)

    def to_state(self) -> dict[str, Any]:
        """The parameters and the fitted network's tensors as arrays (JSON and numpy, no pickle).

        :meth:`from_state` rebuilds the same network, which gives the same
        probabilities; ``weaklab.save_state`` writes it to a ``.json`` and an
        ``.npz`` file.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).random((4, 12, 12)).astype(np.float32)
        >>> model = CAMClassifier(widths=(4, 8), max_epochs=1, random_state=0).fit(X, [0, 1, 0, 1])
        >>> again = CAMClassifier.from_state(model.to_state())
        >>> bool(np.array_equal(again.predict_proba(X), model.predict_proba(X)))
        True
        """
        if not hasattr(self, "network_"):
            raise NotFittedError("CAMClassifier is not fitted yet; call fit(images, labels) first")
        arrays = {f"{_NETWORK}{name}": tensor.detach().cpu().numpy().copy()
                  for name, tensor in self.network_.state_dict().items()}
        return {"schema_version": STATE_SCHEMA_VERSION, "class": "CAMClassifier", "module": type(self).__module__,
                "params": state_params(self.get_params(deep=False)),
                "attributes": {"n_classes_": int(self.n_classes_), "multilabel_": bool(self.multilabel_),
                               "input_channels_": int(self.input_channels_),
                               "loss_history_": [float(v) for v in self.loss_history_]},
                "arrays": arrays}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CAMClassifier:
        """Rebuild a fitted classifier from :meth:`to_state` output (a ValidationError names a mismatch)."""
        check_state(state, "CAMClassifier")
        params = dict(state["params"])
        params["widths"] = tuple(int(w) for w in params.get("widths", ()))
        model = cls(**params)
        attributes = state["attributes"]
        model.n_classes_, model.multilabel_ = int(attributes["n_classes_"]), bool(attributes["multilabel_"])
        model.input_channels_ = int(attributes["input_channels_"])
        model.loss_history_ = [float(v) for v in attributes.get("loss_history_", [])]
        torch = import_torch("CAMClassifier")
        net = build_gap_cnn(model.input_channels_, model.n_classes_, model.widths, model.n_pool, model.batch_norm)
        tensors = {name[len(_NETWORK):]: torch.from_numpy(np.array(value))
                   for name, value in state["arrays"].items() if name.startswith(_NETWORK)}
        try:
            net.load_state_dict(tensors, strict=True)
        except (RuntimeError, KeyError) as exc:
            raise fail("state", "the network tensors of a CAMClassifier with these parameters",
                       got_text=str(exc).splitlines()[0]) from None
        net.eval()
        model.network_ = net
        return model


#: The prefix of the network's tensors among a state's arrays.
_NETWORK = "network."


def grad_cam(network: Any, images: Any, targets: Any, layer: Any, *, batch_size: int = 64) -> np.ndarray:
    """Grad-CAM maps of any convolutional layer of a torch classifier.

    ``map = ReLU(sum_k a_k A_k)`` where ``A`` is ``layer``'s output and ``a_k`` the spatial mean of the
    gradient of the target logit with respect to ``A_k``; upsampled (bilinear) to the image size.

    Parameters
    ----------
    network : torch.nn.Module
        Maps ``(n, c, h, w)`` images to ``(n, n_classes)`` logits.
    images : array-like of shape (n, h, w) or (n, c, h, w)
        Float images.
    targets : int or array-like of shape (n,)
        Class whose map is wanted, for all images or per image.
    layer : torch.nn.Module
        A module inside ``network`` with a ``(n, k, h', w')`` output.
    batch_size : int, default 64
        Images per forward/backward pass.

    Returns
    -------
    ndarray of shape (n, h, w)
        Non-negative float32 maps.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((4, 16, 16)).astype(np.float32)
    >>> model = CAMClassifier(max_epochs=1, random_state=0).fit(X, [0, 1, 0, 1])
    >>> grad_cam(model.network_, X, 1, model.network_.features).shape
    (4, 16, 16)
    """
    torch = import_torch("grad_cam")
    X = _check_images(images)
    t = np.broadcast_to(np.asarray(targets, dtype=np.int64), (len(X),))
    captured: dict[str, Any] = {}
    handle = layer.register_forward_hook(lambda _m, _i, out: captured.__setitem__("a", out))
    was_training = network.training
    network.eval()
    out = []
    try:
        for lo in range(0, len(X), batch_size):
            x = torch.from_numpy(X[lo: lo + batch_size])
            logits = network(x)
            act = captured["a"]
            chosen = logits.gather(1, torch.from_numpy(np.ascontiguousarray(t[lo: lo + batch_size]))[:, None]).sum()
            grads = torch.autograd.grad(chosen, act)[0]
            cam = torch.relu((grads.mean(dim=(2, 3), keepdim=True) * act).sum(dim=1, keepdim=True))
            cam = torch.nn.functional.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
            out.append(cam[:, 0].detach().numpy())
    finally:
        handle.remove()
        network.train(was_training)
    return np.concatenate(out).astype(np.float32)
