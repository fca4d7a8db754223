"""A scikit-learn compatible torch classifier for soft, noisy labels.

Importing this module does not import torch; fitting does, and raises
:class:`~weaklab.errors.MissingDependencyError` with an install hint
(``pip install 'weaklab[torch]'``) when torch is absent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin

from .._core.validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_random_state,
    fail,
)
from ._features import as_features as _as_features
from ._features import check_loss_params as _check_loss_params
from ._targets import ProbaClassifierMixin, as_weights, check_fitted, encode_targets, require_y
from ._torch import import_torch
from ._torch_state import model_from_state, model_to_state
from .correction import CorrectionLog
from .imprecise import IMPRECISE_TYPES
from .networks import make_mlp

__all__ = ["TorchClassifier", "LOSS_NAMES"]

LOSS_NAMES = ("ce", "label_smoothing", "gce", "sce", "bootstrap_soft", "bootstrap_hard", "elr", "forward")


class TorchClassifier(ProbaClassifierMixin, ClassifierMixin, BaseEstimator):
    """Train a torch network on soft or hard noisy labels with a noise-robust recipe.

    Parameters
    ----------
    module : callable, optional
        ``module(input_shape, n_classes) -> torch.nn.Module`` returning a fresh
        network that maps ``(batch, *input_shape)`` to logits
        ``(batch, n_classes)``. Default: ``make_mlp()`` (one hidden layer of
        100 units); ``make_cnn()`` for images.
    loss : str, default="ce"
        ``"ce"`` (soft cross-entropy), ``"label_smoothing"``, ``"gce"``,
        ``"sce"``, ``"bootstrap_soft"``, ``"bootstrap_hard"``, ``"elr"`` or
        ``"forward"`` (see :mod:`weaklab.endmodel.losses`).
    loss_params : dict, optional
        Parameters of the loss: ``smoothing`` (label_smoothing, 0.1); ``q``
        (gce, 0.7); ``alpha``, ``beta``, ``log_zero`` (sce, 0.1, 1.0, -4);
        ``beta`` (bootstrap_soft 0.95, bootstrap_hard 0.8); ``lam``, ``beta``
        (elr, 3.0, 0.7); ``transition`` (forward: a ``(k, k)`` matrix
        ``P(noisy j | true i)``; when absent it is estimated by anchor points,
        at ``quantile`` (0.97), from out-of-fold probabilities of ``folds`` (3)
        cross-entropy networks).
    n_epochs : int, default=20
    batch_size : int, default=64
    lr : float, default=1e-3
        Adam learning rate.
    weight_decay : float, default=0.0
    confidence_weighting : bool, default=False
        Multiply each item's weight by the largest probability of its label.
    curriculum : float in (0, 1], optional
        Start with this fraction of the most confident labelled items and grow
        the pool linearly each epoch to all items by epoch ``n_epochs // 2``.
    co_teaching : bool, default=False
        Train two networks; each updates on the small-loss items of its peer
        (Han et al. 2018). ``predict_proba`` averages both.
    forget_rate : float in [0, 1) or "auto", default="auto"
        Co-teaching: fraction of each batch discarded once the schedule is at
        full strength; Han et al. (2018) set it to the noise rate. ``"auto"``
        estimates the noise rate from the labels before training
        (:func:`~weaklab.endmodel.anchor_noise_rate` on out-of-fold
        probabilities of two cross-entropy networks stopped early on their
        held fold: near 0 on clean labels) and spreads it over the given
        classes (each capped at 0.8; stored in ``class_forget_rates_``): when
        uniform noise explains the class shares, each class forgets what
        keeps the true shares (:func:`~weaklab.endmodel.uniform_noise_prior`,
        :func:`~weaklab.endmodel.prior_matched_forget_rates`), since with
        class imbalance the share of wrong labels differs widely between the
        given classes. Items are discarded within each given class separately.
    forget_epochs : int, default=10
        Co-teaching: epochs over which the discarded fraction ramps up
        linearly from 0 (Han et al.'s ``T_k = 10``).
    sample_selection : {None, "cw_bass", "gmm", "cpc"}, default=None
        From epoch ``warmup_epochs`` on, re-weight the labelled items every
        epoch from the model's probability ``c`` of each item's label
        (functions in :mod:`weaklab.endmodel.selection`):
        ``"cw_bass"``: weight ``c`` above a class-wise dynamic threshold (a
        running class mean of ``c``), decaying to 0 below it over half of the
        remaining epochs (CW-BASS); ``"gmm"``: keep the items above a per-class
        threshold at the boundary of a two-component Gaussian mixture on ``c``
        (Consistent-Teacher); ``"cpc"``: keep the clean side of CPC's
        class-aware split (per-class mixture on the losses averaged with the
        agreement of the label and the nearest class prototype in the
        network's last hidden layer).
    correction_rounds : int, default=0
        Alternating label correction and retraining: before the final
        training, this many rounds of (train on 2 folds with this recipe,
        relabel the items whose held-out prediction is another class with
        enough probability, see :func:`~weaklab.endmodel.relabel_from_predictions`).
        The changes are in ``correction_log_``.
    correction_threshold : float in (0.5, 1], optional
        A fixed probability threshold for the corrections; by default each
        class's threshold is its mean held-out probability over the items
        labelled with it.
    self_training : {None, "fixed", "adaptive"}, default=None
        Pseudo-label unlabelled items (rows of ``y`` that are unlabelled, and
        ``X_unlabeled``) whose confidence reaches ``pseudo_threshold``
        (``"fixed"``) or a FlexMatch-like class-adaptive threshold
        (``"adaptive"``: ``pseudo_threshold * b / (2 - b)`` with ``b`` a class's
        count of confident predictions over the best class's count, see
        :func:`class_adaptive_thresholds` with ``warmup=False``; without
        FlexMatch's consistency training its warm-up term accepted every
        item early and hurt), re-chosen every epoch after ``warmup_epochs``.
        Pseudo-labelled items are trained with cross-entropy.
    pseudo_threshold : float in (0, 1], default=0.95
    pseudo_weight : float >= 0, default=1.0
    warmup_epochs : int, optional
        Epochs before self-training starts; default ``n_epochs // 4``.
    patience : int, default=5
        With a dev split: stop after this many epochs without a better dev
        accuracy (counted once co-teaching's ramp or the warm-up of
        ``sample_selection`` is over), and keep the best epoch's weights.
    validation_fraction : float in (0, 1), optional
        Without ``validation_data``, hold out this stratified share of the
        labelled items with their given (noisy) labels as the dev split for
        early stopping: under class-conditional noise the noisy accuracy
        peaks where the clean one does (Chen et al. 2019), before the
        network memorises the noise.
    classes : array-like of shape (k,), optional
        Known classes (see :class:`SoftLabelClassifier`).
    device : str, default="cpu"
    random_state : int, numpy Generator or None, default=None
        Seeds initialisation, shuffling and dropout (torch's generators are
        seeded locally for the duration of ``fit``).
    verbose : bool, default=False
        Show a progress bar.

    Attributes
    ----------
    networks_ : list of torch.nn.Module
        The trained network(s), in eval mode.
    classes_ : ndarray of shape (k,)
    n_features_in_ : int
        Features per item (2-d inputs only).
    input_shape_ : tuple of int
    transition_ : ndarray of shape (k, k)
        The noise-transition matrix used (``loss="forward"`` only).
    correction_log_ : CorrectionLog
        Label changes of the alternating correction loop (empty without it).
    forget_rate_ : float
        Co-teaching's forget rate, given or estimated (the class-size-weighted
        mean of ``class_forget_rates_``).
    class_forget_rates_ : ndarray of shape (k,)
        Co-teaching's forget rate per given class.
    history_ : list of dict
        Per epoch: ``loss``, ``n_items`` (labelled items in the pool),
        ``n_pseudo`` and, with a dev split, ``dev_accuracy`` and ``dev_nll``.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.endmodel import TorchClassifier, make_mlp
    >>> from weaklab.evaluation import inject_noise
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 5)).astype("float32")
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> noisy = inject_noise(y, "uniform", 0.3, random_state=0)
    >>> model = TorchClassifier(make_mlp((32,)), loss="gce", n_epochs=15, random_state=0).fit(X, noisy)
    >>> model.predict_proba(X[:3]).shape
    (3, 2)
    >>> float(np.mean(model.predict(X) == y)) > float(np.mean(noisy == y))  # better than the labels it learnt from
    True
    """

    def __init__(
        self,
        module: Any = None,
        *,
        loss: str = "ce",
        loss_params: dict[str, Any] | None = None,
        n_epochs: int = 20,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        confidence_weighting: bool = False,
        curriculum: float | None = None,
        co_teaching: bool = False,
        forget_rate: float | str = "auto",
        forget_epochs: int = 10,
        sample_selection: str | None = None,
        correction_rounds: int = 0,
        correction_threshold: float | None = None,
        self_training: str | None = None,
        pseudo_threshold: float = 0.95,
        pseudo_weight: float = 1.0,
        warmup_epochs: int | None = None,
        patience: int = 5,
        validation_fraction: float | None = None,
        classes: Any = None,
        device: str = "cpu",
        random_state: Any = None,
        verbose: bool = False,
    ) -> None:
        self.module = module
        self.loss = loss
        self.loss_params = loss_params
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.confidence_weighting = confidence_weighting
        self.curriculum = curriculum
        self.co_teaching = co_teaching
        self.forget_rate = forget_rate
        self.forget_epochs = forget_epochs
        self.sample_selection = sample_selection
        self.correction_rounds = correction_rounds
        self.correction_threshold = correction_threshold
        self.self_training = self_training
        self.pseudo_threshold = pseudo_threshold
        self.pseudo_weight = pseudo_weight
        self.warmup_epochs = warmup_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.classes = classes
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        validation_data: tuple[Any, Any] | None = None,
        X_unlabeled: Any = None,
    ) -> TorchClassifier:
        """Train on features ``X`` and soft ``(n, k)`` or hard ``(n,)`` labels ``y``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n, d), or (n, C, H, W) images
            Sparse rows are densified one batch at a time.
        y : array-like of shape (n, k) or (n,), or an imprecise-label container
            Soft labels (an all-NaN row is unlabelled) or hard labels (NaN,
            None or -1 is unlabelled). Or one of
            :class:`~weaklab.endmodel.LabelProportions` (DLLP bag loss),
            :class:`~weaklab.endmodel.CandidateLabels` (PRODEN),
            :class:`~weaklab.endmodel.ComplementaryLabels` (non-negative
            unbiased risk) or :class:`~weaklab.endmodel.CoarseLabels` (loss on
            the summed fine probabilities of the superclass); ``classes_`` is
            then ``classes`` or ``0 .. k - 1``, the ``loss`` parameter and the
            robust recipes do not apply, and ``sample_weight``,
            ``validation_data`` and ``X_unlabeled`` must be None.
        sample_weight : array-like of shape (n,), optional
            Per-item confidence weights for the labelled rows.
        validation_data : tuple (X_dev, y_dev), optional
            A gold dev split (hard labels among ``classes_``, or soft labels)
            for early stopping and best-epoch selection.
        X_unlabeled : array-like of shape (m, ...), optional
            Extra unlabelled items for self-training.

        Returns
        -------
        self
        """
        if isinstance(y, IMPRECISE_TYPES):
            extras = {"sample_weight": sample_weight, "validation_data": validation_data, "X_unlabeled": X_unlabeled}
            return self._fit_imprecise(X, y, extras)
        torch = import_torch("TorchClassifier")
        from ._fit_steps import (
            alternate_corrections,
            estimate_forget_rates,
            estimate_transition,
            hold_out_noisy_slice,
        )
        from ._trainer import train

        cfg = self._config()
        require_y(y, self)
        X_arr = _as_features(X, "X")
        proba, classes = encode_targets(y, X_arr.shape[0], classes=self.classes)
        data = self._train_data(X_arr, proba, as_weights(sample_weight, X_arr.shape[0]), X_unlabeled, classes)
        if validation_data is not None:
            data.dev = self._dev_split(validation_data, X_arr.shape[1:], classes)
        fraction = self._validation_fraction(validation_data)
        input_shape = tuple(int(s) for s in X_arr.shape[1:])
        seed = int(check_random_state(self.random_state).integers(2**31 - 1))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            rng = np.random.default_rng(seed)
            build = lambda: self._build(input_shape, len(classes))  # noqa: E731
            log = CorrectionLog.empty()
            if fraction is not None:
                data = hold_out_noisy_slice(data, fraction, rng)
            if cfg.co_teaching:
                estimated = estimate_forget_rates(build, data, cfg, rng) if cfg.forget_rate is None else None
                self._set_forget_rates(cfg, estimated, data.target)
            if self.correction_rounds:
                data.target, log = alternate_corrections(
                    build, data, cfg, rng, rounds=self.correction_rounds,
                    threshold=self.correction_threshold, rows=np.flatnonzero(~np.isnan(proba[:, 0])),
                )
            if cfg.loss == "forward":
                cfg.transition = estimate_transition(build, data, cfg, rng, self.loss_params or {})
            networks = [self._build(input_shape, len(classes)) for _ in range(2 if cfg.co_teaching else 1)]
            history = train(networks, data, cfg, rng)
        self.networks_ = networks
        self.classes_ = classes
        self.input_shape_ = input_shape
        if len(input_shape) == 1:
            self.n_features_in_ = input_shape[0]
        if cfg.loss == "forward":
            self.transition_ = cfg.transition.double().cpu().numpy()
        self.history_ = history
        self.correction_log_ = log
        if cfg.co_teaching:
            self.forget_rate_ = float(cfg.forget_rate)
            self.class_forget_rates_ = cfg.class_forget_rates
        return self

    def _validation_fraction(self, validation_data: Any) -> float | None:
        if self.validation_fraction is None:
            return None
        name = f"{type(self).__name__}(validation_fraction=...)"
        if validation_data is not None:
            raise fail(name, "None when validation_data is given", self.validation_fraction)
        return check_float(name, self.validation_fraction, low=0.0, high=1.0, low_open=True, high_open=True)

    @staticmethod
    def _set_forget_rates(cfg: Any, rates: np.ndarray | None, target: np.ndarray) -> None:
        """Per-class forget rates (estimated, or the given rate for every class) and their weighted mean."""
        counts = np.bincount(target.argmax(axis=1), minlength=target.shape[1]).astype(np.float64)
        if rates is None:
            rates = np.full(target.shape[1], float(cfg.forget_rate))
        cfg.class_forget_rates = rates
        cfg.forget_rate = float(rates @ counts / max(counts.sum(), 1.0))

    def _fit_imprecise(self, X: Any, y: Any, extras: dict[str, Any]) -> TorchClassifier:
        """Fit on an imprecise-label container with the loss of its form."""
        torch = import_torch("TorchClassifier")
        from .imprecise_losses import train_imprecise

        for name, value in extras.items():
            if value is not None:
                raise fail(name, f"None when y is {type(y).__name__}", value)
        cfg = self._config()
        for name in ("co_teaching", "self_training", "curriculum"):
            if getattr(self, name) not in (None, False):
                raise fail(name, f"None or False when y is {type(y).__name__}", getattr(self, name))
        X_arr = _as_features(X, "X")
        if X_arr.shape[0] != y.n_items:
            raise fail("y", f"labels for the {X_arr.shape[0]} rows of X", got_text=f"{y.n_items} items")
        classes = np.arange(y.n_classes) if self.classes is None else np.asarray(self.classes)
        if classes.shape != (y.n_classes,):
            raise fail("classes", f"{y.n_classes} classes as in y", classes)
        if not sp.issparse(X_arr):
            X_arr = np.asarray(X_arr, dtype=np.float32)
        input_shape = tuple(int(s) for s in X_arr.shape[1:])
        seed = int(check_random_state(self.random_state).integers(2**31 - 1))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = self._build(input_shape, y.n_classes)
            self.history_ = train_imprecise(net, X_arr, y, cfg, np.random.default_rng(seed))
        self.networks_ = [net]
        self.classes_ = classes
        self.input_shape_ = input_shape
        if len(input_shape) == 1:
            self.n_features_in_ = input_shape[0]
        return self

    def _config(self) -> Any:
        from ._trainer import TrainConfig

        name = type(self).__name__
        p = f"{name}("
        loss = check_choice(f"{p}loss=...)", self.loss, LOSS_NAMES)
        st = check_choice(f"{p}self_training=...)", self.self_training, (None, "fixed", "adaptive"))
        n_epochs = check_int(f"{p}n_epochs=...)", self.n_epochs, low=1)
        curriculum = (
            None
            if self.curriculum is None
            else check_float(f"{p}curriculum=...)", self.curriculum, low=0.0, high=1.0, low_open=True)
        )
        warmup = (
            n_epochs // 4
            if self.warmup_epochs is None
            else check_int(f"{p}warmup_epochs=...)", self.warmup_epochs, low=0)
        )
        if self.module is not None and not callable(self.module):
            raise fail(
                f"{p}module=...)", "a callable (input_shape, n_classes) -> torch.nn.Module", self.module
            )
        if not isinstance(self.device, str):
            raise fail(f"{p}device=...)", "a torch device name such as 'cpu' or 'cuda:0'", self.device)
        check_bool(f"{p}confidence_weighting=...)", self.confidence_weighting)
        check_int(f"{p}correction_rounds=...)", self.correction_rounds, low=0)
        if self.correction_threshold is not None:
            check_float(f"{p}correction_threshold=...)", self.correction_threshold, low=0.5, high=1.0, low_open=True)
        return TrainConfig(
            loss=loss,
            loss_params=_check_loss_params(f"{p}loss_params=...)", loss, self.loss_params),
            n_epochs=n_epochs,
            batch_size=check_int(f"{p}batch_size=...)", self.batch_size, low=1),
            lr=check_float(f"{p}lr=...)", self.lr, low=0.0, low_open=True),
            weight_decay=check_float(f"{p}weight_decay=...)", self.weight_decay, low=0.0),
            co_teaching=check_bool(f"{p}co_teaching=...)", self.co_teaching),
            forget_rate=None
            if isinstance(self.forget_rate, str) and self.forget_rate == "auto"
            else check_float(f"{p}forget_rate=...)", self.forget_rate, low=0.0, high=1.0, high_open=True),
            sample_selection=check_choice(
                f"{p}sample_selection=...)", self.sample_selection, (None, "cw_bass", "gmm", "cpc")
            ),
            forget_epochs=check_int(f"{p}forget_epochs=...)", self.forget_epochs, low=0),
            curriculum=curriculum,
            self_training=st,
            pseudo_threshold=check_float(
                f"{p}pseudo_threshold=...)", self.pseudo_threshold, low=0.0, high=1.0, low_open=True
            ),
            pseudo_weight=check_float(f"{p}pseudo_weight=...)", self.pseudo_weight, low=0.0),
            warmup_epochs=warmup,
            patience=check_int(f"{p}patience=...)", self.patience, low=0),
            device=self.device,
            verbose=check_bool(f"{p}verbose=...)", self.verbose),
        )

    def _train_data(
        self, X: Any, proba: np.ndarray, weight: np.ndarray, X_unlabeled: Any, classes: np.ndarray
    ) -> Any:
        from ._trainer import TrainData

        labelled = ~np.isnan(proba[:, 0])
        target = proba[labelled]
        weight = weight[labelled] * (target.max(axis=1) if self.confidence_weighting else 1.0)
        if not np.any(weight > 0):
            raise fail(
                "y",
                "at least one labelled item with positive weight",
                got_text=f"{int(labelled.sum())} labelled item(s), none with positive weight",
            )
        parts = [X[np.flatnonzero(labelled)], X[np.flatnonzero(~labelled)]]
        if X_unlabeled is not None:
            extra = _as_features(X_unlabeled, "X_unlabeled")
            if extra.shape[1:] != X.shape[1:]:
                raise fail("X_unlabeled", f"items of shape {X.shape[1:]} like X", extra)
            parts.append(extra)
        stacked = (
            sp.vstack(parts, format="csr")
            if sp.issparse(X)
            else np.concatenate(
                [np.asarray(p.toarray() if sp.issparse(p) else p, dtype=np.float32) for p in parts]
            )
        )
        return TrainData(X=stacked, target=target, weight=weight)

    def _dev_split(
        self, validation_data: Any, shape: tuple[int, ...], classes: np.ndarray
    ) -> tuple[Any, np.ndarray]:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise fail("validation_data", "a pair (X_dev, y_dev)", validation_data)
        X_dev = _as_features(validation_data[0], "validation_data[0]")
        if X_dev.shape[1:] != shape:
            raise fail("validation_data[0]", f"items of shape {shape} like X", X_dev)
        proba, _ = encode_targets(
            validation_data[1], X_dev.shape[0], name="validation_data[1]", classes=classes
        )
        keep = np.flatnonzero(~np.isnan(proba[:, 0]))
        if keep.size == 0:
            raise fail("validation_data[1]", "at least one labelled dev item", got_text="none")
        return X_dev[keep], proba[keep].argmax(axis=1)

    def _build(self, input_shape: tuple[int, ...], n_classes: int) -> Any:
        torch = import_torch("TorchClassifier")
        builder = make_mlp() if self.module is None else self.module
        net = builder(input_shape, n_classes)
        if not isinstance(net, torch.nn.Module):
            raise fail("module", "a callable returning a torch.nn.Module", net)
        return net.to(self.device)

    # -------------------------------------------------------------- predict
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, k)``, columns in ``classes_`` order (averaged over co-teaching peers)."""
        check_fitted(self, "networks_")
        from ._trainer import predict_proba

        X_arr = _as_features(X, "X")
        if tuple(X_arr.shape[1:]) != self.input_shape_:
            shown = X_arr.shape[1] if X_arr.ndim == 2 else tuple(X_arr.shape[1:])
            expected = self.input_shape_[0] if len(self.input_shape_) == 1 else self.input_shape_
            raise fail(
                "X",
                f"items of shape {self.input_shape_} as in fit",
                got_text=f"X has {shown} features, but {type(self).__name__} is expecting "
                f"{expected} features as input",
            )
        batch = max(256, 4 * int(self.batch_size))
        return predict_proba(self.networks_, X_arr, batch, self.device)


    # ---------------------------------------------------------- persistence
    def to_state(self) -> dict[str, Any]:
        """The fitted model as JSON-able metadata plus numpy arrays (no pickle).

        Network weights are stored as arrays ``"net<i>/<name>"``. A custom
        ``module`` callable is not serialised: pass it again to
        :meth:`from_state`. Write it to files with :func:`weaklab.save_state`
        and read them with :func:`weaklab.load_state`.

        Returns
        -------
        dict
            ``schema_version``, ``class``, ``params``, ``attributes``, ``arrays``.
        """
        check_fitted(self, "networks_")
        return model_to_state(self)

    @classmethod
    def from_state(cls, state: dict[str, Any], *, module: Any = None) -> TorchClassifier:
        """Rebuild a fitted model from :meth:`to_state` output.

        Parameters
        ----------
        state : dict
        module : callable, optional
            The network builder, required when the model was fitted with a
            custom ``module`` (not ``None``, ``make_mlp`` or ``make_cnn``).
        """
        return model_from_state(cls, state, module)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.non_deterministic = self.random_state is None
        return tags
