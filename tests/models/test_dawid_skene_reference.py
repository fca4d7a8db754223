"""DawidSkene / OneCoinDawidSkene against a plain, loop-by-loop implementation of the same MAP-EM.

The models fit on compressed vote patterns or on items, from a block-stored one-hot with implicit ones,
dense or sparse; the reference below walks the dense vote array item by item and source by source, with
no compression and no sparse algebra. Both must agree to 1e-6 on every learned parameter, on every
iteration's loss and on the posteriors.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from weaklab._core import LabelMatrix
from weaklab.models import DawidSkene, OneCoinDawidSkene
from weaklab.synthetic import make_label_matrix


def reference_em(votes, k, n_iter, *, converged=True, one_coin=False, abstain=False, smoothing=0.01,
                 gold=None, class_balance=None):
    """Run ``n_iter`` E-steps of Dawid-Skene MAP-EM from the majority-vote start.

    Returns the parameters (confusion, prior, abstain rates or None) used by the last E-step when
    ``converged``, else those of one more M-step (what a model stopped by ``max_iter`` keeps), the loss
    of every E-step and the posterior of the last one.
    """
    onehot = _dense_one_hot(votes, k)
    counts = onehot.sum(axis=1)  # votes per item and class
    n = votes.shape[0]
    totals = counts.sum(axis=1, keepdims=True)
    start = np.where(totals > 0, counts / np.maximum(totals, 1.0), 1.0 / k)
    posterior = _clamp(start, gold)
    params = _m_step(onehot, posterior, one_coin, abstain, smoothing, class_balance)
    losses = []
    for it in range(n_iter):
        posterior, log_lik = _e_step(onehot, params, gold)
        confusion, prior, rates = params
        penalty = smoothing * np.log(confusion).sum()
        if class_balance is None:
            penalty += smoothing * np.log(prior).sum()
        if rates is not None:
            penalty += smoothing * (np.log(rates).sum() + np.log(1.0 - rates).sum())
        losses.append(-(log_lik + penalty) / n)
        if it < n_iter - 1 or not converged:
            params = _m_step(onehot, posterior, one_coin, abstain, smoothing, class_balance)
    return params, np.array(losses), posterior


def _dense_one_hot(votes, k):
    """``(n, m, k)`` float array: 1 where source j voted class v on item i."""
    return (votes[:, :, None] == np.arange(k)[None, None, :]).astype(float)


def _clamp(posterior, gold):
    out = posterior.copy()
    if gold is not None:
        known = gold >= 0
        out[known] = np.eye(posterior.shape[1])[gold[known]]
    return out


def _m_step(onehot, posterior, one_coin, abstain, s, class_balance):
    k = posterior.shape[1]
    counts = np.einsum("ic,ijv->jcv", posterior, onehot)  # [source, true class, vote]
    if one_coin:
        acc = (np.trace(counts, axis1=1, axis2=2) + s * k) / (counts.sum(axis=(1, 2)) + s * k * k)
        confusion = np.where(np.eye(k)[None] == 1, acc[:, None, None], ((1.0 - acc) / (k - 1))[:, None, None])
    else:
        confusion = (counts + s) / (counts + s).sum(axis=2, keepdims=True)
    mass = posterior.sum(axis=0)
    prior = np.asarray(class_balance, dtype=float) if class_balance is not None else (mass + s) / (mass + s).sum()
    rates = None
    if abstain:
        rates = (mass[None, :] - counts.sum(axis=2) + s) / (mass[None, :] + 2.0 * s)
    return confusion, prior, rates


def _e_step(onehot, params, gold):
    """Posterior and log-likelihood (complete-data for gold items) under ``params``."""
    confusion, prior, rates = params
    log_joint = np.log(prior)[None, :] + np.einsum("ijv,jcv->ic", onehot, np.log(confusion))
    if rates is not None:
        voted = onehot.sum(axis=2)  # (n, m): 1 where the source voted
        log_joint += voted @ np.log(1.0 - rates) + (1.0 - voted) @ np.log(rates)
    top = log_joint.max(axis=1, keepdims=True)
    norm = (top + np.log(np.exp(log_joint - top).sum(axis=1, keepdims=True)))[:, 0]
    posterior = np.exp(log_joint - norm[:, None])
    per_item = norm.copy()
    if gold is not None:
        known = np.flatnonzero(gold >= 0)
        per_item[known] = log_joint[known, gold[known]]
    return _clamp(posterior, gold), float(per_item.sum())


def _votes(n, m, k, seed, coverage):
    return make_label_matrix(n, m, k, coverage=coverage, accuracy=(0.5, 0.9), random_state=seed).L


@pytest.fixture(params=["one-block", "many-blocks"])
def block_votes(request, monkeypatch):
    """Small data fits in one block of the one-hot; also cut it into blocks of 13 votes."""
    if request.param == "many-blocks":
        monkeypatch.setattr("weaklab.models._onehot._BLOCK_VOTES", 13)
    return request.param


CASES = [
    # (n, m, k, coverage): few sources -> repeated patterns (compressed fit); many -> one unit per item
    pytest.param(400, 4, 3, 0.5, id="patterns-k3"),
    pytest.param(300, 25, 2, 0.3, id="items-k2"),
    pytest.param(250, 20, 4, 0.4, id="items-k4"),
]


@pytest.mark.parametrize("n,m,k,coverage", CASES)
@pytest.mark.parametrize("cls,abstain", [(DawidSkene, "ignore"), (DawidSkene, "model"),
                                         (OneCoinDawidSkene, "ignore"), (OneCoinDawidSkene, "model")])
@pytest.mark.parametrize("storage", ["dense", "sparse"])
def test_matches_reference_em(n, m, k, coverage, cls, abstain, storage, block_votes):
    L = _votes(n, m, k, seed=n + m + k, coverage=coverage)
    if storage == "sparse":
        L = L.as_sparse()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "did not converge": max_iter is the point here
        model = cls(max_iter=12, tol=0.0, abstain=abstain).fit(L)
    params, losses, _ = reference_em(L.to_dense(), k, model.n_iter_, converged=model.converged_,
                                     one_coin=cls is OneCoinDawidSkene, abstain=abstain == "model")
    confusion, prior, rates = params
    np.testing.assert_allclose(model.confusion_, confusion, atol=1e-6)
    np.testing.assert_allclose(model.class_balance_, prior, atol=1e-6)
    if abstain == "model":
        np.testing.assert_allclose(model.abstain_rate_, rates, atol=1e-6)
    else:
        assert model.abstain_rate_ is None
    np.testing.assert_allclose(model.loss_history_, losses, atol=1e-6)
    # the posterior under the final parameters (one more reference E-step)
    expected, _ = _e_step(_dense_one_hot(L.to_dense(), k), params, None)
    np.testing.assert_allclose(model.predict_proba(L), expected, atol=1e-6)


@pytest.mark.parametrize("n,m,k,coverage", CASES)
def test_matches_reference_with_gold_and_fixed_balance(n, m, k, coverage, block_votes):
    L = _votes(n, m, k, seed=7 * n + m, coverage=coverage)
    rng = np.random.default_rng(0)
    gold = np.where(rng.random(n) < 0.2, rng.integers(0, k, n), -1)
    balance = np.linspace(1.0, 2.0, k) / np.linspace(1.0, 2.0, k).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = DawidSkene(max_iter=10, tol=0.0, abstain="model").fit(L, gold=gold, class_balance=balance)
    params, losses, _ = reference_em(L.to_dense(), k, model.n_iter_, converged=model.converged_, abstain=True,
                                     gold=gold, class_balance=balance)
    np.testing.assert_allclose(model.confusion_, params[0], atol=1e-6)
    np.testing.assert_allclose(model.class_balance_, balance, atol=1e-12)
    np.testing.assert_allclose(model.abstain_rate_, params[2], atol=1e-6)
    np.testing.assert_allclose(model.loss_history_, losses, atol=1e-6)


def test_all_abstain_rows_and_empty_sources():
    """Rows without votes and a source that never votes go through the same algebra."""
    votes = _votes(200, 6, 3, seed=3, coverage=0.4).to_dense().copy()
    votes[:40] = -1
    votes[:, 2] = -1
    L = LabelMatrix(votes, n_classes=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = DawidSkene(max_iter=8, tol=0.0, abstain="model").fit(L)
    params, losses, _ = reference_em(votes, 3, model.n_iter_, converged=model.converged_, abstain=True)
    np.testing.assert_allclose(model.confusion_, params[0], atol=1e-6)
    np.testing.assert_allclose(model.loss_history_, losses, atol=1e-6)
    expected, _ = _e_step(_dense_one_hot(votes, 3), params, None)
    np.testing.assert_allclose(model.predict_proba(L), expected, atol=1e-6)
