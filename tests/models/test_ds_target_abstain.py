"""Dawid-Skene with one abstain rate for the classes a source never votes (abstain="target", issue 10)."""

from __future__ import annotations

import warnings

import numpy as np

from weaklab import LabelMatrix
from weaklab.models import DawidSkene
from weaklab.synthetic import make_crowd, make_lf_matrix
from weaklab.testing import check_label_model


def one_class_lfs(seed: int = 0) -> LabelMatrix:
    """Sparse keyword-like LFs over 5 classes, each voting one class."""
    return make_lf_matrix(3000, 30, 5, one_class=1.0, coverage=(0.02, 0.15), accuracy=(0.5, 0.9),
                          random_state=seed).L


def test_classes_a_source_never_votes_share_its_abstain_rate():
    """Each one-class LF has one abstain rate for the 4 classes it never votes, and its own for its class."""
    L = one_class_lfs()
    model = DawidSkene(abstain="target").fit(L)
    assert model.abstain_mode_ == "target"
    dense = L.to_dense()
    for j in range(L.n_sources):
        voted = np.unique(dense[:, j][dense[:, j] >= 0])
        others = np.setdiff1d(np.arange(L.n_classes), voted)
        rates = model.abstain_rate_[j]
        np.testing.assert_allclose(rates[others], rates[others][0])
        assert np.all(rates[voted] < rates[others][0])  # it fires more on its own class


def test_loss_never_increases_and_fits_converge_without_warnings():
    """EM's penalised loss is non-increasing with tied rates, and ordinary LF votes converge silently."""
    for seed in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = DawidSkene(abstain="target", source_groups="polarity").fit(one_class_lfs(seed))
        assert model.converged_
        assert np.all(np.diff(model.loss_history_) <= 1e-9)


def test_binary_one_class_lfs_are_modelled_as_with_abstain_model():
    """A binary one-class LF has a single other class, so "target" and "model" give the same posteriors."""
    L = make_lf_matrix(2000, 12, 2, one_class=1.0, random_state=1).L
    target = DawidSkene(abstain="target").fit(L).predict_proba(L)
    model = DawidSkene(abstain="model").fit(L).predict_proba(L)
    np.testing.assert_allclose(target, model, atol=1e-10)


def test_auto_never_resolves_to_target_and_crowds_still_ignore_abstentions():
    """abstain="auto" keeps its choices: "model" for LFs, "ignore" for crowd workers."""
    crowd = make_crowd(800, 20, 3, 4, random_state=0).L
    assert DawidSkene().fit(crowd).abstain_mode_ == "ignore"
    assert DawidSkene().fit(one_class_lfs()).abstain_mode_ == "model"


def test_target_abstain_passes_the_label_model_conformance_checks():
    """The estimator contract holds with abstain="target" and polarity groups."""
    check_label_model(DawidSkene(abstain="target", source_groups="polarity"))


def test_lf_candidates_model_abstentions_and_crowd_candidates_do_not_get_the_target_variant():
    """On LF votes every Dawid-Skene candidate models abstentions and the target variant joins; not on crowds."""
    from weaklab.models.auto import default_candidates

    lfs, crowd = one_class_lfs(), make_crowd(800, 20, 3, 4, random_state=0).L
    names = [name for name, _ in default_candidates(lfs)]
    assert "DawidSkene(polarity, abstain=target)" in names
    assert not {"GLAD", "MACE", "Wawa"} & set(names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, model in default_candidates(lfs):
            if "DawidSkene" in name:
                assert model.fit(lfs).abstain_mode_ in ("model", "target"), name
    assert "DawidSkene(polarity, abstain=target)" not in [name for name, _ in default_candidates(crowd)]
