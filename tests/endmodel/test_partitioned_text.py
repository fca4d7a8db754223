"""The out-of-core text end model trains on partitioned soft labels task by task and predicts partition by partition."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from weaklab import LabelMatrix, PartitionedLabelMatrix, PartitionedSoftLabels, ValidationError
from weaklab.endmodel import PartitionedTextClassifier
from weaklab.models import MajorityVote

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")

VOTED = {1: ("free money", "win a prize"), 0: ("see you at lunch", "great song")}
UNVOTED = {1: ("click this link", "cheap pills"), 0: ("thanks for the video", "nice voice")}


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="sync"):
        yield


def corpus(n: int, seed: int, *, voted_share: float = 0.5) -> tuple[pd.Series, np.ndarray]:
    """Texts of two classes: a phrase no LF reads, and with probability ``voted_share`` one an LF reads."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    texts = [UNVOTED[c][rng.integers(2)] + (f" {VOTED[c][rng.integers(2)]}" if rng.random() < voted_share else "")
             for c in y]
    return pd.Series(texts), y


def keyword_votes(texts: pd.Series) -> np.ndarray:
    """Two LFs that read only the VOTED phrases."""
    spam = texts.str.contains("free|prize").to_numpy()
    ham = texts.str.contains("lunch|song").to_numpy()
    return np.stack([np.where(spam, 1, -1), np.where(ham, 0, -1)], axis=1)


def partitioned(tmp_path, texts: pd.Series, sizes: list[int]) -> tuple[PartitionedSoftLabels, list[pd.Series]]:
    votes = keyword_votes(texts)
    bounds = np.cumsum([0, *sizes])
    parts = [LabelMatrix(votes[a:b], n_classes=2, item_ids=np.arange(a, b)) for a, b in itertools.pairwise(bounds)]
    plm = PartitionedLabelMatrix.write(str(tmp_path / "votes"), parts)
    soft = MajorityVote().fit(plm).predict_proba(plm, output=str(tmp_path / "soft"))
    return soft, [texts.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(bounds)]


def test_it_labels_items_no_source_votes_on_better_than_its_label_model(tmp_path):
    """Trained only on the items with a vote (weight 0 elsewhere), the model learns the phrases no LF reads from
    their co-occurrence: on new texts holding only those phrases (no vote: the label model can only give its
    prior) it is right on every item."""
    texts, _ = corpus(600, 0)
    soft, parts = partitioned(tmp_path, texts, [250, 50, 300])
    voted = [(keyword_votes(p) >= 0).any(axis=1).astype(float) for p in parts]
    model = PartitionedTextClassifier(random_state=0).fit(parts, soft, sample_weight=voted)
    test, y_test = corpus(200, 1, voted_share=0.0)
    assert not (keyword_votes(test) >= 0).any()
    label_model = MajorityVote().fit(LabelMatrix(keyword_votes(texts), n_classes=2))
    prior_accuracy = (label_model.predict_proba(LabelMatrix(keyword_votes(test), n_classes=2)).argmax(axis=1)
                      == y_test).mean()
    accuracy = (model.predict_proba(test).argmax(axis=1) == y_test).mean()
    assert accuracy == 1.0 > prior_accuracy
    assert model.n_train_ == sum(v.sum() for v in voted) < 600 and model.idf_.shape == (2**18,)


def test_same_random_state_same_model_and_partitions_written_like_the_soft_labels(tmp_path):
    """Two fits with one seed give the same weights; predict_partitions writes each partition with the soft labels'
    ids and rows, equal to predict_proba of the partition's texts, rows summing to 1."""
    texts, _ = corpus(300, 2)
    soft, parts = partitioned(tmp_path, texts, [100, 200])
    frame = dd.from_pandas(texts, npartitions=1).repartition(divisions=[0, 100, 299])
    a = PartitionedTextClassifier(n_epochs=2, random_state=3).fit(frame, soft)
    b = PartitionedTextClassifier(n_epochs=2, random_state=3).fit(parts, soft)
    np.testing.assert_array_equal(a.estimator_.coef_, b.estimator_.coef_)
    out = a.predict_partitions(frame, soft, str(tmp_path / "end"))
    assert out.partition_rows == soft.partition_rows and PartitionedSoftLabels.open(out.root) == out
    for i, part in enumerate(parts):
        written = out.read_partition(i)
        assert written.item_ids.tolist() == soft.read_partition(i).item_ids.tolist()
        np.testing.assert_allclose(written.proba, a.predict_proba(part))
        np.testing.assert_allclose(written.proba.sum(axis=1), 1.0)


def test_texts_must_come_in_the_soft_labels_partitions(tmp_path):
    """Texts split otherwise than the soft labels are refused, naming X."""
    texts, _ = corpus(60, 4)
    soft, parts = partitioned(tmp_path, texts, [30, 30])
    with pytest.raises(ValidationError, match="X: expected 2 partitions"):
        PartitionedTextClassifier().fit(parts[:1], soft)
    with pytest.raises(ValidationError, match="C: expected a positive number"):
        PartitionedTextClassifier(C=0).fit(parts, soft)


