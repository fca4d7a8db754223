"""Find the items whose given label is likely wrong (a boolean mask).

The counting methods take their *number* of issues from the calibrated
confident joint (see :mod:`weaklab.cleaning.confident`): with
``r[g, t] = C[g, t] / sum_t C[g, t]`` the estimated share of items given
``g`` whose true label is ``t``, ``rint(r[g, t] * n_g)`` items given ``g``
are taken from cell ``(g, t)``. Which items are taken is decided by the
predicted probabilities.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.validation import check_choice
from ._inputs import check_given
from ._steps import find_issues

__all__ = ["ISSUE_METHODS", "find_label_issues"]

#: Names accepted by ``method=``.
ISSUE_METHODS = (
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_joint",
    "predicted_neq_given",
    "noise_posterior",
    "ranked_posterior",
    "auto",
)


def find_label_issues(labels: Any, pred_probs: Any, *, method: str = "auto") -> np.ndarray:
    """Flag the items whose given label is likely wrong.

    Parameters
    ----------
    labels : array-like of shape (n,) or (n, k)
        Given class ids in ``[0, k)``, or soft given labels whose rows sum to
        1 (items are judged at their most probable class; the counts use the
        expected confident joint).
    pred_probs : array-like of shape (n, k)
        Predicted class probabilities, rows sum to 1. Use out-of-fold
        probabilities (:func:`out_of_fold_proba`): a model that saw an item's
        label while training is too sure of it.
    method : str, default="auto"
        * ``"auto"``: picks ``"ranked_posterior"`` or
          ``"predicted_neq_given"`` from the estimated noise structure; see
          :func:`detect_label_issues`, which returns the mask together with
          the method it picked and why.
        * ``"prune_by_noise_rate"``: from each off-diagonal cell ``(g, t)``
          of the calibrated confident joint, the estimated number of items
          given ``g`` with the largest margin ``p[i, t] - p[i, g]``.
        * ``"prune_by_class"``: for each given class ``g``, the estimated
          number of mislabelled items given ``g`` with the lowest
          self-confidence ``p[i, g]``.
        * ``"both"``: items flagged by both of the above.
        * ``"confident_joint"``: items counted off the diagonal of the
          (uncalibrated) confident joint: confidently of another class.
        * ``"predicted_neq_given"``: the most probable class is not the
          given one.
        * ``"noise_posterior"``: as many items as the confident joint counts
          off its diagonal, taken in order of their posterior probability of
          a wrong label, ``1 - p(true = given | x, given)`` with
          ``p(true = t | x, given = g) ∝ pred_probs[i, t] * noise[t, g]`` and
          ``noise`` from :func:`estimate_noise_matrix`. Unlike the ranking by
          self-confidence alone, this weighs each item by how often its
          given class receives items of the class the model predicts, which
          matters when the noise is asymmetric (e.g. pair flips).
        * ``"ranked_posterior"``: the same posterior error probability,
          taken for the number of issues the *calibrated* joint estimates
          (``n * (1 - trace)``, the noise rate times ``n``), among the items
          whose most probable class is not the given one.

        The three pruning methods and ``"ranked_posterior"`` never flag an item whose given label is
        its most probable class.

    Returns
    -------
    ndarray of shape (n,) and dtype bool
        True for the items flagged as label issues.

    See Also
    --------
    rank_label_issues : order the flagged items, worst first.
    detect_label_issues : the same mask with the method ``"auto"`` picked and why.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.cleaning import find_label_issues
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8], [0.95, 0.05]])
    >>> find_label_issues(np.array([0, 0, 1, 1, 1]), proba, method="predicted_neq_given")
    array([False, False, False, False,  True])
    """
    check_choice("method", method, ISSUE_METHODS)
    return find_issues(check_given(labels, pred_probs), method)
