"""Majority vote's ties when no held-out judge vouches for a tie-breaker (no-gold AutoLabelModel, LF votes).

On labeling-function votes a candidate may only break majority vote's ties,
and it is judged on *tie pairs* (:mod:`._tie_pairs`): two votes of an item
for different classes, refereed by the item's other votes when those side
with one of the two classes. With one LF per class (WRENCH-style Hausa news:
five keyword LFs, one per topic) no other vote of an item is ever for
either class of a pair, so no pair has a referee: every candidate scores
exactly majority vote's coin flip and majority vote is kept on every tie,
though a model of abstentions breaks them far better (Hausa train split,
gold used only for that check: 29 % of the 278 ties right by the coin
flip, 45 % by Dawid-Skene with polarity groups and a target abstain rate,
40 % by HyperLabelModel, 16-23 % by the Dawid-Skene variants that ignore
abstentions).

The judge is *blind* when both halves of the held-out split hold fewer
than ``MIN_PAIRS`` items with tie pairs (at the z = 4 bar a tie-breaker
needs some 60 refereed items to show a gain) while majority vote ties on at
least ``MIN_TIES`` items. Then, if majority vote was kept, its ties are
broken where two models of abstentions that are built differently *agree*
(:func:`agreed_tie_proba`): Dawid-Skene with each class's one-class LFs tied
and one abstain rate for the classes an LF never votes (EM on the votes),
and the pretrained HyperLabelModel (no EM). A tie on which they put
different tied classes first, or favours it over the runner-up tied class
by odds under ``TIE_ODDS`` (1.5), keeps the coin flip. Where they agree, the
average of their posteriors breaks the tie (among the tied classes only: a
clear majority is never overruled). Both models must also read the votes as
majority vote does: each gives ``MIN_AGREEMENT`` (85 %) of the items with
one most-voted class that class (as for the unvoted items, :mod:`._no_vote`).

Chosen on synthetic votes only (no real set's gold used for the choice):
a family of one-class LFs with one or two LFs per class and known firing
propensities (independent, disjoint within a class, loud items;
``one_lf_per_class`` in ``tests/models/test_auto_blind_ties.py``, seeds
0-299) and the property suites' families (``wrench_like`` seeds 0-299 and
1000-1199, ``known_propensities`` 0-299), on which the rule acts when few
items have three votes or more (78, 72 and 22 of the 300, 500 and 300
matrices). Summed gain over majority vote's coin flip, in accuracy points,
and the worst matrix against majority vote, by the odds floor: 1.0 (no
floor) +51.4 / +11.9 / +1.1, worst -1.11; 1.2 +28.2 / +5.6 / +0.2, worst
-0.62; 1.5 +15.4 / +1.8 / -0.0, worst -0.32; 2.0 +3.1 / +1.1 / +0.0. The
agreement floor alone (without it one loud matrix lost 1.7 points) left a
matrix of weak LFs (precision near their class's share) 1.1 points below
majority vote; the odds floor of 1.5 leaves none below -0.32. Averaging the
two models everywhere (not only where they agree) gained more in sum but
lost up to 3.8 points. WRENCH-style Hausa (valid split, fitted on train):
majority vote 53.05 -> 54.43 (snorkel's LabelModel 55.10).

**Majority vote kept though the judge could see.** With three classes or
more the rule also acts when tie pairs were refereed but no candidate
showed a gain on them and majority vote was kept (``blind`` then only
changes what ``reason_`` says). The pairs' silence is no evidence that the
ties should stay coin flips: the pairs come from items with three or more
votes, which over-represent loud classes, and on them the two models of
abstentions score *below* the coin flip where they are far above it on
the real ties. On the LF-shaped profiles of
``benchmarks/label_models_profiles.py`` (seeds 100-105, fitted on the
train part, the test part's gold used only for this check)
HyperLabelModel's and the polarity Dawid-Skene's tie-pair z averaged -1.8
and -0.3 (SemEval shape), -2.5 and -4.8 (ChemProt), -3.6 and -1.3 (TREC),
while on the real ties they were 17.9 and 18.1, 9.5 and 13.1, 18.1 and
20.6 points above majority vote's coin flip. Measured with every other
part of AutoLabelModel as it was (accuracy points of the agreed tie-breaks
over the coin flip, summed over the matrices where the extension acts;
worst matrix): ``wrench_like`` 0-199 +60.1 on 63 of 200 (worst -0.15),
1000-1199 +108.0 on 66 (worst -0.07); ``known_propensities`` 0-149 +1.7
on 13 (worst -0.27); ``one_lf_per_class`` 0-149 +1.1 on 2; profile seeds
100-119: SemEval shape +34.0 (14 of 20 matrices, each +1.1 or more), TREC
+13.6, ChemProt +5.4, AGNews +1.3 (worst over them -0.02); WRENCH valid
splits unchanged (TREC keeps HyperLabelModel, Hausa was blind already).

*Two classes* are left out: there the votes of LFs that are all less
precise than their class's share are a mirror image of precise ones with
the classes swapped, so the models of abstentions and the pairs read them
alike and break ties the wrong way together. On ``wrench_like(1115)``
(2 classes, majority vote 18.8 % right) the extension lost 3.4 points; on
the binary matrices above it gained +6.6 points in all, that one included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._core import LabelMatrix
from ._base import LabelModel
from ._heldout import Fold

__all__ = ["BLIND_MODELS", "MIN_PAIRS", "MIN_TIES", "agreed_tie_proba", "blind_judge", "tied_rows",
           "ties_to_break"]

MIN_PAIRS = 30  # items with refereed tie pairs (both halves) under which the tie judge is blind
MIN_TIES = 10  # fewest tied items for the blind-tie rule to act
TIE_ODDS = 1.5  # each model must favour the agreed class this many times over the runner-up tied class
BLIND_MODELS = ("DawidSkene(polarity, abstain=target)", "HyperLabelModel")


def tied_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows on which several classes have the most votes, and the mask of those classes.

    Parameters
    ----------
    counts : ndarray of shape (n, k)
        Votes per item and class (``L.class_counts()``).

    Returns
    -------
    rows : ndarray of int
    tied : ndarray of bool, shape (len(rows), k)

    Examples
    --------
    >>> import numpy as np
    >>> rows, tied = tied_rows(np.array([[1, 1, 0], [2, 0, 1], [0, 0, 0]]))
    >>> rows.tolist(), tied.tolist()
    ([0], [[True, True, False]])
    """
    top = counts.max(axis=1, keepdims=True)
    mask = (counts == top) & (top > 0)
    rows = np.flatnonzero(mask.sum(axis=1) > 1)
    return rows, mask[rows]


