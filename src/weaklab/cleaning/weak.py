"""Errors in weak labels, found with the votes: is the weak label wrong, and which source misled it?

cleanlab-style detection sees one label and a model's probabilities. A weak
label comes with more: every source's vote, the label model's estimate of
how each source errs, the label model's posterior and how far the sources
agree. :func:`find_weak_label_errors` combines three views of each item's
true class, each a distribution over the ``k`` classes:

* the label model's posterior ``p_lm(y | votes)``;
* the out-of-fold end-model probabilities ``p_oof(y | x)`` (a model that
  never saw the item's weak label);
* the sources' weighted vote shares: every vote counts with the log-odds of
  its source's precision for the class it voted, so a reliable source
  outweighs several unreliable ones.

Their mean is the combined belief ``c``; the probability that the weak
label ``g`` is wrong is ``1 - c[g]``. Items are flagged from the most
probable error down to the cut that maximises the expected F1 under these
probabilities. A flagged item's *responsible sources* are those that voted
its weak label, most reliable first: they pulled the label model to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core.validation import check_proba, fail

__all__ = ["WeakLabelErrors", "find_weak_label_errors", "source_precision", "expected_f1_cut"]

_EPS = 1e-3


@dataclass(frozen=True)
class WeakLabelErrors:
    """Which weak labels look wrong, how likely, and which sources voted for them.

    Attributes
    ----------
    mask : ndarray of shape (n,) and dtype bool
        True for the items whose weak label is flagged as wrong.
    error_proba : ndarray of shape (n,)
        Combined probability that the weak label is wrong, ``1 - c[i, given_i]``.
    given : ndarray of shape (n,)
        The weak label (the label model's most probable class).
    suggested : ndarray of shape (n,)
        The most probable class under the combined belief.
    responsible : tuple of tuples of str, length n
        For a flagged item, the sources that voted its weak label, most
        reliable first; empty for the other items (and for a flagged item
        whose weak label no source voted: the label model's prior or its
        weighting of the sources chose it).
    source_names : tuple of str
    precision : ndarray of shape (m, k)
        Estimated precision of each source's vote for each class.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import DawidSkene
    >>> from weaklab.cleaning import find_weak_label_errors
    >>> from weaklab.synthetic import make_label_matrix
    >>> data = make_label_matrix(1000, 6, coverage=0.5, accuracy=(0.55, 0.9), random_state=0)
    >>> lm = DawidSkene(random_state=0).fit(data.L)
    >>> lm_proba = lm.predict_proba(data.L)
    >>> pred_probs = 0.5 * lm_proba + 0.5 * np.eye(2)[data.y]  # stands in for an out-of-fold end model
    >>> errors = find_weak_label_errors(data.L, lm_proba, pred_probs, source_names=data.L.source_names)
    >>> type(errors).__name__, int(errors.mask.sum()) > 0
    ('WeakLabelErrors', True)
    >>> flagged = int(np.flatnonzero(errors.mask)[0])
    >>> bool(errors.given[flagged] != data.y[flagged]), len(errors.responsible[flagged]) > 0
    (True, True)
    """

    mask: np.ndarray
    error_proba: np.ndarray
    given: np.ndarray
    suggested: np.ndarray
    responsible: tuple[tuple[str, ...], ...]
    source_names: tuple[str, ...]
    precision: np.ndarray

    @property
    def n_errors(self) -> int:
        """Number of flagged items."""
        return int(self.mask.sum())

    def ranked(self) -> np.ndarray:
        """Positions of the flagged items, most probable error first (ties keep row order)."""
        flagged = np.flatnonzero(self.mask)
        return flagged[np.argsort(-self.error_proba[flagged], kind="stable")].astype(np.int64)

    def blame(self) -> dict[str, int]:
        """For each source, the number of flagged items it voted the wrong weak label on."""
        counts = dict.fromkeys(self.source_names, 0)
        for names in self.responsible:
            for name in names:
                counts[name] += 1
        return counts


def find_weak_label_errors(
    votes: Any,
    lm_proba: Any,
    pred_probs: Any,
    *,
    confusion: Any = None,
    abstain_rate: Any = None,
    source_names: Any = None,
) -> WeakLabelErrors:
    """Flag the items whose weak label is likely wrong and name the sources that voted for it.

    Parameters
    ----------
    votes : LabelMatrix or array-like of shape (n, m)
        The sources' votes on the judged items, ``-1`` = abstain.
    lm_proba : array-like of shape (n, k)
        The label model's posterior; its argmax is the weak label.
    pred_probs : array-like of shape (n, k)
        Out-of-fold probabilities of a model trained on the weak labels
        (:func:`out_of_fold_proba`).
    confusion : array-like of shape (m, k, k), optional
        The label model's per-source confusion, ``confusion[j, c, v] =
        P(source j votes v | class c, j votes)`` (``confusion_`` of the
        models that learn one). Default: each source's precision is
        estimated from ``lm_proba`` on the items it votes on.
    abstain_rate : array-like of shape (m, k), optional
        ``P(source j abstains | class c)`` (``abstain_rate_``), used with
        ``confusion``: a source that fires on one class only is told apart
        by when it abstains.
    source_names : sequence of str, optional
        Default: the LabelMatrix's names, else ``source_0 ...``.

    Returns
    -------
    WeakLabelErrors

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.cleaning import find_weak_label_errors
    >>> votes = np.array([[0, 0, -1], [1, 1, 1], [0, -1, 1], [1, 1, 0], [0, 0, 0], [1, -1, 1]])
    >>> lm = np.array([[.9, .1], [.05, .95], [.6, .4], [.2, .8], [.95, .05], [.1, .9]])
    >>> oof = np.array([[.8, .2], [.1, .9], [.1, .9], [.3, .7], [.9, .1], [.2, .8]])
    >>> found = find_weak_label_errors(votes, lm, oof, source_names=["a", "b", "c"])
    >>> [int(i) for i in found.ranked()]
    [2]
    >>> found.responsible[2], int(found.suggested[2])
    (('a',), 1)
    """
    L, names = _votes(votes, source_names)
    lm = check_proba("lm_proba", lm_proba, n_rows=L.shape[0])
    oof = check_proba("pred_probs", pred_probs, n_rows=L.shape[0], n_classes=lm.shape[1])
    k = lm.shape[1]
    if L.size and L.max() >= k:
        raise fail("votes", f"class ids in [-1, {k})", got_text=f"a vote of {int(L.max())}")
    prec = source_precision(L, lm, confusion=confusion, abstain_rate=abstain_rate)
    weight = np.log(prec / (1.0 - prec)) + np.log(k - 1.0)  # log-odds against the chance level 1/k
    shares = _vote_shares(L, np.maximum(weight, _EPS), lm)
    combined = (lm + oof + shares) / 3.0
    given = lm.argmax(axis=1)
    rows = np.arange(L.shape[0])
    error = np.clip(1.0 - combined[rows, given], 0.0, 1.0)
    mask = expected_f1_cut(error)
    responsible = _responsible(L, given, mask, weight, names)
    for arr in (mask, error, given):
        arr.setflags(write=False)
    suggested = combined.argmax(axis=1)
    suggested.setflags(write=False)
    prec.setflags(write=False)
    return WeakLabelErrors(mask=mask, error_proba=error, given=given, suggested=suggested,
                           responsible=responsible, source_names=names, precision=prec)


def source_precision(votes: Any, lm_proba: Any, *, confusion: Any = None, abstain_rate: Any = None) -> np.ndarray:
    """Estimated precision ``P(y = v | source j votes v)`` of every source and class, in ``[0.001, 0.999]``.

    Parameters
    ----------
    votes : array-like of shape (n, m)
        ``-1`` = abstain.
    lm_proba : array-like of shape (n, k)
        The label model's posterior (its column means are the class prior).
    confusion : array-like of shape (m, k, k), optional
        ``P(vote v | class c, votes)``; with the prior and ``abstain_rate``
        (if given) Bayes' rule gives the precision. Default: the mean
        posterior of class ``v`` over the items where the source votes ``v``
        (0.5 for a class it never votes).
    abstain_rate : array-like of shape (m, k), optional

    Returns
    -------
    ndarray of shape (m, k)

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.cleaning import source_precision
    >>> votes = np.array([[0, 1], [1, 1], [0, 0]])
    >>> lm = np.array([[.9, .1], [.2, .8], [.7, .3]])
    >>> np.round(source_precision(votes, lm), 2)
    array([[0.8 , 0.8 ],
           [0.7 , 0.45]])
    """
    L = np.asarray(votes)
    lm = np.asarray(lm_proba, dtype=np.float64)
    m, k = L.shape[1], lm.shape[1]
    if confusion is None:
        onehot = (L[:, :, None] == np.arange(k)[None, None, :]).astype(np.float64)  # (n, m, k)
        hits = np.einsum("nmk,nk->mk", onehot, lm)
        count = onehot.sum(axis=0)
        prec = np.divide(hits, count, out=np.full((m, k), 0.5), where=count > 0)
    else:
        if abstain_rate is None:  # P(abstain | class) from the posterior: the share of each class's mass without a vote
            mass = lm.sum(axis=0)
            voted = np.einsum("nm,nk->mk", (L >= 0).astype(np.float64), lm)
            abstain_rate = 1.0 - np.divide(voted, mass, out=np.zeros((m, k)), where=mass > 0)
        like = _likelihood(confusion, abstain_rate, m, k)  # (m, c, v)
        joint = lm.mean(axis=0)[None, :, None] * like
        total = joint.sum(axis=1)  # (m, v)
        diag = np.diagonal(joint, axis1=1, axis2=2)
        prec = np.divide(diag, total, out=np.full((m, k), 0.5), where=total > 0)
    return np.asarray(np.clip(prec, _EPS, 1.0 - _EPS))


def expected_f1_cut(error_proba: Any) -> np.ndarray:
    """Flag the most probable errors down to the cut that maximises the expected F1.

    With ``q`` the error probabilities sorted in decreasing order, flagging
    the first ``j`` items has expected F1 about ``2 * sum(q[:j]) / (j +
    sum(q))``; the best ``j`` is taken (none when every ``q`` is 0).

    Parameters
    ----------
    error_proba : array-like of shape (n,)
        Probabilities in ``[0, 1]``.

    Returns
    -------
    ndarray of shape (n,) and dtype bool

    Examples
    --------
    >>> from weaklab.cleaning import expected_f1_cut
    >>> expected_f1_cut([0.9, 0.05, 0.8, 0.1])
    array([ True, False,  True, False])
    """
    q = np.asarray(error_proba, dtype=np.float64)
    if q.ndim != 1 or (q.size and (q.min() < 0 or q.max() > 1)):
        raise fail("error_proba", "a 1-d array of probabilities in [0, 1]", q)
    mask = np.zeros(q.shape[0], dtype=bool)
    if q.size == 0 or q.sum() <= 0:
        return mask
    order = np.argsort(-q, kind="stable")
    gain = 2.0 * np.cumsum(q[order]) / (np.arange(1, q.size + 1) + q.sum())
    mask[order[: int(np.argmax(gain)) + 1]] = True
    return mask


def _votes(votes: Any, source_names: Any) -> tuple[np.ndarray, tuple[str, ...]]:
    names = getattr(votes, "source_names", None)
    arr = np.asarray(votes.to_dense() if hasattr(votes, "to_dense") else votes)
    if arr.ndim != 2 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise fail("votes", "an (n, m) integer array of class ids, -1 = abstain", arr)
    if arr.size and arr.min() < -1:
        raise fail("votes", "votes >= -1 (-1 = abstain)", got_text=f"a vote of {int(arr.min())}")
    if source_names is not None:
        names = source_names
    out = tuple(str(s) for s in names) if names is not None else tuple(f"source_{j}" for j in range(arr.shape[1]))
    if len(out) != arr.shape[1]:
        raise fail("source_names", f"{arr.shape[1]} names (one per column of votes)", got_text=f"{len(out)} names")
    return arr.astype(np.int64), out


def _likelihood(confusion: Any, abstain_rate: Any, m: int, k: int) -> np.ndarray:
    conf = np.asarray(confusion, dtype=np.float64)
    if conf.shape != (m, k, k) or not np.all(np.isfinite(conf)) or conf.min() < 0:
        raise fail("confusion", f"a non-negative array of shape ({m}, {k}, {k})", conf)
    if abstain_rate is None:
        return conf
    rate = np.asarray(abstain_rate, dtype=np.float64)
    if rate.shape != (m, k) or not np.all((rate >= 0) & (rate <= 1)):
        raise fail("abstain_rate", f"probabilities of shape ({m}, {k})", rate)
    return conf * (1.0 - rate)[:, :, None]


def _vote_shares(L: np.ndarray, weight: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Weighted share of the votes for each class; the label model's posterior where nobody voted."""
    n, k = lm.shape
    shares = np.zeros((n, k))
    rows, cols = np.nonzero(L >= 0)
    classes = L[rows, cols]
    np.add.at(shares, (rows, classes), weight[cols, classes])
    total = shares.sum(axis=1, keepdims=True)
    return np.where(total > 0, shares / np.where(total > 0, total, 1.0), lm)


def _responsible(L: np.ndarray, given: np.ndarray, mask: np.ndarray, weight: np.ndarray,
                 names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    out: list[tuple[str, ...]] = [()] * L.shape[0]
    for i in np.flatnonzero(mask):  # one pass per flagged item
        voters = np.flatnonzero(L[i] == given[i])
        order = voters[np.argsort(-weight[voters, given[i]], kind="stable")]
        out[i] = tuple(names[j] for j in order)
    return tuple(out)
