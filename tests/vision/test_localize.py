"""Localisation from image-level labels: CAM, Grad-CAM, boxes, seeds, refinement and self-training."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import NotFittedError, ValidationError
from weaklab.vision import (
    IGNORE,
    CAMClassifier,
    SegmentationNet,
    box_iou,
    box_to_mask,
    cam_to_box,
    cam_to_seeds,
    constrained_labels,
    corloc,
    grad_cam,
    mask_to_box,
    max_box_acc,
    mean_iou,
    refine_seeds,
    self_train_segmentation,
)


def blob_images(n: int = 48, size: int = 24, seed: int = 0):
    """Dark noisy images; class 1 images hold one bright 6x6 square at a random place (its box known)."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n, size, size)) * 0.2).astype(np.float32)
    y = np.arange(n) % 2
    boxes = []
    for i in range(n):
        x0, y0 = (int(v) for v in rng.integers(0, size - 6, 2))
        if y[i]:
            X[i, y0:y0 + 6, x0:x0 + 6] = 1.0
        boxes.append((x0, y0, x0 + 6, y0 + 6))
    return X, y, boxes


@pytest.mark.parametrize("seed", range(5))
def test_cam_to_box_recovers_a_rectangle_among_weaker_spots(seed):
    """A rectangle of high values among smaller, weaker blobs comes back exactly as its box."""
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(10, 40, 2))
    cam = rng.random((h, w)) * 0.1
    x0, y0 = int(rng.integers(0, w - 3)), int(rng.integers(0, h - 3))
    x1, y1 = int(rng.integers(x0 + 2, w + 1)), int(rng.integers(y0 + 2, h + 1))
    cam[y0:y1, x0:x1] = 1.0 + rng.random((y1 - y0, x1 - x0))
    assert cam_to_box(cam, 0.5) == (x0, y0, x1, y1)
    assert cam_to_box(cam * 7.0, 0.5) == (x0, y0, x1, y1)          # scale invariant
    assert cam_to_box(cam, 0.0) == (0, 0, w, h)                     # threshold 0 keeps everything


def test_cam_to_box_keeps_the_largest_component_and_handles_flat_maps():
    """Of two separate regions above threshold the larger gives the box; a non-positive map gives the image."""
    cam = np.zeros((20, 20))
    cam[1:3, 1:3] = 1.0
    cam[10:18, 5:15] = 0.8
    assert cam_to_box(cam) == (5, 10, 15, 18)
    assert cam_to_box(np.zeros((5, 7))) == (0, 0, 7, 5)
    with pytest.raises(ValidationError, match="threshold"):
        cam_to_box(cam, 1.5)
    with pytest.raises(ValidationError, match="cam"):
        cam_to_box(np.zeros(5))


def test_box_iou_corloc_and_maxboxacc_on_known_boxes():
    """IoU is symmetric and 1 on itself; CorLoc counts hits; MaxBoxAcc is the best of its sweep."""
    a, b = (0, 0, 10, 10), (5, 0, 15, 10)
    assert box_iou(a, a) == 1.0 and box_iou(a, b) == box_iou(b, a) == pytest.approx(50 / 150)
    assert box_iou(a, (20, 20, 30, 30)) == 0.0
    assert corloc([a, b], [[a], [(40, 40, 50, 50), b]]) == 1.0
    assert corloc([a], [[b]], iou=0.3) == 1.0 and corloc([a], [[b]], iou=0.5) == 0.0
    cam = np.full((30, 30), 0.4)
    cam[5:15, 5:15] = 1.0
    acc, t, accs = max_box_acc([cam], [[(5, 5, 15, 15)]], thresholds=[0.2, 0.6])
    assert acc == 1.0 and t == 0.6 and accs.tolist() == [0.0, 1.0]


def test_box_to_mask_and_mask_to_box_round_trip():
    """A bright shape in a box becomes the mask; the mask's box is the shape's box."""
    img = np.zeros((20, 20))
    img[4:9, 6:12] = 1.0
    m = box_to_mask(img, (3, 2, 15, 12))
    assert m.sum() == 30 and mask_to_box(m) == (6, 4, 12, 9)
    with pytest.raises(ValidationError, match="box"):
        box_to_mask(img, (5, 5, 3, 8))


