"""TorchClassifier: scikit-learn contract, determinism, robust training recipes and input errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.utils.estimator_checks import parametrize_with_checks

torch = pytest.importorskip("torch", reason="TorchClassifier needs torch (pip install 'weaklab[torch]')")

from weaklab import ValidationError  # noqa: E402
from weaklab.endmodel import TorchClassifier, make_cnn, make_mlp  # noqa: E402

torch.set_num_threads(1)

EXPECTED_FAILED = {
    "check_supervised_y_2d": "a 2-d y is read as soft labels (n, k), not as a column of hard labels",
    "check_classifiers_classes": "hard label -1 marks an unlabelled item (weaklab's ABSTAIN), so the "
    "check's {-1, 1} labels leave one class",
    "check_dtype_object": "non-numeric X raises weaklab's ValidationError (a ValueError), not TypeError",
    # scikit-learn >= 1.9 compares these at rtol 1e-7, below float32's rounding (the network trains in float32):
    # weighted and repeated rows differ by one float32 ulp (1.2e-7 relative); tested at float32 precision below
    "check_sample_weight_equivalence_on_dense_data": "float32 training agrees to float32 rounding, not to 1e-7",
    "check_sample_weight_equivalence_on_sparse_data": "float32 training agrees to float32 rounding, not to 1e-7",
}


@parametrize_with_checks(
    [TorchClassifier(make_mlp((16,)), n_epochs=5, lr=0.01, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_estimator_checks(estimator, check):
    """TorchClassifier passes scikit-learn's estimator checks except the documented conflicts (EXPECTED_FAILED)."""
    check(estimator)


@pytest.mark.parametrize("sparse", [False, True])
def test_an_integer_sample_weight_is_the_same_as_repeating_the_row(sparse):
    """Fitting with sample_weight 0/1/2/3 gives the model of fitting on the rows repeated that many times (the
    check scikit-learn runs at rtol 1e-7, here at float32's precision: the network trains in float32)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, 30)
    weight = rng.integers(0, 4, 30)
    X_rep, y_rep = np.repeat(X, weight, axis=0), np.repeat(y, weight)
    as_input = sp.csr_matrix if sparse else np.asarray
    model = TorchClassifier(make_mlp((16,)), n_epochs=5, lr=0.01, batch_size=1000, random_state=0)
    weighted = model.fit(as_input(X), y, sample_weight=weight.astype(float)).predict_proba(as_input(X))
    repeated = TorchClassifier(**model.get_params()).fit(as_input(X_rep), y_rep).predict_proba(as_input(X))
    np.testing.assert_allclose(weighted, repeated, rtol=1e-5, atol=1e-6)
    assert not np.allclose(weighted, TorchClassifier(**model.get_params()).fit(as_input(X), y)
                           .predict_proba(as_input(X)), rtol=1e-3, atol=1e-4)  # the weights do matter


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(y.shape[0])
    return (X / 16.0)[order], y[order]


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(300, 10, n_informative=6, n_classes=3, random_state=0)
    return X.astype(np.float32), y


def _fast(**kw):
    params = dict(module=make_mlp((32,)), n_epochs=8, lr=3e-3, random_state=0)
    params.update(kw)
    return TorchClassifier(**params)


def test_deterministic_under_random_state(blobs):
    """Two fits with the same random_state give identical probabilities; another seed differs."""
    X, y = blobs
    a = _fast().fit(X, y).predict_proba(X)
    b = _fast().fit(X, y).predict_proba(X)
    c = _fast(random_state=1).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-4


def test_fit_does_not_touch_global_torch_rng(blobs):
    """Fitting with a random_state leaves torch's global random stream where it was."""
    X, y = blobs
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _fast().fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


def test_soft_one_hot_sparse_and_dense_agree(blobs):
    """One-hot soft labels equal hard labels, and CSR features equal dense ones (same seed)."""
    X, y = blobs
    hard = _fast().fit(X, y).predict_proba(X)
    np.testing.assert_allclose(_fast().fit(X, np.eye(3)[y]).predict_proba(X), hard, atol=1e-6)
    sparse = _fast().fit(sp.csr_matrix(X), y).predict_proba(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse, hard, atol=1e-5)


def test_predict_proba_is_pure_and_clone_keeps_params(blobs):
    """predict_proba repeats exactly and clone copies every parameter, builder included."""
    X, y = blobs
    model = _fast(loss="gce", loss_params={"q": 0.5}).fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(X), model.predict_proba(X))
    twin = clone(model)
    assert twin.get_params()["loss_params"] == {"q": 0.5} and twin.module == make_mlp((32,))
    assert not hasattr(twin, "networks_")


def test_robust_loss_beats_cross_entropy_under_heavy_noise(digits):
    """On digits with 45% uniform label noise, GCE beats plain CE by 3+ points on clean test labels."""
    X, y = digits
    rng = np.random.default_rng(0)
    noisy = y[:800].copy()
    flip = rng.random(800) < 0.5
    noisy[flip] = rng.integers(0, 10, int(flip.sum()))
    test_X, test_y = X[1200:], y[1200:]
    scores = {}
    for loss in ("ce", "gce"):
        model = _fast(module=make_mlp((64,)), loss=loss, n_epochs=30).fit(X[:800], noisy)
        scores[loss] = float(np.mean(model.predict(test_X) == test_y))
    assert scores["gce"] >= scores["ce"] + 0.03, scores


