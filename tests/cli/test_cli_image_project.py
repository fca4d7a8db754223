"""The Fashion-MNIST image example project runs end to end with weaklab commands."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab import ValidationError, load_image_table
from weaklab.cli import main
from weaklab.demo.images import init_image_project

pytest.importorskip("PIL")
pytest.importorskip("torch")
pytestmark = pytest.mark.realdata


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture()
def project(tmp_path, monkeypatch, dataset):
    source = dataset("fashion_mnist")
    monkeypatch.chdir(tmp_path)
    init_image_project(tmp_path, source=source, n_items=200)
    return tmp_path


def test_init_writes_images_captions_and_splits(project):
    """200 PNGs, 10 gold seed images per class, gold only on seed/dev rows, captions missing at about 30 %."""
    items = pd.read_csv(project / "data" / "items.csv")
    assert len(items) == 200 and len(list((project / "data" / "images").glob("*.png"))) == 200
    table = load_image_table(project / "data" / "items.csv", label_column="label")
    assert table.pixels([0, 1]).shape == (2, 28, 28)
    seed = items[items["split"] == "seed"]
    assert len(seed) == 100 and seed["label"].value_counts().eq(10).all()
    assert items.loc[items["split"] == "train", "label"].isna().all()
    assert items.loc[items["split"] == "dev", "label"].notna().all()
    assert 0.15 < items["caption"].isna().mean() < 0.45
    readme = (project / "README.md").read_text()
    assert "missing_rate=0.3" in readme and "wrong_rate=0.15" in readme


def test_image_project_runs_apply_fit_train_issues_query(project):
    """apply, fit, train, issues and query succeed; the label model beats the class prior on the dev gold; the
    end model is the image CNN, whose 7x7 class activation maps are recorded beside the store."""
    assert _invoke("apply").exit_code == 0
    fit = _invoke("fit", "--json")
    assert fit.exit_code == 0, fit.output
    metrics = json.loads(fit.stdout)["metrics"]["label_model"]
    assert metrics["n_dev"] == 20 and metrics["accuracy"] > 0.4  # 10 classes: the prior is ~0.1
    names = {s["source"] for s in json.loads(fit.stdout)["sources"]}
    assert {"seed_cnn", "seed_pixel_stats", "caption_0"} <= names
    outputs = {command: _invoke(command, "--json") for command in ("train", "issues", "query")}
    for command, out in outputs.items():
        assert out.exit_code == 0, (command, out.output)
    end_model = json.loads(outputs["train"].stdout)["metrics"]["end_model"]
    assert end_model["name"] == "cnn" and np.isfinite(end_model["accuracy"])
    assert end_model["cam"]["shape"] == [200, 7, 7] and (project / ".weaklab" / end_model["cam"]["file"]).is_file()
    predicted = _invoke("predict", "data/items.csv", "out.csv")  # the recorded CNN labels pictures of a table
    assert predicted.exit_code == 0, predicted.output
    assert len(pd.read_csv(project / "out.csv")) == 200


def test_init_example_images_from_the_command_line(tmp_path, dataset):
    """`weaklab init --example images --data DIR` writes the project; without the files it names --data."""
    out = _invoke("init", str(tmp_path / "p"), "--example", "images", "--items", "200",
                  "--data", str(dataset("fashion_mnist")))
    assert out.exit_code == 0, out.output
    assert (tmp_path / "p" / "data" / "items.csv").is_file() and (tmp_path / "p" / "README.md").is_file()
    bad = _invoke("init", str(tmp_path / "q"), "--example", "images", "--data", str(tmp_path))
    assert bad.exit_code != 0 and "--data" in bad.output


def test_init_images_without_the_data_names_the_parameter(tmp_path):
    """Without the Fashion-MNIST files, init explains where they are expected."""
    with pytest.raises(ValidationError, match=r"source.*WEAKLAB_DATA"):
        init_image_project(tmp_path / "p", source=tmp_path)
    with pytest.raises(ValidationError, match="n_items"):
        init_image_project(tmp_path / "p", source=tmp_path, n_items=5)