def blind_judge(folds: Sequence[Fold], counts: np.ndarray) -> bool:
    """Whether the tie-pair judge cannot see majority vote's ties (see the module docstring).

    ``folds``: the held-out split, each with its tie pairs; ``counts``:
    ``L.class_counts()`` of all the votes.
    """
    refereed = sum(0 if f.pairs is None else f.pairs.n_items for f in folds)
    return refereed < MIN_PAIRS and tied_rows(counts)[0].size >= MIN_TIES


def ties_to_break(counts: np.ndarray, blind: bool) -> bool:
    """Whether the agreed-tie rule acts on majority vote's ties (``counts``: ``L.class_counts()``).

    It needs ``MIN_TIES`` tied items, and either a ``blind`` judge
    (:func:`blind_judge`) or three classes or more: with two, refereed pairs
    that back no candidate leave the coin flip (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> ties = np.array([[1, 1, 0]] * 10)
    >>> ties_to_break(ties[:9], blind=True), ties_to_break(ties, blind=False), ties_to_break(ties[:, :2], False)
    (False, True, False)
    """
    return bool(tied_rows(counts)[0].size >= MIN_TIES and (blind or counts.shape[1] > 2))


def agreed_tie_proba(models: Mapping[str, LabelModel], L: LabelMatrix, P: np.ndarray,
                     counts: np.ndarray | None = None, odds: float | None = None) -> np.ndarray:
    """``P`` (majority vote's posterior) with its ties broken where the ``BLIND_MODELS`` agree.

    On a tied item both models' posteriors are restricted to the tied
    classes; when both put the same class first, the tied mass goes to the
    classes in proportion to their average, else the tie is left as is.

    Parameters
    ----------
    models : mapping of str to LabelModel
        The fitted ``BLIND_MODELS``.
    L : LabelMatrix
    P : ndarray of shape (n, k)
        Majority vote's posteriors of ``L``.
    counts : ndarray of shape (n, k), optional
        ``L.class_counts()``, when already at hand.

    Returns
    -------
    ndarray of shape (n, k)
    """
    counts = L.class_counts() if counts is None else counts
    rows, tied = tied_rows(counts)
    out = np.array(P, dtype=np.float64)
    if rows.size == 0:
        return out
    sub = L.select_items(rows)
    restricted = [np.where(tied, np.asarray(models[n].predict_proba(sub), dtype=np.float64), 0.0)
                  for n in BLIND_MODELS]
    first = [np.where(tied, R, -1.0).argmax(axis=1) for R in restricted]
    odds = TIE_ODDS if odds is None else odds
    agree = (first[0] == first[1]) & (restricted[0].sum(axis=1) > 0) & (restricted[1].sum(axis=1) > 0)
    for R, c in zip(restricted, first, strict=True):
        top = R[np.arange(rows.size), c]
        runner = np.where(np.arange(R.shape[1])[None, :] == c[:, None], 0.0, R).max(axis=1)
        agree &= top >= odds * runner
    if not agree.any():
        return out
    weight = (restricted[0] + restricted[1])[agree]
    idx, mask = rows[agree], tied[agree]
    mass = (out[idx] * mask).sum(axis=1, keepdims=True)
    out[idx] = np.where(mask, mass * weight / weight.sum(axis=1, keepdims=True), out[idx])
    return out
