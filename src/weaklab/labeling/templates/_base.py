"""The base of every labeling-function template, and the helpers the templates share.

A template is a vectorized :class:`~weaklab.labeling.LabelingFunction` defined
by its kind and parameters (its fingerprint hashes exactly those); a new
template family is a module of this package with a :class:`TemplateLF`
subclass implementing ``_compute(batch)`` and a builder function.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..._core.constants import ABSTAIN
from ..._core.validation import fail
from .._batch import Batch, FaultLog, FieldError, require_fields
from .._search import TextColumn, text_column
from .._stable import stable_state
from ..lf import LabelingFunction

__all__ = ["TemplateLF", "check_field", "check_label", "check_name", "slug", "batch_text", "votes_where"]

_TEMPLATE_VERSION = 1


class TemplateLF(LabelingFunction):
    """A vectorized LF defined by a template kind and its parameters."""

    _kind = "template"

    def __init__(self, name: str, kind: str, params: dict[str, Any], fields: tuple[str, ...] | None) -> None:
        super().__init__(name, self._frame_votes, vectorized=True, fields=fields)
        self.template = kind
        self.params = params

    def _fingerprint_parts(self) -> tuple[Any, ...]:
        return (self.template, _TEMPLATE_VERSION, stable_state(self.params))

    def _frame_votes(self, frame: pd.DataFrame) -> np.ndarray:
        return self.batch_votes(frame)

    def _raw_votes(self, batch: Batch, log: FaultLog) -> Any:
        if self.fields:
            require_fields(batch.frame, self.fields, self.name)
        log.named = self._votes_names()
        return self._compute(batch)

    def _votes_names(self) -> bool:
        """Whether the LF votes class names (so reordering the class list does not change its meaning)."""
        return isinstance(self.params.get("label"), str)

    def _label_id(self, batch: Batch) -> int:
        """The class id of ``params["label"]`` (a class name is looked up in the batch's class list)."""
        label = self.params["label"]
        return batch.class_id(label, self.name) if isinstance(label, str) else int(label)

    def _compute(self, batch: Batch) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if _short(v))
        return f"{self.template}({shown}, name={self.name!r})"


def _short(value: Any) -> bool:
    return isinstance(value, (str, int, float, tuple)) and len(repr(value)) <= 80


def batch_text(batch: Batch, field: str, lf_name: str, *, lower: bool = False) -> TextColumn:
    """The batch's column ``field`` as text, built once per batch and shared."""

    def build() -> TextColumn:
        try:
            return text_column(batch.frame[field])
        except TypeError as exc:
            raise FieldError(f"labeling function {lf_name!r}: column {field!r}: {exc}") from None

    column: TextColumn = batch.memo(("text", field), build)
    return batch.memo(("text-lower", field), column.lower) if lower else column


def votes_where(hits: np.ndarray, label: int) -> np.ndarray:
    return np.where(hits, np.int64(label), np.int64(ABSTAIN))


def check_label(label: Any, name: str = "label") -> int | str:
    """A template's ``label`` (parameter ``name``): a class id ``>= 0`` or a class name (looked up when applied)."""
    if isinstance(label, str):
        if not label:
            raise fail(name, "a class id >= 0 or a class name", label)
        return label
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) or label < 0:
        raise fail(name, "a class id >= 0 or a class name", label)
    return int(label)


def slug(text: str, limit: int = 40) -> str:
    slug = re.sub(r"\W+", "_", text).strip("_")[:limit]
    return slug or "pattern"


def check_field(field: Any, name: str = "field") -> str:
    if not isinstance(field, str) or not field:
        raise fail(name, "a column name (non-empty string)", field)
    return field


def check_name(name: Any, default: str) -> str:
    if name is None:
        return default
    if not isinstance(name, str) or not name:
        raise fail("name", "a non-empty string or None", name)
    return name
