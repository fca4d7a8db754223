"""Multiple-instance learning: AttentionMIL, the mi-SVM baseline and weak instance labels."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import ABSTAIN, NotFittedError, ValidationError, load_state, save_state
from weaklab.vision import MISVM, AttentionMIL, as_bags, bags_from_instances, instance_label_matrix, instance_votes


def witness_bags(n_bags: int = 48, seed: int = 0):
    """Bags of 3-6 Gaussian instances; a positive bag holds one shifted 'witness' instance."""
    rng = np.random.default_rng(seed)
    bags, witness = [], []
    y = np.arange(n_bags) % 2
    for label in y:
        bag = rng.normal(size=(int(rng.integers(3, 7)), 4))
        is_w = np.zeros(len(bag), bool)
        if label:
            j = int(rng.integers(len(bag)))
            bag[j, :2] += 3.0
            is_w[j] = True
        bags.append(bag)
        witness.append(is_w)
    return bags, y, witness


def auc(scores, truth):
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(np.concatenate(truth), np.concatenate(scores))


@pytest.mark.parametrize("pooling", ["gated", "attention", "mean", "max"])
def test_attention_mil_separates_held_out_bags_and_finds_the_witness(pooling):
    """Each pooling classifies new bags well, and its instance scores rank witnesses above the rest."""
    pytest.importorskip("torch")
    bags, y, _ = witness_bags(48, seed=0)
    test_bags, test_y, test_w = witness_bags(40, seed=1)
    model = AttentionMIL(pooling=pooling, max_epochs=15, random_state=0).fit(bags, y)
    assert np.mean(model.predict(test_bags) == test_y) >= 0.85
    positive = [i for i in range(len(test_y)) if test_y[i]]
    scores = model.instance_scores(test_bags)
    assert auc([scores[i] for i in positive], [test_w[i] for i in positive]) >= 0.85
    assert [len(s) for s in scores] == [len(b) for b in test_bags]


def test_attention_weights_sum_to_one_in_each_bag_and_proba_rows_sum_to_one():
    """Attention weights form a distribution over a bag's instances; bag probabilities over 2 classes."""
    pytest.importorskip("torch")
    bags, y, _ = witness_bags(16)
    model = AttentionMIL(max_epochs=2, random_state=0).fit(bags, y)
    for s in model.instance_scores(bags):
        assert s.sum() == pytest.approx(1.0, abs=1e-5) and np.all(s >= 0)
    P = model.predict_proba(bags)
    assert P.shape == (16, 2) and np.allclose(P.sum(axis=1), 1.0)


def test_fit_is_deterministic_and_predict_leaves_the_model_unchanged():
    """Same random_state, same probabilities; predicting twice gives the same answer."""
    pytest.importorskip("torch")
    bags, y, _ = witness_bags(16)
    a = AttentionMIL(max_epochs=3, random_state=4).fit(bags, y)
    b = AttentionMIL(max_epochs=3, random_state=4).fit(bags, y)
    first = a.predict_proba(bags)
    assert np.array_equal(first, b.predict_proba(bags))
    assert np.array_equal(first, a.predict_proba(bags))


def test_instances_with_bag_ids_equal_a_list_of_bags():
    """Stacked instances with bag ids are the same input as the list of bags."""
    pytest.importorskip("torch")
    bags, y, _ = witness_bags(12)
    X = np.concatenate(bags)
    ids = np.repeat([f"bag{i}" for i in range(12)], [len(b) for b in bags])
    assert all(np.array_equal(p, q) for p, q in zip(bags_from_instances(X, ids), bags))
    a = AttentionMIL(max_epochs=2, random_state=0).fit(bags, y)
    b = AttentionMIL(max_epochs=2, random_state=0).fit(X, y, bag_ids=ids)
    assert np.allclose(a.predict_proba(bags), b.predict_proba(X, bag_ids=ids))


