"""Nearest-centroid candidates over sentence embeddings (for ``generate_lfs``).

A candidate is what ``embedding_lf(exemplars, margin=m, min_similarity=0)``
votes: the class whose centroid (mean of its exemplars' unit embeddings, scaled
to unit length) is most similar to the item, when the best similarity exceeds
the runner-up's by at least ``m``. Its precision is estimated by k-fold
cross-validation on the labelled items (centroids from the other folds), since
in-sample the exemplars would vote for themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.constants import ABSTAIN
from ..features import embed_texts
from ._lf_selection import Candidate, wilson_lower_bound

__all__ = ["MARGINS", "MAX_EXEMPLARS", "embedding_candidates"]

#: Abstain margins tried (best minus second-best cosine similarity).
MARGINS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2)
#: Most exemplar texts per class written into the generated LF.
MAX_EXEMPLARS = 30
MIN_SIMILARITY = 0.0
_FOLDS = 5


def _centroids(vectors: np.ndarray, y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    rows = []
    for c in classes.tolist():
        mean = vectors[y == c].mean(axis=0)
        rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
    return np.vstack(rows).astype(np.float32)


def _votes(vectors: np.ndarray, centroids: np.ndarray, classes: np.ndarray, margin: float) -> np.ndarray:
    sims = vectors @ centroids.T
    best = sims.argmax(axis=1)
    top = sims[np.arange(sims.shape[0]), best]
    second = np.partition(sims, sims.shape[1] - 2, axis=1)[:, -2]
    sure = (top >= MIN_SIMILARITY) & (top - second >= margin)
    return np.where(sure, classes[best], ABSTAIN)


def _cv_counts(vectors: np.ndarray, y: np.ndarray, classes: np.ndarray, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per margin: correct and cast held-out votes, and the held-out votes themselves ``(margins, n)``."""
    folds = rng.permutation(y.size) % _FOLDS
    held = np.full((len(MARGINS), y.size), ABSTAIN, dtype=np.int64)
    for f in range(_FOLDS):
        train, test = folds != f, folds == f
        present = np.array([c for c in classes.tolist() if np.any(y[train] == c)], dtype=np.int64)
        if present.size < 2 or not test.any():
            continue
        cents = _centroids(vectors[train], y[train], present)
        for m, margin in enumerate(MARGINS):
            held[m, test] = _votes(vectors[test], cents, present, margin)
    cast = (held != ABSTAIN).sum(axis=1)
    correct = (held == y[None, :]).sum(axis=1)
    return correct, cast, held


def embedding_candidates(texts: list[str | None], y: np.ndarray, floors: np.ndarray, prior: np.ndarray,
                         rng: np.random.Generator, model: Any, cache_dir: Any, z: float) -> list[Candidate]:
    """Nearest-centroid candidates (one per margin that reaches the floor), each voting on every row.

    ``payload`` holds ``(margin, {class: exemplar texts})``. Raises
    :class:`~weaklab.errors.MissingDependencyError` without the embed extra.
    """
    valid = np.array([isinstance(t, str) and bool(t.strip()) for t in texts], dtype=bool)
    embedded = embed_texts([t for t, ok in zip(texts, valid) if ok], model, cache_dir=cache_dir)
    vectors = np.zeros((len(texts), embedded.shape[1]), dtype=np.float32)
    vectors[valid] = embedded
    lab = np.flatnonzero((y >= 0) & valid)
    classes = np.unique(y[lab])
    if classes.size < 2:
        return []
    exemplars = {}
    for c in classes.tolist():
        rows = lab[y[lab] == c]
        if rows.size > MAX_EXEMPLARS:
            rows = np.sort(rng.choice(rows, MAX_EXEMPLARS, replace=False))
        exemplars[c] = rows
    chosen = np.concatenate(list(exemplars.values()))
    cents = _centroids(vectors[chosen], y[chosen], classes)
    correct, cast, held = _cv_counts(vectors[lab], y[lab], classes, rng)
    lower = wilson_lower_bound(correct, cast, z)
    out = []
    for m, margin in enumerate(MARGINS):
        votes_held = held[m][held[m] != ABSTAIN]
        if votes_held.size == 0:
            continue
        floor = float(np.mean(floors[votes_held]))
        base = float(np.mean(prior[votes_held]))
        if lower[m] < floor:
            continue
        votes = np.where(valid, _votes(vectors, cents, classes, margin), ABSTAIN)
        quality = (lower[m] - base) / (1.0 - base)
        spec = {c: tuple(str(texts[i]) for i in rows.tolist()) for c, rows in exemplars.items()}
        out.append(Candidate(f"nearest centroid, margin {margin:g}", -1, float(lower[m]), float(quality),
                             votes=votes, payload=(margin, spec, correct[m] / max(cast[m], 1), int(cast[m]))))
    return out
