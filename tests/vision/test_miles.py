"""MILES: the similarity embedding, inner-CV choice of (gamma, C), instance scores and saved state."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import NotFittedError, ValidationError, load_state, save_state
from weaklab.vision import MILES, similarity_embedding

from .test_mil import auc, witness_bags


def test_embedding_is_each_bags_largest_similarity_to_each_concept():
    """s_k(B) = max_j exp(-gamma ||x_j - c_k||^2 / d), computed directly for a few bags."""
    rng = np.random.default_rng(3)
    bags = [rng.normal(size=(n, 3)) for n in (2, 5, 1)]
    X, index = np.concatenate(bags), np.repeat(np.arange(3), [2, 5, 1])
    concepts = rng.normal(size=(4, 3))
    for gamma, E in zip((0.5, 2.0), similarity_embedding(X, index, 3, concepts, [0.5, 2.0])):
        direct = [[max(np.exp(-gamma * np.sum((x - c) ** 2) / 3) for x in bag) for c in concepts] for bag in bags]
        assert np.allclose(E, direct)


def test_miles_separates_held_out_bags_and_ranks_the_witness_first():
    """Held-out accuracy and witness AUC well above chance on bags with one shifted witness."""
    bags, y, _ = witness_bags(48, seed=0)
    test_bags, test_y, test_w = witness_bags(40, seed=1)
    model = MILES(Cs=(1.0, 10.0), random_state=0).fit(bags, y)
    assert np.mean(model.predict(test_bags) == test_y) >= 0.85
    positive = [i for i in range(len(test_y)) if test_y[i]]
    scores = model.instance_scores(test_bags)
    assert auc([scores[i] for i in positive], [test_w[i] for i in positive]) >= 0.85
    assert [len(s) for s in scores] == [len(b) for b in test_bags]
    assert 0 < len(model.coef_) < sum(len(b) for b in bags)  # the 1-norm SVM keeps a few instances


def test_inner_cv_picks_a_grid_pair_deterministically_and_predict_does_not_mutate():
    bags, y, _ = witness_bags(30, seed=2)
    a = MILES(gammas=(0.5, 2.0), Cs=(0.1, 1.0), cv=3, random_state=4).fit(bags, y)
    b = MILES(gammas=(0.5, 2.0), Cs=(0.1, 1.0), cv=3, random_state=4).fit(bags, y)
    assert a.cv_scores_.shape == (2, 2, 2) and (a.gamma_, a.C_) == (b.gamma_, b.C_)
    g, c = [0.5, 2.0].index(a.gamma_), [0.1, 1.0].index(a.C_)
    assert a.cv_scores_[g, c, 0] == a.cv_scores_[:, :, 0].max()
    before = a.coef_.copy()
    first = a.decision_function(bags)
    assert np.array_equal(first, b.decision_function(bags)) and np.array_equal(a.coef_, before)
    P = a.predict_proba(bags)
    assert np.allclose(P.sum(axis=1), 1.0) and np.array_equal(a.predict(bags), (first > 0).astype(int))


def test_stacked_instances_and_state_files_give_the_same_predictions(tmp_path):
    bags, y, _ = witness_bags(24, seed=5)
    model = MILES(cv=3, max_concepts=40, random_state=0).fit(bags, y)
    assert len(model.concepts_) <= 40
    ids = np.repeat(np.arange(len(bags)), [len(b) for b in bags])
    assert np.allclose(model.decision_function(np.concatenate(bags), bag_ids=ids), model.decision_function(bags))
    twin = MILES.from_state(load_state(save_state(model.to_state(), tmp_path / "miles")))
    assert np.allclose(twin.decision_function(bags), model.decision_function(bags))


def test_miles_errors_name_the_parameter():
    bags, y, _ = witness_bags(12)
    with pytest.raises(NotFittedError):
        MILES().predict(bags)
    with pytest.raises(ValidationError, match=r"gammas"):
        MILES(gammas=(0.0, 1.0)).fit(bags, y)
    with pytest.raises(ValidationError, match=r"cv"):
        MILES(cv=1).fit(bags, y)
    with pytest.raises(ValidationError, match="feature vectors"):
        MILES().fit([np.zeros((2, 4, 4))] * 4, [0, 1, 0, 1])
    model = MILES(cv=2, random_state=0).fit(bags, y)
    with pytest.raises(ValidationError, match="features as in fit"):
        model.predict([np.zeros((2, 7))])
