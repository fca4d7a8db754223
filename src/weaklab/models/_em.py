"""One EM driver for the label models fitted by expectation-maximisation.

:class:`~weaklab.models.DawidSkene`, :class:`~weaklab.models.OneCoinDawidSkene`,
:class:`~weaklab.models.GLAD` and :class:`~weaklab.models.MACE` differ in their
parameters and in their E- and M-steps only. The loop is this module's::

    params = init
    repeat at most max_iter times:
        stats, loss = e_step(params)        # posterior statistics; loss per item
        if |previous loss - loss| < tol:    # converged: keep the evaluated params
            stop
        params = m_step(params, stats)      # stopped by max_iter: one M-step past the last E-step

Every model then sets ``loss_history_`` (an array, one loss per E-step),
``n_iter_`` (its length) and ``converged_``, and a fit stopped by
``max_iter`` emits :class:`~weaklab.errors.ConvergenceWarning`.

The shared pieces of the E-steps of GLAD and MACE (class-major posteriors)
live here too: :func:`normalise_log_columns` and :func:`clamp_to_gold`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from .._core.warn import warn
from ..errors import ConvergenceWarning
from ._base import ConfusionLabelModel, LabelModel, StateShapes

__all__ = ["EMResult", "EMLabelModel", "run_em", "loss_converged", "normalise_log_columns", "clamp_to_gold"]

P = TypeVar("P")
S = TypeVar("S")


@dataclass(frozen=True)
class EMResult(Generic[P, S]):
    """Where an EM run stopped.

    Attributes
    ----------
    params : object
        When converged, the parameters of the last E-step; when stopped by
        ``max_iter``, those of one more M-step on its statistics.
    stats : object
        What the last E-step returned besides the loss (posteriors, expected counts).
    loss_history : ndarray of shape (n_iter,)
        The loss of every E-step, earlier runs' first when continued.
    converged : bool
        Whether the last two losses differ by less than ``tol``.
    """

    params: P
    stats: S
    loss_history: np.ndarray
    converged: bool

    @property
    def n_iter(self) -> int:
        """Number of E-steps, ``len(loss_history)``."""
        return int(self.loss_history.shape[0])


def loss_converged(history: Sequence[float] | np.ndarray, tol: float) -> bool:
    """The stopping rule: the last two losses differ by less than ``tol``.

    Parameters
    ----------
    history : sequence of float
        Losses of the E-steps so far.
    tol : float
        Tolerance; ``0`` never stops (the run goes to ``max_iter``).

    Returns
    -------
    bool

    Examples
    --------
    >>> loss_converged([1.0, 0.99995], 1e-4), loss_converged([1.0, 0.9], 1e-4)
    (True, False)
    """
    return len(history) > 1 and abs(float(history[-2]) - float(history[-1])) < tol


def run_em(
    params: P,
    e_step: Callable[[P], tuple[S, float]],
    m_step: Callable[[P, S], P],
    *,
    max_iter: int,
    tol: float,
    previous: EMResult[P, S] | None = None,
) -> EMResult[P, S]:
    """Run EM from ``params`` for at most ``max_iter`` E-steps.

    Parameters
    ----------
    params : object
        Starting parameters (ignored when ``previous`` is given).
    e_step : callable
        ``e_step(params) -> (stats, loss)``: posterior statistics and the
        loss per item (negative, possibly penalised, log-likelihood).
    m_step : callable
        ``m_step(params, stats) -> params``.
    max_iter : int
        E-steps in this call.
    tol : float
        See :func:`loss_converged`.
    previous : EMResult, optional
        Continue that run (its history counts for the stopping rule); a
        converged run is returned unchanged.

    Returns
    -------
    EMResult

    Examples
    --------
    >>> result = run_em(1.0, lambda x: (x, x * x), lambda x, s: s / 2, max_iter=50, tol=1e-6)
    >>> result.converged, result.n_iter
    (True, 12)
    """
    losses: list[float] = []
    stats: Any = None
    if previous is not None:
        if previous.converged or max_iter < 1:
            return previous
        params, losses = previous.params, [float(x) for x in previous.loss_history]
    for _ in range(max_iter):
        stats = None  # free the last statistics (an (n_units, k) posterior) before the E-step makes new ones
        stats, loss = e_step(params)
        losses.append(float(loss))
        if loss_converged(losses, tol):
            return EMResult(params, stats, np.asarray(losses, dtype=np.float64), True)
        params = m_step(params, stats)
    return EMResult(params, stats, np.asarray(losses, dtype=np.float64), False)


def normalise_log_columns(logits: np.ndarray) -> np.ndarray:
    """Turn class-major log-probabilities ``(k, n)`` into probabilities, in place.

    Returns the log normaliser of every column, shape ``(n,)``. (Reductions
    over the first axis of a ``(k, n)`` array are far faster in numpy than
    over the last axis of ``(n, k)`` when ``k`` is small.)

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.log(np.array([[1.0], [3.0]]))
    >>> normalise_log_columns(logits).round(4), logits.ravel()
    (array([1.3863]), array([0.25, 0.75]))
    """
    top = logits.max(axis=0)
    logits -= top
    np.exp(logits, out=logits)
    norm = logits.sum(axis=0)
    logits /= norm
    return np.log(norm) + top


def clamp_to_gold(post: np.ndarray, keys: np.ndarray | None) -> np.ndarray:
    """Set the class-major posterior ``(k, n)`` of units with a gold key ``>= 0`` to one-hot, in place.

    Examples
    --------
    >>> import numpy as np
    >>> clamp_to_gold(np.full((2, 2), 0.5), np.array([1, -1]))
    array([[0. , 0.5],
           [1. , 0.5]])
    """
    if keys is not None:
        known = np.flatnonzero(keys >= 0)
        post[:, known] = 0.0
        post[keys[known], known] = 1.0
    return post


class EMLabelModel(ConfusionLabelModel):
    """A confusion-matrix label model fitted by :func:`run_em`.

    Subclasses implement ``_fit`` with :func:`run_em` and pass the result to
    :meth:`_record_em`, which sets ``loss_history_``, ``n_iter_`` and
    ``converged_`` and warns when the run stopped at ``max_iter``. Gold
    labels enter as observed labels of their items (clamped in every
    E-step), so gold chosen by active learning is still used.
    """

    _clamps_gold: ClassVar[bool] = True
    _state_arrays: ClassVar[tuple[str, ...]] = ("confusion_", "loss_history_")
    _state_attrs: ClassVar[tuple[str, ...]] = ("n_iter_", "converged_")
    _state_shapes: ClassVar[StateShapes] = {"loss_history_": (None,)}

    max_iter: int
    tol: float

    def _record_em(self, result: EMResult[Any, Any]) -> None:
        """Keep the run's history, length and convergence; warn when ``max_iter`` stopped it."""
        self.loss_history_ = np.asarray(result.loss_history, dtype=np.float64)
        self.n_iter_ = result.n_iter
        self.converged_ = bool(result.converged)
        if not result.converged:
            final = f"{self.loss_history_[-1]:.6g}" if self.n_iter_ else "none"
            warn(
                f"{type(self).__name__} did not converge in max_iter={self.max_iter} iterations "
                f"(tol={self.tol:g}, final loss {final}); raise max_iter or tol.",
                ConvergenceWarning,
            )

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LabelModel:
        """Rebuild a fitted model; also reads states saved before the shared EM driver.

        Those kept ``loss_history_`` as a JSON list and (GLAD, MACE) no
        ``converged_``, which is then read off the history by the current
        stopping rule.
        """
        if isinstance(state, dict) and isinstance(state.get("attributes"), dict) \
                and isinstance(state.get("arrays"), dict):
            attrs, arrays = dict(state["attributes"]), dict(state["arrays"])
            if "loss_history_" not in arrays and isinstance(attrs.get("loss_history_"), list):
                arrays["loss_history_"] = np.asarray(attrs.pop("loss_history_"), dtype=np.float64)
            if "converged_" not in attrs and "loss_history_" in arrays:
                tol = state.get("params", {}).get("tol", 0.0)
                attrs["converged_"] = loss_converged(np.asarray(arrays["loss_history_"]), float(tol))
            state = {**state, "attributes": attrs, "arrays": arrays}
        return super().from_state(state)
