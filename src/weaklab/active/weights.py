"""How much a weak label counts against a human answer when the end model is trained on both.

A weak label that is right with probability ``a`` among ``k`` classes carries
``((k a - 1) / (k - 1))^2`` of the information of a right one: under
symmetric noise the signal of a label is ``2a - 1`` for two classes (in
general ``(k a - 1) / (k - 1)``), and the effective number of noisy examples
falls with its square. So weak labels of accuracy 0.5 among 5 classes count
about 1/7 of an answer each, those of accuracy 0.9 between 2 classes about
2/3. ``a`` is estimated from answers to items *drawn at random* (answers to
items a strategy chose are the hard ones, where the weak labels are worse
than elsewhere): the mean probability that the label model gave the answered
class when the item was asked, shrunk toward the label model's own mean
confidence.
"""

from __future__ import annotations

import numpy as np

__all__ = ["label_information", "weak_label_accuracy", "WEAK_ACCURACY_PRIOR", "MIN_WEAK_WEIGHT"]

WEAK_ACCURACY_PRIOR = 10.0
"""Answers that the label model's own mean confidence is worth in :func:`weak_label_accuracy`."""
MIN_WEAK_WEIGHT = 0.05
"""Least weight of a weak label against an answer (weak labels never vanish from training)."""


def weak_label_accuracy(asked_proba: np.ndarray, answers: np.ndarray, self_confidence: float) -> float:
    """Estimated accuracy of the weak labels from answers to items drawn at random.

    ``(sum_i asked_proba[i, answers[i]] + s c) / (n + s)`` with ``s =
    WEAK_ACCURACY_PRIOR`` and ``c`` the label model's mean confidence.

    Parameters
    ----------
    asked_proba : ndarray of shape (n, k)
        The label model's soft labels of the answered items when they were asked.
    answers : ndarray of shape (n,)
        The answered classes.
    self_confidence : float
        The label model's mean largest probability over the pool (the prior guess).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> round(weak_label_accuracy(np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([1, 1]), 0.85), 3)
    0.733
    """
    hit = float(asked_proba[np.arange(answers.shape[0]), answers].sum()) if answers.size else 0.0
    return (hit + WEAK_ACCURACY_PRIOR * self_confidence) / (answers.shape[0] + WEAK_ACCURACY_PRIOR)


def label_information(accuracy: float, n_classes: int) -> float:
    """Information of a label right with probability ``accuracy`` relative to a right one.

    ``max(0, (k a - 1) / (k - 1))^2``, clipped to ``[MIN_WEAK_WEIGHT, 1]``.

    Examples
    --------
    >>> round(label_information(0.9, 2), 2), round(label_information(0.5, 5), 3)
    (0.64, 0.141)
    """
    k = float(n_classes)
    signal = max(0.0, (k * accuracy - 1.0) / (k - 1.0))  # at or below chance a label tells nothing
    return float(np.clip(signal**2, MIN_WEAK_WEIGHT, 1.0))
