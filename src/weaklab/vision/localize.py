"""From activation maps to boxes, and how good the boxes are (pure numpy / scipy.ndimage).

Boxes are ``(x0, y0, x1, y1)`` in pixels, half-open: columns ``x0 .. x1-1`` and rows ``y0 .. y1-1``, so a
box's width is ``x1 - x0``. ``x`` is the column (second axis), ``y`` the row (first axis).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from .._core.validation import check_float, fail

__all__ = ["cam_to_box", "box_iou", "corloc", "max_box_acc", "box_to_mask", "mask_to_box"]

Box = tuple[int, int, int, int]


def _check_map(cam: Any, name: str = "cam") -> np.ndarray:
    arr = np.asarray(cam, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise fail(name, "a finite 2-d (h, w) map", arr)
    return arr


def mask_to_box(mask: Any) -> Box:
    """Tight half-open box around the True pixels of a 2-d mask (the whole image if none).

    Parameters
    ----------
    mask : array-like of shape (h, w)
        Boolean mask.

    Returns
    -------
    tuple of 4 int
        ``(x0, y0, x1, y1)``, half-open.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((5, 6), bool); m[1:3, 2:5] = True
    >>> mask_to_box(m)
    (2, 1, 5, 3)
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2:
        raise fail("mask", "a 2-d boolean mask", m)
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    if len(rows) == 0:
        return (0, 0, m.shape[1], m.shape[0])
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def cam_to_box(cam: Any, threshold: float = 0.2) -> Box:
    """Box around the largest connected region of a map above ``threshold * max`` (Zhou et al. 2016).

    Pixels with ``cam >= threshold * cam.max()`` are kept; of their 8-connected components
    (``scipy.ndimage.label``) the largest (ties: the one holding the maximum) gives the box. A map whose
    maximum is not positive gives the whole image.

    Parameters
    ----------
    cam : array-like of shape (h, w)
        Activation map (any scale).
    threshold : float, default 0.2
        Fraction of the map's maximum, in [0, 1].

    Returns
    -------
    tuple of int
        ``(x0, y0, x1, y1)``, half-open.

    Examples
    --------
    >>> import numpy as np
    >>> cam = np.zeros((10, 10)); cam[2:5, 3:8] = 1.0; cam[8, 8] = 0.9
    >>> cam_to_box(cam)
    (3, 2, 8, 5)
    """
    arr = _check_map(cam)
    t = check_float("threshold", threshold, low=0.0, high=1.0)
    top = arr.max()
    if top <= 0:
        return (0, 0, arr.shape[1], arr.shape[0])
    labels, n = ndimage.label(arr >= t * top, structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    sizes[0] = -1
    best = int(np.argmax(sizes))
    peak = labels.flat[int(np.argmax(arr))]
    if sizes[peak] == sizes[best]:
        best = int(peak)
    return mask_to_box(labels == best)


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two half-open boxes ``(x0, y0, x1, y1)``.

    Parameters
    ----------
    a, b : sequence of 4 float
        Boxes ``(x0, y0, x1, y1)``, half-open.

    Returns
    -------
    float
        Intersection over union, in ``[0, 1]``.

    Examples
    --------
    >>> box_iou((0, 0, 4, 4), (2, 0, 6, 4))
    0.3333333333333333
    """
    ax0, ay0, ax1, ay1 = (float(v) for v in a)
    bx0, by0, bx1, by1 = (float(v) for v in b)
    iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
    ih = max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return inter / union if union > 0 else 0.0


def _hits(pred: Sequence[Sequence[float]], truth: Sequence[Sequence[Sequence[float]]], iou: float) -> np.ndarray:
    if len(pred) != len(truth):
        raise fail("gt_boxes", f"one list of boxes per predicted box ({len(pred)})", got_text=f"{len(truth)}")
    return np.array([max((box_iou(p, g) for g in gts), default=0.0) >= iou for p, gts in zip(pred, truth)])


def corloc(pred_boxes: Sequence[Sequence[float]], gt_boxes: Sequence[Sequence[Sequence[float]]],
           iou: float = 0.5) -> float:
    """Correct localisation: the fraction of predicted boxes whose IoU with some true box is at least ``iou``.

    Parameters
    ----------
    pred_boxes : sequence of boxes
        One predicted box per (image, class present) case.
    gt_boxes : sequence of sequences of boxes
        The true boxes of that class in that image (any number).
    iou : float, default 0.5

    Returns
    -------
    float

    Examples
    --------
    >>> corloc([(0, 0, 4, 4), (0, 0, 2, 2)], [[(0, 0, 4, 5)], [(5, 5, 9, 9)]])
    0.5
    """
    t = check_float("iou", iou, low=0.0, high=1.0)
    return float(np.mean(_hits(pred_boxes, gt_boxes, t))) if len(pred_boxes) else float("nan")


def max_box_acc(
    cams: Sequence[Any],
    gt_boxes: Sequence[Sequence[Sequence[float]]],
    *,
    thresholds: Any = None,
    iou: float = 0.5,
) -> tuple[float, float, np.ndarray]:
    """MaxBoxAcc (Choe et al. 2020): box accuracy at the best of a sweep of CAM thresholds.

    For every threshold, each map gives a box (:func:`cam_to_box`); the accuracy is the fraction with
    IoU >= ``iou`` against a true box; the best accuracy over the sweep is reported with its threshold.
    Choe et al. sweep the threshold on held-out data with boxes; sweeping it on the test maps (as this
    function does when given them) measures the maps, not a deployable threshold.

    Parameters
    ----------
    cams : sequence of (h, w) arrays
        One map per (image, class present) case.
    gt_boxes : sequence of sequences of boxes
        The true boxes for each map.
    thresholds : array-like, optional
        Default ``np.arange(0.05, 1.0, 0.05)``.
    iou : float, default 0.5

    Returns
    -------
    best_accuracy : float
    best_threshold : float
    accuracies : ndarray
        Accuracy at every threshold.

    Examples
    --------
    >>> import numpy as np
    >>> cam = np.zeros((10, 10)); cam[2:6, 2:6] = 1.0; cam[0:10, 0:10] += 0.3
    >>> acc, t, _ = max_box_acc([cam], [[(2, 2, 6, 6)]])
    >>> acc, t > 0.3 / 1.3
    (1.0, True)
    """
    ts = np.arange(0.05, 1.0, 0.05) if thresholds is None else np.asarray(thresholds, dtype=np.float64).ravel()
    if ts.size == 0 or np.any((ts < 0) | (ts > 1)):
        raise fail("thresholds", "a non-empty array of values in [0, 1]", ts)
    t_iou = check_float("iou", iou, low=0.0, high=1.0)
    maps = [_check_map(c, f"cams[{i}]") for i, c in enumerate(cams)]
    accs = np.array([np.mean(_hits([cam_to_box(m, float(t)) for m in maps], gt_boxes, t_iou)) for t in ts])
    best = int(np.argmax(accs))
    return float(accs[best]), float(ts[best]), accs


def box_to_mask(image: Any, box: Sequence[int], *, min_fraction: float = 0.5, inside: float = 0.15) -> np.ndarray:
    """A pseudo mask from a box (the BoxSup idea): the box's pixels that stand out from its border.

    Pixels inside the box whose value differs from the median of the box's one-pixel border by more than
    ``inside`` times the image's value range are foreground; if that keeps less than 1 % of the box the
    whole box is returned, and the mask is cut back to the largest connected region plus regions of at
    least ``min_fraction`` of its size.

    Parameters
    ----------
    image : array-like of shape (h, w) or (c, h, w)
        The image (channels are averaged).
    box : (x0, y0, x1, y1)
        Half-open box.
    min_fraction : float, default 0.5
        Other connected regions kept when at least this fraction of the largest.
    inside : float, default 0.15
        Contrast to the border, as a fraction of the image's range.

    Returns
    -------
    ndarray of bool, shape (h, w)

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((8, 8)); img[2:5, 3:6] = 1.0
    >>> int(box_to_mask(img, (1, 1, 7, 7)).sum())
    9
    """
    img = np.asarray(image, dtype=np.float64)
    img = img.mean(axis=0) if img.ndim == 3 else img
    if img.ndim != 2:
        raise fail("image", "a (h, w) or (c, h, w) image", img)
    x0, y0, x1, y1 = (int(v) for v in box)
    if not (0 <= x0 < x1 <= img.shape[1] and 0 <= y0 < y1 <= img.shape[0]):
        raise fail("box", f"(x0, y0, x1, y1) inside the {img.shape[1]}x{img.shape[0]} image with x0<x1, y0<y1", box)
    crop = img[y0:y1, x0:x1]
    border = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]])
    span = max(float(np.ptp(img)), 1e-12)
    fg = np.abs(crop - np.median(border)) > inside * span
    if fg.sum() < 0.01 * fg.size:
        fg = np.ones_like(fg)
    labels, n = ndimage.label(fg, structure=np.ones((3, 3), bool))
    if n > 1:
        sizes = np.bincount(labels.ravel())[1:]
        fg = np.isin(labels, 1 + np.flatnonzero(sizes >= min_fraction * sizes.max()))
    out = np.zeros(img.shape, bool)
    out[y0:y1, x0:x1] = fg
    return out
