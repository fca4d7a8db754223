"""Source repair suggestions: which sources do harm, and a narrower version of the rules that can be narrowed.

The weak-label error detector (:func:`weaklab.cleaning.find_weak_label_errors`)
says which weak labels look wrong and what they should be. A source's *harm*
is measured by taking its votes away and asking the fitted label model again
(its ``predict_proba`` on the matrix with that source's column abstaining):

* *errors caused*: flagged items whose weak label would then become the
  suggested class (items left without any vote do not count);
* *errors fixed*: unflagged items (labels that look right) whose weak label
  would then change, or be lost because no other source votes on them.

``harm = caused - fixed``. A source with positive harm gets an action:
``"narrow"`` for a keyword or regex template with more than one keyword or
top-level alternative, where one of them fires on most of the flagged items
the source voted wrong (the replacement drops it), else ``"drop"``. Sources
with no positive harm are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..cleaning import WeakLabelErrors

__all__ = ["SourceRepair", "RepairSuggestions", "suggest_repairs", "source_harm", "apply_repairs",
           "narrower_template"]

ACTIONS = ("narrow", "drop", "keep")


@dataclass(frozen=True)
class SourceRepair:
    """One source's harm and the suggested repair.

    Attributes
    ----------
    source : str
    caused, fixed, harm : int
        Errors the source causes, errors it fixes, ``caused - fixed``.
    action : {"narrow", "drop", "keep"}
    detail : str
        What the action changes, in words.
    replacement : LabelingFunction or None
        The narrower labeling function for ``"narrow"``.
    """

    source: str
    caused: int
    fixed: int
    harm: int
    action: str
    detail: str
    replacement: Any = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (the replacement as its ``repr``)."""
        return {"source": self.source, "caused": self.caused, "fixed": self.fixed, "harm": self.harm,
                "action": self.action, "detail": self.detail,
                "replacement": None if self.replacement is None else repr(self.replacement)}


@dataclass(frozen=True)
class RepairSuggestions:
    """Every source's repair, most harmful first, and how many weak labels were flagged."""

    repairs: tuple[SourceRepair, ...]
    n_flagged: int
    n_judged: int

    def to_frame(self) -> pd.DataFrame:
        """One row per source (columns as :meth:`SourceRepair.to_dict`)."""
        return pd.DataFrame([r.to_dict() for r in self.repairs],
                            columns=["source", "caused", "fixed", "harm", "action", "detail", "replacement"])

    def actionable(self) -> tuple[SourceRepair, ...]:
        """The repairs that change something (``narrow`` or ``drop``)."""
        return tuple(r for r in self.repairs if r.action != "keep")


def source_harm(votes: np.ndarray, model: Any, found: WeakLabelErrors) -> tuple[np.ndarray, np.ndarray]:
    """Errors each source causes and fixes (see the module notes).

    Parameters
    ----------
    votes : ndarray of shape (n, m)
        The judged items' votes (the rows ``found`` describes), ``-1`` = abstain.
    model : fitted label model
        Predicts on matrices of the same sources.
    found : WeakLabelErrors

    Returns
    -------
    (caused, fixed) : two int ndarrays of shape (m,)
    """
    L = np.asarray(votes)
    caused = np.zeros(L.shape[1], dtype=np.int64)
    fixed = np.zeros(L.shape[1], dtype=np.int64)
    for j in range(L.shape[1]):  # one counterfactual prediction per source, on the items it voted on
        rows = np.flatnonzero(L[:, j] >= 0)
        if rows.size == 0:
            continue
        without = L[rows].copy()
        without[:, j] = -1
        new = np.asarray(model.predict_proba(without)).argmax(axis=1)
        kept = (without >= 0).any(axis=1)  # items left with a vote: the others lose their weak label
        changed = (new != found.given[rows]) | ~kept
        flagged = found.mask[rows]
        caused[j] = int(np.sum(changed & kept & flagged & (new == found.suggested[rows])))
        fixed[j] = int(np.sum(changed & ~flagged))
    return caused, fixed


