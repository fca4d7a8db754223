"""Guards of the no-gold choice: posteriors that are not a trustworthy label model next to majority vote.

Applied by :mod:`._trust` to every candidate on the held-out half (against
majority vote on the same items) and by :mod:`._nogold` to the refitted
choice on all items: a candidate is disqualified when it contradicts a
strong consensus, when one class's predicted share grows too much over
majority vote's (collapse), or when it is degenerate (many more ties, or
near-uniform posteriors). See the module docstring of :mod:`._trust`.

On crowds (``relative_collapse``) a collapse is judged by what is left to
the other classes, not by the growth in points: a class collapses the
balance when the other classes keep less than ``COLLAPSE_REST`` of the
voted items majority vote gives them. Noisy workers spread their errors
over the classes, so majority vote under-labels a large class, and a model
of worker quality rightly gives it more: on the ``crowd_hard_relevance``
profile (4 classes, 50 % of the items in one, workers 30-80 % right)
majority vote gives that class 37 % of the items, HyperLabelModel 53-63 %
(truth 50 %), 7 points more accurate, and the 20-point growth bar
disqualified it on most seeds. Where most workers vote a class more on the
items of another (binary crowds whose majority vote is below chance) the
models that follow them put 96-100 % of the items in one class; the
relative bar still stops them.
"""

from __future__ import annotations

import numpy as np

from .._core import LabelMatrix
from ._auto_select import tie_share

__all__ = ["guard_report", "CONTRADICTION", "CROWD_CONTRADICTION", "COLLAPSE", "COLLAPSE_REST"]

CONTRADICTION = 0.10  # largest share of strong-consensus items a candidate may overturn (LF-shaped votes)
CROWD_CONTRADICTION = 0.35  # the same for crowds, where a model may rightly outvote agreeing spammers
MIN_STRONG = 20  # fewest strong-consensus items for the contradiction guard to apply
COLLAPSE = 0.20  # largest growth of one class's predicted share over majority vote's
COLLAPSE_REST = 0.5  # crowds: smallest share of majority vote's other-class items the other classes keep
EXTRA_TIES = 0.20  # largest growth of the share of tied items over majority vote's
FLAT = 0.02  # smallest mean top-two margin of a candidate's posteriors on voted items


def guard_report(P: np.ndarray, P_ref: np.ndarray, L: LabelMatrix, contradiction: float = CONTRADICTION,
                 counts: np.ndarray | None = None, relative_collapse: bool = False) -> str:
    """``"ok"`` or the reason ``P`` is not a trustworthy label model on ``L`` next to majority vote ``P_ref``.

    ``counts``: ``L.class_counts()``, when already at hand.
    ``relative_collapse``: judge a collapse by the share left to the other
    classes (crowds, :data:`COLLAPSE_REST`) instead of a class's growth in
    points (:data:`COLLAPSE`); see the module docstring.
    """
    counts = L.class_counts() if counts is None else counts
    voted = counts.sum(axis=1) > 0
    if not voted.any():
        return "ok"
    share, ref = tie_share(P[voted]), tie_share(P_ref[voted])
    strong = _strong_consensus(counts[voted])
    if strong.sum() >= MIN_STRONG:
        top = counts[voted][strong].argmax(axis=1)
        overturned = 1.0 - float(share[strong][np.arange(top.size), top].mean())
        if overturned > contradiction:
            return (f"disqualified: contradicts a strong vote consensus on {overturned:.0%} of "
                    f"{int(strong.sum())} such items")
    collapsed = _collapsed(share.mean(axis=0), ref.mean(axis=0), relative_collapse)
    if collapsed is not None:
        return (f"disqualified: class balance collapses (class {collapsed} gets {share[:, collapsed].mean():.0%} "
                f"of the voted items, majority vote {ref[:, collapsed].mean():.0%})")
    ties, ref_ties = _tied(share), _tied(ref)
    if ties - ref_ties > EXTRA_TIES:
        return f"disqualified: degenerate ({ties:.0%} of voted items tied, majority vote {ref_ties:.0%})"
    top2 = np.sort(P[voted], axis=1)[:, -2:]
    if float((top2[:, 1] - top2[:, 0]).mean()) < FLAT:
        return "disqualified: degenerate (near-uniform posteriors on voted items)"
    return "ok"


def _collapsed(shares: np.ndarray, ref: np.ndarray, relative: bool) -> int | None:
    """The class whose predicted share ``shares`` collapses the balance next to majority vote's ``ref``, or None.

    Examples
    --------
    >>> _collapsed(np.array([0.6, 0.3, 0.1]), np.array([0.37, 0.33, 0.3]), relative=False)
    0
    >>> _collapsed(np.array([0.6, 0.3, 0.1]), np.array([0.37, 0.33, 0.3]), relative=True) is None
    True
    >>> _collapsed(np.array([0.97, 0.03]), np.array([0.6, 0.4]), relative=True)
    0
    """
    if relative:
        over = np.flatnonzero(1.0 - shares < COLLAPSE_REST * (1.0 - ref))
        return int(over[np.argmax(shares[over] - ref[over])]) if over.size else None
    growth = shares - ref
    return int(growth.argmax()) if growth.max() > COLLAPSE else None


def _strong_consensus(counts: np.ndarray) -> np.ndarray:
    """Items with at least two votes for one class and more than twice as many as for any other."""
    ordered = np.sort(counts, axis=1)
    return (ordered[:, -1] >= 2) & (ordered[:, -1] > 2 * ordered[:, -2])


def _tied(share: np.ndarray) -> float:
    return float((share.max(axis=1) < 1.0 - 1e-9).mean())
