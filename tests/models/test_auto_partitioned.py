"""AutoLabelModel on a PartitionedLabelMatrix: chosen and fitted on a uniform random sample, predicted per partition."""

from __future__ import annotations

import itertools
import re
import warnings

import numpy as np
import pytest

from weaklab import LabelMatrix, PartitionedLabelMatrix, ValidationError
from weaklab.models import AutoLabelModel, MajorityVote
from weaklab.synthetic import make_crowd, make_label_matrix, make_lf_matrix

from .test_auto_blind_ties import one_lf_per_class
from .test_auto_no_gold import wrench_like

dask = pytest.importorskip("dask")


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="sync"):
        yield


def partitioned(L: LabelMatrix, root, n_parts: int = 3, layout: str = "auto") -> PartitionedLabelMatrix:
    bounds = np.linspace(0, L.n_items, n_parts + 1).astype(int)
    return PartitionedLabelMatrix.write(root, [L.select_items(np.arange(a, b)) for a, b in itertools.pairwise(bounds)],
                                        layout=layout)


def quietly(model: AutoLabelModel, L, **kwargs) -> AutoLabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the "close choice" warnings, alike on both paths
        return model.fit(L, **kwargs)


def gathered(soft) -> np.ndarray:
    return np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])


@pytest.fixture(scope="module")
def lf_votes(tmp_path_factory):
    """One-class LF votes with unvoted items (about 40 %), in 3 partitions."""
    L = make_lf_matrix(3000, 8, 3, random_state=0).L
    return L, partitioned(L, tmp_path_factory.mktemp("lf"))


def _tie_breaking():
    return one_lf_per_class(29)[0], {}, lambda m: len(m.tie_models_) == 2


def _unvoted_moved():
    return wrench_like(129).L, {}, lambda m: m.no_vote_proba_ is not None


def _threshold():
    data = make_label_matrix(2000, 5, 2, coverage=0.2, accuracy=0.8, class_balance=[0.85, 0.15], random_state=4)
    return data.L, {"gold": data.y}, lambda m: m.threshold_ is not None


def _crowd():
    crowd_judges = ("heldout_vote_loglik", "heldout_vote_agreement")
    return make_crowd(300, 12, 3, 3, random_state=0).L, {}, lambda m: m.criterion_ in crowd_judges


PATHS = {"tie_models": _tie_breaking, "no_vote_proba": _unvoted_moved, "threshold": _threshold, "crowd": _crowd}


@pytest.mark.parametrize("path", list(PATHS))
def test_predicting_partition_by_partition_equals_predicting_the_whole_matrix(path, tmp_path):
    """AutoLabelModel's posterior is row-wise on every path (ties broken by two models, unvoted items moved, a
    tuned threshold, crowd votes): the soft labels written per partition equal predict_proba of the whole matrix."""
    L, fit_kwargs, took_path = PATHS[path]()
    candidates = [MajorityVote()] if path == "threshold" else None
    metric = "f1_minority" if path == "threshold" else "auto"
    model = quietly(AutoLabelModel(candidates, metric=metric, random_state=0), L, **fit_kwargs)
    assert took_path(model), f"the fixture no longer takes the {path} path: {model.reason_}"
    plm = partitioned(L, tmp_path / "votes", n_parts=4)
    soft = model.predict_proba(plm, output=tmp_path / "soft")
    np.testing.assert_allclose(gathered(soft), model.predict_proba(L), atol=1e-12)


@pytest.mark.parametrize("layout", ["dense", "long"])
def test_with_all_items_under_the_cap_the_fit_equals_the_in_memory_fit(lf_votes, tmp_path, layout):
    """Fewer voted items than max_fit_items: every item is in the sample, the choice, the soft labels and the
    state equal AutoLabelModel fitted on the whole matrix in memory, and reason_ says it saw every item."""
    L, _ = lf_votes
    plm = partitioned(L, tmp_path / "votes", layout=layout)
    local = quietly(AutoLabelModel(random_state=0), L)
    remote = quietly(AutoLabelModel(random_state=0), plm)
    assert remote.selected_ == local.selected_ and remote.members_ == local.members_
    np.testing.assert_allclose(remote.class_balance_, local.class_balance_, atol=1e-12)
    np.testing.assert_allclose(gathered(remote.predict_proba(plm, output=tmp_path / "soft")), local.predict_proba(L),
                               atol=1e-12)
    assert remote.fit_sample_ == {"n_sample": 3000, "n_items": 3000, "n_voted": int((L.votes_per_item() > 0).sum()),
                                  "n_sample_voted": int((L.votes_per_item() > 0).sum()),
                                  "n_drawn": int((L.votes_per_item() > 0).sum()), "max_fit_items": 500_000,
                                  "seed": 0, "sampled": False}
    assert remote.reason_.endswith("fitted on all 3,000 items of the partitioned votes")
    assert local.fit_sample_ is None and AutoLabelModel.from_state(remote.to_state()).fit_sample_ == remote.fit_sample_


