"""Tests of HyperLabelModel, the pretrained amortised label model (weights shipped in the package)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pytest

from weaklab import LabelMatrix
from weaklab.data import load_wrench
from weaklab.errors import ValidationError
from weaklab.models import HyperLabelModel, MajorityVote
from weaklab.models.auto import default_candidates
from weaklab.models.hyper_net import (
    N_CLASS_FEATURES,
    N_SOURCE_FEATURES,
    WEIGHTS_FILE,
    initial_params,
    load_weights,
    network_step,
    vote_pass,
)
from weaklab.synthetic import make_crowd, make_label_matrix


def expected_accuracy(proba: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the argmax with exact ties split evenly (expected accuracy under random tie-breaking)."""
    top = proba >= proba.max(axis=1, keepdims=True) - 1e-9
    return float((top[np.arange(y.size), y] / top.sum(axis=1)).mean())


def test_weights_are_small_plain_arrays():
    """The shipped weights are a small .npz of numeric arrays that loads without pickle."""
    assert WEIGHTS_FILE.stat().st_size < 2_000_000
    with np.load(WEIGHTS_FILE, allow_pickle=False) as data:
        assert all(data[name].dtype.kind == "f" for name in data.files)
    with zipfile.ZipFile(WEIGHTS_FILE) as zf:
        assert all(name.endswith(".npy") for name in zf.namelist())
    assert len(load_weights().version) == 16


