"""Tests of dependency learning between sources (learn_dependencies)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from weaklab.errors import ValidationError
from weaklab.models import Edge, MatrixCompletion, learn_dependencies
from weaklab.models.dependencies import sparse_plus_low_rank
from weaklab.synthetic import make_label_matrix


def planted(k, correlated, seed, strength=0.8):
    return make_label_matrix(20000, 20, k, coverage=(0.3, 0.9), accuracy=(0.55, 0.9), correlated=correlated,
                             correlation_strength=strength, random_state=seed)


def copies_case(seed):
    """Six independent sources plus two noisy copies of each of the two weakest (two 3-cliques)."""
    acc = [0.85, 0.8, 0.75, 0.7, 0.65, 0.6]
    data = make_label_matrix(10000, 6, 2, coverage=0.7, accuracy=acc, random_state=seed)
    votes = np.asarray(data.L)
    rng = np.random.default_rng(seed)
    columns = [votes]
    for src in (4, 5):
        for _ in range(2):
            flipped = np.where(votes[:, [src]] < 0, -1, 1 - votes[:, [src]])
            columns.append(np.where(rng.random((10000, 1)) < 0.95, votes[:, [src]], flipped))
    return np.hstack(columns), data.y


def edge_set(edges):
    return {(e.source_i, e.source_j) for e in edges}


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_finds_planted_pairs(k, seed):
    """With 3 planted copying pairs among 20 sources (n = 20k), precision and recall are at least 0.9."""
    data = planted(k, 3, seed)
    found = edge_set(learn_dependencies(data.L))
    truth = {tuple(sorted(p)) for p in data.dependencies}
    hits = len(found & truth)
    assert hits / max(len(found), 1) >= 0.9
    assert hits / len(truth) >= 0.9


@pytest.mark.parametrize("k", [2, 3])
def test_no_edges_between_independent_sources(k):
    """Conditionally independent sources give no edge."""
    assert learn_dependencies(planted(k, 0, 2).L) == []


def test_strength_matches_copy_probability():
    """For a source copying another with probability 0.5, the strength is about 0.5."""
    data = planted(2, 3, 3, strength=0.5)
    strengths = [e.strength for e in learn_dependencies(data.L)]
    assert len(strengths) == 3
    np.testing.assert_allclose(strengths, 0.5, atol=0.06)


def test_edges_sorted_capped_and_ordered():
    """Edges come strongest first with source_i < source_j, and max_edges keeps the strongest."""
    data = planted(2, 3, 4)
    edges = learn_dependencies(data.L)
    assert all(isinstance(e, Edge) and e.source_i < e.source_j for e in edges)
    assert [e.strength for e in edges] == sorted((e.strength for e in edges), reverse=True)
    assert learn_dependencies(data.L, max_edges=2) == edges[:2]


def test_source_permutation_permutes_edges():
    """Reordering the sources relabels the edges and leaves their strengths unchanged."""
    data = planted(2, 3, 5)
    order = np.random.default_rng(5).permutation(20)
    base = {(e.source_i, e.source_j): e.strength for e in learn_dependencies(data.L)}
    moved = learn_dependencies(data.L.select_sources(order.tolist()))
    back = {tuple(sorted((int(order[e.source_i]), int(order[e.source_j])))): e.strength for e in moved}
    assert back.keys() == base.keys()
    np.testing.assert_allclose([back[p] for p in base], list(base.values()), atol=1e-6)


def test_sparse_storage_gives_same_edges():
    """Dense and sparse storage of the same votes give the same edges."""
    data = planted(3, 3, 6)
    assert edge_set(learn_dependencies(data.L)) == edge_set(learn_dependencies(data.L.as_sparse()))


@pytest.mark.parametrize("seed", [0, 1])
def test_cliques_of_copies_are_found(seed):
    """Both groups of mutual copies are found, each pair with the clique strength of about 0.5."""
    votes, _ = copies_case(seed)
    edges = learn_dependencies(votes, n_classes=2)
    expected = {(4, 6), (4, 7), (6, 7), (5, 8), (5, 9), (8, 9)}
    assert edge_set(edges) == expected
    np.testing.assert_allclose([e.strength for e in edges], 0.5, atol=0.05)


@pytest.mark.parametrize("seed", [0, 1])
def test_learned_dependencies_improve_matrix_completion(seed):
    """MatrixCompletion with the learned edges beats it without them when weak sources are copied."""
    votes, y = copies_case(seed)
    plain = MatrixCompletion().fit(votes, n_classes=2)
    aware = MatrixCompletion(dependencies=learn_dependencies(votes, n_classes=2)).fit(votes, n_classes=2)
    acc_plain = (plain.predict(votes, random_state=0) == y).mean()
    acc_aware = (aware.predict(votes, random_state=0) == y).mean()
    assert acc_aware >= acc_plain + 0.1  # measured 0.86 vs 0.71 (seed 0), 0.86 vs 0.75 (seed 1)


def test_sparse_plus_low_rank_separates_planted_parts():
    """The convex split recovers a rank-1 matrix and a few planted large entries."""
    u = np.linspace(0.2, 0.6, 12)
    low = np.outer(u, u)
    sparse = np.zeros((12, 12))
    sparse[2, 7] = sparse[7, 2] = 0.8
    known = ~np.eye(12, dtype=bool)
    W, S = sparse_plus_low_rank(low + sparse, known)
    assert abs(S[2, 7]) > 0.5
    off = known.copy()
    off[2, 7] = off[7, 2] = False
    assert np.abs(W - low)[off].max() < 0.05


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": 0.0}, "threshold"),
        ({"method": "glasso"}, "method"),
        ({"max_edges": -1}, "max_edges"),
        ({"random_state": "x"}, "random_state"),
    ],
)
def test_bad_arguments_raise_validation_error(kwargs, match):
    """Bad arguments raise ValidationError naming the parameter."""
    with pytest.raises(ValidationError, match=match):
        learn_dependencies(planted(2, 0, 7).L, **kwargs)


def test_needs_three_sources():
    """Two sources are too few to separate the class from a dependency."""
    with pytest.raises(ValidationError, match="at least 3 sources"):
        learn_dependencies(np.array([[0, 1], [1, 1]]), n_classes=2)


@pytest.mark.realdata
def test_wrench_trec_identical_labeling_functions_are_found(dataset):
    """On WRENCH TREC train, every pair of labeling functions with identical votes is reported."""
    entries = json.loads((dataset("wrench_trec") / "train.json").read_text())
    votes = np.array([e["weak_labels"] for e in entries.values()])[:4965]
    m = votes.shape[1]
    pairs = [(i, j) for i in range(m) for j in range(i + 1, m)]
    identical = {(i, j) for i, j in pairs if np.array_equal(votes[:, i], votes[:, j])}
    assert len(identical) == 4  # (8, 39), (8, 63), (39, 63), (27, 62)
    found = {(e.source_i, e.source_j): e.strength for e in learn_dependencies(votes, n_classes=6)}
    assert identical <= found.keys()
    assert found[(27, 62)] > 0.95  # an identical pair; the triple 8/39/63 splits it (about 0.5 each)
