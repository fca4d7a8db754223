"""Calibration of predicted probabilities: ECE, MCE, Brier score, NLL and reliability diagrams.

Calibration is measured on the *top label*: the confidence of an item is its
largest class probability and it is correct when that class (the first of tied
classes) is its gold label. Bins are equal-width over ``[0, 1]``
(``strategy="uniform"``; bin ``b`` holds confidences in
``(b/B, (b+1)/B]``, the first bin also 0) or hold about equal numbers of items
(``strategy="quantile"``: edges at the confidence quantiles, bin ``b`` holds
confidences in ``(q_b, q_{b+1}]``; equal confidences share a bin, so some bins
may be empty).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_choice, check_float, check_int, fail
from ..errors import missing_dependency
from ._counts import binned
from ._inputs import checked_proba_pair

__all__ = [
    "expected_calibration_error",
    "maximum_calibration_error",
    "brier_score",
    "negative_log_likelihood",
    "reliability_curve",
    "plot_reliability",
]

STRATEGIES = ("uniform", "quantile")


def _check_binning(n_bins: Any, strategy: Any) -> tuple[int, str]:
    return check_int("n_bins", n_bins, low=1), check_choice("strategy", strategy, STRATEGIES)


def expected_calibration_error(
    proba: Any, y_true: Any, *, n_bins: int = 15, strategy: str = "uniform"
) -> float:
    """Expected calibration error: ``sum_b (n_b / n) * |accuracy_b - confidence_b|``.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Predicted class probabilities; rows sum to 1.
    y_true : array-like of shape (n,)
        Gold class ids in ``[0, k)``.
    n_bins : int, default=15
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width bins or equal-mass bins (see the module notes).

    Returns
    -------
    float
        In ``[0, 1]``; 0 for a perfectly calibrated predictor (up to
        sampling noise).

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.evaluation import expected_calibration_error
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> y = np.array([0, 0, 1, 1])
    >>> round(expected_calibration_error(proba, y, n_bins=5), 3)
    0.3
    """
    nb, st = _check_binning(n_bins, strategy)
    p, t = checked_proba_pair(proba, y_true)
    count, conf, acc, _, _ = binned(p, t, nb, st)
    used = count > 0
    return float(np.sum(count[used] * np.abs(acc[used] - conf[used])) / count.sum())


def maximum_calibration_error(
    proba: Any, y_true: Any, *, n_bins: int = 15, strategy: str = "uniform"
) -> float:
    """Maximum calibration error: the largest ``|accuracy_b - confidence_b|`` over non-empty bins.

    Parameters and binning as in :func:`expected_calibration_error`.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.evaluation import maximum_calibration_error
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> round(maximum_calibration_error(proba, np.array([0, 0, 1, 1]), n_bins=5), 3)
    0.6
    """
    nb, st = _check_binning(n_bins, strategy)
    p, t = checked_proba_pair(proba, y_true)
    count, conf, acc, _, _ = binned(p, t, nb, st)
    used = count > 0
    return float(np.max(np.abs(acc[used] - conf[used])))


def brier_score(proba: Any, y_true: Any) -> float:
    """Multi-class Brier score: mean over items of ``sum_c (p_c - [y == c])^2``.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Predicted class probabilities; rows sum to 1.
    y_true : array-like of shape (n,)
        Gold class ids in ``[0, k)``.

    Returns
    -------
    float
        In ``[0, 2]``. For two classes it is twice scikit-learn's
        ``brier_score_loss`` on the positive-class probability.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.evaluation import brier_score
    >>> round(brier_score(np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([0, 1])), 3)
    0.1
    """
    p, t = checked_proba_pair(proba, y_true)
    onehot = np.zeros_like(p)
    onehot[np.arange(t.shape[0]), t] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def negative_log_likelihood(proba: Any, y_true: Any, *, eps: float = 1e-15) -> float:
    """Mean negative log-probability of the gold class (cross-entropy, "log loss").

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Predicted class probabilities; rows sum to 1.
    y_true : array-like of shape (n,)
        Gold class ids in ``[0, k)``.
    eps : float, default=1e-15
        Probabilities are clipped to ``[eps, 1]`` so a confident mistake
        costs ``-log(eps)`` rather than infinity.

    Returns
    -------
    float
        Non-negative; equals scikit-learn's ``log_loss`` for probabilities
        inside ``[eps, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.evaluation import negative_log_likelihood
    >>> round(negative_log_likelihood(np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([0, 1])), 3)
    0.231
    """
    eps = check_float("eps", eps, low=0.0, high=1.0, low_open=True, high_open=True)
    p, t = checked_proba_pair(proba, y_true)
    gold = np.clip(p[np.arange(t.shape[0]), t], eps, 1.0)
    return float(-np.mean(np.log(gold)))


def reliability_curve(
    proba: Any, y_true: Any, *, n_bins: int = 15, strategy: str = "uniform"
) -> pd.DataFrame:
    """The data of a reliability diagram: confidence against accuracy per bin.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Predicted class probabilities; rows sum to 1.
    y_true : array-like of shape (n,)
        Gold class ids in ``[0, k)``.
    n_bins : int, default=15
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width or equal-mass bins.

    Returns
    -------
    pandas.DataFrame
        One row per bin (``n_bins`` rows; empty bins have ``count == 0`` and
        NaN statistics) with columns ``bin``, ``lower`` and ``upper`` (the bin's
        edges: fixed for ``"uniform"``, the lowest and highest confidence in it
        for ``"quantile"``), ``confidence`` (mean), ``accuracy``, ``count``,
        ``gap`` (``accuracy - confidence``).

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.evaluation import reliability_curve
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> curve = reliability_curve(proba, np.array([0, 0, 1, 1]), n_bins=5)
    >>> list(curve.columns)
    ['bin', 'lower', 'upper', 'confidence', 'accuracy', 'count', 'gap']
    >>> curve[["confidence", "accuracy", "count"]].round(2).to_numpy().tolist()
    [[nan, nan, 0.0], [nan, nan, 0.0], [0.6, 0.0, 1.0], [0.75, 1.0, 2.0], [0.9, 1.0, 1.0]]
    """
    nb, st = _check_binning(n_bins, strategy)
    p, t = checked_proba_pair(proba, y_true)
    count, conf, acc, lo, hi = binned(p, t, nb, st)
    if st == "uniform":
        edges = np.linspace(0.0, 1.0, nb + 1)
        lo, hi = edges[:-1], edges[1:]
    return pd.DataFrame({
        "bin": np.arange(nb), "lower": lo, "upper": hi, "confidence": conf,
        "accuracy": acc, "count": count.astype(np.int64), "gap": acc - conf,
    })


def plot_reliability(
    proba: Any,
    y_true: Any,
    *,
    n_bins: int = 15,
    strategy: str = "uniform",
    path: str | Path | None = None,
    title: str | None = None,
    dpi: int = 100,
) -> Any:
    """Draw a reliability diagram (bars of accuracy per bin, gaps to the diagonal, counts below).

    Needs matplotlib (``pip install 'weaklab[plot]'``); it is imported here,
    not with weaklab, and drawn without pyplot (no global state, no display).

    Parameters
    ----------
    proba, y_true, n_bins, strategy
        As in :func:`reliability_curve`.
    path : str or os.PathLike, optional
        Where to save a PNG of the figure.
    title : str, optional
        Figure title; default states the ECE.
    dpi : int, default=100
        Resolution of the saved PNG.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (also saved to ``path`` when given).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from weaklab.evaluation import plot_reliability
    >>> rng = np.random.default_rng(0)
    >>> p1 = rng.uniform(size=200)
    >>> proba = np.column_stack([1 - p1, p1])
    >>> y = (rng.uniform(size=200) < p1).astype(int)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "reliability.png"
    >>> figure = plot_reliability(proba, y, n_bins=10, path=path)
    >>> path.exists()
    True
    """
    dpi = check_int("dpi", dpi, low=10, high=1200)
    if title is not None and not isinstance(title, str):
        raise fail("title", "a string or None", title)
    curve = reliability_curve(proba, y_true, n_bins=n_bins, strategy=strategy)
    ece = expected_calibration_error(proba, y_true, n_bins=n_bins, strategy=strategy)
    fig = _draw(curve, title if title is not None else f"Reliability (ECE = {ece:.3f})")
    if path is not None:
        fig.savefig(Path(path), dpi=dpi, format="png")
    return fig


def _draw(curve: pd.DataFrame, title: str) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise missing_dependency("matplotlib", "plot", "plot_reliability") from None
    fig = Figure(figsize=(5, 5.5))
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    used = curve[curve["count"] > 0]
    width = (used["upper"] - used["lower"]).clip(lower=0.01).to_numpy()
    centers = ((used["upper"] + used["lower"]) / 2).to_numpy()
    top.bar(centers, used["accuracy"], width=width * 0.95, color="#4C72B0", label="accuracy")
    top.bar(centers, used["confidence"] - used["accuracy"], bottom=used["accuracy"], width=width * 0.95,
            color="#DD8452", alpha=0.5, label="gap to confidence")
    top.plot([0, 1], [0, 1], linestyle="--", color="gray", label="perfect calibration")
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.set_title(title)
    top.legend(loc="upper left")
    bottom.bar(centers, used["count"], width=width * 0.95, color="#55A868")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("items")
    fig.tight_layout()
    return fig