def test_the_sample_holds_at_most_max_fit_items_voted_items_and_unvoted_ones_at_the_same_rate(lf_votes, tmp_path):
    """max_fit_items=800 of 1,7xx voted items: exactly 800 voted items are drawn, the unvoted ones join at about the
    same rate (their share in the sample is the whole matrix's within sampling error), the sample is fixed by
    random_state and another seed draws others; reason_ and fit_sample_ say what the fit saw."""
    L, plm = lf_votes
    model = quietly(AutoLabelModel(random_state=3, max_fit_items=800), plm)
    seen = model.fit_sample_
    n_voted = int((L.votes_per_item() > 0).sum())
    assert seen["sampled"] and seen["n_sample_voted"] == seen["n_drawn"] == 800 and seen["n_voted"] == n_voted
    share, rate = 1 - n_voted / L.n_items, 800 / n_voted
    n_unvoted = seen["n_sample"] - 800
    assert abs(n_unvoted - rate * (L.n_items - n_voted)) < 4 * np.sqrt(rate * (1 - rate) * (L.n_items - n_voted))
    assert 0 < share
    assert f"fitted on a uniform random sample of {seen['n_sample']:,} of the 3,000 items" in model.reason_
    assert "800 of the" in model.reason_ and "seed 3" in model.reason_
    again = quietly(AutoLabelModel(random_state=3, max_fit_items=800), plm)
    other = quietly(AutoLabelModel(random_state=4, max_fit_items=800), plm)
    assert again.fit_sample_ == seen and again.reason_ == model.reason_
    assert other.fit_sample_["n_sample"] != seen["n_sample"] or other.reason_ != model.reason_
    soft = model.predict_proba(plm, output=tmp_path / "soft")  # every item labelled, as the model predicts in memory
    np.testing.assert_allclose(gathered(soft), model.predict_proba(L), atol=1e-12)


def test_items_holding_random_gold_join_the_sample_and_their_gold_is_used(lf_votes):
    """Gold drawn at random on 60 items, a sample of 300 voted items: all 60 gold items are in the sample (beside
    the 300 drawn), so AutoLabelModel selects with the gold as in memory; gold chosen by active learning is not
    forced in and, as in memory, not used to choose."""
    L, plm = lf_votes
    y = make_lf_matrix(3000, 8, 3, random_state=0).y
    gold = np.full(L.n_items, -1)
    rows = np.random.default_rng(0).choice(L.n_items, 60, replace=False)
    gold[rows] = y[rows]
    model = quietly(AutoLabelModel(random_state=0, max_fit_items=300), plm, gold=gold)
    assert model.criterion_ == "gold" and "60 gold items" in model.reason_
    assert model.fit_sample_["n_drawn"] == 300 and model.fit_sample_["n_sample_voted"] >= 300
    active = quietly(AutoLabelModel(random_state=0, max_fit_items=300), plm, gold=gold, gold_sampling="active")
    assert active.criterion_ != "gold" and active.gold_sampling_ == "active"
    assert active.fit_sample_["n_sample_voted"] == 300
    assert model.fit_sample_["n_gold"] == model.fit_sample_["n_gold_in_sample"] == 60  # what reached the fit
    assert active.fit_sample_["n_gold"] == 60 > active.fit_sample_["n_gold_in_sample"]


def test_random_gold_beyond_max_fit_items_is_subsampled_and_counted(lf_votes):
    """Random gold on 600 items and max_fit_items=150: at most 150 of them are forced into the sample beside the 150
    drawn voted items (the client's sample stays bounded), and fit_sample_ counts the gold left out."""
    L, plm = lf_votes
    y = make_lf_matrix(3000, 8, 3, random_state=0).y
    gold = np.full(L.n_items, -1)
    rows = np.random.default_rng(1).choice(L.n_items, 600, replace=False)
    gold[rows] = y[rows]
    seen = quietly(AutoLabelModel(random_state=0, max_fit_items=150), plm, gold=gold).fit_sample_
    assert seen["n_gold"] == 600 and 150 <= seen["n_gold_in_sample"] < 600
    assert seen["n_drawn"] == 150 and seen["n_sample_voted"] <= 300


