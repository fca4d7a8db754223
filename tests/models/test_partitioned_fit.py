"""Label models fitted on a PartitionedLabelMatrix equal the same models fitted on the whole matrix (to 1e-6)."""

from __future__ import annotations

import dataclasses
import itertools
import warnings

import numpy as np
import pytest

from weaklab import PartitionedLabelMatrix, PartitionedSoftLabels, ValidationError
from weaklab.models import (
    GLAD,
    DawidSkene,
    MajorityVote,
    MatrixCompletion,
    OneCoinDawidSkene,
    Triplet,
    WeightedMajorityVote,
)
from weaklab.synthetic import make_crowd, make_lf_matrix

dask = pytest.importorskip("dask")

MODELS = [
    MajorityVote(),
    MajorityVote(smoothing=1.0),
    WeightedMajorityVote(),
    WeightedMajorityVote(weights=[1, 2, 3, 1, 2, 3, 1, 2], output="share"),
    DawidSkene(),
    DawidSkene(abstain="model", source_groups=[0, 0, 1, 1, 2, 2, 3, 3]),
    OneCoinDawidSkene(),
    MatrixCompletion(),
    MatrixCompletion(class_balance_method="model"),
    Triplet(),
    Triplet(moments="all", class_balance_method="model"),
]


def split(L, n_parts):
    bounds = np.linspace(0, L.n_items, n_parts + 1).astype(int)
    return [L.select_items(np.arange(a, b)) for a, b in itertools.pairwise(bounds)]


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="sync"):
        yield


@pytest.fixture(scope="module")
def lf_data(tmp_path_factory):
    """LF-shaped votes (their patterns compress: the client fits on them), in 3 partitions."""
    L = make_lf_matrix(1000, 8, 3, random_state=0).L
    return "lf", L, PartitionedLabelMatrix.write(tmp_path_factory.mktemp("lf"), split(L, 3))


@pytest.fixture(scope="module")
def crowd_data(tmp_path_factory):
    """Crowd-shaped votes (their patterns do not compress: distributed EM), in 3 partitions."""
    L = make_crowd(200, 8, 4, 3, random_state=0).L.as_dense()
    return "crowd", L, PartitionedLabelMatrix.write(tmp_path_factory.mktemp("crowd"), split(L, 3))


@pytest.fixture(scope="module")
def lf_long(lf_data, tmp_path_factory):
    """The LF votes again, each partition in the long (item, source, label) layout."""
    _, L, _ = lf_data
    return "lf", L, PartitionedLabelMatrix.write(tmp_path_factory.mktemp("lf_long"), split(L, 3), layout="long")


@pytest.fixture(scope="module")
def crowd_long(crowd_data, tmp_path_factory):
    """The crowd votes again in the long layout (what crowd-shaped partitions are written as)."""
    _, L, _ = crowd_data
    return "crowd", L, PartitionedLabelMatrix.write(tmp_path_factory.mktemp("crowd_long"), split(L, 3),
                                                    layout="long")


@pytest.fixture(params=["lf_data", "crowd_data", "lf_long", "crowd_long"])
def data(request):
    return request.getfixturevalue(request.param)


def test_both_layouts_hold_the_same_votes_and_statistics(lf_data, lf_long, crowd_data, crowd_long):
    """Dense and long partitions read back as the same votes, fingerprints and reduced statistics."""
    for (_, L, dense), (_, _, long) in ((lf_data, lf_long), (crowd_data, crowd_long)):
        assert dense.partition_layouts is None and set(long.partition_layouts) == {"long"}
        assert "source" in long.read_votes(0).columns and L.source_names[0] not in long.read_votes(0).columns
        assert long.partition_fingerprints == dense.partition_fingerprints and long.fingerprint == dense.fingerprint
        for i in range(dense.n_partitions):
            assert long.read_partition(i).is_sparse
            assert long.read_partition(i).equals(dense.read_partition(i).as_sparse())
            np.testing.assert_array_equal(long.read_item_ids(i), dense.read_item_ids(i))
        a, b = dense.statistics(), long.statistics()
        for field in dataclasses.fields(a):
            x, y = getattr(a, field.name), getattr(b, field.name)
            assert (x is None and y is None) or np.array_equal(x, y), field.name


