"""The image end model of a project ([end_model] name = "cnn"): trained on the soft labels from the pictures,
it records its class activation maps beside the store (by digest), a rerun reuses them, and the CAM overlay
of an item is a PNG cached by picture content and maps digest."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab.errors import ValidationError
from weaklab.pipeline import Project
from weaklab.pipeline.image_model import file_digest, load_cam_map
from weaklab.pipeline.images import CamLookup, ImageLookup
from weaklab.store import Store


def _store(root):
    return Store(root / ".weaklab" / "weaklab.duckdb")


def test_train_records_the_cnn_and_its_maps(cnn_image_project):
    """The train step measures the CNN on the dev gold and records one 4x4 map per item, named by its digest."""
    result = Project(cnn_image_project).run("train")
    model = result.metrics["end_model"]
    assert model["name"] == "cnn" and model["n_dev"] == 8 and 0.0 <= model["accuracy"] <= 1.0
    ref = model["cam"]
    assert ref["shape"] == [24, 4, 4] and ref["classes"] == "predicted"
    path = cnn_image_project / ".weaklab" / ref["file"]
    assert file_digest(path) == ref["digest"]
    maps = np.stack([load_cam_map(path.parent.parent, ref, row) for row in range(24)])
    tops = maps.reshape(24, -1).max(axis=1)
    assert maps.min() >= 0.0 and maps.max() <= 1.0 and np.all(np.isclose(tops, 1.0, atol=1e-3) | (tops == 0))
    assert (tops > 0).sum() >= 20  # (almost) every map shows where the CNN looked


def test_a_rerun_reuses_the_cnn_and_a_lost_maps_file_trains_again(cnn_image_project):
    """Unchanged inputs reuse the recorded model and maps; with the maps file gone the CNN is trained again."""
    first = Project(cnn_image_project).run("train")
    again = Project(cnn_image_project).run("train")
    assert again.reused["train"] and again.metrics["end_model"]["cam"] == first.metrics["end_model"]["cam"]
    (cnn_image_project / ".weaklab" / first.metrics["end_model"]["cam"]["file"]).unlink()
    third = Project(cnn_image_project).run("train")
    assert not third.reused["train"]
    assert (cnn_image_project / ".weaklab" / third.metrics["end_model"]["cam"]["file"]).is_file()


def test_the_overlay_is_a_cached_png_and_a_run_without_the_cnn_says_why(cnn_image_project):
    """CamLookup writes the overlay once (same path on the next request); a fit-only run has no overlay and a
    reason that says it trained no end model and how to train one (not to set the cnn, which the project has)."""
    trained = Project(cnn_image_project).run("train")
    fitted = Project(cnn_image_project).run("fit")
    with _store(cnn_image_project) as store:
        images = ImageLookup(store, trained.dataset_id)
        cams = CamLookup(store, trained.run_id, images)
        png = cams.overlay("img2", 2)
        assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert cams.overlay("img2", 2) == png and png.read_bytes() != images.thumbnail("img2").read_bytes()
        none = CamLookup(store, fitted.run_id, images)
        assert none.overlay("img2", 2) is None and "trained no end model" in none.reason
        assert "weaklab train" in none.reason


def test_the_cnn_needs_an_image_column_and_known_params(cnn_image_project):
    """Without [data].image_column, or with a parameter the cnn does not take, train stops naming the key."""
    toml = cnn_image_project / "weaklab.toml"
    text = toml.read_text()
    toml.write_text(text.replace('image_column = "picture"\n', ""))
    with pytest.raises(ValidationError, match="image_column"):
        Project(cnn_image_project).run("train")
    toml.write_text(text.replace("max_epochs = 4", "max_epochs = 4, C = 2.0"))
    with pytest.raises(ValidationError, match=r"end_model\.params"):
        Project(cnn_image_project).run("train")


def test_predict_labels_new_pictures_with_the_recorded_cnn(cnn_image_project, tmp_path, monkeypatch):
    """The trained CNN's weights are recorded (arrays, no pickle): `weaklab predict` on a table of new pictures
    (paths relative to the table's folder) gives the probabilities the run recorded for the same pictures."""
    import pandas as pd
    from click.testing import CliRunner

    from weaklab.cli import main
    from weaklab.pipeline.predict import predict_items

    run = Project(cnn_image_project).run("train")
    items = pd.read_csv(cnn_image_project / "data" / "items.csv")
    new = tmp_path / "incoming"
    (new / "pics").mkdir(parents=True)
    for name in items["picture"].head(5):
        (new / name).write_bytes((cnn_image_project / "data" / name).read_bytes())
    table = items.head(5)[["key", "picture"]]
    table.to_csv(new / "new.csv", index=False)
    with _store(cnn_image_project) as store:
        raw = predict_items(store, run.run_id, table, calibrated=False, root=new)
        soft_id = store.run_records(run.run_id)["soft_labels"]
        recorded = store.load_soft_labels(int(soft_id[soft_id["role"] == "end_model_raw"]["soft_labels_id"].iloc[-1]))
    assert raw["key"].tolist() == table["key"].tolist()
    assert np.allclose(raw[["p_horizontal", "p_vertical"]].to_numpy(), recorded.proba[:5], atol=1e-5)
    monkeypatch.chdir(cnn_image_project)
    out = CliRunner().invoke(main, ["predict", str(new / "new.csv"), str(tmp_path / "out.csv")])
    assert out.exit_code == 0, out.output
    assert pd.read_csv(tmp_path / "out.csv")["class"].isin(["horizontal", "vertical"]).all()


def test_predict_names_a_missing_picture_column(cnn_image_project):
    """New items without the project's picture column are refused with the column's name."""
    import pandas as pd

    from weaklab.pipeline.predict import predict_items

    run = Project(cnn_image_project).run("train")
    with _store(cnn_image_project) as store, pytest.raises(ValidationError, match=r"a column 'picture'"):
        predict_items(store, run.run_id, pd.DataFrame({"key": ["a"], "caption": ["a flat bar"]}))
