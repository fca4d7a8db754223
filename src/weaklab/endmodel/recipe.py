"""The default recipe from weak labels to a classifier, with its choices made on a validation split.

Measured on the visible WRENCH-format sets (BENCHMARKS.md, "End models"),
an end model trained on a label model's soft labels loses to that label
model for reasons the recipe can fix:

* the soft labels carry the label model's class balance, often far from the
  true one (Hausa: 48 % of the mass on one class that is 28 % of the gold);
  the fix is :func:`~weaklab.endmodel.match_class_prior` towards the class
  frequencies of the gold validation items;
* the end model cannot see what the sources see; giving it the votes as
  extra features (one indicator per source and class) lets it reproduce the
  label model where the votes decide and use the text elsewhere;
* a label model can collapse onto one class (every posterior near one-hot on
  the majority class); training on the vote shares then keeps the ranking
  the votes carry.

:class:`WeakLabelRecipe` trains one logistic regression per combination of
these options on the covered items without gold, keeps the one with the best
validation score, then lets :class:`CombinedPredictor` decide between that
end model, the label model and their combination, and calibrates the result
per part. Every choice is recorded (``candidates_``, ``reason_``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression

from .._core.soft_labels import with_known_classes
from .._core.validation import check_bool, check_choice, check_float, check_int, check_proba, fail
from ._targets import check_fitted, n_rows, take_rows
from .combine import CombinedPredictor, bootstrap_gain, score_predictions
from .prior import class_prior_from_gold
from .soft_label import SoftLabelClassifier

__all__ = ["WeakLabelRecipe", "vote_features", "vote_shares"]


def _known(known: Any, gold: np.ndarray, n_classes: int) -> np.ndarray:
    """``WeakLabelRecipe.fit``'s ``known``: class ids, -1 where none, never on an item with gold."""
    if known is None:
        return np.full(gold.shape[0], -1, dtype=np.int64)
    values = np.asarray(known)
    if values.shape != gold.shape or not np.issubdtype(values.dtype, np.integer) \
            or values.min(initial=-1) < -1 or values.max(initial=-1) >= n_classes:
        raise fail("known", f"{gold.shape[0]} class ids in -1..{n_classes - 1} (-1 = none)", known)
    both = int(((values >= 0) & (gold >= 0)).sum())
    if both:
        raise fail("known", "classes of training items only (an item with gold validates)",
                   got_text=f"{both} item(s) holding gold too")
    return values.astype(np.int64)


def vote_features(votes: Any, n_classes: int) -> sp.csr_matrix:
    """One indicator per (source, class): 1 where the source voted that class.

    Parameters
    ----------
    votes : array-like of int, shape (n, m)
        Class ids, ``-1`` = abstain.
    n_classes : int

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, m * n_classes)

    Examples
    --------
    >>> vote_features([[0, -1], [1, 1]], 2).toarray().tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
    """
    L = _votes(votes, n_classes)
    rows, cols = np.nonzero(L >= 0)
    data = np.ones(rows.size)
    return sp.csr_matrix((data, (rows, cols * n_classes + L[rows, cols])), shape=(L.shape[0], L.shape[1] * n_classes))


def vote_shares(votes: Any, n_classes: int) -> np.ndarray:
    """Each item's share of votes per class ``(n, k)``; all-NaN rows for items without a vote.

    Parameters
    ----------
    votes : array-like of shape (n, m) or LabelMatrix
        Votes, ``-1`` = abstain.
    n_classes : int
        Number of classes ``k``.

    Returns
    -------
    ndarray of shape (n, k)
        Each row sums to 1, or is all NaN for an item without a vote.

    Examples
    --------
    >>> vote_shares([[0, 0, 1], [-1, -1, -1]], 2)[0].round(3).tolist()
    [0.667, 0.333]
    """
    L = _votes(votes, n_classes)
    counts = np.stack([(L == c).sum(axis=1) for c in range(n_classes)], axis=1).astype(np.float64)
    total = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, counts / total, np.nan)


