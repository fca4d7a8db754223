"""Image labeling functions: a pre-labeller trained on a small seed set, and model LFs on image features.

Tables of image items (:func:`weaklab.data.load_image_table` and friends)
hold an ``image`` column of references plus metadata; keyword and regex LFs
read the metadata columns as usual (``keyword_lf(["sneaker"], SHOE,
field="caption")``), and the LFs here decode the images of each batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._core.validation import check_float, fail
from ..features import CNNEmbedder, ImageFeaturizer
from ..features.image_field import IMAGE
from .lf import LabelingFunction
from .templates import model_lf

__all__ = ["seed_lf", "image_model_lf"]


def image_model_lf(estimator: Any, *, transform: Callable[[np.ndarray], Any] | None = None, field: str = IMAGE,
                   size: Sequence[int] | None = None, mode: str = "L", root: str | os.PathLike[str] | None = None,
                   threshold: float = 0.5, name: str | None = None,
                   classes: Mapping[Any, int] | Iterable[int] | None = None) -> LabelingFunction:
    """:func:`weaklab.model_lf` on features of the decoded images of each batch.

    Parameters
    ----------
    estimator : fitted estimator
        With ``predict_proba`` and ``classes_``, fitted on
        ``transform(images)`` (or on float ``(n, C, H, W)`` images when
        ``transform`` is None).
    transform : callable, optional
        ``transform(uint8 images) -> X``, e.g.
        :func:`weaklab.features.pixel_statistics`.
    field, size, mode, root
        Where and how the images are decoded (see
        :class:`weaklab.features.ImageFeaturizer`; in a project's LF module,
        ``field`` and ``root`` default to its picture column and data folder).
    threshold : float, default=0.5
        Vote only when the top class probability is ``>= threshold``.
    name : str, optional
    classes : dict or sequence of int, optional
        Class id per ``estimator.classes_`` (see :func:`weaklab.model_lf`).

    Returns
    -------
    LabelingFunction

    Examples
    --------
    >>> import tempfile, os
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.features import pixel_statistics
    >>> px = np.zeros((6, 8, 8), np.uint8); px[3:, 2:6, 2:6] = 255
    >>> f = os.path.join(tempfile.mkdtemp(), "d.npz"); np.savez(f, images=px)
    >>> clf = LogisticRegression().fit(pixel_statistics(px), [0, 0, 0, 1, 1, 1])
    >>> lf = image_model_lf(clf, transform=pixel_statistics, name="ink")
    >>> lf.batch_votes(pd.DataFrame({"image": [f + "#0", f + "#5"]})).tolist()
    [0, 1]
    """
    featurizer = ImageFeaturizer(transform, field=field, size=size, mode=mode, root=root)
    default = f"image_model_{type(estimator).__name__}"
    return model_lf(estimator, featurizer=featurizer, threshold=threshold, name=name or default, classes=classes)


def seed_lf(seed_images: Any, seed_labels: Any, *, estimator: Any = None,
            transform: Callable[[np.ndarray], Any] | None = None, threshold: float = 0.9, field: str = IMAGE,
            size: Sequence[int] | None = None, mode: str = "L", root: str | os.PathLike[str] | None = None,
            name: str | None = None, random_state: Any = 0) -> LabelingFunction:
    """A pre-labeller trained on a small labelled seed set that votes only when confident.

    A copy of ``estimator`` (default: a small :class:`~weaklab.features.CNNEmbedder`
    trained from scratch on the pixels, or, with a ``transform``, logistic
    regression on its standardised features) is fitted on the seed images; the LF then votes
    its most probable class on items where that probability is at least
    ``threshold`` and abstains elsewhere, the "fast pre-labeller" of
    web-scale image labelling. Seed items are gold: keep them out of the
    evaluation split.

    Parameters
    ----------
    seed_images : array-like
        Decoded seed images, uint8 ``(n, H, W[, C])`` (e.g.
        ``ImageItems.pixels(rows)``), decoded the same way as ``field``,
        ``size`` and ``mode`` decode the items.
    seed_labels : array-like of shape (n,)
        Class ids ``0..k-1`` of the seed images.
    estimator : estimator, optional
        Unfitted, with ``fit`` and ``predict_proba``; it is cloned. Default
        ``CNNEmbedder(random_state=random_state)`` on the pixels; with a
        ``transform`` (whose features a CNN cannot read),
        ``make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))``.
    transform : callable, optional
        ``transform(uint8 images) -> X`` applied to seed images and items
        (e.g. ``pixel_statistics`` for a scikit-learn estimator).
    threshold : float in [0, 1], default=0.9
    field, size, mode, root
        How each batch's images are decoded (see :class:`~weaklab.features.ImageFeaturizer`;
        in a project's LF module, ``field`` and ``root`` default to its picture column and data folder).
    name : str, optional
        Default ``"seed_<Estimator>"``.
    random_state : int, Generator or None, default=0
        Seeds the default estimator.

    Returns
    -------
    LabelingFunction

    Examples
    --------
    >>> import tempfile, os
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> px = rng.integers(0, 50, (40, 12, 12)).astype(np.uint8); y = np.arange(40) % 2
    >>> px[y == 1, 3:9, 3:9] = 255
    >>> f = os.path.join(tempfile.mkdtemp(), "d.npz"); np.savez(f, images=px)
    >>> small = CNNEmbedder(channels=(8,), dim=8, n_epochs=50, lr=1e-2)
    >>> lf = seed_lf(px[:20], y[:20], estimator=small, threshold=0.6)
    >>> votes = lf.batch_votes(pd.DataFrame({"image": [f"{f}#{i}" for i in range(20, 40)]}))
    >>> bool(np.mean(votes[votes >= 0] == y[20:][votes >= 0]) > 0.9)
    True
    """
    threshold = check_float("threshold", threshold, low=0.0, high=1.0)
    labels = np.asarray(seed_labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or (labels.size and labels.min() < 0):
        raise fail("seed_labels", "class ids 0..k-1, shape (n,)", labels)
    images = np.asarray(seed_images)
    if images.shape[:1] != labels.shape:
        raise fail("seed_images", f"{labels.size} images (one per seed label)", got_text=f"shape {images.shape}")
    if estimator is None and transform is None:
        model = CNNEmbedder(random_state=random_state)
    elif estimator is None:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    elif callable(getattr(estimator, "fit", None)):
        model = clone(estimator)
    else:
        raise fail("estimator", "an unfitted estimator with fit and predict_proba, or None", estimator)
    model.fit(images if transform is None else transform(images), labels)
    final = model.steps[-1][1] if hasattr(model, "steps") else model  # a pipeline is named by its estimator
    default = f"seed_{type(final).__name__}"
    return image_model_lf(model, transform=transform, field=field, size=size, mode=mode, root=root,
                          threshold=threshold, name=name or default)