def test_mixing_is_deterministic_whatever_the_scheduler_and_caching(tmp_path):
    """Iterative parameter mixing gives bit-identical weights on the synchronous scheduler and on two threads (the
    averages are summed in partition order), and with features cached or computed again in every task."""
    texts, _ = corpus(400, 5)
    soft, parts = partitioned(tmp_path, texts, [120, 80, 200])
    sync = PartitionedTextClassifier(n_epochs=3, random_state=1).fit(parts, soft)
    with dask.config.set(scheduler="threads", num_workers=2):
        threads = PartitionedTextClassifier(n_epochs=3, random_state=1).fit(parts, soft)
    uncached = PartitionedTextClassifier(n_epochs=3, cache_features=False, random_state=1).fit(parts, soft)
    other_seed = PartitionedTextClassifier(n_epochs=3, random_state=2).fit(parts, soft)
    for model in (threads, uncached):
        np.testing.assert_array_equal(model.estimator_.coef_, sync.estimator_.coef_)
        np.testing.assert_array_equal(model.estimator_.intercept_, sync.estimator_.intercept_)
    assert not np.array_equal(other_seed.estimator_.coef_, sync.estimator_.coef_)


def test_mixing_one_partition_is_the_chain_and_a_partition_without_training_items_is_left_out(tmp_path):
    """On one partition mixing is the chain (the average of one model is that model). On several, a partition whose
    items all weigh 0 is left out of the averages, and both schedules label new texts right."""
    texts, _ = corpus(300, 6)
    one, one_parts = partitioned(tmp_path / "one", texts, [300])
    mixed = PartitionedTextClassifier(n_epochs=3, random_state=0).fit(one_parts, one)
    chained = PartitionedTextClassifier(n_epochs=3, schedule="chain", random_state=0).fit(one_parts, one)
    np.testing.assert_allclose(mixed.estimator_.coef_, chained.estimator_.coef_, rtol=1e-12, atol=1e-12)
    soft, parts = partitioned(tmp_path / "three", texts, [100, 50, 150])
    weights = [(keyword_votes(p) >= 0).any(axis=1).astype(float) for p in parts]
    weights[1][:] = 0.0
    test, y_test = corpus(200, 7, voted_share=0.0)
    for schedule in ("mix", "chain"):
        model = PartitionedTextClassifier(schedule=schedule, random_state=0).fit(parts, soft, sample_weight=weights)
        assert model.n_train_ == weights[0].sum() + weights[2].sum()
        assert (model.predict_proba(test).argmax(axis=1) == y_test).mean() == 1.0


def test_bad_schedule_and_cache_flag_are_refused(tmp_path):
    """An unknown schedule or a non-boolean cache_features is refused, naming the parameter."""
    texts, _ = corpus(60, 8)
    soft, parts = partitioned(tmp_path, texts, [30, 30])
    with pytest.raises(ValidationError, match="schedule"):
        PartitionedTextClassifier(schedule="ring").fit(parts, soft)
    with pytest.raises(ValidationError, match="cache_features: expected True or False"):
        PartitionedTextClassifier(cache_features="yes").fit(parts, soft)


def test_an_empty_partition_is_trained_on_and_written_as_nothing(tmp_path):
    """A partition without rows (as Dask can give) adds nothing to the fit and is written with no rows."""
    texts, _ = corpus(200, 9)
    soft, parts = partitioned(tmp_path, texts, [0, 120, 80])
    weights = [(keyword_votes(p) >= 0).any(axis=1).astype(float) for p in parts]
    for schedule in ("mix", "chain"):
        model = PartitionedTextClassifier(schedule=schedule, n_epochs=2, random_state=0).fit(parts, soft,
                                                                                             sample_weight=weights)
        assert model.n_train_ == weights[1].sum() + weights[2].sum()
    out = model.predict_partitions(parts, soft, str(tmp_path / "end"))
    assert out.partition_rows == (0, 120, 80) and out.read_partition(0).proba.shape == (0, 2)


def _graph_payloads(monkeypatch) -> list[list[int]]:
    """Captures every graph dask.compute is given: the pickled size of each of its tasks."""
    import cloudpickle

    graphs: list[list[int]] = []
    real = dask.compute

    def compute(*args, **kwargs):
        tasks: dict = {}
        for arg in args:
            if dask.is_dask_collection(arg):
                tasks.update(dict(arg.__dask_graph__()))
        graphs.append([len(cloudpickle.dumps(task)) for task in tasks.values()])
        return real(*args, **kwargs)

    monkeypatch.setattr(dask, "compute", compute)
    return graphs