def test_state_round_trip_through_files_gives_the_same_predictions(tmp_path):
    """to_state -> save -> load -> from_state reproduces probabilities and instance scores (no pickle)."""
    pytest.importorskip("torch")
    bags, y, _ = witness_bags(12)
    model = AttentionMIL(pooling="max", max_epochs=2, random_state=0).fit(bags, y)
    twin = AttentionMIL.from_state(load_state(save_state(model.to_state(), tmp_path / "mil")))
    assert np.allclose(twin.predict_proba(bags), model.predict_proba(bags))
    assert all(np.allclose(p, q) for p, q in zip(twin.instance_scores(bags), model.instance_scores(bags)))
    assert twin.get_params() == model.get_params()


def test_image_bags_use_the_cnn_encoder():
    """Bags of (n_i, h, w) images fit and score like vector bags."""
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    bags = [rng.random((3, 16, 16)).astype(np.float32) for _ in range(6)]
    model = AttentionMIL(max_epochs=1, hidden=(32,), random_state=0).fit(bags, [0, 1] * 3)
    assert model.predict_proba(bags).shape == (6, 2)
    with pytest.raises(ValidationError, match="bags"):
        model.predict_proba([rng.random((2, 8, 8))])


def test_errors_name_the_parameter_and_what_arrived():
    """Bad bags, labels and parameters raise ValidationError; predicting before fit raises NotFittedError."""
    bags, y, _ = witness_bags(8)
    with pytest.raises(ValidationError, match=r"bags\[1\]"):
        as_bags([np.zeros((2, 3)), np.zeros((0, 3))])
    with pytest.raises(ValidationError, match="one shape"):
        as_bags([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValidationError, match="y: expected both"):
        AttentionMIL().fit(bags, np.zeros(8, int))
    with pytest.raises(ValidationError, match=r"pooling=.*'sum'"):
        AttentionMIL(pooling="sum").fit(bags, y)
    with pytest.raises(NotFittedError):
        AttentionMIL().predict_proba(bags)
    with pytest.raises(NotFittedError):
        MISVM().instance_scores(bags)


def test_misvm_relabels_instances_and_classifies_new_bags():
    """mi-SVM keeps negative-bag instances negative, finds witnesses, and classifies new bags."""
    bags, y, witness = witness_bags(48, seed=0)
    test_bags, test_y, _ = witness_bags(40, seed=1)
    model = MISVM(random_state=0).fit(bags, y)
    in_negative = np.repeat(y, [len(b) for b in bags]) == 0
    assert np.all(model.instance_labels_[in_negative] == 0)
    assert np.mean(model.instance_labels_[np.concatenate(witness)]) >= 0.9
    assert np.mean(model.predict(test_bags) == test_y) >= 0.85
    assert model.predict_proba(test_bags).shape == (40, 2)


def test_instance_votes_respect_thresholds_and_negative_bags():
    """Votes: 1 at/above the positive threshold, 0 at/below the negative one, abstain between;
    negative bags vote 0 everywhere."""
    scores = [np.array([0.9, 0.5, 0.1]), np.array([0.95, 0.2])]
    v = instance_votes(scores, positive_threshold=0.8, negative_threshold=0.2)
    assert v.tolist() == [1, ABSTAIN, 0, 1, 0]
    assert instance_votes(scores, bag_labels=[1, 0], positive_threshold=0.8).tolist() == [1, 0, 0, 0, 0]
    rel = instance_votes([np.array([0.2, 0.05]), np.array([0.5, 0.5])], normalize="bag_max")
    assert rel.tolist() == [1, 0, 1, 1]
    L = instance_label_matrix(scores, name="att", positive_threshold=0.8)
    assert L.shape == (5, 1) and L.n_classes == 2 and L.source_names == ("att",)
    with pytest.raises(ValidationError, match="negative_threshold"):
        instance_votes(scores, positive_threshold=0.3, negative_threshold=0.6)


def test_importing_weaklab_vision_does_not_import_torch():
    """`import weaklab.vision` stays light: torch loads only when a network is built."""
    import subprocess
    import sys

    code = "import sys, weaklab.vision; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