def test_cam_classifier_localises_squares_and_grad_cam_agrees():
    """A GAP CNN trained on image labels only puts boxes on the squares; Grad-CAM of the last conv layer
    is the CAM up to a positive scale where the CAM is positive."""
    pytest.importorskip("torch")
    X, y, boxes = blob_images(64)
    model = CAMClassifier(widths=(8, 16), n_pool=1, batch_norm=False, max_epochs=12, lr=5e-3, batch_size=32,
                          random_state=0).fit(X, y)
    pos = np.flatnonzero(y == 1)
    cams = model.class_activation_maps(X[pos])[:, 1]
    hits = corloc([cam_to_box(c, 0.5) for c in cams], [[boxes[i]] for i in pos], iou=0.3)
    assert hits >= 0.8
    P = model.predict_proba(X)
    assert P.shape == (64, 2) and np.allclose(P.sum(axis=1), 1)
    g = grad_cam(model.network_, X[pos[:4]], 1, model.network_.features)
    c = np.clip(cams[:4], 0, None)
    for gi, ci in zip(g, c):
        assert np.corrcoef(gi.ravel(), ci.ravel())[0, 1] > 0.99


def test_cam_seeds_respect_thresholds_and_image_labels():
    """Seeds: a present class's high-CAM pixels, background where every present map is low, ignore
    between; absent classes never seed."""
    cams = np.zeros((1, 3, 4, 4))
    cams[0, 0, 0, :] = 1.0            # class 0 is absent from the image
    cams[0, 2, 3, :] = [0.05, 0.3, 0.8, 1.0]
    s = cam_to_seeds(cams, [[0, 0, 1]], fg_threshold=0.5, bg_threshold=0.1)[0]
    assert s[3].tolist() == [0, IGNORE, 3, 3]
    assert np.all(s[:3] == 0)
    with pytest.raises(ValidationError, match="bg_threshold"):
        cam_to_seeds(cams, [[0, 0, 1]], fg_threshold=0.2, bg_threshold=0.5)
    with pytest.raises(ValidationError, match="image_labels"):
        cam_to_seeds(cams, [[0, 1]])


def test_refine_seeds_snaps_blobby_seeds_to_the_object():
    """Blobby CAM seeds around a bright shape are refined to the shape: better mIoU than the seeds."""
    img = np.zeros((2, 24, 24))
    truth = np.zeros((2, 24, 24), int)
    img[0, 6:14, 8:11] = 1.0
    truth[0, 6:14, 8:11] = 1
    img[1, 10:13, 4:20] = 0.9
    truth[1, 10:13, 4:20] = 2
    seeds = np.zeros_like(truth)
    seeds[0, 4:16, 5:14] = 1
    seeds[1, 8:15, 2:22] = 2
    seeds[:, 16:, :] = IGNORE
    labels = np.array([[1, 0], [0, 1]])
    refined = refine_seeds(img, seeds, labels)
    assert mean_iou(refined, truth, 3)[0] > mean_iou(seeds, truth, 3)[0] + 0.2
    assert mean_iou(refined, truth, 3)[0] > 0.9
    assert not np.any(refined[0] == 2) and not np.any(refined[1] == 1)   # only classes in the image


def test_segmentation_net_self_training_and_constrained_e_step():
    """Self-training from partial seeds labels every pixel of new images; the E-step drops absent classes."""
    pytest.importorskip("torch")
    X, y, boxes = blob_images(32, size=16)
    truth = np.zeros(X.shape, int)
    seeds = np.full(X.shape, IGNORE)
    for i in np.flatnonzero(y == 1):
        x0, y0, x1, y1 = boxes[i]
        truth[i, y0:y1, x0:x1] = 1
        seeds[i, y0 + 1:y1 - 1, x0 + 1:x1 - 1] = 1
    seeds[X < 0.15] = 0
    present = y[:, None]
    model, history = self_train_segmentation(X, present, seeds, rounds=2, epochs_per_round=8,
                                             random_state=0, width=16, lr=3e-3, batch_size=4)
    assert len(history) == 2 and np.mean(history[1] >= 0) > np.mean(history[0] >= 0)
    assert mean_iou(model.predict(X), truth, 2)[0] > 0.6
    P = model.predict_proba(X[:2])
    assert P.shape == (2, 2, 16, 16) and np.allclose(P.sum(axis=1), 1, atol=1e-5)
    labels = constrained_labels(P, np.zeros((2, 1), int))
    assert np.all(labels == 0)
    with pytest.raises(NotFittedError):
        SegmentationNet(n_classes=2).predict(X)
    with pytest.raises(ValidationError, match="label_maps"):
        SegmentationNet(n_classes=2).fit(X, np.full(X.shape, 5))


def test_mean_iou_ignores_unlabelled_truth():
    """mIoU: perfect on identical maps; ignored truth pixels do not count; absent classes are left out."""
    t = np.array([[0, 1, 1, IGNORE]])
    assert mean_iou(t, t, 3)[0] == 1.0
    assert mean_iou(np.array([[0, 1, 0, 1]]), t, 3)[0] == pytest.approx((0.5 + 0.5) / 2)
