"""Feature-space strategies: density weighting, k-center, batch selection and the registry."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from weaklab import LabelMatrix, ValidationError
from weaklab.active import (
    STRATEGIES,
    density,
    density_weighted,
    entropy,
    k_center,
    select,
    select_batch,
    top_n,
)


def _cluster_with_outlier(seed: int = 0):
    """20 points around the origin with middling uncertainty and one far outlier with a uniform prediction."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 0.1, size=(20, 2)), [[10.0, 10.0]]])
    top = rng.uniform(0.6, 0.7, size=20)
    proba = np.vstack([np.c_[top, 1 - top], [[0.5, 0.5]]])
    return X, proba


def test_density_weighting_avoids_planted_outlier():
    """Plain entropy picks the isolated outlier; density-weighted uncertainty picks a cluster member."""
    X, proba = _cluster_with_outlier()
    assert int(np.argmax(entropy(proba))) == 20
    scores = density_weighted(proba, X, metric="euclidean", n_neighbors=5, beta=1.0)
    assert int(np.argmax(scores)) != 20
    assert scores[20] < 0.2 * scores.max()
    assert int(np.argmax(density_weighted(proba, X, metric="euclidean", n_neighbors=5))) != 20  # default beta


def test_density_weighted_default_takes_square_root_of_density():
    """By default an item's score is its entropy times the square root of its density (beta=0.5), so a density
    4 times lower divides the score by 2, not 4."""
    proba = np.array([[0.5, 0.5], [0.5, 0.5], [0.8, 0.2]])
    d = np.array([0.8, 0.2, 0.5])
    scores = density_weighted(proba, density_scores=d)
    np.testing.assert_allclose(scores, entropy(proba) * np.sqrt(d))
    assert scores[0] == pytest.approx(2 * scores[1])


def test_density_on_sparse_tfidf_like_rows():
    """Cosine density on a sparse matrix is 1 for duplicated rows and 0 for a row sharing no term."""
    X = sp.csr_matrix(np.array([[1.0, 0, 0], [1.0, 0, 0], [1.0, 0, 0], [0, 0, 1.0]]))
    d = density(X, n_neighbors=2)
    np.testing.assert_allclose(d, [1.0, 1.0, 1.0, 0.0], atol=1e-12)


def test_density_weighted_accepts_precomputed_density():
    """Passing density_scores gives the same scores as computing them from X."""
    X, proba = _cluster_with_outlier()
    d = density(X, metric="euclidean", n_neighbors=5)
    np.testing.assert_allclose(
        density_weighted(proba, density_scores=d),
        density_weighted(proba, X, metric="euclidean", n_neighbors=5),
    )


def test_k_center_picks_farthest_points():
    """Farthest-first from a labelled center picks the far end of a line, then the farthest remaining point."""
    X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    picks = k_center(X, 3, centers=[0])
    assert picks.tolist()[:2] == [4, 3]
    assert 0 not in picks and len(set(picks.tolist())) == 3


def test_k_center_rejects_budget_above_candidates():
    """Asking k-center for more items than candidates raises a ValidationError naming n."""
    with pytest.raises(ValidationError, match=r"^n: expected at most 2"):
        k_center(np.eye(3), 3, centers=[0])


def test_select_batch_has_no_duplicates_and_respects_available():
    """A batch holds distinct available items for every diversity level."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    scores = rng.integers(0, 3, size=60).astype(float)  # many ties
    available = rng.random(60) < 0.7
    for diversity in (0.0, 0.3, 0.5, 0.9, 1.0):
        batch = select_batch(scores, X, 15, diversity=diversity, available=available, random_state=1)
        assert batch.size == 15 and np.unique(batch).size == 15
        assert available[batch].all()


def test_select_batch_without_diversity_is_top_n():
    """With diversity 0 the batch is the n best-scored items."""
    scores = np.array([0.1, 0.9, 0.3, 0.8, 0.5])
    np.testing.assert_array_equal(select_batch(scores, None, 2, diversity=0.0), [1, 3])
    np.testing.assert_array_equal(top_n(scores, 3), [1, 3, 4])


def test_select_batch_spreads_over_clusters():
    """When the best scores crowd into one cluster, a diverse batch still reaches the other cluster."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.05, size=(10, 2)), rng.normal(5, 0.05, size=(10, 2))])
    scores = np.r_[np.full(10, 0.9) + rng.uniform(0, 0.01, 10), np.full(10, 0.8)]
    plain = select_batch(scores, X, 2, diversity=0.0)
    diverse = select_batch(scores, X, 2, diversity=0.9)
    assert (plain < 10).all()
    assert (diverse < 10).sum() == 1 and (diverse >= 10).sum() == 1
    assert diverse[0] == plain[0]


def test_select_batch_rejects_nan_scores():
    """Scores with NaN raise a ValidationError naming scores."""
    with pytest.raises(ValidationError, match=r"^scores: expected finite scores"):
        select_batch([0.1, np.nan], None, 1, diversity=0.0)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_registered_strategy_selects_distinct_unanswered_items(name):
    """Every strategy in the registry returns n distinct items that were neither answered nor excluded."""
    rng = np.random.default_rng(3)
    n, k = 40, 3
    X = rng.normal(size=(n, 4))
    proba = rng.dirichlet(np.ones(k), size=n)
    label_proba = rng.dirichlet(np.ones(k), size=n)
    L = LabelMatrix(rng.integers(-1, k, size=(n, 5)), n_classes=k)
    answered = np.arange(5)
    available = np.ones(n, dtype=bool)
    available[-5:] = False
    picks = select(name, 8, answered=answered, available=available, random_state=0,
                   proba=proba, label_proba=label_proba, L=L, X=X)
    assert picks.size == 8 and np.unique(picks).size == 8
    assert not np.isin(picks, answered).any() and available[picks].all()


def test_select_names_a_missing_input():
    """A strategy called without an input it needs raises a ValidationError naming that input."""
    with pytest.raises(ValidationError, match=r"^label_proba: expected an input of strategy 'model_disagreement'"):
        select("model_disagreement", 2, proba=np.full((4, 2), 0.5))
    with pytest.raises(ValidationError, match=r"^strategy: expected one of"):
        select("nope", 2, proba=np.full((4, 2), 0.5))
