"""Source agreement reduced over partitions equals the agreement the dashboard computes on the whole matrix."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from weaklab import LabelMatrix, PartitionedLabelMatrix, ValidationError
from weaklab._core.agreement import SourceAgreement, agreement_counts, merge_agreement, reduce_agreement
from weaklab.models import MajorityVote
from weaklab.synthetic import make_label_matrix

dask = pytest.importorskip("dask")


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="sync"):
        yield


def split(L: LabelMatrix, sizes: list[int]) -> list[LabelMatrix]:
    bounds = np.cumsum([0, *sizes])
    return [L.select_items(np.arange(a, b)) for a, b in itertools.pairwise(bounds)]


def matrix(n: int = 400, m: int = 7, k: int = 3, seed: int = 0) -> LabelMatrix:
    L = make_label_matrix(n, m, k, coverage=0.5, random_state=seed).L
    return L.replace(item_ids=np.arange(1000, 1000 + n))


def plain_loop(dense: np.ndarray, hard: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The specification: per pair, items both vote on and items they agree on; per source and class, the
    share of its votes the model's label matches."""
    m = dense.shape[1]
    both, same = np.zeros((m, m)), np.zeros((m, m))
    for j, l_ in itertools.product(range(m), range(m)):
        voted = (dense[:, j] >= 0) & (dense[:, l_] >= 0)
        both[j, l_] = voted.sum()
        same[j, l_] = (voted & (dense[:, j] == dense[:, l_])).sum()
    k = int(dense.max()) + 1
    model = np.full((m, k), np.nan)
    for j, c in itertools.product(range(m), range(k)):
        mine = dense[:, j] == c
        if mine.any():
            model[j, c] = (hard[mine] == c).mean()
    return both, same, model


def test_reduced_agreement_equals_the_plain_loop_on_the_whole_matrix(tmp_path):
    """Sparse Gram products per partition, summed by a tree, give the pairwise counts of the whole matrix,
    and the model agreement and first disagreements in data order."""
    L = matrix()
    plm = PartitionedLabelMatrix.write(tmp_path / "votes", split(L, [90, 1, 200, 109]))
    soft = MajorityVote().fit(plm).predict_proba(plm, output=str(tmp_path / "soft"))
    hard = np.argmax(MajorityVote().fit(L).predict_proba(L), axis=1)
    reduced = reduce_agreement(plm, soft, max_samples=5, split_every=2)
    both, same, model = plain_loop(L.to_dense(), hard)
    np.testing.assert_array_equal(reduced.co_votes, both)
    np.testing.assert_array_equal(reduced.agreements, same)
    np.testing.assert_allclose(reduced.model_agreement(), model)
    dense = L.to_dense()
    for j, name in enumerate(L.source_names):
        rows = np.flatnonzero((dense[:, j] >= 0) & (dense[:, j] != hard))[:5]
        ids, votes, labels = reduced.samples[name]
        assert ids.tolist() == (1000 + rows).tolist()
        assert votes.tolist() == dense[rows, j].tolist() and labels.tolist() == hard[rows].tolist()


def test_sparse_and_dense_votes_give_the_same_counts():
    """The counts depend on the votes, not on their storage."""
    L = matrix(n=120, m=5, k=4, seed=3)
    a, b = agreement_counts(L), agreement_counts(L.as_sparse())
    for name in ("co_votes", "agreements", "class_votes"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_pairs_are_counted_for_the_first_sources_and_per_source_counts_for_all():
    """max_pair_sources bounds the (p, p) matrices; agreement with the label model and samples cover every source."""
    L = matrix(m=9)
    hard = np.zeros(L.n_items, dtype=int)
    full, first = agreement_counts(L, hard), agreement_counts(L, hard, max_pair_sources=4)
    assert first.source_names == L.source_names and first.pair_sources == L.source_names[:4]
    assert first.n_sources == 9 and first.agreement_rate().shape == (4, 4)
    np.testing.assert_array_equal(first.co_votes, full.co_votes[:4, :4])
    np.testing.assert_array_equal(first.agreements, full.agreements[:4, :4])
    np.testing.assert_array_equal(first.model_agrees, full.model_agrees)
    assert {k: v[0].tolist() for k, v in first.samples.items()} == {k: v[0].tolist() for k, v in full.samples.items()}


def test_reducing_past_the_pair_cap_warns_and_the_cap_is_a_parameter(tmp_path):
    """With more sources than max_pair_sources the reduction says so (a UserWarning naming the parameter) and
    still equals the whole matrix's counts; a larger max_pair_sources counts every pair without a warning."""
    L = matrix(n=120, m=6)
    plm = PartitionedLabelMatrix.write(tmp_path / "votes", split(L, [50, 70]))
    with pytest.warns(UserWarning, match="first 3 of 6 sources only.*max_pair_sources"):
        capped = reduce_agreement(plm, max_pair_sources=3)
    np.testing.assert_array_equal(capped.co_votes, agreement_counts(L).co_votes[:3, :3])
    np.testing.assert_array_equal(capped.class_votes, agreement_counts(L).class_votes)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        whole = reduce_agreement(plm, max_pair_sources=6)
    assert whole.pair_sources == L.source_names


def test_disagreement_samples_stay_bounded_over_many_sources():
    """Per source at most max_samples, and over all sources at most MAX_SAMPLE_ITEMS (at least one each)."""
    from weaklab._core.agreement import MAX_SAMPLE_ITEMS, sample_limit

    assert sample_limit(200, 10) == 200 and sample_limit(200, 10 * MAX_SAMPLE_ITEMS) == 1
    assert sample_limit(200, 2_000) * 2_000 <= MAX_SAMPLE_ITEMS


def test_the_record_survives_json_and_rejects_other_dicts():
    """to_dict() is JSON-able and from_dict() gives the same counts and samples back."""
    import json

    L = matrix(n=50)
    counts = agreement_counts(L, np.zeros(50, dtype=int), max_samples=3)
    back = SourceAgreement.from_dict(json.loads(json.dumps(counts.to_dict())))
    np.testing.assert_array_equal(back.agreements, counts.agreements)
    capped = agreement_counts(L, max_pair_sources=3)
    again = SourceAgreement.from_dict(json.loads(json.dumps(capped.to_dict())))
    assert again.pair_sources == capped.pair_sources and again.co_votes.shape == (3, 3)
    np.testing.assert_array_equal(again.class_votes, capped.class_votes)
    np.testing.assert_array_equal(back.model_agrees, counts.model_agrees)
    assert {k: v[0].tolist() for k, v in back.samples.items()} == {k: v[0].tolist() for k, v in counts.samples.items()}
    with pytest.raises(ValidationError, match="data: expected a dict written by"):
        SourceAgreement.from_dict({"kind": "votes"})


def test_merging_counts_of_other_sources_is_refused():
    """Two partitions' counts merge only when they count the same sources."""
    a = agreement_counts(matrix(m=4))
    b = agreement_counts(matrix(m=5))
    with pytest.raises(ValidationError, match="b: expected counts of the sources"):
        merge_agreement(a, b)