def test_forward_with_identity_equals_ce_and_estimates_near_identity(blobs):
    """Forward correction with T = I trains like CE; on clean labels the estimated T is diagonal-dominant."""
    X, y = blobs
    ce = _fast().fit(X, y).predict_proba(X)
    fwd = _fast(loss="forward", loss_params={"transition": np.eye(3)}).fit(X, y)
    np.testing.assert_allclose(fwd.predict_proba(X), ce, atol=1e-4)
    est = _fast(loss="forward", n_epochs=15).fit(X, y)
    np.testing.assert_allclose(est.transition_.sum(axis=1), 1.0)
    assert np.all(np.diag(est.transition_) > 0.7)  # the classes overlap: ~15% Bayes error
    np.testing.assert_array_equal(est.transition_.argmax(axis=1), [0, 1, 2])


def test_early_stopping_keeps_the_best_dev_epoch(digits):
    """With validation_data, training stops after `patience` stale epochs and keeps the best dev accuracy."""
    X, y = digits
    model = _fast(n_epochs=200, patience=2, lr=1e-2).fit(
        X[:500], y[:500], validation_data=(X[500:700], y[500:700])
    )
    dev = [h["dev_accuracy"] for h in model.history_]
    assert len(dev) < 200
    assert float(np.mean(model.predict(X[500:700]) == y[500:700])) == pytest.approx(max(dev))


def test_curriculum_pool_grows(blobs):
    """The curriculum starts with 30% of items and grows every epoch to all of them by epoch n_epochs // 2."""
    X, y = blobs
    sizes = [h["n_items"] for h in _fast(curriculum=0.3, n_epochs=6).fit(X, y).history_]
    assert sizes[0] == 90 and sizes[3:] == [300] * 3 and sizes == sorted(sizes)


def test_self_training_uses_unlabelled_rows(digits):
    """NaN rows and X_unlabeled get pseudo-labels after warm-up, improving digits accuracy with 60 labels."""
    X, y = digits
    y_part = y[:800].astype(float)
    y_part[60:] = np.nan
    base = _fast(module=make_mlp((64,)), n_epochs=40, batch_size=32).fit(X[:800], y_part)
    st = _fast(
        module=make_mlp((64,)), n_epochs=40, batch_size=32, self_training="adaptive", pseudo_threshold=0.9
    ).fit(X[:800], y_part)
    pseudo = [h["n_pseudo"] for h in st.history_]
    assert pseudo[:10] == [0] * 10 and max(pseudo) > 300
    acc = [float(np.mean(m.predict(X[1200:]) == y[1200:])) for m in (base, st)]
    assert acc[1] >= acc[0] + 0.01, acc
    extra = _fast(
        self_training="fixed", pseudo_threshold=0.5, warmup_epochs=3, n_epochs=6, batch_size=16, lr=3e-2
    ).fit(X[:60], y[:60], X_unlabeled=X[800:1000])
    assert [h["n_pseudo"] for h in extra.history_][:3] == [0, 0, 0]
    assert max(h["n_pseudo"] for h in extra.history_) > 0


def test_co_teaching_trains_two_networks(blobs):
    """Co-teaching keeps two networks, averages them in predict_proba and fits the training labels."""
    X, y = blobs
    model = _fast(co_teaching=True, forget_rate=0.2, forget_epochs=2, n_epochs=20, lr=1e-2).fit(X, y)
    assert len(model.networks_) == 2
    with torch.no_grad():
        x = torch.from_numpy(X)
        mean = sum(torch.softmax(net(x), 1) for net in model.networks_).numpy() / 2
    np.testing.assert_allclose(model.predict_proba(X), mean, atol=1e-5)
    assert np.mean(model.predict(X) == y) > 0.8


def test_every_loss_and_confidence_weights_train(blobs):
    """Every loss with confidence-weighted soft labels fits the blobs above 75% train accuracy (CE: 88%)."""
    X, y = blobs
    rng = np.random.default_rng(0)
    soft = np.eye(3)[y] * 0.7 + rng.dirichlet(np.ones(3), size=y.shape[0]) * 0.3
    for loss in ("ce", "label_smoothing", "gce", "sce", "bootstrap_soft", "bootstrap_hard", "elr"):
        model = _fast(loss=loss, confidence_weighting=True, n_epochs=20, lr=1e-2).fit(X, soft)
        assert np.mean(model.predict(X) == y) > 0.75, loss


def test_small_cnn_on_images():
    """make_cnn trains on (n, 1, 8, 8) images and separates bright from dark ones."""
    rng = np.random.default_rng(0)
    y = np.arange(120) % 2
    images = rng.random((120, 1, 8, 8)).astype(np.float32) * 0.5 + y[:, None, None, None] * 0.5
    model = TorchClassifier(make_cnn((4, 8), hidden=8), n_epochs=15, lr=1e-2, random_state=0).fit(images, y)
    assert np.mean(model.predict(images) == y) > 0.9
    assert model.predict_proba(images[:5]).shape == (5, 2)