def fit_quietly(model, L, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning alike in both engines
        return model.fit(L, **kwargs)


def gathered(psl: PartitionedSoftLabels) -> np.ndarray:
    return np.concatenate([psl.read_partition(i).proba for i in range(psl.n_partitions)])


def test_the_two_data_shapes_take_the_two_paths(data):
    """LF votes compress into patterns (client fit); crowd votes do not (distributed EM)."""
    name, _, plm = data
    assert plm.statistics().compresses == (name == "lf")


@pytest.mark.parametrize("model", MODELS, ids=[f"{type(m).__name__}-{i}" for i, m in enumerate(MODELS)])
def test_partitioned_fit_and_predict_equal_the_local_engine(model, data, tmp_path):
    """Soft labels, class balance and learned confusions equal the local fit on the same votes to 1e-6."""
    _, L, plm = data
    local = fit_quietly(type(model)(**model.get_params()), L)
    remote = fit_quietly(type(model)(**model.get_params()), plm)
    np.testing.assert_allclose(remote.class_balance_, local.class_balance_, atol=1e-6)
    for name in ("confusion_", "weights_", "mu_"):
        if hasattr(local, name):
            np.testing.assert_allclose(getattr(remote, name), getattr(local, name), atol=1e-6)
    assert getattr(remote, "n_iter_", None) == getattr(local, "n_iter_", None)
    soft = remote.predict_proba(plm, output=tmp_path / "soft")
    assert isinstance(soft, PartitionedSoftLabels) and soft.partition_rows == plm.partition_rows
    np.testing.assert_allclose(gathered(soft), local.predict_proba(L), atol=1e-6)


def test_soft_labels_sit_beside_the_votes_with_their_ids(data):
    """By default soft labels go to ROOT/soft_labels, row for row with the votes, named by the model."""
    _, _, plm = data
    model = MajorityVote().fit(plm)
    soft = model.predict_proba(plm)
    assert soft.root == plm.root.rstrip("/") + "/soft_labels" and soft.votes_root == plm.root
    assert soft.producer == model.fingerprint_
    assert PartitionedSoftLabels.open(soft.root) == soft
    for i in range(plm.n_partitions):
        np.testing.assert_array_equal(soft.read_partition(i).item_ids, plm.read_partition(i).item_ids)
    assert list(soft.read_frame(0).columns) == ["item_id", "proba_0", "proba_1", "proba_2"]


@pytest.mark.parametrize("with_gold", [False, True], ids=["no-gold", "gold"])
def test_distributed_em_on_a_local_cluster(crowd_data, tmp_path, with_gold):
    """On a distributed LocalCluster, Dawid-Skene's distributed EM equals the local fit, with gold items clamped
    as in memory when gold is given (the workers keep each partition's own gold rows)."""
    distributed = pytest.importorskip("distributed")
    _, L, plm = crowd_data
    gold = some_gold(L.n_items) if with_gold else None
    local = DawidSkene().fit(L, gold=gold)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster):
        remote = DawidSkene().fit(plm, gold=gold)
        soft = remote.predict_proba(plm, output=tmp_path)
    np.testing.assert_allclose(remote.confusion_, local.confusion_, atol=1e-6)
    np.testing.assert_allclose(gathered(soft), local.predict_proba(L), atol=1e-6)


def test_what_partitioned_fits_refuse(data, tmp_path):
    """Gold for models that do not take it there, models without a reduced fit, and hard predictions of
    partitioned votes are refused by name."""
    name, L, plm = data
    with pytest.raises(ValidationError, match="gold: expected None when GLAD"):
        GLAD().fit(plm, gold=np.zeros(plm.n_items, dtype=int))
    assert not GLAD.fits_partitioned_gold
    with pytest.raises(ValidationError, match="gold"):
        MajorityVote().fit(plm, gold=np.zeros(plm.n_items + 1, dtype=int))
    with pytest.raises(ValidationError, match="GLAD"):
        GLAD().fit(plm)
    model = MajorityVote().fit(plm)
    with pytest.raises(ValidationError, match="predict_proba"):
        model.predict(plm)
    with pytest.raises(ValidationError, match="output"):
        model.predict_proba(L, output=tmp_path)
    if name == "crowd":
        with pytest.raises(ValidationError, match="init"):
            DawidSkene(init="random").fit(plm)


