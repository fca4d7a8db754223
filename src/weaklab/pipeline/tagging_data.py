"""A tagging project's items: tokens, gold spans and the dev split, read from its data table.

Tokens come from ``[task].tokens_column`` (a list per row; JSON text in CSV
files) or from ``[data].text_field`` cut by ``[task].tokenizer``
(``"whitespace"``, the default, or ``"words"``: runs of word characters and
single punctuation marks). Gold spans (``[data].gold_column``) are JSON
lists ``[[start, end_exclusive, "Type"], ...]`` over those tokens; an empty
cell is "no gold", ``[]`` is "gold: no entity".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ValidationError
from ..sequence import check_spans
from .config import ProjectConfig

__all__ = ["TaggingItems", "tagging_items", "tokenize", "TOKENIZERS"]

#: How ``[data].text_field`` is cut into tokens when the data has no token column.
TOKENIZERS = ("whitespace", "words")
_WORDS = re.compile(r"\w+(?:[-']\w+)*|[^\w\s]")


def tokenize(text: str, tokenizer: str = "whitespace") -> list[str]:
    """Cut a text into tokens.

    Examples
    --------
    >>> tokenize("Aspirin (ASA) helps.", "words")
    ['Aspirin', '(', 'ASA', ')', 'helps', '.']
    >>> tokenize("Aspirin (ASA) helps.")
    ['Aspirin', '(ASA)', 'helps.']
    """
    return _WORDS.findall(text) if tokenizer == "words" else text.split()


@dataclass(frozen=True)
class TaggingItems:
    """The tokens, gold spans (None where unknown) and dev mask of a tagging project's items."""

    tokens: list[list[str]]
    gold: list[list[tuple[int, int, str]] | None]
    dev: np.ndarray

    @property
    def has_gold(self) -> np.ndarray:
        """Rows with gold spans."""
        return np.array([g is not None for g in self.gold], dtype=bool)


def tagging_items(config: ProjectConfig, frame: pd.DataFrame) -> TaggingItems:
    """Read the tokens, gold spans and dev split of a tagging project's data table.

    Raises
    ------
    ValidationError
        A token cell is not a list of strings, a gold cell is not a list of
        spans within the item's tokens with types of ``[task].entity_types``
        (the message names the file, column and row).
    """
    tokens = _tokens(config, frame)
    gold = _gold(config, frame, tokens)
    dev = np.array([g is not None for g in gold], dtype=bool)
    split = config.get("data", "split_column")
    if split is not None:
        dev &= frame[split].astype(str).to_numpy() == str(config.get("data", "dev_value", "dev"))
    return TaggingItems(tokens, gold, dev)


def _tokens(config: ProjectConfig, frame: pd.DataFrame) -> list[list[str]]:
    column = config.get("task", "tokens_column")
    if column is None:
        text = config.get("data", "text_field")
        if text is None:
            raise ValidationError(f"{config.file}: task.tokens_column: expected a column of token lists, or "
                                  "[data].text_field to cut into tokens, got neither")
        how = config.get("task", "tokenizer", "whitespace")
        return [tokenize("" if _empty(v) else str(v), how) for v in frame[text].tolist()]
    if column not in frame.columns:
        raise ValidationError(f"{config.file}: task.tokens_column: expected a column of {config.data_path.name}, "
                              f"got {column!r} (columns: {list(map(str, frame.columns))})")
    out = []
    for row, value in enumerate(frame[column].tolist()):
        parsed = _json(value, config, column, row) if isinstance(value, str) else value
        parsed = [] if _empty(parsed) else list(parsed) if isinstance(parsed, (list, tuple, np.ndarray)) else parsed
        if not isinstance(parsed, list) or not all(isinstance(t, str) for t in parsed):
            raise ValidationError(f"{config.data_path}: column {column!r}: expected a list of token strings, "
                                  f"got {value!r} on row {row}")
        out.append(parsed)
    return out


def _gold(config: ProjectConfig, frame: pd.DataFrame,
          tokens: list[list[str]]) -> list[list[tuple[int, int, str]] | None]:
    column = config.get("data", "gold_column")
    if column is None:
        return [None] * len(frame)
    types = set(config.entity_types or [])
    out: list[list[tuple[int, int, str]] | None] = []
    for row, value in enumerate(frame[column].tolist()):
        if _empty(value):
            out.append(None)
            continue
        parsed = _json(value, config, column, row) if isinstance(value, str) else value
        try:
            spans = check_spans([tuple(s) for s in parsed], len(tokens[row]), name=f"{column}[{row}]")
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{config.data_path}: column {column!r}: expected JSON spans "
                                  f"[[start, end_exclusive, \"Type\"], ...] within the row's {len(tokens[row])} "
                                  f"tokens, got {value!r} on row {row} ({exc})") from None
        bad = [t for _, _, t in spans if t not in types]
        if bad:
            raise ValidationError(f"{config.data_path}: column {column!r}: expected span types among "
                                  f"task.entity_types {sorted(types)}, got {bad[0]!r} on row {row}")
        out.append(spans)
    return out


def _json(value: str, config: ProjectConfig, column: str, row: int) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ValidationError(f"{config.data_path}: column {column!r}: expected JSON, got {value[:80]!r} "
                              f"on row {row}") from None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (isinstance(value, str)
                                                                               and not value.strip())