def test_flatten_cnn_tells_where_things_are_and_round_trips():
    """pooling='flatten' learns left-vs-right bright halves (global average pooling cannot); its state reloads."""
    rng = np.random.default_rng(0)
    y = np.arange(80) % 2
    images = rng.random((80, 1, 9, 9)).astype(np.float32) * 0.2
    images[y == 0, :, :, :4] += 0.8
    images[y == 1, :, :, 5:] += 0.8
    model = TorchClassifier(make_cnn((4,), hidden=8, pooling="flatten"), n_epochs=20, lr=1e-2,
                            random_state=0).fit(images, y)
    assert np.mean(model.predict(images) == y) > 0.9
    restored = TorchClassifier.from_state(model.to_state())
    np.testing.assert_allclose(restored.predict_proba(images), model.predict_proba(images), atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "fit_kwargs", "fragment"),
    [
        ({"loss": "focal"}, {}, "loss=...): expected one of"),
        ({"loss": "gce", "loss_params": {"beta": 1.0}}, {}, "unknown key(s) ['beta']"),
        ({"loss": "gce", "loss_params": {"q": 2.0}}, {}, "['q']: expected a finite real number in [0, 1]"),
        ({"n_epochs": 0}, {}, "n_epochs=...): expected an integer >= 1"),
        ({"self_training": "always"}, {}, "self_training=...): expected one of"),
        (
            {},
            {"validation_data": (np.zeros((5, 3)), np.zeros(5, dtype=int))},
            "validation_data[0]: expected items",
        ),
        ({"loss": "forward", "loss_params": {"transition": np.ones((3, 3))}}, {}, "rows that sum to 1"),
    ],
)
def test_bad_parameters_raise_validation_error(blobs, kwargs, fit_kwargs, fragment):
    """Bad parameters raise ValidationError naming the parameter, the expectation and what arrived."""
    X, y = blobs
    with pytest.raises(ValidationError) as info:
        _fast(**kwargs).fit(X, y, **fit_kwargs)
    assert fragment in str(info.value)


def test_bad_features_and_labels(blobs):
    """NaN features, soft labels not summing to 1 and mismatched rows raise ValidationError."""
    X, y = blobs
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValidationError, match="X: expected finite feature values"):
        _fast().fit(bad, y)
    with pytest.raises(ValidationError, match="rows that sum to 1"):
        _fast().fit(X, np.full((300, 3), 0.5))
    with pytest.raises(ValidationError, match="y: expected 300 labels"):
        _fast().fit(X, y[:10])


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_endmodel_import_is_torch_free_and_missing_torch_is_explained():
    """Importing weaklab.endmodel does not import torch; without torch, fit raises the install hint."""
    assert _run("import sys, weaklab.endmodel; print('torch' in sys.modules)").strip() == "False"
    code = (
        "import sys, importlib.abc\n"
        "class NoTorch(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ImportError('torch is hidden for this test')\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "import numpy as np\n"
        "from weaklab.errors import MissingDependencyError\n"
        "from weaklab.endmodel import TorchClassifier\n"
        "try:\n"
        "    TorchClassifier().fit(np.zeros((4, 2)), [0, 1, 0, 1])\n"
        "except MissingDependencyError as e:\n"
        "    print(e)\n"
    )
    assert "pip install 'weaklab[torch]'" in _run(code)


def test_score_progress_bar_and_string_classes(blobs):
    """score takes soft or hard labels; a progress bar (verbose=True) does not change the result."""
    X, y = blobs
    names = np.array(["x", "y", "z"])[y]
    quiet = _fast().fit(X, names)
    loud = _fast(verbose=True).fit(X, names)
    np.testing.assert_array_equal(quiet.predict_proba(X), loud.predict_proba(X))
    assert set(quiet.predict(X)) <= {"x", "y", "z"}
    assert quiet.score(X, names) == pytest.approx(quiet.score(X, np.eye(3)[y]))


def test_state_round_trip_without_pickle(blobs, tmp_path):
    """A state saved as JSON + npz and loaded back predicts identically (co-teaching, string classes)."""
    from weaklab import load_state, save_state

    X, y = blobs
    names = np.array(["x", "y", "z"], dtype=object)[y]
    model = _fast(co_teaching=True, loss="sce", n_epochs=3).fit(X, names)
    path = save_state(model.to_state(), tmp_path / "torch_model")
    restored = TorchClassifier.from_state(load_state(path))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.get_params()["loss"] == "sce" and len(restored.networks_) == 2

    custom = _fast(module=lambda shape, k: torch.nn.Linear(shape[0], k), n_epochs=2).fit(X, y)
    state = custom.to_state()
    with pytest.raises(ValidationError, match="module: expected the network builder"):
        TorchClassifier.from_state(state)
    again = TorchClassifier.from_state(state, module=lambda shape, k: torch.nn.Linear(shape[0], k))
    np.testing.assert_array_equal(again.predict_proba(X), custom.predict_proba(X))