def test_models_import_without_torch():
    """Importing weaklab.models and fitting HyperLabelModel never imports torch."""
    code = ("import sys; from weaklab.models import HyperLabelModel; import numpy as np; "
            "HyperLabelModel().fit(np.array([[0, 1], [1, 1], [0, -1]]), n_classes=2); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("k", [2, 4, 7, 10])
def test_beats_majority_vote_when_sources_differ(k):
    """On independent sources of unequal accuracy the model is at least as accurate as majority vote, for any k."""
    data = make_label_matrix(3000, 12, k, coverage=(0.2, 0.8), accuracy=(0.3, 0.9), random_state=k)
    P = HyperLabelModel().fit(data.L).predict_proba(data.L)
    mv = MajorityVote().fit(data.L).predict_proba(data.L)
    assert expected_accuracy(P, data.y) >= expected_accuracy(mv, data.y)


def test_sparse_crowd_matrix():
    """A sparse crowd matrix (many workers, few answers each) gets soft labels at least as good as majority vote."""
    data = make_crowd(2000, 300, 5, 3, spammer_fraction=0.1, random_state=0)
    model = HyperLabelModel().fit(data.L)
    P = model.predict_proba(data.L)
    mv = MajorityVote().fit(data.L).predict_proba(data.L)
    assert data.L.is_sparse
    assert expected_accuracy(P, data.y) >= expected_accuracy(mv, data.y)
    assert model.source_accuracy_.shape == (300,)


def test_source_accuracy_tracks_the_truth():
    """Estimated source accuracies rank the sources as their true accuracies do."""
    data = make_label_matrix(4000, 8, 3, coverage=0.6, accuracy=np.linspace(0.4, 0.95, 8), random_state=1)
    est = HyperLabelModel().fit(data.L).source_accuracy_
    assert np.corrcoef(est, data.accuracy)[0, 1] > 0.9


def test_gold_labels_help():
    """Gold labels on some items improve the labels of the other items when sources are biased."""
    rng = np.random.default_rng(3)
    n, k = 3000, 3
    y = rng.integers(0, k, n)
    # Most sources confuse class 2 with class 0; one accurate source only.
    votes = np.full((n, 6), -1)
    for j in range(5):
        v = np.where((y == 2) & (rng.random(n) < 0.6), 0, y)
        v = np.where(rng.random(n) < 0.2, rng.integers(0, k, n), v)
        votes[:, j] = np.where(rng.random(n) < 0.7, v, -1)
    votes[:, 5] = np.where(rng.random(n) < 0.9, y, rng.integers(0, k, n))
    L = LabelMatrix(votes, n_classes=k)
    gold = np.full(n, -1)
    known = rng.choice(n, 200, replace=False)
    gold[known] = y[known]
    rest = gold < 0
    plain = HyperLabelModel().fit(L).predict_proba(L)
    with_gold = HyperLabelModel().fit(L, gold=gold).predict_proba(L)
    assert expected_accuracy(with_gold[rest], y[rest]) > expected_accuracy(plain[rest], y[rest])


def test_class_balance_is_fixed_when_given():
    """A class_balance passed to fit is the model's prior."""
    data = make_label_matrix(500, 5, 3, random_state=0)
    model = HyperLabelModel().fit(data.L, class_balance=[0.5, 0.3, 0.2])
    np.testing.assert_allclose(model.class_balance_, [0.5, 0.3, 0.2])


def test_state_records_weights_version():
    """The state holds the weights' version, not the weights; the rebuilt model predicts identically."""
    data = make_label_matrix(500, 5, 2, random_state=0)
    model = HyperLabelModel().fit(data.L)
    state = model.to_state()
    assert state["attributes"]["weights_version_"] == load_weights().version
    assert not any(name.startswith(("s1", "s2", "c1")) for name in state["arrays"])
    again = HyperLabelModel.from_state(state)
    np.testing.assert_array_equal(again.predict_proba(data.L), model.predict_proba(data.L))


def test_missing_weights_file_is_a_validation_error(tmp_path):
    """A weights path that does not exist raises ValidationError naming 'weights'."""
    with pytest.raises(ValidationError, match="weights"):
        HyperLabelModel(weights=str(tmp_path / "nope.npz")).fit(np.array([[0, 1], [1, 1]]), n_classes=2)


_GAP = ("known gap: on youtube (10 LFs, 2 classes) HyperLabelModel fitted on train is below majority vote: "
        "test 78.8 vs 81.2 (80.8 with the weights before the sub-topic family), valid 77.5 vs 80.4; "
        "see the report of issue 10 part 2")


@pytest.mark.realdata
@pytest.mark.parametrize(("folder", "drop"), [
    pytest.param("wrench_youtube", False, marks=pytest.mark.xfail(strict=True, reason=_GAP)),
    ("wrench_sms", False),
    ("wrench_trec", True),
    ("ws_hausa_news", False),
])
def test_not_below_majority_vote_on_wrench(dataset, folder, drop):
    """Fitted on train votes without gold, test accuracy (ties split) is at least majority vote's."""
    path = dataset(folder)
    train = load_wrench(path, split="train", drop_labeled=drop)
    test = load_wrench(path, split="test")
    y = np.asarray(test.gold)
    ours = expected_accuracy(HyperLabelModel().fit(train.L).predict_proba(test.L), y)
    mv = expected_accuracy(MajorityVote().fit(train.L).predict_proba(test.L), y)
    assert ours >= mv


def test_is_a_default_candidate_of_auto_label_model():
    """AutoLabelModel tries HyperLabelModel by default, on LF-shaped and crowd-shaped votes alike."""
    lf = make_label_matrix(300, 6, 2, coverage=0.3, random_state=0).L
    crowd = make_crowd(300, 40, 3, 3, random_state=0).L
    for L in (lf, crowd):
        assert "HyperLabelModel" in [name for name, _ in default_candidates(L)]


def test_vote_company_counts():
    """vote_pass counts, per (source, class), the votes that share their item with a same-class or other-class vote."""
    L = LabelMatrix(np.array([[0, 0, -1], [0, 1, 1], [-1, -1, 1], [1, -1, 1]]), n_classes=2)
    W, A, b = initial_params(3, 2)
    stats = vote_pass(L, W, A, b, None)
    np.testing.assert_array_equal(stats.co_same, [[1, 1], [1, 1], [0, 2]])
    np.testing.assert_array_equal(stats.co_other, [[1, 0], [0, 1], [0, 1]])


def _random_network(shared: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random weights of the network's layers (as the training script exports them), gate flag ``shared``."""
    w = {k: v.copy() for k, v in load_weights().arrays.items()}
    for name in [n for n in w if n.endswith((".w", ".b"))]:
        w[name] = rng.normal(0.0, 0.1, w[name].shape)
    w["gate.shared"] = np.array([shared])
    return w


@pytest.mark.parametrize("shared", [0.0, 1.0])
def test_shared_gate_scales_every_class_of_a_source_alike(shared):
    """With ``gate.shared`` the abstention terms of a source are its moment estimates times one factor (the same
    for every class), so their order over the classes is the estimates'; without it each class has its own."""
    rng = np.random.default_rng(0)
    w = _random_network(shared, rng)
    m, k = 6, 4
    F = rng.normal(0.0, 1.0, (m, k, N_SOURCE_FEATURES))
    G = rng.normal(0.0, 1.0, (k, N_CLASS_FEATURES))
    hints = np.stack([rng.normal(0.0, 1.0, (m, k)), -rng.uniform(0.1, 3.0, (m, k))], axis=2)
    _, A, _ = network_step(F, G, hints, w)
    ratio = A / hints[..., 1]
    assert np.all((ratio > 0) & (ratio < 1))
    spread = np.ptp(ratio, axis=1)
    assert np.all(spread < 1e-12) if shared else np.all(spread > 1e-3)

