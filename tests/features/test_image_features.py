"""Image features: pixel statistics, the image featurizer of table batches, and the seed-set CNN embedder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab import NotFittedError, ValidationError, fingerprint
from weaklab.features import PIXEL_STATISTICS, ImageFeaturizer, as_image_batch, pixel_statistics


def test_pixel_statistics_measure_ink_box_and_centre():
    """A known square gives its ink share, box size, centre and grid cell means."""
    img = np.zeros((1, 8, 8), np.uint8)
    img[0, 0:4, 0:2] = 255
    f = dict(zip(PIXEL_STATISTICS, pixel_statistics(img)[0]))
    assert f["ink"] == pytest.approx(8 / 64)
    assert (f["box_height"], f["box_width"]) == (pytest.approx(0.5), pytest.approx(0.25))
    assert f["centre_row"] < 0.3 and f["centre_col"] < 0.1
    assert f["grid_0_0"] == pytest.approx(1.0) and f["grid_3_3"] == 0.0
    assert pixel_statistics(np.zeros((0, 8, 8), np.uint8)).shape == (0, len(PIXEL_STATISTICS))


def test_pixel_statistics_separate_bar_orientations(bar_images):
    """Box height and width tell horizontal from vertical bars on every image."""
    X, y = bar_images(20)
    f = pixel_statistics(X)
    h, w = PIXEL_STATISTICS.index("box_height"), PIXEL_STATISTICS.index("box_width")
    assert np.array_equal(f[:, h] > f[:, w], y == 1)


def test_colour_and_grey_images_share_the_batch_layout():
    """(n, H, W) and (n, H, W, 3) become float (n, C, H, W) in [0, 1]; bad pixels are rejected."""
    grey = np.full((2, 4, 5), 255, np.uint8)
    assert as_image_batch(grey).shape == (2, 1, 4, 5) and as_image_batch(grey).max() == 1.0
    assert as_image_batch(np.zeros((2, 4, 5, 3), np.uint8)).shape == (2, 3, 4, 5)
    with pytest.raises(ValidationError, match="images"):
        as_image_batch(np.full((1, 4, 4), 2.0))


def test_image_featurizer_reads_the_image_column(bar_images, tmp_path):
    """The featurizer decodes a batch's references; a missing column is an error naming field."""
    X, _ = bar_images(4)
    np.savez(tmp_path / "b.npz", images=X)
    df = pd.DataFrame({"image": [f"{tmp_path / 'b.npz'}#{i}" for i in (2, 0)]})
    assert np.array_equal(ImageFeaturizer(pixel_statistics)(df), pixel_statistics(X[[2, 0]]))
    assert ImageFeaturizer()(df).shape == (2, 1, 28, 28)
    with pytest.raises(ValidationError, match="field"):
        ImageFeaturizer(field="img")(df)


def test_cnn_embedder_learns_seed_classes_deterministically(bar_images):
    """Trained on 24 seed images, the embedder separates held-out bars; equal seeds give equal weights."""
    pytest.importorskip("torch")
    from weaklab.features import CNNEmbedder

    X, y = bar_images(48)
    params = dict(channels=(8,), dim=8, n_epochs=25, batch_size=8, lr=1e-2, random_state=0)
    a = CNNEmbedder(**params).fit(X[:24], y[:24])
    b = CNNEmbedder(**params).fit(X[:24], y[:24])
    assert fingerprint(a) == fingerprint(b)
    assert a.transform(X[24:]).shape == (24, 8)
    assert np.mean(a.predict(X[24:]) == y[24:]) >= 0.9
    np.testing.assert_allclose(a.predict_proba(X[24:]).sum(axis=1), 1.0)
    with pytest.raises(NotFittedError):
        CNNEmbedder().transform(X)
    with pytest.raises(ValidationError, match="images"):
        a.transform(np.zeros((2, 14, 14), np.uint8))