def _votes(votes: Any, n_classes: int) -> np.ndarray:
    L = np.asarray(votes)
    if L.ndim != 2 or L.dtype.kind not in "iu":
        raise fail("votes", "an integer matrix of shape (n_items, n_sources), -1 = abstain", L)
    if L.size and (L.min() < -1 or L.max() >= n_classes):
        raise fail("votes", f"class ids in 0..{n_classes - 1} or -1", got_text=f"values {L.min()}..{L.max()}")
    return L.astype(np.int64)


class WeakLabelRecipe(BaseEstimator):
    """End model on weak labels: options chosen on gold validation items, then end/combined/label model.

    Parameters
    ----------
    estimator : scikit-learn classifier, optional
        Trained through :class:`SoftLabelClassifier` (its ``fit`` must take
        ``sample_weight``). Default ``LogisticRegression(C=4, max_iter=2000)``.
    search : {"auto", "none"}, default="auto"
        ``"auto"``: with at least ``min_gold`` validation items, try every
        combination of training targets (label-model soft labels, vote
        shares), class prior (as given, matched to the validation class
        frequencies) and features (``X``, ``X`` plus :func:`vote_features`)
        and keep the best on validation. ``"none"`` (or too little gold):
        the label model's soft labels on ``X``, as given. That first
        configuration is kept unless the best other one beats it on
        validation by at least ``min_z`` bootstrap standard errors.
    combine : bool, default=True
        Let :class:`CombinedPredictor` choose between the end model, the
        label model and their combination on the validation items (needs
        ``min_gold`` of them).
    calibrate : bool, default=True
        Calibrate the chosen recipe per part on the validation items.
    metric : {"accuracy", "macro_f1", "f1"}, default="accuracy"
    positive : int, default=1
        The class ``metric="f1"`` scores.
    min_z : float, default=1.0
        The margin, in bootstrap standard errors of the validation gain
        (:func:`~weaklab.endmodel.bootstrap_gain`), a challenger needs to
        replace the default configuration, and the label model or the
        combination to replace the end model.
    min_gold : int, default=30
        Fewest validation items for any choice (below it nothing is chosen,
        and ``reason_`` says so).
    random_state : int, default=0

    Attributes
    ----------
    end_model_ : SoftLabelClassifier
        The kept end model (trained on the covered items without gold).
    config_ : dict
        Its ``targets``, ``prior`` and ``features``.
    candidates_ : list of dict
        Every configuration tried, with its validation ``score``.
    search_z_ : float
        The best challenger's gain over the default configuration in
        bootstrap standard errors (only after a search).
    combiner_ : CombinedPredictor or None
    choice_ : {"end_model", "combined", "label_model"}
    reason_ : str
    n_train_, n_validation_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300)
    >>> X = np.c_[y + rng.normal(0, 0.8, 300), rng.normal(size=300)]
    >>> right = np.where(rng.random((300, 3)) < 0.8, y[:, None], 1 - y[:, None])
    >>> votes = np.where(rng.random((300, 3)) < 0.4, right, -1)
    >>> lm = np.full((300, 2), 0.5)
    >>> gold = np.where(np.arange(300) < 60, y, -1)
    >>> recipe = WeakLabelRecipe().fit(X, votes, lm, gold)
    >>> recipe.choice_ in ("end_model", "combined", "label_model")
    True
    """

    def __init__(self, estimator: Any = None, search: str = "auto", combine: bool = True, calibrate: bool = True,
                 metric: str = "accuracy", positive: int = 1, min_z: float = 1.0, min_gold: int = 30,
                 random_state: int = 0) -> None:
        self.estimator = estimator
        self.search = search
        self.combine = combine
        self.calibrate = calibrate
        self.metric = metric
        self.positive = positive
        self.min_z = min_z
        self.min_gold = min_gold
        self.random_state = random_state

    def fit(self, X: Any, votes: Any, label_proba: Any, gold: Any = None, known: Any = None) -> WeakLabelRecipe:
        """Train on the covered items without gold; choose on the items with gold.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n, d)
            Features of every item.
        votes : array-like of int, shape (n, m)
            Source votes, ``-1`` = abstain.
        label_proba : array-like of shape (n, k)
            The label model's probabilities of every item.
        gold : array-like of shape (n,), optional
            Gold class ids of the validation items, ``-1`` elsewhere.
        known : array-like of shape (n,), optional
            Class ids a person gave to training items (e.g. answers to a
            review queue), ``-1`` elsewhere: these items train in every
            configuration, with or without a vote, on their class (one-hot,
            also where the targets are vote shares). They must not hold gold.

        Returns
        -------
        self
        """
        check_choice("WeakLabelRecipe(search=...)", self.search, ("auto", "none"))
        check_choice("WeakLabelRecipe(metric=...)", self.metric, ("accuracy", "macro_f1", "f1"))
        check_bool("WeakLabelRecipe(combine=...)", self.combine)
        min_gold = check_int("WeakLabelRecipe(min_gold=...)", self.min_gold, low=1)
        lm = check_proba("label_proba", label_proba, n_rows=n_rows(X))
        k = lm.shape[1]
        L = _votes(votes, k)
        if L.shape[0] != lm.shape[0]:
            raise fail("votes", f"{lm.shape[0]} rows (one per item)", got_text=f"{L.shape[0]} rows")
        y = np.full(lm.shape[0], -1) if gold is None else np.asarray(gold)
        if y.shape != (lm.shape[0],):
            raise fail("gold", f"{lm.shape[0]} labels (-1 = no gold)", y)
        known_ids = _known(known, y, k)
        covered = np.asarray((L >= 0).any(axis=1), dtype=bool)
        train = (covered & (y < 0)) | (known_ids >= 0)
        if train.sum() < 2:
            raise fail("votes", "at least two covered items without gold to train on",
                       got_text=f"{int(train.sum())} item(s)")
        valid = y >= 0
        enough = int(valid.sum()) >= min_gold
        self.n_train_, self.n_validation_, self.n_classes_ = int(train.sum()), int(valid.sum()), k
        grid = self._grid(enough)
        prior = class_prior_from_gold(y, k) if enough else None
        min_z = check_float("WeakLabelRecipe(min_z=...)", self.min_z, low=0.0)
        self.candidates_: list[dict[str, Any]] = []
        fitted: list[tuple[float, SoftLabelClassifier, dict[str, str], np.ndarray]] = []
        X_valid = take_rows(X, np.flatnonzero(valid))
        for config in grid:
            model = self._fit_one(config, X, L, lm, train, prior, known_ids)
            if model is None:
                self.candidates_.append({**config, "score": None, "note": "targets on one class only"})
                continue
            pred = model.predict_proba(self._features(config, X_valid, L[valid])).argmax(axis=1) if enough \
                else np.zeros(0, dtype=np.int64)
            score = self._score(pred, y[valid]) if enough else float("nan")
            self.candidates_.append({**config, "score": score})
            fitted.append((score, model, config, pred))
        if not fitted:
            raise fail("label_proba", "soft labels on at least 2 classes over the covered items",
                       got_text="every configuration's targets on one class")
        _, self.end_model_, self.config_, base_pred = fitted[0]  # the first workable configuration
        if enough and len(fitted) > 1:
            score, model, config, pred = max(fitted[1:], key=lambda f: f[0])
            gain, z = bootstrap_gain(y[valid], pred, base_pred, k, self.metric, int(self.positive),
                                     random_state=self.random_state)
            self.search_z_ = z
            if gain > 0 and z >= min_z:
                self.end_model_, self.config_ = model, config
        self._choose(X, L, lm, covered, y, enough, min_gold)
        return self

    def end_model_proba(self, X: Any, votes: Any) -> np.ndarray:
        """The kept end model's own probabilities ``(n, k)`` (no combination, no calibration)."""
        check_fitted(self, "end_model_")
        return np.asarray(self.end_model_.predict_proba(self._features(self.config_, X,
                                                                       _votes(votes, self.n_classes_))))

    def predict_proba(self, X: Any, votes: Any, label_proba: Any, *, calibrated: bool = True) -> np.ndarray:
        """The chosen recipe's probabilities ``(n, k)`` (calibrated when ``calibrate`` and ``calibrated``)."""
        end = self.end_model_proba(X, votes)
        L = _votes(votes, self.n_classes_)
        if self.combiner_ is None:
            return end
        return np.asarray(self.combiner_.predict_proba(end, label_proba, (L >= 0).any(axis=1), calibrated=calibrated))

    def predict(self, X: Any, votes: Any, label_proba: Any) -> np.ndarray:
        """The chosen recipe's class ids ``(n,)``."""
        return np.asarray(self.predict_proba(X, votes, label_proba).argmax(axis=1))

    # ------------------------------------------------------------------ helpers
    def _grid(self, enough: bool) -> list[dict[str, str]]:
        if self.search == "none" or not enough:
            return [{"targets": "label_model", "prior": "as given", "features": "X"}]
        return [{"targets": t, "prior": p, "features": f} for t in ("label_model", "vote_shares")
                for p in ("as given", "validation") for f in ("X", "X+votes")]

    def _features(self, config: dict[str, str], X: Any, L: np.ndarray) -> Any:
        if config["features"] == "X":
            return X
        votes = vote_features(L, self.n_classes_)
        if not sp.issparse(X):  # dense features stay dense (estimators such as HistGradientBoosting refuse sparse)
            return np.hstack([np.asarray(X, dtype=np.float64), votes.toarray()])
        return sp.hstack([sp.csr_matrix(X), votes], format="csr")

    def _fit_one(self, config: dict[str, str], X: Any, L: np.ndarray, lm: np.ndarray, train: np.ndarray,
                 prior: np.ndarray | None, known: np.ndarray) -> SoftLabelClassifier | None:
        targets = lm if config["targets"] == "label_model" else vote_shares(L, self.n_classes_)
        if (known >= 0).any():  # a person's class is the target, whatever the configuration reads
            targets = with_known_classes(targets, known)
        rows = np.flatnonzero(train)
        base = self.estimator if self.estimator is not None else LogisticRegression(C=4.0, max_iter=2000)
        model = SoftLabelClassifier(clone(base), classes=np.arange(self.n_classes_),
                                    class_prior=prior if config["prior"] == "validation" else None)
        try:
            return model.fit(self._features(config, take_rows(X, rows), L[rows]), targets[rows])
        except ValueError as exc:  # ValidationError: the targets put weight on one class only
            if "at least 2 classes" in str(exc):
                return None
            raise

    def _score(self, pred: np.ndarray, y: np.ndarray) -> float:
        return score_predictions(y, pred, self.n_classes_, self.metric, int(self.positive))

    def _choose(self, X: Any, L: np.ndarray, lm: np.ndarray, covered: np.ndarray, y: np.ndarray, enough: bool,
                min_gold: int) -> None:
        config = ", ".join(f"{k}={v}" for k, v in self.config_.items())
        self.combiner_ = None
        if not (self.combine and enough):
            self.choice_ = "end_model"
            why = "combine=False" if not self.combine else (
                f"only {self.n_validation_} validation item(s) with gold (< min_gold={min_gold}): nothing was "
                "chosen, the end model is used as trained")
            self.reason_ = f"end model ({config}); {why}"
            return
        end = self.end_model_proba(X, L)
        combiner = CombinedPredictor(metric=self.metric, positive=self.positive, min_z=self.min_z,
                                     calibrate=self.calibrate, random_state=self.random_state)
        self.combiner_ = combiner.fit(end, lm, covered, y)
        self.choice_ = self.combiner_.choice_
        self.reason_ = f"end model chosen among {len(self.candidates_)} on validation ({config}); " + \
            self.combiner_.reason_
