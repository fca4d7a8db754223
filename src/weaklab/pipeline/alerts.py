"""Alerts on sources: what changed between two runs, and what looks wrong in the current one.

:func:`detect_alerts` is a pure function over per-source statistics (one row
per source, as :meth:`Store.source_history` and the pipeline record them):

* ``coverage_change`` — a source's coverage moved by more than
  ``coverage_change`` (absolute) since the previous run;
* ``accuracy_change`` — its estimated accuracy moved by more than
  ``accuracy_change``;
* ``conflict_rise`` — the share of items on which it conflicts with another
  source rose by more than ``conflict_increase``;
* ``dominates`` — removing this one source changes the label of more than
  ``dominance`` of the items that have any vote (statistic ``decides``), or it
  holds more than ``dominance`` of the label model's total weight
  (``weight_share``, when there are at least three sources);
* ``below_chance`` — its estimated accuracy is below chance, ``1 / k``, by
  more than its own votes can explain (with ``n_votes`` given: the 95 %
  Wilson interval of the estimate over that many votes lies below chance),
  and its votes on dev gold (columns ``correct``/``incorrect``, when given)
  do not put its accuracy above chance;
* ``below_chance_few_votes`` — one run-wide warning for the sources whose
  estimate is below chance by less than their votes can tell apart from
  chance (crowd workers who answered a handful of items), naming the worst
  few, instead of one error per source. The estimate is read as a share of
  the source's votes: an approximation (the label model's estimate is not a
  count), which only decides between an error and this warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._core.validation import check_float, check_int, fail
from ..evaluation import wilson_interval

__all__ = ["Alert", "AlertThresholds", "detect_alerts"]


@dataclass(frozen=True)
class AlertThresholds:
    """When an alert fires (fractions of items, or accuracy on a 0-1 scale).

    Parameters
    ----------
    coverage_change : float, default=0.1
    accuracy_change : float, default=0.1
    dominance : float, default=0.5
    conflict_increase : float, default=0.05

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab.pipeline import AlertThresholds, detect_alerts
    >>> before = pd.DataFrame({"coverage": [0.30]}, index=["keyword_free"])
    >>> after = pd.DataFrame({"coverage": [0.24]}, index=["keyword_free"])
    >>> len(detect_alerts(after, before, n_classes=2))
    0
    >>> len(detect_alerts(after, before, n_classes=2, thresholds=AlertThresholds(coverage_change=0.05)))
    1
    """

    coverage_change: float = 0.1
    accuracy_change: float = 0.1
    dominance: float = 0.5
    conflict_increase: float = 0.05

    def __post_init__(self) -> None:
        for name in ("coverage_change", "accuracy_change", "dominance", "conflict_increase"):
            check_float(name, getattr(self, name), low=0.0, high=1.0)


@dataclass(frozen=True)
class Alert:
    """One alert: ``kind``, the ``source`` concerned, a ``severity``, a ``message`` and the ``value`` that fired.

    Attributes
    ----------
    kind : str
        What fired (for example a coverage or accuracy drift, a dominating source, a source below chance).
    source : str or None
        The source concerned, or None for a run-wide alert.
    severity : str
        ``"warning"``, or ``"error"`` for a source below chance.
    message : str
        One sentence for people.
    value : float or None
        The measured value that fired.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab.pipeline import detect_alerts
    >>> before = pd.DataFrame({"coverage": [0.30, 0.10]}, index=["keyword_free", "has_link"])
    >>> after = pd.DataFrame({"coverage": [0.05, 0.10]}, index=["keyword_free", "has_link"])
    >>> alert = detect_alerts(after, before, n_classes=2)[0]
    >>> alert.kind, alert.source, alert.severity
    ('coverage_change', 'keyword_free', 'warning')
    """

    kind: str
    source: str | None
    severity: str
    message: str
    value: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"kind": self.kind, "source": self.source, "severity": self.severity,
                "message": self.message, "value": self.value}


def detect_alerts(current: pd.DataFrame, previous: pd.DataFrame | None = None, *, n_classes: int,
                  thresholds: AlertThresholds | None = None) -> list[Alert]:
    """Alerts for the sources of a run, against the previous run when given.

    Parameters
    ----------
    current : pandas.DataFrame
        One row per source (index = source name); any of the columns
        ``coverage``, ``conflicts``, ``est_accuracy``, ``decides``,
        ``weight_share``, ``n_votes`` (votes the source cast),
        ``correct``/``incorrect`` (its votes on dev gold) (NaN = unknown).
    previous : pandas.DataFrame, optional
        The same for the previous run; sources new in ``current`` are compared
        with nothing.
    n_classes : int
        Number of classes ``k`` (chance accuracy is ``1 / k``).
    thresholds : AlertThresholds, optional

    Returns
    -------
    list of Alert
        Sorted by source, then kind.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab.pipeline import detect_alerts
    >>> summary = pd.DataFrame({"coverage": [0.4, 0.1], "est_accuracy": [0.35, 0.9]},
    ...                        index=["keyword_free", "has_link"])
    >>> for alert in detect_alerts(summary, n_classes=2):
    ...     print(alert.kind, alert.source)
    below_chance keyword_free
    """
    if not isinstance(current, pd.DataFrame):
        raise fail("current", "a DataFrame of source statistics indexed by source name", current)
    if previous is not None and not isinstance(previous, pd.DataFrame):
        raise fail("previous", "a DataFrame of source statistics or None", previous)
    k = check_int("n_classes", n_classes, low=2)
    limits = thresholds if thresholds is not None else AlertThresholds()
    alerts: list[Alert] = []
    unsure: list[tuple[str, float, float]] = []
    for source, row in current.iterrows():
        before = _row_of(previous, source)
        alerts += _changes(str(source), row, before, limits)
        alerts += _state(str(source), row, k, limits, n_sources=len(current), unsure=unsure)
    alerts += _few_votes(unsure, k)
    return sorted(alerts, key=lambda a: (a.source or "", a.kind))


def _row_of(frame: pd.DataFrame | None, source: Any) -> pd.Series | None:
    if frame is None or source not in frame.index:
        return None
    return frame.loc[[source]].iloc[0]


def _value(row: Any, column: str) -> float:
    if row is None or column not in row.index:
        return math.nan
    value = row[column]
    return math.nan if value is None else float(value)


def _changes(source: str, row: pd.Series, before: pd.Series | None, limits: AlertThresholds) -> list[Alert]:
    out = []
    checks = (("coverage", "coverage_change", limits.coverage_change, "coverage"),
              ("est_accuracy", "accuracy_change", limits.accuracy_change, "estimated accuracy"))
    for column, kind, limit, label in checks:
        now, then = _value(row, column), _value(before, column)
        if not math.isnan(now - then) and abs(now - then) > limit:
            verb = "rose" if now > then else "fell"
            out.append(Alert(kind, source, "warning",
                             f"{source}: {label} {verb} from {then:.1%} to {now:.1%} since the previous run",
                             now - then))
    now, then = _value(row, "conflicts"), _value(before, "conflicts")
    if not math.isnan(now - then) and now - then > limits.conflict_increase:
        out.append(Alert("conflict_rise", source, "warning",
                         f"{source}: conflicts with other sources on {now:.1%} of items, up from {then:.1%}",
                         now - then))
    return out


def _gold_above(row: pd.Series, chance: float) -> bool:
    """Whether the source's votes on dev gold (``correct``/``incorrect``) put its accuracy above chance.

    The 95 % Wilson interval of the measured accuracy lies wholly above
    ``chance``: an estimate below chance is then contradicted by gold (an
    estimate from the few items a source shares with others, where conflicts
    gather, can be), and no ``below_chance`` alert fires.
    """
    right, wrong = _value(row, "correct"), _value(row, "incorrect")
    if math.isnan(right + wrong) or right + wrong < 1:
        return False
    lower, _ = wilson_interval(right, right + wrong)
    return bool(float(lower) > chance)


def _below_by_evidence(accuracy: float, n_votes: float, chance: float) -> bool:
    """Whether an estimate below chance stays below it over the source's ``n_votes`` (95 % Wilson upper bound).

    Unknown ``n_votes`` (NaN) trusts the estimate, as before the count was recorded.
    """
    if math.isnan(n_votes):
        return True
    _, upper = wilson_interval(accuracy * n_votes, n_votes)
    return bool(float(upper) < chance)


def _few_votes(unsure: list[tuple[str, float, float]], k: int) -> list[Alert]:
    """One warning for the sources below chance on too few votes to tell (the lowest estimates named first)."""
    if not unsure:
        return []
    worst = sorted(unsure, key=lambda u: (u[1], -u[2], u[0]))
    named = ", ".join(f"{name} ({acc:.0%} on {int(n)} vote{'s' if n != 1 else ''})" for name, acc, n in worst[:5])
    more = f" and {len(worst) - 5} more" if len(worst) > 5 else ""
    return [Alert("below_chance_few_votes", None, "warning",
                  f"{len(worst)} source(s) have an estimated accuracy below chance ({1 / k:.1%}), by less than "
                  f"their own votes can tell apart from chance: {named}{more}; watch them as they vote more",
                  float(len(worst)))]


def _state(source: str, row: pd.Series, k: int, limits: AlertThresholds, *, n_sources: int,
           unsure: list[tuple[str, float, float]]) -> list[Alert]:
    out = []
    decides, share = _value(row, "decides"), _value(row, "weight_share")
    if decides > limits.dominance:
        out.append(Alert("dominates", source, "warning",
                         f"{source} dominates: removing it changes the label of {decides:.1%} of covered items",
                         decides))
    elif n_sources >= 3 and share > limits.dominance:
        out.append(Alert("dominates", source, "warning",
                         f"{source} dominates: it holds {share:.1%} of the label model's total weight", share))
    accuracy, n_votes = _value(row, "est_accuracy"), _value(row, "n_votes")
    if accuracy < 1.0 / k and not n_votes < 1 and not _gold_above(row, 1.0 / k):  # 0 votes: no estimate to judge
        if _below_by_evidence(accuracy, n_votes, 1.0 / k):
            out.append(Alert("below_chance", source, "error",
                             f"{source}: estimated accuracy {accuracy:.1%} is below chance ({1 / k:.1%}); "
                             "check its label or drop it", accuracy))
        else:
            unsure.append((source, accuracy, n_votes))
    return out
