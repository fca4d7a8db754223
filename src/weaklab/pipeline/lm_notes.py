"""What a run's label model chose, why, and what it warned about, kept with the run.

``AutoLabelModel`` explains its choice in ``reason_`` and raises a ``UserWarning`` when the choice is close or
risky. A recorded run keeps both in the label model's metrics (``choice``, ``reason``, ``warnings``), so the CLI,
the dashboard and the report can show them after the fit, and a run that reuses a recorded fit still shows the
warnings its fit raised. The warnings are raised again to the caller unchanged: same text, category, file and line,
and the same module for warning filters (``filterwarnings(..., module=...)``) as when the fit raised them.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, TypeVar

from ..errors import ConvergenceWarning

__all__ = ["KEPT", "MAX_WARNINGS", "choice_lines", "choice_of", "fit_noting_warnings", "label_model_notes",
           "notes_lines"]

#: At most this many distinct warnings are kept with a run (the first ones raised).
MAX_WARNINGS = 10
#: The warnings kept with a run: a model's own (``UserWarning``) and EM stopped by ``max_iter``.
KEPT: tuple[type[Warning], ...] = (UserWarning, ConvergenceWarning)

_Model = TypeVar("_Model")


def fit_noting_warnings(fit: Callable[[], _Model]) -> tuple[_Model, list[str]]:
    """Run ``fit()`` and return its result with the distinct texts of the warnings it raised (:data:`KEPT`).

    Every warning is raised again after the call, through the caller's warning filters, so nothing
    is hidden from a Python caller; only the texts are kept for the run. Under the ``"default"``
    action a warning raised many times at one place is shown once, as it would be without this call.
    A filter by module matches as it would without this call: the module is the one whose file
    the warning names (for weaklab's own warnings the caller's, see :mod:`weaklab._core.warn`), not
    the file's path.

    Parameters
    ----------
    fit : callable
        Fits the label model and returns it.

    Returns
    -------
    model, warnings : object, list of str
        ``fit()``'s result and at most :data:`MAX_WARNINGS` distinct warning texts, in the order raised.

    Examples
    --------
    >>> def fit():
    ...     warnings.warn("close call", UserWarning)
    ...     return "model"
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     fit_noting_warnings(fit)
    ('model', ['close call'])
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit()
    texts: list[str] = []
    for item in caught:
        text = str(item.message)
        if issubclass(item.category, KEPT) and text not in texts and len(texts) < MAX_WARNINGS:
            texts.append(text)
    registry: dict[Any, Any] = {}  # one for the whole fit: the "default" action shows a repeated warning once
    modules: dict[str, str | None] = {}
    for item in caught:
        if item.filename not in modules:
            modules[item.filename] = _module_of(item.filename)
        warnings.warn_explicit(item.message, item.category, item.filename, item.lineno,
                               module=modules[item.filename], registry=registry, source=item.source)
    return model, texts


def _module_of(filename: str) -> str | None:
    """The name of the loaded module whose source is ``filename`` (what ``warnings.warn`` gave the filters).

    None when no loaded module has that file (code run from a string): ``warn_explicit`` then names the
    module by the file, as Python does for such code.
    """
    for name, module in list(sys.modules.items()):
        if isinstance(module, ModuleType) and module.__dict__.get("__file__") == filename:
            return name
    return None


def choice_of(model: Any) -> str:
    """What a fitted label model labels with: for ``AutoLabelModel`` its chosen model or weighted members.

    Examples
    --------
    >>> from weaklab.models import MajorityVote
    >>> choice_of(MajorityVote())
    'MajorityVote'
    """
    members = getattr(model, "members_", None)
    if members:
        return " + ".join(f"{name} ({weight:.2f})" for name, weight in members) if len(members) > 1 \
            else str(members[0][0])
    selected = getattr(model, "selected_", None)
    return str(selected) if selected else type(model).__name__


def label_model_notes(model: Any, raised: list[str]) -> dict[str, Any]:
    """The ``choice``, ``reason`` (when the model gives one) and ``warnings`` kept in a run's metrics.

    Examples
    --------
    >>> from weaklab.models import MajorityVote
    >>> label_model_notes(MajorityVote(), [])
    {'choice': 'MajorityVote', 'warnings': []}
    """
    notes: dict[str, Any] = {"choice": choice_of(model), "warnings": list(raised)}
    reason = getattr(model, "reason_", None)
    if reason:
        notes["reason"] = str(reason)
    return notes


def choice_lines(label_model: Mapping[str, Any], *, reason: bool = False) -> list[str]:
    """Plain-text lines on what the label model chose, and why with ``reason`` (none for older runs).

    :func:`notes_lines` without the warnings, for a caller that shows the warnings
    (``label_model["warnings"]``) its own way.

    Examples
    --------
    >>> choice_lines({"class": "AutoLabelModel", "choice": "DawidSkene", "reason": "best", "warnings": ["close"]},
    ...              reason=True)
    ['AutoLabelModel chose DawidSkene', 'why: best']
    """
    lines = []
    choice = label_model.get("choice")
    if choice and choice != label_model.get("class"):
        lines.append(f"{label_model.get('class')} chose {choice}")
    if reason and label_model.get("reason"):
        lines.append(f"why: {label_model['reason']}")
    return lines


def notes_lines(label_model: Mapping[str, Any], *, reason: bool = False) -> list[str]:
    """Plain-text lines on what the label model chose and the warnings of its fit (none for older runs).

    Parameters
    ----------
    label_model : mapping
        The label model's metrics of a run.
    reason : bool, default False
        Also give the model's whole explanation (long; the dashboard and the report show it).

    Examples
    --------
    >>> notes_lines({"class": "AutoLabelModel", "choice": "DawidSkene", "warnings": ["close call"]})
    ['AutoLabelModel chose DawidSkene', 'warning: close call']
    >>> notes_lines({"class": "MajorityVote", "choice": "MajorityVote", "warnings": []})
    []
    """
    return choice_lines(label_model, reason=reason) + [f"warning: {text}" for text in label_model.get("warnings") or []]
