"""TorchClassifier trained on imprecise labels: close to supervised training on the same items."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

torch = pytest.importorskip("torch", reason="TorchClassifier needs torch (pip install 'weaklab[torch]')")

from weaklab import ValidationError  # noqa: E402
from weaklab.endmodel import (  # noqa: E402
    CandidateLabels,
    CoarseLabels,
    ComplementaryLabels,
    LabelProportions,
    TorchClassifier,
    make_mlp,
)
from weaklab.endmodel.imprecise_losses import (  # noqa: E402
    bag_kl_loss,
    coarse_loss,
    complementary_partial_risks,
    proden_weights,
)

torch.set_num_threads(1)
HIERARCHY = np.array([0, 0, 1, 1])


def _split(k: int, n_train: int, seed: int = 0):
    X, y = make_classification(
        n_samples=n_train + 400, n_features=10, n_informative=6, n_redundant=0, n_classes=k,
        n_clusters_per_class=1, class_sep=2.0, random_state=seed,
    )
    X = X.astype(np.float32)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def _model(**kw) -> TorchClassifier:
    params = {"n_epochs": 30, "lr": 0.01, "batch_size": 64, "random_state": 0, **kw}
    return TorchClassifier(make_mlp((32,)), **params)


@pytest.fixture(scope="module")
def four_class():
    Xtr, ytr, Xte, yte = _split(4, 800)
    supervised = _model().fit(Xtr, ytr)
    return Xtr, ytr, Xte, yte, supervised


def _bags(y: np.ndarray, size: int, rng: np.random.Generator) -> LabelProportions:
    bag_ids = rng.permutation(y.shape[0]) // size
    k = int(y.max()) + 1
    props = np.stack([np.bincount(y[bag_ids == b], minlength=k) / np.sum(bag_ids == b)
                      for b in range(bag_ids.max() + 1)])
    return LabelProportions(bag_ids, props)


def _candidates(y: np.ndarray, k: int, rng: np.random.Generator) -> CandidateLabels:
    """The true class plus 1 or 2 random distractors (candidate sets of size 2-3)."""
    mask = np.zeros((y.shape[0], k), dtype=bool)
    mask[np.arange(y.shape[0]), y] = True
    for i, label in enumerate(y):
        others = [c for c in range(k) if c != label]
        mask[i, rng.choice(others, int(rng.integers(1, 3)), replace=False)] = True
    return CandidateLabels(mask)


@pytest.mark.parametrize("form", ["proportions", "candidates"])
def test_imprecise_training_is_close_to_supervised(four_class, form):
    """Bags of 8 (DLLP) and 2-3 candidates (PRODEN) reach >= supervised - 10 and >= chance + 30 points."""
    Xtr, ytr, Xte, yte, supervised = four_class
    rng = np.random.default_rng(1)
    y = _bags(ytr, 8, rng) if form == "proportions" else _candidates(ytr, 4, rng)
    model = _model().fit(Xtr, y)
    accuracy = np.mean(model.predict(Xte) == yte)
    reference = np.mean(supervised.predict(Xte) == yte)
    assert accuracy >= reference - 0.10
    assert accuracy >= 0.25 + 0.30
    assert model.history_[-1]["loss"] < model.history_[0]["loss"]


def test_complementary_labels_train_close_to_supervised():
    """One uniform complementary label per item (3 classes) reaches >= supervised - 10 and >= chance + 30."""
    Xtr, ytr, Xte, yte = _split(3, 2000)
    comp = (ytr + np.random.default_rng(2).integers(1, 3, ytr.shape[0])) % 3
    assert not np.any(comp == ytr)
    model = _model(batch_size=128, lr=0.005).fit(Xtr, ComplementaryLabels(comp, n_classes=3))
    supervised = _model(batch_size=128, lr=0.005).fit(Xtr, ytr)
    accuracy = np.mean(model.predict(Xte) == yte)
    assert accuracy >= np.mean(supervised.predict(Xte) == yte) - 0.10
    assert accuracy >= 1 / 3 + 0.30


def test_complementary_labels_with_many_classes_and_small_batches():
    """6 classes, batches of 64: complementary training stays far above chance (it must not learn the complements)."""
    Xtr, ytr, Xte, yte = _split(6, 1500)
    comp = (ytr + np.random.default_rng(3).integers(1, 6, ytr.shape[0])) % 6
    model = _model(batch_size=64).fit(Xtr, ComplementaryLabels(comp, n_classes=6))
    predicted = model.predict(Xte)
    assert np.mean(predicted == yte) >= 1 / 6 + 0.30
    held_out_comp = (yte + np.random.default_rng(4).integers(1, 6, yte.shape[0])) % 6
    assert np.mean(predicted == held_out_comp) < 1 / 6


def test_coarse_labels_learn_the_superclasses(four_class):
    """Superclass-only labels give superclass accuracy >= supervised - 10 and >= chance + 30 points."""
    Xtr, ytr, Xte, yte, supervised = four_class
    model = _model().fit(Xtr, CoarseLabels(HIERARCHY[ytr], HIERARCHY))
    coarse_accuracy = np.mean(HIERARCHY[model.predict(Xte)] == HIERARCHY[yte])
    assert coarse_accuracy >= np.mean(HIERARCHY[supervised.predict(Xte)] == HIERARCHY[yte]) - 0.10
    assert coarse_accuracy >= 0.5 + 0.30
    proba = model.predict_proba(Xte)
    assert proba.shape == (Xte.shape[0], 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_fit_is_deterministic_and_keeps_estimator_attributes(four_class):
    """The same random_state gives identical probabilities; fit sets classes_ and n_features_in_."""
    Xtr, ytr, Xte, _, _ = four_class
    y = _candidates(ytr, 4, np.random.default_rng(3))
    a = _model(n_epochs=3).fit(Xtr, y)
    b = _model(n_epochs=3).fit(Xtr, y)
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))
    assert a.classes_.tolist() == [0, 1, 2, 3]
    assert a.n_features_in_ == 10
    named = _model(n_epochs=1, classes=["a", "b", "c", "d"]).fit(Xtr, y)
    assert set(named.predict(Xte)) <= {"a", "b", "c", "d"}


def test_losses_match_their_definitions():
    """Bag KL is 0 at matching proportions; coarse loss with singleton superclasses is cross-entropy;
    PRODEN weights vanish outside the candidates; partial risks sum to the unbiased complementary risk."""
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0], [-1.0, 1.0, 3.0]])
    proba = torch.softmax(logits, dim=1)
    bag = torch.zeros(3, dtype=torch.long)
    assert float(bag_kl_loss(logits, bag, proba.mean(dim=0, keepdim=True))) == pytest.approx(0.0, abs=1e-6)
    assert float(bag_kl_loss(logits, bag, torch.tensor([[0.0, 0.0, 1.0]]))) > 0.1
    labels = torch.tensor([0, 1, 2])
    identity = torch.eye(3, dtype=torch.bool)
    ce = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    torch.testing.assert_close(coarse_loss(logits, labels, identity), ce)
    w = proden_weights(np.full((2, 3), 1 / 3), np.array([[True, False, True], [False, True, False]]))
    assert w.tolist() == [[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]]
    comp = torch.tensor([1, 2, 0])
    nll = -torch.log_softmax(logits, dim=1)
    by_item = -(3 - 1) * nll[torch.arange(3), comp] + nll.sum(dim=1)
    torch.testing.assert_close(complementary_partial_risks(logits, comp).sum(), by_item.mean())


@pytest.mark.parametrize(
    ("kwargs", "fit_kwargs", "param"),
    [
        ({}, {"sample_weight": np.ones(800)}, "sample_weight"),
        ({"co_teaching": True}, {}, "co_teaching"),
        ({"classes": [0, 1]}, {}, "classes"),
    ],
)
def test_unsupported_options_raise(four_class, kwargs, fit_kwargs, param):
    """Options that do not apply to imprecise labels raise ValidationError naming them."""
    Xtr, ytr, _, _, _ = four_class
    y = CoarseLabels(HIERARCHY[ytr], HIERARCHY)
    with pytest.raises(ValidationError, match=f"^{param}: expected "):
        _model(n_epochs=1, **kwargs).fit(Xtr, y, **fit_kwargs)


def test_item_count_mismatch_raises(four_class):
    """A container for a different number of items than X raises ValidationError naming y."""
    Xtr, ytr, _, _, _ = four_class
    with pytest.raises(ValidationError, match=r"^y: expected labels for the 800 rows of X, got 799 items"):
        _model(n_epochs=1).fit(Xtr, ComplementaryLabels((ytr[:-1] + 1) % 4, n_classes=4))