def some_gold(n):
    """Gold on a random tenth of the items, of random classes (so it disagrees with the votes: the fit moves)."""
    rng = np.random.default_rng(7)
    gold = np.full(n, -1)
    rows = rng.choice(n, size=n // 10, replace=False)
    gold[rows] = rng.integers(0, 3, size=rows.size)
    return gold


@pytest.mark.parametrize("model", MODELS, ids=[f"{type(m).__name__}-{i}" for i, m in enumerate(MODELS)])
def test_gold_on_partitioned_votes_moves_the_fit_as_in_memory(model, data, tmp_path):
    """Every model that fits on partitioned votes takes gold there and uses it as its in-memory fit does: the
    learned state and the soft labels equal the in-memory fit with the same gold (which differs from the fit
    without), for gold drawn at random and for gold chosen by a query strategy (clamped by Dawid-Skene, ignored by
    the others, as in memory)."""
    _, L, plm = data
    gold = some_gold(L.n_items)
    assert type(model).fits_partitioned_gold
    without = fit_quietly(type(model)(**model.get_params()), L)
    for sampling in ("random", "active"):
        local = fit_quietly(type(model)(**model.get_params()), L, gold=gold, gold_sampling=sampling)
        remote = fit_quietly(type(model)(**model.get_params()), plm, gold=gold, gold_sampling=sampling)
        np.testing.assert_allclose(remote.class_balance_, local.class_balance_, atol=1e-6)
        for name in ("confusion_", "weights_", "mu_"):
            if hasattr(local, name):
                np.testing.assert_allclose(getattr(remote, name), getattr(local, name), atol=1e-6)
        proba = local.predict_proba(L)
        np.testing.assert_allclose(gathered(remote.predict_proba(plm, output=tmp_path / sampling)), proba, atol=1e-6)
        moved = not (np.allclose(local.class_balance_, without.class_balance_, atol=1e-3)
                     and np.allclose(proba, without.predict_proba(L), atol=1e-3))
        assert moved == (sampling == "random" or isinstance(model, (DawidSkene, OneCoinDawidSkene))), sampling


def test_a_given_class_balance_is_kept(data):
    """class_balance passes through a partitioned fit as through a local one."""
    _, L, plm = data
    balance = np.array([0.5, 0.3, 0.2])
    remote = DawidSkene().fit(plm, class_balance=balance)
    np.testing.assert_allclose(remote.class_balance_, balance)
    np.testing.assert_allclose(remote.confusion_, DawidSkene().fit(L, class_balance=balance).confusion_, atol=1e-6)


def test_a_wide_crowd_keeps_no_overlap_matrix(tmp_path):
    """With m * k beyond MAX_OVERLAP_DIM, DS still equals the local fit; moment models refuse by name."""
    L = make_crowd(100, 520, 3, 4, random_state=1).L.as_dense()
    plm = PartitionedLabelMatrix.write(tmp_path, split(L, 2))
    stats = plm.statistics()
    assert stats.overlaps is None and not stats.compresses
    assert stats.class_votes.sum() == L.nnz
    remote, local = fit_quietly(OneCoinDawidSkene(), plm), fit_quietly(OneCoinDawidSkene(), L)
    np.testing.assert_allclose(remote.confusion_, local.confusion_, atol=1e-6)
    with pytest.raises(ValidationError, match="MatrixCompletion"):
        MatrixCompletion().fit(plm)


def test_gold_in_one_partition_only_is_clamped_as_in_memory(lf_data, tmp_path):
    """Gold items that all sit in the last partition (the others hold none) give Dawid-Skene the in-memory fit."""
    _, L, plm = lf_data
    gold = np.full(L.n_items, -1)
    gold[-50:] = 0
    local = fit_quietly(DawidSkene(), L, gold=gold)
    remote = fit_quietly(DawidSkene(), plm, gold=gold)
    np.testing.assert_allclose(remote.confusion_, local.confusion_, atol=1e-6)
    np.testing.assert_allclose(gathered(remote.predict_proba(plm, output=tmp_path)), local.predict_proba(L), atol=1e-6)
    assert not np.allclose(local.confusion_, fit_quietly(DawidSkene(), L).confusion_, atol=1e-3)


@pytest.mark.parametrize("model", MODELS, ids=[f"{type(m).__name__}-{i}" for i, m in enumerate(MODELS)])
def test_weighted_gold_on_partitioned_votes_fits_as_in_memory(model, lf_data, tmp_path):
    """gold_weight is taken on partitioned votes and used as the in-memory fit uses it: the class balance and the
    soft labels equal the in-memory fit with the same weighted gold; for majority vote it moves the class balance
    away from the unweighted fit's (the weights count in the class frequencies)."""
    _, L, plm = lf_data
    gold = some_gold(L.n_items)
    weight = np.where(gold == 0, 5.0, 1.0)  # class 0 stands for 5 items each: its frequency moves up
    local = fit_quietly(type(model)(**model.get_params()), L, gold=gold, gold_weight=weight)
    remote = fit_quietly(type(model)(**model.get_params()), plm, gold=gold, gold_weight=weight)
    np.testing.assert_allclose(remote.class_balance_, local.class_balance_, atol=1e-6)
    np.testing.assert_allclose(gathered(remote.predict_proba(plm, output=tmp_path)), local.predict_proba(L),
                               atol=1e-6)
    if isinstance(model, MajorityVote):
        plain = fit_quietly(type(model)(**model.get_params()), plm, gold=gold)
        assert remote.class_balance_[0] > plain.class_balance_[0] + 0.05
