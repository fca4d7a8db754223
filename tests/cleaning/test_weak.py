"""find_weak_label_errors: weak-label errors from votes, label-model posterior and out-of-fold probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab.cleaning import expected_f1_cut, find_weak_label_errors, source_precision
from weaklab.errors import ValidationError
from weaklab.models import DawidSkene
from weaklab.synthetic import make_lf_matrix


@pytest.fixture(scope="module")
def weak():
    """Ten one-class LFs (one misleading), Dawid-Skene weak labels, and judge probabilities that half-know the truth."""
    syn = make_lf_matrix(3000, 10, 2, coverage=(0.1, 0.3), accuracy=np.r_[np.full(9, 0.85), 0.35], random_state=0)
    model = DawidSkene(random_state=0).fit(syn.L)
    covered = syn.L.votes_per_item() > 0
    rng = np.random.default_rng(1)
    logit = 1.5 * (np.eye(2)[syn.y] - 0.5) + rng.normal(0, 1, (3000, 2))
    oof = np.exp(logit) / np.exp(logit).sum(axis=1, keepdims=True)
    votes = syn.L.to_dense()[covered]
    return votes, model.predict_proba(syn.L)[covered], oof[covered], syn.y[covered], model, syn.L.source_names


def test_flags_wrong_weak_labels_far_above_their_base_rate(weak):
    """Flagged items are wrong at least three times as often as weak labels are, and score higher on average."""
    votes, lm, oof, y, model, names = weak
    found = find_weak_label_errors(votes, lm, oof, confusion=model.confusion_, source_names=names)
    wrong = found.given != y
    assert found.n_errors > 0 and np.array_equal(found.given, lm.argmax(axis=1))
    assert wrong[found.mask].mean() >= 3 * wrong.mean()
    assert found.error_proba[wrong].mean() > found.error_proba[~wrong].mean() + 0.1


def test_responsible_sources_voted_the_flagged_weak_label(weak):
    """A flagged item names every source that voted its weak label and no other; unflagged items name none."""
    votes, lm, oof, _, _, names = weak
    found = find_weak_label_errors(votes, lm, oof, source_names=names)
    for i, who in enumerate(found.responsible):
        if not found.mask[i]:
            assert who == ()
        else:
            assert all(votes[i, names.index(s)] == found.given[i] for s in who)
            assert bool(who) == bool((votes[i] == found.given[i]).any())  # none when the label model overrode the votes
    assert sum(found.blame().values()) == sum(len(w) for w in found.responsible)
    assert set(found.blame()) == set(names)


def test_ranked_and_the_cut_follow_the_error_probability(weak):
    """ranked() lists exactly the flagged items by decreasing error probability; the cut keeps a top set."""
    votes, lm, oof, *_ = weak
    found = find_weak_label_errors(votes, lm, oof)
    order = found.ranked()
    assert set(order.tolist()) == set(np.flatnonzero(found.mask).tolist())
    assert np.all(np.diff(found.error_proba[order]) <= 0)
    assert found.error_proba[found.mask].min() >= found.error_proba[~found.mask].max()
    assert not expected_f1_cut(np.zeros(5)).any() and expected_f1_cut([1.0, 0.0]).tolist() == [True, False]


def test_precision_from_confusion_agrees_with_the_posterior_estimate(weak):
    """With abstentions estimated from the posterior, the confusion gives about the precision the posterior does."""
    votes, lm, _, _, model, _ = weak
    from_posterior = source_precision(votes, lm)
    from_confusion = source_precision(votes, lm, confusion=model.confusion_)
    voted = np.stack([(votes == c).any(axis=0) for c in range(2)], axis=1)
    assert np.abs(from_posterior - from_confusion)[voted].max() < 0.1


def test_bad_inputs_name_the_parameter(weak):
    """Shapes that do not match are refused with the parameter's name."""
    votes, lm, oof, *_ = weak
    with pytest.raises(ValidationError, match="pred_probs"):
        find_weak_label_errors(votes, lm, oof[:-1])
    with pytest.raises(ValidationError, match="source_names"):
        find_weak_label_errors(votes, lm, oof, source_names=["a"])
    with pytest.raises(ValidationError, match="confusion"):
        find_weak_label_errors(votes, lm, oof, confusion=np.ones((2, 2, 2)))
    with pytest.raises(ValidationError, match="votes"):
        find_weak_label_errors(votes.astype(float) + 0.5, lm, oof)
