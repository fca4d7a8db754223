"""The late steps of a project: label issues (cleaning) and the review queue (active learning).

Both stages are imported when a step runs, so a run that stops earlier does
not load them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from .._core import SoftLabels
from .._core.validation import check_int, fail
from ..store import Store

__all__ = ["DEFAULT_MAX_ISSUES", "issue_labels", "issues_step", "judge_proba", "query_step"]

#: Label issues recorded per run unless ``[issues].max_issues`` says otherwise.
DEFAULT_MAX_ISSUES = 200
#: The ``[issues].method`` that judges weak labels with the votes (the default).
VOTES_METHOD = "votes"


def issue_labels(soft: SoftLabels, covered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(covered positions, given labels)``: the items with a vote and their label model arg-max.

    Raises
    ------
    ValidationError
        Fewer than 10 such items, or all of one class (nothing to judge).
    """
    positions = np.flatnonzero(np.asarray(covered, dtype=bool))
    given = np.argmax(soft.proba[positions], axis=1)
    if positions.size < 10 or np.unique(given).size < 2:
        raise fail("issues", "at least 10 labelled items of two or more classes to judge",
                   got_text=f"{positions.size} item(s) of {np.unique(given).size} class(es)")
    return positions, given


def judge_proba(features: Any, positions: np.ndarray, given: np.ndarray, n_classes: int, *,
                random_state: int = 0) -> np.ndarray:
    """Out-of-fold probabilities (5 folds) of a logistic regression on ``features`` of the covered items.

    No item is judged by a model that saw its label.
    """
    from ..cleaning import out_of_fold_proba

    judge = LogisticRegression(C=4.0, max_iter=2000, random_state=random_state)
    return out_of_fold_proba(judge, features[positions], given, cv=5, n_classes=n_classes,
                             random_state=random_state)


def issues_step(store: Store, run_id: int, soft: SoftLabels, covered: np.ndarray, features: Any, ids: np.ndarray,
                options: dict[str, Any], *, random_state: int = 0, judged: np.ndarray | None = None,
                votes: Any = None, model: Any = None) -> pd.DataFrame:
    """Find items whose weak label looks wrong, rank them, record them; return the ranked table.

    The given label of an item is the label model's arg-max; the judge is
    the out-of-fold probability of a logistic regression on the end model's
    features (5 folds, :func:`judge_proba`), so no item is judged by a model
    that saw its label. Only items with a vote are judged.

    Parameters
    ----------
    store : Store
    run_id : int
    soft : SoftLabels
        The label model's soft labels of every item.
    covered : ndarray of bool, shape (n,)
        Items with at least one vote (the others have no weak label to judge).
    features : sparse matrix or ndarray of shape (n, d)
        The end model's features of every item (unused when ``judged`` is given).
    ids : ndarray of shape (n,)
        The items' ids.
    options : dict
        ``method`` and ``max_issues``. ``"votes"`` (the default, needs
        ``votes``): :func:`weaklab.cleaning.find_weak_label_errors` with the
        label model's confusion; the table gets the ``responsible`` sources.
        Otherwise a :data:`weaklab.cleaning.ISSUE_METHODS` name, judged by
        :func:`weaklab.cleaning.detect_label_issues` (the store records the
        method used, ``"auto:<picked>"`` for auto).
    random_state : int, default=0
    judged : ndarray of shape (n_covered, k), optional
        The judge's probabilities when already known (reused from an earlier run).
    votes : LabelMatrix, optional
        The votes of every item (required by ``"votes"``).
    model : fitted label model, optional
        Its ``confusion_`` and ``abstain_rate_`` are used when it has them.
    """
    method = options.get("method", VOTES_METHOD)
    limit = check_int("issues.max_issues", options.get("max_issues", DEFAULT_MAX_ISSUES), low=0)
    covered, given = issue_labels(soft, covered)
    pred = judged if judged is not None else judge_proba(features, covered, given, soft.n_classes,
                                                          random_state=random_state)
    if method == VOTES_METHOD:
        if votes is None:
            raise fail("votes", "the label matrix for [issues].method = 'votes'", got_text="none")
        order, suggested, score, table_extra = _weak_errors(votes, covered, soft, pred, model, limit)
        used = "votes"
    else:
        order, suggested, score, used = _label_issues(given, pred, method, limit)
        table_extra = {}
    rows = covered[order]
    table = pd.DataFrame({"item_id": ids[rows], "given": given[order], "suggested": suggested, "score": score,
                          **table_extra})
    if len(table):
        store.add_label_issues(run_id, table["item_id"].to_numpy(), method=used, given=given[order],
                               suggested=suggested, score=score)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def _label_issues(given: np.ndarray, pred: np.ndarray, method: str,
                  limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    from ..cleaning import detect_label_issues, rank_label_issues

    found = detect_label_issues(given, pred, method=method)
    order = rank_label_issues(given, pred, mask=found.mask)[:limit]
    used = found.method if method == found.method else f"{method}:{found.method}"  # e.g. auto:ranked_posterior
    return order, np.argmax(pred[order], axis=1), pred[order, given[order]], used


def _weak_errors(votes: Any, covered: np.ndarray, soft: SoftLabels, pred: np.ndarray, model: Any,
                 limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Ranked flagged positions, suggested classes, score (1 - error probability) and responsible sources."""
    from ..cleaning import find_weak_label_errors

    found = find_weak_label_errors(np.asarray(votes.to_dense())[covered], soft.proba[covered], pred,
                                   confusion=getattr(model, "confusion_", None),
                                   abstain_rate=getattr(model, "abstain_rate_", None),
                                   source_names=votes.source_names)
    order = found.ranked()[:limit]
    responsible = [", ".join(found.responsible[i]) for i in order]
    return order, found.suggested[order], 1.0 - found.error_proba[order], {"responsible": responsible}


def query_step(proba: np.ndarray, ids: np.ndarray, excluded: np.ndarray, strategy: str, n: int, *,
               random_state: int = 0) -> list[Any]:
    """The ids of the ``n`` items a human should label next (most uncertain first, excluded items skipped).

    Parameters
    ----------
    proba : ndarray of shape (n_items, k)
        Class probabilities (the end model's when trained, else the label model's).
    ids : ndarray of shape (n_items,)
    excluded : ndarray of bool, shape (n_items,)
        Items already answered or held out for evaluation.
    strategy : {"entropy", "margin", "least_confidence"}
    n : int
        At most this many items (fewer when fewer are available).
    random_state : int, default=0
        Breaks ties.
    """
    from ..active import top_n, uncertainty

    available = ~np.asarray(excluded, dtype=bool)
    n = min(check_int("query.n", n, low=1), int(available.sum()))
    if n == 0:
        return []
    positions = top_n(uncertainty(proba, measure=strategy), n, available=available, random_state=random_state)
    return [v.item() if isinstance(v, np.generic) else v for v in ids[positions]]
