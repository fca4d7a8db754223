"""Segmentation seeds from class activation maps, and their refinement on image affinities.

Label maps use 0 for background, ``c + 1`` for class ``c`` and :data:`IGNORE` (-1) for pixels without a
label. Both functions are pure numpy/scipy and work image by image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from .._core.validation import check_float, check_int, fail

__all__ = ["IGNORE", "cam_to_seeds", "refine_seeds"]

#: Label of unlabelled pixels in seed and label maps.
IGNORE = -1


def _present(image_labels: Any, n: int, k: int) -> np.ndarray:
    arr = np.asarray(image_labels)
    if arr.shape != (n, k) or not np.all(np.isin(arr, (0, 1))):
        raise fail("image_labels", f"a multi-hot (n, n_classes) = ({n}, {k}) 0/1 matrix", arr)
    return arr.astype(bool)


def cam_to_seeds(cams: Any, image_labels: Any, *, fg_threshold: float = 0.4, bg_threshold: float = 0.1) -> np.ndarray:
    """Seed label maps from class activation maps and image-level labels.

    Each present class's map is clipped at 0 and divided by its maximum. A pixel is a seed of class ``c``
    when the largest normalised map among the present classes is at least ``fg_threshold`` (``c`` the
    argmax), background when it is below ``bg_threshold``, and ignored (:data:`IGNORE`) in between.
    Classes absent from the image never get seeds.

    Parameters
    ----------
    cams : array-like of shape (n, n_classes, h, w)
        Class activation maps.
    image_labels : array-like of shape (n, n_classes)
        Multi-hot image-level labels.
    fg_threshold : float, default 0.4
        Foreground threshold, a fraction of each map's maximum.
    bg_threshold : float, default 0.1
        Background threshold (<= ``fg_threshold``).

    Returns
    -------
    ndarray of int16, shape (n, h, w)
        0 background, ``c + 1`` class ``c``, -1 ignore.

    Examples
    --------
    >>> import numpy as np
    >>> cams = np.zeros((1, 2, 1, 4)); cams[0, 1] = [0.0, 0.2, 0.9, 1.0]
    >>> cam_to_seeds(cams, [[0, 1]]).tolist()
    [[[0, -1, 2, 2]]]
    """
    C = np.asarray(cams, dtype=np.float64)
    if C.ndim != 4:
        raise fail("cams", "an (n, n_classes, h, w) array of maps", C)
    present = _present(image_labels, C.shape[0], C.shape[1])
    hi = check_float("fg_threshold", fg_threshold, low=0.0, high=1.0)
    lo = check_float("bg_threshold", bg_threshold, low=0.0, high=hi)
    C = np.clip(C, 0.0, None)
    top = C.max(axis=(2, 3), keepdims=True)
    norm = np.where(top > 0, C / np.where(top > 0, top, 1.0), 0.0)
    norm[~present] = -1.0
    best = norm.max(axis=1)
    seeds = np.full(best.shape, IGNORE, dtype=np.int16)
    seeds[best >= hi] = (norm.argmax(axis=1) + 1)[best >= hi]
    seeds[best < lo] = 0
    return seeds


def _intensity(image: np.ndarray) -> np.ndarray:
    img = image.mean(axis=0) if image.ndim == 3 else image
    span = np.ptp(img)
    return (img - img.min()) / span if span > 0 else np.zeros_like(img)


def _unaries(inten: np.ndarray, seeds: np.ndarray, labels: np.ndarray, bins: int, reach: int) -> np.ndarray:
    idx = np.minimum((inten * bins).astype(int), bins - 1)
    out = np.empty((len(labels), *inten.shape))
    for j, lab in enumerate(labels):
        hist = np.bincount(idx[seeds == lab], minlength=bins) + 1.0
        out[j] = np.log(hist / hist.sum())[idx]
        if lab != 0:
            near = ndimage.binary_dilation(seeds == lab, iterations=reach) if reach > 0 else seeds == lab
            out[j][~near] = -np.inf
    return out


def _mean_field(unary: np.ndarray, inten: np.ndarray, weight: float, sigma: float, iterations: int) -> np.ndarray:
    aff = {}
    for axis in (0, 1):
        diff = np.diff(inten, axis=axis)
        aff[axis] = weight * np.exp(-(diff**2) / (2 * sigma**2))
    Q = _softmax(unary)
    for _ in range(iterations):
        msg = np.zeros_like(Q)
        for axis, a in aff.items():
            lo = [slice(None)] * 3
            hi = [slice(None)] * 3
            lo[axis + 1], hi[axis + 1] = slice(None, -1), slice(1, None)
            msg[tuple(lo)] += a * Q[tuple(hi)]
            msg[tuple(hi)] += a * Q[tuple(lo)]
        Q = _softmax(unary + msg)
    return Q


def _softmax(z: np.ndarray) -> np.ndarray:
    finite = np.where(np.isfinite(z), z, -1e9)
    e = np.exp(finite - finite.max(axis=0, keepdims=True)) * np.isfinite(z)
    return e / np.maximum(e.sum(axis=0, keepdims=True), 1e-300)


def refine_seeds(
    images: Any,
    seeds: Any,
    image_labels: Any,
    *,
    bins: int = 16,
    reach: int = 3,
    smoothness: float = 2.0,
    sigma: float = 0.1,
    iterations: int = 5,
    min_confidence: float = 0.6,
) -> np.ndarray:
    """Seed-expand-constrain-style refinement: seeds grown over the image by appearance and affinity.

    For every image, each allowed label (background, and the classes in ``image_labels``) gets an
    intensity histogram from its seed pixels; a class may only claim pixels within ``reach`` pixels of
    its own seeds (the constraint from the maps), background may claim any pixel. A few mean-field steps
    of a CRF with those unaries and 4-neighbour affinities ``smoothness * exp(-dI^2 / 2 sigma^2)`` (strong
    between similar neighbours, weak across edges) spread the labels over regions of similar intensity
    and stop at edges; pixels whose posterior stays below ``min_confidence`` are :data:`IGNORE`.

    Parameters
    ----------
    images : array-like of shape (n, h, w) or (n, c, h, w)
        The images (channels averaged; each image rescaled to [0, 1]).
    seeds : array-like of int, shape (n, h, w)
        Seed maps from :func:`cam_to_seeds`.
    image_labels : array-like of shape (n, n_classes)
        Multi-hot image-level labels.
    bins : int, default 16
        Histogram bins of the appearance models.
    reach : int, default 3
        How far (pixels, dilation steps) a class may grow beyond its seeds.
    smoothness : float, default 2.0
        Weight of the pairwise term.
    sigma : float, default 0.1
        Intensity scale of the affinities.
    iterations : int, default 5
        Mean-field steps.
    min_confidence : float, default 0.6
        Posterior below which a pixel is ignored.

    Returns
    -------
    ndarray of int16, shape (n, h, w)
        Refined label maps (0 background, ``c + 1`` class ``c``, -1 ignore).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((1, 8, 8)); img[0, 2:6, 2:6] = 1.0
    >>> seeds = np.zeros((1, 8, 8), int); seeds[0, 1:5, 1:5] = 1; seeds[0, 5:, :] = -1
    >>> out = refine_seeds(img, seeds, [[1]])
    >>> int((out[0] == 1).sum()), int(out[0, 5, 5])
    (16, 1)
    """
    X = np.asarray(images, dtype=np.float64)
    S = np.asarray(seeds)
    if X.ndim not in (3, 4) or S.shape != (X.shape[0], *X.shape[-2:]):
        raise fail("seeds", f"an (n, h, w) label map per image, shape {(X.shape[0], *X.shape[-2:])}", S)
    present = np.asarray(image_labels).astype(bool)
    if present.ndim != 2 or len(present) != len(X):
        raise fail("image_labels", f"a multi-hot ({len(X)}, n_classes) matrix", present)
    n_bins = check_int("bins", bins, low=2)
    conf = check_float("min_confidence", min_confidence, low=0.0, high=1.0)
    out = np.full(S.shape, IGNORE, dtype=np.int16)
    for i in range(len(X)):
        inten = _intensity(X[i])
        labels = np.concatenate([[0], 1 + np.flatnonzero(present[i])])
        unary = _unaries(inten, S[i], labels, n_bins, check_int("reach", reach, low=0))
        Q = _mean_field(unary, inten, float(smoothness), float(sigma), check_int("iterations", iterations, low=0))
        best = Q.argmax(axis=0)
        out[i] = np.where(Q.max(axis=0) >= conf, labels[best], IGNORE)
    return out