def test_random_gold_left_out_of_the_sample_is_a_warning_naming_the_cap(lf_votes):
    """Random gold on 200 items and max_fit_items=150: a UserWarning names max_fit_items and the 50 items not forced
    into the sample; fit_sample_ counts the random gold and that in the sample (the 150 forced in, and any the
    uniform draw took), and sample_rows_ holds the sample's rows, whose gold is the gold that reached the fit.
    Under the cap: no such warning, every random gold item in."""
    L, plm = lf_votes
    y = make_lf_matrix(3000, 8, 3, random_state=0).y
    gold = np.full(L.n_items, -1)
    rows = np.random.default_rng(2).choice(L.n_items, 200, replace=False)
    gold[rows] = y[rows]
    told_of = (r"200 items hold gold drawn at random, more than max_fit_items=150: .* the other 50 reach the fit only "
               r"where the uniform draw takes them \(raise max_fit_items")
    with pytest.warns(UserWarning, match=told_of) as told:
        model = AutoLabelModel(random_state=0, max_fit_items=150).fit(plm, gold=gold)
    assert [w.filename for w in told if "max_fit_items" in str(w.message)] == [__file__]  # the line that called fit
    seen = model.fit_sample_
    assert seen["n_random_gold"] == 200 and 150 <= seen["n_random_gold_in_sample"] < 200  # 150 forced, a few drawn
    assert model.sample_rows_.size == seen["n_sample"] and int((gold[model.sample_rows_] >= 0).sum()) == \
        seen["n_gold_in_sample"] == seen["n_random_gold_in_sample"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        under = AutoLabelModel(random_state=0, max_fit_items=300).fit(plm, gold=gold)
    assert not [w for w in caught if "max_fit_items" in str(w.message)]
    assert under.fit_sample_["n_random_gold_in_sample"] == 200 == under.fit_sample_["n_gold_in_sample"]
    assert AutoLabelModel.from_state(under.to_state()).sample_rows_ is None


@pytest.mark.parametrize("value", [0, 50, 1.5, "all", True, None])
def test_a_bad_max_fit_items_names_the_parameter(lf_votes, value):
    """max_fit_items must be an integer of at least 100: anything else is a ValidationError naming it, what was
    expected and what arrived."""
    _, plm = lf_votes
    message = f"AutoLabelModel(max_fit_items=...): expected an integer >= 100, got {value!r}"
    with pytest.raises(ValidationError, match=re.escape(message)):
        AutoLabelModel(max_fit_items=value).fit(plm)


def test_partitions_in_which_every_vote_abstains_are_refused(tmp_path):
    """Partitioned votes without a single vote are refused by name, as an all-abstain matrix in memory."""
    empty = LabelMatrix(np.full((200, 3), -1), n_classes=2)
    with pytest.raises(ValidationError, match="at least one non-abstain vote"):
        AutoLabelModel().fit(partitioned(empty, tmp_path))


def test_weighted_gold_reaches_the_sample_fit_as_in_memory(lf_votes, tmp_path):
    """AutoLabelModel on partitioned votes with gold_weight (every item in the sample): the gold is forced in with
    its weights, and the choice, reason and soft labels equal the in-memory fit with the same weighted gold."""
    L, plm = lf_votes
    y = make_lf_matrix(3000, 8, 3, random_state=0).y
    gold = np.full(L.n_items, -1)
    rows = np.random.default_rng(2).choice(L.n_items, 120, replace=False)
    gold[rows] = y[rows]
    weight = np.where(np.arange(L.n_items) % 3 == 0, 4.0, 1.0)
    local = quietly(AutoLabelModel(random_state=0), L, gold=gold, gold_weight=weight)
    remote = quietly(AutoLabelModel(random_state=0), plm, gold=gold, gold_weight=weight)
    assert "gold_weight" in remote.reason_ and remote.reason_.startswith(local.reason_)
    assert remote.selected_ == local.selected_ and remote.fit_sample_["n_gold_in_sample"] == 120
    np.testing.assert_allclose(gathered(remote.predict_proba(plm, output=tmp_path)), local.predict_proba(L),
                               atol=1e-12)
