"""Label-issue detection with a record of how: the mask, the method used and why it was chosen.

:func:`detect_label_issues` is :func:`~weaklab.cleaning.find_label_issues`
with its decision shown: for ``method="auto"`` the method is picked from
the estimated noise structure (see :class:`LabelIssues`), never from gold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core.validation import check_choice
from ._inputs import check_given
from ._steps import auto_choice, find_issues, joint
from .filter import ISSUE_METHODS

__all__ = ["LabelIssues", "detect_label_issues"]


@dataclass(frozen=True)
class LabelIssues:
    """Flagged items and how they were found.

    Attributes
    ----------
    mask : ndarray of shape (n,) and dtype bool
        True for the items flagged as label issues (read-only).
    method : str
        The method that produced ``mask`` (never ``"auto"``: the one it picked).
    requested : str
        The method asked for (``"auto"`` by default).
    reason : str
        Why ``method`` was used, with the estimated rates.
    noise_rate : float
        Estimated share of wrong given labels, ``1 - trace`` of the
        estimated joint ``p(given, true)``.
    disagreement_rate : float
        Share of items whose most probable class is not the given one.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.cleaning import out_of_fold_proba
    >>> from weaklab.evaluation import inject_noise
    >>> X, y = make_blobs(600, centers=3, cluster_std=1.0, random_state=0)
    >>> labels = inject_noise(y, "uniform", 0.2, random_state=0)
    >>> pred_probs = out_of_fold_proba(LogisticRegression(max_iter=500), X, labels, random_state=0)
    >>> from weaklab.cleaning import detect_label_issues
    >>> issues = detect_label_issues(labels, pred_probs)
    >>> issues.requested, issues.method
    ('auto', 'ranked_posterior')
    >>> round(issues.noise_rate, 2), round(float(np.mean(labels != y)), 2)  # estimated and true noise rate
    (0.19, 0.19)
    >>> round(float(np.mean(labels[issues.mask] != y[issues.mask])), 2)  # flagged items that are real errors
    0.89
    """

    mask: np.ndarray
    method: str
    requested: str
    reason: str
    noise_rate: float
    disagreement_rate: float

    @property
    def n_issues(self) -> int:
        """Number of flagged items."""
        return int(self.mask.sum())


def detect_label_issues(labels: Any, pred_probs: Any, *, method: str = "auto") -> LabelIssues:
    """Flag likely wrong labels and record which method did it and why.

    Parameters
    ----------
    labels : array-like of shape (n,) or (n, k)
        Given class ids, or soft given labels (see :func:`find_label_issues`).
    pred_probs : array-like of shape (n, k)
        Out-of-fold predicted probabilities, rows sum to 1.
    method : str, default="auto"
        One of :data:`ISSUE_METHODS`. ``"auto"`` compares the noise rate the
        confident joint estimates with the rate at which the model's most
        probable class differs from the given label. Class-conditional noise
        (the model of confident learning) keeps the two close, and
        ``"ranked_posterior"`` is used. When disagreements are more than
        twice the estimated noise, the noise depends on the features, the
        confident joint undercounts it, and every disagreement is flagged
        (``"predicted_neq_given"``).

    Returns
    -------
    LabelIssues
        ``mask`` (what :func:`find_label_issues` returns for the same
        arguments), the method used, the reason and the two rates.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.cleaning import detect_label_issues
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.integers(0, 2, 400)
    >>> given = np.where(rng.random(400) < 0.1, 1 - truth, truth)
    >>> proba = np.where(truth[:, None] == [0, 1], 0.85, 0.15)
    >>> found = detect_label_issues(given, proba)
    >>> found.method
    'ranked_posterior'
    >>> bool(np.all(given[found.mask] != truth[found.mask]))
    True
    """
    check_choice("method", method, ISSUE_METHODS)
    g = check_given(labels, pred_probs)
    if method == "auto":
        choice = auto_choice(g)
        used, reason, rate, disagree = choice.method, choice.reason, choice.noise_rate, choice.disagreement_rate
    else:
        used, reason = method, f"method {method!r} was asked for"
        rate = float(max(1.0 - np.trace(joint(g)), 0.0))
        disagree = float(np.mean(g.proba.argmax(axis=1) != g.hard))
    mask = find_issues(g, used)
    mask.setflags(write=False)
    return LabelIssues(mask=mask, method=used, requested=method, reason=reason, noise_rate=rate,
                       disagreement_rate=disagree)
