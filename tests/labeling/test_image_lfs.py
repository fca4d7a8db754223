"""Image LFs go through apply_lfs into a LabelMatrix: caption keywords, model LFs on pixels, a seed pre-labeller."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from weaklab import ABSTAIN, ValidationError, apply_lfs, image_model_lf, keyword_lf, load_image_table, seed_lf
from weaklab.features import pixel_statistics

pytest.importorskip("PIL")



@pytest.fixture
def items(bar_images, tmp_path):
    X, y = bar_images(40)
    np.savez(tmp_path / "bars.npz", images=X)
    captions = np.where(y == 0, "a flat bar", "a tall pillar").astype(object)
    captions[::5] = None  # missing captions
    pd.DataFrame({"image": [f"bars.npz#{i}" for i in range(40)], "caption": captions,
                  "label": y}).to_csv(tmp_path / "items.csv", index=False)
    return load_image_table(tmp_path / "items.csv", label_column="label"), X, y


def test_caption_pixel_and_seed_lfs_make_one_label_matrix(items):
    """Keyword LFs on captions, a model LF on pixel statistics and a seed LF vote through apply_lfs."""
    table, X, y = items
    stats_clf = LogisticRegression(max_iter=500).fit(pixel_statistics(X[:10]), y[:10])
    lfs = [
        keyword_lf(["flat"], 0, field="caption", name="kw_flat"),
        keyword_lf(["tall"], 1, field="caption", name="kw_tall"),
        image_model_lf(stats_clf, transform=pixel_statistics, root=table.root, threshold=0.6, name="stats"),
        seed_lf(X[:10], y[:10], estimator=LogisticRegression(max_iter=500), transform=pixel_statistics,
                threshold=0.6, root=table.root, name="seed_stats"),
    ]
    L, _ = apply_lfs(lfs, table.frame, progress=False)
    assert L.shape == (40, 4) and list(L.source_names) == ["kw_flat", "kw_tall", "stats", "seed_stats"]
    votes = L.to_dense()
    assert np.all(votes[::5, :2] == ABSTAIN)  # no caption, no keyword vote
    for j in range(4):
        fired = votes[:, j] != ABSTAIN
        assert fired.any() and np.mean(votes[fired, j] == y[fired]) >= 0.9


def test_seed_lf_votes_only_above_its_threshold(items):
    """At threshold 0 the seed LF votes on every item; at 1 only where the model is certain."""
    table, X, y = items
    est = LogisticRegression(max_iter=500)
    always = seed_lf(X[:10], y[:10], estimator=est, transform=pixel_statistics, threshold=0.0, root=table.root)
    strict = seed_lf(X[:10], y[:10], estimator=est, transform=pixel_statistics, threshold=1.0, root=table.root)
    assert np.all(always.batch_votes(table.frame) != ABSTAIN)
    assert np.mean(strict.batch_votes(table.frame) == ABSTAIN) > 0.5
    assert always.fingerprint != strict.fingerprint
    assert not hasattr(est, "coef_")  # the given estimator is cloned, not fitted


def test_default_seed_lf_is_a_small_cnn(items):
    """Without an estimator the seed LF trains the CNN embedder on the seed images."""
    pytest.importorskip("torch")
    from weaklab.features import CNNEmbedder

    table, X, y = items
    small = CNNEmbedder(channels=(8,), dim=8, n_epochs=25, batch_size=8, lr=1e-2, random_state=0)
    lf = seed_lf(X[:20], y[:20], estimator=small, threshold=0.5, root=table.root)
    votes = lf.batch_votes(table.frame.iloc[20:])
    fired = votes != ABSTAIN
    assert lf.name == "seed_CNNEmbedder" and fired.mean() > 0.5
    assert np.mean(votes[fired] == y[20:][fired]) >= 0.9


def test_seed_lf_checks_its_inputs(bar_images):
    """Seed labels must be class ids aligned with the seed images."""
    X, y = bar_images(6)
    with pytest.raises(ValidationError, match="seed_labels"):
        seed_lf(X, np.array(["a"] * 6))
    with pytest.raises(ValidationError, match="seed_images"):
        seed_lf(X[:5], y)
    with pytest.raises(ValidationError, match="threshold"):
        seed_lf(X, y, threshold=2.0)
