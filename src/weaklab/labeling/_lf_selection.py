"""Scoring candidate rules on labelled items and choosing a diverse subset (for ``generate_lfs``).

Pure numpy/scipy: candidates are hit columns (one class each) or vote vectors
(several classes); nothing here builds an LF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._core.constants import ABSTAIN

__all__ = ["Candidate", "wilson_lower_bound", "score_hits", "select_diverse"]

#: Two rules that fire on sets this similar (Jaccard) carry the same evidence.
MAX_JACCARD = 0.6
#: A rule whose hits lie this much inside one chosen rule's adds little new evidence.
MAX_INSIDE = 0.9
#: Candidates kept per class before the greedy selection (best lower bounds first).
TOP_PER_CLASS = 300


@dataclass(frozen=True)
class Candidate:
    """A scored candidate rule.

    ``label`` is its class, or -1 for a source voting several classes (its
    ``votes`` then hold one vote per row). ``column`` indexes the hit matrix
    for single-class rules. ``quality`` is the lift of the lower bound over
    the prior of what it votes, in ``(0, 1]``.
    """

    key: str
    label: int
    lower: float
    quality: float
    column: int = -1
    votes: np.ndarray | None = field(default=None, repr=False, compare=False)
    payload: Any = field(default=None, repr=False, compare=False)


def wilson_lower_bound(hits: Any, n: Any, z: float = 1.0) -> np.ndarray:
    """Lower end of the Wilson score interval of ``hits / n`` (0 where ``n = 0``)."""
    h = np.asarray(hits, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    safe = np.maximum(m, 1.0)
    p = h / safe
    z2 = z * z
    centre = p + z2 / (2 * safe)
    spread = z * np.sqrt(np.maximum(p * (1 - p) / safe + z2 / (4 * safe * safe), 0.0))
    return np.where(m > 0, (centre - spread) / (1 + z2 / safe), 0.0)


def score_hits(keys: list[str], hits: sp.csc_matrix, y: np.ndarray, k: int, floors: np.ndarray,
               prior: np.ndarray, z: float) -> list[Candidate]:
    """Single-class candidates from hit columns: each votes its labelled hits' majority class.

    Kept when the Wilson lower bound of that class's share reaches the class's
    floor; at most :data:`TOP_PER_CLASS` per class (highest bound, then coverage).
    """
    if not keys:
        return []
    labelled = np.flatnonzero(y >= 0)
    onehot = sp.csr_matrix((np.ones(labelled.size), (np.arange(labelled.size), y[labelled])),
                           shape=(labelled.size, k))
    counts = (hits[labelled].T.astype(np.float64) @ onehot).toarray()
    voted = counts.sum(axis=1)
    best = counts.argmax(axis=1)
    lower = wilson_lower_bound(counts[np.arange(len(keys)), best], voted, z)
    keep = (voted > 0) & (lower >= floors[best])
    coverage = np.asarray(hits.sum(axis=0)).ravel()
    out: list[Candidate] = []
    for c in range(k):
        idx = np.flatnonzero(keep & (best == c)).tolist()
        idx.sort(key=lambda j: (-lower[j], -coverage[j], keys[j]))
        for j in idx[:TOP_PER_CLASS]:
            quality = (lower[j] - prior[c]) / (1.0 - prior[c])
            if quality > 0:
                out.append(Candidate(keys[j], c, float(lower[j]), float(quality), column=j))
    return out


def select_diverse(cands: list[Candidate], hits: sp.csc_matrix, n_rows: int, k: int,
                   max_lfs: int) -> list[Candidate]:
    """Greedy Snuba-style choice of at most ``max_lfs`` candidates.

    Rounds: in each, every class (and the multi-class sources, as one more
    slot) takes its candidate of largest ``quality * gain``, where ``gain``
    sums ``1 / (1 + votes already cast for that class on the row)`` over the
    rows it votes on -- new evidence counts fully, repeated evidence less.
    Slots take turns in order of their best score; a candidate whose votes
    overlap a chosen same-slot candidate's with Jaccard > :data:`MAX_JACCARD`,
    or lie more than :data:`MAX_INSIDE` inside one, is dropped. A slot leaves
    when it has no candidate left; the multi-class slot after its first pick (its candidates are one source at several
    abstain thresholds).
    """
    counts = np.zeros((n_rows, k), dtype=np.float64)
    slots: dict[int, list[Candidate]] = {}
    for cand in cands:
        slots.setdefault(cand.label, []).append(cand)
    chosen: list[Candidate] = []
    chosen_sets: dict[int, list[np.ndarray]] = {}
    while len(chosen) < max_lfs and slots:
        offers = []
        for slot in sorted(slots):
            pick = _best_in_slot(slots[slot], hits, counts, chosen_sets.get(slot, []))
            if pick is None:
                del slots[slot]
            else:
                offers.append(pick)
        for score, cand, rows in sorted(offers, key=lambda o: (-o[0], o[1].key)):
            if len(chosen) >= max_lfs:
                break
            del score
            chosen.append(cand)
            slots[cand.label].remove(cand)
            if cand.label < 0:  # one multi-class source: its variants differ only in the abstain threshold
                del slots[cand.label]
            chosen_sets.setdefault(cand.label, []).append(rows)
            _add_votes(counts, cand, rows)
    return chosen


def _rows_of(cand: Candidate, hits: sp.csc_matrix) -> np.ndarray:
    if cand.votes is not None:
        return np.flatnonzero(cand.votes != ABSTAIN)
    start, end = hits.indptr[cand.column], hits.indptr[cand.column + 1]
    return np.sort(hits.indices[start:end])


def _gain(cand: Candidate, rows: np.ndarray, counts: np.ndarray) -> float:
    if cand.votes is not None:
        return float(np.sum(1.0 / (1.0 + counts[rows, cand.votes[rows]])))
    return float(np.sum(1.0 / (1.0 + counts[rows, cand.label])))


def _add_votes(counts: np.ndarray, cand: Candidate, rows: np.ndarray) -> None:
    if cand.votes is not None:
        counts[rows, cand.votes[rows]] += 1.0
    else:
        counts[rows, cand.label] += 1.0


def _repeats(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether rows ``a`` mostly repeat ``b``: Jaccard above MAX_JACCARD or ``a`` nearly inside ``b``."""
    inter = np.intersect1d(a, b, assume_unique=True).size
    union = a.size + b.size - inter
    return inter > MAX_JACCARD * union or inter > MAX_INSIDE * a.size


def _best_in_slot(cands: list[Candidate], hits: sp.csc_matrix, counts: np.ndarray,
                  taken: list[np.ndarray]) -> tuple[float, Candidate, np.ndarray] | None:
    scored = []
    for cand in cands:
        rows = _rows_of(cand, hits)
        if rows.size:
            scored.append((cand.quality * _gain(cand, rows, counts), cand, rows))
    scored.sort(key=lambda s: (-s[0], s[1].key))
    for score, cand, rows in scored:
        if score > 0 and not any(_repeats(rows, other) for other in taken):
            return score, cand, rows
        cands.remove(cand)
    return None
