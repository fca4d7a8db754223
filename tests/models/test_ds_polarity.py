"""Dawid-Skene with the unipolar labeling functions of a class tied (source_groups="polarity", issue 10)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from weaklab import LabelMatrix
from weaklab.errors import ValidationError
from weaklab.models import DawidSkene, MajorityVote
from weaklab.models.dawid_skene import resolve_source_groups

SEEDS = range(8)


def sparse_one_class_lfs(seed: int, n: int = 4000, k: int = 6, per_class: int = 8) -> tuple[LabelMatrix, np.ndarray]:
    """WRENCH-TREC-shaped votes: 8 keyword LFs per class (coverage 1-10 %, precision 0.4-0.95), some near-copies."""
    rng = np.random.default_rng(seed)
    prior = rng.dirichlet(np.full(k, 3.0))
    y = rng.choice(k, n, p=prior)
    columns = []
    for c in range(k):
        for _ in range(per_class):
            precision, coverage = rng.uniform(0.4, 0.95), rng.uniform(0.01, 0.1)
            wrong = prior.copy()
            wrong[c] = 0.0
            wrong /= wrong.sum()
            rate = np.where(y == c, coverage * precision / prior[c], coverage * (1 - precision) * wrong[y] / prior[y])
            column = np.where(rng.random(n) < np.clip(rate, 0.0, 1.0), c, -1)
            columns.append(column)
            if rng.random() < 0.3:  # a near-copy that fires with it 80 % of the time
                columns.append(np.where((column >= 0) & (rng.random(n) < 0.8), c, -1))
    return LabelMatrix(np.stack(columns, axis=1), n_classes=k), y


def accuracy(proba: np.ndarray, y: np.ndarray) -> float:
    """Expected accuracy with exact ties split."""
    tied = proba >= proba.max(axis=1, keepdims=True) - 1e-9
    return float((tied[np.arange(y.size), y] / tied.sum(axis=1)).mean())


@pytest.fixture(scope="module")
def scores():
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in SEEDS:
            L, y = sparse_one_class_lfs(seed)
            out.append([accuracy(m.fit(L).predict_proba(L), y)
                        for m in (MajorityVote(), DawidSkene(), DawidSkene(source_groups="polarity"))])
    return np.array(out)


def test_tied_lfs_beat_majority_vote_on_sparse_one_class_lfs(scores):
    """Averaged over 8 matrices, tying each class's LFs is at least 2 points above majority vote."""
    majority, _, tied = scores.mean(axis=0)
    assert tied >= majority + 0.02


def test_tied_lfs_never_below_untied_dawid_skene(scores):
    """On every matrix, tying each class's LFs is at least as accurate as one confusion per LF (-0.5 point)."""
    assert np.all(scores[:, 2] >= scores[:, 1] - 0.005)


def test_polarity_groups_unipolar_sources_by_class_and_leaves_the_others_alone():
    """Sources voting one class share that class's group; a source voting two classes stays alone."""
    counts = np.array([[5, 0], [0, 3], [2, 0], [1, 1], [0, 0]])
    groups, n_groups = resolve_source_groups("polarity", ["a", "b", "c", "d", "e"], counts)
    assert groups[0] == groups[2] and len({groups[0], groups[1], groups[3], groups[4]}) == 4
    assert n_groups == 4
    with pytest.raises(ValidationError, match="votes_per_class"):
        resolve_source_groups("polarity", ["a"])


def test_polarity_model_predicts_new_items_of_the_same_sources():
    """The tied groups are fixed at fit: predicting other items uses the learned confusions."""
    L, _ = sparse_one_class_lfs(0, n=1000)
    model = DawidSkene(source_groups="polarity").fit(L)
    part = L.select_items(np.arange(100))
    assert np.allclose(model.predict_proba(part), model.predict_proba(L)[:100])
    assert len(set(model.source_groups_)) <= L.n_classes