@pytest.mark.parametrize("n_parts", [3, 12])
def test_the_idf_and_the_fitted_model_are_in_the_graph_once_whatever_the_partitions(tmp_path, monkeypatch, n_parts):
    """The inverse document frequencies (and, to predict, the fitted model) are one node of the graph that every
    task refers to, not a copy per task: with 3 or 12 partitions the graphs of fit and predict hold one task
    carrying the IDF (fit) and two carrying IDF and model (predict), and their payload does not grow with the
    partitions by a copy of them."""
    n_features = 2**15  # an IDF of 256 kB: a task that carries it is > 200 kB
    texts, _ = corpus(40 * n_parts, 3)
    soft, parts = partitioned(tmp_path, texts, [40] * n_parts)
    parts = [dask.delayed(p) for p in parts]  # texts by reference, as a dask collection gives them
    graphs = _graph_payloads(monkeypatch)
    model = PartitionedTextClassifier(n_features=n_features, n_epochs=2, random_state=0).fit(parts, soft)
    model.predict_partitions(parts, soft, str(tmp_path / "end"))
    fit_graph, predict_graph = graphs[-2], graphs[-1]
    heavy = 8 * n_features * 0.8
    assert len(fit_graph) > 3 * n_parts and len(predict_graph) >= n_parts
    assert sum(size > heavy for size in fit_graph) == 1
    assert sum(size > heavy for size in predict_graph) == 2
    assert sum(fit_graph) + sum(predict_graph) < 3.5 * 8 * n_features + 20_000 * n_parts


def test_shared_idf_and_model_give_the_same_model_on_a_distributed_cluster(tmp_path):
    """With a distributed Client the IDF and the fitted model are scattered to the workers once; the weights and
    the probabilities written equal those of the synchronous scheduler."""
    distributed = pytest.importorskip("distributed")
    texts, _ = corpus(300, 4)
    soft, parts = partitioned(tmp_path, texts, [100, 120, 80])
    sync = PartitionedTextClassifier(n_epochs=2, random_state=0).fit(parts, soft)
    expected = sync.predict_partitions(parts, soft, str(tmp_path / "sync"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as c, \
            distributed.Client(c):
        model = PartitionedTextClassifier(n_epochs=2, random_state=0).fit(parts, soft)
        written = model.predict_partitions(parts, soft, str(tmp_path / "cluster"))
    np.testing.assert_array_equal(model.estimator_.coef_, sync.estimator_.coef_)
    for i in range(soft.n_partitions):
        np.testing.assert_array_equal(written.read_partition(i).proba, expected.read_partition(i).proba)


def test_a_model_rebuilt_from_its_state_predicts_new_texts_as_the_fitted_one(tmp_path):
    """to_state keeps only the feature columns with an IDF weight (no pickle); from_state rebuilds a model that
    gives the fitted model's probabilities on new texts, words it never saw included, without Dask."""
    texts, _ = corpus(300, 3)
    soft, parts = partitioned(tmp_path, texts, [120, 180])
    voted = [(keyword_votes(p) >= 0).any(axis=1).astype(float) for p in parts]
    model = PartitionedTextClassifier(n_features=2**12, random_state=0).fit(parts, soft, sample_weight=voted)
    state = model.to_state()
    assert 0 < state["arrays"]["features"].size < 2**12 and state["arrays"]["coef"].shape[0] in (1, 2)
    new = ["free money and unseen words zzz", "nice voice", "", "qqq only unseen"]
    twin = PartitionedTextClassifier.from_state(state)
    np.testing.assert_allclose(twin.predict_proba(new), model.predict_proba(new), atol=1e-12)
    assert twin.get_params() == model.get_params() and twin.n_classes_ == 2
    with pytest.raises(ValidationError, match="PartitionedTextClassifier"):
        PartitionedTextClassifier.from_state({**state, "class": "DawidSkene"})


def test_delayed_sample_weights_are_computed_once_per_partition_on_a_distributed_cluster(tmp_path):
    """With a distributed Client, delayed per-partition weights are computed once for the whole fit (document
    counts and every epoch read the kept result; each compute evaluated them again: twice per partition), and the
    model is the one the same weights in memory give."""
    distributed = pytest.importorskip("distributed")
    texts, _ = corpus(300, 5)
    soft, parts = partitioned(tmp_path, texts, [100, 120, 80])
    log = tmp_path / "calls.txt"  # tasks run on copies of the function: each call leaves a line

    def weights(i, n):
        with log.open("a") as handle:
            handle.write(f"{i}\n")
        return np.where(np.arange(n) % 4 == 0, 0.0, 1.0)

    in_memory = PartitionedTextClassifier(n_epochs=3, random_state=0).fit(
        parts, soft, sample_weight=[np.where(np.arange(len(p)) % 4 == 0, 0.0, 1.0) for p in parts])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as c, \
            distributed.Client(c):
        delayed = [dask.delayed(weights)(i, len(p)) for i, p in enumerate(parts)]
        model = PartitionedTextClassifier(n_epochs=3, random_state=0).fit(parts, soft, sample_weight=delayed)
    assert sorted(log.read_text().split()) == ["0", "1", "2"]
    assert model.n_train_ == in_memory.n_train_ == 225
    np.testing.assert_array_equal(model.estimator_.coef_, in_memory.estimator_.coef_)
