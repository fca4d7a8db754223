"""The label-model contract shared by every model (DESIGN.md §4).

Subclasses implement ``_fit(L, gold, class_balance)`` and
``_predict_proba(L)`` (abstract methods: a class missing one cannot be
instantiated, so an incomplete model is refused when it is built, not when
it is fitted); this base class validates inputs once, records the
fitted shape, aligns sources at predict time, breaks ties and serialises
state as JSON + arrays (never pickle).
"""

from __future__ import annotations

import importlib
import os
from abc import ABCMeta, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, overload

import numpy as np
from sklearn.base import BaseEstimator

from .._core import TIE_BREAK_POLICIES, LabelMatrix, SoftLabels, as_label_matrix, break_ties, fingerprint
from .._core.constants import ABSTAIN, STATE_SCHEMA_VERSION
from .._core.partition_stats import PartitionStatistics
from .._core.partitioned import PartitionedLabelMatrix, PartitionedSoftLabels
from .._core.state import check_state, load_state, save_state, to_jsonable
from .._core.validation import Checker, check_choice, check_class_balance, check_labels, fail, validate_params
from ..errors import NotFittedError, ValidationError
from ._posterior import predict_with_confusion

__all__ = ["LabelModel", "ConfusionLabelModel", "StateShapes", "known_class_balance", "GOLD_SAMPLING",
           "check_gold_sampling", "check_gold_weight", "gold_sampling_kind", "random_gold"]

GOLD_SAMPLING = ("random", "active")
"""How the gold items were chosen: a uniform random sample, or by a query strategy (active learning)."""


def check_gold_sampling(gold_sampling: Any, n_items: int) -> str | np.ndarray:
    """Validate ``fit``'s ``gold_sampling``: ``"random"``, ``"active"``, or one of those per item.

    Returns the string, or the per-item values as an ``(n_items,)`` array of str.

    Examples
    --------
    >>> check_gold_sampling("active", 3)
    'active'
    >>> check_gold_sampling(["random", "active", "random"], 3).tolist()
    ['random', 'active', 'random']
    """
    if isinstance(gold_sampling, str):
        return str(check_choice("gold_sampling", gold_sampling, GOLD_SAMPLING))
    values = np.asarray(gold_sampling, dtype=object)  # a list, array or pandas Series of one value per item
    if values.shape != (n_items,) or not all(isinstance(v, str) and v in GOLD_SAMPLING for v in values.tolist()):
        raise fail("gold_sampling", f"'random', 'active', or an array of shape ({n_items},) holding one of them per "
                   "item (how that item's gold was chosen)", gold_sampling)
    return values.astype(str)


