"""Choosing a label model from the data: gold-scored when gold exists, unsupervised otherwise.

:class:`AutoLabelModel` fits several candidate label models and keeps the one
that scores best, then refits it on all the data. Two criteria:

* **With gold** (``fit(L, gold=...)`` with at least ``min_gold`` known
  labels): every candidate is scored on the gold items. A candidate that does
  not use gold is fitted once without it and scored on all gold items; a
  candidate that uses gold (``"<name>+gold"``: the same model given the gold
  labels, e.g. Dawid-Skene with the gold items clamped) is cross-validated over
  the gold items, so it is never scored on a label it was fitted with.
* **Without gold**: the *held-out vote likelihood*. Items are split in two
  halves A and B; each candidate is fitted on A, source confusions are
  estimated from its posteriors on A, and on B every vote ``v_ij`` is
  predicted from the other votes of item ``i``:
  ``log sum_c P(c | votes of i except j) * confusion[j, c, v_ij]``. The mean
  over held-out votes is the score (higher is better).

Splits and folds are functions of the votes (and gold labels) of each item,
salted by ``random_state``, not of row or column positions, so the choice does
not depend on the order of items or sources.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._core import LabelMatrix
from .._core.constants import STATE_SCHEMA_VERSION
from .._core.state import check_state, to_jsonable
from .._core.validation import Checker, check_random_state, fail, instance_of, interval, optional, options
from ._auto_select import (
    GoldScorer,
    checked_proba,
    eval_votes,
    fit_candidate,
    gold_cv_proba,
    heldout_vote_loglik,
    mix,
    resolve_metric,
    row_hashes,
    sample_side,
    shift_threshold,
    spread,
)
from ._base import LabelModel

__all__ = ["AutoLabelModel"]

logger = logging.getLogger(__name__)

METRICS = ("auto", "accuracy", "f1_minority", "macro_f1")
_CROWD_DENSITY = 0.2  # GLAD/MACE/Wawa join the defaults when under this share of cells hold a vote
_BEST_PREFIX = "best_model/"
_SCORE_COLUMNS = ("candidate", "uses_gold", "threshold", "score", "score_std", "status")
_U64 = np.uint64


# ---------------------------------------------------------------------------------------- candidates


def default_candidates(L: LabelMatrix) -> list[tuple[str, LabelModel]]:
    """The candidates :class:`AutoLabelModel` tries on ``L`` when none are given.

    Majority vote, weighted majority vote, Dawid-Skene (three smoothing
    values), one-coin Dawid-Skene and matrix completion always; the triplet
    method for binary tasks; GLAD, MACE and Wawa for crowd-shaped matrices
    (under 20 % of the cells hold a vote).
    """
    from .dawid_skene import DawidSkene, OneCoinDawidSkene
    from .majority import MajorityVote
    from .matrix_completion import MatrixCompletion
    from .weighted import WeightedMajorityVote

    out: list[tuple[str, LabelModel]] = [
        ("MajorityVote", MajorityVote()),
        ("WeightedMajorityVote", WeightedMajorityVote()),
        ("DawidSkene", DawidSkene()),
        ("DawidSkene(smoothing=0.1)", DawidSkene(smoothing=0.1)),
        ("DawidSkene(smoothing=10)", DawidSkene(smoothing=10.0)),
        ("OneCoinDawidSkene", OneCoinDawidSkene()),
        ("MatrixCompletion", MatrixCompletion()),
    ]
    if L.n_classes == 2:
        from .triplet import Triplet

        out.append(("Triplet", Triplet()))
    if L.nnz < _CROWD_DENSITY * L.n_items * L.n_sources:
        from .glad import GLAD
        from .mace import MACE
        from .wawa import Wawa

        out += [("GLAD", GLAD()), ("MACE", MACE()), ("Wawa", Wawa())]
    return out


def _named_candidates(candidates: Any, L: LabelMatrix) -> list[tuple[str, LabelModel]]:
    if candidates is None:
        return default_candidates(L)
    expected = "None or a non-empty sequence of LabelModel instances or (name, LabelModel) pairs"
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence) or not candidates:
        raise fail("AutoLabelModel(candidates=...)", expected, candidates)
    named: list[tuple[str, LabelModel]] = []
    for item in candidates:
        name, est = item if isinstance(item, tuple) and len(item) == 2 else (None, item)
        if not isinstance(est, LabelModel) or isinstance(est, AutoLabelModel):
            raise fail("AutoLabelModel(candidates=...)", expected + " (not AutoLabelModel)", item)
        named.append((str(name) if name is not None else type(est).__name__, est))
    names = [n for n, _ in named]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise fail("AutoLabelModel(candidates=...)", "unique candidate names", got_text=f"repeated {dup}")
    return named


# ------------------------------------------------------------------------------------------- estimator


class AutoLabelModel(LabelModel):
    """A label model that picks and configures itself from the data it is fitted on.

    ``fit`` scores every candidate, keeps the best (``selected_``), refits it
    on all the data (``best_model_``) and predicts with it. Scoring uses gold
    labels when ``fit`` gets at least ``min_gold`` of them, and the held-out
    vote likelihood otherwise (see *Notes*).

    Parameters
    ----------
    candidates : sequence of LabelModel or (name, LabelModel), optional
        Unfitted models to choose from. Default :func:`default_candidates`:
        majority vote, weighted majority vote, Dawid-Skene (three smoothing
        values), one-coin Dawid-Skene, matrix completion, the triplet method
        (binary tasks) and GLAD, MACE and Wawa (crowd-shaped matrices). With
        gold, every candidate is also tried *given the gold labels* (named
        ``"<name>+gold"``; semi-supervised models clamp the gold items, the
        others take the class balance from them).
    metric : {"auto", "accuracy", "f1_minority", "macro_f1"}, default="auto"
        Score on the gold items. ``"auto"``: the F1 of the minority class for
        a binary task whose gold minority share is under 35 %, accuracy
        otherwise. Ties in hard labels count fractionally (the expectation
        under ``tie_break="random"``). Unused without gold.
    cv : int, default=5
        Folds over the gold items for candidates that use gold.
    min_gold : int, default=30
        Fewest gold labels for gold-based selection; with fewer, the
        unsupervised criterion is used (and ``reason_`` says so).
    random_state : None, int or numpy.random.Generator, default=None
        Salts the item split and the gold folds and seeds the candidates
        whose own ``random_state`` is None.

    Attributes
    ----------
    selected_ : str
        Name of the chosen candidate.
    best_model_ : LabelModel
        The chosen candidate, refitted on all of ``L`` (with the gold labels
        when its name ends in ``+gold``); ``predict_proba`` delegates to it.
    scores_ : pandas.DataFrame
        One row per candidate: ``candidate``, ``uses_gold``, ``score``,
        ``score_std`` (across folds, for ``+gold`` candidates), ``status``
        (``"ok"``, ``"error: ..."`` or ``"disqualified: ..."``), sorted best
        first.
    criterion_ : {"gold", "heldout_vote_loglik"}
    metric_ : str
        The concrete metric (``"mean_log_prob"`` without gold).
    reason_ : str
        One paragraph saying what was chosen and why.
    class_balance_ : ndarray of shape (k,)
        The chosen model's class balance.
    candidate_seconds_ : dict of str to float
        Wall time spent on each candidate (not saved by :meth:`to_state`).

    Notes
    -----
    **Using gold without leaking test labels.** Pass the votes of every item
    you want labelled plus the items with gold, and the gold labels with
    ``-1`` elsewhere, e.g. for a train/valid/test split::

        L_tv = LabelMatrix.concat([L_train, L_valid])
        gold = np.r_[np.full(L_train.n_items, -1), y_valid]
        auto = AutoLabelModel(random_state=0).fit(L_tv, gold=gold)
        auto.predict(L_test)

    The test labels are never passed. A candidate that does not use gold is
    fitted without it and scored on every gold item; a ``+gold`` candidate is
    scored out-of-fold (``cv`` folds over the gold items, dealt so that items
    with equal votes and gold are spread evenly).

    **Without gold** the score is the mean held-out log-probability of a vote
    given the other votes on its item: items are split into halves A and B;
    a candidate fitted on A gives posteriors on A, from which each source's
    confusion is estimated; each vote ``v_ij`` in B is then scored by
    ``log sum_c P(c | votes of i without j) confusion[j, c, v_ij]``. A
    candidate whose classes look permuted against majority vote is
    disqualified (the criterion cannot tell class labels apart). This is a
    proxy: it rewards posteriors that explain the sources' agreement, which
    tracks accuracy when sources are conditionally independent given the
    class, and can favour a wrong model when sources are correlated (copies
    of one LF agree with each other whatever the truth) or when one class is
    rarely voted. It is noticeably less reliable than a few dozen gold
    labels; ``BENCHMARKS.md`` reports how often it picks well.
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {
        "metric": options(*METRICS),
        "cv": interval(int, 2, None),
        "min_gold": interval(int, 2, None),
        "random_state": optional(instance_of(int, np.random.Generator,
                                             text="None, an int or a numpy Generator")),
    }
    _min_sources: ClassVar[int] = 1

    def __init__(
        self,
        candidates: Sequence[Any] | None = None,
        *,
        metric: str = "auto",
        cv: int = 5,
        min_gold: int = 30,
        random_state: Any = None,
    ) -> None:
        self.candidates = candidates
        self.metric = metric
        self.cv = cv
        self.min_gold = min_gold
        self.random_state = random_state

    # ----------------------------------------------------------------- fit
    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        rng = check_random_state(self.random_state, "AutoLabelModel(random_state=...)")
        salt, seed = (int(x) for x in rng.integers(0, 2**31 - 1, size=2))
        named = [(n, e) for n, e in _named_candidates(self.candidates, L) if L.n_sources >= e._min_sources]
        n_gold = 0 if gold is None else int(np.sum(gold >= 0))
        self.candidate_seconds_: dict[str, float] = {}
        if n_gold >= self.min_gold:
            rows = self._select_with_gold(named, L, gold, class_balance, salt, seed)  # type: ignore[arg-type]
        else:
            rows = self._select_unsupervised(named, L, class_balance, salt, seed)
        table = pd.DataFrame(rows, columns=list(_SCORE_COLUMNS))
        table = table.sort_values("score", ascending=False, kind="stable", na_position="last")
        self.scores_ = table.reset_index(drop=True)
        ok = self.scores_[self.scores_["status"] == "ok"]
        if ok.empty:
            raise fail("L", "votes on which at least one candidate label model can be fitted",
                       got_text="every candidate failed: " + "; ".join(self.scores_["status"].astype(str)))
        best = ok.iloc[0]
        self.selected_ = str(best["candidate"])
        estimator = dict(named)[self.selected_.removesuffix("+threshold").removesuffix("+gold")]
        refit_gold = gold if best["uses_gold"] else None
        self.best_model_ = fit_candidate(estimator, L, refit_gold, class_balance, seed, quiet=False)
        self.threshold_ = None if np.isnan(best["threshold"]) else float(best["threshold"])
        prior = np.asarray(self.best_model_.class_balance_, dtype=np.float64)
        self.class_balance_ = self._adjust(prior[None, :])[0]
        self.reason_ = self._reason(n_gold, ok)
        logger.info("AutoLabelModel: %s", self.reason_)

    def _select_with_gold(self, named: list[tuple[str, LabelModel]], L: LabelMatrix, gold: np.ndarray,
                          balance: np.ndarray | None, salt: int, seed: int) -> list[tuple[Any, ...]]:
        known = np.flatnonzero(gold >= 0)
        y = gold[known]
        self.criterion_ = "gold"
        self.metric_, positive = resolve_metric(self.metric, y, L.n_classes)
        self.positive_ = positive
        hashes = row_hashes(L, salt)[known]
        with np.errstate(over="ignore"):
            folds = spread(mix(hashes + y.astype(_U64) * _U64(0x2545F491)), self.cv)
        L_gold = L.select_items(known)
        scorer = GoldScorer(y, folds, self.cv, self.metric_, positive)
        rows: list[tuple[Any, ...]] = []
        for name, est in named:
            def plain(e: LabelModel = est) -> np.ndarray:
                return checked_proba(fit_candidate(e, L, None, balance, seed).predict_proba(L_gold))

            def with_gold(e: LabelModel = est) -> np.ndarray:
                return gold_cv_proba(e, L, gold, folds, self.cv, balance, seed)

            rows += self._gold_rows(name, False, plain, scorer, L.n_classes)
            rows += self._gold_rows(name + "+gold", True, with_gold, scorer, L.n_classes)
        return rows

    def _gold_rows(self, name: str, uses_gold: bool, posteriors: Any, scorer: GoldScorer,
                   k: int) -> list[tuple[Any, ...]]:
        """Rows for a candidate's posteriors on the gold items, as is and (binary) with a tuned threshold."""
        t0 = time.perf_counter()
        try:
            proba = posteriors()
        except Exception as exc:  # a failing candidate is recorded and skipped, not fatal
            logger.warning("AutoLabelModel: candidate %s failed: %s: %s", name, type(exc).__name__, exc)
            status = f"error: {type(exc).__name__}: {exc}"
            return [(name, uses_gold, np.nan, np.nan, np.nan, status)]
        finally:
            self.candidate_seconds_[name] = time.perf_counter() - t0
        score, std = scorer.score(proba)
        rows = [(name, uses_gold, np.nan, score, std, "ok")]
        if k == 2:
            score_t, std_t, threshold = scorer.score_with_threshold(proba)
            rows.append((name + "+threshold", uses_gold, threshold, score_t, std_t, "ok"))
        return rows

    def _select_unsupervised(self, named: list[tuple[str, LabelModel]], L: LabelMatrix,
                             balance: np.ndarray | None, salt: int, seed: int) -> list[tuple[Any, ...]]:
        self.criterion_, self.metric_, self.positive_ = "heldout_vote_loglik", "mean_log_prob", 1
        if L.n_sources < 2 or L.nnz < 4:
            return [(n, False, np.nan, 0.0 if i == 0 else np.nan, np.nan,
                     "ok" if i == 0 else "skipped: too few votes to compare models")
                    for i, (n, _) in enumerate(named)]
        hashes = row_hashes(L, salt)
        side = spread(hashes, 2)
        side_a, side_b = sample_side(L, side == 0, hashes), sample_side(L, side == 1, hashes)
        mask = eval_votes(side_b, row_hashes(side_b, salt), salt)
        rows = []
        for name, est in named:
            def score(e: LabelModel = est) -> tuple[float, str]:
                return heldout_vote_loglik(e, side_a, side_b, mask, balance, seed)

            rows.append(self._timed(name, score))
        return rows

    def _timed(self, name: str, score: Any) -> tuple[Any, ...]:
        t0 = time.perf_counter()
        try:
            value, status = score()
        except Exception as exc:  # a failing candidate is recorded and skipped, not fatal
            logger.warning("AutoLabelModel: candidate %s failed: %s: %s", name, type(exc).__name__, exc)
            value, status = np.nan, f"error: {type(exc).__name__}: {exc}"
        self.candidate_seconds_[name] = time.perf_counter() - t0
        return (name, False, np.nan, value, np.nan, status)

    def _reason(self, n_gold: int, ok: pd.DataFrame) -> str:
        best = ok.iloc[0]
        runner = ok.iloc[1] if len(ok) > 1 else None
        if self.criterion_ == "gold":
            how = (f"{self.metric_} on {n_gold} gold items (out-of-fold over {self.cv} folds for "
                   "candidates that use gold)")
        else:
            note = f" ({n_gold} gold labels < min_gold={self.min_gold})" if n_gold else " (no gold labels)"
            how = "held-out vote log-likelihood, an unsupervised proxy" + note
        text = f"selected {self.selected_} with score {best['score']:.4f} by {how}"
        if runner is not None:
            text += f"; runner-up {runner['candidate']} {runner['score']:.4f}"
        failed = int((self.scores_["status"] != "ok").sum())
        return text + (f"; {failed} candidate(s) failed or were disqualified (see scores_)" if failed else "")

    # ------------------------------------------------------------- predict
    def _predict_proba(self, L: LabelMatrix) -> np.ndarray:
        return self._adjust(self.best_model_.predict_proba(L))

    def _adjust(self, proba: np.ndarray) -> np.ndarray:
        return proba if self.threshold_ is None else shift_threshold(proba, self.threshold_, self.positive_)

    # --------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        """The fitted model as JSON + arrays; the chosen model's state is nested."""
        state = super().to_state()
        state["params"]["candidates"] = _encode_candidates(self.candidates)
        inner = self.best_model_.to_state()
        state["attributes"].update(
            selected_=self.selected_, reason_=self.reason_, criterion_=self.criterion_, metric_=self.metric_,
            threshold_=self.threshold_, positive_=self.positive_,
            scores_=_records(self.scores_),
            best_model={k: inner[k] for k in ("schema_version", "class", "module", "params", "attributes")},
        )
        state["arrays"].update({_BEST_PREFIX + k: v for k, v in inner["arrays"].items()})
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> AutoLabelModel:
        """Rebuild a fitted AutoLabelModel (and its chosen model) from :meth:`to_state` output."""
        check_state(state, cls.__name__)
        params = dict(state["params"])
        params["candidates"] = _decode_candidates(params.get("candidates"))
        attrs, arrays = state["attributes"], state["arrays"]
        missing = [a for a in ("n_sources_", "n_classes_", "source_names_", "class_names_", "selected_",
                               "best_model") if a not in attrs]
        if missing or "class_balance_" not in arrays:
            raise fail("state", "the state of a fitted AutoLabelModel", got_text=f"missing {missing}")
        model = cls(**params)
        for name in ("n_sources_", "n_classes_", "source_names_", "class_names_", "selected_", "reason_",
                     "criterion_", "metric_", "threshold_", "positive_"):
            setattr(model, name, attrs.get(name))
        model.scores_ = pd.DataFrame(attrs.get("scores_", []), columns=list(_SCORE_COLUMNS)).fillna(
            {"threshold": np.nan, "score": np.nan, "score_std": np.nan})
        model.class_balance_ = np.asarray(arrays["class_balance_"])
        inner = dict(attrs["best_model"])
        inner["arrays"] = {k[len(_BEST_PREFIX):]: v for k, v in arrays.items() if k.startswith(_BEST_PREFIX)}
        model.best_model_ = _model_class(inner.get("module"), inner.get("class")).from_state(inner)
        model.candidate_seconds_ = {}
        return model


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in table.to_dict(orient="records"):
        out.append({str(k): (None if isinstance(v, float) and not np.isfinite(v) else to_jsonable(v))
                    for k, v in rec.items()})
    return out


def _model_class(module: Any, name: Any) -> type[LabelModel]:
    if not isinstance(module, str) or not module.startswith("weaklab.") or not isinstance(name, str):
        raise fail("state", "a nested weaklab label-model state",
                   got_text=f"module {module!r}, class {name!r}")
    cls = getattr(importlib.import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, LabelModel)):
        raise fail("state", "a nested weaklab label-model state", got_text=f"class {name!r}")
    return cls


def _encode_candidates(candidates: Any) -> Any:
    if candidates is None:
        return None
    out = []
    for item in candidates:
        name, est = item if isinstance(item, tuple) else (None, item)
        out.append({"name": name, "module": type(est).__module__, "class": type(est).__name__,
                    "params": to_jsonable(est.get_params(deep=False)),
                    "schema_version": STATE_SCHEMA_VERSION})
    return out


def _decode_candidates(encoded: Any) -> Any:
    if encoded is None:
        return None
    out: list[Any] = []
    for rec in encoded:
        est = _model_class(rec.get("module"), rec.get("class"))(**rec.get("params", {}))
        out.append(est if rec.get("name") is None else (rec["name"], est))
    return out
