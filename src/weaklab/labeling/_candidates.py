"""Candidate rules for :func:`~weaklab.labeling.generate_lfs`, as binary hit columns over all rows.

Each text candidate is a *feature* of an item, defined on the lower-cased
text's word tokens (maximal runs of ``\\w``), chosen so that the template LF
written for it fires on exactly the same items:

* ``w`` -- the word ``w`` (``keyword_lf([w])``);
* ``w1 w2`` -- two words separated by one space (``keyword_lf(["w1 w2"])``);
* ``^w1`` / ``^w1 w2`` -- the text starts with these words
  (``regex_lf(r"^\\W*w1\\W+w2(?!\\w)", flags=re.IGNORECASE)``);
* ``w1 … w2`` -- ``w1`` followed by ``w2`` with one or two words between
  (``regex_lf(r"(?<!\\w)w1(?:\\W+\\w+){1,2}\\W+w2(?!\\w)", flags=re.IGNORECASE)``).

Numeric candidates are ``value > t`` and ``value < t`` at the deciles of a
column (``threshold_lf``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["Feature", "text_features", "threshold_features", "texts_of", "numeric_columns"]

_WORD = re.compile(r"\w+")
#: Features seen in fewer labelled items than this are not candidates.
MIN_LABELLED_HITS = 2
_GAPS = (1, 2)


@dataclass(frozen=True)
class Feature:
    """One candidate rule: its family, the text or column it tests, and its parameters."""

    kind: str  # "keyword" | "prefix" | "gap" | "threshold"
    words: tuple[str, ...] = ()
    column: str = ""
    above: float | None = None
    below: float | None = None

    @property
    def family(self) -> str:
        """The ``kinds`` entry that produces this feature."""
        return {"keyword": "keyword", "prefix": "regex", "gap": "regex"}.get(self.kind, "threshold")

    def key(self) -> str:
        """A readable, unique text for ordering and names."""
        if self.kind == "keyword":
            return " ".join(self.words)
        if self.kind == "prefix":
            return "^" + " ".join(self.words)
        if self.kind == "gap":
            return f"{self.words[0]} ... {self.words[1]}"
        side = f"> {self.above:g}" if self.above is not None else f"< {self.below:g}"
        return f"{self.column} {side}"


def texts_of(column: pd.Series) -> list[str]:
    """The column as lower-cased strings (missing or non-text values become empty texts)."""
    return [v.lower() if isinstance(v, str) else "" for v in column.tolist()]


def _features_of(text: str, kinds: frozenset[str]) -> set[Feature]:
    matches = list(_WORD.finditer(text))
    words = [m.group() for m in matches]
    out: set[Feature] = set()
    if "keyword" in kinds:
        out.update(Feature("keyword", (w,)) for w in words)
        for a, b in itertools.pairwise(matches):
            if text[a.end():b.start()] == " ":
                out.add(Feature("keyword", (a.group(), b.group())))
    if "regex" in kinds and words:
        out.add(Feature("prefix", tuple(words[:1])))
        if len(words) > 1:
            out.add(Feature("prefix", tuple(words[:2])))
        for gap in _GAPS:
            out.update(Feature("gap", (words[i], words[i + gap + 1])) for i in range(len(words) - gap - 1))
    return out


def text_features(
    texts: list[str], labelled: np.ndarray, kinds: frozenset[str]
) -> tuple[list[Feature], sp.csc_matrix]:
    """Text features seen in at least :data:`MIN_LABELLED_HITS` labelled items, with their hits on all rows.

    Returns
    -------
    features : list of Feature
    hits : scipy.sparse.csc_matrix of shape (n_rows, n_features), bool
    """
    per_row = [_features_of(t, kinds) for t in texts]
    counts: dict[Feature, int] = {}
    for i in np.flatnonzero(labelled).tolist():
        for f in per_row[i]:
            counts[f] = counts.get(f, 0) + 1
    features = sorted((f for f, c in counts.items() if c >= MIN_LABELLED_HITS), key=lambda f: (f.kind, f.words))
    index = {f: j for j, f in enumerate(features)}
    rows: list[int] = []
    cols: list[int] = []
    for i, found in enumerate(per_row):
        hit = [index[f] for f in found if f in index]
        rows.extend([i] * len(hit))
        cols.extend(hit)
    data = np.ones(len(rows), dtype=bool)
    hits = sp.csc_matrix((data, (rows, cols)), shape=(len(texts), len(features)), dtype=bool)
    return features, hits


def numeric_columns(frame: pd.DataFrame, exclude: set[str]) -> list[str]:
    """Numeric, non-boolean columns of ``frame`` other than ``exclude``."""
    return [str(c) for c in frame.columns
            if str(c) not in exclude and pd.api.types.is_numeric_dtype(frame[c].dtype)
            and not pd.api.types.is_bool_dtype(frame[c].dtype) and not pd.api.types.is_complex_dtype(frame[c].dtype)]


def threshold_features(frame: pd.DataFrame, columns: list[str]) -> tuple[list[Feature], sp.csc_matrix]:
    """``value > t`` and ``value < t`` at the distinct deciles of each numeric column."""
    features: list[Feature] = []
    blocks: list[Any] = []
    for column in columns:
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        finite = values[np.isfinite(values)]
        if np.unique(finite).size < 2:
            continue
        cuts = np.unique(np.quantile(finite, np.linspace(0.1, 0.9, 9)))
        with np.errstate(invalid="ignore"):
            for t in cuts.tolist():
                for side in ("above", "below"):
                    hit = values > t if side == "above" else values < t
                    if hit.any() and not hit[np.isfinite(values)].all():
                        features.append(Feature("threshold", column=column, above=float(t) if side == "above" else None,
                                                below=float(t) if side == "below" else None))
                        blocks.append(sp.csc_matrix(hit.reshape(-1, 1)))
    if not blocks:
        return [], sp.csc_matrix((len(frame), 0), dtype=bool)
    return features, sp.hstack(blocks, format="csc").astype(bool)
