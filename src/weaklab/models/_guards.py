"""Guards of the no-gold choice: posteriors that are not a trustworthy label model next to majority vote.

Applied by :mod:`._trust` to every candidate on the held-out half (against
majority vote on the same items) and by :mod:`._nogold` to the refitted
choice on all items: a candidate is disqualified when it contradicts a
strong consensus, when one class's predicted share grows too much over
majority vote's (collapse), or when it is degenerate (many more ties, or
near-uniform posteriors). See the module docstring of :mod:`._trust`.
"""

from __future__ import annotations

import numpy as np

from .._core import LabelMatrix
from ._auto_select import tie_share

__all__ = ["guard_report", "CONTRADICTION", "CROWD_CONTRADICTION", "COLLAPSE"]

CONTRADICTION = 0.10  # largest share of strong-consensus items a candidate may overturn (LF-shaped votes)
CROWD_CONTRADICTION = 0.35  # the same for crowds, where a model may rightly outvote agreeing spammers
MIN_STRONG = 20  # fewest strong-consensus items for the contradiction guard to apply
COLLAPSE = 0.20  # largest growth of one class's predicted share over majority vote's
EXTRA_TIES = 0.20  # largest growth of the share of tied items over majority vote's
FLAT = 0.02  # smallest mean top-two margin of a candidate's posteriors on voted items


def guard_report(P: np.ndarray, P_ref: np.ndarray, L: LabelMatrix, contradiction: float = CONTRADICTION,
                 counts: np.ndarray | None = None) -> str:
    """``"ok"`` or the reason ``P`` is not a trustworthy label model on ``L`` next to majority vote ``P_ref``.

    ``counts``: ``L.class_counts()``, when already at hand.
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
    growth = share.mean(axis=0) - ref.mean(axis=0)
    if growth.max() > COLLAPSE:
        c = int(growth.argmax())
        return (f"disqualified: class balance collapses (class {c} gets {share[:, c].mean():.0%} of the "
                f"voted items, majority vote {ref[:, c].mean():.0%})")
    ties, ref_ties = _tied(share), _tied(ref)
    if ties - ref_ties > EXTRA_TIES:
        return f"disqualified: degenerate ({ties:.0%} of voted items tied, majority vote {ref_ties:.0%})"
    top2 = np.sort(P[voted], axis=1)[:, -2:]
    if float((top2[:, 1] - top2[:, 0]).mean()) < FLAT:
        return "disqualified: degenerate (near-uniform posteriors on voted items)"
    return "ok"


def _strong_consensus(counts: np.ndarray) -> np.ndarray:
    """Items with at least two votes for one class and more than twice as many as for any other."""
    ordered = np.sort(counts, axis=1)
    return (ordered[:, -1] >= 2) & (ordered[:, -1] > 2 * ordered[:, -2])


def _tied(share: np.ndarray) -> float:
    return float((share.max(axis=1) < 1.0 - 1e-9).mean())