def narrower_template(lf: Any, data: pd.DataFrame, culprit_rows: np.ndarray) -> tuple[Any, str] | None:
    """A keyword/regex template without the keyword (or alternative) that fires on most of ``culprit_rows``.

    Parameters
    ----------
    lf : LabelingFunction
        A ``keyword_lf`` with two or more keywords, or a ``regex_lf`` whose
        pattern is a top-level alternation ``a|b|...``; anything else gives None.
    data : DataFrame
        The judged items (row-aligned with ``culprit_rows``) with the template's field.
    culprit_rows : ndarray of int
        Flagged items this source voted wrong.

    Returns
    -------
    (LabelingFunction, str) or None
        The replacement and a sentence saying what it drops.
    """
    from ..labeling import keyword_lf, regex_lf

    kind, params = getattr(lf, "template", None), getattr(lf, "params", None)
    if params is None or len(culprit_rows) == 0 or params.get("field") not in data.columns:
        return None
    texts = data[params["field"]].to_numpy()
    if kind == "keyword_lf" and len(params["keywords"]) > 1:
        parts = list(params["keywords"])
        flags = 0 if params["case_sensitive"] else re.IGNORECASE
        pats = [rf"(?<!\w){re.escape(w)}(?!\w)" if params["whole_word"] else re.escape(w) for w in parts]
    elif kind == "regex_lf" and len(_top_level_alternatives(params["pattern"])) > 1:
        parts = _top_level_alternatives(params["pattern"])
        flags, pats = int(params["flags"]), parts
    else:
        return None
    hits = [sum(bool(re.search(p, str(texts[i]), flags)) for i in culprit_rows) for p in pats]
    worst = int(np.argmax(hits))
    if hits[worst] == 0:
        return None
    rest = parts[:worst] + parts[worst + 1:]
    if kind == "keyword_lf":
        new = keyword_lf(rest, params["label"], field=params["field"], name=lf.name,
                         case_sensitive=params["case_sensitive"], whole_word=params["whole_word"])
    else:
        new = regex_lf("|".join(rest), params["label"], field=params["field"], name=lf.name, flags=params["flags"])
    return new, f"drop {parts[worst]!r} (fires on {hits[worst]} of its {len(culprit_rows)} flagged items)"


def suggest_repairs(votes: Any, model: Any, found: WeakLabelErrors, *, lfs: Any = None,
                    data: pd.DataFrame | None = None) -> RepairSuggestions:
    """Rank the sources by harm and suggest a repair for each harmful one.

    Parameters
    ----------
    votes : LabelMatrix or ndarray of shape (n, m)
        Votes of the judged items (the rows of ``found``).
    model : fitted label model
    found : WeakLabelErrors
        From :func:`weaklab.cleaning.find_weak_label_errors` on the same rows.
    lfs : sequence of LabelingFunction, optional
        The sources by name; templates among them can be narrowed.
    data : DataFrame, optional
        The judged items (row-aligned with ``votes``) with the templates'
        fields, needed to narrow.

    Returns
    -------
    RepairSuggestions

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.cleaning import find_weak_label_errors
    >>> from weaklab.models import MajorityVote
    >>> from weaklab.pipeline.suggest import suggest_repairs
    >>> votes = np.array([[1, 0, 0], [1, 0, 0], [1, 1, -1], [0, 0, 0], [1, 1, 1], [1, 0, -1]])
    >>> model = MajorityVote().fit(votes, n_classes=2)
    >>> lm = model.predict_proba(votes)
    >>> oof = np.array([[.9, .1], [.9, .1], [.2, .8], [.9, .1], [.1, .9], [.9, .1]])
    >>> found = find_weak_label_errors(votes, lm, oof, source_names=["a", "b", "c"])
    >>> suggest_repairs(votes, model, found).repairs[0].source
    'a'
    """
    L = np.asarray(votes.to_dense() if hasattr(votes, "to_dense") else votes)
    caused, fixed = source_harm(L, model, found)
    by_name = {getattr(lf, "name", None): lf for lf in (lfs or [])}
    repairs = []
    for j, name in enumerate(found.source_names):
        harm = int(caused[j] - fixed[j])
        action, detail, new = "keep", "causes no more errors than it fixes", None
        if harm > 0:
            culprits = np.flatnonzero(found.mask & (L[:, j] == found.given))
            narrowed = None if data is None or name not in by_name else narrower_template(
                by_name[name], data, culprits)
            if narrowed is not None:
                action, (new, detail) = "narrow", narrowed
            else:
                action, detail = "drop", f"causes {int(caused[j])} errors, fixes {int(fixed[j])}"
        repairs.append(SourceRepair(name, int(caused[j]), int(fixed[j]), harm, action, detail, new))
    repairs.sort(key=lambda r: (-r.harm, r.source))
    return RepairSuggestions(tuple(repairs), found.n_errors, int(found.mask.shape[0]))


def apply_repairs(lfs: Any, suggestions: RepairSuggestions) -> list[Any]:
    """The labeling functions with every suggestion applied: narrowed ones replaced, dropped ones removed.

    Examples
    --------
    >>> from weaklab.labeling import keyword_lf
    >>> from weaklab.pipeline.suggest import RepairSuggestions, SourceRepair, apply_repairs
    >>> lfs = [keyword_lf(["a"], 1, name="x"), keyword_lf(["b"], 0, name="y")]
    >>> s = RepairSuggestions((SourceRepair("x", 3, 1, 2, "drop", ""),), 3, 10)
    >>> [lf.name for lf in apply_repairs(lfs, s)]
    ['y']
    """
    actions = {r.source: r for r in suggestions.repairs}
    out = []
    for lf in lfs:
        repair = actions.get(lf.name)
        if repair is None or repair.action == "keep":
            out.append(lf)
        elif repair.action == "narrow":
            out.append(repair.replacement)
    return out


def _top_level_alternatives(pattern: str) -> list[str]:
    """``a|b|c`` split at the ``|`` outside brackets and groups (one part when there is none)."""
    parts, depth, start, escaped, in_class = [], 0, 0, False, False
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return [p for p in parts if p]
