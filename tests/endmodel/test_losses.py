"""Robust losses: published formulas on hand-computed cases and their cross-entropy limits."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the losses need torch (pip install 'weaklab[torch]')")

from weaklab.endmodel import losses as L  # noqa: E402

Z = torch.tensor([[1.0, 0.0, -1.0]], dtype=torch.float64)
_E = [math.e, 1.0, 1 / math.e]
P = [v / sum(_E) for v in _E]  # softmax of Z by hand: 0.66524, 0.24473, 0.09003
Y0 = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
Y1 = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
CE0 = -math.log(P[0])


def _val(t):
    return float(t.reshape(-1)[0])


def test_soft_cross_entropy_by_hand():
    """Soft CE is -sum t log p: -log p_0 for a hard label, the mixture for a soft one."""
    assert _val(L.soft_cross_entropy(Z, Y0)) == pytest.approx(CE0, abs=1e-12)
    soft = torch.tensor([[0.5, 0.25, 0.25]], dtype=torch.float64)
    expected = -(0.5 * math.log(P[0]) + 0.25 * math.log(P[1]) + 0.25 * math.log(P[2]))
    assert _val(L.soft_cross_entropy(Z, soft)) == pytest.approx(expected, abs=1e-12)


def test_label_smoothing_by_hand():
    """Smoothing 0.3 over 3 classes targets (0.8, 0.1, 0.1)."""
    expected = -(0.8 * math.log(P[0]) + 0.1 * math.log(P[1]) + 0.1 * math.log(P[2]))
    assert _val(L.label_smoothing_loss(Z, Y0, smoothing=0.3)) == pytest.approx(expected, abs=1e-12)


def test_gce_by_hand():
    """GCE is (1 - p_y^q) / q; at q = 1 it is the MAE 1 - p_y."""
    assert _val(L.generalized_cross_entropy(Z, Y0, q=0.5)) == pytest.approx((1 - P[0] ** 0.5) / 0.5, abs=1e-9)
    assert _val(L.generalized_cross_entropy(Z, Y0, q=1.0)) == pytest.approx(1 - P[0], abs=1e-9)


def test_sce_by_hand():
    """SCE = alpha CE + beta RCE with RCE = -A (1 - p_y) for a hard label (A = log 0 := -4)."""
    expected = 0.1 * CE0 + 1.0 * 4.0 * (1 - P[0])
    assert _val(L.symmetric_cross_entropy(Z, Y0, alpha=0.1, beta=1.0)) == pytest.approx(expected, abs=1e-9)


def test_bootstrapping_by_hand():
    """Soft bootstrapping adds (1 - beta) times the entropy; hard mixes in the predicted class."""
    entropy = -sum(p * math.log(p) for p in P)
    got_soft = _val(L.bootstrapping_loss(Z, Y0, beta=0.95))
    assert got_soft == pytest.approx(0.95 * CE0 + 0.05 * entropy, abs=1e-9)
    got_hard = _val(L.hard_bootstrapping_loss(Z, Y1, beta=0.8))  # argmax is class 0
    assert got_hard == pytest.approx(-(0.8 * math.log(P[1]) + 0.2 * math.log(P[0])), abs=1e-9)


def test_elr_by_hand():
    """ELR: the running target moves to 0.3 p from zeros; the loss adds lam log(1 - <p, target>)."""
    ema = L.elr_update(torch.zeros_like(Z), Z, beta=0.7)
    np.testing.assert_allclose(ema.numpy()[0], 0.3 * np.array(P), atol=1e-9)
    expected = CE0 + 3.0 * math.log(1 - 0.3 * sum(p * p for p in P))
    assert _val(L.elr_loss(Z, Y0, ema, lam=3.0)) == pytest.approx(expected, abs=1e-9)


def test_forward_correction_by_hand():
    """Forward correction scores the noisy label under p T: -log(0.8 p_0 + 0.1 p_1)."""
    T = torch.tensor([[0.8, 0.2, 0.0], [0.1, 0.9, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    expected = -math.log(0.8 * P[0] + 0.1 * P[1])
    assert _val(L.forward_corrected_loss(Z, Y0, T)) == pytest.approx(expected, abs=1e-9)


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(64, 5, generator=g, dtype=torch.float64) * 2
    target = torch.softmax(torch.randn(64, 5, generator=g, dtype=torch.float64) * 3, dim=1)
    hard = torch.nn.functional.one_hot(torch.randint(0, 5, (64,), generator=g), 5).double()
    return logits, target, hard


def test_limits_reduce_to_cross_entropy(batch):
    """GCE q->0, SCE beta=0, bootstrapping beta=1, forward with T=I, smoothing 0 and ELR lam=0 equal CE."""
    logits, soft, hard = batch
    for target in (soft, hard):
        ce = L.soft_cross_entropy(logits, target)
        torch.testing.assert_close(L.generalized_cross_entropy(logits, target, q=0.0), ce)
        torch.testing.assert_close(
            L.generalized_cross_entropy(logits, target, q=1e-6), ce, atol=1e-4, rtol=1e-4
        )
        torch.testing.assert_close(L.symmetric_cross_entropy(logits, target, alpha=1.0, beta=0.0), ce)
        torch.testing.assert_close(L.bootstrapping_loss(logits, target, beta=1.0), ce)
        torch.testing.assert_close(L.hard_bootstrapping_loss(logits, target, beta=1.0), ce)
        torch.testing.assert_close(
            L.forward_corrected_loss(logits, target, torch.eye(5, dtype=torch.float64)),
            ce,
            atol=1e-6,
            rtol=1e-6,
        )
        torch.testing.assert_close(L.label_smoothing_loss(logits, target, smoothing=0.0), ce)
        ema = L.elr_update(torch.zeros_like(target), logits)
        torch.testing.assert_close(L.elr_loss(logits, target, ema, lam=0.0), ce)


def test_losses_are_per_item_and_differentiable(batch):
    """Every registered loss returns one finite value per item and a finite gradient."""
    logits, soft, _ = batch
    extra = {"elr": {"ema_target": torch.full_like(soft, 0.2)}, "forward": {"transition": torch.eye(5)}}
    for name, fn in L.LOSSES.items():
        z = logits.clone().requires_grad_(True)
        out = fn(z, soft, **extra.get(name, {}))
        assert out.shape == (64,), name
        out.sum().backward()
        assert torch.isfinite(out).all() and torch.isfinite(z.grad).all(), name


def test_robust_losses_bound_the_loss_of_a_confident_mistake():
    """On a confident mistake CE grows without bound while GCE (q=0.7) and SCE's RCE stay bounded."""
    wrong = torch.tensor([[0.0, 30.0]], dtype=torch.float64)
    target = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    assert _val(L.soft_cross_entropy(wrong, target)) > 29
    assert _val(L.generalized_cross_entropy(wrong, target, q=0.7)) <= 1 / 0.7
    assert _val(L.symmetric_cross_entropy(wrong, target, alpha=0.0, beta=1.0)) <= 4.0 + 1e-12
