"""Image sources in a project's LF module read the project's picture column and folder unless told otherwise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab import seed_lf
from weaklab.data import read_images
from weaklab.features import ImageFeaturizer, default_image_field, pixel_statistics
from weaklab.pipeline import Project

#: An LF module as a new user writes it: image sources built without field= or root=.
SEED_LFS = """\
from pathlib import Path

import pandas as pd

from weaklab import seed_lf
from weaklab.data import read_images
from weaklab.features import pixel_statistics

DATA = Path(__file__).resolve().parent / "data"
table = pd.read_csv(DATA / "items.csv")
seed = table[table["truth"].notna()]
lfs = [seed_lf(read_images(seed["picture"], root=DATA), seed["truth"].map(["horizontal", "vertical"].index).to_numpy(),
               transform=pixel_statistics, threshold=0.6, name="seed_stats")]
"""


def test_seed_lf_with_a_transform_and_no_estimator_trains_a_feature_model(bar_images, tmp_path):
    images, y = bar_images(20)
    lf = seed_lf(images[:12], y[:12], transform=pixel_statistics, threshold=0.5)  # a CNN cannot read features
    assert lf.name == "seed_LogisticRegression"
    np.savez(tmp_path / "bars.npz", images=images)
    votes = lf.batch_votes(pd.DataFrame({"image": [f"{tmp_path / 'bars.npz'}#{i}" for i in range(12, 20)]}))
    assert (votes == y[12:]).mean() >= 0.75


def test_image_sources_built_inside_the_defaults_read_that_column_and_folder(tmp_path):
    with default_image_field("picture", root=tmp_path):
        inside = ImageFeaturizer(pixel_statistics)
        told = ImageFeaturizer(pixel_statistics, field="photo", root="/elsewhere")
    assert (inside.field, inside.root) == ("picture", str(tmp_path))
    assert (told.field, told.root) == ("photo", "/elsewhere")
    outside = ImageFeaturizer(pixel_statistics)
    assert (outside.field, outside.root) == ("image", None)


def test_a_project_seed_lf_without_field_or_root_votes_on_the_picture_column(image_project, tmp_path, monkeypatch):
    (image_project / "lfs.py").write_text(SEED_LFS)
    monkeypatch.chdir(tmp_path)  # relative picture paths must resolve against the table's folder, not here
    result = Project(image_project).run("analyse")
    assert list(result.summary.index) == ["seed_stats"]
    assert result.summary.loc["seed_stats", "coverage"] > 0.5


def test_read_images_of_the_project_pictures_match_what_the_seed_lf_saw(image_project):
    pictures = read_images(["pics/b0.png"], root=image_project / "data")
    assert pictures.shape[0] == 1 and np.asarray(pictures).max() == 255


@pytest.mark.parametrize("bad", ["", 3])
def test_a_bad_default_field_is_named(bad):
    with pytest.raises(Exception, match="field"):
        with default_image_field(bad):
            pass
