"""Multi-label label models: one binary model per label, or one model over all labels.

Both take a :class:`~weaklab.MultiLabelMatrix` (per item, source and label a
vote of present, absent or abstain) and give ``P(label applies)`` per item
and label, shape ``(n, K)``, which need not sum to 1 over labels.

- :class:`OneVsRestLabelModel` fits any binary label model (Dawid-Skene by
  default) on each label's ``(n, m)`` matrix of present/absent votes.
- :class:`MultiLabelDawidSkene` fits one EM over all labels: each source has
  one sensitivity and one specificity shared by every label (so a source's
  reliability is learned from all its votes, also on rare labels), and the
  prior over label *sets* is learned, so labels that co-occur raise each
  other's posterior.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import expit, logit, logsumexp
from sklearn.base import BaseEstimator, clone

from .._core import MultiLabelMatrix, MultiLabelSoftLabels, fingerprint
from .._core.constants import STATE_SCHEMA_VERSION
from .._core.state import check_state, to_jsonable
from .._core.validation import Checker, check_float, fail, interval, optional, options, validate_params
from ..errors import NotFittedError
from .dawid_skene import DawidSkene

__all__ = ["MultiLabelModel", "OneVsRestLabelModel", "MultiLabelDawidSkene"]

_EPS = 1e-6
_MARGIN = 0.1  # the least sensitivity + specificity - 1 of a source (better than chance)


class MultiLabelModel(BaseEstimator):
    """Base class: validation, thresholds and soft-label wrapping shared by multi-label label models.

    Subclasses implement ``_fit(L, gold)`` and ``_predict_proba(L)``.

    Examples
    --------
    >>> from weaklab.models import MultiLabelDawidSkene, MultiLabelModel, OneVsRestLabelModel, MajorityVote
    >>> from weaklab.synthetic import make_multilabel_matrix
    >>> issubclass(MultiLabelDawidSkene, MultiLabelModel), issubclass(OneVsRestLabelModel, MultiLabelModel)
    (True, True)
    >>> data = make_multilabel_matrix(300, 6, 4, random_state=0)
    >>> soft = OneVsRestLabelModel(MajorityVote()).fit(data.L).predict_proba(data.L)
    >>> soft.shape
    (300, 4)
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {}

    def fit(self, L: MultiLabelMatrix, *, gold: Any = None) -> MultiLabelModel:
        """Learn the sources' reliability from the votes ``L``.

        Parameters
        ----------
        L : MultiLabelMatrix
        gold : array-like of shape (n_items, n_labels), optional
            Known labels: ``1`` applies, ``0`` does not, ``-1`` unknown.

        Returns
        -------
        self
        """
        validate_params(self, self._parameter_spec)
        L = _check_matrix(L)
        if L.nnz == 0:
            raise fail("L", "at least one non-abstain vote", got_text="a matrix in which every vote abstains")
        gold_arr = None if gold is None else _check_gold(gold, L.n_items, L.n_labels)
        self._fit(L, gold_arr)
        self.n_sources_ = L.n_sources
        self.n_labels_ = L.n_labels
        self.source_names_ = list(L.source_names)
        self.label_names_ = list(L.label_names)
        return self

    def _fit(self, L: MultiLabelMatrix, gold: np.ndarray | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict_proba(self, L: MultiLabelMatrix) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict_proba(self, L: MultiLabelMatrix) -> np.ndarray:
        """``P(label l applies to item i)``, shape ``(n, K)``; the model is not modified."""
        return self._predict_proba(self._check_predict(L))

    def predict(self, L: MultiLabelMatrix, threshold: float = 0.5) -> np.ndarray:
        """Hard labels ``(n, K)`` int8: 1 where the probability is at least ``threshold``."""
        t = check_float("threshold", threshold, low=0.0, high=1.0)
        return (self.predict_proba(L) >= t).astype(np.int8)

    def soft_labels(self, L: MultiLabelMatrix) -> MultiLabelSoftLabels:
        """:meth:`predict_proba` wrapped as :class:`~weaklab.MultiLabelSoftLabels` with item ids."""
        matrix = self._check_predict(L)
        return MultiLabelSoftLabels(self._predict_proba(matrix), item_ids=matrix.item_ids,
                                    label_names=self.label_names_, producer=self._producer())

    def _producer(self) -> str:
        return fingerprint(type(self).__name__, to_jsonable(self.get_params(deep=False)), self.source_names_)

    def _check_predict(self, L: Any) -> MultiLabelMatrix:
        if not hasattr(self, "n_labels_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(L) before using it.")
        L = _check_matrix(L)
        if L.n_sources != self.n_sources_ or L.n_labels != self.n_labels_:
            raise fail("L", f"{self.n_sources_} sources and {self.n_labels_} labels (as fitted)",
                       got_text=f"{L.n_sources} sources and {L.n_labels} labels")
        return L


class OneVsRestLabelModel(MultiLabelModel):
    """One binary label model per label, fitted on that label's present/absent votes.

    Parameters
    ----------
    base : label model, optional
        An unfitted binary label model from :mod:`weaklab.models` (cloned for
        each label); default ``DawidSkene(random_state=0)``. A base with a
        ``default_class`` parameter left None (:class:`~weaklab.models.AutoLabelModel`)
        gets 0 on each label: a source that votes absent on nearly every item
        (an LF that says absent wherever its evidence is missing) votes by
        default there.

    Attributes
    ----------
    models_ : list
        The fitted model of each label, or None for a label nobody voted on
        (its probability is then ``label_prior_``).
    label_prior_ : ndarray of shape (K,)
        Each label's prior ``P(applies)``: the fitted model's class balance,
        or the gold rate (0.5 without gold) for labels without votes.

    Examples
    --------
    >>> from weaklab.synthetic import make_multilabel_matrix
    >>> data = make_multilabel_matrix(300, 5, 3, random_state=0)
    >>> model = OneVsRestLabelModel().fit(data.L)
    >>> model.predict_proba(data.L).shape
    (300, 3)
    """

    def __init__(self, base: Any = None) -> None:
        self.base = base

    def _fit(self, L: MultiLabelMatrix, gold: np.ndarray | None) -> None:
        base = DawidSkene(random_state=0) if self.base is None else self.base
        if not hasattr(base, "fit") or not hasattr(base, "predict_proba"):
            raise fail("base", "an unfitted label model (with fit and predict_proba)", base)
        models: list[Any] = []
        prior = np.empty(L.n_labels)
        for j in range(L.n_labels):
            Lj = L.for_label(j)
            gj = None if gold is None else gold[:, j]
            if Lj.nnz == 0:
                known = np.empty(0) if gj is None else gj[gj >= 0]
                models.append(None)
                prior[j] = (known.sum() + 1.0) / (known.size + 2.0)
                continue
            model = _per_label(clone(base)).fit(Lj, gold=gj)
            models.append(model)
            prior[j] = float(np.asarray(model.class_balance_)[1])
        self.models_ = models
        self.label_prior_ = prior

    def _predict_proba(self, L: MultiLabelMatrix) -> np.ndarray:
        out = np.empty((L.n_items, L.n_labels))
        for j, model in enumerate(self.models_):
            out[:, j] = self.label_prior_[j] if model is None else model.predict_proba(L.for_label(j))[:, 1]
        return out


class MultiLabelDawidSkene(MultiLabelModel):
    """EM over all labels with source accuracies shared across labels and a learned label-set prior.

    Model: an item's label set ``y in {0, 1}^K`` is drawn from a prior over
    label sets; each source ``j`` that votes on label ``l`` says present with
    probability ``sensitivity_[j]`` when ``y_l = 1`` and absent with
    probability ``specificity_[j]`` when ``y_l = 0``, independently given
    ``y``. Abstentions carry no information. Sources are assumed better than
    chance (``sensitivity + specificity > 1``), which keeps EM from the
    mirror solution in which every vote means its opposite. With ``cooccurrence="full"`` the
    prior is a distribution over all ``2^K`` label sets (shrunk towards the
    product of the label rates by ``smoothing`` pseudo-items), so it captures
    any co-occurrence; with ``"independent"`` it is a product of label rates
    (any ``K``). EM starts from the vote shares, so sources are assumed
    better than chance on average.

    Parameters
    ----------
    cooccurrence : {"auto", "full", "independent"}, default="auto"
        ``"auto"``: full when ``K <= max_full_labels``, else independent.
    max_full_labels : int, default=12
        Largest ``K`` for the full prior (its size is ``2^K``).
    smoothing : float, default=10.0
        Pseudo-items of the label-set prior spread as the product of label
        rates (full prior only).
    label_strength : float or None, default=None
        Pseudo-votes that pull a source's rates on one label towards its
        rates over all labels (partial pooling): a source with few votes on
        a label keeps its overall rates there, one with many gets its own.
        None shares the rates across labels exactly; 0 fits them per label.
    prior_votes : float, default=4.0
        Pseudo-votes of the prior on each source's sensitivity and
        specificity (a source with few votes stays near ``prior_accuracy``).
    prior_accuracy : float in (0.5, 1), default=0.75
    max_iter : int, default=100
    tol : float, default=1e-6
        Stop when the mean log-likelihood per item improves by less.

    Attributes
    ----------
    sensitivity_, specificity_ : ndarray of shape (m,)
        Each source's rates over all labels.
    label_sensitivity_, label_specificity_ : ndarray of shape (m, K)
        Each source's rates on each label (see ``label_strength``).
    label_prior_ : ndarray of shape (K,)
        ``P(y_l = 1)`` under the learned prior.
    cooccurrence_ : ndarray of shape (K, K)
        ``P(y_a = 1, y_b = 1)`` under the learned prior (diagonal = ``label_prior_``).
    configurations_ : ndarray of shape (C, K) or None
        The label sets of the full prior (None when independent).
    configuration_prior_ : ndarray of shape (C,) or None
    n_iter_ : int
    converged_ : bool
    log_likelihood_ : list of float
        Mean log-likelihood per item after each iteration.

    Examples
    --------
    >>> from weaklab.synthetic import make_multilabel_matrix
    >>> data = make_multilabel_matrix(500, 6, 4, random_state=0)
    >>> model = MultiLabelDawidSkene().fit(data.L)
    >>> model.predict_proba(data.L).shape, model.sensitivity_.shape
    ((500, 4), (6,))
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {
        "cooccurrence": options("auto", "full", "independent"),
        "max_full_labels": interval(int, 1, 20),
        "smoothing": interval(float, 0.0, None),
        "label_strength": optional(interval(float, 0.0, None)),
        "prior_votes": interval(float, 0.0, None),
        "prior_accuracy": interval(float, 0.5, 1.0, low_open=True, high_open=True),
        "max_iter": interval(int, 1, None),
        "tol": interval(float, 0.0, None),
    }

    def __init__(self, *, cooccurrence: str = "auto", max_full_labels: int = 12, smoothing: float = 10.0,
                 label_strength: float | None = None, prior_votes: float = 4.0, prior_accuracy: float = 0.75,
                 max_iter: int = 100, tol: float = 1e-6) -> None:
        self.cooccurrence = cooccurrence
        self.max_full_labels = max_full_labels
        self.smoothing = smoothing
        self.label_strength = label_strength
        self.prior_votes = prior_votes
        self.prior_accuracy = prior_accuracy
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------ fit
    def _fit(self, L: MultiLabelMatrix, gold: np.ndarray | None) -> None:
        votes = L.coo()
        configs = _all_configurations(L.n_labels) if self._use_full(L.n_labels) else None
        q = _clamp(_vote_shares(L), gold)
        post_sum: np.ndarray | None = None
        config_prior: np.ndarray | None = None
        history: list[float] = []
        for _ in range(self.max_iter):
            sens, spec, sens_l, spec_l = _m_step_sources(votes, q, (L.n_sources, L.n_labels), self)
            rates = (q.sum(axis=0) + 1.0) / (q.shape[0] + 2.0)
            if configs is not None:
                config_prior = self._config_prior(post_sum, configs, rates)
            on, off = _evidence(votes, sens_l, spec_l, L.n_items, L.n_labels)
            if configs is None:
                q, ll = _independent_posterior(on, off, rates, gold)
            else:
                q, ll, post_sum = _full_posterior(on, off, configs, config_prior, gold)  # type: ignore[arg-type]
            history.append(ll)
            if len(history) > 1 and abs(history[-1] - history[-2]) < self.tol:
                break
        self.sensitivity_, self.specificity_ = sens, spec
        self.label_sensitivity_, self.label_specificity_ = sens_l, spec_l
        self.configurations_, self.configuration_prior_ = configs, config_prior
        self._set_label_stats(rates)
        self.n_iter_, self.log_likelihood_ = len(history), history
        self.converged_ = len(history) > 1 and abs(history[-1] - history[-2]) < self.tol

    def _use_full(self, k: int) -> bool:
        if self.cooccurrence == "full" and k > self.max_full_labels:
            raise fail("cooccurrence", f"'independent' or 'auto' for more than max_full_labels="
                       f"{self.max_full_labels} labels", got_text=f"'full' with {k} labels")
        return self.cooccurrence == "full" or (self.cooccurrence == "auto" and k <= self.max_full_labels)

    def _config_prior(self, post_sum: np.ndarray | None, configs: np.ndarray, rates: np.ndarray) -> np.ndarray:
        """Label-set prior: posterior counts shrunk towards the product of rates by ``smoothing`` items."""
        base = _product_prior(configs, rates)
        if post_sum is None:
            return base
        s = float(self.smoothing)
        return (post_sum + s * base) / (post_sum.sum() + s)

    def _set_label_stats(self, rates: np.ndarray) -> None:
        if self.configurations_ is None:
            self.label_prior_ = rates
            self.cooccurrence_ = np.outer(rates, rates)
            np.fill_diagonal(self.cooccurrence_, rates)
            return
        Y = self.configurations_.astype(np.float64)
        weighted = Y * np.asarray(self.configuration_prior_)[:, None]
        self.label_prior_ = weighted.sum(axis=0)
        self.cooccurrence_ = Y.T @ weighted

    # -------------------------------------------------------------- predict
    def _predict_proba(self, L: MultiLabelMatrix) -> np.ndarray:
        on, off = _evidence(L.coo(), self.label_sensitivity_, self.label_specificity_, L.n_items, L.n_labels)
        if self.configurations_ is None:
            return _independent_posterior(on, off, self.label_prior_, None)[0]
        return _full_posterior(on, off, self.configurations_, np.asarray(self.configuration_prior_), None)[0]

    # ---------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        """The fitted model as JSON-able metadata plus numpy arrays (no pickle)."""
        self._check_predict_fitted()
        arrays = {name: np.asarray(getattr(self, name)) for name in
                  ("sensitivity_", "specificity_", "label_sensitivity_", "label_specificity_", "label_prior_",
                   "cooccurrence_")}
        if self.configurations_ is not None:
            arrays["configurations_"] = self.configurations_
            arrays["configuration_prior_"] = np.asarray(self.configuration_prior_)
        attrs = {name: to_jsonable(getattr(self, name)) for name in
                 ("n_sources_", "n_labels_", "source_names_", "label_names_", "n_iter_", "converged_")}
        return {"schema_version": STATE_SCHEMA_VERSION, "class": type(self).__name__,
                "module": type(self).__module__, "params": to_jsonable(self.get_params(deep=False)),
                "attributes": attrs, "arrays": arrays}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MultiLabelDawidSkene:
        """Rebuild a fitted model from :meth:`to_state` output."""
        check_state(state, cls.__name__)
        model = cls(**state["params"])
        for name, value in state["attributes"].items():
            setattr(model, name, value)
        for name, value in state["arrays"].items():
            setattr(model, name, np.asarray(value))
        m, k = int(model.n_sources_), int(model.n_labels_)
        for name, shape in (("sensitivity_", (m,)), ("specificity_", (m,)), ("label_prior_", (k,)),
                            ("label_sensitivity_", (m, k)), ("label_specificity_", (m, k))):
            if np.asarray(getattr(model, name, None)).shape != shape:
                raise fail(f"state['arrays'][{name!r}]", f"an array of shape {shape}",
                           got_text=f"shape {np.asarray(getattr(model, name, None)).shape}")
        if "configurations_" not in state["arrays"]:
            model.configurations_ = model.configuration_prior_ = None
        model.log_likelihood_ = []
        return model

    def _check_predict_fitted(self) -> None:
        if not hasattr(self, "n_labels_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(L) before using it.")


# ---------------------------------------------------------------------------
# pure steps
# ---------------------------------------------------------------------------


def _per_label(model: Any) -> Any:
    """``model`` told that absent (0) is the default vote of a label, when it has a ``default_class`` left None."""
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    if "default_class" in params and params["default_class"] is None:
        model.set_params(default_class=0)
    return model


def _check_matrix(L: Any) -> MultiLabelMatrix:
    if not isinstance(L, MultiLabelMatrix):
        raise fail("L", "a MultiLabelMatrix (see MultiLabelMatrix.from_long)", L)
    if L.n_items == 0:
        raise fail("L", "at least one item", got_text="an empty matrix")
    return L


def _check_gold(gold: Any, n: int, k: int) -> np.ndarray:
    arr = np.asarray(gold)
    if arr.shape != (n, k) or arr.dtype.kind not in "iub" or not np.isin(arr, (-1, 0, 1)).all():
        raise fail("gold", f"an ({n}, {k}) array of 1 (applies), 0 (does not) or -1 (unknown)", arr)
    return arr.astype(np.int8)


def _vote_shares(L: MultiLabelMatrix) -> np.ndarray:
    """Start of EM: smoothed share of present votes per item and label (0.5 prior)."""
    present, absent = L.vote_counts()
    return (present + 0.5) / (present + absent + 1.0)


def _clamp(q: np.ndarray, gold: np.ndarray | None) -> np.ndarray:
    if gold is None:
        return q
    return np.where(gold >= 0, gold.astype(np.float64), q)


def _m_step_sources(votes: tuple[np.ndarray, ...], q: np.ndarray, shape: tuple[int, int], params: Any,
                    ) -> tuple[np.ndarray, ...]:
    """Sensitivity and specificity of every source, pooled ``(m,)`` and per label ``(m, K)``.

    Pooled rates are posterior means under ``prior_votes`` pseudo-votes at
    ``prior_accuracy``; a label's rates are pulled towards the source's
    pooled rate by ``label_strength`` pseudo-votes (equal to it when None).
    A (source, label) left no better than chance (``sens + spec < 1 +
    _MARGIN``) is raised to that margin, both rates equally, so a present
    vote never counts against a label.
    """
    m, k = shape
    items, sources, labels, vote = votes
    w = q[items, labels]
    present = vote == 1
    cell = sources * k + labels
    counts = [np.bincount(cell[mask], weights=weight[mask], minlength=m * k).reshape(m, k)
              for mask, weight in ((slice(None), w), (slice(None), 1.0 - w), (present, w), (~present, 1.0 - w))]
    pos_total, neg_total, pos_hit, neg_hit = counts
    a, b = params.prior_votes * params.prior_accuracy, params.prior_votes
    sens = (pos_hit.sum(axis=1) + a) / (pos_total.sum(axis=1) + b)
    spec = (neg_hit.sum(axis=1) + a) / (neg_total.sum(axis=1) + b)
    if params.label_strength is None:
        sens_l, spec_l = np.repeat(sens[:, None], k, axis=1), np.repeat(spec[:, None], k, axis=1)
    else:
        s = float(params.label_strength)
        sens_l = (pos_hit + s * sens[:, None]) / (pos_total + s) if s > 0 else (pos_hit + a) / (pos_total + b)
        spec_l = (neg_hit + s * spec[:, None]) / (neg_total + s) if s > 0 else (neg_hit + a) / (neg_total + b)
    return _lift(sens, spec) + _lift(sens_l, spec_l)


def _lift(sens: np.ndarray, spec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lift = np.maximum(0.0, 1.0 + _MARGIN - sens - spec) / 2.0
    return np.clip(sens + lift, _EPS, 1 - _EPS), np.clip(spec + lift, _EPS, 1 - _EPS)


def _evidence(votes: tuple[np.ndarray, ...], sens: np.ndarray, spec: np.ndarray, n: int,
              k: int) -> tuple[np.ndarray, np.ndarray]:
    """``sens`` and ``spec`` are ``(m, K)``: each source's rates on each label."""
    """Log-likelihood of each item's votes on each label if it applies (``on``) and if not (``off``)."""
    items, sources, labels, vote = votes
    present = vote == 1
    flat = items * k + labels
    se, sp = sens[sources, labels], spec[sources, labels]
    ll_on = np.where(present, np.log(se), np.log1p(-se))
    ll_off = np.where(present, np.log1p(-sp), np.log(sp))
    on = np.bincount(flat, weights=ll_on, minlength=n * k).reshape(n, k)
    off = np.bincount(flat, weights=ll_off, minlength=n * k).reshape(n, k)
    return on, off


def _independent_posterior(on: np.ndarray, off: np.ndarray, rates: np.ndarray,
                           gold: np.ndarray | None) -> tuple[np.ndarray, float]:
    log_odds = on - off + logit(np.clip(rates, _EPS, 1 - _EPS))[None, :]
    q = _clamp(expit(log_odds), gold)
    ll = np.logaddexp(on + np.log(rates), off + np.log1p(-rates)).sum(axis=1)
    return q, float(ll.mean())


def _all_configurations(k: int) -> np.ndarray:
    codes = np.arange(2 ** k, dtype=np.int64)
    return ((codes[:, None] >> np.arange(k)) & 1).astype(np.int8)


def _product_prior(configs: np.ndarray, rates: np.ndarray) -> np.ndarray:
    Y = configs.astype(np.float64)
    return np.exp(Y @ np.log(rates) + (1.0 - Y) @ np.log1p(-rates))


def _full_posterior(on: np.ndarray, off: np.ndarray, configs: np.ndarray, prior: np.ndarray,
                    gold: np.ndarray | None, block: int = 4096) -> tuple[np.ndarray, float, np.ndarray]:
    """Posterior over label sets, in row blocks: marginals ``(n, K)``, mean log-likelihood, summed posterior."""
    Y = configs.astype(np.float64)
    log_prior = np.log(np.maximum(prior, 1e-300))
    q = np.empty(on.shape)
    post_sum = np.zeros(Y.shape[0])
    total = 0.0
    for a in range(0, on.shape[0], block):
        b = min(a + block, on.shape[0])
        scores = on[a:b] @ Y.T + off[a:b] @ (1.0 - Y).T + log_prior[None, :]
        norm = logsumexp(scores, axis=1, keepdims=True)
        total += float(norm.sum())
        if gold is not None:
            g = gold[a:b]
            clash = (g == 1).astype(np.float64) @ (1.0 - Y).T + (g == 0).astype(np.float64) @ Y.T
            scores = np.where(clash > 0, -np.inf, scores)
            norm = logsumexp(scores, axis=1, keepdims=True)
        post = np.exp(scores - norm)
        q[a:b] = np.clip(post @ Y, 0.0, 1.0)  # sums of posteriors may overshoot 1 by rounding
        post_sum += post.sum(axis=0)
    return q, total / on.shape[0], post_sum