def check_gold_weight(gold_weight: Any, gold: np.ndarray | None, gold_sampling: str | np.ndarray,
                      n_items: int) -> np.ndarray | None:
    """Validate ``fit``'s ``gold_weight``; the weights scaled to mean 1 over the gold items (0 elsewhere).

    Only relative weights matter. ``gold`` is the validated gold vector
    (``-1`` = unknown); the weights of unknown items are ignored (set to 0).

    Examples
    --------
    >>> import numpy as np
    >>> check_gold_weight([1.0, 3.0, 5.0], np.array([0, 1, -1]), "random", 3).tolist()
    [0.5, 1.5, 0.0]
    """
    if gold_weight is None:
        return None
    if gold is None:
        raise fail("gold_weight", "None when gold is None (one weight per gold item)", gold_weight)
    if not (isinstance(gold_sampling, str) and gold_sampling == "random"):
        raise fail("gold_sampling", "'random' (the default) with gold_weight: weighted by it, the gold items are "
                   "a sample of all items however they were chosen", gold_sampling)
    try:
        w = np.asarray(gold_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail("gold_weight", f"an array-like of shape ({n_items},) of non-negative numbers",
                   gold_weight) from None
    if w.shape != (n_items,):
        raise fail("gold_weight", f"an array-like of shape ({n_items},) (one weight per item)",
                   got_text=f"shape {w.shape}")
    if not np.all(np.isfinite(w)) or (w.size and w.min() < 0):
        bad = int(np.flatnonzero(~np.isfinite(w) | (w < 0))[0])
        raise fail("gold_weight", "finite non-negative weights", got_text=f"{float(w[bad])!r} at item {bad}")
    known = gold >= 0
    total = float(w[known].sum())
    if total <= 0:
        raise fail("gold_weight", "a positive weight on at least one gold item",
                   got_text=f"0 on all {int(known.sum())} gold items")
    return np.where(known, w, 0.0) * (known.sum() / total)


def random_gold(gold: np.ndarray | None, gold_sampling: str | np.ndarray) -> np.ndarray | None:
    """The gold drawn at random: all of ``gold`` (``"random"``), none (``"active"``), or its items marked ``"random"``.

    Examples
    --------
    >>> import numpy as np
    >>> random_gold(np.array([0, 1, -1]), np.array(["random", "active", "active"])).tolist()
    [0, -1, -1]
    >>> random_gold(np.array([0, 1, -1]), "active") is None
    True
    """
    if gold is None or isinstance(gold_sampling, str):
        return None if gold_sampling == "active" else gold
    kept = np.where(gold_sampling == "active", -1, gold)
    return kept if (kept >= 0).any() else None


def gold_sampling_kind(gold: np.ndarray | None, gold_sampling: str | np.ndarray) -> str:
    """``"random"``, ``"active"``, or ``"mixed"`` when the known gold items hold both kinds.

    Examples
    --------
    >>> import numpy as np
    >>> gold_sampling_kind(np.array([0, 1, -1]), np.array(["random", "active", "active"]))
    'mixed'
    >>> gold_sampling_kind(np.array([0, -1, -1]), np.array(["random", "active", "active"]))
    'random'
    """
    if isinstance(gold_sampling, str):
        return gold_sampling
    kinds = set() if gold is None else set(gold_sampling[gold >= 0].tolist())
    return "mixed" if len(kinds) > 1 else (kinds.pop() if kinds else "random")

#: Shapes of state arrays: name -> dims, each "m" (sources), "k" (classes), an int, or None (any).
StateShapes = dict[str, tuple[str | int | None, ...]]

_BASE_ARRAYS = ("class_balance_",)
_BASE_ATTRS = ("n_sources_", "n_classes_", "source_names_", "class_names_")


class LabelModel(BaseEstimator, metaclass=ABCMeta):
    """Base class of label models: learn source reliability, output soft labels.

    Subclasses declare ``_parameter_spec`` (checkers run in ``fit``),
    ``_state_arrays`` / ``_state_attrs`` (fitted attributes saved by
    :meth:`to_state`), ``_optional_state_arrays`` (arrays that may be None:
    saved only when set, restored as None when absent), ``_state_shapes``
    (the shape of state arrays in sources ``"m"`` and classes ``"k"``,
    checked by :meth:`from_state`; merged along the class hierarchy) and
    ``_min_sources``.

    ``_fit`` and ``_predict_proba`` are abstract: ``LabelModel`` and its
    abstract subclasses (:class:`ConfusionLabelModel`) cannot be built.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.models import LabelModel, MajorityVote
    >>> issubclass(MajorityVote, LabelModel)
    True
    >>> class FirstVoteWins(LabelModel):
    ...     # a toy label model: the first source that votes decides
    ...     def _fit(self, L, gold, class_balance):
    ...         self.class_balance_ = np.full(L.n_classes, 1.0 / L.n_classes)
    ...     def _predict_proba(self, L):
    ...         votes = L.to_dense()
    ...         proba = np.tile(self.class_balance_, (votes.shape[0], 1))
    ...         for i, row in enumerate(votes):
    ...             voted = row[row >= 0]
    ...             if voted.size:
    ...                 proba[i] = np.eye(len(self.class_balance_))[voted[0]]
    ...         return proba
    >>> L = np.array([[1, 0], [-1, 0], [-1, -1]])
    >>> model = FirstVoteWins().fit(L, n_classes=2)
    >>> model.predict(L, tie_break="abstain").tolist(), model.n_sources_
    ([1, 0, -1], 2)
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {}
    _state_shapes: ClassVar[StateShapes] = {"class_balance_": ("k",)}
    _state_arrays: ClassVar[tuple[str, ...]] = ()
    _state_attrs: ClassVar[tuple[str, ...]] = ()
    _optional_state_arrays: ClassVar[tuple[str, ...]] = ()
    _min_sources: ClassVar[int] = 2
    _clamps_gold: ClassVar[bool] = False  # gold enters only as observed labels of its items (see fit)
    #: Whether ``fit`` takes ``gold`` with a :class:`~weaklab.PartitionedLabelMatrix`, using it as the in-memory fit
    #: does (class counts, per-source counts reduced over the partitions, gold units clamped in EM, or the sample's
    #: gold for the models fitted on a sample, below); the others refuse it there.
    fits_partitioned_gold: ClassVar[bool] = False
    #: Whether a :class:`~weaklab.PartitionedLabelMatrix` is fitted in memory on a bounded uniform sample of its
    #: items (``AutoLabelModel``) rather than on reduced statistics (``_fit_reduced``).
    _fits_on_sample: ClassVar[bool] = False
    #: During ``fit`` only: the validated ``gold_weight`` (mean 1 over the gold items; None when not given).
    _fit_gold_weight: np.ndarray | None = None

    # ----------------------------------------------------------------- fit
    def fit(
        self,
        L: Any,
        *,
        n_classes: int | None = None,
        gold: Any = None,
        class_balance: Any = None,
        gold_sampling: str | Sequence[str] | np.ndarray = "random",
        gold_weight: Any = None,
    ) -> LabelModel:
        """Learn the sources' reliability from the votes ``L``.

        Parameters
        ----------
        L : LabelMatrix or array-like of shape (n_items, n_sources)
            Votes, ``-1`` = abstain. A raw array needs ``n_classes`` unless
            it can be inferred from the largest vote.
        n_classes : int, optional
            Number of classes ``k`` (taken from ``L`` when it is a LabelMatrix).
        gold : array-like of shape (n_items,), optional
            Known labels, ``-1`` where unknown. Models that are
            semi-supervised use them; the others use them for the class
            balance only.
        class_balance : array-like of shape (k,), optional
            Class prior; estimated when omitted.
        gold_sampling : {"random", "active"} or array-like of shape (n_items,), default="random"
            How the gold items were chosen (one value for all, or one per
            item when they were chosen in different ways). ``"random"``: a uniform random
            sample of the items, so statistics of the gold items (class
            frequencies, each source's accuracy on them) estimate those of
            all items. ``"active"``: chosen by a query strategy (active
            learning asks where sources disagree), so such statistics are
            biased, and a top-k strategy gives no inclusion probabilities to
            reweight them by. Models that use gold only as the observed
            labels of its items in a likelihood over all items (Dawid-Skene,
            GLAD, MACE clamp them; valid when the choice depended on what
            was observed) still use it; the others ignore it. Per item,
            each gold item is treated as its own value says (the others use
            the ``"random"`` items only).
        gold_weight : array-like of shape (n_items,), optional
            How many items each gold item stands for (its inverse inclusion
            probability; only relative weights matter, weights of items
            without gold are ignored), e.g.
            :meth:`weaklab.active.ActiveLoop.gold_weights`: weighted by it,
            gold chosen in any way (an active-learning strategy's picks
            beside random draws) is an unbiased sample of the items. Needs
            ``gold`` and ``gold_sampling="random"``. Statistics taken *from
            the gold items as a sample* are weighted: the class counts that
            move the class balance (majority votes, Wawa, triplet, matrix
            completion) and :class:`~weaklab.models.AutoLabelModel`'s scores.
            Gold clamped as the observed labels of its items in a
            likelihood over all items (Dawid-Skene, GLAD, MACE) counts each
            item once, as it must.

        Returns
        -------
        self

        Notes
        -----
        ``L`` may be a :class:`~weaklab.PartitionedLabelMatrix` (votes in a
        Parquet dataset, from ``apply_lfs(..., engine="dask", output=...)``)
        for the models that fit on reduced statistics; its statistics are
        then reduced over the partitions by Dask and the votes never reach
        the client (``AutoLabelModel`` instead fits in memory on a bounded
        uniform sample of the items). ``gold`` (one entry per item, in
        partition order) is taken there by the models with
        ``fits_partitioned_gold``; the others need None. ``gold_weight``
        (one float per item, like ``gold``) is used there as in memory: the
        class counts of the gold are weighted, and ``AutoLabelModel`` gets
        the weights of its sample's gold items.
        """
        if isinstance(L, PartitionedLabelMatrix):
            from ._partitioned import fit_partitioned

            sampling = check_gold_sampling(gold_sampling, L.n_items)
            self._fit_gold_weight = None if gold_weight is None else check_gold_weight(
                gold_weight, None if gold is None else check_labels(
                    "gold", gold, L.n_classes, length=L.n_items, allow_abstain=True), sampling, L.n_items)
            try:
                fit_partitioned(self, L, gold=gold, class_balance=class_balance, gold_sampling=sampling)
            finally:
                del self._fit_gold_weight
            return self
        validate_params(self, self._parameter_spec)
        L = as_label_matrix(L, n_classes)
        self._check_fit_matrix(L)
        gold_arr = None if gold is None else check_labels(
            "gold", gold, L.n_classes, length=L.n_items, allow_abstain=True
        )
        balance = check_class_balance("class_balance", class_balance, L.n_classes)
        sampling = check_gold_sampling(gold_sampling, L.n_items)
        self._fit_gold_weight = check_gold_weight(gold_weight, gold_arr, sampling, L.n_items)
        try:
            self._fit_sampled(L, gold_arr, balance, sampling)
        finally:
            del self._fit_gold_weight  # back to the class's None: a fitted model keeps no per-item weights
        self.n_sources_ = L.n_sources
        self.n_classes_ = L.n_classes
        self.source_names_ = list(L.source_names)
        self.class_names_ = None if L.class_names is None else list(L.class_names)
        return self

    def _check_fit_matrix(self, L: LabelMatrix) -> None:
        if L.n_items == 0:
            raise fail("L", "at least one item", got_text="an empty matrix")
        if L.n_sources < self._min_sources:
            raise fail("L", f"at least {self._min_sources} sources for {type(self).__name__}",
                       got_text=f"{L.n_sources} source(s)")
        if not _has_votes(L):
            raise fail("L", "at least one non-abstain vote", got_text="a matrix in which every vote abstains")

    def _fit_sampled(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None,
                     gold_sampling: str | np.ndarray) -> None:
        """``_fit`` with gold chosen by a query strategy dropped unless the model only clamps it."""
        if not self._clamps_gold:
            gold = random_gold(gold, gold_sampling)
        self._fit(L, gold, class_balance)

    @abstractmethod
    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        """Learn the model from validated votes, gold (``-1`` = unknown) and a given class balance."""

    def _fit_reduced(self, plm: PartitionedLabelMatrix, stats: PartitionStatistics,
                     class_balance: np.ndarray | None, gold: np.ndarray | None = None) -> None:
        """Learn from the reduced statistics of partitioned votes (and gold, for ``fits_partitioned_gold``)."""
        raise fail("L", f"a LabelMatrix ({type(self).__name__} does not fit on partitioned votes)",
                   got_text="a PartitionedLabelMatrix")

    # ------------------------------------------------------------- predict
    @overload
    def predict_proba(self, L: PartitionedLabelMatrix, *, output: Any = None) -> PartitionedSoftLabels: ...

    @overload
    def predict_proba(self, L: Any, *, output: None = None) -> np.ndarray: ...

    def predict_proba(self, L: Any, *, output: Any = None) -> np.ndarray | PartitionedSoftLabels:
        """Soft labels: the posterior over classes of every item.

        Parameters
        ----------
        L : LabelMatrix, array-like of shape (n_items, n_sources) or PartitionedLabelMatrix
            Votes of the same sources the model was fitted on. When both
            matrices carry source names and they are a permutation of each
            other, columns are matched by name.
        output : str or path-like, optional
            Only for a :class:`~weaklab.PartitionedLabelMatrix`: the folder
            (local path or fsspec URL) where each partition's soft labels
            are written by a Dask task; default ``ROOT/soft_labels`` beside
            the votes.

        Returns
        -------
        ndarray of shape (n_items, n_classes) or PartitionedSoftLabels
            Rows sum to 1. The model is not modified. Partitioned votes give
            a :class:`~weaklab.PartitionedSoftLabels` naming the files.
        """
        if isinstance(L, PartitionedLabelMatrix):
            from ._partitioned import predict_partitioned

            return predict_partitioned(self, L, output)
        if output is not None:
            raise fail("output", "None unless L is a PartitionedLabelMatrix", output)
        L = self._check_predict_matrix(L)
        return self._predict_proba(L)

    @abstractmethod
    def _predict_proba(self, L: LabelMatrix) -> np.ndarray:
        """Posteriors ``(n, k)`` of a validated matrix whose sources are aligned with the fit."""

    def predict(self, L: Any, tie_break: str = "random", *, random_state: Any = None) -> np.ndarray:
        """Hard labels: the most probable class, ties broken by ``tie_break``.

        Parameters
        ----------
        L : LabelMatrix or array-like of shape (n_items, n_sources)
        tie_break : {"random", "abstain", "prior"}, default="random"
            ``"abstain"`` returns -1 (``ABSTAIN``) for tied items and for
            items on which every source abstained (their posterior is the
            class prior: the votes say nothing about them); ``"prior"``
            prefers the class with the larger learned class balance;
            ``"random"`` picks among the tied classes.
        random_state : None, int or Generator
            Seed for ``"random"``; defaults to the model's ``random_state``
            parameter when it has one, so predictions are reproducible.

        Returns
        -------
        ndarray of shape (n_items,)
            Class ids in ``[0, n_classes)``, or -1 where ``tie_break="abstain"``
            abstains (see :class:`MajorityVote` for an example).
        """
        if isinstance(L, PartitionedLabelMatrix):
            raise fail("L", "a LabelMatrix (for partitioned votes use predict_proba(L, output=...))",
                       got_text="a PartitionedLabelMatrix")
        check_choice("tie_break", tie_break, TIE_BREAK_POLICIES)
        matrix = self._check_predict_matrix(L)
        proba = self._predict_proba(matrix)
        seed = random_state if random_state is not None else getattr(self, "random_state", None)
        labels = break_ties(proba, tie_break, prior=self.class_balance_, random_state=seed)
        if tie_break == "abstain":
            labels[matrix.votes_per_item() == 0] = ABSTAIN
        return labels

    def soft_labels(self, L: Any) -> SoftLabels:
        """:meth:`predict_proba` wrapped as :class:`SoftLabels` with item ids."""
        matrix = self._check_predict_matrix(L)
        proba = self._predict_proba(matrix)
        names = self.class_names_ if self.class_names_ is not None else None
        return SoftLabels(proba, item_ids=matrix.item_ids, class_names=names, producer=self.fingerprint_)

    @property
    def fingerprint_(self) -> str:
        """Fingerprint of the fitted model (class, parameters and learned state)."""
        self._check_fitted()
        state = self.to_state()
        return fingerprint(state["class"], to_jsonable(state["params"]), state["attributes"], state["arrays"])

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_classes_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(L) before using it."
            )

    def _check_predict_matrix(self, L: Any) -> LabelMatrix:
        self._check_fitted()
        matrix = as_label_matrix(L, self.n_classes_ if not isinstance(L, LabelMatrix) else None)
        if matrix.n_classes > self.n_classes_:
            raise fail("L", f"votes with at most {self.n_classes_} classes (as fitted)",
                       got_text=f"n_classes={matrix.n_classes}")
        if matrix.n_classes < self.n_classes_:
            matrix = matrix.replace(n_classes=self.n_classes_)
        return self._align_sources(matrix)

    def _align_sources(self, L: LabelMatrix) -> LabelMatrix:
        if L.n_sources != self.n_sources_:
            raise fail("L", f"{self.n_sources_} sources (as fitted)", got_text=f"{L.n_sources} sources")
        fitted = tuple(self.source_names_)
        if L.source_names == fitted or _default_names(L.source_names) or _default_names(fitted):
            return L
        if set(L.source_names) == set(fitted):
            return L.select_sources(fitted)
        missing = sorted(set(fitted) - set(L.source_names))[:5]
        raise fail("L", "the sources the model was fitted on", got_text=f"sources missing: {missing}")

    # --------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        """The fitted model as JSON-able metadata plus numpy arrays (no pickle)."""
        self._check_fitted()
        arrays = {name: np.asarray(getattr(self, name)) for name in _BASE_ARRAYS + self._state_arrays}
        for name in self._optional_state_arrays:
            if getattr(self, name, None) is not None:
                arrays[name] = np.asarray(getattr(self, name))
        attrs = {name: to_jsonable(getattr(self, name)) for name in _BASE_ATTRS + self._state_attrs}
        return {
            "schema_version": STATE_SCHEMA_VERSION,
            "class": type(self).__name__,
            "module": type(self).__module__,
            "params": to_jsonable(self.get_params(deep=False)),
            "attributes": attrs,
            "arrays": arrays,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LabelModel:
        """Rebuild a fitted model from :meth:`to_state` output."""
        check_state(state, cls.__name__)
        model = cls(**state["params"])
        for name in _BASE_ATTRS + cls._state_attrs:
            if name not in state["attributes"]:
                raise fail("state", f"attribute {name!r}", got_text="a state without it")
            setattr(model, name, state["attributes"][name])
        for name in _BASE_ARRAYS + cls._state_arrays:
            if name not in state["arrays"]:
                raise fail("state", f"array {name!r}", got_text="a state without it")
            setattr(model, name, np.asarray(state["arrays"][name]))
        for name in cls._optional_state_arrays:
            value = state["arrays"].get(name)
            setattr(model, name, None if value is None else np.asarray(value))
        model._check_loaded()
        return model

    def _check_loaded(self) -> None:
        """Refuse a loaded state whose attributes and arrays disagree (before predict_proba can fail).

        Checks the sizes (``n_sources_``, ``n_classes_``, the names), every
        array declared in ``_state_shapes`` against them, then predicts a
        small probe matrix (every class voted by every source, and an
        all-abstain row): it must give finite rows that sum to 1.
        """
        m = _state_int("n_sources_", getattr(self, "n_sources_", None), 1)
        k = _state_int("n_classes_", getattr(self, "n_classes_", None), 2)
        names = self.source_names_
        if not isinstance(names, list) or len(names) != m:
            raise fail("state['attributes']['source_names_']", f"a list of {m} names (n_sources_={m})", names)
        if self.class_names_ is not None and (not isinstance(self.class_names_, list) or len(self.class_names_) != k):
            raise fail("state['attributes']['class_names_']", f"None or a list of {k} names (n_classes_={k})",
                       self.class_names_)
        for name, spec in _declared_shapes(type(self)).items():
            value = getattr(self, name, None)
            if value is not None:
                _check_shape(name, np.asarray(value), spec, m, k)
        self._check_probe(m, k)

    def _check_probe(self, m: int, k: int) -> None:
        votes = np.vstack([np.full((1, m), -1), np.repeat(np.arange(k)[:, None], m, axis=1)])
        probe = LabelMatrix(votes, n_classes=k, source_names=list(self.source_names_) if m else None)
        try:
            proba = np.asarray(self._predict_proba(probe), dtype=np.float64)
        except (IndexError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise fail("state", f"arrays consistent with {m} sources and {k} classes",
                       got_text=f"a state whose prediction fails ({type(exc).__name__}: {exc})") from None
        if proba.shape != (k + 1, k) or not np.all(np.isfinite(proba)) or \
                not np.allclose(proba.sum(axis=1), 1.0, atol=1e-6):
            raise fail("state", f"arrays that predict finite probabilities over {k} classes",
                       got_text=f"predictions of shape {proba.shape} with non-finite or unnormalised rows")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the state to ``<path>.json`` + ``<path>.npz`` (:func:`weaklab.save_state`); return the JSON path."""
        return save_state(self.to_state(), path)

    @staticmethod
    def load(path: str | os.PathLike[str]) -> LabelModel:
        """Load any weaklab label model saved with :meth:`save`."""
        state = load_state(path)
        module = state.get("module", "")
        if not isinstance(module, str) or not module.startswith("weaklab."):
            raise ValidationError(f"path: expected a weaklab label-model state, got module {module!r}")
        cls = getattr(importlib.import_module(module), state["class"], None)
        if cls is None or not (isinstance(cls, type) and issubclass(cls, LabelModel)):
            raise ValidationError(f"path: expected a weaklab label-model state, got class {state['class']!r}")
        return cls.from_state(state)


def _state_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < low:
        raise fail(f"state['attributes'][{name!r}]", f"an integer >= {low}", value)
    return int(value)


def _declared_shapes(cls: type) -> StateShapes:
    """``_state_shapes`` merged along the class hierarchy (subclasses win)."""
    out: StateShapes = {}
    for klass in reversed(cls.__mro__):
        out.update(vars(klass).get("_state_shapes", {}))
    return out


def _check_shape(name: str, arr: np.ndarray, spec: tuple[str | int | None, ...], m: int, k: int) -> None:
    sizes = {"m": m, "k": k}
    expected = tuple(sizes.get(d, d) if isinstance(d, str) else d for d in spec)
    ok = arr.ndim == len(expected) and all(e is None or e == s for e, s in zip(expected, arr.shape))
    if not ok:
        dims = ", ".join("any" if e is None else str(e) for e in expected)
        shown = f"({dims},)" if len(expected) == 1 else f"({dims})"
        raise fail(f"state['arrays'][{name!r}]", f"an array of shape {shown} for {m} sources and {k} classes",
                   got_text=f"shape {arr.shape}")


class ConfusionLabelModel(LabelModel):
    """A label model that predicts from per-source confusion matrices.

    Subclasses set ``confusion_`` (m, k, k), where ``confusion_[j, c, v]`` is
    the probability that source j votes v on an item of class c *given that
    it votes*, and ``class_balance_`` (k,), in ``_fit`` (abstract here).
    ``source_accuracy_`` follows.
    A subclass that models abstentions also sets ``abstain_rate_`` (m, k),
    ``P(source j abstains | y = c)``; the posterior then uses it (see
    :mod:`weaklab.models._posterior`) and an all-abstain item gets
    ``class_balance_ * prod_j abstain_rate_[j]`` normalised. Left unset or
    None, abstentions carry no information.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.models import ConfusionLabelModel, DawidSkene
    >>> issubclass(DawidSkene, ConfusionLabelModel)
    True
    >>> class KnownConfusions(ConfusionLabelModel):
    ...     # confusion matrices given by the user instead of learned
    ...     def __init__(self, confusion=None):
    ...         self.confusion = confusion
    ...     def _fit(self, L, gold, class_balance):
    ...         self.confusion_ = np.asarray(self.confusion, dtype=float)
    ...         self.class_balance_ = np.full(L.n_classes, 1.0 / L.n_classes)
    >>> good, poor = [[0.9, 0.1], [0.1, 0.9]], [[0.6, 0.4], [0.4, 0.6]]
    >>> model = KnownConfusions([good, poor, poor]).fit(np.array([[0, 1, 1]]), n_classes=2)
    >>> model.predict_proba(np.array([[0, 1, 1]])).round(3).tolist()  # one good source outweighs two poor ones
    [[0.8, 0.2]]
    >>> model.source_accuracy_.round(2).tolist()
    [0.9, 0.6, 0.6]
    """

    _state_arrays: ClassVar[tuple[str, ...]] = ("confusion_",)
    _optional_state_arrays: ClassVar[tuple[str, ...]] = ("abstain_rate_",)
    _state_shapes: ClassVar[StateShapes] = {
        "confusion_": ("m", "k", "k"), "abstain_rate_": ("m", "k")}

    def _predict_proba(self, L: LabelMatrix) -> np.ndarray:
        return predict_with_confusion(L, self.confusion_, self.class_balance_,
                                      getattr(self, "abstain_rate_", None))

    @property
    def source_accuracy_(self) -> np.ndarray:
        """Probability that a vote of each source is correct, shape ``(m,)``.

        ``P(y = v | j votes v)`` under the model: the votes of source j
        weighted by how often it votes on each class, ``sum_c pi_c r_jc
        confusion[j, c, c] / sum_c pi_c r_jc`` with ``r_jc = P(j votes | y =
        c)`` where the model learns it. This is what ``emp_acc`` measures on
        gold (the share of a source's votes that are right). Where
        abstentions carry no information ``r`` is constant and this is
        ``confusion[j].diagonal() @ pi``. (For a unipolar labeling function,
        whose confusion given that it votes has one column of ones, the
        class-independent form would give ``pi`` of its class whatever its
        precision.)
        """
        self._check_fitted()
        prior = np.asarray(self.class_balance_, dtype=np.float64)
        diag = np.diagonal(self.confusion_, axis1=1, axis2=2)
        rates = self._vote_rates()
        if rates is None:
            return np.asarray(diag @ prior)
        joint = rates * prior[None, :]  # P(j votes, y = c)
        total = joint.sum(axis=1)
        return np.divide((joint * diag).sum(axis=1), total, out=diag @ prior, where=total > 0)

    def _vote_rates(self) -> np.ndarray | None:
        """``P(source j votes | y = c)``, shape ``(m, k)``, or None when abstentions carry no information.

        ``1 - abstain_rate_`` when the model learned abstain rates.
        """
        rate = getattr(self, "abstain_rate_", None)
        return None if rate is None else 1.0 - np.asarray(rate, dtype=np.float64)


def _has_votes(L: LabelMatrix, block_rows: int = 1 << 14) -> bool:
    """True when ``L`` holds a non-abstain vote (dense rows scanned in blocks, stopping early)."""
    if L.is_sparse:
        return L.nnz > 0
    dense = L.to_dense()
    return any(bool((dense[a:a + block_rows] >= 0).any()) for a in range(0, dense.shape[0], block_rows))


GOLD_BALANCE_STRENGTH = 10.0
"""Pseudo-items per class that a model's own class-balance estimate is worth against gold counts."""


def known_class_balance(class_balance: np.ndarray | None, gold: np.ndarray | None,
                        base: np.ndarray, gold_weight: np.ndarray | None = None) -> np.ndarray:
    """The given class balance, else ``base`` updated with the gold class counts.

    A Dirichlet posterior mean: the model's own estimate ``base`` (from the
    votes, or uniform) is a prior worth ``s = GOLD_BALANCE_STRENGTH * k``
    items, and the ``n`` gold labels add their class counts ``g``::

        balance = (s * base + g) / (s + n)

    so gold moves the balance in proportion to how much of it there is: 5
    answers on a 7-class task move it by at most 5 / 75, 700 answers by
    10 / 11 of the way to their frequencies. (Taking the Laplace-smoothed
    frequencies of a handful of answers as the balance let 5 answers set
    it, and models that trust their prior followed.)

    Parameters
    ----------
    class_balance : ndarray of shape (k,) or None
        A balance given by the user; returned unchanged.
    gold : ndarray of shape (n_items,) or None
        Gold labels, ``-1`` where unknown.
    base : ndarray of shape (k,)
        The balance the model would use without gold.
    gold_weight : ndarray of shape (n_items,), optional
        ``fit``'s validated ``gold_weight`` (mean 1 over the gold items):
        ``g`` are then the weighted counts, the Horvitz-Thompson estimate of
        the class frequencies scaled to ``n`` items.

    Returns
    -------
    ndarray of shape (k,)

    Examples
    --------
    >>> import numpy as np
    >>> known_class_balance(None, np.array([0, 0, -1]), np.array([0.5, 0.5])).round(3)
    array([0.545, 0.455])
    """
    if class_balance is not None:
        return class_balance
    base = np.asarray(base, dtype=np.float64)
    k = base.shape[0]
    known = np.empty(0, dtype=np.int64) if gold is None else gold[gold >= 0]
    weights = None if gold is None or gold_weight is None else gold_weight[gold >= 0]
    counts = np.bincount(known, weights=weights, minlength=k).astype(np.float64)
    strength = GOLD_BALANCE_STRENGTH * k
    return np.asarray((strength * base / base.sum() + counts) / (strength + counts.sum()))


def _default_names(names: tuple[str, ...]) -> bool:
    return all(name == f"s{j}" for j, name in enumerate(names))
